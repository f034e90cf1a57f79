# SPDX-License-Identifier: GPL-3.0-or-later
"""A run where no node answers (wrong SSH user, VPN down), for real with plan.yml.

The nodes sit at documentation addresses (TEST-NET-1, 192.0.2.0/24: never routed), with
a 2 s SSH connect timeout, so the facts step fails fast and nothing leaves this machine.
"""

import os

import yaml

from ansible_collections.podnet.network.tests.integration.test_plan_safety import (
    FLEET, ROOT, inventory, node, run)

# Unroutable: no route, or no answer within the timeout.
SILENT = {"ansible_connection": "ssh", "ansible_user": "podnet-nobody",
          "ansible_ssh_common_args": "-o ConnectTimeout=2 -o BatchMode=yes"}


def silent(address):
    return dict(SILENT, ansible_host=address)


def test_no_node_answering_ends_in_one_message_and_changes_nothing(tmp_path):
    path = inventory(tmp_path / "hosts.yml", FLEET)
    ledger_file = tmp_path / ".podnet-ledger.hosts.yml"
    assert run(path)[0] == 0
    before = ledger_file.read_bytes()
    # The same fleet, now out of reach: the inventory still names every node.
    inventory(path, {"a": {"a1": silent("192.0.2.11"), "a2": silent("192.0.2.12")},
                     "b": {"b1": silent("192.0.2.21")}})
    rc, out = run(path)
    flat = " ".join(out.split())
    assert rc != 0, out
    assert "no podnet node answered: a1, a2, b1 (unreachable, or their facts task failed" in flat, out
    assert "Nothing was changed: no host was touched and the ledger %s is as it was" % ledger_file \
        in flat, out
    assert "is undefined" not in flat, out
    # One task says it (Ansible prints its message twice); nothing ran after it.
    assert out.count("TASK [Podnet | stop when no node answered]") == 1, out
    assert "TASK [podnet_plan : Plan |" not in out.split("stop when no node answered]")[1], out
    assert ledger_file.read_bytes() == before


def test_site_stops_there_too(tmp_path):
    path = inventory(tmp_path / "hosts.yml", {"a": {"a1": silent("192.0.2.11")}})
    rc, out = run(path, playbook=os.path.join(ROOT, "playbooks", "site.yml"))
    flat = " ".join(out.split())
    assert rc != 0, out
    assert "no podnet node answered: a1" in flat and "Nothing was changed" in flat, out
    assert "is undefined" not in flat, out
    assert not (tmp_path / ".podnet-ledger.hosts.yml").exists()  # a first run writes none


def test_a_partly_reachable_fleet_is_planned_as_before(tmp_path):
    path = inventory(tmp_path / "hosts.yml", FLEET)
    ledger_file = tmp_path / ".podnet-ledger.hosts.yml"
    assert run(path)[0] == 0
    b1 = yaml.safe_load(ledger_file.read_text())["nodes"]["b1"]
    inventory(path, {"a": {"a1": node("198.51.100.11"), "a2": node("198.51.100.12")},
                     "b": {"b1": silent("192.0.2.21")}})
    rc, out = run(path)
    assert "no podnet node answered" not in out, out
    assert "b1    b     198.51.100.21  10.244.16.0/24  1500" in out, out
    assert yaml.safe_load(ledger_file.read_text())["nodes"]["b1"] == b1


def test_with_limit_only_the_asked_nodes_are_named(tmp_path):
    path = inventory(tmp_path / "hosts.yml", {"a": {"a1": silent("192.0.2.11"), "a2": silent("192.0.2.12")},
                                              "b": {"b1": node("198.51.100.21")}})
    rc, out = run(path, "--limit", "a1,localhost")
    flat = " ".join(out.split())
    assert rc != 0, out
    assert "no podnet node answered: a1 (unreachable" in flat, out
    assert not (tmp_path / ".podnet-ledger.hosts.yml").exists()
