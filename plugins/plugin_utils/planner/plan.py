# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``plan(nodes, network)``: the one contract every role reads."""

from .addresses import IPV6, cidr, fast_cidr, ntoa
from .allocate import allocate_nodes, allocate_zones
from .bgp import check_nodes as check_bgp_nodes, check_routers_present, node_asn
from .segments import check_host_gw, check_ipv6_pairs, check_underlay_families, tunnel_peer_counts
from .errors import PlanError
from .validate import (MIN_POD_MTU_IPV6, VXLAN_OVERHEAD, VXLAN_OVERHEAD_IPV6, WIREGUARD_OVERHEAD, Node,
                       Node6, fast6, uses_wireguard, validate_network, validate_nodes)


def vtep_mac(subnet, first=0x0A):
    """Locally administered unicast MAC from the IPv4 pod subnet: 0a:58 + its 4 bytes
    (flannel.<vni>); FIRST 0x0e gives the MAC of the node's VXLAN device over an IPv6
    underlay (flannel-v6.<vni>), 0e:58 + the same bytes."""
    return "%02x:58:%02x:%02x:%02x:%02x" % (
        first, subnet >> 24, (subnet >> 16) & 255, (subnet >> 8) & 255, subnet & 255)


def _check_zone_backends(net, by_zone):
    """A zone_backends entry for a zone without nodes is a typo or a leftover."""
    for zone in sorted(net.zone_backends):
        if zone not in by_zone:
            raise PlanError("network.zone_backends[%s]: no node is in zone %r (zones with nodes: %s); "
                            "fix the zone name or remove the entry" % (
                                zone, zone, ", ".join(sorted(by_zone)) or "none"))


def _check_ipv4_underlay(net, records):
    """The BGP backend peers over IPv4: a node of a bgp zone needs an IPv4 underlay."""
    if net.ipv6 is None:
        return
    for node in records:
        if node.address is None and net.zone_backends.get(node.zone) == "bgp":
            raise PlanError("host %s: zone %s uses the bgp backend, which peers with its routers "
                            "over IPv4, but the host has only an IPv6 underlay address; give it "
                            "an IPv4 one (podnet_address) or choose another backend for zone %s "
                            "(podnet_plan_zone_backends)" % (node.name, node.zone, node.zone))


def _allocate_ipv6(net, by_zone, held=None):
    """({zone: IPv6 block}, {host: IPv6 subnet}) of a dual-stack network, else None.

    Released-pending nodes hold their IPv6 subnet when the ledger recorded one (a node
    released before the cluster went dual stack holds none, and gets none). So do the live
    dual-stack leases of HELD (``_held_leases``: outside the plan) hold their IPv6 prefix."""
    six = net.ipv6
    if six is None:
        return None
    held6 = _held_ipv6(by_zone, held or {})
    holders = {zone: list(members) for zone, members in by_zone.items()}
    for host, spec in net.released.items():
        if spec.get("pod_cidr_ipv6") is not None:
            holders.setdefault(spec["zone"], []).append(
                Node6(host, spec["zone"], None, None, None, pin6=fast6(spec["pod_cidr_ipv6"])))
    for members in holders.values():
        members.sort(key=lambda node: node.name)
    blocks = allocate_zones(six, holders)
    return blocks, allocate_nodes(six, holders, blocks, held6)


def _held_ipv6(by_zone, held):
    """{IPv6 prefix int: holder} of the live dual-stack leases outside the plan; a node of the
    plan that keeps one of these prefixes stops the run (two hosts would route it)."""
    held6 = {}
    for spec in held.values():
        if spec.get("pod_cidr_ipv6"):
            held6[fast6(spec["pod_cidr_ipv6"])] = spec
    for members in by_zone.values():
        for node in members:
            spec = held6.get(node.pin6)
            if spec is not None:
                key = spec.get("key") or "the lease of %s" % spec["pod_cidr_ipv6"]
                raise PlanError(
                    "etcd key %s is leased (TTL) to PublicIP %s, but the plan keeps its IPv6 prefix %s "
                    "for host %s: two hosts would route one prefix. Nothing was written and no host was "
                    "touched. Find the flanneld at %s (its lease is live): stop it and delete the key "
                    "(etcdctl del %s), then re-run" % (key, spec["address"], spec["pod_cidr_ipv6"],
                                                       node.name, spec["address"], key))
    return {subnet: "%s (%s)" % (spec["address"], spec["holder"]) for subnet, spec in held6.items()}


def _allocate(net, records):
    """Group, check and allocate: ({zone: [Node]}, {zone: block}, {host: subnet},
    {subnet: lease} of the live leases held outside the plan, the IPv6 allocation or None).

    Released-pending nodes (``network.released``) take part in the allocation as
    pinned holders, so no newcomer is ever given their subnet, but they are not
    nodes of the plan: no peer routes to them. So do the live leases of ``network.leased``
    no holder of the plan holds (``_held_leases``), for this run only.
    """
    by_zone = {}
    for node in records:  # sorted by hostname, so members lists are too
        by_zone.setdefault(node.zone, []).append(node)
    _check_zone_backends(net, by_zone)
    holders = {zone: list(members) for zone, members in by_zone.items()}
    for host, spec in net.released.items():
        holders.setdefault(spec["zone"], []).append(
            Node(host, spec["zone"], None, None, fast_cidr(spec["pod_cidr"])[0]))
    for members in holders.values():
        members.sort(key=lambda node: node.name)
    held = _held_leases(net, holders)
    blocks = allocate_zones(net, holders)
    subnets = allocate_nodes(net, holders, blocks, {
        subnet: "%s (%s)" % (spec["address"], spec["holder"]) for subnet, spec in held.items()})
    return by_zone, blocks, subnets, held, _allocate_ipv6(net, by_zone, held)


def _zones(net, blocks, six):
    """The plan's zones: {zone: {"block", "block_ipv6" (dual stack)}}."""
    zones = {zone: {"block": cidr(blocks[zone], net.zone_len)} for zone in sorted(blocks)}
    if six is not None:
        for zone, block in six[0].items():
            zones.setdefault(zone, {})["block_ipv6"] = IPV6.cidr(block, net.ipv6.zone_len)
        zones = dict(sorted(zones.items()))
    return zones


def _held_leases(net, holders):
    """{subnet int: lease} of the live leases (``network.leased``, re-read from the etcd
    registry on every run) that no holder of the plan holds: no node is planned onto them.

    A lease on the subnet of a node of the same address is that node's own; a lease on a
    subnet the plan keeps for a node of another address stops the run (two hosts would
    route one subnet), before any host is touched.
    """
    pinned, addresses = {}, {}
    for members in holders.values():
        for node in members:
            if node.pin is not None:
                pinned[node.pin] = node
            if node.address is not None:
                addresses[ntoa(node.address)] = node.name
    held = {}
    for subnet, spec in net.leased.items():
        pnet = fast_cidr(subnet)[0]
        node = pinned.get(pnet)
        if node is None:
            if spec["address"] in addresses:  # a node's address, but not the subnet it is planned
                spec = dict(spec, holder="leased by the address of host %s, outside the plan" % (
                    addresses[spec["address"]]))
            held[pnet] = spec
            continue
        if node.name in net.released or node.address is None or ntoa(node.address) == spec["address"]:
            continue  # a released-pending node's (held already), or the node's own lease
        key = spec.get("key") or "the lease of %s" % subnet
        raise PlanError(
            "etcd key %s is leased (TTL) to PublicIP %s, but the plan keeps %s for host %s "
            "(PublicIP %s): two hosts would route one subnet. Nothing was written and no host "
            "was touched. Find the flanneld at %s (its lease is live): stop it and delete the key "
            "(etcdctl del %s); if %s is %s's new address, set podnet_address for %s to it; then "
            "re-run" % (key, spec["address"], subnet, node.name, ntoa(node.address), spec["address"],
                        key, spec["address"], node.name, node.name))
    return held


def _ipv6_fields(net, node, subnet, subnet6, out):
    """A dual-stack node's IPv6 pod prefix, gateway (its bridge's address), VTEP address
    (the prefix's network address, flannel's for flannel-v6.<vni>), the MAC of its VXLAN
    device over an IPv6 underlay, and its IPv6 underlay."""
    if out["mtu"] < MIN_POD_MTU_IPV6:
        raise PlanError("host %s: its pods get MTU %d (underlay_mtu %d less the tunnel's overhead), "
                        "below IPv6's minimum of %d; raise podnet_plan_underlay_mtu to at least %d, "
                        "or leave podnet_plan_cluster_cidr_ipv6 unset" % (
                            node.name, out["mtu"], net.underlay_mtu, MIN_POD_MTU_IPV6,
                            net.underlay_mtu - out["mtu"] + MIN_POD_MTU_IPV6))
    out["pod_cidr_ipv6"] = IPV6.cidr(subnet6, net.ipv6.node_len)
    out["gateway_ipv6"] = IPV6.ntoa(subnet6 + 1)
    out["vtep_ip_ipv6"] = IPV6.ntoa(subnet6)
    out["vtep_mac_ipv6"] = vtep_mac(subnet, 0x0E)
    if node.address6 is not None:
        out["address_ipv6"] = IPV6.ntoa(node.address6)
        if node.prefix6 is not None:
            out["prefix_ipv6"] = node.prefix6


def preflight(nodes, network):
    """Everything ``plan`` checks that can be checked before any host is asked.

    ``nodes`` may lack addresses (hosts not described by the inventory or the
    ledger); all else -- network, zones, pins, held subnets, capacity -- is
    validated and allocated exactly as ``plan`` does.  Returns ``{"ask":
    [hosts whose address or underlay prefix only the host itself can tell],
    "network": the normalised network, as ``plan`` gives it, "wireguard": whether some
    pair may use wireguard (the nodes then make their keys in the facts step)}`` -- known
    before any host is asked: the registry and its member, the VXLAN settings, the zone
    blocks.
    """
    net = validate_network(network)
    records = validate_nodes(nodes, net, partial=True)
    by_zone, blocks, dummy, dummy, six = _allocate(net, records)
    ask = [node.name for node in records if node.address is None or node.prefix is None]
    # Segment checks on the nodes fully described already; the rest after the facts step.
    known = [node for node in records if node.prefix is not None]
    known_by_zone = {}
    for node in known:
        known_by_zone.setdefault(node.zone, []).append(node)
    check_underlay_families(net, known)
    check_host_gw(net, known, known_by_zone)
    # Dual stack: the IPv6 underlay comes from the inventory or the ledger (never asked).
    check_ipv6_pairs(net, records, by_zone, partial=True)
    check_routers_present(net, by_zone)
    check_bgp_nodes(net, known)
    return {"ask": ask, "network": net.as_dict(_zones(net, blocks, six)),
            "wireguard": uses_wireguard(net)}


def plan(nodes, network):
    """Validate, allocate and describe every node; pure, JSON in and out, O(n).

    Returns ``{"network": normalised network (with "zones" = the allocated
    blocks, so feeding it back in reproduces the plan; "registry" and
    "registry_member", the etcd member, None in ledger mode), "zones": {zone:
    {"block"}}, "nodes": {host: {"zone", "address", "prefix", "pod_cidr",
    "gateway", "vtep_ip", "vtep_mac", "mtu", "wireguard_key" (the node's WireGuard public
    key, only when known)}}}``; keys are sorted.
    """
    net = validate_network(network)
    records = validate_nodes(nodes, net)
    by_zone, blocks, subnets, held, six = _allocate(net, records)
    check_underlay_families(net, records)
    _check_ipv4_underlay(net, records)
    check_host_gw(net, records, by_zone)
    check_ipv6_pairs(net, records, by_zone)
    check_routers_present(net, by_zone)
    check_bgp_nodes(net, records)
    tunnel_peers = tunnel_peer_counts(net, records, by_zone)

    node_len = net.node_len
    mtu_plain = net.underlay_mtu
    mtu_vxlan = net.underlay_mtu - VXLAN_OVERHEAD
    mtu_wireguard = net.underlay_mtu - WIREGUARD_OVERHEAD
    # VXLAN over an IPv6 underlay (70 bytes): where some node has no IPv4 underlay, every
    # node's VXLAN peers may include it, so its pods get the narrower MTU (conservative).
    only6 = net.ipv6 is not None and any(node.address is None for node in records)
    out_nodes = {}
    for node in records:
        subnet = subnets[node.name]
        vxlan_peers, wireguard_peers = tunnel_peers[node.name]
        # Pods get the MTU of the narrowest path they may take.
        mtu = mtu_wireguard if wireguard_peers else mtu_vxlan if vxlan_peers else mtu_plain
        if only6 and vxlan_peers and not wireguard_peers:
            mtu = net.underlay_mtu - VXLAN_OVERHEAD_IPV6
        out_nodes[node.name] = {
            "zone": node.zone,
            "address": None if node.address is None else ntoa(node.address),
            "prefix": node.prefix,
            "pod_cidr": cidr(subnet, node_len),
            "gateway": ntoa(subnet + 1),
            "vtep_ip": ntoa(subnet),
            "vtep_mac": vtep_mac(subnet),
            "mtu": mtu,
        }
        if node.wg_key is not None:
            out_nodes[node.name]["wireguard_key"] = node.wg_key
        if net.zone_backends.get(node.zone) == "bgp":
            # One private ASN per node: asn_base + its pod subnet's index (bgp.py).
            out_nodes[node.name]["bgp_asn"] = node_asn(net, subnet)
        if six is not None:
            _ipv6_fields(net, node, subnet, six[1][node.name], out_nodes[node.name])
    zones = _zones(net, blocks, six)
    network = net.as_dict({zone: dict(spec) for zone, spec in zones.items()})
    # Only the leases that hold a subnet no node of the plan holds (not the nodes' own): each
    # named with its PublicIP; never written to the ledger, re-read on every run.
    network.pop("leased", None)
    if held:
        network["leased"] = dict(sorted((cidr(subnet, node_len), dict(spec)) for subnet, spec in held.items()))
    return {
        "network": network,
        "zones": zones,
        "nodes": out_nodes,
    }
