# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""flannel's etcd schema, so a stock flanneld can adopt podnet's allocations.

``<prefix>/config`` holds the network config, ``<prefix>/subnets/<net>-<len>``
one lease per host (flannel's vxlan backend data: VNI + VTEP MAC; or, when the plan
uses wireguard for any pair, flannel's wireguard backend data: public key + port).

Dual stack (the plan has ``network.cluster_cidr_ipv6``), as flannel itself writes it
(flannel-io/flannel, read at cdf7605):

- the config gains ``EnableIPv4``/``EnableIPv6`` true, ``IPv6Network``, ``IPv6SubnetLen``
  and ``IPv6SubnetMin``/``IPv6SubnetMax`` (pkg/subnet/config.go, struct ``Config``; its
  ``CheckNetworkConfig`` defaults ``IPv6SubnetMin`` past the first prefix, which podnet
  allocates, and pkg/subnet/etcd/local_manager.go ``isIPv6SubnetConfigCompat`` deletes a
  lease outside Min..Max: so the full range is spelled out, as for IPv4);
- a lease's key joins both subnets, ``<a.b.c.d>-<len>&<ipv6>-<len>`` (pkg/subnet/subnet.go
  ``MakeSubnetKey``: ``IP4Net.StringSep(".", "-") + "&" + IP6Net.StringSep(":", "-")``, the
  IPv6 address in Go's canonical text; ``ParseSubnetKey`` reads it back with the regexp
  ``(\\d+\\.\\d+.\\d+.\\d+)-(\\d+)(?:&([a-f\\d:]+)-(\\d+))?$``);
- its value (pkg/lease/lease.go, struct ``LeaseAttrs``) gains ``PublicIPv6`` (the node's
  IPv6 underlay, absent when it has none) and ``BackendV6Data``: for vxlan
  ``{"VNI", "VtepMAC"}`` of the IPv6-underlay device flannel-v6.<vni>, only beside a
  ``PublicIPv6`` (pkg/backend/vxlan/vxlan.go ``newSubnetAttrs``); for wireguard
  ``{"PublicKey", "Port"}`` (pkg/backend/wireguard/wireguard.go ``newSubnetAttrs``), with the
  backend's ``Mode: auto`` (one device for both families, as podnet builds it) and
  ``ListenPortV6`` = ``ListenPort`` (its one device listens on that port).

flannel runs one backend for the whole network. A plan that encrypts any pair is
written as flannel's ``wireguard`` backend, so a stock flanneld adopting it encrypts
every pair (it has no host-gw inside a zone) and never sends in clear what podnet
encrypts.
"""

import json

from .errors import PlanError
from .addresses import IPV4, IPV6, ntoa, parse_address, parse_cidr

DEFAULT_PREFIX = "/coreos.com/network"
# What flannel marshals for a lease without an IPv4 PublicIP (ip.IP4 zero: a node with
# only an IPv6 underlay); podnet then reads the lease's holder from PublicIPv6.
NO_PUBLIC_IP = "0.0.0.0"


def _plan_parts(plan):
    try:
        return plan["network"], plan["nodes"]
    except (TypeError, KeyError):
        raise PlanError("flannel: expected the output of podnet_plan") from None


def flannel_config(plan):
    """Value of ``<prefix>/config``."""
    network, dummy = _plan_parts(plan)
    backend = {"Type": "vxlan", "VNI": network["vxlan"]["vni"], "Port": network["vxlan"]["port"]}
    if _wireguard(network):
        wg = network["wireguard"]
        backend = {"Type": "wireguard", "ListenPort": wg["port"]}
        if wg.get("persistent_keepalive"):
            backend["PersistentKeepaliveInterval"] = wg["persistent_keepalive"]
    elif network["backend"] != "vxlan":
        # flannel's vxlan backend with DirectRouting == podnet's "auto".
        backend["DirectRouting"] = True
    net, plen = parse_cidr(network["cluster_cidr"], "plan network.cluster_cidr")
    size = 1 << (32 - network["node_prefix"])
    last = net + (1 << (32 - plen)) - size
    # flannel's SubnetMin default skips the first subnet, which podnet does
    # allocate; spell out the full range so flanneld accepts every lease.
    config = {"Network": network["cluster_cidr"], "SubnetLen": network["node_prefix"],
              "SubnetMin": ntoa(net), "SubnetMax": ntoa(last), "Backend": backend}
    if network.get("cluster_cidr_ipv6"):
        net6, plen6 = IPV6.parse_cidr(network["cluster_cidr_ipv6"], "plan network.cluster_cidr_ipv6")
        len6 = network["node_prefix_ipv6"]
        config.update({
            "EnableIPv4": True, "EnableIPv6": True, "IPv6Network": IPV6.cidr(net6, plen6),
            "IPv6SubnetLen": len6, "IPv6SubnetMin": IPV6.ntoa(net6),
            "IPv6SubnetMax": IPV6.ntoa(net6 + (1 << (128 - plen6)) - (1 << (128 - len6)))})
        if backend["Type"] == "wireguard":
            backend.update({"Mode": "auto", "ListenPortV6": backend["ListenPort"]})
    return config


def _wireguard(network):
    """Whether some pair of the plan may be carried by wireguard (see the module doc)."""
    return (network["backend"] == "wireguard"
            or "wireguard" in (network.get("zone_backends") or {}).values()
            or (network["backend"] == "auto" and network.get("cross_zone_backend") == "wireguard"))


def key_prefix(prefix, what="flannel prefix"):
    """PREFIX without its trailing slash; WHAT names it in the error when it is not absolute."""
    if not isinstance(prefix, str) or not prefix.startswith("/"):
        raise PlanError("%s %r must be an absolute etcd key prefix such as %r" % (
            what, prefix, DEFAULT_PREFIX))
    return prefix.rstrip("/")


def lease_key(prefix, pod_cidr, pod_cidr_ipv6=None):
    """flannel's key of the lease of POD_CIDR (and, dual stack, POD_CIDR_IPV6) under the
    (normalised) PREFIX: ``<prefix>/subnets/10.244.1.0-24`` or, with an IPv6 prefix,
    ``<prefix>/subnets/10.244.1.0-24&fd00:10:244:1::-64`` (flannel's ``MakeSubnetKey``)."""
    key = "%s/subnets/%s" % (prefix, pod_cidr.replace("/", "-"))
    if pod_cidr_ipv6:
        net6, plen6 = IPV6.parse_cidr(pod_cidr_ipv6, "pod_cidr_ipv6 of lease %s" % key)
        # inet_ntop's text is Go's net.IP.String() (RFC 5952: lower case, longest zero run)
        key += "&%s-%d" % (IPV6.ntoa(net6), plen6)
    return key


def parse_lease_key(key, marker):
    """``(pod_cidr, pod_cidr_ipv6 or None)`` of a lease KEY that starts with MARKER
    (``<prefix>/subnets/``): flannel's ``ParseSubnetKey``, strict (an error names the key)."""
    name = key[len(marker):]
    four, amp, six = name.partition("&")
    what = "flannel lease key %s" % key
    subnet = IPV4.cidr(*IPV4.parse_cidr(four.replace("-", "/"), what))
    if not amp:
        return subnet, None
    addr, dash, plen = six.rpartition("-")
    if not dash:
        raise PlanError("%s: the part after '&' must be <ipv6>-<len> as flannel writes it "
                        "(e.g. 10.244.1.0-24&fd00:10:244:1::-64)" % what)
    return subnet, IPV6.cidr(*IPV6.parse_cidr("%s/%s" % (addr, plen), what))


def flannel_leases(plan, prefix=DEFAULT_PREFIX):
    """``{"<prefix>/subnets/10.244.1.0-24": lease}`` for every node."""
    network, nodes = _plan_parts(plan)
    prefix = key_prefix(prefix)
    vni = network["vxlan"]["vni"]
    wireguard = _wireguard(network)
    dual = bool(network.get("cluster_cidr_ipv6"))
    result = {}
    for host in sorted(nodes):
        node = nodes[host]
        key = lease_key(prefix, node["pod_cidr"], node.get("pod_cidr_ipv6") if dual else None)
        if wireguard:
            # flannel's wireguardLeaseAttrs; a key not known yet (the node's first run) is
            # written on the next run, after the node made its key.
            data = {"Port": network["wireguard"]["port"]}
            if node.get("wireguard_key"):
                data["PublicKey"] = node["wireguard_key"]
            lease = {"PublicIP": node["address"], "BackendType": "wireguard", "BackendData": data}
        else:
            lease = {"PublicIP": node["address"], "BackendType": "vxlan",
                     "BackendData": {"VNI": vni, "VtepMAC": node["vtep_mac"]}}
        if dual:
            _dual_stack_attrs(node, lease, wireguard, vni)
        result[key] = lease
    return dict(sorted(result.items()))


def _dual_stack_attrs(node, lease, wireguard, vni):
    """A dual-stack node's lease attributes beside the IPv4 ones (see the module doc)."""
    if not lease["PublicIP"]:
        lease["PublicIP"] = NO_PUBLIC_IP
    if node.get("address_ipv6"):
        lease["PublicIPv6"] = node["address_ipv6"]
    if wireguard:
        # one device, one key and port for both families (flannel's Mode auto)
        lease["BackendV6Data"] = dict(lease["BackendData"])
    elif node.get("address_ipv6"):
        # flannel-v6.<vni>, the device over the IPv6 underlay: its own MAC (vtep_mac_ipv6)
        lease["BackendV6Data"] = {"VNI": vni, "VtepMAC": node["vtep_mac_ipv6"]}


def flannel_leases_parse(kv, prefix=DEFAULT_PREFIX):
    """``{PublicIP: pod_cidr}`` from flannel subnet leases read out of etcd.

    ``kv`` maps keys to lease dicts or their JSON text; keys outside
    ``<prefix>/subnets/`` are ignored. A lease without an IPv4 PublicIP (``0.0.0.0``: a node
    with only an IPv6 underlay) is named by its ``PublicIPv6``.
    """
    return lease_holders(kv, prefix)[0]


def lease_holders(kv, prefix=DEFAULT_PREFIX):
    """``({holder: pod_cidr}, {holder: pod_cidr_ipv6})`` of flannel's leases in KV (see
    ``flannel_leases_parse``); the second holds the dual-stack leases' IPv6 prefixes.

    One holder may have two keys for one IPv4 subnet, an IPv4-only one and a dual-stack one
    (a live flanneld's old lease beside the one podnet wrote on a dual-stack upgrade): that
    is one subnet, not two."""
    if not isinstance(kv, dict):
        raise PlanError("flannel leases: expected {key: lease}, got %r" % (type(kv).__name__,))
    marker = key_prefix(prefix) + "/subnets/"
    result, result6 = {}, {}
    for key in sorted(kv):
        if not isinstance(key, str) or not key.startswith(marker):
            continue
        subnet, subnet6 = parse_lease_key(key, marker)
        address = lease_holder(key, kv[key])
        if address in result and result[address] != subnet:
            raise PlanError("flannel leases: host %s holds both %s and %s; delete the stale lease "
                            "from etcd" % (address, result[address], subnet))
        if subnet6 and result6.get(address, subnet6) != subnet6:
            raise PlanError("flannel leases: host %s holds both %s and %s; delete the stale lease "
                            "from etcd" % (address, result6[address], subnet6))
        result[address] = subnet
        if subnet6:
            result6[address] = subnet6
    return result, result6


def lease_holder(key, value):
    """The address that holds the lease KEY of VALUE (a dict or its JSON text): its
    ``PublicIP``, or its ``PublicIPv6`` when it has no IPv4 one."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise PlanError("flannel lease %s: value is not JSON" % key) from None
    if not isinstance(value, dict) or "PublicIP" not in value:
        raise PlanError("flannel lease %s: no PublicIP in %r" % (key, value))
    address = value["PublicIP"]
    if address in (None, "", NO_PUBLIC_IP) and value.get("PublicIPv6"):
        return IPV6.ntoa(IPV6.parse_address(value["PublicIPv6"], "flannel lease %s PublicIPv6" % key))
    parse_address(address, "flannel lease %s PublicIP" % key)
    return address
