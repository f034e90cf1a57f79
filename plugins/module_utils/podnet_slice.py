# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""A node's slice of the plan and its host concerns' arguments: the one copy of that code.

The planner (``plugin_utils/planner/host_view.py``: the filter ``podnet_host_view``, the
agent's slices, verify.yml) and the module podnet_node on a node both run it. The
controller does not make each node's slice (O(n) each, O(n^2) for the fleet): it encodes
the **fleet table** once per run (``table_text``: what the slice reads of the plan - a few
network settings and, per node, its zone, addresses, pod subnet, VTEP, MTU, keys - O(n)),
ships that text to every node, and each node derives its own slice from it
(``concerns_from_table``).

Standard library only, no netaddr, nothing of the planner: the modules import it on the
nodes. Addresses are texts the planner produced (validated there).

Dual stack (a plan with ``cluster_cidr_ipv6`` whose ``ipv6_planner_only`` is not true):
each pod family is routed on its own (``family_mode``): host-gw where both ends have an
underlay address of the family on one segment, else the pair's tunnel. A tunnel carries
both families over one underlay family both ends have, IPv4 where both have it, else IPv6
(a node may have an IPv4 underlay address, an IPv6 one, or both): VXLAN over IPv4 is
flannel.<vni>, over IPv6 flannel-v6.<vni> (``vxlan_ipv6``, ``fdb_ipv6``,
``neighbors_ipv6``); WireGuard peers get both pod prefixes as allowed IPs and an IPv6
endpoint where the pair has no common IPv4 underlay. The concerns also get IPv6
forwarding, accept_ra on the underlay, the bridge's IPv6 address and the firewall's IPv6
rules. IPv6 pods over BGP are not built: the planner refuses such a plan. IPv4-only plans
give exactly what they gave before.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import socket
import struct
import zlib

# Bytes an encapsulation adds to a packet: VXLAN over IPv4 (outer IPv4 20 + UDP 8 + VXLAN 8
# + inner Ethernet 14), and flannel's wireguard backend (outer IPv4 20 + UDP 8 + type 4 +
# key index 4 + nonce 8 + authentication tag 16, rounded up as flannel does: its `overhead`).
VXLAN_OVERHEAD = 50
WIREGUARD_OVERHEAD = 80
# VXLAN over an IPv6 underlay: the outer header is 40 bytes, not 20.
VXLAN_OVERHEAD_IPV6 = 70
# The VXLAN device over an IPv6 underlay (flannel's name for its IPv6 device), by VNI.
VXLAN_IPV6_DEVICE = "flannel-v6.%d"
# The pair rule's mark for an underlay address given without its prefix length.
NO_PREFIX = "no prefix"
# BFD on the BGP sessions unless the plan says otherwise (bgp.bfd_interval_ms, bfd_multiplier).
DEFAULT_BFD_INTERVAL_MS = 100
DEFAULT_BFD_MULTIPLIER = 3
# Kernel defaults of net.ipv4.neigh.default.gc_thresh{1,2,3}.
KERNEL_GC_THRESH = (128, 512, 1024)

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
# Settings a concern may be given, passed on only to a dual-stack node: the firewall's
# masquerade_ipv6 (null: masquerade a ULA cluster CIDR, not a global one).
OPTIONAL_SETTINGS = {"firewall": ("masquerade_ipv6",)}

# The fleet table: its first line names it and its version, the rest is one JSON object
# {"network": {...}, "fields": [...], "nodes": {hostname: [value per field]}}, compressed
# (zlib) and in base64: every node gets the whole table, and Ansible's module encoder and
# wrapper escape each quote of a JSON text twice (at 5,000 nodes 107 KB shipped per node
# instead of 742 KB; 7 ms to read it back on the node), and a text that does not look like
# JSON is never turned into a dict by Ansible's templating. A new version is a new number:
# a node given a table of another version refuses it.
TABLE_NAME = "podnet-fleet-table"
TABLE_VERSION = 1
# What the slice reads of the plan's network (absent keys stay absent) ...
TABLE_NETWORK_KEYS = ("backend", "zone_backends", "cross_zone_backend", "vxlan", "wireguard", "bgp",
                      "underlay_mtu", "cluster_cidr", "node_prefix", "zones", "cluster_cidr_ipv6",
                      "ipv6_planner_only")
# ... and of each node: a field the node lacks is null (the slice reads prefix and
# wireguard_key with .get, the same), and a null bgp_asn is read back as absent (its
# presence says the node speaks BGP).
TABLE_FIELDS = ("zone", "address", "prefix", "pod_cidr", "gateway", "vtep_ip", "vtep_mac", "mtu",
                "wireguard_key", "bgp_asn")
TABLE_OPTIONAL = ("bgp_asn",)
# Dual stack: each node's IPv6 fields, in the table only when the hosts carry the plan's
# IPv6 pod network (ipv6_wired: an IPv4-only or planner-only table has the fields it had);
# a field a node lacks is null and read back as absent, as the plan has it.
TABLE_FIELDS_IPV6 = ("pod_cidr_ipv6", "gateway_ipv6", "address_ipv6", "prefix_ipv6", "vtep_ip_ipv6",
                     "vtep_mac_ipv6")


class SliceError(ValueError):
    """Input the slice cannot be made from; the message names the culprit."""


def _aton(address):
    """Dotted quad -> integer (the C parser)."""
    return struct.unpack("!I", socket.inet_aton(address))[0]


def _mask(prefixlen):
    return (0xFFFFFFFF << (32 - prefixlen)) & 0xFFFFFFFF


# The IPv4 netmask of each prefix length, as an integer.
MASKS = tuple(_mask(length) for length in range(33))


def _prefixlen(cidr):
    return int(cidr.partition("/")[2])


def _net6(address, prefixlen):
    """The 16 bytes of IPv6 ADDRESS's network of PREFIXLEN bits (bytes order == numeric)."""
    raw = bytearray(socket.inet_pton(socket.AF_INET6, address))
    for i in range(16):
        bits = min(8, max(0, prefixlen - 8 * i))
        raw[i] &= (0xFF << (8 - bits)) & 0xFF
    return bytes(raw)


def ipv6_wired(network):
    """Whether the hosts carry the plan's IPv6 pod network (dual stack, not planner-only)."""
    return bool(network.get("cluster_cidr_ipv6")) and network.get("ipv6_planner_only") is not True


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


def bgp_node_view(network, me):
    """The host view's ``bgp`` for node ME (its plan entry; None outside a BGP zone), from
    the plan's normalised network."""
    bgp = network.get("bgp") or {}
    zone_backends = network.get("zone_backends") or {}
    if zone_backends.get(me["zone"]) != "bgp" or "bgp_asn" not in me:
        return None
    zones = [me["zone"]]
    if bgp.get("fabric_cross_zone"):
        zones = sorted(z for z, b in zone_backends.items() if b == "bgp")
    blocks = [(network.get("zones") or {}).get(z, {}).get("block") for z in zones]
    node_len = network["node_prefix"]
    address = _aton(me["address"])
    net_mask = _mask(me["prefix"])
    neighbors = []
    for router in (bgp.get("routers") or {}).get(me["zone"]) or []:
        for leg in router["address"]:
            if _aton(leg) & net_mask == address & net_mask:
                neighbors.append({"name": router["name"], "address": leg, "asn": router["asn"]})
    neighbors.sort(key=lambda n: (_aton(n["address"]), n["name"]))
    return {
        "asn": me["bgp_asn"],
        "router_id": me["address"],
        "address": me["address"],
        "pod_cidr": me["pod_cidr"],
        "cluster_cidr": network["cluster_cidr"],
        # Only the subnets of the pairs BGP carries (its zone's block, or every BGP zone's
        # with fabric_cross_zone): a subnet reached over a tunnel is never also learned.
        "import_prefixes": ["%s{%d,%d}" % (block, node_len, node_len) for block in blocks if block],
        "neighbors": neighbors,
        "bfd": {"interval_ms": bgp.get("bfd_interval_ms", DEFAULT_BFD_INTERVAL_MS),
                "multiplier": bgp.get("bfd_multiplier", DEFAULT_BFD_MULTIPLIER)} if bgp.get("bfd", True) else None,
        "graceful_restart": bool(bgp.get("graceful_restart", True)),
    }


def small_view(network, me, hostname):
    """The O(1) values of HOSTNAME's slice (ME: its plan entry), in the slice's key order."""
    return {
        "hostname": hostname,
        "zone": me["zone"],
        "address": me["address"],
        "pod_cidr": me["pod_cidr"],
        "gateway": me["gateway"],
        "bridge_address": "%s/%d" % (me["gateway"], _prefixlen(me["pod_cidr"])),
        "mtu": me["mtu"],
        "cluster_cidr": network["cluster_cidr"],
    }


def _key4(address, prefix):
    """A node's IPv4 underlay as the pair rule compares it: None (no IPv4 underlay address),
    NO_PREFIX (an address without a prefix) or (network as an integer, prefix)."""
    if address is None:
        return None
    if prefix is None:
        return NO_PREFIX
    return (_aton(address) & MASKS[prefix], prefix)


def _key6(node):
    """A node's IPv6 underlay as the pair rule compares it (see _key4; the network as bytes)."""
    address = node.get("address_ipv6")
    if address is None:
        return None
    prefix = node.get("prefix_ipv6")
    if prefix is None:
        return NO_PREFIX
    return (_net6(address, prefix), prefix)


def family_mode(mode, same_zone, mine, theirs, cross_zone):
    """The backend carrying one pod family between two nodes whose pair backend is MODE
    (the zone's inside one zone, network.backend across zones, "bgp" on a BGP fabric), and
    whose underlays in that family are MINE and THEIRS (_key4/_key6). segments' rule:
    ``auto`` is host-gw where both ends have an address of the family on one segment
    (inside a zone, a missing prefix counts as one segment), else a tunnel: vxlan inside a
    zone, CROSS_ZONE between zones."""
    if mode != "auto":
        return mode
    if mine is not None and theirs is not None:
        if mine is NO_PREFIX or theirs is NO_PREFIX:
            if same_zone:
                return "host-gw"
        elif mine == theirs:
            return "host-gw"
    return "vxlan" if same_zone else cross_zone


def slice_view(network, nodes, hostname, peers=True):
    """HOSTNAME's slice of a plan's NETWORK and NODES (HOSTNAME must be one of them); the
    planner's ``host_view`` documents it (the filter's RETURN).

    With ``peers=False`` the slice has no ``peers`` list (hostname, zone, address, pod
    subnet and backend of every peer: 40 % of a slice, read by verify.yml's probe and the
    node agent only): none of the host concerns' modules reads it.

    Each pod family is routed on its own (family_mode); a tunnel carries both families
    over one underlay family both ends have, IPv4 where both have it, else IPv6: VXLAN over
    IPv4 is the device network.vxlan.device (flannel.<vni>), over IPv6 flannel-v6.<vni>."""
    backend = network["backend"]
    zone_backends = network.get("zone_backends") or {}
    vx = network["vxlan"]
    # Plans made before the wireguard backend existed carry neither key.
    cross_zone = network.get("cross_zone_backend") or "vxlan"
    wg = network.get("wireguard") or {}
    me = nodes[hostname]
    my_zone = me["zone"]
    wired6 = ipv6_wired(network)
    my_address = me["address"]
    mine4 = _key4(my_address, me.get("prefix"))
    mine6 = _key6(me) if wired6 else None
    intra_mode = zone_backends.get(my_zone, backend)
    # bgp.fabric_cross_zone: pairs between two BGP zones are the fabric's too.
    fabric_zones = set()
    if intra_mode == "bgp" and (network.get("bgp") or {}).get("fabric_cross_zone"):
        fabric_zones = set(zone for zone, mode in zone_backends.items() if mode == "bgp")
    node_len = _prefixlen(me["pod_cidr"])

    # One pass over the peers; every list is collected with a sort key (addresses as
    # bytes: bytes order == numeric order; IPv4 and IPv6 entries in lists of their own) and
    # sorted once at the end.
    inet_aton, inet_pton, AF_INET6, unpack = socket.inet_aton, socket.inet_pton, socket.AF_INET6, struct.unpack
    routes, routes6, members, members6 = [], [], [], []
    # Per VXLAN device (dev "vxlan": over IPv4, "vxlan_ipv6": over IPv6): its neighbours of
    # each pod family and its fdb.
    neighbors = {"vxlan": ([], []), "vxlan_ipv6": ([], [])}
    fdb = {"vxlan": [], "vxlan_ipv6": []}
    peer_list = [] if peers else None
    wg_peers = {}

    def carry(mode, name, peer, over6, dest, key, vtep, next_hop, family):
        """Collect what carries PEER's pods of one FAMILY (0: IPv4, 1: IPv6) by MODE, as
        tuples (sort key first; the dicts are made once, after the sort)."""
        if mode == "bgp":  # BIRD learns the route from the rack's router
            return
        if mode == "wireguard":
            entry = wg_peers.get(name)
            if entry is None:
                entry = wg_peers[name] = (inet_aton(peer["vtep_ip"]), name, peer, over6, [])
            entry[4].append(dest)
            return
        if mode == "host-gw":
            (routes6 if family else routes).append((key, dest, next_hop, "underlay"))
            return
        dev = "vxlan_ipv6" if over6 else "vxlan"
        mac = peer["vtep_mac_ipv6"] if over6 else peer["vtep_mac"]
        (routes6 if family else routes).append((key, dest, vtep, dev))
        neighbors[dev][family].append((key, vtep, mac))
        entries = fdb[dev]
        if not entries or entries[-1][2] != mac:  # once per peer and device
            under = peer["address_ipv6"] if over6 else peer["address"]
            entries.append((inet_pton(AF_INET6, under) if over6 else inet_aton(under), under, mac))

    # Only the peers list is in hostname order; every other list is sorted by unique keys
    # below, so without it the nodes are taken as they come (no sort of n names).
    for name, peer in (sorted(nodes.items()) if peers else nodes.items()):
        if name == hostname:
            continue
        zone = peer["zone"]
        same_zone = zone == my_zone
        pair = intra_mode if same_zone else "bgp" if zone in fabric_zones else backend
        address = peer["address"]
        mode = pair
        if pair == "auto":
            prefix = peer.get("prefix")  # _key4, inline: the loop's hot spot
            theirs = None if address is None else NO_PREFIX if prefix is None else (
                unpack("!I", inet_aton(address))[0] & MASKS[prefix], prefix)
            mode = family_mode(pair, same_zone, mine4, theirs, cross_zone)
        pod_cidr = peer["pod_cidr"]
        if peer_list is not None:
            peer_list.append({"hostname": name, "zone": zone, "address": address,
                              "pod_cidr": pod_cidr, "backend": mode})
        if address is not None:
            members.append((inet_aton(address), address))
        # The tunnel's underlay family: IPv4 where both ends have it.
        over6 = address is None or my_address is None
        vtep = peer["vtep_ip"]
        carry(mode, name, peer, over6, pod_cidr, inet_aton(vtep), vtep, address, 0)
        if wired6:
            address6 = peer.get("address_ipv6")
            if address6 is not None:
                members6.append((inet_pton(AF_INET6, address6), address6))
            mode6 = family_mode(pair, same_zone, mine6, _key6(peer), cross_zone)
            if mode6 == "host-gw" and (address6 is None or mine6 is None):
                raise SliceError("hosts %s and %s would route their IPv6 pods over host-gw, but %s has "
                                 "no IPv6 underlay address; the planner refuses such a plan: plan again"
                                 % (hostname, name, name if address6 is None else hostname))
            if peer_list is not None:  # verify.yml probes the IPv6 pods on their own path
                peer_list[-1].update(pod_cidr_ipv6=peer["pod_cidr_ipv6"], backend_ipv6=mode6)
            vtep6 = peer["vtep_ip_ipv6"]
            carry(mode6, name, peer, over6, peer["pod_cidr_ipv6"], inet_pton(AF_INET6, vtep6), vtep6, address6, 1)
    for collected in [routes, routes6, members, members6] + list(fdb.values()) + [
            entries for pair in neighbors.values() for entries in pair]:
        collected.sort()  # unique keys: the rest of a tuple is never compared

    def route_list(collected):
        return [{"dest": dest, "via": via, "dev": dev, "onlink": dev != "underlay"}
                for dummy, dest, via, dev in collected]

    def neighbor_list(dev):  # IPv4 entries first, then IPv6 ones
        return [{"ip": ip, "mac": mac} for four_or_six in neighbors[dev] for dummy, ip, mac in four_or_six]

    def fdb_list(dev):
        return [{"mac": mac, "dst": dst} for dummy, dst, mac in fdb[dev]]

    vxlan = None
    if fdb["vxlan"]:
        vxlan = {
            "device": vx["device"], "vni": vx["vni"], "port": vx["port"],
            "local": my_address, "vtep_ip": me["vtep_ip"], "vtep_mac": me["vtep_mac"],
            "mtu": network["underlay_mtu"] - VXLAN_OVERHEAD,
        }
        if neighbors["vxlan"][1]:  # IPv6 pods ride it
            vxlan["vtep_ip_ipv6"] = me["vtep_ip_ipv6"]
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
                       "endpoint": ("[%s]:%d" % (peer["address_ipv6"], port) if over6
                                    else "%s:%d" % (peer["address"], port)),
                       "allowed_ips": allowed}
                      for dummy, name, peer, over6, allowed in sorted(wg_peers.values(), key=lambda e: e[:2])],
        }
        if any(":" in ip for peer in wireguard["peers"] for ip in peer["allowed_ips"]):
            wireguard["address_ipv6"] = me["vtep_ip_ipv6"] + "/128"
    pod_slots = (1 << (32 - node_len)) - 2
    view = small_view(network, me, hostname)
    view.update((
        ("vxlan", vxlan),
        ("wireguard", wireguard),
        ("bgp", bgp_node_view(network, me)),
        ("routes", route_list(routes)),
        ("fdb", fdb_list("vxlan")),
        ("neighbors", neighbor_list("vxlan")),
        ("members", [address for dummy, address in members]),
        ("neigh_gc_thresh", neigh_gc_thresh(len(nodes) - 1 + pod_slots)),
    ))
    if peer_list is not None:
        view["peers"] = peer_list
    if wired6:
        vxlan6 = None
        if fdb["vxlan_ipv6"]:
            vxlan6 = {
                "device": VXLAN_IPV6_DEVICE % vx["vni"], "vni": vx["vni"], "port": vx["port"],
                "local": me["address_ipv6"],
                "vtep_ip": me["vtep_ip"] if neighbors["vxlan_ipv6"][0] else None,
                "vtep_ip_ipv6": me["vtep_ip_ipv6"] if neighbors["vxlan_ipv6"][1] else None,
                "vtep_mac": me["vtep_mac_ipv6"],
                "mtu": network["underlay_mtu"] - VXLAN_OVERHEAD_IPV6,
            }
        view.update((
            ("address_ipv6", me.get("address_ipv6")),
            ("pod_cidr_ipv6", me["pod_cidr_ipv6"]),
            ("gateway_ipv6", me["gateway_ipv6"]),
            ("bridge_address_ipv6", "%s/%d" % (me["gateway_ipv6"], _prefixlen(me["pod_cidr_ipv6"]))),
            ("cluster_cidr_ipv6", network["cluster_cidr_ipv6"]),
            ("routes_ipv6", route_list(routes6)),
            ("members_ipv6", [address for dummy, address in members6]),
            ("vxlan_ipv6", vxlan6),
            ("fdb_ipv6", fdb_list("vxlan_ipv6")),
            ("neighbors_ipv6", neighbor_list("vxlan_ipv6")),
        ))
    return view


def interfaces_holding(links, address):
    """Sorted names of the interfaces of LINKS (``ip -json -6 addr show``'s output) that
    hold the IPv6 ADDRESS (compared as addresses, not texts)."""
    want = socket.inet_pton(socket.AF_INET6, address)
    names = set()
    for link in links or []:
        for info in link.get("addr_info") or []:
            local = info.get("local")
            if info.get("family") == "inet6" and local and socket.inet_pton(socket.AF_INET6, local) == want:
                names.add(link.get("ifname"))
    return sorted(names)


def underlay_interfaces_ipv6(host):
    """A function of the node's IPv6 underlay address giving the interfaces that hold it,
    read on the node (``ip -json -6 addr show``) through module HOST (module podnet_node's
    AnsibleModule, or the node agent's NodeModule): the dual-stack sysctl sets accept_ra 2
    on them. Raises SliceError when no interface holds it (the plan's address_ipv6, the
    inventory's podnet_address_ipv6, is not this node's)."""
    def find(address):
        ip = host.get_bin_path("ip", required=True)
        rc, out, err = host.run_command([ip, "-json", "-6", "addr", "show"])
        if rc != 0:
            raise SliceError("'ip -json -6 addr show' failed: %s" % (err or out).strip())
        try:
            links = json.loads(out) if out.strip() else []
        except ValueError as exc:
            raise SliceError("'ip -json -6 addr show' printed no JSON: %s" % exc)
        names = interfaces_holding(links, address)
        if not names:
            raise SliceError("this node's IPv6 underlay address %s (the plan's address_ipv6: the "
                             "inventory's podnet_address_ipv6) is on none of its interfaces (ip -6 addr "
                             "show): set podnet_address_ipv6 to an address of this node, or add %s to its "
                             "underlay interface" % (address, address))
        return names
    return find


def check_settings(settings):
    """Raise SliceError unless SETTINGS is {concern: {setting: value}} with exactly
    NODE_CONCERNS and each concern's CONCERN_SETTINGS (and, optionally, its
    OPTIONAL_SETTINGS)."""
    if not isinstance(settings, dict) or sorted(settings) != sorted(NODE_CONCERNS):
        raise SliceError("concern settings: expected a dict of exactly %s, got %r (site.yml's "
                         "__podnet_site_concern_settings)" % (", ".join(NODE_CONCERNS), settings))
    for concern in NODE_CONCERNS:
        names = CONCERN_SETTINGS[concern]
        given = settings[concern]
        if isinstance(given, dict):
            given = dict((k, v) for k, v in given.items() if k not in OPTIONAL_SETTINGS.get(concern, ()))
        if not isinstance(given, dict) or sorted(given) != sorted(names):
            raise SliceError("concern settings: %s takes exactly %s, got %r" % (
                concern, ", ".join(names), sorted(given) if isinstance(given, dict) else given))


def concern_arguments(view, network, settings, wireguard=False, underlay_interfaces_ipv6=None):
    """Each host concern's module arguments for the node of ``view`` (a slice, peers or
    not): SETTINGS {concern: {setting: value}} (exactly CONCERN_SETTINGS' names, plus the
    optional OPTIONAL_SETTINGS) plus what the plan says. WIREGUARD: whether some pair of
    the network may use WireGuard (its port is guarded then). Dual stack (the view has
    ``pod_cidr_ipv6``): UNDERLAY_INTERFACES_IPV6, the names of the node's interfaces that
    hold its IPv6 underlay address (only the node knows them: podnet_node looks them up),
    get accept_ra 2. Returns {concern: arguments} in NODE_CONCERNS order; the lists are
    the view's own (not copied) but for the dual-stack ones. Raises SliceError for wrong
    settings."""
    check_settings(settings)
    from_plan = {
        "sysctl": {"neigh_gc_thresh": view["neigh_gc_thresh"]},
        "bridge": {"address": view["bridge_address"], "mtu": view["mtu"]},
        "vxlan": {"device": view["vxlan"], "fdb": view["fdb"], "neighbors": view["neighbors"]},
        "routes": {"routes": view["routes"], "vxlan_device": network["vxlan"]["device"]},
        "firewall": {
            "cluster_cidr": view["cluster_cidr"], "pod_cidr": view["pod_cidr"],
            # An IPv6-only node has no IPv4 underlay address.
            "node_addresses": view["members"] + ([view["address"]] if view["address"] else []),
            # Guarded on every node, VXLAN peers or not: flanneld may listen on the port anyway.
            "vxlan_port": network["vxlan"]["port"],
            "wireguard_port": (network.get("wireguard") or {}).get("port") if wireguard else None,
        },
    }
    if "pod_cidr_ipv6" in view:
        from_plan["sysctl"].update(ipv6_forward=True,
                                   ipv6_accept_ra_interfaces=sorted(underlay_interfaces_ipv6 or []))
        # A node whose containers use Docker's docker0 (podnet's bridge absent): Docker gives
        # docker0 the gateway <prefix>::1 itself (podnet_docker_fixed_cidr_v6, the node play's
        # Docker step), so podnet's bridge concern gets no IPv6 address.
        if settings["bridge"].get("state") != "absent":
            from_plan["bridge"]["address_ipv6"] = view["bridge_address_ipv6"]
        from_plan["vxlan"].update(device_ipv6=view["vxlan_ipv6"], fdb_ipv6=view["fdb_ipv6"],
                                  neighbors_ipv6=view["neighbors_ipv6"])
        from_plan["routes"]["routes"] = view["routes"] + view["routes_ipv6"]
        from_plan["routes"]["vxlan_device_ipv6"] = VXLAN_IPV6_DEVICE % network["vxlan"]["vni"]
        firewall = from_plan["firewall"]
        firewall.update(cluster_cidr_ipv6=view["cluster_cidr_ipv6"], pod_cidr_ipv6=view["pod_cidr_ipv6"])
        firewall["node_addresses"] = firewall["node_addresses"] + view["members_ipv6"] + (
            [view["address_ipv6"]] if view["address_ipv6"] else [])
    arguments = {}
    for concern in NODE_CONCERNS:
        arguments[concern] = dict(settings[concern])
        arguments[concern].update(from_plan[concern])
    # Optional settings only matter to a dual-stack node (an IPv4 node's arguments stay
    # what they were).
    for concern, names in OPTIONAL_SETTINGS.items():
        for name in names:
            value = arguments[concern].pop(name, None)
            if "pod_cidr_ipv6" in view and value is not None:
                arguments[concern][name] = value
    return arguments


def table_text(network, nodes):
    """The fleet table of a plan's NETWORK and NODES: one text, O(n), made once per run on
    the controller (no per-peer work: the nodes derive their slices from it)."""
    fields = TABLE_FIELDS + (TABLE_FIELDS_IPV6 if ipv6_wired(network) else ())
    rows = dict((name, [node.get(field) for field in fields]) for name, node in nodes.items())
    body = {"network": dict((key, network[key]) for key in TABLE_NETWORK_KEYS if key in network),
            "fields": list(fields), "nodes": rows}
    text = json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return "%s %d\n%s" % (TABLE_NAME, TABLE_VERSION, base64.b64encode(zlib.compress(text, 6)).decode("ascii"))


def read_table(text):
    """(network, nodes) of a fleet table TEXT, nodes as the plan has them (the fields the
    slice reads; see TABLE_FIELDS). Raises SliceError naming what is
    wrong with it."""
    if not isinstance(text, str) or not text:
        raise SliceError("the fleet table is not a text (got %s): pass the plan step's podnet_plan_table"
                         % type(text).__name__)
    head, dummy, body = text.partition("\n")
    words = head.split(" ")
    if len(words) != 2 or words[0] != TABLE_NAME:
        raise SliceError("the fleet table does not start with '%s <version>' (it starts with %r): pass "
                         "the plan step's podnet_plan_table" % (TABLE_NAME, head[:40]))
    if words[1] != str(TABLE_VERSION):
        raise SliceError("the fleet table is version %s; this podnet_node reads version %d: run the "
                         "controller's and the nodes' podnet.network of one release (the plan step "
                         "made the table)" % (words[1], TABLE_VERSION))
    try:
        document = json.loads(zlib.decompress(base64.b64decode(body)).decode("utf-8"))
        network, fields, rows = document["network"], document["fields"], document["nodes"]
    except (ValueError, KeyError, TypeError, zlib.error) as exc:
        raise SliceError("the fleet table (version %d) cannot be read: %s" % (TABLE_VERSION, exc))
    nodes = {}
    for name, row in rows.items():
        node = dict(zip(fields, row))
        for field in TABLE_OPTIONAL + TABLE_FIELDS_IPV6:
            if node.get(field, 0) is None:
                del node[field]
        nodes[name] = node
    return network, nodes


def concerns_from_table(text, hostname, settings, wireguard=False, underlay_interfaces_ipv6=None):
    """HOSTNAME's host concerns' module arguments from the fleet table TEXT: what
    concern_arguments(host_view(plan, HOSTNAME, peers=False), ...) gives on the controller.
    UNDERLAY_INTERFACES_IPV6 (dual stack): a function of the node's IPv6 underlay address
    giving the names of the interfaces that hold it (called only for a dual-stack node with
    such an address). Raises SliceError naming the culprit."""
    check_settings(settings)
    network, nodes = read_table(text)
    if hostname not in nodes:
        raise SliceError("host %s is not in the fleet table (%d nodes): the table is the plan's, and "
                         "the plan does not hold this host; plan again with it in the inventory's podnet "
                         "hosts" % (hostname, len(nodes)))
    view = slice_view(network, nodes, hostname, peers=False)
    interfaces = None
    if view.get("address_ipv6") and underlay_interfaces_ipv6 is not None:
        interfaces = underlay_interfaces_ipv6(view["address_ipv6"])
    return concern_arguments(view, network, settings, wireguard, interfaces)
