# SPDX-License-Identifier: GPL-3.0-or-later
"""The node agent on a dual-stack node (issue 24): its slice gives every host concern exactly
the arguments site.yml's node play gives it (the module podnet_node derives them on the node
from the fleet table), the one argument only the node knows (the interfaces holding its IPv6
underlay address, accept_ra 2) looked up on the node by the same code; WireGuard gets the
WireGuard play's config; etcd mode publishes the same slice; an IPv4-only slice is the one
it was."""

import json

import pytest
from ansible_collections.podnet.network.plugins.plugin_utils.planner import (
    PlanError, agent_slice, agent_slice_keys, host_view, plan)
from ansible_collections.podnet.network.plugins.plugin_utils.planner.agent_slices import concern_settings
from ansible_collections.podnet.network.plugins.plugin_utils.planner.host_view import fleet_table
from ansible_collections.podnet.network.tests.unit.role_modules import load_module_utils
from ansible_collections.podnet.network.tests.unit.test_dualstack_wiring import IP_ADDR_ETH0, IP_ADDR_LO

agent = load_module_utils("podnet_agent")
watch = load_module_utils("podnet_agent_watch")
slices = load_module_utils("podnet_slice")

CONCERNS = ("sysctl", "bridge", "vxlan", "routes", "firewall")
# molecule/dualstack's fleet: zone a dual stack on one segment (VXLAN over IPv4 inside the
# zone), zone b with an IPv6 underlay only; c1 (added here) an IPv4 underlay only, planned
# without zone b (no pair of them shares an underlay family).
FLEET = {
    "a1": {"zone": "a", "address": "172.30.101.11", "prefix": 24, "address_ipv6": "fd00:30:101::11", "prefix_ipv6": 64},
    "a2": {"zone": "a", "address": "172.30.101.12", "prefix": 24, "address_ipv6": "fd00:30:101::12", "prefix_ipv6": 64},
    "b1": {"zone": "b", "address_ipv6": "fd00:30:102::11", "prefix_ipv6": 64},
    "b2": {"zone": "b", "address_ipv6": "fd00:30:102::12", "prefix_ipv6": 64},
    "c1": {"zone": "c", "address": "172.30.104.11", "prefix": 24},
}
DUAL = {"cluster_cidr": "10.244.0.0/16", "cluster_cidr_ipv6": "fd00:10:244::/56", "backend": "auto",
        "zone_backends": {"a": "vxlan"}}
# name: (zones, network)
NETWORKS = {"vxlan": ("ab", DUAL), "wireguard": ("ab", dict(DUAL, cross_zone_backend="wireguard")),
            "host-gw": ("a", dict(DUAL, backend="host-gw", zone_backends={})),
            "ipv4-underlay node": ("ac", DUAL)}


def fleet(network):
    """The plan of NETWORK: its zones of FLEET."""
    zones, settings = NETWORKS[network]
    return plan(dict((h, n) for h, n in FLEET.items() if n["zone"] in zones), settings)


class Node(agent.NodeModule):
    """The agent's NodeModule on a node whose `ip -json -6 addr show` is recorded output
    (a test host's eth0 given the node's underlay address) beside lo."""

    def __init__(self, address):
        super().__init__({}, True)
        eth0 = json.loads(json.dumps(IP_ADDR_ETH0).replace("fd42:24:4::11", address))
        self.out = json.dumps(IP_ADDR_LO + eth0)
        self.ran = []

    def get_bin_path(self, tool, required=False):
        return "/usr/sbin/" + tool

    def run_command(self, argv, data=None, environ_update=None):
        self.ran.append(argv)
        return (0, self.out, "") if argv[1:] == ["-json", "-6", "addr", "show"] else (1, "", "not recorded")


def node_play(result, host, wireguard, masquerade_ipv6=None):
    """What site.yml's node play gives each concern on HOST: podnet_node's module derives it
    from the fleet table on the node (the action plugin adds masquerade_ipv6 to the
    firewall's settings when the task gives one), looking the interfaces up on the node."""
    settings = concern_settings()
    if masquerade_ipv6 is not None:
        settings = dict(settings, firewall=dict(settings["firewall"], masquerade_ipv6=masquerade_ipv6))
    address = FLEET[host].get("address_ipv6") or "fd00:99::1"
    return slices.concerns_from_table(fleet_table(result), host, settings, wireguard,
                                      slices.underlay_interfaces_ipv6(Node(address)))


def on_the_node(slice_, host):
    """The agent's arguments of each host concern on HOST (its lookup on the recorded node)."""
    node = Node(FLEET[host].get("address_ipv6") or "fd00:99::1")
    lookup = slices.underlay_interfaces_ipv6(node)
    return dict((c, agent.on_this_node(slice_, c, slice_["concerns"][c], lookup)) for c in CONCERNS), node


@pytest.mark.parametrize("network", sorted(NETWORKS))
@pytest.mark.parametrize("masquerade_ipv6", [None, False])
def test_the_agents_arguments_are_the_node_plays_on_every_dual_stack_node(network, masquerade_ipv6):
    result = fleet(network)
    wireguard = network == "wireguard"
    variables = {} if masquerade_ipv6 is None else {"podnet_masquerade_ipv6": masquerade_ipv6}
    for host in result["nodes"]:
        slice_ = agent_slice(result, host, variables, wireguard)
        arguments, node = on_the_node(slice_, host)
        expected = node_play(result, host, wireguard, masquerade_ipv6)
        assert json.dumps(arguments, sort_keys=True) == json.dumps(expected, sort_keys=True), (network, host)
        # every argument is one its module takes, as AnsibleModule would hand it over
        for concern in CONCERNS:
            agent.fill_params(load_module_utils("podnet_concern_" + concern).ARGUMENT_SPEC, arguments[concern])
        if FLEET[host].get("address_ipv6"):
            assert slice_["address_ipv6"] == FLEET[host]["address_ipv6"]
            assert "ipv6_accept_ra_interfaces" not in slice_["concerns"]["sysctl"]  # no guess in the slice
            assert arguments["sysctl"]["ipv6_accept_ra_interfaces"] == ["eth0"]
            assert node.ran == [["/usr/sbin/ip", "-json", "-6", "addr", "show"]]
        else:
            # An IPv4-underlay node of a dual-stack plan: no interface to look up (as podnet_node).
            assert "address_ipv6" not in slice_ and node.ran == []
            assert slice_["concerns"]["sysctl"]["ipv6_accept_ra_interfaces"] == []
        assert arguments["sysctl"]["ipv6_forward"] is True
        assert arguments["firewall"]["pod_cidr_ipv6"] == result["nodes"][host]["pod_cidr_ipv6"]
        assert ("masquerade_ipv6" in arguments["firewall"]) == (masquerade_ipv6 is not None)


def test_the_ipv6_only_underlay_nodes_slice_carries_both_families_over_flannel_v6():
    result = fleet("vxlan")
    nodes = result["nodes"]
    slice_ = agent_slice(result, "b1", {}, False)
    concerns = slice_["concerns"]
    assert concerns["vxlan"]["device"] is None and concerns["vxlan"]["fdb"] == []
    device6 = concerns["vxlan"]["device_ipv6"]
    assert (device6["device"], device6["local"]) == ("flannel-v6.1", "fd00:30:102::11")
    assert device6["vtep_ip"] == nodes["b1"]["vtep_ip"] and device6["vtep_ip_ipv6"] == nodes["b1"]["vtep_ip_ipv6"]
    assert {"mac": nodes["a1"]["vtep_mac_ipv6"], "dst": "fd00:30:101::11"} in concerns["vxlan"]["fdb_ipv6"]
    routes = concerns["routes"]["routes"]
    # b2 (same zone, same IPv6 segment): IPv6 pods host-gw, IPv4 pods over flannel-v6.1.
    assert {"dest": nodes["b2"]["pod_cidr_ipv6"], "via": "fd00:30:102::12", "dev": "underlay",
            "onlink": False} in routes
    assert {"dest": nodes["b2"]["pod_cidr"], "via": nodes["b2"]["vtep_ip"], "dev": "vxlan_ipv6",
            "onlink": True} in routes
    assert concerns["routes"]["vxlan_device_ipv6"] == "flannel-v6.1"
    assert concerns["bridge"]["address_ipv6"] == nodes["b1"]["gateway_ipv6"] + "/64"
    assert concerns["firewall"]["cluster_cidr_ipv6"] == "fd00:10:244::/56"
    assert "fd00:30:102::11" in concerns["firewall"]["node_addresses"]
    # its peers, probed at their IPv4 pod gateways (over flannel-v6.1): IPv4 underlays absent
    assert [p["address"] for p in slice_["peers"] if p["zone"] == "b"] == [None]


def test_the_agents_wireguard_config_is_the_wireguard_plays():
    """The WireGuard play gives the module podnet_host_view(peers=false).wireguard (its IPv6
    /128 and both pod prefixes as each peer's allowed IPs); podnet_wireguard_address_ipv6
    stays null there, the module's default here."""
    result = fleet("wireguard")
    for host in result["nodes"]:
        wireguard = agent_slice(result, host, {}, True)["concerns"]["wireguard"]
        config = host_view(result, host, peers=False)["wireguard"]
        assert wireguard["config"] == config and "address_ipv6" not in wireguard
        # every node has a peer in the other zone, over the IPv6 underlay (zone b has no IPv4)
        assert config["address_ipv6"] == result["nodes"][host]["vtep_ip_ipv6"] + "/128"
        assert all(peer["endpoint"].startswith("[fd00:30:10") for peer in config["peers"])
        assert all(any(":" in ip for ip in peer["allowed_ips"]) for peer in config["peers"])


def test_etcd_mode_publishes_the_dual_stack_slice_and_the_agent_converges_it(tmp_path):
    """The key etcd mode publishes holds the slice the agent play writes (address_ipv6 and
    the IPv6 arguments too); the watch writes it into the slice file and the agent converges
    it with the interfaces it looks up on the node."""
    result = fleet("vxlan")
    hostvars = {"b1": {"podnet_masquerade_ipv6": True}}
    keys = agent_slice_keys(result, ["a1", "b1"], hostvars, {}, 1000)
    published = keys["/coreos.com/network/podnet/agent/b1"]
    assert published["slice"] == agent_slice(result, "b1", hostvars["b1"])
    assert published["slice"]["address_ipv6"] == "fd00:30:102::11"
    assert published["slice"]["concerns"]["firewall"]["masquerade_ipv6"] is True
    path = tmp_path / "slice.json"
    path.write_text(watch.merged_text({"settings": {"interval": 10}}, published))
    document = agent.read_slice(str(path))
    given = {}

    def run(concern, arguments, check_mode):
        given[concern] = arguments
        return {"actions": [], "error": None, "warnings": []}

    lookup = slices.underlay_interfaces_ipv6(Node("fd00:30:102::11"))
    results = agent.check_and_repair(document["slice"], True, lambda line: None, run=run, interfaces=lookup)
    assert not any(entry["drift"] or entry["error"] for entry in results.values())
    expected = node_play(result, "b1", False, True)
    assert json.dumps(dict((c, given[c]) for c in CONCERNS), sort_keys=True) == json.dumps(expected, sort_keys=True)


def test_an_underlay_address_on_no_interface_is_a_check_error_of_sysctl_alone():
    slice_ = agent_slice(fleet("vxlan"), "a1", {}, False)
    logged, ran = [], []

    def run(concern, arguments, check_mode):
        ran.append(concern)
        return {"actions": [], "error": None, "warnings": []}

    lookup = slices.underlay_interfaces_ipv6(Node("fd00:30:101::99"))  # a1's address is not on it
    results = agent.check_and_repair(slice_, False, logged.append, run=run, interfaces=lookup)
    assert "fd00:30:101::11" in results["sysctl"]["error"] and "podnet_address_ipv6" in results["sysctl"]["error"]
    assert not results["sysctl"]["drift"] and "sysctl" not in ran
    assert ran == ["bridge", "vxlan", "routes", "firewall", "boot"]
    assert any("sysctl cannot be checked" in line for line in logged)


def test_the_lookup_runs_for_real_on_this_machine():
    """Real: the agent's default lookup runs `ip -json -6 addr show` on this machine, which
    holds ::1 on lo, and gives the sysctl concern that interface."""
    arguments = agent.on_this_node({"address_ipv6": "::1"}, "sysctl", {"ip_forward": True})
    assert arguments == {"ip_forward": True, "ipv6_accept_ra_interfaces": ["lo"]}
    assert agent.on_this_node({"address_ipv6": "::1"}, "routes", {"protocol": 191}) == {"protocol": 191}


def test_ipv4_slices_and_planner_only_plans_carry_no_ipv6():
    four = plan({h: {k: v for k, v in n.items() if "ipv6" not in k} for h, n in FLEET.items() if n.get("address")},
                {"cluster_cidr": "10.244.0.0/16", "backend": "auto", "cross_zone_backend": "wireguard"})
    only = plan({h: n for h, n in FLEET.items() if n.get("address")}, dict(DUAL, ipv6_planner_only=True))
    assert sorted(four["nodes"]) == sorted(only["nodes"]) == ["a1", "a2", "c1"]
    for result in (four, only):
        for host in result["nodes"]:
            # podnet_masquerade_ipv6 set or not: an IPv4 node's arguments stay what they were
            for variables in ({}, {"podnet_masquerade_ipv6": True}):
                text = json.dumps(agent_slice(result, host, variables, True))
                assert "ipv6" not in text and "fd00" not in text, host
    # byte for byte the slice the agent got before dual stack (digest recorded at fcbdd4e)
    assert agent.slice_digest(agent_slice(four, "a1", {"podnet_routes_protocol": 192}, True)) == \
        "aaa958308d50e5aad14025aae65720fedac65e50"


def test_a_bad_masquerade_ipv6_is_named():
    with pytest.raises(PlanError, match="host b1: podnet_masquerade_ipv6='maybe' must be a boolean"):
        agent_slice(fleet("vxlan"), "b1", {"podnet_masquerade_ipv6": "maybe"})
    assert agent_slice(fleet("vxlan"), "b1", {"podnet_masquerade_ipv6": "yes"})["concerns"]["firewall"][
        "masquerade_ipv6"] is True
