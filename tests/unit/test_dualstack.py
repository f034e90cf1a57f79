# SPDX-License-Identifier: GPL-3.0-or-later
"""Dual stack in the planner (issue 24, item 1): IPv6 pod prefixes beside the IPv4 subnets,
the checks per family, the ledger's IPv6 half and its upgrade, and IPv4-only plans exactly
as they were."""

import json
import os

import pytest
import yaml

from ansible_collections.podnet.network.plugins.plugin_utils.planner import (
    PlanError, allocation_table, host_view, inventory_nodes, ledger, ledger_inputs, plan, preflight)
from ansible_collections.podnet.network.plugins.plugin_utils.planner.addresses import (
    IPV4, IPV6, cidr6, family_of, ntoa6, parse_address, parse_cidr)
from ansible_collections.podnet.network.plugins.plugin_utils.planner.ledger_reader import (
    check_ledger, read_ledger_text)

DATA = os.path.join(os.path.dirname(__file__), "data", "ipv4_plans.json")
V4 = {"cluster_cidr": "10.244.0.0/16", "service_cidr": "10.96.0.0/12"}
DUAL = dict(V4, cluster_cidr_ipv6="fd00:10:244::/56", ipv6_planner_only=True,
            service_cidr_ipv6="fd00:10:96::/112")


def node(zone, v4=None, v6=None, prefix=24, prefix6=64, **extra):
    spec = {"zone": zone}
    if v4:
        spec.update(address=v4, prefix=prefix)
    if v6:
        spec.update(address_ipv6=v6, prefix_ipv6=prefix6)
    spec.update(extra)
    return spec


def fleet():
    return {
        "a1": node("ams1", "192.168.1.11", "2001:db8:1::11"),
        "a2": node("ams1", "192.168.1.12", "2001:db8:1::12"),
        "b1": node("fra1", "192.168.2.11", "2001:db8:2::11"),
        "c1": node("lon1", None, "2001:db8:3::11"),  # IPv6 underlay only
    }


def fails(nodes, network, *needles):
    with pytest.raises(PlanError) as info:
        plan(nodes, network)
    for needle in needles:
        assert needle in str(info.value), str(info.value)
    return str(info.value)


# --- IPv4-only plans are exactly what they were -------------------------------------------

def test_ipv4_plans_equal_the_stored_ones():
    """The plans, ledgers and one host view that the planner before IPv6 made for these inputs
    (tests/unit/data/ipv4_plans.json, written by that planner), key for key."""
    with open(DATA, encoding="utf-8") as handle:
        cases = json.load(handle)["cases"]
    assert len(cases) == 3
    for case in cases:
        result = plan(case["nodes"], case["network"])
        assert json.dumps(result, sort_keys=True) == json.dumps(case["plan"], sort_keys=True), case["name"]
        assert json.dumps(result) == json.dumps(plan(case["nodes"], case["network"]))
        assert ledger(result) == case["ledger"], case["name"]
        assert host_view(result, "a0") == case["host_view_a0"], case["name"]


def test_ipv4_only_plan_has_no_ipv6_field_and_ignores_the_role_default_node_prefix():
    # The role passes node_prefix_ipv6 (default 64) and ipv6_planner_only (default false)
    # always: without cluster_cidr_ipv6 they change nothing.
    nodes = {h: {k: v for k, v in s.items() if "ipv6" not in k} for h, s in fleet().items() if h != "c1"}
    plain = plan(nodes, V4)
    assert plan(nodes, dict(V4, node_prefix_ipv6=64, ipv6_planner_only=False, cluster_cidr_ipv6=None)) == plain
    assert not [key for key in json.dumps(plain).split('"') if "ipv6" in key]
    assert "cluster_cidr_ipv6" not in ledger(plain)


# --- The IPv6 half of a plan ---------------------------------------------------------------

def test_dual_stack_plan_gives_each_node_an_ipv6_prefix_and_gateway():
    result = plan(fleet(), DUAL)
    four = plan({h: {k: v for k, v in s.items() if "ipv6" not in k} for h, s in fleet().items()
                 if h != "c1"}, V4)
    cluster = parse_cidr("fd00:10:244::/56", "t", IPV6)
    seen = set()
    for host, entry in result["nodes"].items():
        net, plen = parse_cidr(entry["pod_cidr_ipv6"], host, IPV6)
        assert plen == 64 and net & IPV6.mask(56) == cluster[0]
        block = parse_cidr(result["zones"][entry["zone"]]["block_ipv6"], host, IPV6)
        assert block[1] == 60 and net & IPV6.mask(60) == block[0]
        assert entry["gateway_ipv6"] == ntoa6(net + 1)
        assert net not in seen
        seen.add(net)
        if host in four["nodes"]:  # the IPv4 half as the IPv4-only plan has it (but the MTU)
            assert {k: v for k, v in entry.items() if "ipv6" not in k and k != "mtu"} == {
                k: v for k, v in four["nodes"][host].items() if k != "mtu"}
    assert result["nodes"]["a1"]["pod_cidr_ipv6"] == "fd00:10:244::/64"
    assert result["nodes"]["a2"]["pod_cidr_ipv6"] == "fd00:10:244:1::/64"
    assert result["nodes"]["b1"]["pod_cidr_ipv6"] == "fd00:10:244:10::/64"
    assert result["nodes"]["c1"]["address"] is None
    assert result["nodes"]["c1"]["address_ipv6"] == "2001:db8:3::11"
    net = result["network"]
    assert (net["cluster_cidr_ipv6"], net["node_prefix_ipv6"], net["zone_prefix_ipv6"],
            net["service_cidr_ipv6"], net["ipv6_planner_only"]) == (
                "fd00:10:244::/56", 64, 60, "fd00:10:96::/112", True)
    # The normalised network and nodes reproduce the plan (a fixed point), whatever the order.
    assert plan(result["nodes"], result["network"]) == result
    assert plan(dict(reversed(list(fleet().items()))), DUAL) == result


def test_host_views_carry_no_ipv6_yet():
    """Planner stage: the slice the host roles read has no IPv6 field (no host acts on it)."""
    result = plan({h: s for h, s in fleet().items() if h != "c1"}, DUAL)
    for host in result["nodes"]:
        text = json.dumps(host_view(result, host))
        assert "ipv6" not in text and "fd00:" not in text and "2001:db8" not in text


def test_vxlan_over_an_ipv6_underlay_takes_its_larger_overhead():
    result = plan(fleet(), DUAL)
    # c1 has no IPv4 underlay: VXLAN to and from it runs over IPv6 (70 bytes).
    assert {entry["mtu"] for entry in result["nodes"].values()} == {1430}
    no_c1 = plan({h: s for h, s in fleet().items() if h != "c1"}, DUAL)
    assert {entry["mtu"] for entry in no_c1["nodes"].values()} == {1450}


def test_pins_stability_and_capacity_per_zone():
    network = dict(DUAL, zone_prefix_ipv6=62)  # 4 /64 per zone
    nodes = fleet()
    nodes["a2"]["pod_cidr_ipv6"] = "fd00:10:244:3::/64"
    first = plan(nodes, network)
    assert first["nodes"]["a2"]["pod_cidr_ipv6"] == "fd00:10:244:3::/64"
    assert first["nodes"]["a1"]["pod_cidr_ipv6"] == "fd00:10:244::/64"
    # Adding a0 (sorts first) moves nobody: it takes the lowest free prefix of its block.
    pinned = {h: dict(s, pod_cidr=first["nodes"][h]["pod_cidr"],
                      pod_cidr_ipv6=first["nodes"][h]["pod_cidr_ipv6"]) for h, s in nodes.items()}
    pinned["a0"] = node("ams1", "192.168.1.10", "2001:db8:1::10")
    second = plan(pinned, dict(network, zones=first["zones"]))
    assert second["nodes"]["a0"]["pod_cidr_ipv6"] == "fd00:10:244:1::/64"
    for host in nodes:
        assert second["nodes"][host]["pod_cidr_ipv6"] == first["nodes"][host]["pod_cidr_ipv6"]
    for i in range(3, 6):
        pinned["a%d" % i] = node("ams1", "192.168.1.%d" % (20 + i), "2001:db8:1::%d" % (20 + i))
    fails(pinned, dict(network, zones=first["zones"]), "zone 'ams1'", "/64 node subnets",
          "fd00:10:244::/62", "zone_prefix_ipv6")


@pytest.mark.parametrize("change, needles", [
    ({"cluster_cidr_ipv6": "fe80::/64"}, ["network.cluster_cidr_ipv6", "fe80::/64", "ULA"]),
    ({"cluster_cidr_ipv6": "fd00::/24"}, ["network.cluster_cidr_ipv6", "/32 or longer"]),
    ({"cluster_cidr_ipv6": "10.245.0.0/16"}, ["network.cluster_cidr_ipv6", "is IPv4"]),
    ({"cluster_cidr_ipv6": "fd00:10:244::1/56"}, ["host bits", "did you mean 'fd00:10:244::/56'"]),
    ({"node_prefix_ipv6": 56}, ["network.node_prefix_ipv6", "not longer"]),
    ({"node_prefix_ipv6": 127}, ["network.node_prefix_ipv6", "/126 or shorter"]),
    ({"zone_prefix_ipv6": 70}, ["network.zone_prefix_ipv6", "not between"]),
    ({"service_cidr_ipv6": "fd00:10:244:8::/112"}, ["network.service_cidr_ipv6", "overlaps"]),
    ({"reserved": ["fd00:10:244:4::/64"]}, ["network.reserved", "fd00:10:244:4::/64", "IPv6 cluster"]),
    ({"cluster_cidr": "fd00::/48"}, ["network.cluster_cidr", "cluster_cidr_ipv6"]),
    ({"underlay_mtu": 1300}, ["host a1", "MTU", "1280", "podnet_plan_underlay_mtu"]),
])
def test_bad_ipv6_network_names_the_key_and_the_fix(change, needles):
    fails(fleet(), dict(DUAL, **change), *needles)


def test_ipv6_input_without_an_ipv6_cluster_is_refused():
    fails({"a1": node("ams1", "192.168.1.11", "2001:db8:1::11")}, V4, "host a1 address_ipv6",
          "podnet_plan_cluster_cidr_ipv6")
    fails({"a1": node("ams1", "192.168.1.11", pod_cidr_ipv6="fd00::/64")}, V4, "host a1 pod_cidr_ipv6")
    fails({"a1": node("ams1", "192.168.1.11")}, dict(V4, service_cidr_ipv6="fd00::/112"),
          "network.service_cidr_ipv6", "no cluster_cidr_ipv6")


@pytest.mark.parametrize("host, change, needles", [
    ("a1", {"address_ipv6": "fd00:10:244:9::1"}, ["host a1", "IPv6 underlay network",
                                                  "overlaps the IPv6 cluster CIDR"]),
    ("a1", {"address_ipv6": "fd00:10:244:9::1", "prefix_ipv6": None},
     ["host a1", "lies inside the IPv6 cluster CIDR"]),
    ("a1", {"address_ipv6": "2001:db8:1::12"}, ["host a1", "address_ipv6 2001:db8:1::12", "host a2"]),
    ("a1", {"address_ipv6": "fe80::1"}, ["host a1 address_ipv6", "link-local", "podnet_address_ipv6"]),
    ("a1", {"address_ipv6": "192.168.9.9"}, ["host a1 address_ipv6", "is IPv4", "podnet_address"]),
    ("a1", {"address": "2001:db8::9"}, ["host a1 address", "is IPv6", "podnet_address_ipv6"]),
    ("a1", {"prefix_ipv6": 129}, ["host a1 prefix_ipv6", "between 0 and 128"]),
    ("a1", {"pod_cidr_ipv6": "fd00:10:245::/64"}, ["host a1 pod_cidr_ipv6", "outside the IPv6 cluster"]),
    ("a1", {"pod_cidr_ipv6": "fd00:10:244::/60"}, ["host a1 pod_cidr_ipv6", "node_prefix_ipv6 is /64"]),
])
def test_bad_node_input_names_the_host(host, change, needles):
    nodes = fleet()
    nodes[host] = {k: v for k, v in dict(nodes[host], **change).items() if v is not None}
    fails(nodes, DUAL, *needles)


def test_duplicate_ipv6_pin():
    nodes = fleet()
    nodes["a1"]["pod_cidr_ipv6"] = nodes["a2"]["pod_cidr_ipv6"] = "fd00:10:244:5::/64"
    fails(nodes, DUAL, "host a2 pod_cidr_ipv6", "also pinned by host a1")
    nodes["a2"]["pod_cidr_ipv6"] = "fd00:10:244:10::/64"
    fails(nodes, DUAL, "zone 'ams1'", "pins of host a1 (fd00:10:244:5::/64) and host a2",
          "different /60 zone blocks")
    nodes = fleet()
    nodes["a1"]["pod_cidr_ipv6"] = "fd00:10:244:10::/64"
    fails(nodes, dict(DUAL, zones={"fra1": {"block": "10.244.16.0/20", "block_ipv6": "fd00:10:244:10::/60"}}),
          "host a1 pod_cidr_ipv6", "lies in block fd00:10:244:10::/60 of zone 'fra1'")


# --- What each backend needs per pair ------------------------------------------------------

def test_no_common_underlay_family_names_both_hosts():
    nodes = fleet()
    nodes["b1"] = node("fra1", "192.168.2.11")  # IPv4 only, while c1 is IPv6 only
    fails(nodes, DUAL, "hosts b1 (IPv4 underlay only) and c1 (IPv6 underlay only)",
          "podnet_address_ipv6", "podnet_address")
    assert plan({h: s for h, s in nodes.items() if h != "c1"}, DUAL)["nodes"]["b1"]["pod_cidr_ipv6"]


def test_host_gw_needs_a_segment_in_each_pod_family():
    nodes = {h: s for h, s in fleet().items() if h.startswith("a")}
    assert plan(nodes, dict(DUAL, backend="host-gw"))["nodes"]["a1"]["mtu"] == 1500
    # Same IPv4 segment, different IPv6 segments: IPv6 pods cannot be routed host-gw.
    split = dict(nodes, a2=node("ams1", "192.168.1.12", "2001:db8:9::12"))
    fails(split, dict(DUAL, backend="host-gw"), "backend host-gw", "a1 and a2",
          "not on one IPv6 segment", "2001:db8:1::/64", "prefix_ipv6")
    # A node without an IPv6 underlay: host-gw cannot route its IPv6 pods.
    missing = dict(nodes, a2=node("ams1", "192.168.1.12"))
    fails(missing, dict(DUAL, zone_backends={"ams1": "host-gw"}), "network.zone_backends[ams1]",
          "host a2 has no IPv6 underlay address", "podnet_address_ipv6")
    # auto: the IPv4 pods stay host-gw, the IPv6 ones take VXLAN, so the pods' MTU shrinks.
    auto = plan(split, DUAL)
    assert auto["nodes"]["a1"]["mtu"] == 1450
    assert plan(nodes, DUAL)["nodes"]["a1"]["mtu"] == 1500


def test_an_ipv6_only_node_cannot_be_in_a_bgp_zone():
    nodes = fleet()
    network = dict(DUAL, zone_backends={"lon1": "bgp"},
                   bgp={"routers": {"lon1": [{"name": "r1", "asn": 4260000001, "address": "172.30.3.1"}]}})
    fails(nodes, network, "host c1", "bgp", "IPv4", "podnet_address")


def test_preflight_checks_what_is_known_and_shows_the_ipv6_blocks():
    nodes = fleet()
    nodes["a2"] = {"zone": "ams1", "address_ipv6": "2001:db8:1::12"}  # IPv4 still to be asked
    result = preflight(nodes, DUAL)
    assert result["ask"] == ["a2", "c1"]
    assert result["network"]["zones"]["ams1"] == {"block": "10.244.0.0/20",
                                                  "block_ipv6": "fd00:10:244::/60"}


# --- The ledger ----------------------------------------------------------------------------

def test_ipv4_ledger_gains_ipv6_without_moving_an_ipv4_subnet():
    v4_nodes = {h: node(s["zone"], s.get("address") or "192.168.3.11") for h, s in fleet().items()}
    v4_nodes["a2"]["pod_cidr"] = "10.244.7.0/24"
    first = plan(v4_nodes, dict(V4, zone_prefix=20))
    old = ledger(first)
    old["nodes"]["gone"] = {"zone": "ams1", "address": "192.168.1.99", "prefix": 24,
                            "pod_cidr": "10.244.9.0/24", "state": "allocated"}
    check_ledger(old)
    inventory = {h: dict(s, address_ipv6=fleet()[h]["address_ipv6"], prefix_ipv6=64)
                 for h, s in v4_nodes.items() if h != "a2"}
    inventory["a2"] = node("ams1", "192.168.1.12", "2001:db8:1::12")
    inputs = ledger_inputs(inventory, old, {}, DUAL)
    upgraded = plan(inputs["nodes"], inputs["network"])
    for host, entry in first["nodes"].items():
        assert upgraded["nodes"][host]["pod_cidr"] == entry["pod_cidr"]
        assert upgraded["nodes"][host]["pod_cidr_ipv6"]
    for zone, spec in first["zones"].items():
        assert upgraded["zones"][zone]["block"] == spec["block"]
    new = ledger(upgraded)
    # The IPv4 half of the ledger is the old one; the released-pending node keeps its IPv4
    # subnet and, released before dual stack, gets no IPv6 prefix.
    assert {k: v for k, v in new.items() if "ipv6" not in k and k != "nodes"} == {
        k: v for k, v in old.items() if k != "nodes"}
    old["nodes"]["gone"]["state"] = "released-pending"
    old["nodes"]["a2"]["address"] = "192.168.1.12"  # the inventory's new address for it
    assert {h: {k: v for k, v in e.items() if "ipv6" not in k} for h, e in new["nodes"].items()} == old["nodes"]
    assert "pod_cidr_ipv6" not in new["nodes"]["gone"]
    assert new["cluster_cidr_ipv6"] == "fd00:10:244::/56"
    assert new["zones_ipv6"] == {"ams1": "fd00:10:244::/60", "fra1": "fd00:10:244:10::/60",
                                 "lon1": "fd00:10:244:20::/60"}
    assert new["nodes"]["a1"]["pod_cidr_ipv6"] == "fd00:10:244::/64"
    # Written and read back as YAML through the reader, then planned again: nothing moves.
    again = read_ledger_text(yaml.safe_dump(new), "ledger.yml")
    inputs = ledger_inputs(inventory, again, {}, DUAL)
    assert plan(inputs["nodes"], inputs["network"]) == upgraded


def test_dual_stack_ledger_holds_its_ipv6_half():
    result = plan(fleet(), DUAL)
    book = ledger(result)
    check_ledger(book)
    assert "address" not in book["nodes"]["c1"] and book["nodes"]["c1"]["address_ipv6"] == "2001:db8:3::11"
    inventory = {h: {k: v for k, v in s.items() if k != "prefix_ipv6"} for h, s in fleet().items()}
    with pytest.raises(PlanError, match="network.cluster_cidr_ipv6: unset, but the ledger holds"):
        ledger_inputs(inventory, book, {}, V4)
    with pytest.raises(PlanError, match="differs from the ledger's fd00:10:244::/56"):
        ledger_inputs(inventory, book, {}, dict(DUAL, cluster_cidr_ipv6="fd00:10:245::/56"))
    with pytest.raises(PlanError, match="node_prefix_ipv6: /80 differs"):
        ledger_inputs(inventory, book, {}, dict(DUAL, node_prefix_ipv6=80))
    # A node that left: its IPv6 prefix stays held (released-pending), no newcomer gets it.
    del inventory["a2"]
    inventory["a3"] = {"zone": "ams1", "address": "192.168.1.13", "address_ipv6": "2001:db8:1::13"}
    inputs = ledger_inputs(inventory, book, {}, DUAL)
    assert inputs["network"]["released"]["a2"]["pod_cidr_ipv6"] == "fd00:10:244:1::/64"
    later = plan(inputs["nodes"], inputs["network"])
    assert later["nodes"]["a3"]["pod_cidr_ipv6"] == "fd00:10:244:2::/64"
    assert ledger(later)["nodes"]["a2"]["pod_cidr_ipv6"] == "fd00:10:244:1::/64"
    # The inventory may pin an IPv6 prefix; one that contradicts the ledger stops the run.
    inventory["a1"] = dict(inventory["a1"], pod_cidr_ipv6="fd00:10:244:7::/64")
    with pytest.raises(PlanError, match="host a1: the inventory pins pod_cidr_ipv6"):
        ledger_inputs(inventory, book, {}, DUAL)


@pytest.mark.parametrize("path, value, needle", [
    (("nodes", "a1", "pod_cidr_ipv6"), "fd00:10:245::/64", "outside its zone ams1's IPv6 block"),
    (("nodes", "a1", "pod_cidr_ipv6"), "fd00:10:244:1::/64", "is also held by nodes.a"),
    (("nodes", "a1", "address_ipv6"), "banana", "nodes.a1.address_ipv6: 'banana'"),
    (("zones_ipv6", "ams1"), "fd00:10:245::/60", "outside cluster_cidr_ipv6"),
    (("node_prefix_ipv6",), 40, "node_prefix_ipv6"),
])
def test_reader_checks_the_ipv6_half(path, value, needle):
    book = json.loads(json.dumps(ledger(plan(fleet(), DUAL))))
    target = book
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(PlanError, match="ledger.yml: .*" + needle.replace(".", r"\.").replace("(", r"\(")):
        check_ledger(book, "ledger.yml")


def test_reader_refuses_ipv6_fields_in_an_ipv4_ledger():
    book = ledger(plan({"a1": node("ams1", "192.168.1.11")}, V4))
    book["nodes"]["a1"]["pod_cidr_ipv6"] = "fd00::/64"
    with pytest.raises(PlanError, match="nodes.a1.pod_cidr_ipv6: an IPv6 field"):
        check_ledger(book, "ledger.yml")


# --- Inventory and the allocation table -----------------------------------------------------

def test_inventory_gives_the_ipv6_underlay_and_pin():
    hostvars = {
        "a1": {"podnet_zone": "ams1", "podnet_address": "192.168.1.11", "podnet_underlay_prefix": 24,
               "podnet_address_ipv6": "2001:db8:1::11", "podnet_underlay_prefix_ipv6": "64",
               "podnet_pod_cidr_ipv6": "fd00:10:244:5::/64"},
        "c1": {"podnet_zone": "lon1", "podnet_address_ipv6": "2001:db8:3::11"},
        "d1": {"podnet_zone": "lon1", "podnet_address": "192.168.4.11"},
    }
    book = {"nodes": {"c1": {"zone": "lon1", "address_ipv6": "2001:db8:3::11", "prefix_ipv6": 64,
                             "pod_cidr": "10.244.16.0/24"}}}
    nodes = inventory_nodes(["a1", "c1", "d1"], hostvars, book)
    assert nodes["a1"] == {"zone": "ams1", "address": "192.168.1.11", "prefix": 24,
                           "address_ipv6": "2001:db8:1::11", "prefix_ipv6": 64,
                           "pod_cidr_ipv6": "fd00:10:244:5::/64"}
    assert nodes["c1"] == {"zone": "lon1", "address": None, "address_ipv6": "2001:db8:3::11",
                           "prefix_ipv6": 64}
    assert "address_ipv6" not in nodes["d1"]
    with pytest.raises(PlanError, match="between 0 and 128"):
        inventory_nodes(["a1"], {"a1": dict(hostvars["a1"], podnet_underlay_prefix_ipv6=129)})


def test_allocation_table_shows_the_ipv6_prefix():
    lines = allocation_table(plan(fleet(), DUAL))
    assert lines[0].split() == ["HOST", "ZONE", "ADDRESS", "POD", "SUBNET", "MTU", "POD", "PREFIX", "IPV6"]
    assert lines[4].split() == ["c1", "lon1", "2001:db8:3::11", "10.244.32.0/24", "1430",
                                "fd00:10:244:20::/64"]


def test_address_helpers_of_both_families():
    assert family_of("fd00::/8") is IPV6 and family_of("10.0.0.0/8") is IPV4
    assert cidr6(parse_cidr("2001:DB8:0:0::/32", "t", IPV6)[0], 32) == "2001:db8::/32"
    assert parse_address("::ffff:1.2.3.4", "t", IPV6) == (0xFFFF << 32) | 0x01020304
    assert IPV6.overlaps(*parse_cidr("fd00::/8", "t", IPV6), *parse_cidr("fd12::/16", "t", IPV6))
    assert not IPV6.overlaps(*parse_cidr("fd00::/16", "t", IPV6), *parse_cidr("fd01::/16", "t", IPV6))
    with pytest.raises(PlanError, match="not a valid IPv6 address"):
        parse_address("2001:db8::g", "t", IPV6)
