# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validation and normalisation of the planner's two inputs.

Everything is checked here, before any allocation, and every error names the
culprit and the fix.  The result is a ``Network`` (parsed integers for the hot
loops plus the normalised JSON dict) and a list of ``Node`` records sorted by
hostname, so nothing downstream depends on dict order.
"""

import base64

from ansible_collections.podnet.network.plugins.module_utils.podnet_slice import WIREGUARD_OVERHEAD
# Re-exported: plan.py takes it from here.
from ansible_collections.podnet.network.plugins.module_utils.podnet_slice import (  # noqa: F401 pylint: disable=unused-import
    VXLAN_OVERHEAD, VXLAN_OVERHEAD_IPV6)

from .errors import PlanError
from .addresses import IPV4, IPV6, cidr, family_of, mask, overlaps, parse_address, parse_cidr
from .bgp import validate_bgp
from .names import cluster_range, device_name, hostname

BACKENDS = ("auto", "host-gw", "vxlan", "wireguard")
# Backends a zone may use for the pairs inside it (zone_backends): bgp routes them through
# the zone's top-of-rack routers (bgp.py, docs/bgp.md).
ZONE_BACKENDS = BACKENDS + ("bgp",)
# What ``auto`` uses between nodes of different zones that share no segment.
CROSS_ZONE_BACKENDS = ("vxlan", "wireguard")
# Where allocations live between runs: the ledger file, or the etcd registry.
REGISTRIES = ("ledger", "etcd")
# VXLAN_OVERHEAD(_IPV6) and WIREGUARD_OVERHEAD (what each adds to a packet) are
# module_utils/podnet_slice.py's: a node's slice subtracts them with the same constants.
DEFAULT_WIREGUARD_PORT = 51820
DEFAULT_WIREGUARD_DEVICE = "flannel-wg"
# IPv4's minimum datagram every host must accept: a pod MTU below it breaks pods.
MIN_POD_MTU = 576
DEFAULT_NODE_PREFIX = 24
DEFAULT_UNDERLAY_MTU = 1500
DEFAULT_VNI = 1
DEFAULT_PORT = 8472
MIN_MTU = 576
MAX_MTU = 9216
# A pod subnet needs a network address (VTEP), a gateway and at least one pod.
MAX_NODE_PREFIX = 30
# IPv6: Kubernetes' default node-cidr-mask-size-ipv6; the same four addresses at least.
DEFAULT_NODE_PREFIX_IPV6 = 64
MAX_NODE_PREFIX_IPV6 = 126
# An IPv6 cluster CIDR: ULA (fc00::/7) or global unicast (2000::/3), a /32 or longer.
IPV6_CLUSTER_RANGES = ((0xFC << 120, 7, "ULA"), (0x2 << 125, 3, "global unicast"))
MIN_CLUSTER_PREFIX_IPV6 = 32
# IPv6's minimum link MTU: a pod MTU below it breaks IPv6 pods.
MIN_POD_MTU_IPV6 = 1280

# IPv6 (dual stack, docs/inputs.md): the IPv6 pod network beside the IPv4 one, planned and
# recorded only while the host roles do not act on it (ipv6_planner_only must say so).
IPV6_KEYS = ("cluster_cidr_ipv6", "node_prefix_ipv6", "zone_prefix_ipv6", "service_cidr_ipv6",
             "ipv6_planner_only")
NETWORK_KEYS = frozenset((
    "cluster_cidr", "node_prefix", "zone_prefix", "zones", "zone_backends", "service_cidr",
    "reserved", "backend", "underlay_mtu", "vxlan", "released", "registry", "registry_members",
    "registry_member", "cross_zone_backend", "wireguard", "leased", "bgp",
) + IPV6_KEYS)
IPV6_NODE_KEYS = ("address_ipv6", "prefix_ipv6", "pod_cidr_ipv6")
RELEASED_KEYS = frozenset(("zone", "address", "prefix", "pod_cidr", "address_ipv6", "prefix_ipv6",
                           "pod_cidr_ipv6"))
LEASED_KEYS = frozenset(("address", "key", "holder", "pod_cidr_ipv6"))
# How the plan names a subnet that a live lease holds and no node of the plan does.
LEASED_OUTSIDE = "leased outside the inventory"

# Underlay addresses no peer can route or tunnel to: "this network", loopback,
# multicast and the reserved class E range (with the limited broadcast).
UNUSABLE_UNDERLAY = (
    (0x00000000, 8, "a 'this network' address (0.0.0.0/8)"),
    (0x7F000000, 8, "a loopback address (127.0.0.0/8)"),
    (0xE0000000, 4, "a multicast address (224.0.0.0/4)"),
    (0xF0000000, 4, "a reserved/broadcast address (240.0.0.0/4)"),
)
UNUSABLE_UNDERLAY_IPV6 = (
    (0, 128, "the unspecified address (::)"),
    (1, 128, "the loopback address (::1)"),
    (0xFFFF << 32, 96, "an IPv4-mapped address (::ffff:0:0/96)"),
    (0xFE80 << 112, 10, "a link-local address (fe80::/10)"),
    (0xFF << 120, 8, "a multicast address (ff00::/8)"),
)
VXLAN_KEYS = frozenset(("vni", "port", "device"))
WIREGUARD_KEYS = frozenset(("port", "device", "persistent_keepalive"))


def default_zone_prefix(cluster_prefix, node_prefix):
    """Stable default: split the bits between cluster and node prefix evenly.

    Depends only on the two numbers that may never change, so it never moves a
    zone block.  /16 cluster, /24 nodes -> /20 zones (16 zones x 16 nodes);
    /8 cluster -> /16 zones (256 zones x 256 nodes).  Once a ledger exists its
    zone_prefix wins over this rule.
    """
    return cluster_prefix + (node_prefix - cluster_prefix) // 2


def as_int(value, what, low, high, fix):
    """Integer in [low, high]; digit strings (INI inventory) are accepted."""
    if isinstance(value, bool):
        value = None
    elif isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not low <= value <= high:
        raise PlanError("%s: %r is not an integer between %d and %d; %s" % (what, value, low, high, fix))
    return value


class Network:
    """Parsed network settings (ints) plus the normalised dict (``as_dict``).

    The IPv4 pod network's numbers are its own attributes; ``ipv6`` is the IPv6 one (a
    ``Space`` with the same attribute names, so the allocator takes either) or None."""

    __slots__ = ("cluster_net", "cluster_len", "node_len", "zone_len", "service", "reserved",
                 "backend", "zone_backends", "underlay_mtu", "vni", "port", "device",
                 "zone_pins", "released", "registry", "registry_member", "cross_zone",
                 "wg_port", "wg_device", "wg_keepalive", "leased", "bgp", "ipv6", "reserved6")
    family = IPV4
    suffix = ""  # of the input keys that name this family's values (pod_cidr, node_prefix)

    def spaces(self):
        """The pod networks to allocate: the IPv4 one, and the IPv6 one when dual stack."""
        return (self,) if self.ipv6 is None else (self, self.ipv6)

    def as_dict(self, zones=None):
        result = {
            "cluster_cidr": cidr(self.cluster_net, self.cluster_len),
            "node_prefix": self.node_len,
            "zone_prefix": self.zone_len,
            "zones": {} if zones is None else zones,
            "zone_backends": dict(sorted(self.zone_backends.items())),
            "service_cidr": None if self.service is None else cidr(*self.service),
            "reserved": [cidr(n, p) for n, p in self.reserved] + [
                IPV6.cidr(n, p) for n, p in self.reserved6],
            "backend": self.backend,
            "underlay_mtu": self.underlay_mtu,
            "vxlan": {"vni": self.vni, "port": self.port, "device": self.device},
            "cross_zone_backend": self.cross_zone,
            "wireguard": {"port": self.wg_port, "device": self.wg_device,
                          "persistent_keepalive": self.wg_keepalive},
            "released": {host: dict(spec) for host, spec in sorted(self.released.items())},
            "registry": self.registry,
            "registry_member": self.registry_member,
        }
        if self.ipv6 is not None:
            result.update(self.ipv6.as_dict())
        # Only where some zone uses the bgp backend (docs/bgp.md).
        if "bgp" in self.zone_backends.values():
            result["bgp"] = self.bgp.as_dict()
        # Only in etcd mode, and only while some lease podnet did not plan is live.
        if self.leased:
            result["leased"] = {subnet: dict(spec) for subnet, spec in sorted(self.leased.items())}
        return result


class Space:
    """The IPv6 pod network: the attributes the allocator reads on a ``Network``."""

    __slots__ = ("cluster_net", "cluster_len", "node_len", "zone_len", "zone_pins", "service", "planner_only")
    family = IPV6
    suffix = "_ipv6"

    def as_dict(self):
        return {
            "cluster_cidr_ipv6": IPV6.cidr(self.cluster_net, self.cluster_len),
            "ipv6_planner_only": self.planner_only,
            "node_prefix_ipv6": self.node_len,
            "service_cidr_ipv6": None if self.service is None else IPV6.cidr(*self.service),
            "zone_prefix_ipv6": self.zone_len,
        }


class Node:
    """One validated node; ``pin`` is the integer network of its pod_cidr or None.

    ``address`` (IPv4 underlay) is None for a node with only an IPv6 underlay (a
    ``Node6``: the nodes of a dual-stack network)."""

    __slots__ = ("name", "zone", "address", "prefix", "underlay", "pin", "wg_key")

    def __init__(self, name, zone, address, prefix, pin, wg_key=None):
        self.wg_key = wg_key
        self.name = name
        self.zone = zone
        self.address = address
        self.prefix = prefix
        self.underlay = None if prefix is None else address & mask(prefix)
        self.pin = pin


class Node6(Node):
    """A node of a dual-stack network: also its IPv6 underlay address, prefix and network,
    and the integer network of its pod_cidr_ipv6 (pin6) or None. (IPv4-only networks keep
    the plain ``Node``: the 10,000-node plan makes one per node.)"""

    __slots__ = ("address6", "prefix6", "underlay6", "pin6")

    def __init__(self, name, zone, address, prefix, pin, wg_key=None, address6=None, prefix6=None,
                 pin6=None):
        Node.__init__(self, name, zone, address, prefix, pin, wg_key)
        self.address6 = address6
        self.prefix6 = prefix6
        self.underlay6 = None if prefix6 is None else address6 & IPV6.mask(prefix6)
        self.pin6 = pin6


def _backend(value, what, allowed=BACKENDS):
    if value == "bgp" and allowed is BACKENDS:
        raise PlanError("%s: bgp is chosen per zone (its racks' routers carry the pairs inside it); "
                        "set network.zone_backends {<zone>: bgp} (podnet_plan_zone_backends) and keep "
                        "backend auto, vxlan or wireguard for the pairs between zones" % what)
    if value not in allowed:
        raise PlanError("%s: unknown backend %r; use one of %s" % (what, value, ", ".join(allowed)))
    return value


def _zone_name(value, what):
    if not isinstance(value, str) or not value.strip():
        raise PlanError("%s: missing zone; give every node a non-empty 'zone' string (its "
                        "datacenter or L2 segment name)" % what)
    return value


def _released(value, net):
    """{host: {zone, address, prefix, pod_cidr}} of nodes that left the inventory but whose
    subnet is still held (released-pending, from the ledger)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PlanError("network.released: expected {host: {zone, pod_cidr, ...}} (from the "
                        "ledger), got %r" % (value,))
    result = {}
    owner, owner6 = {}, {}
    for host in sorted(value):
        spec = value[host]
        what = "network.released[%s]" % host
        if not isinstance(spec, dict) or sorted(set(spec) - RELEASED_KEYS):
            raise PlanError("%s: expected a dict with zone, pod_cidr, address, prefix, got %r; "
                            "fix the node's entry in the ledger" % (what, spec))
        zone = _zone_name(spec.get("zone"), what)
        pnet, plen = parse_cidr(spec.get("pod_cidr"), what + ".pod_cidr")
        if plen != net.node_len or pnet & mask(net.cluster_len) != net.cluster_net:
            raise PlanError("%s.pod_cidr: %s is not a /%d subnet of the cluster CIDR %s; the ledger "
                            "belongs to another network, restore it" % (
                                what, spec.get("pod_cidr"), net.node_len,
                                cidr(net.cluster_net, net.cluster_len)))
        if pnet in owner:
            raise PlanError("%s.pod_cidr: %s is also held by released node %s; fix the ledger" % (
                what, spec.get("pod_cidr"), owner[pnet]))
        owner[pnet] = host
        result[host] = {"zone": zone, "address": spec.get("address"), "prefix": spec.get("prefix"),
                        "pod_cidr": cidr(pnet, plen)}
        if spec.get("pod_cidr_ipv6") is not None:
            result[host].update(_released_ipv6(spec, what, net, owner6))
            owner6[fast6(result[host]["pod_cidr_ipv6"])] = host
    return result


def fast6(text):
    """The integer network of an IPv6 CIDR the planner wrote."""
    return IPV6.fast_cidr(text)[0]


def _released_ipv6(spec, what, net, owner6):
    """The IPv6 part of a released-pending node's entry (the ledger recorded it)."""
    six = net.ipv6
    if six is None:
        raise PlanError("%s.pod_cidr_ipv6: %s, but the network has no cluster_cidr_ipv6; the ledger "
                        "holds IPv6 prefixes, set podnet_plan_cluster_cidr_ipv6 to its "
                        "cluster_cidr_ipv6" % (what, spec.get("pod_cidr_ipv6")))
    pnet, plen = IPV6.parse_cidr(spec.get("pod_cidr_ipv6"), what + ".pod_cidr_ipv6")
    if plen != six.node_len or pnet & IPV6.mask(six.cluster_len) != six.cluster_net:
        raise PlanError("%s.pod_cidr_ipv6: %s is not a /%d subnet of the IPv6 cluster CIDR %s; the "
                        "ledger belongs to another network, restore it" % (
                            what, spec.get("pod_cidr_ipv6"), six.node_len,
                            IPV6.cidr(six.cluster_net, six.cluster_len)))
    if pnet in owner6:
        raise PlanError("%s.pod_cidr_ipv6: %s is also held by released node %s; fix the ledger" % (
            what, spec.get("pod_cidr_ipv6"), owner6[pnet]))
    return {"address_ipv6": spec.get("address_ipv6"), "prefix_ipv6": spec.get("prefix_ipv6"),
            "pod_cidr_ipv6": IPV6.cidr(pnet, plen)}


def _leased(value, net):
    """{pod_cidr: {address, key}} of the subnets a live client (a flanneld) leased with a TTL,
    re-read from the etcd registry on every run (``registry_hold``), never from the ledger."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PlanError("network.leased: expected {pod_cidr: {address, key}} (the live leases of the "
                        "etcd registry, from podnet_registry_hold), got %r" % (value,))
    result = {}
    for subnet in sorted(value):
        spec = value[subnet]
        spec = {"address": spec} if isinstance(spec, str) else spec
        what = "network.leased[%s]" % subnet
        if not isinstance(spec, dict) or sorted(set(spec) - LEASED_KEYS):
            raise PlanError("%s: expected {address, key}, got %r" % (what, spec))
        key = spec.get("key") or "the lease of %s" % subnet
        address = spec.get("address")
        # a lease of a node with only an IPv6 underlay is named by its PublicIPv6
        parse_address(address, "%s: the PublicIP of etcd key %s" % (what, key), family_of(address))
        pnet, plen = parse_cidr(subnet, what)
        if plen != net.node_len or pnet & mask(net.cluster_len) != net.cluster_net:
            raise PlanError("%s: etcd key %s (PublicIP %s) leases a subnet that is not a /%d of the "
                            "cluster CIDR %s: a flanneld of another network config holds it. Stop the "
                            "flanneld at %s and delete the key (etcdctl del %s), then re-run" % (
                                what, key, address, net.node_len,
                                cidr(net.cluster_net, net.cluster_len), address, key))
        result[cidr(pnet, plen)] = {"address": address, "key": spec.get("key"),
                                    "holder": LEASED_OUTSIDE}
        if spec.get("pod_cidr_ipv6") and net.ipv6 is not None:
            result[cidr(pnet, plen)]["pod_cidr_ipv6"] = _leased_ipv6(spec["pod_cidr_ipv6"], what, key, net.ipv6)
    return result


def _leased_ipv6(text, what, key, six):
    """The IPv6 prefix of a live dual-stack lease (flannel's key of both subnets): held too."""
    pnet, plen = IPV6.parse_cidr(text, "%s.pod_cidr_ipv6" % what)
    if plen != six.node_len or pnet & IPV6.mask(six.cluster_len) != six.cluster_net:
        raise PlanError("%s: etcd key %s leases an IPv6 prefix %s that is not a /%d of the IPv6 "
                        "cluster CIDR %s: a flanneld of another network config holds it. Stop that "
                        "flanneld and delete the key (etcdctl del %s), then re-run" % (
                            what, key, text, six.node_len, IPV6.cidr(six.cluster_net, six.cluster_len), key))
    return IPV6.cidr(pnet, plen)


def validate_network(network):
    """Check and normalise ``network``; returns a ``Network``."""
    if not isinstance(network, dict):
        raise PlanError("network: expected a dict with at least 'cluster_cidr', got %r" % (network,))
    unknown = sorted(set(network) - NETWORK_KEYS)
    if unknown:
        raise PlanError("network: unknown key(s) %s; allowed keys are %s" % (
            ", ".join(map(repr, unknown)), ", ".join(sorted(NETWORK_KEYS))))
    # An empty string (what "{{ unset_var | default('') }}" renders) means "unset".
    network = {key: None if value == "" else value for key, value in network.items()}
    net = Network()
    if network.get("cluster_cidr") is None:
        raise PlanError("network.cluster_cidr: missing; give the pod network, e.g. '10.244.0.0/16'")
    net.cluster_net, net.cluster_len = parse_cidr(
        network["cluster_cidr"], "network.cluster_cidr",
        elsewhere="cluster_cidr is the IPv4 pod network (podnet needs one); give an IPv6 one as "
        "cluster_cidr_ipv6 (podnet_plan_cluster_cidr_ipv6), beside an IPv4 cluster_cidr such as "
        "'10.244.0.0/16'")
    cluster_range(net.cluster_net, net.cluster_len, network["cluster_cidr"])
    _prefixes(network, net, network["cluster_cidr"])

    service = network.get("service_cidr")
    net.service = None
    if service is not None:
        net.service = parse_cidr(service, "network.service_cidr", elsewhere="give an IPv6 "
                                 "service range as service_cidr_ipv6 (podnet_plan_service_cidr_ipv6)")
        if overlaps(net.cluster_net, net.cluster_len, *net.service):
            raise PlanError("network.service_cidr: %s overlaps the cluster CIDR %s; choose "
                            "disjoint ranges (e.g. 10.96.0.0/12 next to 10.244.0.0/16)" % (
                                service, network["cluster_cidr"]))

    reserved = network.get("reserved") or []
    if isinstance(reserved, str) or not isinstance(reserved, (list, tuple)):
        raise PlanError("network.reserved: expected a list of CIDRs, got %r" % (reserved,))
    parsed, parsed6 = set(), set()
    _ipv6(network, net)
    for item in reserved:
        if family_of(item) is IPV6 and net.ipv6 is not None:
            rnet = IPV6.parse_cidr(item, "network.reserved")
            if IPV6.overlaps(net.ipv6.cluster_net, net.ipv6.cluster_len, *rnet):
                raise PlanError("network.reserved: %s overlaps the IPv6 cluster CIDR %s; pods would "
                                "shadow that range, choose a cluster CIDR disjoint from it" % (
                                    item, network["cluster_cidr_ipv6"]))
            parsed6.add(rnet)
            continue
        rnet = parse_cidr(item, "network.reserved")
        if overlaps(net.cluster_net, net.cluster_len, *rnet):
            raise PlanError("network.reserved: %s overlaps the cluster CIDR %s; pods would shadow "
                            "that range, choose a cluster CIDR disjoint from it" % (
                                item, network["cluster_cidr"]))
        parsed.add(rnet)
    net.reserved = sorted(parsed)
    net.reserved6 = sorted(parsed6)

    net.backend = _backend(network.get("backend") or "auto", "network.backend")
    zone_backends = network.get("zone_backends") or {}
    if not isinstance(zone_backends, dict):
        raise PlanError("network.zone_backends: expected {zone: backend}, got %r" % (zone_backends,))
    net.zone_backends = {}
    for zone, backend in zone_backends.items():
        _zone_name(zone, "network.zone_backends")
        net.zone_backends[zone] = _backend(backend, "network.zone_backends[%s]" % zone, ZONE_BACKENDS)

    mtu = network.get("underlay_mtu")
    net.underlay_mtu = DEFAULT_UNDERLAY_MTU if mtu is None else as_int(
        mtu, "network.underlay_mtu", MIN_MTU, MAX_MTU, "give the underlay interface MTU, e.g. 1500")

    vxlan = network.get("vxlan") or {}
    if not isinstance(vxlan, dict):
        raise PlanError("network.vxlan: expected a dict with vni/port/device, got %r" % (vxlan,))
    vxlan = {key: None if value == "" else value for key, value in vxlan.items()}
    unknown = sorted(set(vxlan) - VXLAN_KEYS)
    if unknown:
        raise PlanError("network.vxlan: unknown key(s) %s; allowed keys are device, port, vni" % (
            ", ".join(map(repr, unknown))))
    vni = vxlan.get("vni")
    net.vni = DEFAULT_VNI if vni is None else as_int(
        vni, "network.vxlan.vni", 1, 2 ** 24 - 1, "VXLAN network identifiers are 24-bit (default 1)")
    port = vxlan.get("port")
    net.port = DEFAULT_PORT if port is None else as_int(
        port, "network.vxlan.port", 1, 65535, "give a UDP port (flannel's default is 8472)")
    device = vxlan.get("device")
    net.device = device_name("flannel.%d" % net.vni if device is None else device, "network.vxlan.device",
                             "set podnet_plan_vxlan_device to a name such as flannel.1 (default "
                             "flannel.<vni>)")

    _wireguard(network, net)
    net.bgp = validate_bgp(network, net)

    net.zone_pins = {}
    zones = network.get("zones") or {}
    if not isinstance(zones, dict):
        raise PlanError("network.zones: expected {zone: {'block': cidr}} (from the ledger), got %r" % (zones,))
    for space in net.spaces():
        space.zone_pins = {}
    block_owner = {}
    for zone in sorted(zones):
        _zone_name(zone, "network.zones")
        spec = zones[zone]
        _zone_pin(net, zone, spec.get("block") if isinstance(spec, dict) else spec, block_owner)
        block6 = spec.get("block_ipv6") if isinstance(spec, dict) else None
        if block6 is not None:
            if net.ipv6 is None:
                raise PlanError("network.zones[%s].block_ipv6: %s, but the network has no "
                                "cluster_cidr_ipv6; set podnet_plan_cluster_cidr_ipv6 to the one the "
                                "ledger was written with" % (zone, block6))
            _zone_pin(net.ipv6, zone, block6, block_owner)
    net.released = _released(network.get("released"), net)
    net.leased = _leased(network.get("leased"), net)
    net.registry, net.registry_member = _registry(network)
    return net


# Per family: the default and the longest node prefix, and what its errors suggest.
PREFIX_RULES = {
    IPV4: (DEFAULT_NODE_PREFIX, MAX_NODE_PREFIX, "the pod subnet size per host, e.g. 24",
           "cluster /16, nodes /24"),
    IPV6: (DEFAULT_NODE_PREFIX_IPV6, MAX_NODE_PREFIX_IPV6,
           "the IPv6 pod prefix per host, e.g. 64 (Kubernetes' node-cidr-mask-size-ipv6)",
           "cluster /56, nodes /64"),
}


def _prefixes(network, space, text):
    """``space.node_len`` and ``space.zone_len`` (the IPv4 network or the IPv6 one) from the
    network's node_prefix and zone_prefix (``_ipv6`` keys for IPv6); ``text``: its cluster CIDR."""
    sfx, fam = space.suffix, space.family
    family_text = "IPv6 " if sfx else ""
    default, longest, fix, example = PREFIX_RULES[fam]
    key = "network.node_prefix" + sfx
    node_len = network.get("node_prefix" + sfx)
    space.node_len = default if node_len is None else as_int(node_len, key, 1, fam.bits, "give " + fix)
    if space.node_len <= space.cluster_len:
        raise PlanError("%s: /%d is not longer than the %scluster CIDR %s; the node prefix must be "
                        "longer (e.g. %s)" % (key, space.node_len, family_text, text, example))
    if space.node_len > longest:
        raise PlanError("%s: /%d leaves no room for a gateway and pods; use /%d or shorter" % (
            key, space.node_len, longest))
    key = "network.zone_prefix" + sfx
    zone_len = network.get("zone_prefix" + sfx)
    if zone_len is None:
        space.zone_len = default_zone_prefix(space.cluster_len, space.node_len)
    else:
        space.zone_len = as_int(zone_len, key, 0, fam.bits, "give the %szone block size, between "
                                "the cluster and node prefixes" % family_text)
        if not space.cluster_len <= space.zone_len <= space.node_len:
            raise PlanError("%s: /%d is not between the %scluster prefix /%d and the node prefix "
                            "/%d; choose a value in that range" % (
                                key, space.zone_len, family_text, space.cluster_len, space.node_len))


def _zone_pin(space, zone, block, block_owner):
    """Pin ``zone``'s block of ``space`` (the IPv4 network or the IPv6 one)."""
    fam, key = space.family, "block" + space.suffix
    what = "network.zones[%s].%s" % (zone, key)
    bnet, blen = fam.parse_cidr(block, what)
    if blen != space.zone_len:
        raise PlanError("%s: %s is a /%d but zone blocks are /%d (zone_prefix%s); keep the "
                        "zone_prefix%s the ledger was written with" % (
                            what, block, blen, space.zone_len, space.suffix, space.suffix))
    if not fam.overlaps(bnet, blen, space.cluster_net, space.cluster_len) or blen < space.cluster_len:
        raise PlanError("%s: %s lies outside the %scluster CIDR %s; the ledger belongs to "
                        "another cluster CIDR, restore the original cluster_cidr%s" % (
                            what, block, "IPv6 " if space.suffix else "",
                            fam.cidr(space.cluster_net, space.cluster_len), space.suffix))
    if (fam, bnet) in block_owner:
        raise PlanError("%s: block %s is also pinned for zone %r; each zone needs its own "
                        "block, fix the ledger" % (what, block, block_owner[(fam, bnet)]))
    block_owner[(fam, bnet)] = zone
    space.zone_pins[zone] = bnet


def _ipv6(network, net):
    """The IPv6 pod network (``net.ipv6``), or None when no cluster_cidr_ipv6 is given.

    ``ipv6_planner_only`` true: the hosts stay IPv4-only (the plan and the ledger hold the
    IPv6 prefixes, ready for when they do). Otherwise the hosts carry IPv6 pods, which
    podnet builds for host-gw pairs only: ``segments.check_ipv6_pairs`` refuses the rest."""
    net.ipv6 = None
    text = network.get("cluster_cidr_ipv6")
    if text is None:
        for key in ("zone_prefix_ipv6", "service_cidr_ipv6"):
            if network.get(key) is not None:
                raise PlanError("network.%s: %r, but no cluster_cidr_ipv6 is given; set "
                                "podnet_plan_cluster_cidr_ipv6 (dual stack) or leave %s unset" % (
                                    key, network[key], key))
        return
    six = net.ipv6 = Space()
    six.planner_only = network.get("ipv6_planner_only") is True
    six.cluster_net, six.cluster_len = IPV6.parse_cidr(
        text, "network.cluster_cidr_ipv6", "cluster_cidr_ipv6 is the IPv6 pod network; give the IPv4 "
        "one as cluster_cidr")
    if not any(six.cluster_len >= blen and six.cluster_net & IPV6.mask(blen) == base
               for base, blen, dummy in IPV6_CLUSTER_RANGES):
        raise PlanError("network.cluster_cidr_ipv6: %s is neither a ULA (fc00::/7) nor a global "
                        "unicast (2000::/3) prefix; give a ULA such as 'fd00:10:244::/56' or a "
                        "global prefix routed to you" % text)
    if six.cluster_len < MIN_CLUSTER_PREFIX_IPV6:
        raise PlanError("network.cluster_cidr_ipv6: %s is a /%d; an IPv6 cluster CIDR must be a /%d "
                        "or longer (every node forwards to and from the whole cluster CIDR); give "
                        "e.g. 'fd00:10:244::/56'" % (text, six.cluster_len, MIN_CLUSTER_PREFIX_IPV6))
    _prefixes(network, six, text)
    service = network.get("service_cidr_ipv6")
    six.service = None
    if service is not None:
        six.service = IPV6.parse_cidr(service, "network.service_cidr_ipv6",
                                      "give the IPv4 service range as service_cidr")
        if IPV6.overlaps(six.cluster_net, six.cluster_len, *six.service):
            raise PlanError("network.service_cidr_ipv6: %s overlaps the IPv6 cluster CIDR %s; "
                            "choose disjoint ranges (e.g. fd00:10:96::/112 next to "
                            "fd00:10:244::/56)" % (service, text))


def uses_wireguard(net):
    """Whether some pair may be carried by wireguard under these settings."""
    return backends_use_wireguard(net.backend, net.zone_backends, net.cross_zone)


def backends_use_wireguard(backend, zone_backends, cross_zone):
    """The rule of uses_wireguard on plain values (a plan's normalised network gives them)."""
    return (backend == "wireguard" or "wireguard" in (zone_backends or {}).values()
            or (backend == "auto" and cross_zone == "wireguard"))


def _wireguard(network, net):
    """cross_zone_backend and the wireguard settings (flannel's layout by default)."""
    cross = network.get("cross_zone_backend") or "vxlan"
    if cross not in CROSS_ZONE_BACKENDS:
        raise PlanError("network.cross_zone_backend: unknown backend %r; use vxlan or wireguard "
                        "(what backend auto uses between zones; role podnet_plan: "
                        "podnet_plan_cross_zone_backend)" % (cross,))
    if cross == "wireguard" and net.backend in ("host-gw", "vxlan"):
        raise PlanError("network.cross_zone_backend: wireguard, but network.backend is %s, which "
                        "never uses it: cross-zone traffic would stay unencrypted. Use backend "
                        "auto (host-gw inside a segment, wireguard between zones) or backend "
                        "wireguard" % net.backend)
    net.cross_zone = cross
    wg = network.get("wireguard") or {}
    if not isinstance(wg, dict):
        raise PlanError("network.wireguard: expected a dict with port/device/persistent_keepalive, "
                        "got %r" % (wg,))
    wg = {key: None if value == "" else value for key, value in wg.items()}
    unknown = sorted(set(wg) - WIREGUARD_KEYS)
    if unknown:
        raise PlanError("network.wireguard: unknown key(s) %s; allowed keys are device, "
                        "persistent_keepalive, port" % ", ".join(map(repr, unknown)))
    port = wg.get("port")
    net.wg_port = DEFAULT_WIREGUARD_PORT if port is None else as_int(
        port, "network.wireguard.port", 1, 65535,
        "give a UDP port (flannel's default is %d; role podnet_plan: podnet_plan_wireguard_port)"
        % DEFAULT_WIREGUARD_PORT)
    if net.wg_port == net.port:
        raise PlanError("network.wireguard.port: %d is also the VXLAN port (network.vxlan.port); "
                        "both listen on every node, so give wireguard its own UDP port "
                        "(podnet_plan_wireguard_port, default %d)" % (net.wg_port, DEFAULT_WIREGUARD_PORT))
    device = wg.get("device")
    net.wg_device = device_name(DEFAULT_WIREGUARD_DEVICE if device is None else device,
                                "network.wireguard.device",
                                "set podnet_plan_wireguard_device to a name such as %s (the default)"
                                % DEFAULT_WIREGUARD_DEVICE)
    if net.wg_device == net.device:
        raise PlanError("network.wireguard.device: %r is also the VXLAN device's name; give the "
                        "wireguard device its own name (default %r)" % (
                            net.wg_device, DEFAULT_WIREGUARD_DEVICE))
    keepalive = wg.get("persistent_keepalive")
    net.wg_keepalive = 0 if keepalive is None else as_int(
        keepalive, "network.wireguard.persistent_keepalive", 0, 65535,
        "give seconds between keepalives (0, the default, sends none; 25 keeps NAT mappings open)")
    if uses_wireguard(net) and net.underlay_mtu - WIREGUARD_OVERHEAD < MIN_POD_MTU:
        raise PlanError("network.underlay_mtu: %d leaves %d bytes for pods over wireguard (%d bytes "
                        "of tunnel overhead), below the IPv4 minimum of %d; raise underlay_mtu to "
                        "at least %d, or do not use the wireguard backend" % (
                            net.underlay_mtu, net.underlay_mtu - WIREGUARD_OVERHEAD,
                            WIREGUARD_OVERHEAD, MIN_POD_MTU, MIN_POD_MTU + WIREGUARD_OVERHEAD))


def wireguard_key(value, what):
    """A WireGuard public key (base64 of 32 bytes), or None when not known (yet)."""
    if value is None or value == "":
        return None
    try:
        raw = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
    except (ValueError, TypeError):
        raw = b""
    if len(raw) != 32 or len(value) != 44:
        raise PlanError("%s: %r is not a WireGuard public key (44 characters of base64, as "
                        "`wg pubkey` prints); remove /etc/ansible/facts.d/podnet_wireguard.fact "
                        "on that host so it reports its key again, or fix the ledger entry" % (
                            what, value))
    return value


def _registry(network):
    """(registry, the etcd member to read and write it through, or None in ledger mode).

    The member is the first of ``registry_members`` (the inventory's etcd hosts), or
    ``registry_member`` as a plan's normalised network gives it back.
    """
    registry = network.get("registry") or "ledger"
    if registry not in REGISTRIES:
        raise PlanError("network.registry: unknown registry %r; use ledger (the ledger file) or "
                        "etcd (the etcd registry)" % (registry,))
    members = network.get("registry_members") or []
    if isinstance(members, str) or not isinstance(members, (list, tuple)) or not all(
            isinstance(member, str) and member.strip() for member in members):
        raise PlanError("network.registry_members: expected a list of inventory hostnames (the "
                        "etcd members), got %r" % (members,))
    for name in members:
        hostname(name, "network.registry_members (the etcd members of group podnet_etcd)")
    member = network.get("registry_member")
    if member is not None and (not isinstance(member, str) or (members and member not in members)):
        raise PlanError("network.registry_member: %r is not one of the etcd members %s; leave it "
                        "unset (the first member is used)" % (member, ", ".join(members)))
    if registry == "ledger":
        return registry, None
    member = member or (members[0] if members else None)
    if not member:
        raise PlanError("network.registry: etcd, but no etcd member is known; give the etcd "
                        "members' inventory hostnames in network.registry_members (role "
                        "podnet_plan: podnet_plan_registry_members, e.g. the hosts of group "
                        "podnet_etcd), or use registry ledger")
    return registry, member


def validate_nodes(nodes, net, partial=False):
    """Check ``nodes`` against ``net``; returns Node records sorted by hostname.

    With ``partial`` a node may lack its address (not known before the hosts are
    asked): everything else about it is still checked. A node may give an IPv4
    underlay ``address``, an IPv6 one (``address_ipv6``, dual stack only) or both.
    """
    if not isinstance(nodes, dict):
        raise PlanError("nodes: expected {hostname: {'zone', 'address', ...}}, got %r" % (nodes,))
    result = []
    seen = ({}, {}, {}, {})  # by IPv4 address, IPv6 address, IPv4 pin, IPv6 pin
    held = {}
    for host, spec in net.released.items():
        held[(IPV4, parse_cidr(spec["pod_cidr"], "released")[0])] = host
        if spec.get("pod_cidr_ipv6") is not None:
            held[(IPV6, fast6(spec["pod_cidr_ipv6"]))] = host
    six = net.ipv6
    underlay = _underlay_check(net)
    underlay6 = None if six is None else _underlay_check(six)
    for name in sorted(nodes):
        spec = nodes[name]
        hostname(name, "inventory host")
        if not isinstance(spec, dict):
            raise PlanError("host %s: expected a dict with 'zone' and 'address', got %r" % (name, spec))
        zone = _zone_name(spec.get("zone"), "host %s" % name)
        if name in net.released:
            raise PlanError("host %s: it is both a node and a released node of the ledger; a "
                            "returning node takes its entry back, fix the ledger" % name)
        if six is None:
            for key in () if spec.keys().isdisjoint(IPV6_NODE_KEYS) else IPV6_NODE_KEYS:
                if spec.get(key) is not None and spec.get(key) != "":
                    raise PlanError("host %s %s: %r, but the network has no cluster_cidr_ipv6; "
                                    "IPv6 is planned only for a dual-stack cluster: set "
                                    "podnet_plan_cluster_cidr_ipv6 (docs/inputs.md) or remove "
                                    "podnet_%s from the host" % (
                                        name, key, spec[key], key if key != "prefix_ipv6"
                                        else "underlay_prefix_ipv6"))
            address6 = prefix6 = None
        elif spec.get("address_ipv6") is None:
            address6 = prefix6 = None
        else:
            address6, prefix6 = underlay6(spec, name, seen[1])
        if spec.get("address") is None and (partial or address6 is not None):
            # Not known before the hosts are asked, or a node with only an IPv6 underlay.
            prefix = spec.get("prefix")
            if prefix is not None:
                as_int(prefix, "host %s prefix" % name, 0, 32,
                       "give the underlay prefix length, e.g. 24, or leave it out")
            address = prefix = None
        else:
            address, prefix = underlay(spec, name, seen[0])
        pin = _pin(spec, name, net, seen[2], held)
        key = wireguard_key(spec.get("wireguard_key"), "host %s wireguard_key" % name)
        if six is None:
            result.append(Node(name, zone, address, prefix, pin, key))
        else:
            result.append(Node6(name, zone, address, prefix, pin, key, address6, prefix6,
                                _pin(spec, name, six, seen[3], held)))
    return result


def _underlay_check(space):
    """The check of a node's underlay in ``space``'s family: a function (spec, name,
    by_address) -> (address int, prefix or None). Built once per ``validate_nodes`` call
    with the family's constants bound (the 10,000-node plan calls it per node)."""
    fam, suffix = space.family, space.suffix
    akey, pkey = "address" + suffix, "prefix" + suffix
    pton, fmask = fam.pton, fam.mask
    cnet, clen = space.cluster_net, space.cluster_len
    cmask = fmask(clen)
    unusable = [(net, fmask(plen), kind)
                for net, plen, kind in (UNUSABLE_UNDERLAY if fam is IPV4 else UNUSABLE_UNDERLAY_IPV6)]
    family_text = "IPv6 " if suffix else ""
    elsewhere = "give it as the host's %s (podnet_%s)" % ((akey[:-5],) * 2 if suffix else (akey + "_ipv6",) * 2)

    def check(spec, name, by_address):
        text = spec.get(akey)
        address = pton(text) if isinstance(text, str) else None
        if address is None:  # netaddr decides, and names the culprit
            address = fam.parse_address(text, "host %s %s" % (name, akey), elsewhere)
        for net, netmask, kind in unusable:
            if address & netmask == net:
                raise PlanError("host %s %s: %s is %s, which no peer can route or tunnel to; set "
                                "the host's real underlay address (podnet_%s)" % (
                                    name, akey, text, kind, akey))
        if address in by_address:
            raise PlanError("host %s: %s %s is also the %s of host %s; every node needs its own "
                            "underlay address" % (name, akey, text, akey, by_address[address]))
        by_address[address] = name
        prefix = spec.get(pkey)
        if prefix is not None:
            prefix = as_int(prefix, "host %s %s" % (name, pkey), 0, fam.bits,
                            "give the %sunderlay prefix length, e.g. %d, or leave it out" % (
                                family_text, 64 if suffix else 24))
            if (address ^ cnet) & fmask(min(prefix, clen)) == 0:
                raise PlanError("host %s: its %sunderlay network %s overlaps the %scluster CIDR %s; "
                                "choose a cluster CIDR disjoint from the hosts' networks" % (
                                    name, family_text, fam.cidr(address & fmask(prefix), prefix),
                                    family_text, fam.cidr(cnet, clen)))
        elif address & cmask == cnet:
            raise PlanError("host %s: its %saddress %s lies inside the %scluster CIDR %s; choose a "
                            "cluster CIDR disjoint from the hosts' networks" % (
                                name, family_text, text, family_text, fam.cidr(cnet, clen)))
        return address, prefix
    return check


def _pin(spec, name, space, by_pin, held):
    """The integer network of a node's pod_cidr (pin or held subnet) in ``space``'s family
    (pod_cidr, or pod_cidr_ipv6 of the IPv6 network), or None."""
    fam, suffix = space.family, space.suffix
    pin = spec.get("pod_cidr" + suffix)
    if pin is None or pin == "":
        return None
    cnet, clen = space.cluster_net, space.cluster_len
    nlen = space.node_len
    what = "host %s pod_cidr%s" % (name, suffix)
    pnet, plen = fam.parse_cidr(pin, what)
    if plen != nlen:
        raise PlanError("%s: %s is a /%d but node_prefix%s is /%d; pin a /%d subnet of %s "
                        "or remove the pin" % (what, pin, plen, suffix, nlen, nlen, fam.cidr(cnet, clen)))
    if pnet & fam.mask(clen) != cnet:
        raise PlanError("%s: %s lies outside the %scluster CIDR %s; pin a subnet inside it "
                        "or remove the pin" % (what, pin, "IPv6 " if suffix else "", fam.cidr(cnet, clen)))
    if pnet in by_pin:
        raise PlanError("%s: %s is also pinned by host %s; two hosts can never share a pod "
                        "subnet, remove one pin (or reset that host)" % (what, pin, by_pin[pnet]))
    holder = held.get((fam, pnet))
    if holder is not None:
        raise PlanError("%s: %s is still held by host %s, which left the inventory but has not "
                        "been reset (released-pending); reset it (playbooks/reset.yml while it is "
                        "still listed) or, if it is gone for good, forget it with "
                        "-e podnet_forget=%s; or pin another subnet" % (what, pin, holder, holder))
    by_pin[pnet] = name
    return pnet
