# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``preview(ledger, plan)``: what applying ``plan`` changes against the ledger it was made from.

Terraform's "plan before apply" for pod subnets: nodes added (and the subnet each
gets), nodes leaving (released-pending, their routes purged from every peer), subnets
freed, nodes moved (a moved subnet breaks every pod on that node: it must always be
none), the backend of every pair whose path changes, MTU changes, and for a zone moving
to or from BGP the nodes that start or stop speaking it and the routers' sessions.
"""

import ipaddress

from .bgp import router_sessions
from .errors import PlanError
from .host_view import host_view
from .ledger import ALLOCATED, ROUTING_KEYS, _check_ledger
from .plan import plan as make_plan

NAMES_SHOWN = 8


def _names(hosts):
    hosts = sorted(hosts)
    if len(hosts) <= NAMES_SHOWN:
        return ", ".join(hosts) or "nobody"
    return "%s and %d more" % (", ".join(hosts[:NAMES_SHOWN]), len(hosts) - NAMES_SHOWN)


def _pair_backends(result, hosts):
    """{(a, b): backend} for a < b, both in ``hosts`` (one host view per host)."""
    pairs = {}
    for name in sorted(hosts):
        for peer in host_view(result, name)["peers"]:
            if peer["hostname"] in hosts and name < peer["hostname"]:
                pairs[(name, peer["hostname"])] = peer["backend"]
    return pairs


def _previous_plan(entries, network, routing):
    """The plan the ledger's allocated nodes had: its routing settings (today's where the
    ledger predates them) on today's allocation settings."""
    nodes = {}
    for host, entry in entries.items():
        node = {"zone": entry["zone"], "address": entry.get("address"),
                "pod_cidr": entry["pod_cidr"]}
        if entry.get("prefix") is not None:
            node["prefix"] = entry["prefix"]
        nodes[host] = node
    settings = {key: value for key, value in network.items() if key not in ("released", "leased")}
    settings.update({key: value for key, value in (routing or {}).items() if key in ROUTING_KEYS})
    # Today's BGP routers, for the zones that used BGP then (a zone moving to BGP had none).
    # The ledger keeps no routers: a zone that used BGP then and names none today (it moves
    # away from BGP) gets a stand-in router on each of its nodes' segments, which decides
    # nothing but lets the old plan be made (pairs and MTU do not depend on the routers).
    then = {zone for zone, backend in (settings.get("zone_backends") or {}).items() if backend == "bgp"}
    bgp = dict(settings.get("bgp") or {})
    routers = {zone: found for zone, found in (bgp.get("routers") or {}).items() if zone in then}
    for zone in sorted(then - set(routers)):
        legs = _stand_in_legs([node for node in nodes.values() if node["zone"] == zone],
                              [node["address"] for node in nodes.values()])
        if legs:
            routers[zone] = [{"name": STAND_IN + zone.replace(".", "_")[:30], "asn": STAND_IN_ASN,
                              "address": legs}]
    if then or bgp:
        settings["bgp"] = dict(bgp, routers=routers)
    return make_plan(nodes, settings)


# The stand-in router of a zone that used BGP then (see _previous_plan); never shown.
STAND_IN, STAND_IN_ASN = "previous_", 64512


def _stand_in_legs(zone_nodes, taken):
    """One address per segment of ``zone_nodes`` that no node holds (the segment's highest
    free host), or [] when a node's address or prefix is unknown (the old plan then fails
    with the planner's own message)."""
    legs = []
    for node in zone_nodes:
        if node.get("address") is None or node.get("prefix") is None:
            return []
        segment = ipaddress.ip_network("%s/%s" % (node["address"], node["prefix"]), strict=False)
        if any(ipaddress.ip_address(leg) in segment for leg in legs):
            continue
        for candidate in (segment.broadcast_address - step for step in range(1, min(segment.num_addresses - 1, 64))):
            if str(candidate) not in taken:
                legs.append(str(candidate))
                break
    return legs


def _bgp_changes(old, new, staying):
    """The nodes starting or stopping BGP (staying nodes only), and per router of today's
    plan the sessions it gains or loses (a router of a zone new to BGP gains them all)."""
    nodes = [{"host": h, "before": old["nodes"][h].get("bgp_asn"), "after": new["nodes"][h].get("bgp_asn")}
             for h in sorted(staying)
             if ("bgp_asn" in old["nodes"][h]) != ("bgp_asn" in new["nodes"][h])]
    before = {name: {s["node"] for s in spec["sessions"]} for name, spec in router_sessions(old).items()
              if not name.startswith(STAND_IN)}
    routers = []
    for name, spec in sorted(router_sessions(new).items()):
        now = {s["node"] for s in spec["sessions"]}
        gained, lost = sorted(now - before.get(name, set())), sorted(before.get(name, set()) - now)
        if gained or lost:
            routers.append({"router": name, "added": gained, "removed": lost})
    return nodes, routers


def preview(ledger, plan):
    """See the module docstring; returns a dict of lists plus ``lines`` for humans."""
    before = _check_ledger(ledger)
    try:
        now = plan["nodes"]
        network = plan["network"]
    except (TypeError, KeyError):
        raise PlanError("preview: expected the output of podnet_plan") from None
    released = network.get("released") or {}
    entries = before.get("nodes") or {}
    allocated = {h: e for h, e in entries.items() if e.get("state", ALLOCATED) == ALLOCATED}
    pending = {h: e for h, e in entries.items() if h not in allocated}

    added = [{"host": h, "zone": now[h]["zone"], "pod_cidr": now[h]["pod_cidr"],
              "returns": h in pending} for h in sorted(now) if h not in allocated]
    leaving = [{"host": h, "pod_cidr": e["pod_cidr"],
                "state": "released-pending" if h in released else "free"}
               for h, e in sorted(allocated.items()) if h not in now]
    freed = [{"host": h, "pod_cidr": e["pod_cidr"]} for h, e in sorted(pending.items())
             if h not in released and h not in now]
    moved = [{"host": h, "before": allocated[h]["pod_cidr"], "after": now[h]["pod_cidr"]}
             for h in sorted(now) if h in allocated and allocated[h]["pod_cidr"] != now[h]["pod_cidr"]]

    staying = {h for h in now if h in allocated}
    backend_changes, mtu_changes, bgp_nodes, bgp_routers, note = [], [], [], [], None
    if staying and not moved:
        try:
            old = _previous_plan({h: allocated[h] for h in staying}, network, before.get("routing"))
        except PlanError as exc:
            note = "pair backends not compared: the ledger's nodes do not plan under " \
                   "today's settings (%s)" % exc
        else:
            old_pairs = _pair_backends(old, staying)
            new_pairs = _pair_backends(plan, staying)
            backend_changes = [{"a": a, "b": b, "before": old_pairs[(a, b)], "after": new_pairs[(a, b)]}
                               for (a, b) in sorted(old_pairs) if old_pairs[(a, b)] != new_pairs[(a, b)]]
            mtu_changes = [{"host": h, "before": old["nodes"][h]["mtu"], "after": now[h]["mtu"]}
                           for h in sorted(staying) if old["nodes"][h]["mtu"] != now[h]["mtu"]]
            bgp_nodes, bgp_routers = _bgp_changes(old, plan, staying)

    peers = sorted(now)
    lines = []
    for item in added:
        lines.append("+ %s gets %s in zone %s%s" % (
            item["host"], item["pod_cidr"], item["zone"],
            " (its own subnet again: it was released-pending)" if item["returns"] else ""))
    for item in leaving:
        lines.append("- %s leaves: %s %s; its routes are purged on %s" % (
            item["host"], item["pod_cidr"],
            "stays reserved (released-pending) until it is reset or forgotten"
            if item["state"] == "released-pending" else "is free", _names(peers)))
    for item in freed:
        lines.append("- %s is freed: %s can be given out again" % (item["host"], item["pod_cidr"]))
    for item in moved:
        lines.append("! %s MOVES from %s to %s: every pod on it would be renumbered" % (
            item["host"], item["before"], item["after"]))
    for item in backend_changes:
        lines.append("~ %s <-> %s: %s -> %s" % (item["a"], item["b"], item["before"], item["after"]))
    for item in mtu_changes:
        lines.append("~ %s: MTU %s -> %s" % (item["host"], item["before"], item["after"]))
    for item in bgp_nodes:
        if item["after"] is not None:
            lines.append("~ %s: starts BGP as AS %d: its BIRD announces %s, the routers carry its "
                         "zone's pairs" % (item["host"], item["after"], now[item["host"]]["pod_cidr"]))
        else:
            lines.append("~ %s: stops BGP (AS %d): its BIRD is stopped, podnet's own paths carry "
                         "its pairs; remove its sessions from the routers" % (item["host"], item["before"]))
    for item in bgp_routers:
        lines.append("~ router %s: sessions %s (include its regenerated .podnet-bgp/%s.*.conf)" % (
            item["router"], "; ".join(part for part in (
                "+ " + ", ".join(item["added"]) if item["added"] else "",
                "- " + ", ".join(item["removed"]) if item["removed"] else "") if part),
            item["router"]))
    if note:
        lines.append("? " + note)
    if not lines:
        lines.append("no change: every node keeps its subnet, every pair its path")
    # etcd mode: the live leases podnet did not plan, held for this run (never in the ledger).
    held = [{"pod_cidr": subnet, "address": spec.get("address"), "holder": spec.get("holder")}
            for subnet, spec in sorted((network.get("leased") or {}).items())]
    lines += ["= %s stays held by %s (%s): no node is planned onto it while the lease lives" % (
        item["pod_cidr"], item["address"], item["holder"]) for item in held]
    return {"added": added, "leaving": leaving, "freed": freed, "moved": moved,
            "backend_changes": backend_changes, "mtu_changes": mtu_changes, "held": held,
            "bgp_nodes": bgp_nodes, "bgp_routers": bgp_routers,
            "lines": lines}
