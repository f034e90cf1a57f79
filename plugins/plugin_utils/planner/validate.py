# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validation and normalisation of the planner's two inputs.

Everything is checked here, before any allocation, and every error names the
culprit and the fix.  The result is a ``Network`` (parsed integers for the hot
loops plus the normalised JSON dict) and a list of ``Node`` records sorted by
hostname, so nothing downstream depends on dict order.
"""

import base64

from .errors import PlanError
from .ipv4 import cidr, mask, overlaps, parse_address, parse_cidr
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
VXLAN_OVERHEAD = 50
# flannel's wireguard backend: outer IPv4 20 + UDP 8 + type 4 + key index 4 + nonce 8 +
# authentication tag 16, rounded up as flannel does (its `overhead` constant).
WIREGUARD_OVERHEAD = 80
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

NETWORK_KEYS = frozenset((
    "cluster_cidr", "node_prefix", "zone_prefix", "zones", "zone_backends", "service_cidr",
    "reserved", "backend", "underlay_mtu", "vxlan", "released", "registry", "registry_members",
    "registry_member", "cross_zone_backend", "wireguard", "leased", "bgp",
))
RELEASED_KEYS = frozenset(("zone", "address", "prefix", "pod_cidr"))
LEASED_KEYS = frozenset(("address", "key", "holder"))
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
    """Parsed network settings (ints) plus the normalised dict (``as_dict``)."""

    __slots__ = ("cluster_net", "cluster_len", "node_len", "zone_len", "service", "reserved",
                 "backend", "zone_backends", "underlay_mtu", "vni", "port", "device",
                 "zone_pins", "released", "registry", "registry_member", "cross_zone",
                 "wg_port", "wg_device", "wg_keepalive", "leased", "bgp")

    def as_dict(self, zones=None):
        result = {
            "cluster_cidr": cidr(self.cluster_net, self.cluster_len),
            "node_prefix": self.node_len,
            "zone_prefix": self.zone_len,
            "zones": {} if zones is None else zones,
            "zone_backends": dict(sorted(self.zone_backends.items())),
            "service_cidr": None if self.service is None else cidr(*self.service),
            "reserved": [cidr(n, p) for n, p in self.reserved],
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
        # Only where some zone uses the bgp backend (docs/bgp.md).
        if "bgp" in self.zone_backends.values():
            result["bgp"] = self.bgp.as_dict()
        # Only in etcd mode, and only while some lease podnet did not plan is live.
        if self.leased:
            result["leased"] = {subnet: dict(spec) for subnet, spec in sorted(self.leased.items())}
        return result


class Node:
    """One validated node; ``pin`` is the integer network of its pod_cidr or None."""

    __slots__ = ("name", "zone", "address", "prefix", "underlay", "pin", "wg_key")

    def __init__(self, name, zone, address, prefix, pin, wg_key=None):
        self.wg_key = wg_key
        self.name = name
        self.zone = zone
        self.address = address
        self.prefix = prefix
        self.underlay = None if prefix is None else address & mask(prefix)
        self.pin = pin


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


def check_underlay_address(address, text, what):
    """Reject underlay addresses no peer could reach (loopback, multicast, ...)."""
    for net, plen, kind in UNUSABLE_UNDERLAY:
        if address & mask(plen) == net:
            raise PlanError("%s: %s is %s, which no peer can route or tunnel to; set the host's "
                            "real underlay address (podnet_address)" % (what, text, kind))


def _released(value, net):
    """{host: {zone, address, prefix, pod_cidr}} of nodes that left the inventory but whose
    subnet is still held (released-pending, from the ledger)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PlanError("network.released: expected {host: {zone, pod_cidr, ...}} (from the "
                        "ledger), got %r" % (value,))
    result = {}
    owner = {}
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
    return result


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
        parse_address(address, "%s: the PublicIP of etcd key %s" % (what, key))
        pnet, plen = parse_cidr(subnet, what)
        if plen != net.node_len or pnet & mask(net.cluster_len) != net.cluster_net:
            raise PlanError("%s: etcd key %s (PublicIP %s) leases a subnet that is not a /%d of the "
                            "cluster CIDR %s: a flanneld of another network config holds it. Stop the "
                            "flanneld at %s and delete the key (etcdctl del %s), then re-run" % (
                                what, key, address, net.node_len,
                                cidr(net.cluster_net, net.cluster_len), address, key))
        result[cidr(pnet, plen)] = {"address": address, "key": spec.get("key"),
                                    "holder": LEASED_OUTSIDE}
    return result


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
    net.cluster_net, net.cluster_len = parse_cidr(network["cluster_cidr"], "network.cluster_cidr")
    cluster_range(net.cluster_net, net.cluster_len, network["cluster_cidr"])

    node_len = network.get("node_prefix")
    net.node_len = DEFAULT_NODE_PREFIX if node_len is None else as_int(
        node_len, "network.node_prefix", 1, 32, "give the pod subnet size per host, e.g. 24")
    if net.node_len <= net.cluster_len:
        raise PlanError("network.node_prefix: /%d is not longer than the cluster CIDR %s; the "
                        "node prefix must be longer (e.g. cluster /16, nodes /24)" % (
                            net.node_len, network["cluster_cidr"]))
    if net.node_len > MAX_NODE_PREFIX:
        raise PlanError("network.node_prefix: /%d leaves no room for a gateway and pods; use "
                        "/%d or shorter" % (net.node_len, MAX_NODE_PREFIX))

    zone_len = network.get("zone_prefix")
    if zone_len is None:
        net.zone_len = default_zone_prefix(net.cluster_len, net.node_len)
    else:
        net.zone_len = as_int(zone_len, "network.zone_prefix", 0, 32,
                              "give the zone block size, between the cluster and node prefixes")
        if not net.cluster_len <= net.zone_len <= net.node_len:
            raise PlanError("network.zone_prefix: /%d is not between the cluster prefix /%d and "
                            "the node prefix /%d; choose a value in that range" % (
                                net.zone_len, net.cluster_len, net.node_len))

    service = network.get("service_cidr")
    net.service = None
    if service is not None:
        net.service = parse_cidr(service, "network.service_cidr")
        if overlaps(net.cluster_net, net.cluster_len, *net.service):
            raise PlanError("network.service_cidr: %s overlaps the cluster CIDR %s; choose "
                            "disjoint ranges (e.g. 10.96.0.0/12 next to 10.244.0.0/16)" % (
                                service, network["cluster_cidr"]))

    reserved = network.get("reserved") or []
    if isinstance(reserved, str) or not isinstance(reserved, (list, tuple)):
        raise PlanError("network.reserved: expected a list of CIDRs, got %r" % (reserved,))
    parsed = set()
    for item in reserved:
        rnet = parse_cidr(item, "network.reserved")
        if overlaps(net.cluster_net, net.cluster_len, *rnet):
            raise PlanError("network.reserved: %s overlaps the cluster CIDR %s; pods would shadow "
                            "that range, choose a cluster CIDR disjoint from it" % (
                                item, network["cluster_cidr"]))
        parsed.add(rnet)
    net.reserved = sorted(parsed)

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
    block_owner = {}
    for zone in sorted(zones):
        _zone_name(zone, "network.zones")
        spec = zones[zone]
        block = spec.get("block") if isinstance(spec, dict) else spec
        what = "network.zones[%s].block" % zone
        bnet, blen = parse_cidr(block, what)
        if blen != net.zone_len:
            raise PlanError("%s: %s is a /%d but zone blocks are /%d (zone_prefix); keep the "
                            "zone_prefix the ledger was written with" % (what, block, blen, net.zone_len))
        if not overlaps(bnet, blen, net.cluster_net, net.cluster_len) or blen < net.cluster_len:
            raise PlanError("%s: %s lies outside the cluster CIDR %s; the ledger belongs to "
                            "another cluster CIDR, restore the original cluster_cidr" % (
                                what, block, cidr(net.cluster_net, net.cluster_len)))
        if bnet in block_owner:
            raise PlanError("%s: block %s is also pinned for zone %r; each zone needs its own "
                            "block, fix the ledger" % (what, block, block_owner[bnet]))
        block_owner[bnet] = zone
        net.zone_pins[zone] = bnet
    net.released = _released(network.get("released"), net)
    net.leased = _leased(network.get("leased"), net)
    net.registry, net.registry_member = _registry(network)
    return net


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
    asked): everything else about it is still checked.
    """
    if not isinstance(nodes, dict):
        raise PlanError("nodes: expected {hostname: {'zone', 'address', ...}}, got %r" % (nodes,))
    result = []
    by_address = {}
    by_pin = {}
    held = {}
    for host, spec in net.released.items():
        held[parse_cidr(spec["pod_cidr"], "released")[0]] = host
    cnet, clen = net.cluster_net, net.cluster_len
    cmask = mask(clen)
    for name in sorted(nodes):
        spec = nodes[name]
        hostname(name, "inventory host")
        if not isinstance(spec, dict):
            raise PlanError("host %s: expected a dict with 'zone' and 'address', got %r" % (name, spec))
        zone = _zone_name(spec.get("zone"), "host %s" % name)
        if name in net.released:
            raise PlanError("host %s: it is both a node and a released node of the ledger; a "
                            "returning node takes its entry back, fix the ledger" % name)
        if partial and spec.get("address") is None:
            prefix = spec.get("prefix")
            if prefix is not None:
                as_int(prefix, "host %s prefix" % name, 0, 32,
                       "give the underlay prefix length, e.g. 24, or leave it out")
            result.append(Node(name, zone, None, None, _pin(spec, name, net, by_pin, held),
                               wireguard_key(spec.get("wireguard_key"), "host %s wireguard_key" % name)))
            continue
        address = parse_address(spec.get("address"), "host %s address" % name)
        check_underlay_address(address, spec.get("address"), "host %s address" % name)
        if address in by_address:
            raise PlanError("host %s: address %s is also the address of host %s; every node "
                            "needs its own underlay address" % (name, spec["address"], by_address[address]))
        by_address[address] = name
        prefix = spec.get("prefix")
        if prefix is not None:
            prefix = as_int(prefix, "host %s prefix" % name, 0, 32,
                            "give the underlay prefix length, e.g. 24, or leave it out")
            if overlaps(address, prefix, cnet, clen):
                raise PlanError("host %s: its underlay network %s overlaps the cluster CIDR %s; "
                                "choose a cluster CIDR disjoint from the hosts' networks" % (
                                    name, cidr(address & mask(prefix), prefix), cidr(cnet, clen)))
        elif address & cmask == cnet:
            raise PlanError("host %s: its address %s lies inside the cluster CIDR %s; choose a "
                            "cluster CIDR disjoint from the hosts' networks" % (
                                name, spec["address"], cidr(cnet, clen)))
        result.append(Node(name, zone, address, prefix, _pin(spec, name, net, by_pin, held),
                           wireguard_key(spec.get("wireguard_key"), "host %s wireguard_key" % name)))
    return result


def _pin(spec, name, net, by_pin, held):
    """The integer network of a node's pod_cidr (pin or held subnet), or None."""
    pin = spec.get("pod_cidr")
    if pin is None or pin == "":
        return None
    cnet, clen = net.cluster_net, net.cluster_len
    nlen = net.node_len
    what = "host %s pod_cidr" % name
    pnet, plen = parse_cidr(pin, what)
    if plen != nlen:
        raise PlanError("%s: %s is a /%d but node_prefix is /%d; pin a /%d subnet of %s "
                        "or remove the pin" % (what, pin, plen, nlen, nlen, cidr(cnet, clen)))
    if pnet & mask(clen) != cnet:
        raise PlanError("%s: %s lies outside the cluster CIDR %s; pin a subnet inside it "
                        "or remove the pin" % (what, pin, cidr(cnet, clen)))
    if pnet in by_pin:
        raise PlanError("%s: %s is also pinned by host %s; two hosts can never share a pod "
                        "subnet, remove one pin (or reset that host)" % (what, pin, by_pin[pnet]))
    if pnet in held:
        raise PlanError("%s: %s is still held by host %s, which left the inventory but has not "
                        "been reset (released-pending); reset it (playbooks/reset.yml while it is "
                        "still listed) or, if it is gone for good, forget it with "
                        "-e podnet_forget=%s; or pin another subnet" % (
                            what, pin, held[pnet], held[pnet]))
    by_pin[pnet] = name
    return pnet
