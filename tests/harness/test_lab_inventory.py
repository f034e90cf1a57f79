# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's inventory (playbooks/lab/templates/hosts.yml.j2) as `make lab` writes it: the
ordinary lab names no BGP at all, and `make lab LAB_BGP=1` gives one BGP zone (zone-a, the
lab router its top-of-rack router) and one VXLAN zone that the planner accepts as written;
`make lab LAB_AGENT=1` only adds (podnet_agent on the nodes, the router in lab_prometheus):
every line of the ordinary inventory stays, in order."""

import os
import subprocess
import sys

import pytest
import yaml

from ansible_collections.podnet.network.plugins.plugin_utils.planner import host_view, plan

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAY = """
- hosts: localhost
  gather_facts: false
  vars:
    podnet_lab_dir: {out}
    podnet_lab_inventory_dir: {out}
    __podnet_lab: "{{{{ 2 | podnet_lab_topology(2, 'lab') }}}}"
  tasks:
    - ansible.builtin.template:
        src: {root}/playbooks/lab/templates/hosts.yml.j2
        dest: "{out}/{{{{ item.0 }}}}-{{{{ item.1 }}}}{{{{ '-agent' if item.2 else '' }}}}.yml"
        mode: "0644"
      vars:
        podnet_lab_cross_zone_backend: "{{{{ item.0 }}}}"
        podnet_lab_bgp: "{{{{ item.1 }}}}"
        podnet_lab_agent: "{{{{ item.2 }}}}"
      loop: "{{{{ ['vxlan', 'wireguard'] | product([false, true], [false, true]) | map('flatten') | list }}}}"
"""


@pytest.fixture(scope="module")
def rendered_text(tmp_path_factory):
    out = tmp_path_factory.mktemp("lab")
    (out / "play.yml").write_text(PLAY.format(out=out, root=ROOT))
    env = dict(os.environ, ANSIBLE_FILTER_PLUGINS=os.path.join(ROOT, "playbooks", "lab", "filter_plugins"),
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False")
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                           str(out / "play.yml")], env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return {(cross, bgp, agent): (out / f"{cross}-{bgp}{'-agent' if agent else ''}.yml").read_text()
            for cross in ("vxlan", "wireguard") for bgp in (False, True) for agent in (False, True)}


@pytest.fixture(scope="module")
def rendered(rendered_text):  # pylint: disable=redefined-outer-name
    """The inventories without the agent, as YAML."""
    return {(cross, bgp): yaml.safe_load(text) for (cross, bgp, agent), text in rendered_text.items() if not agent}


@pytest.mark.parametrize("cross", ["vxlan", "wireguard"])
@pytest.mark.parametrize("bgp", [False, True])
def test_lab_agent_only_adds_to_the_inventory(rendered_text, cross, bgp):  # pylint: disable=redefined-outer-name
    plain, agent = rendered_text[(cross, bgp, False)], rendered_text[(cross, bgp, True)]
    assert "agent" not in plain and "prometheus" not in plain
    rest = iter(agent.splitlines())
    assert all(line in rest for line in plain.splitlines()), "LAB_AGENT=1 changed a line of the ordinary inventory"
    inventory = yaml.safe_load(agent)
    nodes = inventory["all"]["children"]["podnet_nodes"]
    assert nodes["vars"]["podnet_agent"] is True and nodes["vars"]["podnet_agent_interval"] == 10
    assert list(inventory["all"]["children"]["lab_prometheus"]["hosts"]) == ["podnet-lab-router"]


def test_the_ordinary_lab_names_no_bgp(rendered):
    for cross in ("vxlan", "wireguard"):
        inventory = rendered[(cross, False)]
        assert not any("bgp" in key for key in inventory["all"]["vars"]), inventory["all"]["vars"]
        assert "lab_bgp_router" not in inventory["all"]["children"]
    assert "podnet_plan_zone_backends" not in rendered[("vxlan", False)]["all"]["vars"]
    assert rendered[("wireguard", False)]["all"]["vars"]["podnet_plan_zone_backends"] == {"zone-b": "vxlan"}


@pytest.mark.parametrize("cross", ["vxlan", "wireguard"])
def test_lab_bgp_plans_one_bgp_zone_beside_a_vxlan_zone(rendered, cross):
    inventory = rendered[(cross, True)]
    settings = inventory["all"]["vars"]
    zones = inventory["all"]["children"]["podnet_nodes"]["children"]
    nodes = {name: {"zone": group["vars"]["podnet_zone"], "address": spec["ansible_host"], "prefix": 24}
             for group in zones.values() for name, spec in group["hosts"].items()}
    router = inventory["all"]["children"]["lab_bgp_router"]
    assert list(router["hosts"]) == ["podnet-lab-router"]
    assert router["vars"]["lab_bgp_router_name"] == settings["podnet_plan_bgp_routers"]["zone-a"][0]["name"]
    assert settings["podnet_plan_zone_backends"]["zone-a"] == "bgp"
    result = plan(nodes, {"cluster_cidr": "10.244.0.0/16", "zone_backends": settings["podnet_plan_zone_backends"],
                          "cross_zone_backend": settings.get("podnet_plan_cross_zone_backend", "vxlan"),
                          "bgp": {"routers": settings["podnet_plan_bgp_routers"],
                                  "bfd_interval_ms": settings["podnet_plan_bgp_bfd_interval_ms"]}})
    peers = {p["hostname"]: p["backend"] for p in host_view(result, "podnet-lab-a1")["peers"]}
    assert peers == {"podnet-lab-a2": "bgp", "podnet-lab-b1": cross, "podnet-lab-b2": cross}
    inside_b = {p["hostname"]: p["backend"] for p in host_view(result, "podnet-lab-b1")["peers"]}
    assert inside_b["podnet-lab-b2"] == ("host-gw" if cross == "vxlan" else "vxlan")
    assert host_view(result, "podnet-lab-a1")["bgp"]["neighbors"] == [
        {"name": "lab", "address": "172.30.21.254", "asn": 4260000000}]
