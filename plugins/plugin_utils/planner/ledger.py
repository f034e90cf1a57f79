# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ledger: where allocations live between runs, and their lifecycle.

The play reads the ledger file (YAML next to the inventory; the whole document is
checked there, by ledger_reader), asks reachable hosts which pod subnet they hold, and
feeds both through:

    inputs  = inventory_nodes | podnet_ledger_inputs(ledger, reported, network, forget)
    plan    = inputs.nodes | podnet_plan(inputs.network)
    ledger  = plan | podnet_ledger                       # write back atomically

A node's subnet has one holder at a time.  States of a ledger entry:

- ``allocated``: the node is in the inventory (reachable or not: a host that
  cannot be reached simply has no report, its entry keeps everything);
- ``released-pending``: the node left the inventory but was never reset, so
  it may still hold its subnet: the subnet stays reserved (no newcomer gets
  it), while its routes are purged from the peers;
- free: the entry is gone, once the node was reset while still listed
  (``reset: true``, set by playbooks/reset.yml) and then left the inventory,
  or once the operator forgot it explicitly (``podnet_forget``).

A released-pending node that comes back into the inventory takes its subnet back.
"""

from .errors import PlanError
from .addresses import IPV6, parse_cidr
from .validate import validate_network

LEDGER_VERSION = 2
READABLE_VERSIONS = (1, 2)  # version 1 had no prefix, state or reset mark
ALLOCATED = "allocated"
RELEASED_PENDING = "released-pending"
STATES = (ALLOCATED, RELEASED_PENDING)
ROUTING_KEYS = ("backend", "underlay_mtu", "vxlan", "zone_backends", "cross_zone_backend",
                "wireguard")
# A node's IPv6 fields (dual stack), recorded beside the IPv4 ones when the plan has them.
IPV6_NODE_KEYS = ("address_ipv6", "pod_cidr_ipv6", "prefix_ipv6")


def _check_ledger(ledger):
    """Return the ledger dict ({} for an empty / missing ledger)."""
    if ledger is None or ledger == {} or ledger == "":
        return {}
    if not isinstance(ledger, dict):
        raise PlanError("ledger: expected the parsed ledger file (a dict), got %r" % (type(ledger).__name__,))
    version = ledger.get("podnet_ledger")
    if version not in READABLE_VERSIONS:
        raise PlanError("ledger: 'podnet_ledger: %r' is not a ledger format this planner reads "
                        "(expected one of %s); is this the right file?" % (
                            version, ", ".join(map(str, READABLE_VERSIONS))))
    nodes = ledger.get("nodes") or {}
    if not isinstance(nodes, dict):
        raise PlanError("ledger: 'nodes' must map hostnames to entries, got %r; restore the "
                        "ledger from version control" % (type(nodes).__name__,))
    # The reader (ledger_reader) checks the whole document where it is read; this guard
    # keeps plain callers to PlanError too.
    for key, what in (("zones", "zones to blocks"), ("routing", "settings to values")):
        if not isinstance(ledger.get(key) or {}, dict):
            raise PlanError("ledger: '%s' must map %s, got %r; restore the ledger from version "
                            "control" % (key, what, type(ledger.get(key)).__name__))
    for host, entry in nodes.items():
        if not isinstance(entry, dict) or not entry.get("pod_cidr") or not entry.get("zone"):
            raise PlanError("ledger nodes[%s]: expected {zone, address, pod_cidr, ...}, got %r; "
                            "restore the entry from version control" % (host, entry))
        if entry.get("state", ALLOCATED) not in STATES:
            raise PlanError("ledger nodes[%s]: unknown state %r (known: %s); restore the entry "
                            "from version control" % (host, entry.get("state"), ", ".join(STATES)))
    return ledger


def forget_list(forget):
    """``podnet_forget`` as a sorted list: a list, or a comma-separated string."""
    if forget is None or forget == "":
        return []
    if isinstance(forget, str):
        forget = [item.strip() for item in forget.split(",") if item.strip()]
    if not isinstance(forget, (list, tuple)) or not all(isinstance(h, str) for h in forget):
        raise PlanError("podnet_forget: expected hostnames (a list, or 'host1,host2'), got %r" % (
            forget,))
    return sorted(set(forget))


def released_nodes(inventory_hosts, ledger, forget=None):
    """{host: {zone, address, prefix, pod_cidr}} of the ledger's released-pending nodes.

    Nodes of the ledger that are not in the inventory, minus those reset while
    still listed and those the operator forgets.  Forgetting a node that is in
    the inventory, or that the ledger does not know, is an error (a typo must
    never free someone else's subnet).
    """
    ledger = _check_ledger(ledger)
    entries = ledger.get("nodes") or {}
    hosts = set(inventory_hosts)
    pending = sorted(h for h in entries if h not in hosts)
    for host in forget_list(forget):
        if host in hosts:
            raise PlanError("podnet_forget: host %s is still in the inventory; remove it from the "
                            "inventory first (or reset it with playbooks/reset.yml), then forget "
                            "it" % host)
        if host not in entries:
            raise PlanError("podnet_forget: the ledger holds no node %s, nothing to forget "
                            "(nodes that left the inventory: %s); check the name" % (
                                host, ", ".join(pending) or "none"))
    forgotten = set(forget_list(forget))
    released = {}
    for host in pending:
        entry = entries[host]
        if host in forgotten or entry.get("reset"):
            continue  # free: nothing of podnet is left on it
        released[host] = {"zone": entry["zone"], "address": entry.get("address"),
                          "prefix": entry.get("prefix"), "pod_cidr": entry["pod_cidr"]}
        released[host].update({key: entry[key] for key in IPV6_NODE_KEYS if entry.get(key) is not None})
    return released


def ledger_inputs(inventory_nodes, ledger, reported, network, forget=None):
    """The planner's two inputs from inventory + ledger + host reports + forget list.

    Returns ``{"nodes": merge_nodes(...), "network": ledger_network(...) with
    "released" = released_nodes(...)}``.
    """
    nodes = merge_nodes(inventory_nodes, ledger, reported)
    result = ledger_network(network, ledger)
    result["released"] = released_nodes(list(inventory_nodes), ledger, forget)
    return {"nodes": nodes, "network": result}


def mark_reset(ledger, hosts):
    """The ledger with ``reset: true`` on every node of ``hosts`` it holds.

    Such a node holds nothing of podnet any more: when it leaves the inventory its
    subnet is free at once. A later site.yml run on it clears the mark again.
    """
    ledger = _check_ledger(ledger)
    if not ledger:
        return {}
    result = dict(ledger)
    result["nodes"] = {host: dict(entry, reset=True) if host in set(hosts) else entry
                       for host, entry in sorted((ledger.get("nodes") or {}).items())}
    return result


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
        node = {key: spec[key] for key in ("zone", "address", "prefix", "address_ipv6", "prefix_ipv6")
                if spec.get(key) is not None}
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
        pod_cidr6 = _held_ipv6(host, spec, entry)
        if pod_cidr6:
            node["pod_cidr_ipv6"] = pod_cidr6
        # The host's own report (a new or rotated key) wins; an unreachable host keeps
        # the key the ledger recorded, so its peers' view of it does not change.
        key = spec.get("wireguard_key") or entry.get("wireguard_key")
        if key:
            node["wireguard_key"] = key
        result[host] = node
    return result


def _held_ipv6(host, spec, entry):
    """A node's IPv6 pod prefix: the ledger's, else the inventory's pin (they must agree).
    Hosts do not report IPv6 prefixes yet (they do not carry them)."""
    recorded, pinned = entry.get("pod_cidr_ipv6") or None, spec.get("pod_cidr_ipv6") or None
    if recorded and pinned and IPV6.parse_cidr(recorded, "host %s pod_cidr_ipv6 %s" % (
            host, recorded)) != IPV6.parse_cidr(pinned, "host %s pod_cidr_ipv6 %s" % (host, pinned)):
        raise PlanError("host %s: the inventory pins pod_cidr_ipv6 %s but the ledger holds %s for it; "
                        "a host never moves by itself. Remove the inventory pin, or reset the host and "
                        "drop its ledger entry to move it" % (host, pinned, recorded))
    return recorded or pinned


def _ledger_ipv6(network, ledger, result):
    """The IPv6 half of ``ledger_network``: the ledger's IPv6 cluster CIDR, prefixes and zone
    blocks hold once written. An IPv4-only ledger takes IPv6 on its first dual-stack plan
    (nothing of IPv4 moves); a dual-stack ledger refuses to drop or change IPv6."""
    recorded = ledger.get("cluster_cidr_ipv6")
    if recorded is None:
        return {}
    given = network.get("cluster_cidr_ipv6")
    if given in (None, ""):
        raise PlanError("network.cluster_cidr_ipv6: unset, but the ledger holds IPv6 pod prefixes "
                        "of %s; dropping it would take every node's IPv6 prefix away. Set "
                        "podnet_plan_cluster_cidr_ipv6: %s (and podnet_plan_ipv6_planner_only: true)"
                        % (recorded, recorded))
    if IPV6.parse_cidr(given, "network.cluster_cidr_ipv6") != IPV6.parse_cidr(
            recorded, "ledger cluster_cidr_ipv6"):
        raise PlanError("network.cluster_cidr_ipv6: %s differs from the ledger's %s; changing it "
                        "would renumber every host's IPv6 pods. Restore %s, or reset the cluster and "
                        "delete the ledger to start over" % (given, recorded, recorded))
    for key in ("node_prefix_ipv6", "zone_prefix_ipv6"):
        mine, theirs = network.get(key), ledger.get(key)
        if mine in (None, ""):
            if theirs is not None:
                result[key] = theirs
        elif theirs is not None and int(mine) != theirs:
            raise PlanError("network.%s: /%s differs from the ledger's /%s; changing it would move "
                            "every host's IPv6 prefix. Restore podnet_plan_%s: %s" % (
                                key, mine, theirs, key, theirs))
    return dict(ledger.get("zones_ipv6") or {})


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
    for zone, block in sorted(_ledger_ipv6(network, ledger, result).items()):
        zones[zone] = dict(zones.get(zone) or {}, block_ipv6=block)
    result["zones"] = dict(sorted(zones.items()))
    return result


def ledger(plan):
    """The ledger document to write for ``plan`` (keys sorted).

    Every node is recorded with its address and underlay prefix (so a node that
    cannot be reached later keeps its backend towards every peer); the
    released-pending nodes of the plan keep their entries.
    """
    try:
        network = plan["network"]
        zones = plan["zones"]
        nodes = plan["nodes"]
    except (TypeError, KeyError):
        raise PlanError("ledger: expected the output of podnet_plan") from None
    entries = {}
    for host, node in nodes.items():
        entries[host] = {"address": node["address"], "pod_cidr": node["pod_cidr"],
                         "zone": node["zone"], "state": ALLOCATED}
        if node["address"] is None:  # only an IPv6 underlay (address_ipv6)
            del entries[host]["address"]
        if node.get("prefix") is not None:
            entries[host]["prefix"] = node["prefix"]
        if node.get("wireguard_key"):
            entries[host]["wireguard_key"] = node["wireguard_key"]
        entries[host].update({key: node[key] for key in IPV6_NODE_KEYS if node.get(key) is not None})
    for host, node in (network.get("released") or {}).items():
        entries[host] = {key: node[key] for key in ("address", "pod_cidr", "prefix", "zone") + IPV6_NODE_KEYS
                         if node.get(key) is not None}
        entries[host]["state"] = RELEASED_PENDING
    result = {
        "cluster_cidr": network["cluster_cidr"],
        "node_prefix": network["node_prefix"],
        "nodes": {host: entries[host] for host in sorted(entries)},
        "podnet_ledger": LEDGER_VERSION,
        # What decided each pair's path when this was written (read by the preview).
        "routing": {key: network[key] for key in ROUTING_KEYS if key in network},
        "zone_prefix": network["zone_prefix"],
        "zones": {zone: zones[zone]["block"] for zone in sorted(zones)},
    }
    if network.get("cluster_cidr_ipv6"):  # dual stack: the IPv6 half beside the IPv4 one
        result.update({key: network[key] for key in ("cluster_cidr_ipv6", "node_prefix_ipv6",
                                                     "zone_prefix_ipv6")})
        result["zones_ipv6"] = {zone: zones[zone]["block_ipv6"] for zone in sorted(zones)
                                if zones[zone].get("block_ipv6")}
    return dict(sorted(result.items()))


__all__ = ["merge_nodes", "ledger_network", "ledger", "ledger_inputs", "released_nodes",
           "mark_reset", "forget_list"]
