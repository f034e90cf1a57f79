"""The ledger: where allocations live between runs.

The play reads the ledger file (YAML next to the inventory), asks reachable
hosts which pod subnet they hold, and feeds both through:

    nodes   = inventory_nodes | podnet_merge_nodes(ledger, reported)
    network = network | podnet_ledger_network(ledger)   # pins zone blocks
    plan    = nodes | podnet_plan(network)
    ledger  = plan | podnet_ledger                       # write back atomically

A host that cannot be reached simply has no report: its ledger entry keeps
its subnet, so a newcomer never takes it.
"""

from .errors import PlanError
from .ipv4 import parse_cidr
from .validate import validate_network

LEDGER_VERSION = 1


def _check_ledger(ledger):
    """Return the ledger dict ({} for an empty / missing ledger)."""
    if ledger is None or ledger == {} or ledger == "":
        return {}
    if not isinstance(ledger, dict):
        raise PlanError("ledger: expected the parsed ledger file (a dict), got %r" % (type(ledger).__name__,))
    version = ledger.get("podnet_ledger")
    if version != LEDGER_VERSION:
        raise PlanError("ledger: 'podnet_ledger: %r' is not a ledger format this planner reads "
                        "(expected %d); is this the right file?" % (version, LEDGER_VERSION))
    return ledger


def _differ(host, first, second):
    return parse_cidr(first, "host %s pod_cidr %s" % (host, first)) != parse_cidr(
        second, "host %s pod_cidr %s" % (host, second))


def merge_nodes(inventory_nodes, ledger, reported):
    """The planner's ``nodes`` input from inventory + ledger + host reports.

    pod_cidr comes from the host's own report, else from the ledger, else
    from a ``pod_cidr`` pin in the inventory (all that are given must agree);
    hosts in the ledger but not in the inventory are dropped (they were
    removed).
    """
    ledger = _check_ledger(ledger)
    if not isinstance(inventory_nodes, dict):
        raise PlanError("inventory nodes: expected {host: {'zone', 'address', 'prefix'?}}, got %r" % (
            type(inventory_nodes).__name__,))
    reported = reported or {}
    if not isinstance(reported, dict):
        raise PlanError("reported: expected {host: pod_cidr or None}, got %r" % (type(reported).__name__,))
    held = ledger.get("nodes") or {}
    result = {}
    for host in sorted(inventory_nodes):
        spec = inventory_nodes[host]
        if not isinstance(spec, dict):
            raise PlanError("host %s: expected a dict with 'zone' and 'address', got %r" % (host, spec))
        node = {key: spec[key] for key in ("zone", "address", "prefix") if spec.get(key) is not None}
        entry = held.get(host) or {}
        from_ledger = entry.get("pod_cidr") or None
        from_host = reported.get(host) or None
        pinned = spec.get("pod_cidr") or None  # an operator's pin in the inventory
        if from_host and from_ledger and _differ(host, from_host, from_ledger):
            raise PlanError(
                "host %s: it reports pod subnet %s but the ledger says %s; one of them is stale. "
                "If the host is right, fix its entry in the ledger file; if the ledger is right, "
                "reset the host's pod network so it takes its ledger subnet" % (
                    host, from_host, from_ledger))
        held_cidr = from_host or from_ledger
        if pinned and held_cidr and _differ(host, pinned, held_cidr):
            raise PlanError(
                "host %s: the inventory pins pod_cidr %s but the host holds %s (%s); a host never "
                "moves by itself. Remove the inventory pin, or reset the host and drop its ledger "
                "entry to move it" % (host, pinned, held_cidr, "its report" if from_host else "ledger"))
        pod_cidr = held_cidr or pinned
        if pod_cidr:
            node["pod_cidr"] = pod_cidr
        result[host] = node
    return result


def ledger_network(network, ledger):
    """``network`` with the ledger's zone blocks pinned (and its zone_prefix).

    Errors if the ledger was written for another cluster_cidr / node_prefix /
    zone_prefix: changing those would renumber every host.
    """
    ledger = _check_ledger(ledger)
    if not isinstance(network, dict):
        raise PlanError("network: expected a dict, got %r" % (type(network).__name__,))
    result = dict(network)
    if not ledger:
        return result
    net = validate_network({k: v for k, v in network.items() if k != "zones"})
    lnet = parse_cidr(ledger.get("cluster_cidr"), "ledger cluster_cidr")
    if lnet != (net.cluster_net, net.cluster_len):
        raise PlanError("network.cluster_cidr: %s differs from the ledger's %s; changing it would "
                        "renumber every host. Restore %s, or reset the cluster and delete the "
                        "ledger to start over" % (network["cluster_cidr"], ledger["cluster_cidr"],
                                                   ledger["cluster_cidr"]))
    if ledger.get("node_prefix") != net.node_len:
        raise PlanError("network.node_prefix: /%s differs from the ledger's /%s; changing it would "
                        "renumber every host. Restore node_prefix %s, or reset the cluster and "
                        "delete the ledger to start over" % (net.node_len, ledger.get("node_prefix"),
                                                             ledger.get("node_prefix")))
    lzone = ledger.get("zone_prefix")
    if network.get("zone_prefix") is None:
        if lzone is not None:
            result["zone_prefix"] = lzone
    elif lzone is not None and lzone != net.zone_len:
        raise PlanError("network.zone_prefix: /%s differs from the ledger's /%s; changing it would "
                        "move every zone block. Restore zone_prefix %s (or leave it unset to take "
                        "the ledger's)" % (net.zone_len, lzone, lzone))
    zones = dict(network.get("zones") or {})
    for zone, block in sorted((ledger.get("zones") or {}).items()):
        block = block.get("block") if isinstance(block, dict) else block
        mine = zones.get(zone)
        mine = mine.get("block") if isinstance(mine, dict) else mine
        if mine is not None and mine != block:
            raise PlanError("network.zones[%s]: block %s differs from the ledger's %s; zone blocks "
                            "never move, drop the override" % (zone, mine, block))
        zones[zone] = {"block": block}
    result["zones"] = dict(sorted(zones.items()))
    return result


def ledger(plan):
    """The ledger document to write for ``plan`` (keys sorted)."""
    try:
        network = plan["network"]
        zones = plan["zones"]
        nodes = plan["nodes"]
    except (TypeError, KeyError):
        raise PlanError("ledger: expected the output of podnet_plan") from None
    return {
        "cluster_cidr": network["cluster_cidr"],
        "node_prefix": network["node_prefix"],
        "nodes": {host: {"address": nodes[host]["address"], "pod_cidr": nodes[host]["pod_cidr"],
                         "zone": nodes[host]["zone"]} for host in sorted(nodes)},
        "podnet_ledger": LEDGER_VERSION,
        "zone_prefix": network["zone_prefix"],
        "zones": {zone: zones[zone]["block"] for zone in sorted(zones)},
    }


__all__ = ["merge_nodes", "ledger_network", "ledger"]
