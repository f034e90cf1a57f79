# SPDX-License-Identifier: GPL-3.0-or-later
"""Dual stack on the hosts (issue 24 item 2, the wiring): a dual-stack plan whose pairs are
all host-gw gives each node's concerns their IPv6 arguments, the same through the fleet
table on the node as through the planner's slice; IPv4-only and planner-only plans give
what they gave; VXLAN and WireGuard carry both pod families over one underlay family (IPv6
where a node has no IPv4 underlay); IPv6 pods over BGP are refused before any host is
touched, naming the pair."""

import json

import pytest
from ansible_collections.podnet.network.plugins.plugin_utils.planner import (
    PlanError, host_view, plan, preflight)
from ansible_collections.podnet.network.plugins.plugin_utils.planner.host_view import (
    concern_arguments, fleet_table, node_view)
from ansible_collections.podnet.network.tests.unit.role_modules import load_module_utils
from ansible_collections.podnet.network.tests.unit.test_fleet_table import SETTINGS

slices = load_module_utils("podnet_slice")
node_utils = load_module_utils("podnet_node")

V4 = {"cluster_cidr": "10.244.0.0/16"}
DUAL = dict(V4, cluster_cidr_ipv6="fd00:10:244::/56")
# One zone on one segment in both families (a3 gives no IPv6 prefix: same zone, same segment).
ONE_SEGMENT = {
    "a1": {"zone": "east", "address": "192.168.1.10", "prefix": 24,
           "address_ipv6": "2001:db8:1::10", "prefix_ipv6": 64},
    "a2": {"zone": "east", "address": "192.168.1.11", "prefix": 24,
           "address_ipv6": "2001:db8:1::11", "prefix_ipv6": 64},
    "a3": {"zone": "east", "address": "192.168.1.12", "prefix": 24,
           "address_ipv6": "2001:db8:1::9"},
}
# `ip -json -6 addr show lo` recorded on the lab machine, and `ip -json -6 addr show eth0` on
# a dual-stack test host of the host-gw run in the CHANGELOG (its underlay fd42:24:4::11).
IP_ADDR_LO = [{"ifindex": 1, "ifname": "lo", "flags": ["LOOPBACK", "UP", "LOWER_UP"], "mtu": 65536,
               "operstate": "UNKNOWN", "txqlen": 1000,
               "addr_info": [{"family": "inet6", "local": "::1", "prefixlen": 128, "scope": "host",
                              "valid_life_time": 4294967295, "preferred_life_time": 4294967295}]}]
IP_ADDR_ETH0 = [{"ifindex": 2758, "link_index": 2759, "ifname": "eth0",
                 "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"], "mtu": 1500, "qdisc": "noqueue",
                 "operstate": "UP", "group": "default", "link_netnsid": 0,
                 "addr_info": [{"family": "inet6", "local": "fd42:24:4::11", "prefixlen": 64, "scope": "global",
                                "nodad": True, "valid_life_time": 4294967295,
                                "preferred_life_time": 4294967295},
                               {"family": "inet6", "local": "fe80::42:acff:fe1e:f40b", "prefixlen": 64,
                                "scope": "link", "valid_life_time": 4294967295,
                                "preferred_life_time": 4294967295}]}]


def dual_plan(backend="host-gw", nodes=None):
    return plan(nodes or ONE_SEGMENT, dict(DUAL, backend=backend))


@pytest.mark.parametrize("backend", ["host-gw", "auto"])
def test_dual_stack_arguments_through_the_table_equal_the_planners(backend):
    result = dual_plan(backend)
    table = fleet_table(result)
    asked = []

    def interfaces(address):
        asked.append(address)
        return ["eth0"]

    for host in ONE_SEGMENT:
        derived = slices.concerns_from_table(table, host, SETTINGS, False, interfaces)
        expected = concern_arguments(host_view(result, host, peers=False), result["network"], SETTINGS,
                                     False, ["eth0"])
        assert json.dumps(derived) == json.dumps(expected), host
    assert asked == [ONE_SEGMENT[h]["address_ipv6"] for h in ONE_SEGMENT]


def test_a_dual_stack_nodes_concerns_carry_ipv6():
    result = dual_plan()
    nodes = result["nodes"]
    args = concern_arguments(host_view(result, "a1", peers=False), result["network"], SETTINGS, False, ["eth0"])
    assert nodes["a1"]["pod_cidr_ipv6"] == "fd00:10:244::/64" and nodes["a1"]["gateway_ipv6"] == "fd00:10:244::1"
    assert args["sysctl"]["ipv6_forward"] is True and args["sysctl"]["ipv6_accept_ra_interfaces"] == ["eth0"]
    assert args["bridge"]["address_ipv6"] == "fd00:10:244::1/64"
    assert args["bridge"]["address"] == nodes["a1"]["gateway"] + "/24"
    # IPv4 host-gw routes first, then the IPv6 ones, each via the peer's address of its family.
    v4 = [{"dest": nodes[h]["pod_cidr"], "via": nodes[h]["address"], "dev": "underlay", "onlink": False}
          for h in ("a2", "a3")]
    v6 = sorted(({"dest": nodes[h]["pod_cidr_ipv6"], "via": ONE_SEGMENT[h]["address_ipv6"], "dev": "underlay",
                  "onlink": False} for h in ("a2", "a3")), key=lambda r: r["dest"])
    assert args["routes"]["routes"] == v4 + v6
    firewall = args["firewall"]
    assert (firewall["cluster_cidr_ipv6"], firewall["pod_cidr_ipv6"]) == ("fd00:10:244::/56", "fd00:10:244::/64")
    assert firewall["node_addresses"] == ["192.168.1.11", "192.168.1.12", "192.168.1.10",
                                          "2001:db8:1::9", "2001:db8:1::11", "2001:db8:1::10"]
    assert "masquerade_ipv6" not in firewall  # not given: the module's default (ULA: masquerade)
    with_setting = dict(SETTINGS, firewall=dict(SETTINGS["firewall"], masquerade_ipv6=False))
    assert concern_arguments(host_view(result, "a1", peers=False), result["network"], with_setting,
                             False, ["eth0"])["firewall"]["masquerade_ipv6"] is False


def test_node_view_gains_the_ipv6_prefix_and_gateway_only_on_a_dual_stack_plan():
    assert node_view(dual_plan(), "a2")["pod_cidr_ipv6"] == dual_plan()["nodes"]["a2"]["pod_cidr_ipv6"]
    assert node_view(dual_plan(), "a2")["gateway_ipv6"] == dual_plan()["nodes"]["a2"]["gateway_ipv6"]
    four = plan({h: {k: v for k, v in n.items() if "ipv6" not in k} for h, n in ONE_SEGMENT.items()},
                dict(V4, backend="host-gw"))
    only = plan(ONE_SEGMENT, dict(DUAL, backend="host-gw", ipv6_planner_only=True))
    for result in (four, only):
        assert not [key for key in node_view(result, "a2") if "ipv6" in key]


def test_ipv4_and_planner_only_arguments_have_no_ipv6_and_ignore_masquerade_ipv6():
    four = plan({h: {k: v for k, v in n.items() if "ipv6" not in k} for h, n in ONE_SEGMENT.items()},
                dict(V4, backend="host-gw"))
    only = plan(ONE_SEGMENT, dict(DUAL, backend="host-gw", ipv6_planner_only=True))
    with_setting = dict(SETTINGS, firewall=dict(SETTINGS["firewall"], masquerade_ipv6=True))
    for result in (four, only):
        table = fleet_table(result)
        assert slices.read_table(table)[1]["a1"].keys() == set(slices.TABLE_FIELDS) - {"bgp_asn"}
        for host in ONE_SEGMENT:
            plain = concern_arguments(host_view(result, host, peers=False), result["network"], SETTINGS)
            assert slices.concerns_from_table(table, host, with_setting, False, None) == plain
            assert "ipv6" not in json.dumps(plain) and "fd00" not in json.dumps(plain)


def test_settings_still_refuse_an_unknown_name():
    bad = dict(SETTINGS, firewall=dict(SETTINGS["firewall"], masquerade_six=True))
    with pytest.raises(slices.SliceError, match="firewall takes exactly"):
        slices.check_settings(bad)


TWO_ZONES = dict(ONE_SEGMENT, b1={"zone": "west", "address": "172.16.5.20", "prefix": 24,
                                  "address_ipv6": "2001:db8:5::20", "prefix_ipv6": 64})


def test_across_zones_vxlan_carries_both_pod_families_over_the_ipv4_underlay():
    result = plan(TWO_ZONES, DUAL)
    a1, b1 = result["nodes"]["a1"], result["nodes"]["b1"]
    view = host_view(result, "a1", peers=False)
    assert b1["vtep_ip_ipv6"] == b1["pod_cidr_ipv6"].partition("/")[0]
    assert b1["vtep_mac_ipv6"] == "0e" + b1["vtep_mac"][2:]
    # IPv4 and IPv6 pods of b1: over flannel.1 (both ends have an IPv4 underlay).
    assert {"dest": b1["pod_cidr"], "via": b1["vtep_ip"], "dev": "vxlan", "onlink": True} in view["routes"]
    assert view["routes_ipv6"][-1] == {"dest": b1["pod_cidr_ipv6"], "via": b1["vtep_ip_ipv6"], "dev": "vxlan",
                                       "onlink": True}
    assert view["neighbors"] == [{"ip": b1["vtep_ip"], "mac": b1["vtep_mac"]},
                                 {"ip": b1["vtep_ip_ipv6"], "mac": b1["vtep_mac"]}]
    assert view["fdb"] == [{"mac": b1["vtep_mac"], "dst": "172.16.5.20"}]
    assert view["vxlan"]["vtep_ip_ipv6"] == a1["vtep_ip_ipv6"] and view["vxlan"]["local"] == "192.168.1.10"
    assert view["vxlan_ipv6"] is None and view["fdb_ipv6"] == [] and view["neighbors_ipv6"] == []
    # Inside the zone: host-gw in both families.
    a2 = result["nodes"]["a2"]
    assert {"dest": a2["pod_cidr_ipv6"], "via": "2001:db8:1::11", "dev": "underlay", "onlink": False} in \
        view["routes_ipv6"]
    args = concern_arguments(view, result["network"], SETTINGS, False, ["eth0"])
    assert args["vxlan"]["device_ipv6"] is None and args["routes"]["vxlan_device_ipv6"] == "flannel-v6.1"


def test_across_zones_wireguard_allows_both_prefixes():
    result = plan(TWO_ZONES, dict(DUAL, cross_zone_backend="wireguard"))
    b1 = result["nodes"]["b1"]
    wireguard = host_view(result, "a1", peers=False)["wireguard"]
    assert wireguard["address_ipv6"] == result["nodes"]["a1"]["vtep_ip_ipv6"] + "/128"
    assert wireguard["peers"] == [{"hostname": "b1", "public_key": None, "endpoint": "172.16.5.20:51820",
                                   "allowed_ips": [b1["pod_cidr"], b1["pod_cidr_ipv6"]]}]


# a3 has only an IPv6 underlay (on a1's and a2's IPv6 segment), b1 is in another zone.
ONLY6 = dict(TWO_ZONES, a3={"zone": "east", "address_ipv6": "2001:db8:1::9", "prefix_ipv6": 64})


def test_an_ipv6_only_node_gets_its_ipv4_pods_over_vxlan_on_ipv6():
    result = plan(ONLY6, DUAL)
    nodes = result["nodes"]
    a1, a3, b1 = nodes["a1"], nodes["a3"], nodes["b1"]
    assert a3["address"] is None
    view = host_view(result, "a1", peers=False)
    # a1 -> a3: IPv4 pods over flannel-v6.1 (a3 has no IPv4 underlay), IPv6 pods host-gw.
    assert {"dest": a3["pod_cidr"], "via": a3["vtep_ip"], "dev": "vxlan_ipv6", "onlink": True} in view["routes"]
    assert {"dest": a3["pod_cidr_ipv6"], "via": "2001:db8:1::9", "dev": "underlay", "onlink": False} in \
        view["routes_ipv6"]
    assert view["vxlan_ipv6"] == {"device": "flannel-v6.1", "vni": 1, "port": 8472, "local": "2001:db8:1::10",
                                  "vtep_ip": a1["vtep_ip"], "vtep_ip_ipv6": None, "vtep_mac": a1["vtep_mac_ipv6"],
                                  "mtu": 1430}
    assert view["fdb_ipv6"] == [{"mac": a3["vtep_mac_ipv6"], "dst": "2001:db8:1::9"}]
    assert view["neighbors_ipv6"] == [{"ip": a3["vtep_ip"], "mac": a3["vtep_mac_ipv6"]}]
    # a3 itself: no IPv4 underlay, so no flannel.1; b1 over IPv6 in both families.
    mine = host_view(result, "a3", peers=False)
    assert mine["vxlan"] is None and mine["fdb"] == []
    assert mine["vxlan_ipv6"]["vtep_ip_ipv6"] == a3["vtep_ip_ipv6"]
    assert {"mac": b1["vtep_mac_ipv6"], "dst": "2001:db8:5::20"} in mine["fdb_ipv6"]
    assert {"dest": b1["pod_cidr_ipv6"], "via": b1["vtep_ip_ipv6"], "dev": "vxlan_ipv6", "onlink": True} in \
        mine["routes_ipv6"]
    args = concern_arguments(mine, result["network"], SETTINGS, False, ["eth0"])
    assert None not in args["firewall"]["node_addresses"]
    assert "2001:db8:1::9" in args["firewall"]["node_addresses"]
    # Its pods get the MTU of VXLAN over IPv6 (underlay 1500 - 70).
    assert a3["mtu"] == 1430


@pytest.mark.parametrize("host", ["a1", "a3", "b1"])
@pytest.mark.parametrize("cross", ["vxlan", "wireguard"])
def test_tunnel_arguments_through_the_table_equal_the_planners(host, cross):
    result = plan(ONLY6, dict(DUAL, cross_zone_backend=cross))
    table = fleet_table(result)
    expected = concern_arguments(host_view(result, host, peers=False), result["network"], SETTINGS,
                                 cross == "wireguard", ["eth0"])
    assert slices.concerns_from_table(table, host, SETTINGS, cross == "wireguard", lambda a: ["eth0"]) == expected


def test_bgp_zones_are_refused_for_dual_stack():
    routers = {"east": [{"name": "tor", "asn": 4260000000, "address": ["192.168.1.254"]}]}
    with pytest.raises(PlanError, match="hosts a1 and a2 .zone east, backend bgp. would carry their IPv6 pods "
                                        "over BGP"):
        plan(ONE_SEGMENT, dict(DUAL, zone_backends={"east": "bgp"}, bgp={"routers": routers}))
    # Before any host is asked, too.
    asked = {h: {k: v for k, v in n.items() if k not in ("address", "prefix")} for h, n in ONE_SEGMENT.items()}
    with pytest.raises(PlanError, match="over BGP"):
        preflight(asked, dict(DUAL, zone_backends={"east": "bgp"}, bgp={"routers": routers}))


def test_the_slice_refuses_ipv6_host_gw_without_an_ipv6_underlay():
    nodes = dict(ONE_SEGMENT, a3={k: v for k, v in ONE_SEGMENT["a3"].items() if "ipv6" not in k})
    with pytest.raises(PlanError, match="host a3 has no IPv6 underlay address"):
        plan(nodes, dict(DUAL, backend="host-gw"))
    # A plan that lost a3's IPv6 underlay after the planner's check: the slice refuses too.
    result = plan(ONE_SEGMENT, dict(DUAL, backend="host-gw"))
    del result["nodes"]["a3"]["address_ipv6"]
    network = result["network"]
    with pytest.raises(slices.SliceError, match="hosts a1 and a3 would route their IPv6 pods over host-gw"):
        slices.slice_view(network, result["nodes"], "a1")


def test_a_single_dual_stack_node_needs_no_pair():
    result = plan({"a1": ONE_SEGMENT["a1"]}, dict(DUAL, backend="vxlan"))
    args = concern_arguments(host_view(result, "a1", peers=False), result["network"], SETTINGS, False, ["eth0"])
    assert args["routes"]["routes"] == [] and args["bridge"]["address_ipv6"] == "fd00:10:244::1/64"


def test_the_node_finds_the_interfaces_holding_its_underlay_address():
    links = IP_ADDR_LO + IP_ADDR_ETH0
    assert node_utils.interfaces_holding(links, "fd42:24:4::11") == ["eth0"]
    assert node_utils.interfaces_holding(links, "fd42:24:4:0::0011") == ["eth0"]  # as addresses
    assert node_utils.interfaces_holding(links, "::1") == ["lo"]
    assert node_utils.interfaces_holding(links, "fd42:24:4::12") == []
    assert node_utils.interfaces_holding([], "fd42:24:4::11") == []


class FakeHost:
    """Stands in for AnsibleModule's run_command/get_bin_path with recorded output."""

    def __init__(self, rc, out, err=""):
        self.result = (rc, out, err)
        self.argv = None

    def get_bin_path(self, tool, required=False):
        return "/usr/sbin/" + tool

    def run_command(self, argv):
        self.argv = argv
        return self.result


def test_underlay_interfaces_ipv6_reads_ip_and_names_a_missing_address():
    host = FakeHost(0, json.dumps(IP_ADDR_LO + IP_ADDR_ETH0))
    assert node_utils.underlay_interfaces_ipv6(host)("fd42:24:4::11") == ["eth0"]
    assert host.argv == ["/usr/sbin/ip", "-json", "-6", "addr", "show"]
    with pytest.raises(slices.SliceError, match="2001:db8::7 .* is on none of its interfaces.*podnet_address_ipv6"):
        node_utils.underlay_interfaces_ipv6(host)("2001:db8::7")
    with pytest.raises(slices.SliceError, match="failed: no ip"):
        node_utils.underlay_interfaces_ipv6(FakeHost(1, "", "no ip"))("fd42:24:4::11")


def test_the_module_refuses_a_node_whose_ipv6_underlay_address_it_does_not_hold():
    # Run as Ansible runs it, on this machine (check mode): 2001:db8:1::10 is on none of its
    # interfaces, so nothing is converged and the message names the address and the fix.
    from ansible_collections.podnet.network.tests.unit.role_modules import run_module  # pylint: disable=import-outside-toplevel
    args = {"table": fleet_table(dual_plan()), "hostname": "a1", "settings": SETTINGS, "wireguard": False,
            "masquerade_ipv6": False}
    result = run_module("podnet_node", args)
    assert result["failed"] and "2001:db8:1::10 (the plan's address_ipv6" in result["msg"], result
    assert "nothing was changed on a1" in result["msg"] and "concerns" not in result, result
    result = run_module("podnet_node", dict(args, masquerade_ipv6="maybe"))
    assert result["failed"] and "masquerade_ipv6" in result["msg"], result


def test_a_dual_stack_node_on_dockers_docker0_leaves_the_ipv6_gateway_to_docker():
    result = dual_plan()
    docker0 = dict(SETTINGS, bridge=dict(SETTINGS["bridge"], state="absent"))
    args = slices.concerns_from_table(fleet_table(result), "a1", docker0, False, lambda address: ["eth0"])
    # Docker gives docker0 <prefix>::1 (podnet_docker_fixed_cidr_v6); the rest is dual stack.
    assert "address_ipv6" not in args["bridge"]
    assert args["sysctl"]["ipv6_forward"] is True
    assert args["firewall"]["pod_cidr_ipv6"] == result["nodes"]["a1"]["pod_cidr_ipv6"]
    assert len(args["routes"]["routes"]) == 4


def test_the_node_agent_takes_a_dual_stack_node():
    """Its slice names the node's IPv6 underlay address for the agent's own lookup of the
    accept_ra interfaces (tests/unit/test_agent_dualstack.py: the arguments equal the node
    play's); a planner-only plan gives it no IPv6."""
    from ansible_collections.podnet.network.plugins.plugin_utils.planner.agent_slices import agent_slice  # pylint: disable=import-outside-toplevel
    slice_ = agent_slice(dual_plan(), "a1")
    assert slice_["address_ipv6"] == "2001:db8:1::10" and slice_["concerns"]["sysctl"]["ipv6_forward"] is True
    only = agent_slice(plan(ONE_SEGMENT, dict(DUAL, backend="host-gw", ipv6_planner_only=True)), "a1")
    assert "ipv6" not in json.dumps(only)
