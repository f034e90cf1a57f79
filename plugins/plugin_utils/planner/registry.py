# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Between podnet's plan and its etcd registry (flannel's schema + podnet's ledger).

The registry holds, under one prefix (flannel's default ``/coreos.com/network``):

- ``<prefix>/config``: flannel's network config;
- ``<prefix>/subnets/<a.b.c.d>-<len>``: one lease per host, without TTL;
- ``<prefix>/podnet/ledger``: podnet's ledger document (zones, hostnames), which
  flanneld never reads (it only looks at ``config`` and ``subnets/``).
"""

import json

from .errors import PlanError
from .flannel import DEFAULT_PREFIX, flannel_config, flannel_leases, flannel_leases_parse
from .ledger import ledger

LEDGER_KEY = "podnet/ledger"


def _prefix(prefix):
    if not isinstance(prefix, str) or not prefix.startswith("/"):
        raise PlanError("podnet registry prefix %r must be an absolute etcd key prefix such as %r"
                        % (prefix, DEFAULT_PREFIX))
    return prefix.rstrip("/")


def registry_keys(plan, prefix=DEFAULT_PREFIX):
    """Every key podnet writes for ``plan``, with its value (keys sorted)."""
    prefix = _prefix(prefix)
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

    ``kvs`` is what was read under the prefix, ``{key: {value, lease}}`` or ``{key: value}``.
    Without podnet's own document the ledger is built from flannel's config, so the
    network is never renumbered under a stock flanneld.
    """
    prefix = _prefix(prefix)
    kvs = kvs or {}
    if not isinstance(kvs, dict):
        raise PlanError("registry read: expected {key: value}, got %r" % type(kvs).__name__)
    subnets = {key: _value(raw, key) for key, raw in kvs.items() if key.startswith(prefix + "/subnets/")}
    leases = flannel_leases_parse(subnets, prefix)
    # Keys with a TTL: a live client (a flanneld) holds them, whether podnet planned them or not.
    leased = {}
    for key, value in sorted(subnets.items()):
        raw = kvs[key]
        if isinstance(raw, dict) and raw.get("lease") and isinstance(value, dict):
            leased[key[len(prefix + "/subnets/"):].replace("-", "/")] = value.get("PublicIP")
    ledger_key, config_key = "%s/%s" % (prefix, LEDGER_KEY), "%s/config" % prefix
    document = _value(kvs[ledger_key], ledger_key) if ledger_key in kvs else {}
    if not document and config_key in kvs:
        # flannel's config without podnet's document: still never renumber the network.
        config = _value(kvs[config_key], config_key) or {}
        document = {"podnet_ledger": 1, "cluster_cidr": config.get("Network"),
                    "node_prefix": config.get("SubnetLen"), "zones": {}, "nodes": {}}
    elif not document and leases:
        raise PlanError("registry read: %s holds leases but no config; restore %s or "
                        "delete the leases" % (prefix, config_key))
    return {"ledger": document, "leases": leases, "leased": leased}


def registry_pins(nodes, leases):
    """``nodes`` with ``pod_cidr`` taken from a lease for its address where it has none."""
    if not isinstance(nodes, dict) or not isinstance(leases or {}, dict):
        raise PlanError("registry pins: expected nodes and {PublicIP: pod_cidr}")
    leases = leases or {}
    result = {}
    for host, node in nodes.items():
        node = dict(node)
        if not node.get("pod_cidr") and node.get("address") in leases:
            node["pod_cidr"] = leases[node["address"]]
        result[host] = node
    return result


def _held_name(address, subnet):
    return "lease-%s-%s" % (str(address or "unknown").replace(".", "-"), subnet.replace(".", "-").replace("/", "-"))


def registry_hold(inputs, leased):
    """The planner's inputs (``ledger_inputs``' ``{"nodes", "network"}``) with every subnet a
    live client leased (``registry_read``'s ``leased``, ``{pod_cidr: PublicIP}``) that no node
    of the inputs holds added to ``network.released``, as holder ``lease-<PublicIP>-<subnet>``
    (its ``address`` = the PublicIP): no newcomer is planned onto a subnet a flanneld podnet
    does not know holds under a TTL. A lease whose PublicIP is a node's address is that node's
    (``registry_pins`` pinned it). One outside every zone block known yet is reported in
    ``unheld_leases``: no node of an existing zone can be planned onto it, and a write that
    would give it to another host stops the run (``podnet_etcd_kv``).

    Returns the inputs with ``network.released`` extended (the plan's ``network.released``
    then names each holder with its PublicIP) and ``held_leases`` = ``{holder: {"address",
    "pod_cidr"}}`` (for the report).
    """
    if not isinstance(inputs, dict) or not isinstance(inputs.get("network"), dict):
        raise PlanError("registry hold: expected the planner's inputs {nodes, network}")
    leased = leased or {}
    if not isinstance(leased, dict):
        raise PlanError("registry hold: expected {pod_cidr: PublicIP}, got %r" % type(leased).__name__)
    nodes = inputs.get("nodes") or {}
    network = dict(inputs["network"])
    released = dict(network.get("released") or {})
    addresses = {node.get("address") for node in nodes.values()}
    taken = {node.get("pod_cidr") for node in nodes.values()} | {e.get("pod_cidr") for e in released.values()}
    zones = {zone: (block.get("block") if isinstance(block, dict) else block)
             for zone, block in (network.get("zones") or {}).items()}
    held, unheld = {}, []
    for subnet, address in sorted(leased.items()):
        if address in addresses or subnet in taken:
            continue  # a node's own (pinned by its address), or held already
        zone = next((z for z, block in sorted(zones.items()) if block and _inside(subnet, block)), None)
        if zone is None:
            # outside every zone block known so far: no newcomer of an existing zone can get it,
            # and a write that would give it to another host stops (podnet_etcd_kv)
            unheld.append({"address": address, "pod_cidr": subnet})
            continue
        name = _held_name(address, subnet)
        released[name] = {"zone": zone, "address": address, "prefix": None, "pod_cidr": subnet}
        held[name] = {"address": address, "pod_cidr": subnet}
    network["released"] = dict(sorted(released.items()))
    return {"nodes": inputs.get("nodes"), "network": network, "held_leases": held, "unheld_leases": unheld}


def _inside(subnet, block):
    from .ipv4 import parse_cidr  # pylint: disable=import-outside-toplevel
    snet, slen = parse_cidr(subnet, "leased subnet")
    bnet, blen = parse_cidr(block, "zone block")
    return slen >= blen and (snet >> (32 - blen)) == (bnet >> (32 - blen))
