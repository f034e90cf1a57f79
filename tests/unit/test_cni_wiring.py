# SPDX-License-Identifier: GPL-3.0-or-later
"""site.yml's CNI step (playbooks/tasks/node-cni.yml) run for real on the controller
(ansible_connection=local, the conflist written under a temporary directory): the node
fact podnet_node of a dual-stack node reaches the conflist as a second host-local range,
an IPv4-only node's fact gives the IPv4-only conflist (nothing of IPv6 in it)."""

import json
import os
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(ROOT, ".venv", "bin", "ansible-playbook")
FACT = {"zone": "a", "pod_cidr": "10.244.1.0/24", "gateway": "10.244.1.1", "mtu": 1450,
        "bridge_address": "10.244.1.1/24", "cluster_cidr": "10.244.0.0/16", "registry": "file"}
DUAL = dict(FACT, pod_cidr_ipv6="fd00:10:244:1::/64", gateway_ipv6="fd00:10:244:1::1")


def run_step(tmp_path, fact, step="cni"):
    """The node play's step STEP with FACT as the node's podnet_node fact, as site.yml
    includes it (its vars: the bridge, the runtime ranges, podnet_host)."""
    play = [{
        "name": "the node play's %s step" % step, "hosts": "localhost", "gather_facts": False,
        "vars": {"__podnet_site_bridge": "cbr0", "podnet_host": fact,
                 "__podnet_site_ranges": {"docker_fixed_cidr": "", "cni_range_end": ""},
                 "podnet_cni_conf_dir": str(tmp_path / "net.d")},
        "tasks": [{"name": "Podnet | step", "ansible.builtin.include_tasks":
                   os.path.join(ROOT, "playbooks", "tasks", "node-%s.yml" % step)}],
    }]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="False")
    done = subprocess.run([ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local", "-e",
                           "ansible_python_interpreter=%s" % sys.executable, str(tmp_path / "play.yml")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((tmp_path / "net.d" / "10-podnet.conflist").read_text())


# The step runs through the checkout's ansible-playbook (make unit); the built collection that
# ansible-test units checks has no .venv: skipped there.
@pytest.mark.skipif(not os.path.exists(ANSIBLE_PLAYBOOK), reason="no %s (the built collection)" % ANSIBLE_PLAYBOOK)
@pytest.mark.skipif(os.geteuid() != 0, reason="the module writes its conflist root-owned")
def test_the_node_facts_ipv6_prefix_reaches_the_conflist(tmp_path):
    ipam = run_step(tmp_path, DUAL)["plugins"][0]["ipam"]
    assert ipam["ranges"][1] == [{"subnet": "fd00:10:244:1::/64", "gateway": "fd00:10:244:1::1",
                                  "rangeStart": "fd00:10:244:1:1::"}]
    assert ipam["routes"] == [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]
    ipam = run_step(tmp_path, FACT)["plugins"][0]["ipam"]
    assert len(ipam["ranges"]) == 1 and ipam["routes"] == [{"dst": "0.0.0.0/0"}]
    assert "::" not in json.dumps(ipam)
