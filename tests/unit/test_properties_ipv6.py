# SPDX-License-Identifier: GPL-3.0-or-later
"""Property tests (hypothesis) of the planner's guarantees for IPv6, as test_properties.py
proves them for IPv4: disjoint prefixes inside the cluster CIDR and their zone block,
stability on add/remove/reorder, pins, capacity errors naming the zone, host-gw per family,
and the ledger's upgrade of an IPv4-only fleet. Small fleets (up to 30 nodes, 5 zones)."""

import json
import random

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ansible_collections.podnet.network.plugins.plugin_utils.planner import (
    PlanError, ledger, ledger_inputs, plan)
from ansible_collections.podnet.network.plugins.plugin_utils.planner.addresses import IPV4, IPV6
from ansible_collections.podnet.network.plugins.plugin_utils.planner.segments import same_segment

V4 = {"cluster_cidr": "10.0.0.0/16", "node_prefix": 26, "zone_prefix": 20,
      "service_cidr": "10.96.0.0/12"}
DUAL = dict(V4, cluster_cidr_ipv6="fd00:10::/48", node_prefix_ipv6=64, ipv6_planner_only=True,
            service_cidr_ipv6="fd00:96::/112", reserved=["fd00:99::/64", "172.17.0.0/16"])
ZONES = ["alpha", "beta", "gamma", "delta", "eps"]
PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def address4(index):
    return "192.168.%d.%d" % (index // 8, 1 + index % 8)


def address6(index):
    """2001:db8:<index // 8>::<1 + index % 8>, in canonical form (as the plan writes it)."""
    return IPV6.ntoa(0x20010DB8 << 96 | (index // 8) << 80 | (1 + index % 8))


@st.composite
def fleets(draw, min_size=0, max_size=30):
    """Nodes with both underlay families, or one of them: either every node has IPv4 (some
    lack IPv6) or every node has IPv6 (some lack IPv4), so each pair shares a family."""
    names = draw(st.lists(st.text("abcdefgh0123", min_size=1, max_size=4), min_size=min_size,
                          max_size=max_size, unique=True))
    indexes = draw(st.lists(st.integers(0, 2000), min_size=len(names), max_size=len(names), unique=True))
    keep = draw(st.sampled_from(["address", "address_ipv6"]))
    nodes = {}
    for name, index in zip(names, indexes):
        spec = {"zone": draw(st.sampled_from(ZONES))}
        families = draw(st.sampled_from(["both", "both", "one"]))
        if families == "both" or keep == "address":
            spec["address"] = address4(index)
            prefix = draw(st.sampled_from([None, 24, 29]))
            if prefix is not None:
                spec["prefix"] = prefix
        if families == "both" or keep == "address_ipv6":
            spec["address_ipv6"] = address6(index)
            prefix = draw(st.sampled_from([None, 48, 64, 125]))
            if prefix is not None:
                spec["prefix_ipv6"] = prefix
        nodes[name] = spec
    return nodes


backends = st.sampled_from(["auto", "vxlan", "host-gw", "wireguard"])


def net6(text):
    return IPV6.fast_cidr(text)


def shuffled(mapping, rng):
    items = list(mapping.items())
    rng.shuffle(items)
    return dict(items)


@PROPS
@given(fleets())
def test_ipv6_prefixes_disjoint_inside_cluster_and_zone_block(nodes):
    result = plan(nodes, DUAL)
    cluster = net6("fd00:10::/48")
    seen = set()
    for host, entry in result["nodes"].items():
        net, plen = net6(entry["pod_cidr_ipv6"])
        assert plen == 64 and net & IPV6.mask(64) == net
        assert net & IPV6.mask(48) == cluster[0]
        block, blen = net6(result["zones"][entry["zone"]]["block_ipv6"])
        assert blen == 56 and net & IPV6.mask(56) == block
        assert entry["gateway_ipv6"] == IPV6.ntoa(net + 1)
        assert net not in seen
        seen.add(net)
        assert (entry["address"] is None) == ("address" not in nodes[host])
        assert entry.get("address_ipv6") == nodes[host].get("address_ipv6")
    blocks = [net6(z["block_ipv6"])[0] for z in result["zones"].values()]
    assert len(blocks) == len(set(blocks))


@PROPS
@given(fleets())
def test_the_ipv4_half_is_the_ipv4_only_plan(nodes):
    """Adding IPv6 changes no IPv4 subnet, gateway or zone block."""
    assume(all("address" in spec for spec in nodes.values()))
    dual = plan(nodes, DUAL)
    four = plan({h: {k: v for k, v in s.items() if "ipv6" not in k} for h, s in nodes.items()},
                dict(DUAL, cluster_cidr_ipv6=None, service_cidr_ipv6=None, reserved=["172.17.0.0/16"]))
    for host, entry in four["nodes"].items():
        for key in ("zone", "address", "prefix", "pod_cidr", "gateway", "vtep_ip", "vtep_mac"):
            assert dual["nodes"][host][key] == entry[key]
    assert {z: s["block"] for z, s in dual["zones"].items()} == {z: s["block"] for z, s in four["zones"].items()}


@PROPS
@given(fleets(), st.randoms(use_true_random=False), backends)
def test_deterministic_whatever_the_dict_order(nodes, rng, backend):
    network = dict(DUAL, backend=backend)
    try:
        first = plan(nodes, network)
    except PlanError as exc:
        try:
            plan(shuffled(nodes, rng), shuffled(network, rng))
        except PlanError as exc2:
            assert str(exc2) == str(exc)
            return
        raise AssertionError("error depends on dict order")
    assert json.dumps(first) == json.dumps(plan(shuffled(nodes, rng), shuffled(network, rng)))
    assert plan(first["nodes"], first["network"]) == first


@PROPS
@given(fleets(min_size=1), fleets(max_size=15), st.randoms(use_true_random=False))
def test_stable_under_add_remove_reorder(before, newcomers, rng):
    first = plan(before, DUAL)
    kept = {h: dict(n) for h, n in before.items() if rng.random() < 0.7}
    nodes = {h: dict(n, pod_cidr=first["nodes"][h]["pod_cidr"],
                     pod_cidr_ipv6=first["nodes"][h]["pod_cidr_ipv6"]) for h, n in kept.items()}
    used = {n.get("address") for n in before.values()} | {n.get("address_ipv6") for n in before.values()}
    family = "address" if all("address" in n for n in before.values()) else "address_ipv6"
    for host, spec in newcomers.items():
        if host not in nodes and not used & {spec.get("address"), spec.get("address_ipv6")} \
                and family in spec:
            nodes[host] = spec
    try:
        second = plan(shuffled(nodes, rng), dict(DUAL, zones=first["zones"]))
    except PlanError as exc:  # a newcomer of the other single family: named, nothing moves
        assert "share no underlay family" in str(exc)
        return
    for host in kept:
        assert second["nodes"][host]["pod_cidr_ipv6"] == first["nodes"][host]["pod_cidr_ipv6"]
        assert second["nodes"][host]["pod_cidr"] == first["nodes"][host]["pod_cidr"]
    for zone, spec in first["zones"].items():
        assert second["zones"][zone] == spec


@PROPS
@given(fleets(min_size=1), fleets(max_size=10), st.randoms(use_true_random=False))
def test_ledger_upgrade_from_ipv4_moves_nothing_and_then_holds(nodes, newcomers, rng):
    assume(all("address" in spec for spec in nodes.values()))
    plain = {h: {k: v for k, v in s.items() if "ipv6" not in k} for h, s in nodes.items()}
    network4 = dict(V4)
    first = plan(plain, network4)
    book = ledger(first)
    # The first dual-stack run: the same nodes, now with their IPv6 underlay.
    inputs = ledger_inputs(shuffled(nodes, rng), book, {}, DUAL)
    upgraded = plan(inputs["nodes"], inputs["network"])
    for host, entry in first["nodes"].items():
        assert upgraded["nodes"][host]["pod_cidr"] == entry["pod_cidr"]
    assert {z: s["block"] for z, s in upgraded["zones"].items()} == book["zones"]
    book2 = ledger(upgraded)
    assert {h: e["pod_cidr"] for h, e in book2["nodes"].items()} == {
        h: e["pod_cidr"] for h, e in book["nodes"].items()}
    # Later runs, newcomers added: nobody's prefix of either family moves.
    for host, spec in newcomers.items():
        if host not in nodes and "address" in spec and spec["address"] not in {
                n["address"] for n in nodes.values()}:
            nodes = dict(nodes, **{host: {k: v for k, v in spec.items() if k != "address_ipv6"
                                          and k != "prefix_ipv6"}})
    inputs = ledger_inputs(shuffled(nodes, rng), book2, {}, DUAL)
    later = plan(inputs["nodes"], inputs["network"])
    for host, entry in upgraded["nodes"].items():
        assert later["nodes"][host]["pod_cidr"] == entry["pod_cidr"]
        assert later["nodes"][host]["pod_cidr_ipv6"] == entry["pod_cidr_ipv6"]


@PROPS
@given(st.integers(1, 12), st.integers(1, 3))
def test_capacity_error_names_the_zone_exactly_when_a_block_is_full(count, zone_bits):
    """zone_prefix_ipv6 = 64 - zone_bits: each zone block holds 2**zone_bits /64 prefixes."""
    nodes = {"n%02d" % i: {"zone": "alpha" if i % 3 else "beta", "address_ipv6": address6(i)}
             for i in range(count)}
    sizes = {}
    for spec in nodes.values():
        sizes[spec["zone"]] = sizes.get(spec["zone"], 0) + 1
    network = dict(DUAL, zone_prefix_ipv6=64 - zone_bits)
    full = sorted(zone for zone, size in sizes.items() if size > 2 ** zone_bits)
    try:
        plan(nodes, network)
    except PlanError as exc:
        assert full and "zone %r" % full[0] in str(exc) and "/64 node subnets" in str(exc), str(exc)
    else:
        assert not full


def _segment(spec, fam):
    key = "" if fam is IPV4 else "_ipv6"
    if spec.get("prefix" + key) is None:
        return None
    address = fam.pton(spec["address" + key])
    return address & fam.mask(spec["prefix" + key]), spec["prefix" + key]


@PROPS
@given(fleets(max_size=12), backends)
def test_host_gw_rejected_exactly_when_a_pair_lacks_a_segment_in_a_family(nodes, backend):
    """The O(n) per-family host-gw check agrees with the brute-force pair check."""
    network = dict(DUAL, backend=backend)
    names = sorted(nodes)
    bad = False
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            na, nb = nodes[a], nodes[b]
            if backend != "host-gw":
                continue
            for fam, key in ((IPV4, "address"), (IPV6, "address_ipv6")):
                if key not in na or key not in nb:
                    bad = True
                elif not same_segment(na["zone"], _segment(na, fam), nb["zone"], _segment(nb, fam)):
                    bad = True
    try:
        plan(nodes, network)
    except PlanError as exc:
        assert bad, str(exc)
        assert "backend host-gw" in str(exc)
    else:
        assert not bad


def test_shuffle_helper_changes_order():
    rng = random.Random(1)
    data = {str(i): i for i in range(10)}
    assert shuffled(data, rng) == data
