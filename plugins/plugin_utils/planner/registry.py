# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Between podnet's plan and its etcd registry (flannel's schema + podnet's ledger).

The registry holds, under one prefix (flannel's default ``/coreos.com/network``):

- ``<prefix>/config``: flannel's network config;
- ``<prefix>/subnets/<a.b.c.d>-<len>``: one lease per host, without TTL (dual stack:
  ``<a.b.c.d>-<len>&<ipv6>-<len>``, flannel's key of a lease of both families);
- ``<prefix>/podnet/ledger``: podnet's ledger document (zones, hostnames), which
  flanneld never reads (it only looks at ``config`` and ``subnets/``).
"""

import json

from .errors import PlanError
from .flannel import (DEFAULT_PREFIX, flannel_config, flannel_leases, key_prefix, lease_holder,
                      lease_holders, lease_key, parse_lease_key)
from .addresses import IPV6
from .ledger import ledger

LEDGER_KEY = "podnet/ledger"


def registry_keys(plan, prefix=DEFAULT_PREFIX):
    """Every key podnet writes for ``plan``, with its value (keys sorted)."""
    prefix = key_prefix(prefix, "podnet registry prefix")
    keys = dict(flannel_leases(plan, prefix))
    keys["%s/config" % prefix] = flannel_config(plan)
    keys["%s/%s" % (prefix, LEDGER_KEY)] = ledger(plan)
    return dict(sorted(keys.items()))


def _value(raw, key):
    value = raw.get("value") if isinstance(raw, dict) and "value" in raw else raw
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise PlanError("podnet registry: %s does not hold JSON: %r" % (key, value)) from None
    return value


def registry_read(kvs, prefix=DEFAULT_PREFIX):
    """``{"ledger": document or {}, "leases": {PublicIP: pod_cidr}, "leased": {pod_cidr:
    PublicIP}}`` from a registry read; ``leased`` holds the keys with a TTL (a live client's).
    Dual-stack leases (flannel's ``<ipv4>-<len>&<ipv6>-<len>`` keys) add ``leases_ipv6``
    ``{PublicIP: pod_cidr_ipv6}`` and, for those with a TTL, ``leased_ipv6`` ``{pod_cidr:
    pod_cidr_ipv6}``; a lease without an IPv4 PublicIP is named by its PublicIPv6.

    ``kvs`` is what was read under the prefix, ``{key: {value, lease}}`` or ``{key: value}``.
    Without podnet's own document the ledger is built from flannel's config, so the
    network (and, dual stack, the IPv6 one) is never renumbered under a stock flanneld.
    """
    prefix = key_prefix(prefix, "podnet registry prefix")
    kvs = kvs or {}
    if not isinstance(kvs, dict):
        raise PlanError("registry read: expected {key: value}, got %r" % type(kvs).__name__)
    marker = prefix + "/subnets/"
    subnets = {key: _value(raw, key) for key, raw in kvs.items() if key.startswith(marker)}
    leases, leases6 = lease_holders(subnets, prefix)
    # Keys with a TTL: a live client (a flanneld) holds them, whether podnet planned them or not.
    leased, leased6 = {}, {}
    for key, value in sorted(subnets.items()):
        raw = kvs[key]
        if isinstance(raw, dict) and raw.get("lease") and isinstance(value, dict):
            subnet, subnet6 = parse_lease_key(key, marker)
            leased[subnet] = lease_holder(key, value)
            if subnet6:
                leased6[subnet] = subnet6
    ledger_key, config_key = "%s/%s" % (prefix, LEDGER_KEY), "%s/config" % prefix
    document = _value(kvs[ledger_key], ledger_key) if ledger_key in kvs else {}
    if not document and config_key in kvs:
        # flannel's config without podnet's document: still never renumber the network.
        config = _value(kvs[config_key], config_key) or {}
        document = {"podnet_ledger": 1, "cluster_cidr": config.get("Network"),
                    "node_prefix": config.get("SubnetLen"), "zones": {}, "nodes": {}}
        if config.get("EnableIPv6") and config.get("IPv6Network"):
            document.update({"cluster_cidr_ipv6": config["IPv6Network"],
                             "node_prefix_ipv6": config.get("IPv6SubnetLen"), "zones_ipv6": {}})
    elif not document and leases:
        raise PlanError("registry read: %s holds leases but no config; restore %s or "
                        "delete the leases" % (prefix, config_key))
    result = {"ledger": document, "leases": leases, "leased": leased}
    if leases6:
        result["leases_ipv6"] = leases6
    if leased6:
        result["leased_ipv6"] = leased6
    return result


def registry_pins(nodes, leases, leases_ipv6=None):
    """``nodes`` with ``pod_cidr`` taken from a lease for its address where it has none
    (a node with only an IPv6 underlay: for its ``address_ipv6``), and, dual stack,
    ``pod_cidr_ipv6`` from ``leases_ipv6`` (``{PublicIP: pod_cidr_ipv6}``, registry_read's)
    the same way. A node whose lease has no IPv6 prefix (written before dual stack) keeps
    its IPv4 subnet and is given an IPv6 prefix by the planner."""
    if not isinstance(nodes, dict) or not isinstance(leases or {}, dict) \
            or not isinstance(leases_ipv6 or {}, dict):
        raise PlanError("registry pins: expected nodes, {PublicIP: pod_cidr} and "
                        "{PublicIP: pod_cidr_ipv6}")
    leases, leases6 = leases or {}, leases_ipv6 or {}
    result = {}
    for host, node in nodes.items():
        node = dict(node)
        holder = node.get("address") or _canonical6(node.get("address_ipv6"))
        if not node.get("pod_cidr") and holder in leases:
            node["pod_cidr"] = leases[holder]
        if not node.get("pod_cidr_ipv6") and holder in leases6:
            node["pod_cidr_ipv6"] = leases6[holder]
        result[host] = node
    return result


def _canonical6(address):
    """An IPv6 address in the text lease_holder gives (None when there is none or it is
    not one: the planner names a bad address later)."""
    if not address:
        return None
    value = IPV6.pton(str(address))
    return IPV6.ntoa(value) if value is not None else None


def registry_hold(inputs, registry):
    """The planner's inputs (``ledger_inputs``' ``{"nodes", "network"}``) with
    ``network.leased`` = ``{pod_cidr: {"address": PublicIP, "key": etcd key}}``: every key a
    live client holds with a TTL, from ``registry`` = what role podnet_registry read
    (``ledger_registry_read``: its ``leased``, ``{pod_cidr: PublicIP}``, and its ``prefix``),
    or ``{}`` (ledger mode: nothing is leased).

    The planner keeps each such subnet from every node of the plan, unless it is the subnet
    of the node at that PublicIP (its own flanneld's lease, which ``registry_pins`` pinned),
    and names the holder with its PublicIP in the plan's ``network.leased``; it stops when the
    plan keeps a leased subnet for a node of another address. The holds are re-read on every
    run and never enter ``network.released``, so never the ledger: when a lease expires, its
    subnet is free on the next run.
    """
    if not isinstance(inputs, dict) or not isinstance(inputs.get("network"), dict):
        raise PlanError("registry hold: expected the planner's inputs {nodes, network}")
    registry = registry or {}
    leased = registry.get("leased") if isinstance(registry, dict) else None
    if not isinstance(leased or {}, dict):
        raise PlanError("registry hold: expected what the registry read holds ({leased: {pod_cidr: "
                        "PublicIP}, prefix}), got %r" % (registry,))
    network = dict(inputs["network"])
    network.pop("leased", None)
    if leased:
        prefix = key_prefix(registry.get("prefix") or DEFAULT_PREFIX, "podnet registry prefix")
        leased6 = registry.get("leased_ipv6") or {}
        network["leased"] = {}
        for subnet, address in sorted(leased.items()):
            spec = {"address": address, "key": lease_key(prefix, subnet, leased6.get(subnet))}
            if leased6.get(subnet):  # a dual-stack lease: the planner holds its IPv6 prefix too
                spec["pod_cidr_ipv6"] = leased6[subnet]
            network["leased"][subnet] = spec
    return {"nodes": inputs.get("nodes"), "network": network}
