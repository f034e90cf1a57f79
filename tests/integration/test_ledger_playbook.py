# SPDX-License-Identifier: GPL-3.0-or-later
"""A damaged ledger file, run for real with playbooks/plan.yml: the run stops in its
first task naming the file, the key path and the fix, before any filter reads the
document, and the file is left byte for byte as it was (nodes run as the controller
itself, ansible_connection=local, so nothing leaves this machine)."""

import json

import pytest
import yaml

from ansible_collections.podnet.network.tests.integration.test_plan_safety import FLEET, inventory, run

HEAD = "podnet_ledger: 2\ncluster_cidr: 10.244.0.0/16\nnode_prefix: 24\nzone_prefix: 20\nrouting: {}\n"
ZONES = "zones: {a: 10.244.0.0/20, b: 10.244.16.0/20}\n"
A1 = "nodes: {a1: {zone: a, address: 198.51.100.11, prefix: 24, pod_cidr: %s}}\n"


@pytest.mark.parametrize("content, fragment", [
    (HEAD + ZONES + "nodes: [a1, a2]\n", ": nodes: expected a mapping of hostname to record, got a list"),
    (HEAD + "zones: [a, b]\nnodes: {}\n", ": zones: expected a mapping of zone to block, got a list"),
    (HEAD + ZONES + A1 % "banana", ": nodes.a1.pod_cidr: 'banana' is not an IPv4 CIDR"),
    ("", " is empty: podnet found no ledger in it"),
    ("# podnet ledger\n\n# (emptied by a bad merge)\n", " is empty: podnet found no ledger in it"),
], ids=["nodes-list", "zones-list", "bad-pod-cidr", "zero-bytes", "comments-only"])
def test_a_damaged_ledger_stops_the_run_naming_the_file_and_the_key(tmp_path, content, fragment):
    path = inventory(tmp_path / "hosts.yml", FLEET)
    ledger_file = tmp_path / ".podnet-ledger.hosts.yml"
    ledger_file.write_text(content)
    rc, out = run(path)
    flat = " ".join(out.split())
    assert rc != 0, out
    assert str(ledger_file) + fragment in flat, out
    assert "has no attribute" not in flat and "Traceback" not in flat, out
    assert "PLAY [Podnet | ask each node" not in out, out  # no node was contacted
    assert ledger_file.read_text() == content


def test_the_etcd_ledger_goes_through_the_same_reader_naming_the_key(tmp_path):
    # What role podnet_registry's read entry does with what etcd holds (no etcd needed).
    prefix = "/coreos.com/network"
    bad = {"podnet_ledger": 2, "cluster_cidr": "10.244.0.0/16", "node_prefix": 24,
           "zone_prefix": 20, "routing": {}, "zones": ["a"], "nodes": {}}
    playbook = tmp_path / "registry.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Check what the registry holds", "hosts": "localhost", "gather_facts": False,
        "tasks": [{"name": "Registry | check the ledger it holds",
                   "podnet.network.podnet_plan_ledger": {
                       "registry_kvs": {prefix + "/podnet/ledger": json.dumps(bad)},
                       "registry_prefix": prefix}}]}]))
    rc, out = run(inventory(tmp_path / "hosts.yml", FLEET), playbook=str(playbook))
    flat = " ".join(out.split())
    assert rc != 0, out
    assert "podnet ledger: etcd key %s/podnet/ledger: zones: expected a mapping" % prefix in flat, out
    assert "etcdctl put %s/podnet/ledger" % prefix in flat, out
