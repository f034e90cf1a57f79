# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""flannel's etcd schema, so a stock flanneld can adopt podnet's allocations.

``<prefix>/config`` holds the network config, ``<prefix>/subnets/<net>-<len>``
one lease per host (flannel's vxlan backend data: VNI + VTEP MAC; or, when the plan
uses wireguard for any pair, flannel's wireguard backend data: public key + port).

flannel runs one backend for the whole network. A plan that encrypts any pair is
written as flannel's ``wireguard`` backend, so a stock flanneld adopting it encrypts
every pair (it has no host-gw inside a zone) and never sends in clear what podnet
encrypts.
"""

import json

from .errors import PlanError
from .addresses import cidr, ntoa, parse_address, parse_cidr

DEFAULT_PREFIX = "/coreos.com/network"


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
    return {"Network": network["cluster_cidr"], "SubnetLen": network["node_prefix"],
            "SubnetMin": ntoa(net), "SubnetMax": ntoa(last), "Backend": backend}


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


def lease_key(prefix, pod_cidr):
    """flannel's key of the lease of POD_CIDR under the (normalised) PREFIX."""
    return "%s/subnets/%s" % (prefix, pod_cidr.replace("/", "-"))


def flannel_leases(plan, prefix=DEFAULT_PREFIX):
    """``{"<prefix>/subnets/10.244.1.0-24": lease}`` for every node."""
    network, nodes = _plan_parts(plan)
    prefix = key_prefix(prefix)
    vni = network["vxlan"]["vni"]
    wireguard = _wireguard(network)
    result = {}
    for host in sorted(nodes):
        node = nodes[host]
        key = lease_key(prefix, node["pod_cidr"])
        if wireguard:
            # flannel's wireguardLeaseAttrs; a key not known yet (the node's first run) is
            # written on the next run, after the node made its key.
            data = {"Port": network["wireguard"]["port"]}
            if node.get("wireguard_key"):
                data["PublicKey"] = node["wireguard_key"]
            result[key] = {"PublicIP": node["address"], "BackendType": "wireguard",
                           "BackendData": data}
            continue
        result[key] = {"PublicIP": node["address"], "BackendType": "vxlan",
                       "BackendData": {"VNI": vni, "VtepMAC": node["vtep_mac"]}}
    return dict(sorted(result.items()))


def flannel_leases_parse(kv, prefix=DEFAULT_PREFIX):
    """``{PublicIP: pod_cidr}`` from flannel subnet leases read out of etcd.

    ``kv`` maps keys to lease dicts or their JSON text; keys outside
    ``<prefix>/subnets/`` are ignored.
    """
    if not isinstance(kv, dict):
        raise PlanError("flannel leases: expected {key: lease}, got %r" % (type(kv).__name__,))
    marker = key_prefix(prefix) + "/subnets/"
    result = {}
    for key in sorted(kv):
        if not isinstance(key, str) or not key.startswith(marker):
            continue
        subnet = cidr(*parse_cidr(key[len(marker):].replace("-", "/"), "flannel lease key %s" % key))
        value = kv[key]
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise PlanError("flannel lease %s: value is not JSON" % key) from None
        if not isinstance(value, dict) or "PublicIP" not in value:
            raise PlanError("flannel lease %s: no PublicIP in %r" % (key, value))
        address = value["PublicIP"]
        parse_address(address, "flannel lease %s PublicIP" % key)
        if address in result:
            raise PlanError("flannel leases: host %s holds both %s and %s; delete the stale lease "
                            "from etcd" % (address, result[address], subnet))
        result[address] = subnet
    return result
