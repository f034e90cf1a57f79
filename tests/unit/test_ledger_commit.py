# SPDX-License-Identifier: GPL-3.0-or-later
"""The committed plan (planner.ledger_commit): what an apply-only run accepts and refuses."""

import pytest

from ansible_collections.podnet.network.plugins.plugin_utils.planner import PlanError, plan
from ansible_collections.podnet.network.plugins.plugin_utils.planner import ledger_commit as commit

NETWORK = {"cluster_cidr": "10.244.0.0/16", "backend": "auto", "underlay_mtu": 1500}
HOST_VARS = {
    "a1": {"podnet_zone": "a", "podnet_address": "192.0.2.11", "podnet_underlay_prefix": 24},
    "a2": {"podnet_zone": "a", "podnet_address": "192.0.2.12", "podnet_underlay_prefix": 24},
    "b1": {"podnet_zone": "b", "podnet_address": "198.51.100.21", "podnet_underlay_prefix": 24,
           "podnet_pod_cidr": None},
}
LEDGER_TEXT = "podnet_ledger: 2\n"


def _declared(host_vars=None, network=None):
    host_vars = HOST_VARS if host_vars is None else host_vars
    return commit.declared(sorted(host_vars), host_vars, network or NETWORK)


def _document():
    nodes = {host: {"zone": v["podnet_zone"], "address": v["podnet_address"],
                    "prefix": v["podnet_underlay_prefix"]} for host, v in HOST_VARS.items()}
    return commit.committed(plan(nodes, NETWORK), _declared(), LEDGER_TEXT)


def _check(declared=None, ledger_text=LEDGER_TEXT, document=None, sliced=False):
    return commit.check_committed(document or _document(), declared or _declared(), ledger_text,
                                  "/inv/.podnet-ledger.plan.json", "/inv/.podnet-ledger.yml", sliced)


def test_the_plan_file_sits_beside_its_ledger():
    assert commit.plan_path("/inv/.podnet-ledger.yml") == "/inv/.podnet-ledger.plan.json"
    assert commit.plan_path("/inv/.podnet-ledger.prod.yml") == "/inv/.podnet-ledger.prod.plan.json"
    assert commit.plan_path("/srv/fleet-ledger") == "/srv/fleet-ledger.plan.json"


def test_only_what_the_operator_declared_is_recorded_as_strings():
    declared = _declared()
    assert declared["nodes"]["b1"] == {"zone": "b", "address": "198.51.100.21", "prefix": "24"}
    assert declared["network"] == {"cluster_cidr": "10.244.0.0/16", "backend": "auto", "underlay_mtu": "1500"}


def test_an_unchanged_inventory_gets_the_committed_plan():
    result = _check()
    assert sorted(result["nodes"]) == ["a1", "a2", "b1"]
    assert result["nodes"]["b1"]["zone"] == "b"


def test_a_node_added_after_the_plan_is_refused_naming_it():
    host_vars = dict(HOST_VARS, b2={"podnet_zone": "b", "podnet_address": "198.51.100.22"})
    with pytest.raises(PlanError, match=r"node b2 is in the inventory but not in the committed "
                                        r"plan /inv/.podnet-ledger.plan.json .*Plan first"):
        _check(_declared(host_vars))


@pytest.mark.parametrize("host, name, value, message", [
    ("a2", "podnet_zone", "b", "node a2: the inventory gives zone 'b' but the committed plan"),
    ("a1", "podnet_pod_cidr", "10.244.9.0/24", "node a1: the inventory gives pod_cidr '10.244.9.0/24'"),
    ("b1", "podnet_address", "198.51.100.99", "node b1: the inventory gives address '198.51.100.99'"),
])
def test_a_changed_zone_pin_or_address_is_refused_naming_the_node(host, name, value, message):
    host_vars = {h: dict(v) for h, v in HOST_VARS.items()}
    host_vars[host][name] = value
    with pytest.raises(PlanError, match=message):
        _check(_declared(host_vars))


def test_a_removed_node_is_refused_unless_the_inventory_is_a_slice():
    host_vars = {h: v for h, v in HOST_VARS.items() if h != "a2"}
    with pytest.raises(PlanError, match="node a2 is in the committed plan .* no longer in the inventory"):
        _check(_declared(host_vars))
    assert "a2" in _check(_declared(host_vars), sliced=True)["nodes"]


def test_a_changed_setting_or_ledger_is_refused():
    with pytest.raises(PlanError, match="network setting underlay_mtu is 9000 in the inventory but "
                                        "the committed plan .* was made with 1500"):
        _check(_declared(network=dict(NETWORK, underlay_mtu=9000)))
    with pytest.raises(PlanError, match="the ledger /inv/.podnet-ledger.yml changed after the plan"):
        _check(ledger_text=LEDGER_TEXT + "# edited\n")
    with pytest.raises(PlanError, match="which does not exist"):
        _check(ledger_text=None)
    with pytest.raises(PlanError, match="is not a committed podnet plan"):
        _check(document={"podnet_plan": 99})


def test_a_node_holding_another_subnet_than_the_plan_is_refused():
    committed = _check()
    held = committed["nodes"]["a1"]["pod_cidr"]
    commit.check_reported(committed, {"a1": held, "a2": None})   # none yet: a planned newcomer
    with pytest.raises(PlanError, match="node a1 holds pod subnet 10.244.99.0/24 but the committed "
                                        "plan gives it %s" % held):
        commit.check_reported(committed, {"a1": "10.244.99.0/24"})


def test_a_roll_goes_zone_by_zone():
    committed = _check()
    assert commit.roll(committed, ["b1", "a2", "a1"], "zone") == {
        "hosts": ["a1", "a2", "b1"], "serial": [2, 1], "max_fail_percentage": 0,
        "probe_peers": 3, "probe_timeout": 10}
    assert commit.roll(committed, ["b1", "a1"], "zone")["serial"] == [1, 1]   # a --limit
    assert commit.roll(committed, ["a1", "b1"], 1, 50)["serial"] == [1]
    assert commit.roll(committed, ["a1", "b1"], "50%")["serial"] == ["50%"]
    with pytest.raises(PlanError, match="podnet_rolling: 'banana' is not a batch size"):
        commit.roll(committed, ["a1"], "banana")
    with pytest.raises(PlanError, match="podnet_rolling_max_fail_percentage: 150"):
        commit.roll(committed, ["a1"], "zone", 150)
    # what each node probes after its batch: checked with the roll, before any host
    assert commit.roll(committed, ["a1", "b1"], "zone", 0, 1, 5)["probe_peers"] == 1
    for peers, timeout, message in ((-1, 10, "podnet_rolling_probe_peers: -1 is not a number of peers"),
                                    ("lots", 10, "podnet_rolling_probe_peers: 'lots'"),
                                    (3, 0, "podnet_rolling_probe_timeout: 0 is not a number of seconds")):
        with pytest.raises(PlanError, match=message):
            commit.roll(committed, ["a1"], "zone", 0, peers, timeout)


ROLL = {"hosts": ["a1", "a2", "a3", "b1", "b2", "c1"], "serial": [3, 2, 1], "max_fail_percentage": 0,
        "probe_peers": 2}


def test_a_node_probes_its_own_batch_after_it_and_the_batches_before():
    # zone a, the first batch: only its own zone (nothing before it), the ones after it, wrapping
    assert commit.roll_probes(ROLL, "a1", 2) == ["a2", "a3"]
    assert commit.roll_probes(ROLL, "a3", 2) == ["a1", "a2"]
    assert commit.roll_probes(ROLL, "a2", 1) == ["a3"]
    # zone b: the other b node, and zone a's nodes, rotating with the place in the batch
    assert commit.roll_probes(ROLL, "b1", 1) == ["b2", "a1"]
    assert commit.roll_probes(ROLL, "b2", 1) == ["b1", "a2"]
    assert commit.roll_probes(ROLL, "b2", 2) == ["b1", "a3", "a1"]
    # zone c, alone in its batch: earlier nodes only, never more than there are
    assert commit.roll_probes(ROLL, "c1", 9) == ["a1", "a2", "a3", "b1", "b2"]
    # the batch's probes cover every earlier node when batch size x sample reaches them
    assert {p for h in ("b1", "b2") for p in commit.roll_probes(ROLL, h, 2)} >= {"a1", "a2", "a3"}


def test_later_batches_are_never_probed():
    for place, host in enumerate(ROLL["hosts"]):
        for peer in commit.roll_probes(ROLL, host, 6):
            assert ROLL["hosts"].index(peer) < place or peer[0] == host[0], (host, peer)


def test_batches_as_ansibles_serial_cuts_them():
    hosts = ["n%d" % i for i in range(10)]
    assert [len(b) for b in commit._batches(hosts, [3])] == [3, 3, 3, 1]
    assert [len(b) for b in commit._batches(hosts, ["25%"])] == [2, 2, 2, 2, 2]
    assert [len(b) for b in commit._batches(hosts, ["5%"])] == [1] * 10
    assert [len(b) for b in commit._batches(hosts, [4, 1])] == [4, 1, 1, 1, 1, 1, 1]
    # a batch of 2 by percentage: the node probes its batch-mate and the batches before
    assert commit.roll_probes({"hosts": hosts, "serial": ["20%"]}, "n3", 1) == ["n2", "n1"]
    assert commit.roll_probes({"hosts": hosts, "serial": ["20%"]}, "n2", 1) == ["n3", "n0"]


def test_no_probe_outside_the_roll_or_with_zero_peers_and_a_bad_count_is_named():
    assert commit.roll_probes(ROLL, "z9", 3) == []
    assert commit.roll_probes(ROLL, "b1", 0) == []
    assert commit.roll_probes({}, "b1", 3) == []
    assert commit.roll_probes(ROLL, "a1") == ["a2", "a3"]   # the roll's probe_peers
    for bad in ("some", -1, True):
        with pytest.raises(PlanError, match="podnet_rolling_probe_peers: .* is not a number of peers"):
            commit.roll_probes(ROLL, "a1", bad)
