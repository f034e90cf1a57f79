# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Who may do what in podnet's etcd registry: the etcd users and roles of etcd auth.

With auth on, etcd takes a client certificate's CN as the user name:

- ``podnet`` (the registry client of the members) holds etcd's ``root`` role: it writes
  the config, every lease and the ledger, and it alone may call the admin API (members,
  snapshots, auth itself).
- ``root`` must exist, with the ``root`` role, before etcd turns auth on. It is created
  without a password, so only a certificate with CN ``root`` could act as it, and podnet's
  CA issues none.
- ``flanneld-<host>`` (one certificate per flanneld) holds a role of its own: read the
  network config and every lease (flanneld routes to its peers from them), read and write
  its own lease and nothing else.
- ``podnet-agent-<host>`` (one certificate per node agent, etcd mode) holds a role of its
  own that reads the node's slice, ``<prefix>/podnet/agent/<host>``, and nothing else: not
  another node's slice, not the ledger, not a lease.
- The member certificates (CN ``podnet-etcd-server``, ``podnet-etcd-peer``) name no user,
  so they have no right at all on the client API: a member's key serves and peers only.
"""

from .agent_slices import agent_key
from .errors import PlanError
from .flannel import DEFAULT_PREFIX, key_prefix, lease_key
from .names import hostname

ADMIN_USER = "podnet"
ROOT = "root"
FLANNELD = "flanneld-"
AGENT = "podnet-agent-"
# The CNs of the member certificates (role podnet_etcd): never an etcd user.
MEMBER_CNS = ("podnet-etcd-server", "podnet-etcd-peer")


def _permission(key, permission, prefix=False):
    return {"key": key, "prefix": prefix, "permission": permission}


def registry_access(plan, prefix=DEFAULT_PREFIX, flanneld=(), agents=()):
    """The users and roles of etcd auth for PLAN's registry under PREFIX, FLANNELD being the
    hosts that have a flanneld client certificate and AGENTS those whose node agent has one.

    Returns ``{"users": {user: [role]}, "roles": {role: [permission]}, "owned": ["flanneld-",
    "podnet-agent-"], "nameless": [CN]}``: each permission is ``{"key", "prefix": bool,
    "permission": "read" | "readwrite"}``; users and roles whose name starts with one of
    ``owned`` are podnet's (one that is not declared any more is deleted); no user may be named
    after a ``nameless`` CN. A flanneld host that has no subnet in the plan may read, and write
    nothing. An agent reads its own slice key only, and must be a node of the plan."""
    prefix = key_prefix(prefix)
    for what, hosts in (("flanneld", flanneld), ("agent", agents)):
        if not isinstance(hosts, (list, tuple)):
            raise PlanError("registry access: the %s hosts must be a list of inventory "
                            "hostnames (got %r)" % (what, hosts))
    nodes = (plan or {}).get("nodes")
    if not isinstance(nodes, dict):
        raise PlanError("registry access: the plan has no nodes: pass podnet_plan_result")
    users = {ROOT: [ROOT], ADMIN_USER: [ROOT]}
    roles = {ROOT: []}
    for host in sorted(set(flanneld)):
        name = FLANNELD + hostname(host, "flanneld client host")
        permissions = [_permission(prefix + "/config", "read"),
                       _permission(prefix + "/subnets/", "read", prefix=True)]
        node = nodes.get(host) or {}
        if node.get("pod_cidr"):
            # dual stack: flannel's key of both subnets, the one podnet wrote (flannel.py)
            six = node.get("pod_cidr_ipv6") if (plan.get("network") or {}).get("cluster_cidr_ipv6") else None
            permissions.append(_permission(lease_key(prefix, node["pod_cidr"], six), "readwrite"))
        users[name] = [name]
        roles[name] = permissions
    for host in sorted(set(agents)):
        name = AGENT + hostname(host, "agent client host")
        if host not in nodes:
            raise PlanError("registry access: %s has an agent client certificate (%s) but is no node "
                            "of the plan, so it has no slice to read; set podnet_agent only on hosts "
                            "of podnet_nodes" % (host, name))
        users[name] = [name]
        roles[name] = [_permission(agent_key(prefix, host), "read")]
    return {"users": users, "roles": roles, "owned": [FLANNELD, AGENT], "nameless": list(MEMBER_CNS)}
