# SPDX-License-Identifier: GPL-3.0-or-later
"""Every leased subnet is held (issue 22), run for real with ansible-playbook: role
podnet_plan's plan entry (roles/podnet_plan/tasks/plan.yml, the tasks site.yml runs) on what
role podnet_registry's read gives for an etcd registry holding a stray TTL lease (no etcd
needed: the read's ledger check, action podnet_plan_ledger, gets the keys as etcd would give
them). Nodes are the controller itself (ansible_connection=local): nothing leaves this machine.
"""

import json

import yaml

from ansible_collections.podnet.network.tests.integration.test_plan_safety import node, run

P = "/coreos.com/network"
STRAY = P + "/subnets/10.244.1.0-24"
LEDGER = {"podnet_ledger": 2, "cluster_cidr": "10.244.0.0/16", "node_prefix": 24, "zone_prefix": 20,
          "routing": {}, "zones": {"a": "10.244.0.0/20"},
          "nodes": {"a1": {"zone": "a", "address": "198.51.100.11", "prefix": 24,
                           "pod_cidr": "10.244.0.0/24", "state": "allocated"}}}


def kvs(stray=True):
    """What podnet_etcd_kv reads under the prefix: a1's reservation, and a lease (TTL) a
    flanneld outside the inventory took on the lowest free subnet."""
    keys = {P + "/config": {"value": json.dumps({"Network": "10.244.0.0/16", "SubnetLen": 24}), "lease": 0},
            P + "/podnet/ledger": {"value": json.dumps(LEDGER), "lease": 0},
            P + "/subnets/10.244.0.0-24": {"value": json.dumps({"PublicIP": "198.51.100.11"}), "lease": 0}}
    if stray:
        keys[STRAY] = {"value": json.dumps({"PublicIP": "192.0.2.250", "BackendType": "vxlan"}),
                       "lease": 7587}
    return keys


def plan_with(tmp_path, registry_kvs):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"vars": {"podnet_plan_registry": "etcd"}}, "podnet_nodes": {
        "vars": {"podnet_zone": "a"},
        "hosts": {"a1": node("198.51.100.11"), "a2": node("198.51.100.12")}}}))
    out = tmp_path / "plan.json"
    role = {"podnet_plan_hosts": "{{ groups['podnet_nodes'] }}", "podnet_plan_ledger_write": False,
            "podnet_plan_registry_members": ["etcd1"]}
    playbook = tmp_path / "plan.yml"
    playbook.write_text(yaml.safe_dump([
        {"name": "Validate (playbooks/plan.yml's first play)", "hosts": "localhost", "gather_facts": False,
         "roles": [dict(role, role="podnet_plan")]},
        {"name": "Ask each node", "hosts": "podnet_nodes", "gather_facts": False,
         "tasks": [{"name": "Facts", "podnet.network.podnet_node_facts": {"address": False}}]},
        {"name": "Plan from the registry", "hosts": "localhost", "gather_facts": False, "tasks": [
            {"name": "Registry | check the ledger it holds",
             "podnet.network.podnet_plan_ledger": {"registry_kvs": registry_kvs, "registry_prefix": P},
             "register": "read"},
            {"name": "Plan", "ansible.builtin.include_role": {"name": "podnet_plan", "tasks_from": "plan"},
             "vars": dict(role, podnet_plan_registry_content="{{ read.content }}")},
            {"name": "Keep the plan and its ledger",
             "ansible.builtin.copy": {
                 "content": "{{ {'plan': podnet_plan_result, 'ledger': podnet_plan_result"
                            " | podnet.network.podnet_ledger} | to_json }}",
                 "dest": str(out), "mode": "0644"}}]}]))
    rc, output = run(inventory, playbook=str(playbook))
    assert rc == 0, output
    return json.loads(out.read_text()), " ".join(output.split())


def test_a_stray_lease_is_held_named_and_never_in_the_ledger(tmp_path):
    # before: plan.yml did not hold it: a2 was planned onto 10.244.1.0/24, leased to
    # 192.0.2.250 (the write then stopped on the conflict, or two hosts routed one subnet)
    result, output = plan_with(tmp_path, kvs())
    assert result["plan"]["nodes"]["a2"]["pod_cidr"] == "10.244.2.0/24"
    assert result["plan"]["network"]["leased"] == {"10.244.1.0/24": {
        "address": "192.0.2.250", "key": STRAY, "holder": "leased outside the inventory"}}
    assert "held: 10.244.1.0/24 by 192.0.2.250 (leased outside the inventory; no node is planned " \
           "onto it while the lease lives)" in output
    assert "192.0.2.250" not in json.dumps(result["ledger"])
    assert "10.244.1.0/24" not in json.dumps(result["ledger"])


def test_once_the_lease_expired_its_subnet_is_free(tmp_path):
    result, output = plan_with(tmp_path, kvs(stray=False))
    assert result["plan"]["nodes"]["a2"]["pod_cidr"] == "10.244.1.0/24"
    assert "leased" not in result["plan"]["network"]
    assert "held:" not in output
