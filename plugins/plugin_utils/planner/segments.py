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

Dual stack: each pod family is routed on its own, as flannel does. host-gw carries a
family's pods between a and b only when both have an underlay address of that family on
one segment (the route's next hop is the peer's address of the same family); ``auto``
decides per family, so a pair may route IPv4 pods directly and tunnel IPv6 ones. A tunnel
(VXLAN, WireGuard) carries both families over one underlay family both ends have: IPv4
where both have it, else IPv6.
"""

from .addresses import IPV4, IPV6
from .errors import PlanError


def same_segment(zone_a, under_a, zone_b, under_b):
    """``under_*`` is the (int network, prefix) underlay tuple or None."""
    if under_a is None or under_b is None:
        return zone_a == zone_b
    return under_a == under_b


class _View:
    """A node's underlay in one family: ``address``, ``prefix``, ``underlay`` (None when it
    has no address of that family), plus the node's name and zone."""

    __slots__ = ("name", "zone", "address", "prefix", "underlay")

    def __init__(self, node):
        self.name, self.zone = node.name, node.zone
        self.address, self.prefix, self.underlay = node.address6, node.prefix6, node.underlay6


def _views(net, nodes):
    """[(family, nodes seen in that family)]: the IPv4 nodes as they are; the IPv6 view of
    each node when the cluster is dual stack."""
    result = [(IPV4, nodes)]
    if net.ipv6 is not None:
        result.append((IPV6, [_View(node) for node in nodes]))
    return result


def _segment_text(node, fam=IPV4):
    if node.prefix is None:
        return "%s (no prefix given, zone %s)" % (fam.ntoa(node.address), node.zone)
    return "%s/%d" % (fam.ntoa(node.underlay), node.prefix)


def _host_gw_error(a, b, scope, fam=IPV4):
    raise PlanError("backend host-gw %s: hosts %s and %s are not on one %ssegment (%s vs %s); "
                    "host-gw needs every such pair on one L2 network. Use backend 'auto' or "
                    "'vxlan' (network.backend / network.zone_backends), or fix the hosts' "
                    "'prefix%s' values" % (scope, a.name, b.name, "" if fam is IPV4 else "IPv6 ",
                                           _segment_text(a, fam), _segment_text(b, fam),
                                           "" if fam is IPV4 else "_ipv6"))


def _no_address_error(node, scope, fam):
    raise PlanError("backend host-gw %s: host %s has no %s underlay address, and host-gw routes "
                    "its %s pods via the peer's %s address; give it one (podnet_address%s), or use "
                    "backend 'auto' (a tunnel where host-gw cannot go) or 'vxlan'" % (
                        scope, node.name, fam.name, fam.name, fam.name,
                        "" if fam is IPV4 else "_ipv6"))


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


def _first_missing(nodes):
    return next((node for node in nodes if node.address is None), None)


def check_underlay_families(net, nodes):
    """Every pair needs one underlay family both ends have (a tunnel runs over it, host-gw
    routes over it): a node with only IPv4 and one with only IPv6 could never reach each
    other. O(n)."""
    if net.ipv6 is None:
        return
    only4 = next((node for node in nodes if node.address6 is None and node.address is not None), None)
    only6 = next((node for node in nodes if node.address is None and node.address6 is not None), None)
    if only4 is not None and only6 is not None:
        raise PlanError("hosts %s (IPv4 underlay only) and %s (IPv6 underlay only) share no "
                        "underlay family: no backend can carry pod traffic between them. Give %s "
                        "an IPv6 underlay address (podnet_address_ipv6) or %s an IPv4 one "
                        "(podnet_address)" % (only4.name, only6.name, only4.name, only6.name))


def check_host_gw(net, nodes, by_zone):
    """O(n) check that every pair carried by host-gw shares a segment (in each pod family)."""
    for fam, view in _views(net, nodes):
        zones = by_zone
        if fam is IPV6:
            zones = {}
            for node in view:
                zones.setdefault(node.zone, []).append(node)
        _check_host_gw(net, view, zones, fam)


def _check_host_gw(net, nodes, by_zone, fam):
    zones_with_nodes = sorted(by_zone)
    if net.backend == "host-gw" and len(zones_with_nodes) > 1:
        missing = _first_missing(nodes)
        if missing is not None:
            _no_address_error(missing, "(network.backend)", fam)
        # Pairs across zones only share a segment with both prefixes equal, and
        # with two or more zones that forces one common underlay for everyone.
        for node in nodes:
            if node.prefix is None:
                other = next(o for o in nodes if o.zone != node.zone)
                _host_gw_error(node, other, "(network.backend)", fam)
        pair = _first_split(nodes)
        if pair:
            _host_gw_error(pair[0], pair[1], "(network.backend)", fam)
    for zone in zones_with_nodes:
        if net.zone_backends.get(zone, net.backend) != "host-gw":
            continue
        scope = ("(network.zone_backends[%s])" % zone if zone in net.zone_backends
                 else "(network.backend)")
        members = by_zone[zone]
        missing = _first_missing(members) if len(members) > 1 else None
        if missing is not None:
            _no_address_error(missing, scope, fam)
        pair = _first_split(members)
        if pair:
            _host_gw_error(pair[0], pair[1], scope, fam)


def tunnel_peer_counts(net, nodes, by_zone):
    """{hostname: (peers reached over vxlan, peers reached over wireguard)}, O(n) with counters.

    Dual stack: a peer counts where some pod family reaches it through that tunnel."""
    views = _views(net, nodes)
    result = _tunnel_peer_counts(net, views[0][1], by_zone)
    for dummy, view in views[1:]:
        for name, (vxlan, wireguard) in _tunnel_peer_counts(net, view, by_zone).items():
            mine = result[name]
            result[name] = (max(mine[0], vxlan), max(mine[1], wireguard))
    return result


def _tunnel_peer_counts(net, nodes, by_zone):
    total = len(nodes)
    # bgp.fabric_cross_zone: the fabric carries the pairs between two BGP zones (no tunnel).
    fabric = net.bgp.fabric_cross_zone
    bgp_zone = {zone for zone, backend in net.zone_backends.items() if backend == "bgp"}
    total_bgp = sum(1 for node in nodes if node.zone in bgp_zone) if fabric else 0
    under_bgp = {}
    under_count = {}
    zone_under_count = {}
    zone_unprefixed = {}
    zone_missing = {}  # nodes without an address of this family (dual stack only)
    for node in nodes:
        if node.address is None:
            zone_missing[node.zone] = zone_missing.get(node.zone, 0) + 1
        elif node.underlay is None:
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
        elif mode == "auto":
            if node.address is None:  # no address of this family: no host-gw at all
                counts["vxlan"] += intra_peers
            elif key is not None:
                intra_gw = zone_unprefixed.get(zone, 0) + zone_under_count[(zone, key)] - 1
                counts["vxlan"] += intra_peers - intra_gw
            else:
                counts["vxlan"] += zone_missing.get(zone, 0)
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


def check_ipv6_pairs(net, nodes, by_zone, partial=False):
    """Dual stack on the hosts (not ``ipv6_planner_only``): podnet carries IPv6 pods over
    host-gw, VXLAN and WireGuard, not over BGP (BIRD's sessions and imports are IPv4). Refuse,
    before any host is touched, a plan in which some pair of a BGP zone (or, with
    bgp.fabric_cross_zone, of two BGP zones) would carry IPv6 pods, naming the pair. O(n).
    PARTIAL (preflight): the same check (it reads zones only)."""
    six = net.ipv6
    if six is None or six.planner_only:
        return
    bgp_zones = sorted(zone for zone, backend in net.zone_backends.items() if backend == "bgp")
    groups = [[zone] for zone in bgp_zones]
    if net.bgp.fabric_cross_zone:
        groups = [bgp_zones]
    for zones in groups:
        members = sorted(node.name for zone in zones for node in by_zone.get(zone, ()))
        if len(members) > 1:
            raise PlanError(
                "network.cluster_cidr_ipv6: hosts %s and %s (zone%s %s, backend bgp) would carry their "
                "IPv6 pods over BGP, which podnet does not build (its BGP sessions carry IPv4 routes); "
                "give zone %s another backend (podnet_plan_zone_backends: host-gw, vxlan, wireguard or "
                "auto), or leave podnet_plan_cluster_cidr_ipv6 unset, or set "
                "podnet_plan_ipv6_planner_only: true to plan and record the IPv6 prefixes without "
                "configuring them on the hosts" % (
                    members[0], members[1], "s" if len(zones) > 1 else "", ", ".join(zones), zones[0]))
