# SPDX-License-Identifier: GPL-3.0-or-later
"""Examples for podnet_plan: layout, allocation rules, backends, MTU."""

import json

import pytest

from ansible_collections.podnet.network.plugins.plugin_utils.planner import PlanError, plan

NET = {"cluster_cidr": "10.244.0.0/16"}


def node(zone, address, prefix=None, pod_cidr=None):
    spec = {"zone": zone, "address": address}
    if prefix is not None:
        spec["prefix"] = prefix
    if pod_cidr is not None:
        spec["pod_cidr"] = pod_cidr
    return spec


def two_zones():
    return {
        "a1": node("east", "192.168.1.10", 24),
        "a2": node("east", "192.168.1.11", 24),
        "b1": node("west", "172.16.5.20", 24),
    }


def test_node_layout_follows_flannel():
    result = plan({"n1": node("z", "192.0.2.10"), "n2": node("z", "192.0.2.11")}, NET)
    n2 = result["nodes"]["n2"]
    assert n2["pod_cidr"] == "10.244.1.0/24"
    assert n2["gateway"] == "10.244.1.1"
    assert n2["vtep_ip"] == "10.244.1.0"
    assert n2["vtep_mac"] == "0a:58:0a:f4:01:00"
    assert n2["zone"] == "z" and n2["address"] == "192.0.2.11" and n2["prefix"] is None


def test_network_is_normalised_with_defaults():
    result = plan({}, NET)
    assert result["network"] == {
        "cluster_cidr": "10.244.0.0/16", "node_prefix": 24, "zone_prefix": 20, "zones": {},
        "zone_backends": {}, "service_cidr": None, "reserved": [], "backend": "auto",
        "underlay_mtu": 1500, "vxlan": {"vni": 1, "port": 8472, "device": "flannel.1"},
        "released": {}, "registry": "ledger", "registry_member": None,
        "cross_zone_backend": "vxlan",
        "wireguard": {"port": 51820, "device": "flannel-wg", "persistent_keepalive": 0},
    }
    assert result["zones"] == {} and result["nodes"] == {}


def test_default_zone_prefix_halves_the_bits():
    assert plan({}, {"cluster_cidr": "10.0.0.0/8"})["network"]["zone_prefix"] == 16
    assert plan({}, {"cluster_cidr": "10.0.0.0/8", "node_prefix": 26})["network"]["zone_prefix"] == 17


def test_vxlan_device_follows_vni():
    net = dict(NET, vxlan={"vni": 42})
    assert plan({}, net)["network"]["vxlan"] == {"vni": 42, "port": 8472, "device": "flannel.42"}


def test_zone_blocks_sorted_by_zone_name_and_nodes_by_hostname():
    result = plan({"z9": node("west", "192.0.2.9"), "a1": node("east", "192.0.2.1"),
                   "a0": node("east", "192.0.2.2")}, NET)
    assert result["zones"] == {"east": {"block": "10.244.0.0/20"}, "west": {"block": "10.244.16.0/20"}}
    assert result["nodes"]["a0"]["pod_cidr"] == "10.244.0.0/24"
    assert result["nodes"]["a1"]["pod_cidr"] == "10.244.1.0/24"
    assert result["nodes"]["z9"]["pod_cidr"] == "10.244.16.0/24"
    assert list(result["nodes"]) == ["a0", "a1", "z9"]


def test_pins_are_kept_and_new_nodes_fill_lowest_gaps():
    nodes = {"old": node("z", "192.0.2.1", pod_cidr="10.244.1.0/24"), "new1": node("z", "192.0.2.2"),
             "new2": node("z", "192.0.2.3")}
    result = plan(nodes, NET)["nodes"]
    assert result["old"]["pod_cidr"] == "10.244.1.0/24"
    assert result["new1"]["pod_cidr"] == "10.244.0.0/24"
    assert result["new2"]["pod_cidr"] == "10.244.2.0/24"


def test_zone_with_pins_takes_the_block_holding_them():
    nodes = {"a": node("alpha", "192.0.2.1"), "b": node("beta", "192.0.2.2", pod_cidr="10.244.3.0/24")}
    result = plan(nodes, NET)
    assert result["zones"] == {"alpha": {"block": "10.244.16.0/20"}, "beta": {"block": "10.244.0.0/20"}}
    assert result["nodes"]["a"]["pod_cidr"] == "10.244.16.0/24"


def test_pinned_zone_blocks_from_the_ledger_are_kept_even_without_nodes():
    net = dict(NET, zones={"gone": {"block": "10.244.0.0/20"}, "west": {"block": "10.244.32.0/20"}})
    result = plan({"e": node("east", "192.0.2.1"), "w": node("west", "192.0.2.2")}, net)
    assert result["zones"] == {"east": {"block": "10.244.16.0/20"}, "gone": {"block": "10.244.0.0/20"},
                               "west": {"block": "10.244.32.0/20"}}
    assert result["nodes"]["w"]["pod_cidr"] == "10.244.32.0/24"


def test_zone_pins_also_accept_plain_strings():
    net = dict(NET, zones={"west": "10.244.32.0/20"})
    assert plan({"w": node("west", "192.0.2.2")}, net)["zones"]["west"] == {"block": "10.244.32.0/20"}


def test_plan_is_a_fixed_point_and_json_safe():
    first = plan(two_zones(), dict(NET, service_cidr="10.96.0.0/12", reserved=["172.17.0.0/16"]))
    again = plan(first["nodes"], first["network"])
    assert again == first
    assert json.loads(json.dumps(first)) == first


def test_digit_strings_from_ini_inventories_are_accepted():
    result = plan({"a": node("z", "192.0.2.1", "24")}, dict(NET, node_prefix="25"))
    assert result["network"]["node_prefix"] == 25 and result["nodes"]["a"]["prefix"] == 24


def test_empty_pod_cidr_means_unpinned():
    assert plan({"a": node("z", "192.0.2.1", pod_cidr="")}, NET)["nodes"]["a"]["pod_cidr"] == "10.244.0.0/24"


@pytest.mark.parametrize("backend, expected", [
    ("auto", {"a1": 1450, "a2": 1450, "b1": 1450}),
    ("vxlan", {"a1": 1450, "a2": 1450, "b1": 1450}),
])
def test_mtu_with_vxlan_peers(backend, expected):
    result = plan(two_zones(), dict(NET, backend=backend))
    assert {h: n["mtu"] for h, n in result["nodes"].items()} == expected


def test_mtu_without_vxlan_peers_is_the_underlay_mtu():
    nodes = {"a": node("z", "192.0.2.1", 24), "b": node("z", "192.0.2.2", 24)}
    result = plan(nodes, dict(NET, underlay_mtu=9000))
    assert [n["mtu"] for n in result["nodes"].values()] == [9000, 9000]


def test_zone_backend_vxlan_forces_overlay_inside_the_zone():
    nodes = {"a": node("z", "192.0.2.1", 24), "b": node("z", "192.0.2.2", 24)}
    result = plan(nodes, dict(NET, zone_backends={"z": "vxlan"}))
    assert [n["mtu"] for n in result["nodes"].values()] == [1450, 1450]


def test_host_gw_everywhere_on_one_segment():
    nodes = {"a": node("e", "192.0.2.1", 24), "b": node("w", "192.0.2.2", 24)}
    result = plan(nodes, dict(NET, backend="host-gw"))
    assert [n["mtu"] for n in result["nodes"].values()] == [1500, 1500]


def test_missing_prefix_means_same_zone_same_segment():
    nodes = {"a": node("z", "192.0.2.1"), "b": node("z", "198.51.100.2", 24), "c": node("y", "203.0.113.3")}
    result = plan(nodes, dict(NET, zone_backends={"z": "host-gw"}))
    # a-b: same zone, a has no prefix -> one segment; c is alone in its zone.
    assert {h: n["mtu"] for h, n in result["nodes"].items()} == {"a": 1450, "b": 1450, "c": 1450}
    single = plan({"a": node("z", "192.0.2.1"), "b": node("z", "198.51.100.2", 24)}, NET)
    assert [n["mtu"] for n in single["nodes"].values()] == [1500, 1500]


def test_empty_strings_mean_unset():
    net = dict(NET, zone_prefix="", service_cidr="", vxlan={"vni": 1, "port": "", "device": ""})
    result = plan({}, net)["network"]
    assert result["zone_prefix"] == 20 and result["service_cidr"] is None
    assert result["vxlan"] == {"vni": 1, "port": 8472, "device": "flannel.1"}


def test_the_registry_and_its_member_are_decided_once_in_the_plan():
    nodes = {"a": node("z", "192.0.2.1")}
    etcd = plan(nodes, dict(NET, registry="etcd", registry_members=["e2", "e1"]))["network"]
    assert (etcd["registry"], etcd["registry_member"]) == ("etcd", "e2")
    # The normalised network plans the same again (registry_member given back, no members).
    assert plan(nodes, etcd)["network"] == etcd
    ledger = plan(nodes, dict(NET, registry="ledger", registry_members=["e1"]))["network"]
    assert (ledger["registry"], ledger["registry_member"]) == ("ledger", None)
    assert plan(nodes, dict(NET, registry=""))["network"]["registry"] == "ledger"


@pytest.mark.parametrize("network, fragment", [
    ({"registry": "consul"}, "network.registry: unknown registry 'consul'; use ledger"),
    ({"registry": "etcd"}, "network.registry: etcd, but no etcd member is known"),
    ({"registry": "etcd", "registry_members": []}, "no etcd member is known"),
    ({"registry": "etcd", "registry_members": "e1"}, "network.registry_members: expected a list"),
    ({"registry": "etcd", "registry_members": ["e1"], "registry_member": "e9"},
     "network.registry_member: 'e9' is not one of the etcd members e1"),
])
def test_a_bad_registry_is_named(network, fragment):
    with pytest.raises(PlanError) as info:
        plan({}, dict(NET, **network))
    assert fragment in str(info.value)
