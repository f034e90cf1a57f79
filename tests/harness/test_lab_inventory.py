# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's inventory (playbooks/lab/templates/hosts.yml.j2) as `make lab` writes it: the
ordinary lab names no BGP at all, and `make lab LAB_BGP=1` gives one BGP zone (zone-a, the
lab router its top-of-rack router) and one VXLAN zone that the planner accepts as written;
`make lab LAB_AGENT=1` only adds (podnet_agent on the nodes, the router in lab_prometheus):
every line of the ordinary inventory stays, in order. `make lab LAB_IPV6=1` gives a dual-stack
zone and an IPv6-only zone (reached over SSH at IPv6 addresses) that the planner accepts."""

import ipaddress
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
    podnet_lab_ipv6: false
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
    - ansible.builtin.template:
        src: {root}/playbooks/lab/templates/hosts.yml.j2
        dest: "{out}/ipv6.yml"
        mode: "0644"
      vars:
        podnet_lab_cross_zone_backend: vxlan
        podnet_lab_bgp: false
        podnet_lab_agent: false
        podnet_lab_ipv6: true
        __podnet_lab: "{{{{ 2 | podnet_lab_topology(2, 'lab', true) }}}}"
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
    texts = {(cross, bgp, agent): (out / f"{cross}-{bgp}{'-agent' if agent else ''}.yml").read_text()
             for cross in ("vxlan", "wireguard") for bgp in (False, True) for agent in (False, True)}
    texts["ipv6"] = (out / "ipv6.yml").read_text()
    return texts


@pytest.fixture(scope="module")
def rendered(rendered_text):  # pylint: disable=redefined-outer-name
    """The inventories without the agent, as YAML."""
    return {key[:2]: yaml.safe_load(text) for key, text in rendered_text.items() if key != "ipv6" and not key[2]}


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


def lab_topology(*args):
    sys.path.insert(0, os.path.join(ROOT, "playbooks", "lab", "filter_plugins"))
    try:
        import podnet_lab  # pylint: disable=import-outside-toplevel
    finally:
        sys.path.pop(0)
    return podnet_lab.lab_topology(*args)


IPV6_KEYS = {"subnet_ipv6", "ipv6_address", "gateway_ipv6", "ipv6_only", "ssh_address"}


def strip_ipv6(value):
    if isinstance(value, dict):
        return {key: strip_ipv6(item) for key, item in value.items() if key not in IPV6_KEYS}
    if isinstance(value, list):
        return [strip_ipv6(item) for item in value]
    return value


@pytest.mark.parametrize("lab", ["lab", "fb"])
def test_lab_ipv6_only_adds_to_the_topology(lab):
    for zones, nodes in ((1, 1), (2, 2), (9, 40)):
        plain, dual = lab_topology(zones, nodes, lab), lab_topology(zones, nodes, lab, True)
        assert not IPV6_KEYS & set(str(plain).replace("'", " ").split()), "ipv6 in an IPv4-only lab"
        assert strip_ipv6(dual) == plain
        assert [n["subnet_ipv6"].startswith("2001:db8:" if n["name"].endswith("-out") else "fd00:")
                for n in dual["networks"]] == [True] * len(dual["networks"])


def test_the_ordinary_lab_has_no_ipv6(rendered_text):  # pylint: disable=redefined-outer-name
    for key, text in rendered_text.items():
        if key != "ipv6":
            assert "ipv6" not in text.lower() and "fd00" not in text, key


def test_lab_ipv6_plans_a_dual_stack_zone_and_an_ipv6_only_zone(rendered_text):  # pylint: disable=redefined-outer-name
    inventory = yaml.safe_load(rendered_text["ipv6"])
    settings = inventory["all"]["vars"]
    children = inventory["all"]["children"]
    zones = children["podnet_nodes"]["children"]
    assert zones["lab_zone_b"]["vars"]["podnet_apt_proxy"] == "http://[{{ lab_gateway_ipv6 }}]:3142"
    assert "podnet_apt_proxy" not in zones["lab_zone_a"]["vars"]
    assert children["lab_router"]["vars"] == {"lab_ipv6_router": True}
    nodes = {}
    for group in zones.values():
        for name, spec in group["hosts"].items():
            only6 = spec.get("lab_ipv6_only", False)
            # Ansible reaches an IPv6-only node at its IPv6 address, the others at their IPv4 one
            if only6:
                assert spec["ansible_host"] == spec["podnet_address_ipv6"]
            else:
                assert ipaddress.ip_address(spec["ansible_host"]) in ipaddress.ip_network(
                    spec["lab_gateway"] + "/24", strict=False)
            assert ("lab_gateway" in spec) is not only6 and spec["lab_gateway_ipv6"].endswith("::fe")
            nodes[name] = {"zone": group["vars"]["podnet_zone"], "address": None if only6 else spec["ansible_host"],
                           "prefix": None if only6 else 24, "address_ipv6": spec["podnet_address_ipv6"],
                           "prefix_ipv6": group["vars"]["podnet_underlay_prefix_ipv6"]}
    assert [name for name, node in nodes.items() if node["address"] is None] == ["podnet-lab-b1", "podnet-lab-b2"]
    result = plan(nodes, {"cluster_cidr": "10.244.0.0/16",
                          "cluster_cidr_ipv6": settings["podnet_plan_cluster_cidr_ipv6"]})

    def paths(host):
        return {p["hostname"]: (p["backend"], p["backend_ipv6"]) for p in host_view(result, host)["peers"]}
    assert paths("podnet-lab-a1") == {"podnet-lab-a2": ("host-gw", "host-gw"), "podnet-lab-b1": ("vxlan", "vxlan"),
                                      "podnet-lab-b2": ("vxlan", "vxlan")}
    assert paths("podnet-lab-b1")["podnet-lab-b2"] == ("vxlan", "host-gw")
    a1 = host_view(result, "podnet-lab-a1")
    assert a1["vxlan"] is None and a1["vxlan_ipv6"]["device"] == "flannel-v6.1"
