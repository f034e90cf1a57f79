# SPDX-License-Identifier: GPL-3.0-or-later
"""Plan once, apply in slices, for real with ansible-playbook.

plan.yml commits the plan beside the ledger; site.yml with --limit (or
-e podnet_apply_only=true) reads it without the ledger's lock. The nodes are planned while
they answer on the local connection (read-only facts), then pointed at a closed local port:
an apply-only run reads the committed plan on the controller and stops at the nodes (no
host is changed, nothing leaves this machine), or refuses before any connection when the
inventory no longer declares what the plan was made from.
"""

import fcntl
import json
import subprocess
import time

import pytest

from ansible_collections.podnet.network.tests.integration.test_plan_safety import (
    ANSIBLE_PLAYBOOK, FLEET, ROOT, UNREACHABLE, inventory, node, run)

SITE = ROOT + "/playbooks/site.yml"
READ = "TASK [Podnet | read the committed plan]"


def unreachable(zones):
    """The same declarations, every node now behind a closed port."""
    return {zone: {host: dict(spec, **UNREACHABLE) for host, spec in hosts.items()}
            for zone, hosts in zones.items()}


def flat(out):
    return " ".join(out.split())


@pytest.fixture(name="planned")
def fixture_planned(tmp_path):
    """A fleet planned by plan.yml: (inventory path, ledger file, committed plan file)."""
    path = inventory(tmp_path / "hosts.yml", FLEET)
    rc, out = run(path)
    assert rc == 0, out
    ledger_file = tmp_path / ".podnet-ledger.hosts.yml"
    plan_file = tmp_path / ".podnet-ledger.hosts.plan.json"
    document = json.loads(plan_file.read_text())
    assert set(document["plan"]["nodes"]) == {"a1", "a2", "b1"}
    assert document["declared"]["nodes"]["b1"] == {"address": "198.51.100.21", "prefix": "24",
                                                   "zone": "b"}
    inventory(path, unreachable(FLEET))
    return path, ledger_file, plan_file


def test_an_apply_run_reads_the_committed_plan_without_the_lock(planned):
    path, ledger_file, plan_file = planned
    before = (ledger_file.read_bytes(), plan_file.read_bytes())
    # Another run (a plan.yml) holds the ledger's lock all along: apply runs never ask for it.
    with open(str(ledger_file) + ".lock", "a+") as lock:
        for dummy in range(50):   # plan.yml's own holder lets go within 0.5 s of its run
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                time.sleep(0.2)
        else:
            pytest.fail("the plan run's ledger lock was never released")
        env = dict(__import__("os").environ, ANSIBLE_CONFIG=ROOT + "/ansible.cfg", ANSIBLE_NOCOLOR="1",
                   ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_LOCALHOST_WARNING="False")
        runs = [subprocess.Popen([ANSIBLE_PLAYBOOK, "-i", str(path), SITE, "--limit", limit],
                                 cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True) for limit in ("zone_a", "zone_b")]
        outs = [one.communicate(timeout=300)[0] for one in runs]
    for out, first in zip(outs, ("a1", "b1")):
        assert "ok: [%s -> localhost]" % first in out, out   # the plan was read, once
        assert "ledger lock" not in out, out
        assert "TASK [Plan | validate and allocate]" not in out, out   # never planned
        # and the nodes of its slice were the first thing contacted
        assert "UNREACHABLE" in out and "Podnet | configure each node" not in out, out
    assert (ledger_file.read_bytes(), plan_file.read_bytes()) == before


def test_a_node_added_but_not_planned_is_refused_before_any_connection(planned):
    path, ledger_file, dummy = planned
    before = ledger_file.read_bytes()
    fleet = unreachable(FLEET)
    fleet["b"]["b2"] = dict(node("198.51.100.22"), **UNREACHABLE)
    inventory(path, fleet)
    rc, out = run(path, "--limit", "zone_a", playbook=SITE)
    assert rc != 0
    assert "node b2 is in the inventory but not in the committed plan" in flat(out), out
    assert "Plan first (ansible-playbook playbooks/plan.yml" in flat(out), out
    assert "UNREACHABLE" not in out, out
    assert ledger_file.read_bytes() == before


@pytest.mark.parametrize("change, message", [
    (lambda fleet: fleet["a"].pop("a2"), "node a2 is in the committed plan"),
    (lambda fleet: fleet["b"].update(a2=fleet["a"].pop("a2")),
     "node a2: the inventory gives zone 'b' but the committed plan"),
    (lambda fleet: fleet["a"]["a1"].update(podnet_pod_cidr="10.244.9.0/24"),
     "node a1: the inventory gives pod_cidr '10.244.9.0/24' but the committed plan"),
])
def test_an_inventory_that_differs_from_the_plan_is_refused_naming_the_node(planned, change, message):
    path, dummy, dummy = planned
    fleet = unreachable(FLEET)
    change(fleet)
    inventory(path, fleet)
    rc, out = run(path, "-e", "podnet_apply_only=true", playbook=SITE)
    assert rc != 0 and message in flat(out), out
    assert "UNREACHABLE" not in out, out


def test_a_changed_setting_or_ledger_is_refused(planned):
    path, ledger_file, plan_file = planned
    rc, out = run(path, "--limit", "zone_b", "-e", "podnet_plan_underlay_mtu=9000", playbook=SITE)
    assert rc != 0 and "network setting underlay_mtu is 9000 in the inventory" in flat(out), out
    ledger_file.write_text(ledger_file.read_text() + "# edited\n")
    rc, out = run(path, "--limit", "zone_b", playbook=SITE)
    assert rc != 0 and "changed after the plan %s was committed" % plan_file in flat(out), out
    plan_file.unlink()
    rc, out = run(path, "--limit", "zone_b", playbook=SITE)
    assert rc != 0 and "there is no committed plan %s" % plan_file in flat(out), out
    assert "UNREACHABLE" not in out, out


def test_a_sliced_inventory_may_lack_nodes_of_the_plan(planned):
    path, dummy, dummy = planned
    inventory(path, {"b": unreachable(FLEET)["b"]})  # an AWX job slice: zone b only
    rc, out = run(path, "-e", "podnet_apply_only=true", "-e", "podnet_apply_sliced=true",
                  playbook=SITE)
    assert "ok: [b1 -> localhost]" in out and "UNREACHABLE" in out, out


def test_a_bad_rolling_batch_size_is_refused_before_any_connection(planned):
    path, dummy, dummy = planned
    rc, out = run(path, "-e", "podnet_rolling=banana", playbook=SITE)
    assert rc != 0 and "podnet_rolling: 'banana' is not a batch size" in flat(out), out
    assert "UNREACHABLE" not in out, out
