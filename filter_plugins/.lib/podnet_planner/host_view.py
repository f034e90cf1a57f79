"""``host_view(plan, hostname)``: one host's declared state, O(n) in peers.

The controller builds one of these per host while it templates that host, so
it never holds the O(n^2) full mesh.  Lists are sorted numerically by address
(routes by destination network, members by address) and peers by hostname,
so the rendered files are stable.
"""

from .errors import PlanError
from .ipv4 import fast_aton, fast_cidr, mask
from .segments import pair_backend
from .validate import VXLAN_OVERHEAD

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


def _underlay(entry):
    prefix = entry.get("prefix")
    if prefix is None:
        return None
    return (fast_aton(entry["address"]) & mask(prefix), prefix)


def host_view(plan, hostname):
    """Slice of ``plan`` for ``hostname``; see the filter's RETURN for keys."""
    try:
        nodes = plan["nodes"]
        network = plan["network"]
    except (TypeError, KeyError):
        raise PlanError("host_view: expected the output of podnet_plan (a dict with 'network' "
                        "and 'nodes'), got %r" % (type(plan).__name__,)) from None
    if hostname not in nodes:
        raise PlanError("host %s is not in the plan; add it to the inventory's podnet hosts (or "
                        "run the planner for the same host list)" % (hostname,))
    backend = network["backend"]
    zone_backends = network.get("zone_backends") or {}
    vx = network["vxlan"]
    me = nodes[hostname]
    my_zone = me["zone"]
    my_under = _underlay(me)
    node_len = fast_cidr(me["pod_cidr"])[1]

    routes = []
    fdb = []
    neighbors = []
    members = []
    peers = []
    for name, peer in nodes.items():
        if name == hostname:
            continue
        zone = peer["zone"]
        address = peer["address"]
        prefix = peer.get("prefix")
        under = None if prefix is None else (fast_aton(address) & mask(prefix), prefix)
        kind = pair_backend(backend, zone_backends, my_zone, my_under, zone, under)
        pod_cidr = peer["pod_cidr"]
        if kind == "vxlan":
            vtep_ip = peer["vtep_ip"]
            mac = peer["vtep_mac"]
            routes.append({"dest": pod_cidr, "via": vtep_ip, "dev": "vxlan", "onlink": True})
            fdb.append({"mac": mac, "dst": address})
            neighbors.append({"ip": vtep_ip, "mac": mac})
        else:
            routes.append({"dest": pod_cidr, "via": address, "dev": "underlay", "onlink": False})
        members.append(address)
        peers.append({"hostname": name, "zone": zone, "address": address, "pod_cidr": pod_cidr,
                      "backend": kind})

    routes.sort(key=lambda r: fast_cidr(r["dest"]))
    fdb.sort(key=lambda e: fast_aton(e["dst"]))
    neighbors.sort(key=lambda e: fast_aton(e["ip"]))
    members.sort(key=fast_aton)
    peers.sort(key=lambda p: p["hostname"])

    vxlan = None
    if fdb:
        vxlan = {
            "device": vx["device"], "vni": vx["vni"], "port": vx["port"],
            "local": me["address"], "vtep_ip": me["vtep_ip"], "vtep_mac": me["vtep_mac"],
            "mtu": network["underlay_mtu"] - VXLAN_OVERHEAD,
        }
    pod_slots = (1 << (32 - node_len)) - 2
    return {
        "hostname": hostname,
        "zone": my_zone,
        "address": me["address"],
        "pod_cidr": me["pod_cidr"],
        "gateway": me["gateway"],
        "bridge_address": "%s/%d" % (me["gateway"], node_len),
        "mtu": me["mtu"],
        "cluster_cidr": network["cluster_cidr"],
        "vxlan": vxlan,
        "routes": routes,
        "fdb": fdb,
        "neighbors": neighbors,
        "members": members,
        "peers": peers,
        "neigh_gc_thresh": neigh_gc_thresh(len(peers) + pod_slots),
    }
