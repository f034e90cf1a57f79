# SPDX-License-Identifier: GPL-3.0-or-later
"""site.yml's subnet.env step (playbooks/tasks/node-flannel-env.yml, etcd mode) from the node
fact podnet_node (planner host_view.node_view, set by podnet_node's action plugin): on a
dual-stack plan the fact carries the IPv6 cluster CIDR and the node's IPv6 gateway/prefix,
and the step writes flanneld's FLANNEL_IPV6_NETWORK/FLANNEL_IPV6_SUBNET; an IPv4-only (or
planner-only) plan's fact is the one it was and gives the IPv4-only file. The step runs for
real through ansible-playbook on the controller, in check mode (the module's tmpfiles.d
entry has a fixed path under /etc): the file it would write is read from its diff."""

import json
import os
import subprocess
import sys

import pytest
import yaml
from ansible_collections.podnet.network.plugins.plugin_utils.planner import host_view, plan
from ansible_collections.podnet.network.plugins.plugin_utils.planner.host_view import node_view

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(ROOT, ".venv", "bin", "ansible-playbook")
NODES = {
    "a1": {"zone": "east", "address": "192.168.1.10", "prefix": 24,
           "address_ipv6": "2001:db8:1::10", "prefix_ipv6": 64},
    "a2": {"zone": "east", "address": "192.168.1.11", "prefix": 24,
           "address_ipv6": "2001:db8:1::11", "prefix_ipv6": 64},
}
V4 = {"cluster_cidr": "10.244.0.0/16", "backend": "host-gw", "registry": "etcd", "registry_members": ["a1"]}
DUAL = dict(V4, cluster_cidr_ipv6="fd00:10:244::/56")


# The step runs through the checkout's ansible-playbook (make unit); the built collection that
# ansible-test units checks has no .venv (nor ansible.posix's json callback): skipped there.
needs_playbook = pytest.mark.skipif(not os.path.exists(ANSIBLE_PLAYBOOK),
                                    reason="no %s (the built collection)" % ANSIBLE_PLAYBOOK)


def ipv4_nodes():
    return {name: {k: v for k, v in node.items() if "ipv6" not in k} for name, node in NODES.items()}


def test_the_dual_stack_node_fact_carries_what_subnet_env_needs_as_host_view_has_it():
    result = plan(NODES, DUAL)
    for name in NODES:
        fact, view = node_view(result, name), host_view(result, name)
        assert fact["cluster_cidr_ipv6"] == view["cluster_cidr_ipv6"] == "fd00:10:244::/56"
        assert fact["bridge_address_ipv6"] == view["bridge_address_ipv6"]
        assert fact["bridge_address_ipv6"] == "%s/%s" % (result["nodes"][name]["gateway_ipv6"],
                                                         result["nodes"][name]["pod_cidr_ipv6"].split("/")[1])


def test_ipv4_only_and_planner_only_node_facts_are_unchanged():
    keys = ["address", "bridge_address", "cluster_cidr", "gateway", "hostname", "mtu", "pod_cidr",
            "registry", "zone"]
    for result in (plan(ipv4_nodes(), V4), plan(NODES, dict(DUAL, ipv6_planner_only=True))):
        assert sorted(node_view(result, "a2")) == keys


def run_step(tmp_path, fact):
    """site.yml's flannel-env step with FACT as the node's podnet_node fact, in check mode:
    the subnet file the module would write (from its diff)."""
    path = str(tmp_path / "flannel" / "subnet.env")
    play = [{
        "name": "the node play's flannel-env step", "hosts": "localhost", "gather_facts": False,
        "vars": {"podnet_host": fact, "podnet_flannel_env_path": path},
        "tasks": [{"name": "Podnet | step", "ansible.builtin.include_tasks":
                   os.path.join(ROOT, "playbooks", "tasks", "node-flannel-env.yml")}],
    }]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_CALLBACKS_ENABLED="ansible.posix.json")
    done = subprocess.run([ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local", "--check", "--diff", "-e",
                           "ansible_python_interpreter=%s" % sys.executable, str(tmp_path / "play.yml")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    tasks = json.loads(done.stdout)["plays"][0]["tasks"]
    result = [task["hosts"]["localhost"] for task in tasks
              if task["task"]["name"].endswith("Flannel env | keep flannel's subnet file")]
    assert len(result) == 1 and not os.path.exists(path), done.stdout
    return [diff["after"] for diff in result[0]["diff"] if diff["after_header"] == path]


@needs_playbook
def test_the_step_writes_flanneld_s_ipv6_lines_from_a_dual_stack_fact(tmp_path):
    result = plan(NODES, DUAL)
    fact = node_view(result, "a2")
    [text] = run_step(tmp_path, fact)
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines == ["FLANNEL_NETWORK=10.244.0.0/16", "FLANNEL_SUBNET=%s" % fact["bridge_address"],
                     "FLANNEL_IPV6_NETWORK=fd00:10:244::/56",
                     "FLANNEL_IPV6_SUBNET=%s" % fact["bridge_address_ipv6"],
                     "FLANNEL_MTU=%d" % fact["mtu"], "FLANNEL_IPMASQ=false"]
    assert fact["bridge_address_ipv6"].startswith(result["nodes"]["a2"]["pod_cidr_ipv6"].split("/")[0])


@needs_playbook
def test_the_step_writes_the_ipv4_only_file_from_an_ipv4_only_fact(tmp_path):
    fact = node_view(plan(ipv4_nodes(), V4), "a2")
    [text] = run_step(tmp_path, fact)
    assert [line for line in text.splitlines() if not line.startswith("#")] == [
        "FLANNEL_NETWORK=10.244.0.0/16", "FLANNEL_SUBNET=%s" % fact["bridge_address"],
        "FLANNEL_MTU=%d" % fact["mtu"], "FLANNEL_IPMASQ=false"]
