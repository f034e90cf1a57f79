# SPDX-License-Identifier: GPL-3.0-or-later
"""The bgp backend in the planner (docs/bgp.md): per-zone choice, the ASN scheme (one private
ASN per node from its pod subnet), the refusals before any host is contacted, the host
view's bgp slice and the routers' generated neighbour blocks."""

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.podnet.network.plugins.plugin_utils.planner import (
    PlanError, bgp_nodes, bgp_router_config, host_view, ledger, ledger_inputs, plan, preflight)

ROUTERS = {"dc1": [{"name": "tor", "asn": 4260000000, "address": ["172.30.81.254", "172.30.82.254"]}]}
NET = {"cluster_cidr": "10.244.0.0/16", "zone_backends": {"dc1": "bgp"},
       "bgp": {"routers": ROUTERS}}
NODES = {
    "a1": {"zone": "dc1", "address": "172.30.81.11", "prefix": 24},
    "a2": {"zone": "dc1", "address": "172.30.81.12", "prefix": 24},
    "b1": {"zone": "dc1", "address": "172.30.82.11", "prefix": 24},
    "w1": {"zone": "dc2", "address": "172.30.90.11", "prefix": 24},
}


def fails(nodes, network, *fragments, step=plan):
    with pytest.raises(PlanError) as info:
        step(nodes, network)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)
    return str(info.value)


def test_pairs_inside_a_bgp_zone_get_no_podnet_route_and_no_tunnel():
    result = plan(NODES, NET)
    view = host_view(result, "a1")
    assert [(p["hostname"], p["backend"]) for p in view["peers"]] == [
        ("a2", "bgp"), ("b1", "bgp"), ("w1", "vxlan")]
    # only the cross-zone peer is podnet's (VXLAN), the rack and the other rack are BIRD's
    assert [r["dest"] for r in view["routes"]] == [result["nodes"]["w1"]["pod_cidr"]]
    assert view["members"] == ["172.30.81.12", "172.30.82.11", "172.30.90.11"]
    # inside the zone only: full MTU; w1 is reached over VXLAN, so the narrowest path rules
    assert result["nodes"]["a1"]["mtu"] == 1450
    assert plan({h: n for h, n in NODES.items() if h != "w1"}, NET)["nodes"]["a1"]["mtu"] == 1500
    assert host_view(result, "w1")["bgp"] is None


def test_one_private_asn_per_node_from_its_pod_subnet():
    result = plan(NODES, NET)
    for host in ("a1", "a2", "b1"):
        node = result["nodes"][host]
        index = (int(node["pod_cidr"].split(".")[2]))  # /16 cluster, /24 nodes
        assert node["bgp_asn"] == 4200000000 + index
    assert "bgp_asn" not in result["nodes"]["w1"]
    # adding a node moves no ASN (subnets never move)
    more = dict(NODES, a0={"zone": "dc1", "address": "172.30.81.10", "prefix": 24})
    again = plan(more, dict(NET, zones=result["network"]["zones"]))
    pinned = {h: dict(n, pod_cidr=result["nodes"][h]["pod_cidr"]) for h, n in NODES.items()}
    again = plan(dict(pinned, a0=more["a0"]), dict(NET, zones=result["network"]["zones"]))
    for host in NODES:
        assert again["nodes"][host].get("bgp_asn") == result["nodes"][host].get("bgp_asn")


def test_the_host_view_names_the_router_of_its_own_rack_and_only_its_zones_subnets():
    result = plan(NODES, NET)
    a1, b1 = host_view(result, "a1")["bgp"], host_view(result, "b1")["bgp"]
    assert a1["neighbors"] == [{"name": "tor", "address": "172.30.81.254", "asn": 4260000000}]
    assert b1["neighbors"] == [{"name": "tor", "address": "172.30.82.254", "asn": 4260000000}]
    block = result["zones"]["dc1"]["block"]
    assert a1["import_prefixes"] == ["%s{24,24}" % block]
    assert a1["pod_cidr"] == result["nodes"]["a1"]["pod_cidr"] and a1["router_id"] == "172.30.81.11"
    assert a1["bfd"] == {"interval_ms": 100, "multiplier": 3} and a1["graceful_restart"] is True


def test_the_fabric_carries_pairs_between_bgp_zones_only_when_told():
    routers = dict(ROUTERS, dc2=[{"name": "tor2", "asn": 4260000001, "address": "172.30.90.254"}])
    net = dict(NET, zone_backends={"dc1": "bgp", "dc2": "bgp"}, bgp={"routers": routers})
    result = plan(NODES, net)
    assert [p["backend"] for p in host_view(result, "a1")["peers"] if p["hostname"] == "w1"] == ["vxlan"]
    assert result["nodes"]["a1"]["mtu"] == 1450
    net["bgp"] = dict(net["bgp"], fabric_cross_zone=True)
    result = plan(NODES, net)
    view = host_view(result, "a1")
    assert [p["backend"] for p in view["peers"]] == ["bgp"] * 3 and view["routes"] == [] and view["vxlan"] is None
    assert result["nodes"]["a1"]["mtu"] == 1500
    assert len(view["bgp"]["import_prefixes"]) == 2


def test_plan_is_reproduced_from_its_normalised_network():
    result = plan(NODES, NET)
    assert plan(NODES, result["network"]) == result
    assert "bgp" not in plan(NODES, {"cluster_cidr": "10.244.0.0/16"})["network"]


@pytest.mark.parametrize("network, fragments", [
    (dict(NET, backend="bgp"), ["network.backend: bgp is chosen per zone", "zone_backends"]),
    (dict(NET, zone_backends={"dc1": "bgpp"}), ["unknown backend 'bgpp'"]),
    (dict(NET, bgp={"routers": {}}), ["zone dc1 has no router", "podnet_plan_bgp_routers"]),
    (dict(NET, bgp={"routers": dict(ROUTERS, dc2=[{"name": "x", "asn": 65001, "address": "172.30.90.1"}])}),
     ["routers[dc2]", "does not use the bgp backend"]),
    # an ASN outside the private range without the explicit flag
    (dict(NET, bgp={"routers": {"dc1": [dict(ROUTERS["dc1"][0], asn=64496)]}}),
     ["router tor", "ASN 64496 is not a private ASN", "allow_public_asn"]),
    (dict(NET, bgp={"routers": ROUTERS, "asn_base": 65300}),
     ["network.bgp.asn_base", "past the end of the private range", "at most 65279"]),
    (dict(NET, bgp={"routers": ROUTERS, "asn_base": 4294967100}),
     ["network.bgp.asn_base", "at most 4294967039"]),
    # duplicate ASNs where they must differ: a router's ASN inside the nodes' ASN range
    (dict(NET, bgp={"routers": {"dc1": [dict(ROUTERS["dc1"][0], asn=4200000007)]}}),
     ["router tor", "4200000007 lies in the node ASN range 4200000000-4200000255", "iBGP"]),
    (dict(NET, bgp={"routers": {"dc1": [ROUTERS["dc1"][0], dict(ROUTERS["dc1"][0], address="172.30.83.1")]}}),
     ["router name tor is also used"]),
    (dict(NET, bgp={"routers": {"dc1": [ROUTERS["dc1"][0], dict(name="tor2", asn=65010, address="172.30.82.254")]}}),
     ["172.30.82.254 is also an address of router tor"]),
    (dict(NET, bgp={"routers": {"dc1": [dict(ROUTERS["dc1"][0], name="tor a")]}}), ["is not a router name"]),
    (dict(NET, bgp={"routers": {"dc1": [dict(ROUTERS["dc1"][0], address="10.244.9.1")]}}),
     ["inside the cluster CIDR"]),
    (dict(NET, bgp={"routers": ROUTERS, "bfd_interval_ms": 1}), ["bfd_interval_ms"]),
    (dict(NET, bgp={"routers": ROUTERS, "color": 1}), ["unknown key(s) 'color'"]),
])
def test_bad_settings_stop_before_any_host_is_contacted(network, fragments):
    # preflight is what the first play runs: no host has been asked anything yet
    fails(NODES, network, *fragments, step=preflight)


def test_public_asns_pass_with_the_explicit_flag():
    routers = {"dc1": [dict(ROUTERS["dc1"][0], asn=64496)]}
    result = plan(NODES, dict(NET, bgp={"routers": routers, "allow_public_asn": True}))
    assert host_view(result, "a1")["bgp"]["neighbors"][0]["asn"] == 64496


def test_a_router_address_not_on_the_nodes_segment_is_refused_naming_both():
    routers = {"dc1": [dict(ROUTERS["dc1"][0], address="172.30.81.254")]}
    message = fails(NODES, dict(NET, bgp={"routers": routers}),
                    "host b1 (zone dc1, bgp): no router of zone dc1 has an address on its segment "
                    "172.30.82.0/24", "tor 172.30.81.254", "podnet_plan_bgp_routers[dc1]",
                    step=preflight)
    assert "a1" not in message
    # a node whose prefix is not known yet is checked once the facts step told it
    partial = dict(NODES, b1={"zone": "dc1"})
    assert preflight(partial, dict(NET, bgp={"routers": routers}))["ask"] == ["b1"]
    fails(dict(NODES, b1={"zone": "dc1", "address": "172.30.82.11"}), dict(NET, bgp={"routers": routers}),
          "host b1 (zone dc1, bgp): its underlay prefix is unknown", "podnet_underlay_prefix")


def test_a_router_on_a_nodes_address_is_refused():
    routers = {"dc1": [dict(ROUTERS["dc1"][0], address=["172.30.81.11", "172.30.82.254"])]}
    fails(NODES, dict(NET, bgp={"routers": routers}), "host a1: its address 172.30.81.11 is also router tor")


def test_router_snippets_accept_from_each_node_only_its_own_subnet():
    result = plan(NODES, NET)
    config = bgp_router_config(result)
    assert list(config) == ["tor"] and config["tor"]["sessions"] == ["a1", "a2", "b1"]
    bird = config["tor"]["bird"]
    for host in ("a1", "a2", "b1"):
        node = result["nodes"][host]
        block = bird.split("protocol bgp podnet_node_%s {" % host)[1].split("\n}\n")[0]
        assert "neighbor %s as %d;" % (node["address"], node["bgp_asn"]) in block
        assert "import filter { if net = %s then accept; reject; };" % node["pod_cidr"] in block
        assert "import limit 1 action block;" in block and "bfd on;" in block
        local = "172.30.81.254" if host.startswith("a") else "172.30.82.254"
        assert "local %s as 4260000000;" % local in block
    assert "w1" not in bird
    frr = config["tor"]["frr"]
    assert "router bgp 4260000000\n" in frr
    assert "ip prefix-list podnet-a1 seq 5 permit %s\n" % result["nodes"]["a1"]["pod_cidr"] in frr
    assert " neighbor 172.30.81.11 maximum-prefix 1\n" in frr
    assert " neighbor 172.30.81.11 remote-as %d\n" % result["nodes"]["a1"]["bgp_asn"] in frr
    assert " neighbor 172.30.81.11 bfd profile podnet\n" in frr and "  receive-interval 100\n" in frr
    assert " neighbor 172.30.81.11 route-map podnet-a1-in in\n" in frr


def test_a_released_pending_nodes_session_goes_and_its_subnet_stays_reserved():
    first = plan(NODES, NET)
    doc = ledger(first)
    staying = {h: n for h, n in NODES.items() if h != "a2"}
    inputs = ledger_inputs(staying, doc, {}, dict(NET))
    network = inputs["network"]
    assert "a2" in network["released"]
    second = plan(inputs["nodes"], network)
    assert "a2" not in bgp_router_config(second)["tor"]["sessions"]
    assert "node_a2" not in bgp_router_config(second)["tor"]["bird"]
    newcomer = plan(dict(inputs["nodes"], a3={"zone": "dc1", "address": "172.30.81.13", "prefix": 24}), network)
    assert newcomer["nodes"]["a3"]["pod_cidr"] != first["nodes"]["a2"]["pod_cidr"]
    assert newcomer["nodes"]["a3"]["bgp_asn"] != first["nodes"]["a2"]["bgp_asn"]


def test_bgp_nodes_are_the_bgp_zones_nodes_and_those_still_reporting_bird():
    result = plan(NODES, NET)
    assert bgp_nodes(result, {}) == ["a1", "a2", "b1"]
    hostvars = {"w1": {"ansible_facts": {"ansible_local": {"podnet_bgp": {"asn": 4200000003}}}}}
    assert bgp_nodes(result, hostvars) == ["a1", "a2", "b1", "w1"]
    plain = plan(NODES, {"cluster_cidr": "10.244.0.0/16"})
    assert bgp_nodes(plain, {}) == []


@settings(max_examples=60, deadline=None)
@given(st.sets(st.integers(min_value=1, max_value=60), min_size=1, max_size=12),
       st.integers(min_value=0, max_value=3))
def test_node_asns_are_unique_stable_and_never_a_routers(hosts, removed):
    nodes = {"n%02d" % i: {"zone": "dc1", "address": "172.30.81.%d" % (i + 1), "prefix": 24} for i in hosts}
    result = plan(nodes, NET)
    asns = [n["bgp_asn"] for n in result["nodes"].values()]
    assert len(set(asns)) == len(asns) and 4260000000 not in asns
    assert all(4200000000 <= asn <= 4294967294 for asn in asns)
    names = sorted(nodes)
    kept = {h: dict(nodes[h], pod_cidr=result["nodes"][h]["pod_cidr"]) for h in names[removed:]}
    if kept:
        again = plan(kept, dict(NET, zones=result["network"]["zones"]))
        assert all(again["nodes"][h]["bgp_asn"] == result["nodes"][h]["bgp_asn"] for h in kept)


def test_verify_fails_when_a_bgp_session_is_down_and_lists_every_session():
    from ansible_collections.podnet.network.plugins.plugin_utils.planner import (  # pylint: disable=import-outside-toplevel
        verify_report)
    result = plan(NODES, NET)
    up = {"name": "podnet_tor_0", "state": "up", "since": "10:00", "info": "Established"}
    down = {"name": "podnet_tor_0", "state": "start", "since": "10:01", "info": "Active Socket: Connection refused"}
    sessions = {"a1": [up], "a2": [up], "b1": [up], "w1": []}
    plain = plan(NODES, {"cluster_cidr": "10.244.0.0/16"})
    report = verify_report({}, plain, {}, sessions)
    assert report["bgp"] == []  # judged on the plan's BGP nodes only
    report = verify_report({}, result, {}, dict(sessions, b1=[down]))
    bgp_failures = [f for f in report["failures"] if "BGP" in f]
    assert bgp_failures == ["b1: BGP session podnet_tor_0 is start (Active Socket: Connection refused): "
                            "see birdc show protocols all on it"]
    assert "BGP a1 podnet_tor_0: up Established (since 10:00)" in report["lines"]
    assert [s["ok"] for s in report["bgp"]] == [True, True, False]
    missing = verify_report({}, result, {}, dict(sessions, a2=[]))
    assert "a2: no BGP session (is bird running? birdc show protocols)" in missing["failures"]


def test_preview_names_the_pairs_moving_to_bgp():
    from ansible_collections.podnet.network.plugins.plugin_utils.planner import (  # pylint: disable=import-outside-toplevel
        preview)
    before = plan(NODES, {"cluster_cidr": "10.244.0.0/16"})
    doc = ledger(before)
    pinned = {h: dict(n, pod_cidr=before["nodes"][h]["pod_cidr"]) for h, n in NODES.items()}
    after = plan(pinned, dict(NET, zones=before["network"]["zones"]))
    lines = preview(doc, after)["lines"]
    assert "~ a1 <-> a2: host-gw -> bgp" in lines and "~ a1 <-> b1: vxlan -> bgp" in lines, lines
    assert "~ a1 <-> w1: vxlan -> vxlan" not in lines
    asn = after["nodes"]["a1"]["bgp_asn"]
    assert ("~ a1: starts BGP as AS %d: its BIRD announces %s, the routers carry its zone's pairs"
            % (asn, after["nodes"]["a1"]["pod_cidr"])) in lines, lines
    assert "~ router tor: sessions + a1, a2, b1 (include its regenerated .podnet-bgp/tor.*.conf)" in lines
    assert not any(line.startswith(("~ w1:", "?")) for line in lines), lines
    # MTU: a1's narrowest path is still w1's VXLAN, so no MTU line
    assert not preview(doc, after)["mtu_changes"]


def test_preview_names_the_pairs_moving_away_from_bgp():
    """The ledger keeps no routers: a zone leaving BGP (podnet_plan_bgp_routers no longer
    names it) is still compared pair by pair, not '? pair backends not compared'."""
    from ansible_collections.podnet.network.plugins.plugin_utils.planner import (  # pylint: disable=import-outside-toplevel
        preview)
    # a node on .254 of rack 1: the stand-in router of the old plan must take another address
    nodes = dict(NODES, a9={"zone": "dc1", "address": "172.30.81.254", "prefix": 24})
    routers = {"dc1": [{"name": "tor", "asn": 4260000000, "address": ["172.30.81.253", "172.30.82.254"]}]}
    before = plan(nodes, dict(NET, bgp={"routers": routers}))
    doc = ledger(before)
    pinned = {h: dict(n, pod_cidr=before["nodes"][h]["pod_cidr"]) for h, n in nodes.items()}
    after = plan(pinned, {"cluster_cidr": "10.244.0.0/16", "zones": before["network"]["zones"]})
    result = preview(doc, after)
    lines = result["lines"]
    assert not any(line.startswith("?") for line in lines), lines
    assert "~ a1 <-> a2: bgp -> host-gw" in lines and "~ a1 <-> b1: bgp -> vxlan" in lines, lines
    assert "~ a1 <-> w1: vxlan -> vxlan" not in lines and not any("w1:" in line for line in lines)
    assert [n["host"] for n in result["bgp_nodes"]] == ["a1", "a2", "a9", "b1"]
    assert ("~ b1: stops BGP (AS %d): its BIRD is stopped, podnet's own paths carry its pairs; remove "
            "its sessions from the routers" % before["nodes"]["b1"]["bgp_asn"]) in lines
    assert result["bgp_routers"] == []  # the routers are no longer in the plan: none is shown
    # inside the zone only, BGP kept the full MTU and VXLAN to b1 now costs 50 bytes
    alone = {h: n for h, n in pinned.items() if h != "w1"}
    doc = ledger(plan({h: n for h, n in nodes.items() if h != "w1"}, dict(NET, bgp={"routers": routers})))
    moved = preview(doc, plan(alone, {"cluster_cidr": "10.244.0.0/16", "zones": before["network"]["zones"]}))
    assert {"host": "a1", "before": 1500, "after": 1450} in moved["mtu_changes"], moved["lines"]
    assert "~ a1: MTU 1500 -> 1450" in moved["lines"]
