# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/verify.yml's probe results as a verdict, a matrix, a document and a page."""

import html
import ipaddress

from ansible_collections.podnet.network.plugins.module_utils import podnet_slice

# The matrix's label of each backend (the lab prints it, the page draws it).
BACKEND_LABELS = {"host-gw": "hg", "vxlan": "vx", "wireguard": "wg", "bgp": "bg"}


def _same_address(seen, expected):
    """Whether the address a target saw is the source pod's (IPv6 in any spelling)."""
    try:
        return ipaddress.ip_address(str(seen)) == ipaddress.ip_address(str(expected))
    except ValueError:
        return seen == expected


def _judge_ipv6(result, expected):
    """One pair's IPv6 probe (``result``: the probe's ``ipv6`` entry, None when missing):
    ``{ok, backend, ms, error}`` and the matrix cell's text."""
    judged = {"ok": False, "backend": None, "ms": None, "error": None}
    if result is None:
        judged["error"] = "IPv6 not probed (is the probe pod dual stack?)"
        return judged, "??"
    judged["backend"] = result.get("backend")
    if not result.get("ok"):
        judged["error"] = "IPv6 %s" % result.get("error")
        return judged, "FAIL"
    if not _same_address(result.get("source_seen"), expected):
        judged["error"] = "IPv6 source rewritten to %s (expected %s): pod traffic is NATed" % (
            result.get("source_seen"), expected)
        return judged, "NAT"
    judged.update(ok=True, ms=result.get("ms"))
    return judged, "%s %sms" % (BACKEND_LABELS.get(result.get("backend"), "ok"), result.get("ms", ""))


def verify_report(results, plan, probe_addresses, bgp_sessions=None) -> dict:
    """Judge the probes: ``{failures, lines (the matrix), pairs, bgp}`` (filter
    podnet_verify_report). ``bgp_sessions``: ``{host: [{name, state, info, since}]}`` as
    module podnet_bgp reads them from ``birdc show protocols``; a session that is not up
    and Established, or a BGP node without sessions, is a failure.

    Dual stack (the hosts carry the plan's IPv6 pods): each result holds the IPv6 probe
    under ``ipv6`` and ``probe_addresses`` each probe pod's IPv4 and IPv6 address separated
    by white space; a pair passes when both families do, each pair gains ``ipv6`` ({ok,
    backend, ms, error}) and the lines hold a second matrix, the IPv6 pods' (the first one
    the IPv4 pods')."""
    hosts = sorted(plan["nodes"])
    dual = podnet_slice.ipv6_wired(plan["network"])
    if dual:
        addresses = {host: (str(found).split() + [None, None])[:2] for host, found in probe_addresses.items()}
        probe_addresses = {host: pair[0] for host, pair in addresses.items()}
    failures = []
    pairs = []
    width = max(len(h) for h in hosts)
    lines = [" " * width + "  " + "  ".join(h.ljust(width) for h in hosts)]
    lines6 = []
    if dual:
        lines[0] = "IPv4 pods".ljust(width) + lines[0][width:]
        lines6.append("IPv6 pods".ljust(width) + lines[0][width:])
    for src in hosts:
        cells, cells6 = [], []
        for dst in hosts:
            if src == dst:
                cells.append("-".ljust(width))
                cells6.append("-".ljust(width))
                continue
            result = (results.get(src) or {}).get(dst)
            pair = {"src": src, "dst": dst, "ok": False, "backend": None, "ms": None, "error": None}
            if result is None:
                pair["error"] = "not probed (host unreachable?)"
                cells.append("??".ljust(width))
            elif not result.get("ok"):
                pair.update(backend=result.get("backend"), error=str(result.get("error")))
                cells.append("FAIL".ljust(width))
            elif result.get("source_seen") != probe_addresses.get(src):
                pair.update(backend=result.get("backend"),
                            error=f"source rewritten to {result['source_seen']} (expected "
                                  f"{probe_addresses.get(src)}): pod traffic is NATed")
                cells.append("NAT".ljust(width))
            else:
                pair.update(ok=True, backend=result.get("backend"), ms=result.get("ms"))
                label = BACKEND_LABELS.get(result.get("backend"), "ok")
                cells.append(f"{label} {result.get('ms', '')}ms".ljust(width))
            if dual and result is None:
                cells6.append("??".ljust(width))
            elif dual:
                pair["ipv6"], cell6 = _judge_ipv6(result.get("ipv6"), addresses.get(src, [None, None])[1])
                cells6.append(cell6.ljust(width))
                if not pair["ipv6"]["ok"]:
                    pair["ok"] = False
                    pair["error"] = "; ".join(e for e in (pair["error"], pair["ipv6"]["error"]) if e)
            if pair["error"]:
                failures.append(f"{src} -> {dst}: {pair['error']}")
            pairs.append(pair)
        lines.append(src.ljust(width) + "  " + "  ".join(cells))
        if dual:
            lines6.append(src.ljust(width) + "  " + "  ".join(cells6))
    # Judged on the nodes of BGP zones only (a node leaving BGP reports none, rightly).
    bgp = bgp_report({host: found for host, found in (bgp_sessions or {}).items()
                      if "bgp_asn" in (plan["nodes"].get(host) or {})})
    failures += bgp["failures"]
    lines += lines6 + bgp["lines"]
    return {"failures": failures, "lines": lines, "pairs": pairs, "bgp": bgp["sessions"]}


def bgp_report(bgp_sessions) -> dict:
    """``{sessions: [{host, name, state, info, since, ok}], lines, failures}`` of the BGP nodes."""
    sessions, lines, failures = [], [], []
    for host in sorted(bgp_sessions):
        found = bgp_sessions[host] or []
        if not found:
            failures.append(f"{host}: no BGP session (is bird running? birdc show protocols)")
            lines.append(f"BGP {host}: no session")
        for item in found:
            ok = item.get("state") == "up" and str(item.get("info", "")).startswith("Established")
            sessions.append({"host": host, "name": item.get("name"), "state": item.get("state"),
                             "info": item.get("info"), "since": item.get("since"), "ok": ok})
            lines.append(f"BGP {host} {item.get('name')}: {item.get('state')} {item.get('info', '')}".rstrip()
                         + (f" (since {item['since']})" if item.get("since") else ""))
            if not ok:
                failures.append(f"{host}: BGP session {item.get('name')} is {item.get('state')} "
                                f"({item.get('info') or 'no info'}): see birdc show protocols all on it")
    return {"sessions": sessions, "lines": lines, "failures": failures}


PATH_COLOURS = {"host-gw": "#2a9d8f", "vxlan": "#3a6ea5", "wireguard": "#8e44ad", "bgp": "#e76f51"}
FAIL_COLOUR = "#d62828"


def report_document(report, plan, generated, ledger="", bridges=None, certificates=None) -> dict:
    """The fleet report for machines: the same data index.html draws. ``held`` lists the
    subnets held by holders that are no nodes of the plan (released-pending nodes and, in etcd
    mode, leases of clients podnet does not know), each with its address (a lease's PublicIP);
    ``certificates`` the etcd CA's and certificates' days left (``podnet_etcd`` entry point
    ``expiry``), one line each.

    Dual stack (the hosts carry the plan's IPv6 pods): the document gains
    ``cluster_cidr_ipv6``, each zone ``block_ipv6``, each node ``address_ipv6`` and
    ``pod_cidr_ipv6`` (``address`` is null for a node with an IPv6-only underlay) and its
    tunnel devices as its slice has them (flannel.<vni> over IPv4, flannel-v6.<vni> over
    IPv6, the WireGuard device); an IPv4-only document is the one it was."""
    bridges = bridges or {}
    network = plan["network"]
    dual = podnet_slice.ipv6_wired(network)
    nodes = []
    for host in sorted(plan["nodes"]):
        node = plan["nodes"][host]
        devices = [bridges.get(host) or "cbr0"]
        if dual:
            devices += _tunnel_devices(network, plan["nodes"], host)
        elif node["mtu"] < network["underlay_mtu"]:  # the MTU drops only for VXLAN peers
            devices.append(network["vxlan"]["device"])
        entry = {"host": host, "zone": node["zone"], "address": node["address"],
                 "pod_cidr": node["pod_cidr"], "mtu": node["mtu"], "devices": devices}
        if dual:
            entry.update(address_ipv6=node.get("address_ipv6"), pod_cidr_ipv6=node["pod_cidr_ipv6"])
        nodes.append(entry)
    zones = [{"zone": zone, "block": plan["zones"][zone]["block"],
              "nodes": [n["host"] for n in nodes if n["zone"] == zone]}
             for zone in sorted(plan["zones"])]
    if dual:
        for zone in zones:
            zone["block_ipv6"] = plan["zones"][zone["zone"]].get("block_ipv6")
    pairs = list(report.get("pairs") or [])
    failed = [p for p in pairs if not p["ok"]]
    held = [{"holder": name, "address": entry.get("address"), "pod_cidr": entry.get("pod_cidr"),
             "zone": entry.get("zone")} for name, entry in sorted((network.get("released") or {}).items())]
    # etcd mode: a live lease podnet did not plan (re-read on every run, never in the ledger).
    held += [{"holder": entry.get("holder"), "address": entry.get("address"), "pod_cidr": subnet,
              "zone": None} for subnet, entry in sorted((network.get("leased") or {}).items())]
    document = {
        "generated": str(generated), "ledger": str(ledger or ""),
        "cluster_cidr": network["cluster_cidr"], "zones": zones, "nodes": nodes, "pairs": pairs,
        "held": held, "certificates": [str(line) for line in certificates or []],
        "bgp": list(report.get("bgp") or []),
        "summary": {"nodes": len(nodes), "pairs": len(pairs), "failed": len(failed),
                    "ok": not failed},
    }
    if dual:
        document["cluster_cidr_ipv6"] = network["cluster_cidr_ipv6"]
    return document


def _tunnel_devices(network, nodes, host):
    """The tunnel devices HOST's slice declares (dual stack: which VXLAN device a node has
    depends on its underlay families and its peers', not on its MTU)."""
    view = podnet_slice.slice_view(network, nodes, host, peers=False)
    return [device["device"] for device in (view.get("vxlan"), view.get("vxlan_ipv6"), view.get("wireguard"))
            if device]


def _layout(document):
    """Zones as columns, nodes stacked in them: {host: (x, y)} box origins and the size."""
    box_w, box_h, gap, pad, head = 210, 74, 26, 24, 46
    if "cluster_cidr_ipv6" in document:  # two more lines: IPv6 underlay and pods
        box_h, head = 106, 62
    positions, zone_boxes = {}, []
    x = pad
    tallest = 0
    for zone in document["zones"]:
        height = head + len(zone["nodes"]) * (box_h + gap) + pad
        zone_boxes.append((zone, x, pad, box_w + 2 * pad, height))
        for index, host in enumerate(zone["nodes"]):
            positions[host] = (x + pad, pad + head + index * (box_h + gap))
        tallest = max(tallest, height)
        x += box_w + 2 * pad + 90  # room between zones for the edges
    return positions, zone_boxes, (box_w, box_h), (max(x - 90 + pad, 300), tallest + 2 * pad)


def _edges(document):
    """One edge per unordered pair: its path, and the errors of either direction."""
    edges = {}
    for pair in document["pairs"]:
        key = tuple(sorted((pair["src"], pair["dst"])))
        edge = edges.setdefault(key, {"backend": None, "errors": []})
        edge["backend"] = edge["backend"] or pair.get("backend")
        if "ipv6" in pair:  # dual stack: the IPv6 pods' path, named in the edge's title
            edge["backend_ipv6"] = edge.get("backend_ipv6") or pair["ipv6"].get("backend")
        if not pair["ok"]:
            edge["errors"].append("%s -> %s: %s" % (pair["src"], pair["dst"], pair.get("error")))
    return edges


def _svg(document):
    positions, zone_boxes, (box_w, box_h), (width, height) = _layout(document)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
           'role="img" aria-label="podnet fleet topology">' % (width, height, width, height)]
    for zone, x, y, w, h in zone_boxes:
        out.append('<g class="zone" data-zone="%s"><rect x="%d" y="%d" width="%d" height="%d" rx="14" '
                   'fill="#f4f1ea" stroke="#9c8f7a"/><text x="%d" y="%d" font-size="15" '
                   'font-weight="bold">zone %s</text><text x="%d" y="%d" font-size="12" '
                   'fill="#555">%s</text></g>' % (
                       html.escape(zone["zone"]), x, y, w, h, x + 14, y + 22,
                       html.escape(zone["zone"]), x + 14, y + 38, html.escape(zone["block"])))
        if "block_ipv6" in zone:
            out[-1] = out[-1][:-len("</g>")] + '<text x="%d" y="%d" font-size="12" fill="#555">%s</text></g>' % (
                x + 14, y + 54, html.escape(str(zone["block_ipv6"])))
    for (a, b), edge in sorted(_edges(document).items()):
        if a not in positions or b not in positions:
            continue
        (ax, ay), (bx, by) = positions[a], positions[b]
        ay, by = ay + box_h / 2, by + box_h / 2
        if ax == bx:  # same zone column: an arc on the left of the boxes
            bend = ax - 18 - abs(by - ay) / 6
            d = "M %d %d Q %d %d %d %d" % (ax, ay, bend, (ay + by) / 2, bx, by)
        else:
            if ax > bx:
                (ax, ay), (bx, by) = (bx, by), (ax, ay)
            d = "M %d %d L %d %d" % (ax + box_w, ay, bx, by)
        failed = bool(edge["errors"])
        colour = FAIL_COLOUR if failed else PATH_COLOURS.get(edge["backend"], "#777")
        title = "; ".join(edge["errors"]) if failed else "%s <-> %s: %s" % (a, b, edge["backend"])
        if not failed and "backend_ipv6" in edge:
            title += " (IPv4), %s (IPv6)" % edge["backend_ipv6"]
        out.append('<path class="edge %s%s" data-a="%s" data-b="%s" d="%s" fill="none" stroke="%s" '
                   'stroke-width="%s"%s><title>%s</title></path>' % (
                       html.escape(str(edge["backend"])), " fail" if failed else "", html.escape(a),
                       html.escape(b), d, colour, 4 if failed else 2,
                       ' stroke-dasharray="8 5"' if failed else "", html.escape(title)))
    for node in document["nodes"]:
        x, y = positions[node["host"]]
        if "pod_cidr_ipv6" in node:
            out.append(_dual_stack_node(node, x, y, box_w, box_h))
            continue
        out.append('<g class="node" data-host="%s"><rect x="%d" y="%d" width="%d" height="%d" rx="8" '
                   'fill="#fff" stroke="#333"/><text x="%d" y="%d" font-size="14" '
                   'font-weight="bold">%s</text><text x="%d" y="%d" font-size="12">%s</text>'
                   '<text x="%d" y="%d" font-size="12">pods %s</text><text x="%d" y="%d" '
                   'font-size="11" fill="#555">MTU %s · %s</text></g>' % (
                       html.escape(node["host"]), x, y, box_w, box_h, x + 10, y + 18,
                       html.escape(node["host"]), x + 10, y + 34, html.escape(node["address"]),
                       x + 10, y + 50, html.escape(node["pod_cidr"]), x + 10, y + 66, node["mtu"],
                       html.escape(" ".join(node["devices"]))))
    out.append("</svg>")
    return "".join(out)


def _dual_stack_node(node, x, y, box_w, box_h):
    """A node's box, dual stack: its underlay address of each family (or none), its pod
    prefix of each family, MTU and devices."""
    lines = [(14, "bold", node["host"]),
             (12, None, node["address"] or "no IPv4 underlay"),
             (12, None, node.get("address_ipv6") or "no IPv6 underlay"),
             (12, None, "pods %s" % node["pod_cidr"]),
             (12, None, "pods %s" % node["pod_cidr_ipv6"])]
    texts = "".join('<text x="%d" y="%d" font-size="%d"%s>%s</text>' % (
        x + 10, y + 18 + 16 * index, size, ' font-weight="bold"' if weight else "", html.escape(str(text)))
        for index, (size, weight, text) in enumerate(lines))
    return ('<g class="node" data-host="%s"><rect x="%d" y="%d" width="%d" height="%d" rx="8" fill="#fff" '
            'stroke="#333"/>%s<text x="%d" y="%d" font-size="11" fill="#555">MTU %s · %s</text></g>' % (
                html.escape(node["host"]), x, y, box_w, box_h, texts, x + 10, y + 18 + 16 * len(lines),
                node["mtu"], html.escape(" ".join(node["devices"]))))


def _cell(pair):
    """A matrix cell's class and text for a reached pair (dual stack: both families)."""
    text = "%s %s ms" % (BACKEND_LABELS.get(pair["backend"], "ok"), pair["ms"])
    if "ipv6" in pair:
        text += " / %s %s ms" % (BACKEND_LABELS.get(pair["ipv6"]["backend"], "ok"), pair["ipv6"]["ms"])
    return text


def _matrix(document):
    hosts = [n["host"] for n in document["nodes"]]
    cells = {(p["src"], p["dst"]): p for p in document["pairs"]}
    rows = ["<tr><th>from \\ to</th>%s</tr>" % "".join("<th>%s</th>" % html.escape(h) for h in hosts)]
    for src in hosts:
        row = ["<th>%s</th>" % html.escape(src)]
        for dst in hosts:
            pair = cells.get((src, dst))
            if src == dst:
                row.append('<td class="self">-</td>')
            elif pair is None:
                row.append('<td class="fail" title="not probed">??</td>')
            elif not pair["ok"]:
                row.append('<td class="fail" title="%s">FAIL</td>' % html.escape(str(pair["error"])))
            else:
                row.append('<td class="ok %s">%s</td>' % (html.escape(str(pair["backend"])), _cell(pair)))
        rows.append("<tr>%s</tr>" % "".join(row))
    return "<table class=\"matrix\">%s</table>" % "".join(rows)


def report_html(document) -> str:
    """One self-contained page: inline SVG and CSS, no script, nothing fetched."""
    summary = document["summary"]
    verdict = ("all %d nodes reach each other, no NAT" % summary["nodes"] if summary["ok"]
               else "%d of %d pairs FAILED" % (summary["failed"], summary["pairs"]))
    failures = "".join("<li>%s -&gt; %s: %s</li>" % (html.escape(p["src"]), html.escape(p["dst"]),
                                                     html.escape(str(p["error"])))
                       for p in document["pairs"] if not p["ok"])
    present = {p.get("backend") for p in document["pairs"]}
    legend = " ".join('<span style="color:%s">&#9472;&#9472; %s</span>' % (colour, name)
                      for name, colour in PATH_COLOURS.items() if name in present)
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>podnet fleet report</title>',
        "<style>body{font-family:sans-serif;margin:24px;color:#222}"
        ".verdict{font-size:18px;font-weight:bold}.verdict.bad{color:%s}.verdict.good{color:#2a7d2a}"
        "table.matrix{border-collapse:collapse;margin-top:12px}table.matrix td,table.matrix th"
        "{border:1px solid #bbb;padding:4px 8px;font-size:12px}td.fail{background:#f8d0d0;"
        "color:%s;font-weight:bold}td.self{color:#aaa}.meta{color:#555;font-size:12px}</style>"
        "</head><body>" % (FAIL_COLOUR, FAIL_COLOUR),
        "<h1>podnet fleet</h1>",
        '<p class="verdict %s">%s</p>' % ("good" if summary["ok"] else "bad", html.escape(verdict)),
        '<p class="meta">cluster %s · made %s · ledger %s</p>' % (
            html.escape(document["cluster_cidr"] + (" + " + document["cluster_cidr_ipv6"]
                                                    if document.get("cluster_cidr_ipv6") else "")),
            html.escape(document["generated"]),
            html.escape(document["ledger"] or "etcd registry")),
        '<p class="meta">paths: %s <span style="color:%s">- - failed</span></p>' % (legend, FAIL_COLOUR),
        _svg(document),
        ("<h2>Failed pairs</h2><ul class=\"failures\">%s</ul>" % failures) if failures else "",
        ("<h2>Subnets held by no node of the plan</h2><ul class=\"held\">%s</ul>" % "".join(
            "<li>%s: %s (%s)</li>" % (html.escape(str(h["pod_cidr"])), html.escape(str(h["holder"])),
                                      html.escape(str(h["address"] or "address unknown")))
            for h in document.get("held") or [])) if document.get("held") else "",
        ("<h2>etcd certificates (days left)</h2><ul class=\"certificates\">%s</ul>" % "".join(
            "<li>%s</li>" % html.escape(line) for line in document.get("certificates") or []))
        if document.get("certificates") else "",
        "<h2>Pairs (connect time from pod to pod%s)</h2>" % (
            ": IPv4 / IPv6" if document.get("cluster_cidr_ipv6") else ""),
        _matrix(document),
        "</body></html>",
    ])


# The node agent's since-time metrics (docs/agent.md) and what each one names.
AGENT_SINCE_METRICS = {
    "podnet_agent_drift_since_timestamp_seconds": ("drift", "concern"),
    "podnet_agent_check_error_since_timestamp_seconds": ("check error", "concern"),
    "podnet_agent_peer_unreachable_since_timestamp_seconds": ("peer unreachable", "peer"),
}
# The PromQL query that reads them all (one request to Prometheus' /api/v1/query).
AGENT_SINCE_QUERY = '{__name__=~"%s"}' % "|".join(sorted(AGENT_SINCE_METRICS))


def _utc(seconds) -> str:
    import datetime  # pylint: disable=import-outside-toplevel  # only this report needs it
    moment = datetime.datetime.fromtimestamp(float(seconds), datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration(seconds) -> str:
    seconds = max(0, int(seconds))
    days, seconds = divmod(seconds, 86400)
    if days:
        return "%dd%02dh" % (days, seconds // 3600)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return "%dh%02dm" % (hours, minutes)
    if minutes:
        return "%dm%02ds" % (minutes, seconds)
    return "%ds" % seconds


def agent_problems(samples, now) -> dict:
    """The fleet's agent problems with since when each holds, from Prometheus' answer to
    AGENT_SINCE_QUERY (``data.result``: ``[{"metric": {labels}, "value": [t, "first-seen
    Unix time"]}]``) at NOW (Unix time): ``{"problems": [{node, problem, subject, zone,
    since, since_unix, for_seconds}] (oldest first), "lines": [one per problem]}``
    (filter podnet_agent_problems)."""
    problems = []
    for sample in samples or []:
        labels = sample.get("metric") or {}
        kind = AGENT_SINCE_METRICS.get(labels.get("__name__"))
        if kind is None:
            continue
        first = float(sample["value"][1])
        problems.append({
            "node": labels.get("instance", "?"), "problem": kind[0], "subject": labels.get(kind[1], "?"),
            "zone": labels.get("zone"), "since": _utc(first), "since_unix": first,
            "for_seconds": round(max(0.0, float(now) - first), 1),
        })
    problems.sort(key=lambda p: (p["since_unix"], p["node"], p["problem"], p["subject"]))
    lines = ["%s: %s %s%s since %s (%s)" % (
        p["node"], p["problem"], p["subject"], " (zone %s)" % p["zone"] if p["zone"] else "",
        p["since"], _duration(p["for_seconds"])) for p in problems]
    return {"problems": problems, "lines": lines or ["no agent reports a problem"]}
