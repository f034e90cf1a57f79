"""``plan(nodes, network)``: the one contract every role reads."""

from .allocate import allocate_nodes, allocate_zones
from .ipv4 import cidr, ntoa
from .segments import check_host_gw, vxlan_peer_counts
from .validate import VXLAN_OVERHEAD, validate_network, validate_nodes


def vtep_mac(subnet):
    """Locally administered unicast MAC from the subnet: 0a:58 + its 4 bytes."""
    return "0a:58:%02x:%02x:%02x:%02x" % (
        subnet >> 24, (subnet >> 16) & 255, (subnet >> 8) & 255, subnet & 255)


def plan(nodes, network):
    """Validate, allocate and describe every node; pure, JSON in and out, O(n).

    Returns ``{"network": normalised network (with "zones" = the allocated
    blocks, so feeding it back in reproduces the plan), "zones": {zone:
    {"block"}}, "nodes": {host: {"zone", "address", "prefix", "pod_cidr",
    "gateway", "vtep_ip", "vtep_mac", "mtu"}}}``; keys are sorted.
    """
    net = validate_network(network)
    records = validate_nodes(nodes, net)
    by_zone = {}
    for node in records:  # sorted by hostname, so members lists are too
        by_zone.setdefault(node.zone, []).append(node)
    check_host_gw(net, records, by_zone)
    blocks = allocate_zones(net, by_zone)
    subnets = allocate_nodes(net, by_zone, blocks)
    vxlan_peers = vxlan_peer_counts(net, records, by_zone)

    node_len = net.node_len
    mtu_plain = net.underlay_mtu
    mtu_vxlan = net.underlay_mtu - VXLAN_OVERHEAD
    out_nodes = {}
    for node in records:
        subnet = subnets[node.name]
        out_nodes[node.name] = {
            "zone": node.zone,
            "address": ntoa(node.address),
            "prefix": node.prefix,
            "pod_cidr": cidr(subnet, node_len),
            "gateway": ntoa(subnet + 1),
            "vtep_ip": ntoa(subnet),
            "vtep_mac": vtep_mac(subnet),
            "mtu": mtu_vxlan if vxlan_peers[node.name] else mtu_plain,
        }
    zones = {zone: {"block": cidr(blocks[zone], net.zone_len)} for zone in sorted(blocks)}
    return {
        "network": net.as_dict({zone: dict(spec) for zone, spec in zones.items()}),
        "zones": zones,
        "nodes": out_nodes,
    }
