# SPDX-License-Identifier: GPL-3.0-or-later
"""multizone, large-fleet operation: plan once, apply in slices, roll zone by zone.

Runs after test_multizone.py (the spare has left the fleet, reset). One plan.yml commits
the plan beside the ledger; then apply-only runs (site.yml --limit) read it without the
ledger's lock, two of them at once, one per zone; a node the plan does not know stops such
a run before any host is touched; a rolling run (-e podnet_rolling=zone) with a fault in
zone a, one that fails a task or one that only breaks its pods' traffic (the probe after
each batch finds it), stops after zone a and never reaches zone b.
"""

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from podnet_testlib import INVENTORY, assert_run_ok, host, podnet_routes, run_playbook, sh
from podnet_fixtures import pods, subnets  # noqa: F401 (fixtures: pytest finds them here)

ZONES = {"podnet-mz-a1": "a", "podnet-mz-a2": "a", "podnet-mz-b1": "b", "podnet-mz-b2": "b"}
NODES = sorted(ZONES)
SPARE = "podnet-mz-b3"
SPARE_INVENTORY = Path(__file__).resolve().parent / "spare-inventory.yml"
LEDGER = Path(INVENTORY).parent / ".podnet-ledger.yml"
PLAN = Path(INVENTORY).parent / ".podnet-ledger.plan.json"
OWNER_MARK = "podnet-owned"
FAULT_ADDRESS = "100.64.9.1/24"   # shared address space: never a pod or node address here


def _flat(output: str) -> str:
    return " ".join(output.split())


def _committed() -> tuple:
    return LEDGER.read_bytes(), PLAN.read_bytes()


EVALUATED = re.compile(r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s.*?skipped=(?P<skipped>\d+)", re.M)


def _evaluated(output: str) -> dict:
    """{host: ok + skipped} from a run's recap: the tasks each node evaluated."""
    return {m["host"]: int(m["ok"]) + int(m["skipped"]) for m in EVALUATED.finditer(output)}


def _drift(name: str, peer_subnet: str) -> None:
    """Take one podnet route away, as an operator's mistake would."""
    sh(host(name), f"ip route del {peer_subnet}")
    assert peer_subnet not in podnet_routes(host(name))


@pytest.fixture(scope="module", name="planned")
def fixture_planned():
    """One plan for the whole module: plan.yml commits it (the ledger and the plan file)."""
    assert_run_ok(run_playbook("plan.yml"))
    return _committed()


def test_two_zone_slices_apply_in_parallel_from_one_plan(planned, subnets, pods):
    _drift("podnet-mz-a1", subnets["podnet-mz-b1"])
    _drift("podnet-mz-b2", subnets["podnet-mz-a2"])
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda zone: run_playbook("site.yml", "--limit", zone),
                             ("lab_zone_a", "lab_zone_b")))
    for result, zone in zip(runs, "ab"):
        assert_run_ok(result)
        output = result["output"]
        assert "TASK [Plan | validate and allocate]" not in output, "an apply run planned"
        assert "ledger lock" not in output
        # each run touched its own zone's nodes only
        assert set(result["recap"]) == {n for n, z in ZONES.items() if z == zone}, result["recap"]
        # the node budget (12 evaluated tasks) plus the two run-once checks of the run
        evaluated = _evaluated(output)
        assert sum(evaluated.values()) <= 12 * len(evaluated) + 2, evaluated
    # the drift was repaired by the slice of each node
    assert subnets["podnet-mz-b1"] in podnet_routes(host("podnet-mz-a1"))
    assert subnets["podnet-mz-a2"] in podnet_routes(host("podnet-mz-b2"))
    assert _committed() == planned, "an apply run wrote the ledger or the plan"
    for src in NODES:
        for dst in NODES:
            if src != dst:
                assert pods[src].source_seen_by(pods[dst].address) == pods[src].address, (src, dst)


def test_a_node_added_but_not_planned_stops_the_apply_before_any_host(planned):
    result = run_playbook("site.yml", "--limit", "lab_zone_b", inventories=(SPARE_INVENTORY,))
    assert result["rc"] != 0
    output = _flat(result["output"])
    assert f"node {SPARE} is in the inventory but not in the committed plan" in output, output[-2000:]
    assert "Plan first (ansible-playbook playbooks/plan.yml" in output
    # stopped in the first task: no node was even asked for its facts
    assert all(r["ok"] == 0 and r["changed"] == 0 for r in result["recap"].values()), result["recap"]
    assert host(SPARE).run("ip link show cbr0").rc != 0
    assert _committed() == planned


def test_a_rolling_apply_stops_after_the_zone_whose_pods_do_not_answer(planned, subnets):
    # Zone b drifts (b2 here; the next test's roll repairs it); in zone a, a2 drops what it
    # sends to a1's pod subnet (a policy rule of the operator's, which podnet neither owns nor
    # sees): every task succeeds, the pod network of zone a does not work, and only the
    # probe after the batch can tell.
    _drift("podnet-mz-b2", subnets["podnet-mz-a1"])
    a1_pods = subnets["podnet-mz-a1"]
    sh(host("podnet-mz-a2"), f"ip route add blackhole {a1_pods} table 77 && "
                             f"ip rule add to {a1_pods} table 77 pref 77")
    try:
        result = run_playbook("site.yml", "-e", "podnet_rolling=zone")
        assert result["rc"] != 0
        output = _flat(result["output"])
        assert "podnet_probe: no answer within 10 s from the pod gateway of podnet-mz-a" in output, output[-3000:]
        assert "The roll stops here" in output
        recap = result["recap"]
        assert recap["podnet-mz-a1"]["failed"] + recap["podnet-mz-a2"]["failed"] >= 1, recap
        # the roll stopped with zone a: zone b was never configured (its drift is still there)
        assert subnets["podnet-mz-a1"] not in podnet_routes(host("podnet-mz-b2"))
    finally:
        sh(host("podnet-mz-a2"), "ip rule del pref 77; ip route flush table 77")


def test_a_rolling_apply_stops_after_the_zone_that_fails(planned, subnets):
    # Zone b drifts; zone a gets a fault: a1's bridge loses podnet's mark and carries an
    # address podnet never recorded, so podnet refuses to touch it and a1 fails.
    _drift("podnet-mz-b1", subnets["podnet-mz-a1"])
    sh(host("podnet-mz-a1"), f"ip link set dev cbr0 alias operator-bridge && "
                             f"ip addr add {FAULT_ADDRESS} dev cbr0")
    try:
        result = run_playbook("site.yml", "-e", "podnet_rolling=zone")
        assert result["rc"] != 0
        assert "link cbr0 exists but podnet did not create it" in _flat(result["output"])
        assert result["recap"]["podnet-mz-a1"]["failed"] == 1, result["recap"]
        # the roll stopped with zone a: zone b was never configured (its drift is still there)
        assert subnets["podnet-mz-a1"] not in podnet_routes(host("podnet-mz-b1"))
        assert "PLAY [Podnet | configure each node" in result["output"]
    finally:
        sh(host("podnet-mz-a1"), f"ip addr del {FAULT_ADDRESS} dev cbr0; "
                                 f"ip link set dev cbr0 alias {OWNER_MARK}")
    result = run_playbook("site.yml", "-e", "podnet_rolling=zone")
    assert_run_ok(result)
    assert subnets["podnet-mz-a1"] in podnet_routes(host("podnet-mz-b1"))
    assert subnets["podnet-mz-a1"] in podnet_routes(host("podnet-mz-b2"))
    # every node probed its peers after its batch, and they answered
    probes = re.findall(r"ok: \[(podnet-mz-\w+)\]", result["output"].split(
        "TASK [Podnet | this node's pod gateway reaches its peers' (rolling runs)]")[1].split("TASK [")[0])
    assert len(result["output"].split("reaches its peers' (rolling runs)]")) == 3   # one per zone batch
    assert set(probes) <= set(NODES) and len(probes) >= 2, probes
    assert _committed() == planned
