# SPDX-License-Identifier: GPL-3.0-or-later
"""Property tests (hypothesis) of the planner's guarantees.

Small fleets (up to 40 nodes, 5 zones, mixed underlay prefixes) keep the whole
module well under the 30 s budget; the rules do not depend on scale.
"""

import json
import random

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ansible_collections.podnet.network.plugins.plugin_utils.planner import (
    PlanError, host_view, plan)
from ansible_collections.podnet.network.plugins.plugin_utils.planner.addresses import fast_cidr, mask
from ansible_collections.podnet.network.plugins.plugin_utils.planner.segments import same_segment

NETWORK = {"cluster_cidr": "10.0.0.0/16", "node_prefix": 26, "zone_prefix": 20,
           "service_cidr": "10.96.0.0/12", "reserved": ["172.17.0.0/16"]}
ZONES = ["alpha", "beta", "gamma", "delta", "eps"]

PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def address(index):
    return "192.168.%d.%d" % (index // 8, 1 + index % 8)


@st.composite
def fleets(draw, min_size=0, max_size=40):
    names = draw(st.lists(st.text("abcdefgh0123", min_size=1, max_size=4), min_size=min_size,
                          max_size=max_size, unique=True))
    indexes = draw(st.lists(st.integers(0, 2000), min_size=len(names), max_size=len(names), unique=True))
    nodes = {}
    for name, index in zip(names, indexes):
        spec = {"zone": draw(st.sampled_from(ZONES)), "address": address(index)}
        prefix = draw(st.sampled_from([None, 24, 29, 16]))
        if prefix is not None:
            spec["prefix"] = prefix
        nodes[name] = spec
    return nodes


backends = st.sampled_from(["auto", "vxlan", "host-gw", "wireguard"])
zone_backends = st.dictionaries(st.sampled_from(ZONES), backends, max_size=3)
cross_zone = st.sampled_from(["vxlan", "wireguard"])
OVERHEAD = {"vxlan": 50, "wireguard": 80}


def in_use(zbackends, nodes):
    """Overrides for zones that have nodes (an override for an empty zone is an error)."""
    zones = {spec["zone"] for spec in nodes.values()}
    return {zone: backend for zone, backend in zbackends.items() if zone in zones}


def shuffled(mapping, rng):
    items = list(mapping.items())
    rng.shuffle(items)
    return dict(items)


def as_int_net(text):
    return fast_cidr(text)


@PROPS
@given(fleets())
def test_subnets_disjoint_inside_cluster_and_zone_block(nodes):
    result = plan(nodes, NETWORK)
    seen = set()
    for host, entry in result["nodes"].items():
        net, plen = as_int_net(entry["pod_cidr"])
        assert plen == 26 and net & mask(26) == net
        assert net & mask(16) == as_int_net("10.0.0.0/16")[0]
        block, blen = as_int_net(result["zones"][entry["zone"]]["block"])
        assert blen == 20 and net & mask(20) == block
        assert net not in seen
        seen.add(net)
    blocks = [as_int_net(z["block"])[0] for z in result["zones"].values()]
    assert len(blocks) == len(set(blocks))


@PROPS
@given(fleets(), st.randoms(use_true_random=False), backends, zone_backends)
def test_deterministic_whatever_the_dict_order(nodes, rng, backend, zbackends):
    network = dict(NETWORK, backend=backend, zone_backends=in_use(zbackends, nodes))
    try:
        first = plan(nodes, network)
    except PlanError as exc:
        other = str(exc)
        try:
            plan(shuffled(nodes, rng), shuffled(network, rng))
        except PlanError as exc2:
            assert str(exc2) == other
            return
        raise AssertionError("error depends on dict order")
    second = plan(shuffled(nodes, rng), shuffled(network, rng))
    assert json.dumps(first) == json.dumps(second)


@PROPS
@given(fleets(min_size=1), fleets(max_size=20), st.randoms(use_true_random=False))
def test_stable_under_add_remove_reorder(before, newcomers, rng):
    first = plan(before, NETWORK)
    # What the ledger carries into the next run: every kept host's subnet and the zone blocks.
    kept = {h: dict(n) for h, n in before.items() if rng.random() < 0.7}
    nodes = {h: dict(n, pod_cidr=first["nodes"][h]["pod_cidr"]) for h, n in kept.items()}
    used = {n["address"] for n in before.values()}
    for host, spec in newcomers.items():
        if host not in nodes and spec["address"] not in used:
            nodes[host] = spec
    network = dict(NETWORK, zones=first["zones"])
    second = plan(shuffled(nodes, rng), network)
    for host in kept:
        assert second["nodes"][host]["pod_cidr"] == first["nodes"][host]["pod_cidr"]
    for zone, spec in first["zones"].items():
        assert second["zones"][zone] == spec


@PROPS
@given(fleets(min_size=1), backends, zone_backends, cross_zone)
def test_every_view_routes_exactly_to_the_other_nodes(nodes, backend, zbackends, cross):
    network = dict(NETWORK, backend=backend, zone_backends=in_use(zbackends, nodes),
                   cross_zone_backend=cross if backend in ("auto", "wireguard") else "vxlan")
    try:
        result = plan(nodes, network)
    except PlanError:
        assume(False)
    all_subnets = {n["pod_cidr"] for n in result["nodes"].values()}
    views = {host: host_view(result, host) for host in result["nodes"]}
    for host, entry in result["nodes"].items():
        view = views[host]
        wg = view["wireguard"]["peers"] if view["wireguard"] else []
        dests = [r["dest"] for r in view["routes"]]
        # Every other node is reached exactly once: by a route, or by a wireguard peer.
        assert sorted(dests + [p["allowed_ips"][0] for p in wg]) == sorted(
            all_subnets - {entry["pod_cidr"]})
        assert dests == sorted(dests, key=as_int_net)
        assert [p["allowed_ips"][0] for p in wg] == sorted(
            [p["allowed_ips"][0] for p in wg], key=as_int_net)
        vx = [r for r in view["routes"] if r["dev"] == "vxlan"]
        assert len(vx) == len(view["fdb"]) == len(view["neighbors"])
        assert (view["vxlan"] is None) == (not vx)
        # The plan's O(n) counter MTU agrees with the per-pair view: the narrowest path.
        used = {p["backend"] for p in view["peers"]}
        expected = 1500 - max([OVERHEAD[b] for b in used if b in OVERHEAD] or [0])
        assert entry["mtu"] == expected == view["mtu"]
        assert len(view["members"]) == len(nodes) - 1
        assert view["neigh_gc_thresh"]["gc_thresh3"] >= max(1024, 2 * len(vx))
        # Both ends of a pair agree on its backend (a one-sided tunnel carries nothing).
        for peer in view["peers"]:
            back = next(p for p in views[peer["hostname"]]["peers"] if p["hostname"] == host)
            assert back["backend"] == peer["backend"]
        # Pairs across zones never travel in clear where the operator asked for wireguard.
        if cross == "wireguard" and backend in ("auto", "wireguard"):
            assert all(p["backend"] in ("wireguard", "host-gw") for p in view["peers"]
                       if p["zone"] != entry["zone"])


def _segment(spec):
    if spec.get("prefix") is None:
        return None
    a, b, c, d = (int(x) for x in spec["address"].split("."))
    return ((a << 24 | b << 16 | c << 8 | d) & mask(spec["prefix"]), spec["prefix"])


@PROPS
@given(fleets(max_size=15), backends, zone_backends)
def test_host_gw_rejected_exactly_when_a_pair_is_split(nodes, backend, zbackends):
    """The O(n) host-gw check agrees with the brute-force pair check."""
    network = dict(NETWORK, backend=backend, zone_backends=in_use(zbackends, nodes))
    names = sorted(nodes)
    bad = False
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            na, nb = nodes[a], nodes[b]
            mode = zbackends.get(na["zone"], backend) if na["zone"] == nb["zone"] else backend
            if mode == "host-gw" and not same_segment(na["zone"], _segment(na), nb["zone"], _segment(nb)):
                bad = True
    try:
        plan(nodes, network)
    except PlanError as exc:
        assert bad, str(exc)
        assert "not on one segment" in str(exc)
    else:
        assert not bad


@PROPS
@given(fleets(), backends)
def test_plan_round_trips_through_json_and_is_a_fixed_point(nodes, backend):
    network = dict(NETWORK, backend=backend if backend != "host-gw" else "auto")
    result = plan(nodes, network)
    assert json.loads(json.dumps(result)) == result
    assert plan(result["nodes"], result["network"]) == result


def test_shuffle_helper_changes_order():
    rng = random.Random(1)
    data = {str(i): i for i in range(10)}
    assert shuffled(data, rng) == data
