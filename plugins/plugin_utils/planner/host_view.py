# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``host_view(plan, hostname)``: one host's declared state, O(n) in peers.

The controller builds one of these per host while that host's task runs: site.yml's
node play makes it in the action plugin podnet_node, hands it to the host's concerns
and drops it (without the ``peers`` list, which no module reads), so the controller
never holds every node's slice at once.  ``node_view`` is the O(1) part the later
tasks keep; ``concern_arguments`` turns a slice into each host concern's module
arguments.  Lists are sorted numerically by address
(routes by destination network, members by address) and peers by hostname,
so the rendered files are stable.
"""

from socket import inet_aton

from .bgp import node_view as bgp_node_view
from .errors import PlanError
from .addresses import aton, fast_cidr, mask
from .validate import VXLAN_OVERHEAD, WIREGUARD_OVERHEAD

# Kernel defaults of net.ipv4.neigh.default.gc_thresh{1,2,3}.
KERNEL_GC_THRESH = (128, 512, 1024)


def neigh_gc_thresh(entries):
    """Neighbour-table thresholds for ``entries`` expected entries.

    gc_thresh3 (hard limit) is at least twice the entries, rounded up to a
    power of two, never below the kernel default; thresh2 = 1/2 and thresh1 =
    1/8 of it (the kernel defaults' own ratios), never below their defaults.
    """
    t3 = KERNEL_GC_THRESH[2]
    while t3 < 2 * entries:
        t3 *= 2
    return {
        "gc_thresh1": max(KERNEL_GC_THRESH[0], t3 // 8),
        "gc_thresh2": max(KERNEL_GC_THRESH[1], t3 // 2),
        "gc_thresh3": t3,
    }


def _nodes_and_network(plan, hostname, caller):
    """``plan``'s nodes and network, failing with what to pass when ``plan`` is not the
    planner's output or ``hostname`` is not in it."""
    try:
        nodes = plan["nodes"]
        network = plan["network"]
    except (TypeError, KeyError):
        raise PlanError("%s: expected the output of podnet_plan (a dict with 'network' "
                        "and 'nodes'), got %r" % (caller, type(plan).__name__)) from None
    if hostname not in nodes:
        raise PlanError("host %s is not in the plan; add it to the inventory's podnet hosts (or "
                        "run the planner for the same host list)" % (hostname,))
    return nodes, network


def host_view(plan, hostname, peers=True):
    """Slice of ``plan`` for ``hostname``; see the filter's RETURN for keys.

    With ``peers=False`` the slice has no ``peers`` list (hostname, zone, address, pod
    subnet and backend of every peer: 40 % of a slice, read by verify.yml's probe and the
    node agent only): none of the host concerns' modules reads it."""
    peers = bool(peers)
    nodes, network = _nodes_and_network(plan, hostname, "host_view")
    backend = network["backend"]
    zone_backends = network.get("zone_backends") or {}
    vx = network["vxlan"]
    # Plans made before the wireguard backend existed carry neither key.
    cross_zone = network.get("cross_zone_backend") or "vxlan"
    wg = network.get("wireguard") or {}
    me = nodes[hostname]
    my_zone = me["zone"]
    my_prefix = me.get("prefix")
    my_mask = 0 if my_prefix is None else mask(my_prefix)
    my_under = None if my_prefix is None else aton(me["address"]) & my_mask
    intra_mode = zone_backends.get(my_zone, backend)
    # bgp.fabric_cross_zone: pairs between two BGP zones are the fabric's too.
    fabric_zones = set()
    if intra_mode == "bgp" and (network.get("bgp") or {}).get("fabric_cross_zone"):
        fabric_zones = {zone for zone, mode in zone_backends.items() if mode == "bgp"}
    node_len = fast_cidr(me["pod_cidr"])[1]

    # The hot loop: one pass in hostname order, the backend rule of segments'
    # docstring applied per peer, and sort keys that are the 4-byte
    # network-order forms of the addresses (bytes order == numeric order), so
    # no string is parsed twice and two sorts serve all four sorted lists.
    by_subnet = []
    by_address = []
    peer_list = [] if peers else None
    wg_peers = []
    # Only the peers list is in hostname order; every other list is sorted by unique keys
    # below, so without it the nodes are taken as they come (no sort of n names).
    for name, peer in (sorted(nodes.items()) if peers else nodes.items()):
        if name == hostname:
            continue
        zone = peer["zone"]
        address = peer["address"]
        address_key = inet_aton(address)
        mode = intra_mode if zone == my_zone else "bgp" if zone in fabric_zones else backend
        if mode == "auto":
            prefix = peer.get("prefix")
            if prefix is None or my_prefix is None:
                mode = "host-gw" if zone == my_zone else cross_zone
            elif prefix == my_prefix and int.from_bytes(address_key, "big") & my_mask == my_under:
                mode = "host-gw"
            else:
                mode = "vxlan" if zone == my_zone else cross_zone
        pod_cidr = peer["pod_cidr"]
        vtep_ip = peer["vtep_ip"]
        if peer_list is not None:
            peer_list.append({"hostname": name, "zone": zone, "address": address,
                              "pod_cidr": pod_cidr, "backend": mode})
        by_address.append((address_key, address, None))
        if mode == "bgp":  # BIRD learns the route from the rack's router: none of podnet's
            continue
        if mode == "wireguard":
            wg_peers.append((inet_aton(vtep_ip), name, peer, pod_cidr))
            continue
        mac = peer["vtep_mac"] if mode == "vxlan" else None
        by_subnet.append((inet_aton(vtep_ip), pod_cidr, vtep_ip, address, mac))
        if mac:
            by_address[-1] = (address_key, address, mac)
    by_subnet.sort()
    by_address.sort()
    wg_peers.sort()
    routes = [
        {"dest": dest, "via": vtep_ip, "dev": "vxlan", "onlink": True} if mac else
        {"dest": dest, "via": address, "dev": "underlay", "onlink": False}
        for dummy, dest, vtep_ip, address, mac in by_subnet
    ]
    neighbors = [{"ip": vtep_ip, "mac": mac} for dummy, dummy, vtep_ip, dummy, mac in by_subnet if mac]
    fdb = [{"mac": mac, "dst": address} for dummy, address, mac in by_address if mac]
    members = [address for dummy, address, dummy in by_address]

    vxlan = None
    if fdb:
        vxlan = {
            "device": vx["device"], "vni": vx["vni"], "port": vx["port"],
            "local": me["address"], "vtep_ip": me["vtep_ip"], "vtep_mac": me["vtep_mac"],
            "mtu": network["underlay_mtu"] - VXLAN_OVERHEAD,
        }
    wireguard = None
    if wg_peers:
        port = wg.get("port")
        wireguard = {
            "device": wg.get("device"), "port": port,
            # flannel's layout: the pod subnet's network address (the VTEP address) /32.
            "address": me["vtep_ip"] + "/32",
            "mtu": network["underlay_mtu"] - WIREGUARD_OVERHEAD,
            "persistent_keepalive": wg.get("persistent_keepalive") or 0,
            "public_key": me.get("wireguard_key"),
            # Sorted by pod subnet; public_key None = not known to the plan (first run: the
            # role takes it from the peer's key step of this run).
            "peers": [{"hostname": name, "public_key": peer.get("wireguard_key"),
                       "endpoint": "%s:%d" % (peer["address"], port),
                       "allowed_ips": [pod_cidr]}
                      for dummy, name, peer, pod_cidr in wg_peers],
        }
    pod_slots = (1 << (32 - node_len)) - 2
    view = {
        "hostname": hostname,
        "zone": my_zone,
        "address": me["address"],
        "pod_cidr": me["pod_cidr"],
        "gateway": me["gateway"],
        "bridge_address": "%s/%d" % (me["gateway"], node_len),
        "mtu": me["mtu"],
        "cluster_cidr": network["cluster_cidr"],
        "vxlan": vxlan,
        "wireguard": wireguard,
        "bgp": bgp_node_view(network, nodes, me, hostname),
        "routes": routes,
        "fdb": fdb,
        "neighbors": neighbors,
        "members": members,
        "neigh_gc_thresh": neigh_gc_thresh(len(nodes) - 1 + pod_slots),
    }
    if peer_list is not None:
        view["peers"] = peer_list
    return view


def node_view(plan, hostname):
    """The few values of ``hostname``'s slice that are O(1) (no peer in them): what
    site.yml's tasks after the node's concerns need (bridge address, MTU, pod subnet,
    gateway, zone, cluster CIDR), the same values as host_view's keys of those names, and
    the plan's registry (file or etcd)."""
    nodes, network = _nodes_and_network(plan, hostname, "node_view")
    me = nodes[hostname]
    return {
        "hostname": hostname,
        "zone": me["zone"],
        "address": me["address"],
        "pod_cidr": me["pod_cidr"],
        "gateway": me["gateway"],
        "bridge_address": "%s/%d" % (me["gateway"], fast_cidr(me["pod_cidr"])[1]),
        "mtu": me["mtu"],
        "cluster_cidr": network["cluster_cidr"],
        # Not in host_view: where the plan's allocations live (file, or etcd).
        "registry": network.get("registry"),
    }


# The five host concerns in the order a node converges them (the bridge before the overlay
# before the routes before the firewall), and the settings (role variables, not the plan's)
# each takes: site.yml's node and agent plays pass them, the rest comes from the slice.
NODE_CONCERNS = ("sysctl", "bridge", "vxlan", "routes", "firewall")
CONCERN_SETTINGS = {
    "sysctl": ("ip_forward", "rp_filter", "state"),
    "bridge": ("name", "adopt", "state"),
    "vxlan": ("tx_checksum_offload", "adopt", "state"),
    "routes": ("protocol", "state"),
    "firewall": ("masquerade", "iptables_forward_accept", "state"),
}


def concern_arguments(view, network, settings, wireguard=False):
    """Each host concern's module arguments for the node of ``view`` (host_view's slice,
    peers or not): SETTINGS {concern: {setting: value}} (exactly CONCERN_SETTINGS' names)
    plus what the plan says. WIREGUARD: whether some pair of the network may use WireGuard
    (its port is guarded then). Returns {concern: arguments} in NODE_CONCERNS order; the
    lists are the view's own (not copied)."""
    if not isinstance(settings, dict) or sorted(settings) != sorted(NODE_CONCERNS):
        raise PlanError("concern settings: expected a dict of exactly %s, got %r (site.yml's "
                        "__podnet_site_concern_settings)" % (", ".join(NODE_CONCERNS), settings))
    for concern, names in CONCERN_SETTINGS.items():
        given = settings[concern]
        if not isinstance(given, dict) or sorted(given) != sorted(names):
            raise PlanError("concern settings: %s takes exactly %s, got %r" % (
                concern, ", ".join(names), sorted(given) if isinstance(given, dict) else given))
    from_plan = {
        "sysctl": {"neigh_gc_thresh": view["neigh_gc_thresh"]},
        "bridge": {"address": view["bridge_address"], "mtu": view["mtu"]},
        "vxlan": {"device": view["vxlan"], "fdb": view["fdb"], "neighbors": view["neighbors"]},
        "routes": {"routes": view["routes"], "vxlan_device": network["vxlan"]["device"]},
        "firewall": {
            "cluster_cidr": view["cluster_cidr"], "pod_cidr": view["pod_cidr"],
            "node_addresses": view["members"] + [view["address"]],
            # Guarded on every node, VXLAN peers or not: flanneld may listen on the port anyway.
            "vxlan_port": network["vxlan"]["port"],
            "wireguard_port": (network.get("wireguard") or {}).get("port") if wireguard else None,
        },
    }
    arguments = {}
    for concern in NODE_CONCERNS:
        arguments[concern] = dict(settings[concern])
        arguments[concern].update(from_plan[concern])
    return arguments
