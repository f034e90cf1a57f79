# SPDX-License-Identifier: GPL-3.0-or-later
"""The wireguard backend in the planner: per-pair choice, host view, keys, errors, flannel."""

import pytest

from ansible_collections.podnet.network.plugins.plugin_utils.planner import (
    PlanError, flannel_config, flannel_leases, host_view, inventory_nodes, ledger, merge_nodes,
    plan, preflight, wireguard_nodes)

NET = {"cluster_cidr": "10.244.0.0/16", "cross_zone_backend": "wireguard"}
KEY_A = "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE="
KEY_B = "YmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmI="
NODES = {
    "a1": {"zone": "east", "address": "192.168.1.10", "prefix": 24, "wireguard_key": KEY_A},
    "a2": {"zone": "east", "address": "192.168.1.11", "prefix": 24},
    "b1": {"zone": "west", "address": "172.16.5.20", "prefix": 24, "wireguard_key": KEY_B},
}


def fails(nodes, network, *fragments):
    with pytest.raises(PlanError) as info:
        plan(nodes, network)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


def test_auto_encrypts_across_zones_and_keeps_host_gw_inside():
    result = plan(NODES, NET)
    assert result["nodes"]["a1"]["mtu"] == 1420 and result["nodes"]["a1"]["wireguard_key"] == KEY_A
    assert "wireguard_key" not in result["nodes"]["a2"]
    view = host_view(result, "a1")
    assert [(p["hostname"], p["backend"]) for p in view["peers"]] == [
        ("a2", "host-gw"), ("b1", "wireguard")]
    assert view["routes"] == [
        {"dest": "10.244.1.0/24", "via": "192.168.1.11", "dev": "underlay", "onlink": False}]
    assert view["vxlan"] is None and view["fdb"] == [] and view["neighbors"] == []
    assert view["members"] == ["172.16.5.20", "192.168.1.11"]
    assert view["mtu"] == 1420
    assert view["wireguard"] == {
        "device": "flannel-wg", "port": 51820, "address": "10.244.0.0/32", "mtu": 1420,
        "persistent_keepalive": 0, "public_key": KEY_A,
        "peers": [{"hostname": "b1", "public_key": KEY_B, "endpoint": "172.16.5.20:51820",
                   "allowed_ips": ["10.244.16.0/24"]}],
    }
    # The other end agrees, and a key not known yet is None (the role fills it in).
    back = host_view(result, "b1")["wireguard"]["peers"]
    assert [(p["hostname"], p["public_key"]) for p in back] == [("a1", KEY_A), ("a2", None)]


def test_default_cross_zone_backend_stays_vxlan():
    view = host_view(plan(NODES, {"cluster_cidr": "10.244.0.0/16"}), "a1")
    assert view["wireguard"] is None and [p["backend"] for p in view["peers"]] == ["host-gw", "vxlan"]
    assert view["mtu"] == 1450


def test_backend_wireguard_everywhere_and_zone_override():
    view = host_view(plan(NODES, {"cluster_cidr": "10.244.0.0/16", "backend": "wireguard"}), "a1")
    assert [p["backend"] for p in view["peers"]] == ["wireguard", "wireguard"] and view["routes"] == []
    view = host_view(plan(NODES, {"cluster_cidr": "10.244.0.0/16",
                                  "zone_backends": {"east": "wireguard"}}), "a1")
    assert [p["backend"] for p in view["peers"]] == ["wireguard", "vxlan"]
    assert view["mtu"] == 1420 and view["vxlan"]["mtu"] == 1450 and view["wireguard"]["mtu"] == 1420


def test_same_zone_other_segment_under_auto_stays_vxlan():
    nodes = dict(NODES, a3={"zone": "east", "address": "192.168.9.10", "prefix": 24})
    peers = {p["hostname"]: p["backend"] for p in host_view(plan(nodes, NET), "a1")["peers"]}
    assert peers == {"a2": "host-gw", "a3": "vxlan", "b1": "wireguard"}


def test_settings_normalised_and_custom():
    result = plan(NODES, dict(NET, wireguard={"port": "51900", "device": "wg-pods",
                                              "persistent_keepalive": 25}))
    assert result["network"]["wireguard"] == {"port": 51900, "device": "wg-pods",
                                              "persistent_keepalive": 25}
    assert result["network"]["cross_zone_backend"] == "wireguard"
    wg = host_view(result, "b1")["wireguard"]
    assert wg["device"] == "wg-pods" and wg["peers"][0]["endpoint"] == "192.168.1.10:51900"
    assert wg["persistent_keepalive"] == 25


@pytest.mark.parametrize("network, fragments", [
    (dict(NET, cross_zone_backend="ipsec"), ("network.cross_zone_backend", "'ipsec'",
                                             "vxlan or wireguard")),
    (dict(NET, backend="geneve"), ("network.backend", "'geneve'", "wireguard")),
    (dict(NET, backend="vxlan"), ("cross_zone_backend: wireguard", "backend is vxlan",
                                  "unencrypted", "auto")),
    (dict(NET, wireguard={"port": 8472}), ("network.wireguard.port", "8472", "VXLAN port",
                                           "podnet_plan_wireguard_port")),
    (dict(NET, vxlan={"port": 51820}), ("network.wireguard.port", "51820", "VXLAN port")),
    (dict(NET, wireguard={"port": 0}), ("network.wireguard.port", "between 1 and 65535")),
    (dict(NET, wireguard={"device": "flannel.1"}), ("network.wireguard.device", "VXLAN device")),
    (dict(NET, wireguard={"device": "a/b"}), ("network.wireguard.device", "interface name")),
    (dict(NET, wireguard={"mtu": 1400}), ("network.wireguard", "unknown key", "'mtu'")),
    (dict(NET, underlay_mtu=600), ("network.underlay_mtu", "600", "520", "80 bytes", "656")),
    ({"cluster_cidr": "10.244.0.0/16", "backend": "wireguard", "underlay_mtu": 650},
     ("network.underlay_mtu", "at least 656")),
])
def test_bad_settings_rejected_naming_the_culprit(network, fragments):
    fails(NODES, network, *fragments)


def test_small_mtu_fine_without_wireguard():
    assert plan(NODES, {"cluster_cidr": "10.244.0.0/16", "underlay_mtu": 600})["nodes"]["a1"]["mtu"] == 550


def test_bad_reported_key_names_the_host():
    nodes = dict(NODES, a2=dict(NODES["a2"], wireguard_key="not-a-key"))
    fails(nodes, NET, "host a2 wireguard_key", "'not-a-key'", "wg pubkey")


def test_keys_flow_through_facts_ledger_and_back():
    hostvars = {
        "a1": {"podnet_zone": "east", "ansible_host": "192.168.1.10",
               "ansible_facts": {"ansible_local": {"podnet_wireguard": {"public_key": KEY_A}}}},
        # This run's key step (module fact) wins over the local fact file of the facts step.
        "b1": {"podnet_zone": "west", "ansible_host": "172.16.5.20",
               "ansible_facts": {"podnet_wireguard": {"public_key": KEY_B},
                                 "ansible_local": {"podnet_wireguard": {"public_key": KEY_A}}}},
        "a2": {"podnet_zone": "east", "ansible_host": "192.168.1.11"},
    }
    nodes = inventory_nodes(["a1", "a2", "b1"], hostvars)
    assert nodes["a1"]["wireguard_key"] == KEY_A and nodes["b1"]["wireguard_key"] == KEY_B
    assert "wireguard_key" not in nodes["a2"]
    doc = ledger(plan(merge_nodes(nodes, {}, {}), NET))
    assert doc["nodes"]["a1"]["wireguard_key"] == KEY_A and "wireguard_key" not in doc["nodes"]["a2"]
    assert doc["routing"]["cross_zone_backend"] == "wireguard"
    # An unreachable node keeps the key the ledger recorded; a reported key wins (rotation).
    again = merge_nodes({"a1": {"zone": "east", "address": "192.168.1.10"},
                         "b1": {"zone": "west", "address": "172.16.5.20", "wireguard_key": KEY_A}},
                        doc, {})
    assert again["a1"]["wireguard_key"] == KEY_A and again["b1"]["wireguard_key"] == KEY_A


def test_flannel_schema_for_wireguard():
    result = plan(NODES, NET)
    assert flannel_config(result)["Backend"] == {"Type": "wireguard", "ListenPort": 51820}
    leases = flannel_leases(result)
    assert leases["/coreos.com/network/subnets/10.244.0.0-24"] == {
        "PublicIP": "192.168.1.10", "BackendType": "wireguard",
        "BackendData": {"Port": 51820, "PublicKey": KEY_A}}
    # A node whose key is not known yet: no PublicKey (written after its first run).
    assert leases["/coreos.com/network/subnets/10.244.1.0-24"]["BackendData"] == {"Port": 51820}
    plain = plan(NODES, {"cluster_cidr": "10.244.0.0/16"})
    assert flannel_config(plain)["Backend"]["Type"] == "vxlan"


@pytest.mark.parametrize("network, uses", [
    ({"cluster_cidr": "10.244.0.0/16"}, False),
    (NET, True),
    ({"cluster_cidr": "10.244.0.0/16", "backend": "wireguard"}, True),
    ({"cluster_cidr": "10.244.0.0/16", "zone_backends": {"east": "wireguard"}}, True),
    ({"cluster_cidr": "10.244.0.0/16", "backend": "vxlan"}, False),
])
def test_preflight_tells_whether_nodes_need_keys(network, uses):
    """Before any host is asked: whether the facts step makes WireGuard keys."""
    assert preflight(NODES, network)["wireguard"] is uses


def test_the_wireguard_concern_visits_every_node_where_some_pair_may_use_it():
    for network in (NET, {"cluster_cidr": "10.244.0.0/16", "backend": "wireguard"},
                    {"cluster_cidr": "10.244.0.0/16", "backend": "vxlan", "zone_backends": {"east": "wireguard"}}):
        assert wireguard_nodes(plan(NODES, network), {}) == ["a1", "a2", "b1"]


def test_without_wireguard_only_nodes_that_still_report_a_key_are_visited():
    """They remove what they held; a node whose key is only in the ledger (unreachable, or
    removed in an earlier run) and a node that reports nothing pay no task."""
    result = plan(NODES, {"cluster_cidr": "10.244.0.0/16", "cross_zone_backend": "vxlan"})
    hostvars = {
        "a1": {"ansible_facts": {"local": {"podnet": {}, "podnet_wireguard": {"public_key": KEY_A}}}},
        "a2": {"ansible_facts": {"local": {"podnet": {}}}},
        "b1": {},
    }
    assert wireguard_nodes(result, hostvars) == ["a1"]
    assert wireguard_nodes(result, {}) == []


def test_no_plan_visits_no_node():
    """ansible-playbook --syntax-check templates the play's hosts without any plan."""
    assert wireguard_nodes({}, {}) == []
