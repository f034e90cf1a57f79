# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``bgp`` backend: routed zones whose racks are L3 subnets behind top-of-rack routers
the operator runs, speaking eBGP (RFC 7938). docs/bgp.md is the operator's side.

- A zone uses it by ``zone_backends: {dc1: bgp}``; pairs inside it are carried by the
  fabric (no podnet route, no tunnel). Pairs across zones keep ``backend`` /
  ``cross_zone_backend`` unless ``bgp.fabric_cross_zone`` says the fabric carries pairs
  between two BGP zones.
- **ASN scheme: one private ASN per node** (RFC 7938 5.2.1, servers as leaves), derived
  from the node's pod subnet: ``asn_base + index of the subnet in the cluster CIDR``. Pod
  subnets never move and never have two holders, so neither do ASNs: nothing to record,
  nothing to collide, a released-pending node's ASN stays with its reserved subnet.
- Routers: ``bgp.routers: {zone: [{name, asn, address (one or a list: one per rack leg)}]}``.
  Each node peers with every router of its zone that has an address on its segment.

Everything here is checked before any host is contacted (the segment check as soon as a
node's prefix is known) and every error names the culprit and the fix.
"""

import re

# A node's ``bgp`` view (and the BFD defaults) is module_utils/podnet_slice.py's: the nodes
# derive it from the fleet table with the same code.
from ansible_collections.podnet.network.plugins.module_utils.podnet_slice import (
    DEFAULT_BFD_INTERVAL_MS, DEFAULT_BFD_MULTIPLIER, bgp_node_view as node_view)

from .errors import PlanError
from .addresses import cidr, mask, ntoa, overlaps, parse_address

# RFC 6996: private use ASNs, 2-byte and 4-byte.
PRIVATE_ASNS = ((64512, 65534), (4200000000, 4294967294))
MAX_ASN = 4294967294
DEFAULT_ASN_BASE = 4200000000
BGP_KEYS = frozenset(("asn_base", "routers", "allow_public_asn", "fabric_cross_zone", "bfd",
                      "bfd_interval_ms", "bfd_multiplier", "graceful_restart"))
ROUTER_KEYS = frozenset(("name", "asn", "address"))
ROUTER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")


def is_private(asn):
    return any(low <= asn <= high for low, high in PRIVATE_ASNS)


def _flag(value, what):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "1", "false", "no", "off", "0"):
        return value.strip().lower() in ("true", "yes", "on", "1")
    raise PlanError("%s: %r is not true or false" % (what, value))


def _int(value, what, low, high, fix):
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PlanError("%s: %r is not an integer between %d and %d; %s" % (what, value, low, high, fix))
    return value


def _asn(value, what, allow_public):
    asn = _int(value, what, 1, MAX_ASN, "give an ASN, e.g. a private 4-byte one from 4200000000")
    if not allow_public and not is_private(asn):
        raise PlanError("%s: ASN %d is not a private ASN (RFC 6996: 64512-65534 or "
                        "4200000000-4294967294); use a private one, or set network.bgp."
                        "allow_public_asn (podnet_plan_bgp_allow_public_asn: true) if the fabric "
                        "really uses public ASNs" % (what, asn))
    return asn


class Bgp:
    """Parsed ``network.bgp`` (``as_dict`` gives the normalised form back)."""

    __slots__ = ("asn_base", "routers", "allow_public", "fabric_cross_zone", "bfd", "bfd_interval",
                 "bfd_multiplier", "graceful_restart")

    def as_dict(self):
        return {
            "asn_base": self.asn_base,
            "routers": {zone: [{"name": r["name"], "asn": r["asn"], "address": list(r["address"])}
                               for r in routers] for zone, routers in sorted(self.routers.items())},
            "allow_public_asn": self.allow_public,
            "fabric_cross_zone": self.fabric_cross_zone,
            "bfd": self.bfd,
            "bfd_interval_ms": self.bfd_interval,
            "bfd_multiplier": self.bfd_multiplier,
            "graceful_restart": self.graceful_restart,
        }


def bgp_zones(net):
    """The zones whose pairs inside are carried by BGP."""
    return sorted(zone for zone, backend in net.zone_backends.items() if backend == "bgp")


def validate_bgp(network, net):
    """Check ``network.bgp`` against the parsed network ``net`` (cluster, zone_backends);
    returns a ``Bgp``. Checks what needs no node: ASN ranges, routers, their zones."""
    value = network.get("bgp") or {}
    if not isinstance(value, dict):
        raise PlanError("network.bgp: expected a dict with asn_base/routers/..., got %r" % (value,))
    value = {key: None if item == "" else item for key, item in value.items()}
    unknown = sorted(set(value) - BGP_KEYS)
    if unknown:
        raise PlanError("network.bgp: unknown key(s) %s; allowed keys are %s" % (
            ", ".join(map(repr, unknown)), ", ".join(sorted(BGP_KEYS))))
    bgp = Bgp()
    bgp.allow_public = bool(_flag(value.get("allow_public_asn"), "network.bgp.allow_public_asn"))
    bgp.fabric_cross_zone = bool(_flag(value.get("fabric_cross_zone"), "network.bgp.fabric_cross_zone"))
    bfd = _flag(value.get("bfd"), "network.bgp.bfd")
    bgp.bfd = True if bfd is None else bfd
    graceful = _flag(value.get("graceful_restart"), "network.bgp.graceful_restart")
    bgp.graceful_restart = True if graceful is None else graceful
    interval = value.get("bfd_interval_ms")
    bgp.bfd_interval = DEFAULT_BFD_INTERVAL_MS if interval is None else _int(
        interval, "network.bgp.bfd_interval_ms", 10, 10000, "give milliseconds between BFD packets (default 100)")
    multiplier = value.get("bfd_multiplier")
    bgp.bfd_multiplier = DEFAULT_BFD_MULTIPLIER if multiplier is None else _int(
        multiplier, "network.bgp.bfd_multiplier", 1, 255, "give the missed packets before a session is down (default 3)")

    # One ASN per node: asn_base + the index of its pod subnet in the cluster CIDR.
    base = value.get("asn_base")
    bgp.asn_base = DEFAULT_ASN_BASE if base is None else _asn(base, "network.bgp.asn_base", bgp.allow_public)
    count = 1 << (net.node_len - net.cluster_len)
    last = bgp.asn_base + count - 1
    if last > MAX_ASN or (not bgp.allow_public and not is_private(last)) or (
            not bgp.allow_public and is_private(bgp.asn_base) and bgp.asn_base <= 65534 < last):
        raise PlanError("network.bgp.asn_base: %d + %d pod subnets of the cluster CIDR %s gives node "
                        "ASNs up to %d, past the end of the private range that holds %d; each node's "
                        "ASN is asn_base + its pod subnet's index, so lower asn_base to at most %d "
                        "(podnet_plan_bgp_asn_base)" % (
                            bgp.asn_base, count, cidr(net.cluster_net, net.cluster_len), last,
                            bgp.asn_base, (65534 if bgp.asn_base <= 65534 else MAX_ASN) - count + 1))

    zones = bgp_zones(net)
    routers = value.get("routers") or {}
    if not isinstance(routers, dict):
        raise PlanError("network.bgp.routers: expected {zone: [{name, asn, address}]}, got %r" % (routers,))
    bgp.routers = {}
    names = {}
    addresses = {}
    for zone in sorted(routers):
        where = "network.bgp.routers[%s]" % zone
        if zone not in zones:
            raise PlanError("%s: zone %r does not use the bgp backend (bgp zones: %s); set "
                            "podnet_plan_zone_backends: {%s: bgp} or remove its routers" % (
                                where, zone, ", ".join(zones) or "none", zone))
        entries = routers[zone]
        if isinstance(entries, dict):
            entries = [entries]
        if not isinstance(entries, list) or not entries:
            raise PlanError("%s: expected a list of routers [{name, asn, address}], got %r" % (where, entries))
        parsed = []
        for index, entry in enumerate(entries):
            what = "%s[%d]" % (where, index)
            if not isinstance(entry, dict) or sorted(set(entry) - ROUTER_KEYS):
                raise PlanError("%s: expected {name, asn, address}, got %r" % (what, entry))
            name = entry.get("name")
            if not isinstance(name, str) or not ROUTER_NAME.fullmatch(name):
                raise PlanError("%s.name: %r is not a router name (a letter, then up to 39 letters, "
                                "digits, '-' or '_': it names the router's snippet file)" % (what, name))
            what = "%s (router %s)" % (what, name)
            if name in names:
                raise PlanError("%s: router name %s is also used in zone %s; give each router its "
                                "own name (list all of one router's addresses under one entry)" % (
                                    what, name, names[name]))
            names[name] = zone
            asn = _asn(entry.get("asn"), what + ".asn", bgp.allow_public)
            if bgp.asn_base <= asn <= last:
                raise PlanError("%s.asn: %d lies in the node ASN range %d-%d (asn_base + pod subnet "
                                "index): a node would get the router's ASN and its sessions would be "
                                "iBGP. Give the router an ASN outside that range, or move "
                                "podnet_plan_bgp_asn_base" % (what, asn, bgp.asn_base, last))
            raw = entry.get("address")
            raw = [raw] if isinstance(raw, str) else raw
            if not isinstance(raw, list) or not raw:
                raise PlanError("%s.address: expected the router's address on the nodes' segment "
                                "(or a list, one per rack it serves), got %r" % (what, entry.get("address")))
            legs = []
            for text in raw:
                address = parse_address(text, what + ".address")
                if overlaps(address, 32, net.cluster_net, net.cluster_len):
                    raise PlanError("%s.address: %s lies inside the cluster CIDR %s; give the router's "
                                    "address on the nodes' underlay segment" % (
                                        what, text, cidr(net.cluster_net, net.cluster_len)))
                if address in addresses:
                    raise PlanError("%s.address: %s is also an address of router %s; fix one of them" % (
                        what, text, addresses[address]))
                addresses[address] = name
                legs.append(address)
            parsed.append({"name": name, "asn": asn, "address": [ntoa(a) for a in sorted(legs)],
                           "legs": sorted(legs)})
        bgp.routers[zone] = parsed
    return bgp


def check_routers_present(net, by_zone):
    """Every bgp zone with nodes has routers."""
    for zone in bgp_zones(net):
        if zone in by_zone and not net.bgp.routers.get(zone):
            raise PlanError("network.zone_backends[%s]: bgp, but zone %s has no router; name its "
                            "top-of-rack routers in podnet_plan_bgp_routers: {%s: [{name, asn, "
                            "address}]} (address on the nodes' segment)" % (zone, zone, zone))


def node_asn(net, subnet):
    """The ASN of the node holding pod subnet ``subnet`` (int network)."""
    return net.bgp.asn_base + ((subnet - net.cluster_net) >> (32 - net.node_len))


def node_routers(net, node):
    """[(router, its address on the node's segment)] for ``node`` (a validated Node with a
    prefix), or an error naming the node, its segment and the zone's routers."""
    routers = net.bgp.routers.get(node.zone) or []
    if node.prefix is None:
        raise PlanError("host %s (zone %s, bgp): its underlay prefix is unknown, so podnet cannot "
                        "tell which router is on its segment; set podnet_underlay_prefix for it" % (
                            node.name, node.zone))
    net_mask = mask(node.prefix)
    found = []
    for router in routers:
        for leg in router["legs"]:
            if leg == node.address:
                raise PlanError("host %s: its address %s is also router %s's address; fix "
                                "podnet_plan_bgp_routers[%s]" % (node.name, ntoa(leg), router["name"], node.zone))
            if leg & net_mask == node.underlay:
                found.append((router, ntoa(leg)))
    if not found:
        raise PlanError("host %s (zone %s, bgp): no router of zone %s has an address on its segment "
                        "%s/%d (routers: %s); BGP peers with the router of the node's own rack. Add "
                        "that rack's router address (podnet_plan_bgp_routers[%s]) or fix the host's "
                        "podnet_underlay_prefix" % (
                            node.name, node.zone, node.zone, ntoa(node.underlay), node.prefix,
                            "; ".join("%s %s" % (r["name"], ", ".join(r["address"])) for r in routers) or "none",
                            node.zone))
    return found


def check_nodes(net, records):
    """Per node checks needing its prefix: a router on its segment (nodes without a prefix are
    skipped by preflight and refused by plan)."""
    zones = set(bgp_zones(net))
    for node in records:
        if node.zone in zones and node.address is not None:
            node_routers(net, node)


def uses_bgp(network):
    """Whether some zone of a plan's normalised network uses BGP."""
    return "bgp" in (network.get("zone_backends") or {}).values()


def _ident(name):
    return "node_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def router_sessions(plan):
    """{router name: {"zone", "asn", "sessions": [{node, ident, address, asn, pod_cidr,
    local}]}}: one session per planned node on a segment of the router (released-pending
    nodes have none: their subnet stays reserved, their session goes)."""
    network = plan["network"]
    bgp = network.get("bgp") or {}
    result = {}
    for zone, routers in sorted((bgp.get("routers") or {}).items()):
        for router in routers:
            result[router["name"]] = {"zone": zone, "asn": router["asn"], "sessions": []}
    idents = {}
    for host in sorted(plan["nodes"]):
        node = plan["nodes"][host]
        if "bgp_asn" not in node:
            continue
        view = node_view(network, node)
        ident = _ident(host)
        if ident in idents:
            raise PlanError("hosts %s and %s give one BGP protocol name %s on the routers; rename one "
                            "of them" % (idents[ident], host, ident))
        idents[ident] = host
        for neighbor in view["neighbors"]:
            result[neighbor["name"]]["sessions"].append({
                "node": host, "ident": ident, "address": node["address"], "asn": node["bgp_asn"],
                "pod_cidr": node["pod_cidr"], "local": neighbor["address"]})
    return result


def _header(name, spec, comment):
    return (
        "%s podnet: BGP sessions of router %s (zone %s, ASN %d), generated from the plan.\n"
        "%s One session per node: from node X only X's pod subnet (exact length, at most one\n"
        "%s prefix). Regenerated by every playbooks/site.yml run; include it, do not edit it.\n"
        % (comment, name, spec["zone"], spec["asn"], comment, comment))


def bird_snippet(name, spec, network):
    """BIRD 2 neighbour blocks for router ``name`` (include them from its bird.conf)."""
    bgp = network.get("bgp") or {}
    node_len = network["node_prefix"]
    cluster = "%s{%d,%d}" % (network["cluster_cidr"], node_len, node_len)
    lines = [_header(name, spec, "#")]
    if bgp.get("bfd", True):
        interval = bgp.get("bfd_interval_ms", 100)
        lines.append("# Needs a BFD protocol in the router's config, e.g.\n"
                     "#   protocol bfd { interface \"*\" { min rx interval %d ms; min tx interval %d ms; "
                     "multiplier %d; }; }\n" % (interval, interval, bgp.get("bfd_multiplier", 3)))
    for s in spec["sessions"]:
        lines.append(
            "protocol bgp podnet_%(ident)s {\n"
            "  description \"podnet node %(node)s %(pod)s\";\n"
            "  local %(local)s as %(rasn)d;\n"
            "  neighbor %(address)s as %(asn)d;\n"
            "%(bfd)s%(gr)s"
            "  connect retry time 5;\n"
            "  error wait time 1, 30;\n"
            "  ipv4 {\n"
            "    import limit 1 action block;\n"
            "    import filter { if net = %(pod)s then accept; reject; };\n"
            "    export filter { if net ~ [ %(cluster)s ] && net != %(pod)s then accept; reject; };\n"
            "  };\n"
            "}\n" % {"ident": s["ident"], "node": s["node"], "pod": s["pod_cidr"], "local": s["local"],
                     "rasn": spec["asn"], "address": s["address"], "asn": s["asn"], "cluster": cluster,
                     "bfd": "  bfd on;\n" if bgp.get("bfd", True) else "",
                     "gr": "  graceful restart on;\n" if bgp.get("graceful_restart", True) else ""})
    return "\n".join(lines)


def frr_snippet(name, spec, network):
    """FRR 8.4 configuration for router ``name`` (vtysh -f, or pasted into frr.conf)."""
    bgp = network.get("bgp") or {}
    node_len = network["node_prefix"]
    out = [_header(name, spec, "!")]
    out.append("ip prefix-list podnet-pods seq 5 permit %s ge %d le %d\n" % (
        network["cluster_cidr"], node_len, node_len))
    out.append("route-map podnet-out permit 10\n match ip address prefix-list podnet-pods\n!\n")
    for s in spec["sessions"]:
        tag = "podnet-" + s["node"]
        out.append("ip prefix-list %s seq 5 permit %s\nroute-map %s-in permit 10\n match ip address "
                   "prefix-list %s\n!\n" % (tag, s["pod_cidr"], tag, tag))
    if bgp.get("bfd", True):
        interval = bgp.get("bfd_interval_ms", 100)
        out.append("bfd\n profile podnet\n  detect-multiplier %d\n  receive-interval %d\n  transmit-interval %d\n"
                   " exit\n!\n" % (bgp.get("bfd_multiplier", 3), interval, interval))
    out.append("router bgp %d\n" % spec["asn"])
    if bgp.get("graceful_restart", True):
        out.append(" bgp graceful-restart\n")
    for s in spec["sessions"]:
        out.append(" neighbor %s remote-as %d\n neighbor %s description podnet node %s\n" % (
            s["address"], s["asn"], s["address"], s["node"]))
        out.append(" neighbor %s timers connect 5\n" % s["address"])
        if bgp.get("bfd", True):
            out.append(" neighbor %s bfd profile podnet\n" % s["address"])
    out.append(" address-family ipv4 unicast\n")
    for s in spec["sessions"]:
        tag = "podnet-" + s["node"]
        out.append("  neighbor %s activate\n  neighbor %s route-map %s-in in\n  neighbor %s route-map "
                   "podnet-out out\n  neighbor %s maximum-prefix 1\n" % (
                       s["address"], s["address"], tag, s["address"], s["address"]))
    out.append(" exit-address-family\n!\n")
    return "".join(out)


def bgp_router_config(plan):
    """{router name: {"bird": BIRD 2 snippet, "frr": FRR 8.4 snippet, "sessions": [node, ...]}}
    (filter podnet_bgp_router_config)."""
    network = plan["network"]
    return {name: {"bird": bird_snippet(name, spec, network), "frr": frr_snippet(name, spec, network),
                   "sessions": [s["node"] for s in spec["sessions"]]}
            for name, spec in router_sessions(plan).items()}


def bgp_nodes(plan, hostvars):
    """The nodes the BGP concern visits in this run (filter podnet_bgp_nodes): every node of
    a BGP zone, and every other node that still reports BIRD from podnet (its local fact
    podnet_bgp): the concern stops and disables it there. Elsewhere none: no task."""
    network = plan.get("network") or {}
    backends = network.get("zone_backends") or {}
    result = []
    for host in sorted(plan.get("nodes") or {}):
        if backends.get(plan["nodes"][host]["zone"]) == "bgp":
            result.append(host)
            continue
        facts = (hostvars[host] if host in hostvars else {}).get("ansible_facts") or {}
        local = facts.get("ansible_local") or facts.get("local") or {}
        if isinstance(local, dict) and local.get("podnet_bgp"):
            result.append(host)
    return result
