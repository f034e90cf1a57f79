# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which backend carries traffic between two nodes.

Two nodes share an L2 segment when both give an underlay prefix and their
underlay networks (address/prefix) are equal; when either prefix is missing,
nodes of the same zone are taken to share a segment.

Backend between a and b: the zone's ``zone_backends`` entry when both are in
that zone, else ``network.backend``.  ``auto`` means host-gw on one segment;
otherwise vxlan inside a zone (flannel's DirectRouting) and
``network.cross_zone_backend`` (vxlan or wireguard) between zones; host_view
applies the rule per peer.  The rule is symmetric: a and b always agree.
"""

from .errors import PlanError
from .ipv4 import ntoa


def same_segment(zone_a, under_a, zone_b, under_b):
    """``under_*`` is the (int network, prefix) underlay tuple or None."""
    if under_a is None or under_b is None:
        return zone_a == zone_b
    return under_a == under_b


def _segment_text(node):
    if node.prefix is None:
        return "%s (no prefix given, zone %s)" % (ntoa(node.address), node.zone)
    return "%s/%d" % (ntoa(node.underlay), node.prefix)


def _host_gw_error(a, b, scope):
    raise PlanError("backend host-gw %s: hosts %s and %s are not on one segment (%s vs %s); "
                    "host-gw needs every such pair on one L2 network. Use backend 'auto' or "
                    "'vxlan' (network.backend / network.zone_backends), or fix the hosts' "
                    "'prefix' values" % (scope, a.name, b.name, _segment_text(a), _segment_text(b)))


def _first_split(nodes):
    """First pair (sorted order) of prefixed nodes whose underlay networks differ."""
    first = None
    for node in nodes:
        if node.underlay is None:
            continue
        if first is None:
            first = node
        elif (node.underlay, node.prefix) != (first.underlay, first.prefix):
            return first, node
    return None


def check_host_gw(net, nodes, by_zone):
    """O(n) check that every pair carried by host-gw shares a segment."""
    zones_with_nodes = sorted(by_zone)
    if net.backend == "host-gw" and len(zones_with_nodes) > 1:
        # Pairs across zones only share a segment with both prefixes equal, and
        # with two or more zones that forces one common underlay for everyone.
        for node in nodes:
            if node.prefix is None:
                other = next(o for o in nodes if o.zone != node.zone)
                _host_gw_error(node, other, "(network.backend)")
        pair = _first_split(nodes)
        if pair:
            _host_gw_error(pair[0], pair[1], "(network.backend)")
    for zone in zones_with_nodes:
        if net.zone_backends.get(zone, net.backend) != "host-gw":
            continue
        pair = _first_split(by_zone[zone])
        if pair:
            scope = ("(network.zone_backends[%s])" % zone if zone in net.zone_backends
                     else "(network.backend)")
            _host_gw_error(pair[0], pair[1], scope)


def tunnel_peer_counts(net, nodes, by_zone):
    """{hostname: (peers reached over vxlan, peers reached over wireguard)}, O(n) with counters."""
    total = len(nodes)
    # bgp.fabric_cross_zone: the fabric carries the pairs between two BGP zones (no tunnel).
    fabric = net.bgp.fabric_cross_zone
    bgp_zone = {zone for zone, backend in net.zone_backends.items() if backend == "bgp"}
    total_bgp = sum(1 for node in nodes if node.zone in bgp_zone) if fabric else 0
    under_bgp = {}
    under_count = {}
    zone_under_count = {}
    zone_unprefixed = {}
    for node in nodes:
        if node.underlay is None:
            zone_unprefixed[node.zone] = zone_unprefixed.get(node.zone, 0) + 1
        else:
            key = (node.underlay, node.prefix)
            under_count[key] = under_count.get(key, 0) + 1
            zkey = (node.zone, key)
            zone_under_count[zkey] = zone_under_count.get(zkey, 0) + 1
            if fabric and node.zone in bgp_zone:
                under_bgp[key] = under_bgp.get(key, 0) + 1
    result = {}
    for node in nodes:
        zone = node.zone
        zone_size = len(by_zone[zone])
        intra_peers = zone_size - 1
        inter_peers = total - zone_size
        key = None if node.underlay is None else (node.underlay, node.prefix)
        counts = {"vxlan": 0, "wireguard": 0}
        # Inside the zone: the zone's backend; auto tunnels (vxlan) off the segment only.
        mode = net.zone_backends.get(zone, net.backend)
        if mode in counts:
            counts[mode] += intra_peers
        elif mode == "auto" and key is not None:
            intra_gw = zone_unprefixed.get(zone, 0) + zone_under_count[(zone, key)] - 1
            counts["vxlan"] += intra_peers - intra_gw
        # Across zones: network.backend; auto tunnels (cross_zone_backend) off the segment.
        # Between two BGP zones with fabric_cross_zone: the fabric, no tunnel.
        inter_gw = 0 if key is None else under_count[key] - zone_under_count[(zone, key)]
        if fabric and zone in bgp_zone:
            inter_peers -= total_bgp - zone_size
            inter_gw -= 0 if key is None else under_bgp.get(key, 0) - zone_under_count[(zone, key)]
        if net.backend in counts:
            counts[net.backend] += inter_peers
        elif net.backend == "auto":
            counts[net.cross_zone] += inter_peers - inter_gw
        result[node.name] = (counts["vxlan"], counts["wireguard"])
    return result
