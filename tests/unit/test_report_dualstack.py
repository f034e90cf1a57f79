# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet report of a dual-stack plan: each node's prefixes and underlay addresses of both
families, each pair judged in both pod families; an IPv4-only report byte for byte the one
made before dual stack (tests/unit/data/report_ipv4.json, written by that code)."""

import json
import os

from ansible_collections.podnet.network.plugins.plugin_utils.planner import (
    plan, report_document, report_html, verify_report)

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "report_ipv4.json")


def ipv4_sample():
    """An IPv4-only fleet with every kind of cell: host-gw, VXLAN, WireGuard, a failed, a
    NATed and an unprobed pair, another bridge, a held subnet and certificate lines."""
    network = {"cluster_cidr": "10.244.0.0/16", "released": {
        "gone": {"zone": "a", "address": "192.0.2.9", "pod_cidr": "10.244.9.0/24"}}}
    plan_ = plan({"a1": {"zone": "a", "address": "192.0.2.1", "prefix": 24},
                  "a2": {"zone": "a", "address": "192.0.2.2", "prefix": 24},
                  "b1": {"zone": "b", "address": "198.51.100.1", "prefix": 24},
                  "b2": {"zone": "b", "address": "198.51.100.2", "prefix": 24}}, network)
    probes = {host: "pod-" + host for host in plan_["nodes"]}
    results = {}
    for src, node in plan_["nodes"].items():
        results[src] = {}
        for dst, other in plan_["nodes"].items():
            if src != dst:
                backend = "host-gw" if node["zone"] == other["zone"] else "wireguard" if "2" in src + dst else "vxlan"
                results[src][dst] = {"ok": True, "source_seen": probes[src], "backend": backend, "ms": 0.42}
    results["a2"]["b1"] = {"ok": False, "error": "10.244.16.254: timed out", "backend": "vxlan"}
    results["b1"]["a1"]["source_seen"] = "192.0.2.1"
    del results["b2"]["a1"]
    report = verify_report(results, plan_, probes)
    document = report_document(report, plan_, "2026-12-07T16:00:00Z", "/inv/.podnet-ledger.yml",
                               {"a2": "docker0"}, ["ca: 3600 days left"])
    return {"report": report, "document": document, "html": report_html(document)}


def test_an_ipv4_only_report_is_the_one_made_before_dual_stack():
    with open(DATA, encoding="utf-8") as stored:
        before = json.load(stored)
    now = json.loads(json.dumps(ipv4_sample()))
    assert now["report"] == before["report"]
    assert now["document"] == before["document"]
    assert now["html"] == before["html"]


# The lab's dual-stack layout (make lab LAB_IPV6=1): zone a on both underlay families, zone b
# on IPv6 only.
DUAL = plan({"a1": {"zone": "a", "address": "172.30.21.11", "prefix": 24, "address_ipv6": "fd00:30:21::11",
                    "prefix_ipv6": 64},
             "a2": {"zone": "a", "address": "172.30.21.12", "prefix": 24, "address_ipv6": "fd00:30:21::12",
                    "prefix_ipv6": 64},
             "b1": {"zone": "b", "address": None, "address_ipv6": "fd00:30:22::11", "prefix_ipv6": 64},
             "b2": {"zone": "b", "address": None, "address_ipv6": "fd00:30:22::12", "prefix_ipv6": 64}},
            {"cluster_cidr": "10.244.0.0/16", "cluster_cidr_ipv6": "fd00:10:244::/56"})


def probe_pods(plan_):
    """{host: "IPv4 IPv6"} as verify.yml reads the dual-stack probe's two output lines."""
    return {host: "10.0.0.%d\nfd00::%d" % (index, index) for index, host in enumerate(sorted(plan_["nodes"]))}


def dual_results(plan_, broken6=(), missing6=()):
    probes = {host: found.split() for host, found in probe_pods(plan_).items()}
    out = {}
    for src in plan_["nodes"]:
        out[src] = {}
        for dst in plan_["nodes"]:
            if src == dst:
                continue
            out[src][dst] = {"ok": True, "source_seen": probes[src][0], "backend": "vxlan", "ms": 0.5}
            if (src, dst) in broken6:
                out[src][dst]["ipv6"] = {"ok": False, "error": "fd00::9: timed out", "backend": "host-gw"}
            elif (src, dst) not in missing6:
                # the echo server prints an IPv6 peer in its short form; the long one is the same
                seen = probes[src][1].replace("fd00::", "fd00:0:0:0:0:0:0:")
                out[src][dst]["ipv6"] = {"ok": True, "source_seen": seen, "backend": "host-gw", "ms": 0.3}
    return out


def test_the_dual_stack_document_has_both_prefixes_and_underlays_per_node():
    doc = report_document(verify_report(dual_results(DUAL), DUAL, probe_pods(DUAL)), DUAL, "now")
    assert doc["summary"]["ok"] and doc["cluster_cidr_ipv6"] == "fd00:10:244::/56"
    nodes = {node["host"]: node for node in doc["nodes"]}
    for host, node in DUAL["nodes"].items():
        assert nodes[host]["pod_cidr"] == node["pod_cidr"] and nodes[host]["pod_cidr_ipv6"] == node["pod_cidr_ipv6"]
        assert nodes[host]["address_ipv6"] == node["address_ipv6"] and nodes[host]["address"] == node["address"]
    assert nodes["b1"]["address"] is None and nodes["a1"]["address"] == "172.30.21.11"
    assert nodes["a1"]["pod_cidr_ipv6"].startswith("fd00:10:244:") and nodes["a1"]["pod_cidr_ipv6"].endswith("/64")
    # the tunnel devices the slices declare: no node shares an IPv4 underlay with zone b, so
    # every tunnel runs over IPv6 (flannel-v6.1); a1 and a2 are host-gw in both families
    assert {host: node["devices"] for host, node in nodes.items()} == {
        "a1": ["cbr0", "flannel-v6.1"], "a2": ["cbr0", "flannel-v6.1"],
        "b1": ["cbr0", "flannel-v6.1"], "b2": ["cbr0", "flannel-v6.1"]}
    assert all(zone["block_ipv6"].startswith("fd00:10:244:") for zone in doc["zones"])
    page = report_html(doc)
    for node in DUAL["nodes"].values():
        assert node["pod_cidr_ipv6"] in page and node["address_ipv6"] in page and node["pod_cidr"] in page
    assert "172.30.21.11" in page and page.count("no IPv4 underlay") == 2
    assert "10.244.0.0/16 + fd00:10:244::/56" in page and "vx 0.5 ms / hg 0.3 ms" in page


def test_each_pair_is_judged_in_both_pod_families():
    report = verify_report(dual_results(DUAL, broken6={("a1", "b2")}, missing6={("b1", "a2")}), DUAL,
                           probe_pods(DUAL))
    assert report["failures"] == ["a1 -> b2: IPv6 fd00::9: timed out",
                                  "b1 -> a2: IPv6 not probed (is the probe pod dual stack?)"]
    a1_b2 = next(p for p in report["pairs"] if (p["src"], p["dst"]) == ("a1", "b2"))
    assert not a1_b2["ok"] and a1_b2["backend"] == "vxlan" and a1_b2["ipv6"]["backend"] == "host-gw"
    a2_b1 = next(p for p in report["pairs"] if (p["src"], p["dst"]) == ("a2", "b1"))
    assert a2_b1["ok"] and a2_b1["ipv6"] == {"ok": True, "backend": "host-gw", "ms": 0.3, "error": None}
    # two matrices: the IPv4 pods', then the IPv6 pods'
    assert report["lines"][0].startswith("IPv4 pods") and report["lines"][5].startswith("IPv6 pods")
    row4, row6 = [line for line in report["lines"] if line.startswith("a1")]
    assert row4.split()[1:] == ["-", "vx", "0.5ms", "vx", "0.5ms", "vx", "0.5ms"]
    assert row6.split()[1:] == ["-", "hg", "0.3ms", "hg", "0.3ms", "FAIL"]
    assert report["lines"][8].split()[1:] == ["hg", "0.3ms", "??", "-", "hg", "0.3ms"]
    # an IPv6 source rewritten on the way is NAT, as for IPv4
    nat = dual_results(DUAL)
    nat["a1"]["a2"]["ipv6"]["source_seen"] = "fd00:30:21::11"
    assert verify_report(nat, DUAL, probe_pods(DUAL))["failures"] == [
        "a1 -> a2: IPv6 source rewritten to fd00:30:21::11 (expected fd00::0): pod traffic is NATed"]


def test_the_probe_gets_each_peers_ipv6_prefix_and_path_only_in_dual_stack():
    from ansible_collections.podnet.network.plugins.plugin_utils.planner import host_view  # pylint: disable=import-outside-toplevel
    peers = {p["hostname"]: p for p in host_view(DUAL, "b1")["peers"]}
    assert peers["b2"]["backend_ipv6"] == "host-gw" and peers["b2"]["backend"] == "vxlan"
    assert peers["a1"]["backend_ipv6"] == "vxlan" and peers["a1"]["pod_cidr_ipv6"] == DUAL["nodes"]["a1"]["pod_cidr_ipv6"]
    ipv4 = plan({"a1": {"zone": "a", "address": "192.0.2.1"}, "a2": {"zone": "a", "address": "192.0.2.2"}},
                {"cluster_cidr": "10.244.0.0/16"})
    assert set(host_view(ipv4, "a1")["peers"][0]) == {"hostname", "zone", "address", "pod_cidr", "backend"}
