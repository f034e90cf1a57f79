# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet_merge_nodes, podnet_ledger_network and podnet_ledger."""

import pytest

from ansible_collections.podnet.network.plugins.plugin_utils.planner import (
    PlanError, ledger, ledger_inputs, ledger_network, merge_nodes, plan)

NET = {"cluster_cidr": "10.244.0.0/16"}
INVENTORY = {
    "a": {"zone": "east", "address": "192.0.2.1", "prefix": 24},
    "b": {"zone": "east", "address": "192.0.2.2"},
    "c": {"zone": "west", "address": "198.51.100.3", "prefix": 24},
}
LEDGER = {
    "podnet_ledger": 1, "cluster_cidr": "10.244.0.0/16", "node_prefix": 24, "zone_prefix": 20,
    "zones": {"east": "10.244.16.0/20", "west": "10.244.0.0/20"},
    "nodes": {"a": {"zone": "east", "address": "192.0.2.1", "pod_cidr": "10.244.17.0/24"},
              "gone": {"zone": "west", "address": "198.51.100.9", "pod_cidr": "10.244.0.0/24"}},
}


def test_merge_prefers_host_report_then_ledger_and_drops_removed_hosts():
    nodes = merge_nodes(INVENTORY, LEDGER, {"a": "10.244.17.0/24", "b": None, "c": "10.244.1.0/24"})
    assert nodes == {
        "a": {"zone": "east", "address": "192.0.2.1", "prefix": 24, "pod_cidr": "10.244.17.0/24"},
        "b": {"zone": "east", "address": "192.0.2.2"},
        "c": {"zone": "west", "address": "198.51.100.3", "prefix": 24, "pod_cidr": "10.244.1.0/24"},
    }


def test_unreachable_host_keeps_its_ledger_subnet():
    nodes = merge_nodes(INVENTORY, LEDGER, {})
    assert nodes["a"]["pod_cidr"] == "10.244.17.0/24"


def test_empty_ledger_and_no_reports():
    assert merge_nodes(INVENTORY, None, None) == merge_nodes(INVENTORY, {}, {})
    assert all("pod_cidr" not in n for n in merge_nodes(INVENTORY, None, None).values())


def test_report_and_ledger_disagree():
    with pytest.raises(PlanError) as info:
        merge_nodes(INVENTORY, LEDGER, {"a": "10.244.18.0/24"})
    message = str(info.value)
    for fragment in ("host a", "10.244.18.0/24", "10.244.17.0/24", "fix its entry", "reset"):
        assert fragment in message


def test_wrong_ledger_format():
    with pytest.raises(PlanError, match="podnet_ledger: 3"):
        merge_nodes(INVENTORY, dict(LEDGER, podnet_ledger=3), {})


def test_ledger_network_pins_zones_and_zone_prefix():
    network = ledger_network(NET, LEDGER)
    assert network["zones"] == {"east": {"block": "10.244.16.0/20"}, "west": {"block": "10.244.0.0/20"}}
    assert network["zone_prefix"] == 20
    assert ledger_network(NET, None) == NET


def test_ledger_network_rejects_a_changed_cluster_cidr():
    with pytest.raises(PlanError, match="renumber every host"):
        ledger_network({"cluster_cidr": "10.32.0.0/16"}, LEDGER)


def test_ledger_network_rejects_a_changed_node_prefix():
    with pytest.raises(PlanError, match="node_prefix.*renumber"):
        ledger_network(dict(NET, node_prefix=25), LEDGER)


def test_ledger_network_rejects_a_changed_zone_prefix():
    with pytest.raises(PlanError, match="zone_prefix.*move every zone block"):
        ledger_network(dict(NET, zone_prefix=18), LEDGER)


def test_full_cycle_is_stable():
    inputs = ledger_inputs(INVENTORY, LEDGER, {"c": None}, NET)
    result = plan(inputs["nodes"], inputs["network"])
    assert result["nodes"]["a"]["pod_cidr"] == "10.244.17.0/24"
    assert result["nodes"]["b"]["pod_cidr"] == "10.244.16.0/24"
    # "gone" left the inventory without a reset: it still holds 10.244.0.0/24.
    assert result["nodes"]["c"]["pod_cidr"] == "10.244.1.0/24"
    doc = ledger(result)
    assert list(doc) == sorted(doc)
    assert doc["podnet_ledger"] == 2 and doc["zone_prefix"] == 20
    assert doc["zones"] == {"east": "10.244.16.0/20", "west": "10.244.0.0/20"}
    assert doc["nodes"]["b"] == {"address": "192.0.2.2", "pod_cidr": "10.244.16.0/24", "zone": "east",
                                 "state": "allocated"}
    assert doc["nodes"]["a"]["prefix"] == 24
    assert doc["nodes"]["gone"] == {"address": "198.51.100.9", "pod_cidr": "10.244.0.0/24",
                                    "zone": "west", "state": "released-pending"}
    # Second run from the written ledger, everybody reachable: nothing moves.
    again = ledger_inputs(INVENTORY, doc, {h: n["pod_cidr"] for h, n in result["nodes"].items()}, NET)
    assert plan(again["nodes"], again["network"]) == result


def test_inventory_pin_is_used_for_a_new_host():
    inventory = dict(INVENTORY, b=dict(INVENTORY["b"], pod_cidr="10.244.20.0/24"))
    assert merge_nodes(inventory, LEDGER, {})["b"]["pod_cidr"] == "10.244.20.0/24"


def test_inventory_pin_must_agree_with_what_the_host_holds():
    inventory = dict(INVENTORY, a=dict(INVENTORY["a"], pod_cidr="10.244.20.0/24"))
    with pytest.raises(PlanError) as info:
        merge_nodes(inventory, LEDGER, {})
    for fragment in ("host a", "10.244.20.0/24", "10.244.17.0/24", "Remove the inventory pin"):
        assert fragment in str(info.value)
