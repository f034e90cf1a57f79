# SPDX-License-Identifier: GPL-3.0-or-later
"""preview(ledger, plan): what a run would change, before it runs."""

from ansible_collections.podnet.network.plugins.plugin_utils.planner import (
    ledger, ledger_inputs, plan, preview)

NET = {"cluster_cidr": "10.244.0.0/16"}


def spec(index, zone="a", prefix=24):
    node = {"zone": zone, "address": "192.0.2.%d" % index}
    if prefix is not None:
        node["prefix"] = prefix
    return node


def planned(inventory, doc, forget=None, network=NET):  # pylint: disable=dangerous-default-value  # never mutated
    inputs = ledger_inputs(inventory, doc, {}, network, forget)
    return plan(inputs["nodes"], inputs["network"])


FLEET = {"a1": spec(1), "a2": spec(2), "b1": spec(3, zone="b")}


def test_no_change():
    doc = ledger(planned(FLEET, {}))
    result = preview(doc, planned(FLEET, doc))
    assert result["lines"] == ["no change: every node keeps its subnet, every pair its path"]
    assert not result["moved"]


def test_adds_leaves_and_frees_are_listed_with_their_subnets():
    doc = ledger(planned(FLEET, {}))
    now = planned({"a1": spec(1), "b1": spec(3, zone="b"), "a3": spec(4)}, doc)
    result = preview(doc, now)
    assert result["added"] == [{"host": "a3", "zone": "a", "pod_cidr": "10.244.2.0/24", "returns": False}]
    assert result["leaving"] == [{"host": "a2", "pod_cidr": "10.244.1.0/24", "state": "released-pending"}]
    assert "- a2 leaves: 10.244.1.0/24 stays reserved (released-pending) until it is reset or " \
           "forgotten; its routes are purged on a1, a3, b1" in result["lines"]
    after = ledger(now)
    forgotten = planned({"a1": spec(1), "b1": spec(3, zone="b"), "a3": spec(4)}, after, forget="a2")
    assert preview(after, forgotten)["freed"] == [{"host": "a2", "pod_cidr": "10.244.1.0/24"}]


def test_a_returning_node_is_an_add_of_its_own_subnet():
    doc = ledger(planned(FLEET, {}))
    doc = ledger(planned({"a1": spec(1), "b1": spec(3, zone="b")}, doc))
    result = preview(doc, planned(FLEET, doc))
    assert result["added"] == [{"host": "a2", "zone": "a", "pod_cidr": "10.244.1.0/24", "returns": True}]


def test_backend_and_mtu_changes_per_pair():
    # Both zones on one /24 with auto: host-gw everywhere. Forcing vxlan in zone a changes
    # the a1<->a2 pair and the MTU of a1 and a2; pairs across zones stay host-gw.
    doc = ledger(planned(FLEET, {}))
    result = preview(doc, planned(FLEET, doc, network=dict(NET, zone_backends={"a": "vxlan"})))
    assert result["backend_changes"] == [{"a": "a1", "b": "a2", "before": "host-gw", "after": "vxlan"}]
    assert result["mtu_changes"] == [{"host": "a1", "before": 1500, "after": 1450},
                                     {"host": "a2", "before": 1500, "after": 1450}]
    assert "~ a1 <-> a2: host-gw -> vxlan" in result["lines"]


def test_a_moved_subnet_is_reported_loudly():
    doc = ledger(planned(FLEET, {}))
    tampered = dict(doc, nodes=dict(doc["nodes"], a2=dict(doc["nodes"]["a2"], pod_cidr="10.244.9.0/24")))
    result = preview(tampered, planned(FLEET, doc))
    assert result["moved"] == [{"host": "a2", "before": "10.244.9.0/24", "after": "10.244.1.0/24"}]
    assert any(line.startswith("! a2 MOVES") for line in result["lines"])
