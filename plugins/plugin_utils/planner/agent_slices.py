# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""etcd mode: every agent node's slice, published under podnet's prefix for its agent.

One key per node, ``<prefix>/podnet/agent/<host>`` (beside ``<prefix>/podnet/ledger``; flanneld
reads only ``config`` and ``subnets/``), holding the document the node's
``/etc/podnet/agent/slice.json`` holds, less the agent's local settings:
``{"generation": int, "digest": sha1 of the slice's canonical JSON, "slice": {"hostname",
"zone", "concerns": {concern: its module's arguments}, "peers": [...]}}``.

The slice is ``agent_slice``, which site.yml's agent play also writes into each node's
slice file (filter ``podnet_agent_slice``): the five host concerns get the node play's
arguments (``host_view.concern_arguments``, with each concern role's default where the
inventory sets none), WireGuard and BGP theirs. molecule/etcd compares the published digest
with the one each node's slice file holds.

Dual stack: the same arguments the node play gives a dual-stack node, but one that only the
node knows: the interfaces holding its IPv6 underlay address (sysctl's
``ipv6_accept_ra_interfaces``, which podnet_node looks up on the node). Such a slice carries
that address as ``address_ipv6`` instead, and the agent looks the interfaces up on the node
with podnet_node's own code (``podnet_slice.underlay_interfaces_ipv6``). An IPv4-only slice
is the one it was.

The generation moves only when the slice changed, and only forward: a changed slice gets
the run's time, at least the published generation plus one; an unchanged one keeps its
generation, so a run that changes nothing writes nothing.
"""

import hashlib
import json

from ansible_collections.podnet.network.plugins.module_utils.podnet_host import as_bool

from .errors import PlanError
from .flannel import DEFAULT_PREFIX, key_prefix
from .host_view import concern_arguments, host_view
from .names import hostname

AGENT_KEYS = "podnet/agent/"

# The inventory variables the agent play reads for each concern, with the default of the
# concern role that owns it (defaults/main.yml of podnet_sysctl, podnet_bridge, ...).
VARIABLES = {
    "podnet_sysctl_ip_forward": True,
    "podnet_sysctl_rp_filter": 2,
    "podnet_sysctl_state": "present",
    "podnet_bridge_name": "cbr0",
    "podnet_bridge_adopt": False,
    "podnet_node_bridge": "cbr0",
    "podnet_vxlan_tx_checksum_offload": True,
    "podnet_vxlan_adopt": False,
    "podnet_vxlan_state": "present",
    "podnet_wireguard_implementation": "auto",
    "podnet_wireguard_route_protocol": 193,
    "podnet_wireguard_routes_protocol": 191,
    "podnet_routes_protocol": 191,
    "podnet_routes_state": "present",
    "podnet_firewall_masquerade": True,
    "podnet_firewall_iptables_forward_accept": True,
    "podnet_firewall_state": "present",
    # site.yml's own (the node play passes it as the firewall's masquerade_ipv6, only to a
    # dual-stack node): null leaves the module's default (masquerade a ULA cluster CIDR).
    "podnet_masquerade_ipv6": None,
}


def agent_key(prefix, host):
    """The key of HOST's slice under the (normalised) PREFIX."""
    return "%s/%s%s" % (prefix, AGENT_KEYS, host)


def slice_digest(slice_):
    """sha1 of the slice's canonical JSON (the agent's podnet_agent.slice_digest)."""
    return hashlib.sha1(json.dumps(slice_, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _settings(host, variables):
    """HOST's concern variables: the inventory's value, or the role's default."""
    values = dict(VARIABLES)
    for name in VARIABLES:
        try:
            if name in variables:
                values[name] = variables[name]
        except TypeError:
            raise PlanError("agent slices: the variables of %s must be a mapping (pass hostvars), "
                            "got %r" % (host, type(variables).__name__)) from None
    return values


def concern_settings(variables=None, host="node"):
    """The five host concerns' settings (``host_view.CONCERN_SETTINGS``' names) of a node
    whose inventory variables are VARIABLES: what site.yml's node play gives podnet_node
    (playbooks/vars/podnet_concerns.yml), each role's default where unset."""
    return _concern_settings(_settings(host, variables if variables is not None else {}))


def _concern_settings(v):
    """The settings of the variables V (_settings' output)."""
    return {
        "sysctl": {"ip_forward": v["podnet_sysctl_ip_forward"], "rp_filter": v["podnet_sysctl_rp_filter"],
                   "state": v["podnet_sysctl_state"]},
        "bridge": {"name": v["podnet_bridge_name"], "adopt": v["podnet_bridge_adopt"],
                   "state": "absent" if v["podnet_node_bridge"] == "docker0" else "present"},
        "vxlan": {"tx_checksum_offload": v["podnet_vxlan_tx_checksum_offload"], "adopt": v["podnet_vxlan_adopt"],
                  "state": v["podnet_vxlan_state"]},
        "routes": {"protocol": v["podnet_routes_protocol"], "state": v["podnet_routes_state"]},
        "firewall": dict({"masquerade": v["podnet_firewall_masquerade"],
                          "iptables_forward_accept": v["podnet_firewall_iptables_forward_accept"],
                          "state": v["podnet_firewall_state"]},
                         **_masquerade_ipv6(v["podnet_masquerade_ipv6"])),
    }


def _masquerade_ipv6(value):
    """The firewall's optional masquerade_ipv6 setting as the node play's podnet_node task
    gives it (absent when null; a boolean as Ansible reads one)."""
    if value is None:
        return {}
    if as_bool(value) is None:
        raise PlanError("podnet_masquerade_ipv6=%r must be a boolean (true/false), or null to masquerade "
                        "a ULA IPv6 cluster CIDR and not a global one" % (value,))
    return {"masquerade_ipv6": as_bool(value)}


def agent_slice(plan, host, variables=None, wireguard=False):
    """HOST's slice as site.yml's agent play writes it: {hostname, zone, concerns, peers}
    (and, dual stack, address_ipv6). The five host concerns' arguments are the node play's
    (``concern_arguments``, the plan's part and the role settings); WireGuard and BGP are
    checked where the run configured them."""
    view = host_view(plan, host)
    network = plan["network"]
    v = _settings(host, variables if variables is not None else {})
    try:
        settings = _concern_settings(v)
    except PlanError as exc:
        raise PlanError("host %s: %s" % (host, exc)) from None
    concerns = concern_arguments(view, network, settings, wireguard)
    # Dual stack: the interfaces holding the node's IPv6 underlay address get accept_ra 2;
    # only the node knows them. The agent looks them up there as podnet_node does (the slice
    # names the address), so the slice holds no guess of them.
    address_ipv6 = view.get("address_ipv6") if "pod_cidr_ipv6" in view else None
    if address_ipv6:
        del concerns["sysctl"]["ipv6_accept_ra_interfaces"]
    # The keys stay on the node (key_path, the peers file): never in the slice.
    concerns["wireguard"] = {"state": "present" if wireguard else "absent", "config": view.get("wireguard"),
                             "preshared_key_from_node": True,
                             "implementation": v["podnet_wireguard_implementation"],
                             "protocol": v["podnet_wireguard_route_protocol"],
                             "routes_protocol": v["podnet_wireguard_routes_protocol"]}
    concerns["bgp"] = {"state": "present" if view.get("bgp") else "absent", "config": view.get("bgp")}
    slice_ = {"hostname": host, "zone": view["zone"], "concerns": concerns, "peers": view["peers"]}
    if address_ipv6:
        slice_["address_ipv6"] = address_ipv6
    return slice_


def _published(raw, key):
    """The document a registry read holds at KEY ({value: str} or the value), or None."""
    value = raw.get("value") if isinstance(raw, dict) and "value" in raw else raw
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None  # not podnet's document: the write replaces it
    return value if isinstance(value, dict) else None


def agent_slice_keys(plan, hosts, hostvars=None, current=None, generation=0, prefix=DEFAULT_PREFIX,
                     wireguard=False):
    """{key: document} for the slice of every host of HOSTS (the agent nodes, each with an
    etcd client certificate), HOSTVARS giving each host's inventory variables. CURRENT is what
    the registry read held under the prefix ({key: {value}} or {key: value}; other keys are
    ignored); GENERATION the run's time, stamped on a slice that changed."""
    prefix = key_prefix(prefix, "podnet registry prefix")
    if not isinstance(hosts, (list, tuple)):
        raise PlanError("agent slices: the agent hosts must be a list of inventory hostnames "
                        "(got %r)" % (hosts,))
    if not isinstance(plan, dict) or not isinstance(plan.get("nodes"), dict):
        raise PlanError("agent slices: the plan has no nodes: pass podnet_plan_result")
    try:
        generation = int(generation)
    except (TypeError, ValueError):
        raise PlanError("agent slices: the generation must be an integer (the run's Unix time), "
                        "got %r" % (generation,)) from None
    current = current or {}
    if not isinstance(current, dict):
        raise PlanError("agent slices: what the registry holds must be {key: value}, got %r"
                        % type(current).__name__)
    hostvars = hostvars if hostvars is not None else {}
    keys = {}
    for host in sorted(set(hosts)):
        hostname(host, "agent host")
        if host not in plan["nodes"]:
            raise PlanError("agent slices: %s runs podnet's agent (it has an agent client certificate) "
                            "but is no node of the plan; set podnet_agent only on hosts of podnet_nodes"
                            % host)
        variables = hostvars[host] if host in hostvars else {}
        slice_ = agent_slice(plan, host, variables, wireguard)
        digest = slice_digest(slice_)
        key = agent_key(prefix, host)
        old = _published(current[key], key) if key in current else None
        old_generation = old.get("generation") if old else None
        if isinstance(old_generation, int) and old.get("digest") == digest:
            stamped = old_generation
        elif isinstance(old_generation, int):
            stamped = max(generation, old_generation + 1)
        else:
            stamped = generation
        keys[key] = {"generation": stamped, "digest": digest, "slice": slice_}
    return keys
