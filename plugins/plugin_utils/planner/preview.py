# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``preview(ledger, plan)``: what applying ``plan`` changes against the ledger it was made from.

Terraform's "plan before apply" for pod subnets: nodes added (and the subnet each
gets), nodes leaving (released-pending, their routes purged from every peer), subnets
freed, nodes moved (a moved subnet breaks every pod on that node: it must always be
none), the backend of every pair whose path changes, and MTU changes.
"""

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
    bgp = settings.get("bgp")
    if bgp:
        then = {zone for zone, backend in (settings.get("zone_backends") or {}).items() if backend == "bgp"}
        settings["bgp"] = dict(bgp, routers={zone: routers for zone, routers in (bgp.get("routers") or {}).items()
                                             if zone in then})
    return make_plan(nodes, settings)


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
    backend_changes, mtu_changes, note = [], [], None
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
            "lines": lines}
