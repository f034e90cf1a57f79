# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet table (module_utils/podnet_slice.py): the controller encodes it once per run,
each node derives its own slice from it. The host concerns' arguments a node derives must
be exactly what the planner's slice gives (concern_arguments(host_view(plan, h,
peers=False), ...)) for every host of real plans of every backend, the table must hold the
plan's values, and a table that is not this node's kind names the culprit."""

import json

import pytest
from ansible_collections.podnet.network.plugins.plugin_utils.planner import host_view, plan
from ansible_collections.podnet.network.plugins.plugin_utils.planner.host_view import (
    concern_arguments, fleet_table)
from ansible_collections.podnet.network.plugins.plugin_utils.planner.agent_slices import concern_settings
from ansible_collections.podnet.network.tests.unit.role_modules import load_module_utils

slices = load_module_utils("podnet_slice")

# The roles' defaults, as the node play gives them when the inventory sets none.
SETTINGS = concern_settings()
KEY_A = "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE="
KEY_B = "YmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmI="
TWO_ZONES = {
    "a1": {"zone": "east", "address": "192.168.1.10", "prefix": 24, "wireguard_key": KEY_A},
    "a2": {"zone": "east", "address": "192.168.1.11", "prefix": 24},
    "a3": {"zone": "east", "address": "192.168.2.12", "prefix": 24},
    "b1": {"zone": "west", "address": "172.16.5.20", "prefix": 24, "wireguard_key": KEY_B},
    "b2": {"zone": "west", "address": "172.16.5.21"},
}
ROUTERS = {"dc1": [{"name": "tor", "asn": 4260000000, "address": ["172.30.81.254", "172.30.82.254"]}],
           "dc3": [{"name": "tor3", "asn": 4260000003, "address": ["172.30.95.254"]}]}
BGP_ZONES = {
    "a1": {"zone": "dc1", "address": "172.30.81.11", "prefix": 24},
    "a2": {"zone": "dc1", "address": "172.30.81.12", "prefix": 24},
    "b1": {"zone": "dc1", "address": "172.30.82.11", "prefix": 24},
    "c1": {"zone": "dc3", "address": "172.30.95.11", "prefix": 24},
    "w1": {"zone": "dc2", "address": "172.30.90.11", "prefix": 24},
}
PLANS = {
    "host-gw": plan({name: node for name, node in TWO_ZONES.items() if node["zone"] == "east"
                     and name != "a3"}, {"cluster_cidr": "10.244.0.0/16", "backend": "host-gw"}),
    "vxlan": plan(TWO_ZONES, {"cluster_cidr": "10.244.0.0/16", "backend": "vxlan",
                              "vxlan": {"vni": 4, "port": 4789, "device": "vx4"}, "underlay_mtu": 9000}),
    "auto across zones": plan(TWO_ZONES, {"cluster_cidr": "10.244.0.0/16", "node_prefix": 26,
                                          "service_cidr": "10.96.0.0/12"}),
    "wireguard cross-zone": plan(TWO_ZONES, {"cluster_cidr": "10.244.0.0/16", "cross_zone_backend": "wireguard",
                                             "wireguard": {"port": 51900, "persistent_keepalive": 25}}),
    "bgp zones": plan(BGP_ZONES, {"cluster_cidr": "10.244.0.0/16", "zone_backends": {"dc1": "bgp", "dc3": "bgp"},
                                  "bgp": {"routers": ROUTERS, "bfd_interval_ms": 300}}),
    "bgp fabric across zones": plan(BGP_ZONES, {"cluster_cidr": "10.244.0.0/16",
                                                "zone_backends": {"dc1": "bgp", "dc3": "bgp"},
                                                "bgp": {"routers": ROUTERS, "fabric_cross_zone": True,
                                                        "bfd": False}}),
    "dual stack": plan(TWO_ZONES, {"cluster_cidr": "10.244.0.0/16", "cluster_cidr_ipv6": "fd00:10::/56",
                                   "ipv6_planner_only": True}),
}


def test_the_example_plans_use_every_backend():
    modes = set()
    for result in PLANS.values():
        for host in result["nodes"]:
            modes.update(peer["backend"] for peer in host_view(result, host)["peers"])
    assert modes == {"host-gw", "vxlan", "wireguard", "bgp"}
    assert any(host_view(result, host)["bgp"] for result in PLANS.values() for host in result["nodes"])


@pytest.mark.parametrize("name", sorted(PLANS))
@pytest.mark.parametrize("wireguard", [False, True])
def test_every_host_derives_exactly_the_planners_concerns(name, wireguard):
    result = PLANS[name]
    table = fleet_table(result)
    for host in result["nodes"]:
        expected = concern_arguments(host_view(result, host, peers=False), result["network"], SETTINGS, wireguard)
        derived = slices.concerns_from_table(table, host, SETTINGS, wireguard)
        # Equal as data and as the JSON text the concerns are converged from (key order too).
        assert derived == expected, (name, host)
        assert json.dumps(derived) == json.dumps(expected), (name, host)


@pytest.mark.parametrize("name", sorted(PLANS))
def test_the_table_round_trips_the_plans_values(name):
    result = PLANS[name]
    table = fleet_table(result)
    head, dummy, body = table.partition("\n")
    assert head == "podnet-fleet-table 1" and "{" not in body and "\"" not in body
    network, nodes = slices.read_table(table)
    assert network == {key: result["network"][key] for key in slices.TABLE_NETWORK_KEYS
                       if key in result["network"]}
    # Every field the slice reads, null where the node has none (bgp_asn: absent then).
    assert nodes == {host: {field: node.get(field) for field in slices.TABLE_FIELDS
                            if field != "bgp_asn" or "bgp_asn" in node}
                     for host, node in result["nodes"].items()}
    assert any("bgp_asn" in node for node in nodes.values()) == ("bgp" in name)
    assert any(node["prefix"] is None for node in nodes.values()) == ("b2" in nodes)  # b2 has none
    # Whatever the dict order of the plan, the same text.
    shuffled = {"network": result["network"], "nodes": dict(reversed(list(result["nodes"].items())))}
    assert fleet_table(shuffled) == table


def test_the_table_is_linear_in_the_fleet():
    """Its size per node does not grow with the fleet (a slice holds an entry per peer)."""
    sizes = []
    for count in (20, 200):
        nodes = {"n%03d" % i: {"zone": "z%d" % (i // 10), "address": "172.16.%d.%d" % (i // 10, i % 10 + 1),
                               "prefix": 24} for i in range(count)}
        sizes.append(len(fleet_table(plan(nodes, {"cluster_cidr": "10.0.0.0/8"}))) / count)
    assert sizes[1] < sizes[0] * 1.2


def _fails(table, host, *fragments, settings=None):
    with pytest.raises(slices.SliceError) as info:
        slices.concerns_from_table(table, host, settings or SETTINGS, False)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


def test_a_host_not_in_the_table_is_named():
    _fails(fleet_table(PLANS["vxlan"]), "zz9", "host zz9 is not in the fleet table (5 nodes)", "plan again")


def test_another_version_or_no_table_is_refused_naming_it():
    table = fleet_table(PLANS["vxlan"])
    _fails(table.replace("podnet-fleet-table 1", "podnet-fleet-table 2", 1), "a1",
           "fleet table is version 2", "reads version 1")
    _fails(table.partition("\n")[2], "a1", "does not start with 'podnet-fleet-table <version>'")
    _fails(table[:-5], "a1", "fleet table (version 1) cannot be read")
    _fails(None, "a1", "not a text (got NoneType)")
    _fails(table, "a1", "routes takes exactly protocol, state", settings=dict(SETTINGS, routes={"protocol": 1}))
