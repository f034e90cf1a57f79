# SPDX-License-Identifier: GPL-3.0-or-later
"""The planning playbook's safety promises, run for real with ansible-playbook.

Nodes connect with ansible_connection=local (they are the controller itself, so only
the read-only facts step touches anything), or are made unreachable by pointing SSH
at a closed port on 127.0.0.1: nothing leaves this machine.
"""

import importlib
import os
import subprocess
import sys
import time

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
PLAN = os.path.join(ROOT, "playbooks", "plan.yml")
REACHABLE = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
# SSH to a closed local port: refused at once, nothing sent anywhere.
UNREACHABLE = {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 1,
               "ansible_ssh_common_args": "-o ConnectTimeout=2"}


def node(address=None, prefix=24, **extra):
    spec = dict(REACHABLE)
    if address:
        spec["podnet_address"] = address
    if prefix is not None:
        spec["podnet_underlay_prefix"] = prefix
    spec.update(extra)
    return spec


def inventory(path, zones):
    """Write an inventory file: zones = {zone: {host: hostvars}}."""
    children = {"zone_%s" % zone: {"vars": {"podnet_zone": zone}, "hosts": hosts}
                for zone, hosts in zones.items()}
    path.write_text(yaml.safe_dump({"podnet_nodes": {"children": children}}))
    return path


def run(inventory_path, *args, playbook=PLAN):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_LOCALHOST_WARNING="False",
               ANSIBLE_HOST_KEY_CHECKING="False")
    done = subprocess.run([ANSIBLE_PLAYBOOK, "-i", str(inventory_path), playbook, *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    return done.returncode, done.stdout + done.stderr


def ledger_of(path):
    return yaml.safe_load(path.read_text())


FLEET = {"a": {"a1": node("198.51.100.11"), "a2": node("198.51.100.12")},
         "b": {"b1": node("198.51.100.21")}}


def test_a_bad_inventory_fails_before_any_connection(tmp_path):
    bad = {"a": {"a1": dict(UNREACHABLE, podnet_address="198.51.100.11",
                            podnet_pod_cidr="10.99.0.0/24"),
                 "a2": dict(UNREACHABLE, podnet_address="198.51.100.12")}}
    rc, out = run(inventory(tmp_path / "hosts.yml", bad))
    assert rc != 0
    assert "host a1 pod_cidr: 10.99.0.0/24 lies outside the cluster CIDR 10.244.0.0/16" \
        in " ".join(out.split()), out
    assert "UNREACHABLE" not in out and "Failed to connect" not in out, out


def test_an_unreachable_node_keeps_address_prefix_and_backend(tmp_path):
    # Two zones on one /24: auto gives host-gw between them, MTU 1500 everywhere.
    path = inventory(tmp_path / "hosts.yml", FLEET)
    ledger_file = tmp_path / "ledger.yml"
    rc, out = run(path, "-e", "podnet_plan_ledger_path=%s" % ledger_file)
    assert rc == 0, out
    first = ledger_of(ledger_file)
    assert first["nodes"]["b1"]["prefix"] == 24
    assert "b1    b     198.51.100.21  10.244.16.0/24  1500" in out, out
    # b1 stops answering and the inventory (a dynamic one) no longer describes it.
    inventory(path, {"a": FLEET["a"], "b": {"b1": dict(UNREACHABLE)}})
    rc, out = run(path, "-e", "podnet_plan_ledger_path=%s" % ledger_file)
    assert "UNREACHABLE" in out, out
    assert "b1    b     198.51.100.21  10.244.16.0/24  1500" in out, out
    assert "a1    a     198.51.100.11  10.244.0.0/24   1500" in out, out
    assert {h: {k: v for k, v in n.items() if k != "state"} for h, n in ledger_of(ledger_file)["nodes"].items()} \
        == {h: {k: v for k, v in n.items() if k != "state"} for h, n in first["nodes"].items()}


def test_two_inventories_in_one_directory_keep_their_own_ledgers(tmp_path):
    prod = inventory(tmp_path / "prod.yml", FLEET)
    staging = inventory(tmp_path / "staging.yml", {"a": {"s1": node("198.51.100.31")}})
    assert run(prod)[0] == 0
    prod_ledger = ledger_of(tmp_path / ".podnet-ledger.prod.yml")
    rc, out = run(staging)
    assert rc == 0, out
    assert set(ledger_of(tmp_path / ".podnet-ledger.staging.yml")["nodes"]) == {"s1"}
    assert ledger_of(tmp_path / ".podnet-ledger.prod.yml") == prod_ledger


def test_a_shared_ledger_of_an_earlier_release_is_never_taken_silently(tmp_path):
    prod = inventory(tmp_path / "prod.yml", FLEET)
    assert run(prod)[0] == 0
    os.rename(tmp_path / ".podnet-ledger.prod.yml", tmp_path / ".podnet-ledger.yml")
    staging = inventory(tmp_path / "staging.yml", {"a": {"s1": node("198.51.100.31")}})
    rc, out = run(staging)
    assert rc != 0
    assert "mv %s %s" % (tmp_path / ".podnet-ledger.yml", tmp_path / ".podnet-ledger.staging.yml") \
        in out.replace("\n", " ").replace("  ", " ") or "podnet_plan_ledger_path" in out, out
    assert not (tmp_path / ".podnet-ledger.staging.yml").exists()


def test_a_removed_node_keeps_its_subnet_until_forgotten(tmp_path):
    path = inventory(tmp_path / "hosts.yml", FLEET)
    ledger_file = tmp_path / "ledger.yml"

    def run(*args):  # pylint: disable=function-redefined
        return globals()["run"](path, "-e", "podnet_plan_ledger_path=%s" % ledger_file, *args)

    assert run()[0] == 0
    a2 = ledger_of(ledger_file)["nodes"]["a2"]["pod_cidr"]
    # a2 leaves (repair, or a dynamic inventory hiding a stopped VM); a3 arrives.
    inventory(path, {"a": {"a1": FLEET["a"]["a1"], "a3": node("198.51.100.13")}, "b": FLEET["b"]})
    rc, out = run()
    assert rc == 0, out
    nodes = ledger_of(ledger_file)["nodes"]
    assert nodes["a3"]["pod_cidr"] != a2
    assert nodes["a2"]["state"] == "released-pending" and nodes["a2"]["pod_cidr"] == a2
    # A typo never frees anything; a node still listed cannot be forgotten.
    rc, out = run("-e", "podnet_forget=a9")
    assert rc != 0 and "the ledger holds no node a9" in out, out
    rc, out = run("-e", "podnet_forget=a1")
    assert rc != 0 and "host a1 is still in the inventory" in out, out
    rc, out = run("-e", "podnet_forget=a2")
    assert rc == 0, out
    assert "a2" not in ledger_of(ledger_file)["nodes"]


def test_a_second_run_waits_for_the_lock(tmp_path):
    path = inventory(tmp_path / "hosts.yml", FLEET)
    podnet_plan_ledger = importlib.import_module(
        "ansible_collections.podnet.network.plugins.action.podnet_plan_ledger")
    owner = subprocess.Popen(["sleep", "60"])  # stands for another ansible-playbook run
    try:
        podnet_plan_ledger.acquire_lock(str(tmp_path / ".podnet-ledger.hosts.yml"), owner.pid)
        rc, out = run(path)
        assert rc != 0 and "another podnet run holds the ledger lock" in out, out
        assert "pid=%d" % owner.pid in out, out
    finally:
        owner.kill()
        owner.wait()
    time.sleep(1.5)  # the holder notices its run is gone
    rc, out = run(path)
    assert rc == 0, out


@pytest.mark.parametrize("content, fragment", [
    ("nodes: [unclosed\n", "is not valid YAML"),
    ("- just\n- a list\n", "is not a podnet ledger"),
])
def test_an_unreadable_ledger_stops_the_run_naming_the_file(tmp_path, content, fragment):
    path = inventory(tmp_path / "hosts.yml", FLEET)
    (tmp_path / ".podnet-ledger.hosts.yml").write_text(content)
    rc, out = run(path)
    assert rc != 0
    flat = " ".join(out.split())
    assert fragment in flat and str(tmp_path / ".podnet-ledger.hosts.yml") in flat, out
    assert (tmp_path / ".podnet-ledger.hosts.yml").read_text() == content


def test_the_preview_lists_adds_removes_and_path_changes_without_writing(tmp_path):
    path = inventory(tmp_path / "hosts.yml", FLEET)
    ledger_file = tmp_path / ".podnet-ledger.hosts.yml"
    preview = os.path.join(ROOT, "playbooks", "preview.yml")
    rc, out = run(path, playbook=preview)
    assert rc == 0, out
    assert "+ a1 gets 10.244.0.0/24 in zone a" in out, out
    assert not ledger_file.exists()  # a preview never writes the ledger
    assert run(path)[0] == 0
    written = ledger_file.read_text()
    # a2 leaves, a3 arrives, zone a goes to vxlan inside: a1<->a3 is vxlan, MTUs drop.
    inventory(path, {"a": {"a1": FLEET["a"]["a1"], "a3": node("198.51.100.13")}, "b": FLEET["b"]})
    rc, out = run(path, "-e", '{"podnet_plan_zone_backends": {"a": "vxlan"}}', playbook=preview)
    assert rc == 0, out
    flat = " ".join(out.split())
    assert "+ a3 gets 10.244.2.0/24 in zone a" in flat, out
    assert "- a2 leaves: 10.244.1.0/24 stays reserved (released-pending)" in flat, out
    assert "~ a1: MTU 1500 -> 1450" in flat, out
    assert ledger_file.read_text() == written


def test_reset_limited_to_one_node_marks_it_and_its_subnet_is_then_free(tmp_path):
    path = inventory(tmp_path / "hosts.yml", FLEET)
    ledger_file = tmp_path / ".podnet-ledger.hosts.yml"
    assert run(path)[0] == 0
    # Only the ledger step of reset.yml: the reset roles must not run on this machine.
    reset = os.path.join(ROOT, "playbooks", "reset.yml")
    rc, out = run(path, "--limit", "a2", "--start-at-task", "Podnet | mark them in the ledger",
                  playbook=reset)
    assert rc == 0, out
    nodes = ledger_of(ledger_file)["nodes"]
    assert nodes["a2"].get("reset") is True and "reset" not in nodes["a1"]
    inventory(path, {"a": {"a1": FLEET["a"]["a1"]}, "b": FLEET["b"]})
    assert run(path)[0] == 0
    assert "a2" not in ledger_of(ledger_file)["nodes"]
