# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``host_view(plan, hostname)``: one host's declared state, O(n) in peers.

The code is module_utils/podnet_slice.py's, the one copy that the planner (the filter
podnet_host_view, the agent's slices, verify.yml) and the module podnet_node run: in
site.yml's node play the controller makes no slice, it ships the ``fleet_table`` (made
once per run, O(n)) and each node derives its own slice from it.  ``node_view`` is the
O(1) part the later tasks keep; ``concern_arguments`` turns a slice into each host
concern's module arguments.  Lists are sorted numerically by address
(routes by destination network, members by address) and peers by hostname,
so the rendered files are stable.
"""

from ansible_collections.podnet.network.plugins.module_utils import podnet_slice
from ansible_collections.podnet.network.plugins.module_utils.podnet_slice import SliceError, small_view, slice_view
# Re-exported: the planner's callers (agent slices, tests) take them from here.
from ansible_collections.podnet.network.plugins.module_utils.podnet_slice import (  # noqa: F401 pylint: disable=unused-import
    CONCERN_SETTINGS, NODE_CONCERNS, neigh_gc_thresh)

from .errors import PlanError


def _nodes_and_network(plan, hostname, caller):
    """``plan``'s nodes and network, failing with what to pass when ``plan`` is not the
    planner's output or ``hostname`` (unless None) is not in it."""
    try:
        nodes = plan["nodes"]
        network = plan["network"]
    except (TypeError, KeyError):
        raise PlanError("%s: expected the output of podnet_plan (a dict with 'network' "
                        "and 'nodes'), got %r" % (caller, type(plan).__name__)) from None
    if hostname is not None and hostname not in nodes:
        raise PlanError("host %s is not in the plan; add it to the inventory's podnet hosts (or "
                        "run the planner for the same host list)" % (hostname,))
    return nodes, network


def host_view(plan, hostname, peers=True):
    """Slice of ``plan`` for ``hostname``; see the filter's RETURN for keys.

    With ``peers=False`` the slice has no ``peers`` list (hostname, zone, address, pod
    subnet and backend of every peer: 40 % of a slice, read by verify.yml's probe and the
    node agent only): none of the host concerns' modules reads it. The code is
    module_utils/podnet_slice.py's (``slice_view``), which the nodes run on the fleet table."""
    nodes, network = _nodes_and_network(plan, hostname, "host_view")
    return slice_view(network, nodes, hostname, bool(peers))


def node_view(plan, hostname):
    """The few values of ``hostname``'s slice that are O(1) (no peer in them): what
    site.yml's tasks after the node's concerns need (bridge address, MTU, pod subnet,
    gateway, zone, cluster CIDR), the same values as host_view's keys of those names, and
    the plan's registry (file or etcd)."""
    nodes, network = _nodes_and_network(plan, hostname, "node_view")
    me = nodes[hostname]
    view = small_view(network, me, hostname)
    # Not in host_view: where the plan's allocations live (file, or etcd).
    view["registry"] = network.get("registry")
    # Dual stack on the hosts: the IPv6 pod prefix and gateway (only then: an IPv4-only
    # view is the one it was).
    if podnet_slice.ipv6_wired(network):
        view["pod_cidr_ipv6"] = me["pod_cidr_ipv6"]
        view["gateway_ipv6"] = me["gateway_ipv6"]
        # flannel's subnet.env (FLANNEL_IPV6_NETWORK, FLANNEL_IPV6_SUBNET), as host_view's.
        view["cluster_cidr_ipv6"] = network["cluster_cidr_ipv6"]
        view["bridge_address_ipv6"] = "%s/%s" % (me["gateway_ipv6"], me["pod_cidr_ipv6"].split("/")[1])
    return view


def fleet_table(plan):
    """The fleet table of ``plan`` (module_utils/podnet_slice.py): one text holding what a
    node's slice reads of the plan, O(n), made once per run; each node derives its own
    slice and concerns' arguments from it (module podnet_node)."""
    nodes, network = _nodes_and_network(plan, None, "fleet_table")
    return podnet_slice.table_text(network, nodes)


def concern_arguments(view, network, settings, wireguard=False, underlay_interfaces_ipv6=None):
    """Each host concern's module arguments for the node of ``view`` (host_view's slice,
    peers or not): SETTINGS {concern: {setting: value}} (exactly CONCERN_SETTINGS' names)
    plus what the plan says. WIREGUARD: whether some pair of the network may use WireGuard
    (its port is guarded then). UNDERLAY_INTERFACES_IPV6 (dual stack): the node's
    interfaces holding its IPv6 underlay address (accept_ra 2 on them; only the node knows
    them). Returns {concern: arguments} in NODE_CONCERNS order; the lists are the view's
    own (not copied). The code is module_utils/podnet_slice.py's."""
    try:
        return podnet_slice.concern_arguments(view, network, settings, wireguard, underlay_interfaces_ipv6)
    except SliceError as exc:
        raise PlanError(str(exc)) from None
