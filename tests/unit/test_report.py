# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet report: judged pairs, the document for machines, the page for people."""

import re

from ansible_collections.podnet.network.plugins.plugin_utils.planner import (
    plan, report_document, report_html, verify_report)

PLAN = plan({"a1": {"zone": "a", "address": "192.0.2.1", "prefix": 24},
             "a2": {"zone": "a", "address": "192.0.2.2", "prefix": 24},
             "b1": {"zone": "b", "address": "198.51.100.1", "prefix": 24}},
            {"cluster_cidr": "10.244.0.0/16"})
PROBES = {host: "pod-" + host for host in PLAN["nodes"]}


def results(broken=()):
    out = {}
    for src, node in PLAN["nodes"].items():
        out[src] = {}
        for dst, other in PLAN["nodes"].items():
            if src == dst:
                continue
            backend = "host-gw" if node["zone"] == other["zone"] else "vxlan"
            if (src, dst) in broken:
                out[src][dst] = {"ok": False, "error": "10.244.16.254: timed out", "backend": backend}
            else:
                out[src][dst] = {"ok": True, "source_seen": PROBES[src], "backend": backend, "ms": 0.42}
    return out


def test_the_document_carries_zones_nodes_devices_and_pairs():
    doc = report_document(verify_report(results(), PLAN, PROBES), PLAN, "2026-11-30T09:00:00Z",
                          "/inv/.podnet-ledger.yml", {"a2": "docker0"})
    assert doc["summary"] == {"nodes": 3, "pairs": 6, "failed": 0, "ok": True}
    assert doc["zones"] == [{"zone": "a", "block": "10.244.0.0/20", "nodes": ["a1", "a2"]},
                            {"zone": "b", "block": "10.244.16.0/20", "nodes": ["b1"]}]
    a2 = next(n for n in doc["nodes"] if n["host"] == "a2")
    assert a2["devices"] == ["docker0", "flannel.1"] and a2["mtu"] == 1450
    assert {"src": "a1", "dst": "a2", "ok": True, "backend": "host-gw", "ms": 0.42,
            "error": None} in doc["pairs"]
    assert doc["ledger"] == "/inv/.podnet-ledger.yml" and doc["generated"] == "2026-11-30T09:00:00Z"


def test_the_page_is_self_contained_and_draws_a_failed_pair_red():
    report = verify_report(results(broken={("a2", "b1")}), PLAN, PROBES)
    assert report["failures"] == ["a2 -> b1: 10.244.16.254: timed out"]
    page = report_html(report_document(report, PLAN, "now", "", {}))
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "1 of 6 pairs FAILED" in page and "etcd registry" in page
    edges = re.findall(r'<path class="edge ([a-z-]+)( fail)?" data-a="([^"]+)" data-b="([^"]+)"[^>]*'
                       r'stroke="(#[0-9a-f]+)"', page)
    assert {(a, b): (backend, bool(fail), colour) for backend, fail, a, b, colour in edges} == {
        ("a1", "a2"): ("host-gw", False, "#2a9d8f"),
        ("a1", "b1"): ("vxlan", False, "#3a6ea5"),
        ("a2", "b1"): ("vxlan", True, "#d62828"),
    }
    for node in PLAN["nodes"].values():
        assert node["pod_cidr"] in page and node["address"] in page


def test_names_are_escaped():
    plan_ = plan({"x": {"zone": "z&", "address": "192.0.2.9"}}, {"cluster_cidr": "10.244.0.0/16"})
    # The planner refuses such a hostname (RFC 1123); the report escapes names all the same.
    plan_["nodes"]["<b>x"] = plan_["nodes"].pop("x")
    page = report_html(report_document(verify_report({}, plan_, {}), plan_, "now"))
    assert "<b>x" not in page and "&lt;b&gt;x" in page and "zone z&amp;" in page


def test_the_matrix_names_every_backend_of_a_reached_pair():
    """A pair carried by WireGuard read as a bare "ok" in the lab's matrix."""
    probed = results()
    for src, dst in (("a1", "b1"), ("b1", "a1")):
        probed[src][dst]["backend"] = "wireguard"
    lines = verify_report(probed, PLAN, PROBES)["lines"]
    cells = " ".join(lines[1:])
    assert "wg 0.42ms" in cells and "hg 0.42ms" in cells and "vx 0.42ms" in cells
    assert " ok " not in cells


def test_the_report_names_held_subnets_and_the_etcd_certificates_days_left():
    # before: neither a lease held for a client podnet does not know nor certificate expiry
    # appeared in the report
    network = {"cluster_cidr": "10.244.0.0/16", "released": {
        "lease-198-51-100-7-10-244-9-0-24": {"zone": "a", "address": "198.51.100.7", "pod_cidr": "10.244.9.0/24"}}}
    plan_ = plan({"a1": {"zone": "a", "address": "192.0.2.1", "prefix": 24}}, network)
    doc = report_document(verify_report({}, plan_, {}), plan_, "now",
                          certificates=["ca: 3600 days left (until 2036-10-10)", "client: 12 days left -> re-issue"])
    assert doc["held"] == [{"holder": "lease-198-51-100-7-10-244-9-0-24", "address": "198.51.100.7",
                            "pod_cidr": "10.244.9.0/24", "zone": "a"}]
    assert doc["certificates"][1] == "client: 12 days left -> re-issue"
    page = report_html(doc)
    assert "10.244.9.0/24: lease-198-51-100-7-10-244-9-0-24 (198.51.100.7)" in page
    assert "client: 12 days left -&gt; re-issue" in page
