# SPDX-License-Identifier: GPL-3.0-or-later
"""Allocation lifecycle: allocated -> released-pending -> free, and the checks around it."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.podnet.network.plugins.plugin_utils.planner import (
    PlanError, forget_list, ledger, ledger_inputs, mark_reset, plan, preflight, released_nodes)

NET = {"cluster_cidr": "10.244.0.0/16"}


def spec(index, zone="a", prefix=24):
    return {"zone": zone, "address": "192.0.2.%d" % index, "prefix": prefix}


def run(inventory, doc, reported=None, forget=None):
    """One site.yml run on the controller: inputs -> plan -> new ledger."""
    inputs = ledger_inputs(inventory, doc, reported or {}, NET, forget)
    result = plan(inputs["nodes"], inputs["network"])
    return result, ledger(result)


def test_a_node_that_leaves_is_released_pending_and_keeps_its_subnet():
    dummy, doc = run({"a1": spec(1), "a2": spec(2)}, {})
    result, doc = run({"a1": spec(1), "a3": spec(3)}, doc)
    assert doc["nodes"]["a2"]["state"] == "released-pending"
    assert doc["nodes"]["a2"]["pod_cidr"] == "10.244.1.0/24"
    assert result["nodes"]["a3"]["pod_cidr"] == "10.244.2.0/24"
    assert "a2" not in result["nodes"]  # no peer routes to it any more
    # It comes back: it takes its own subnet again.
    result, doc = run({"a1": spec(1), "a2": spec(2), "a3": spec(3)}, doc)
    assert result["nodes"]["a2"]["pod_cidr"] == "10.244.1.0/24"
    assert doc["nodes"]["a2"]["state"] == "allocated"


def test_forget_frees_a_released_subnet():
    dummy, doc = run({"a1": spec(1), "a2": spec(2)}, {})
    dummy, doc = run({"a1": spec(1)}, doc)
    result, doc = run({"a1": spec(1), "a3": spec(3)}, doc, forget="a2")
    assert "a2" not in doc["nodes"]
    assert result["nodes"]["a3"]["pod_cidr"] == "10.244.1.0/24"


def test_reset_then_leave_frees_at_once_and_a_new_run_clears_the_mark():
    dummy, doc = run({"a1": spec(1), "a2": spec(2)}, {})
    marked = mark_reset(doc, ["a2"])
    assert marked["nodes"]["a2"]["reset"] is True and "reset" not in marked["nodes"]["a1"]
    dummy, again = run({"a1": spec(1), "a2": spec(2)}, marked)  # site.yml ran again on it
    assert "reset" not in again["nodes"]["a2"]
    dummy, doc = run({"a1": spec(1)}, marked)  # reset, then left the inventory: free
    assert "a2" not in doc["nodes"]


@pytest.mark.parametrize("forget, fragment", [
    ("a1", "host a1 is still in the inventory"),
    ("zz", "the ledger holds no node zz"),
    ({"a2": 1}, "expected hostnames"),
])
def test_forget_refuses_what_it_cannot_mean(forget, fragment):
    dummy, doc = run({"a1": spec(1), "a2": spec(2)}, {})
    with pytest.raises(PlanError, match=fragment):
        released_nodes(["a1"], doc, forget)


def test_forget_list_accepts_a_comma_separated_string():
    assert forget_list("b, a,,b") == ["a", "b"]
    assert forget_list(None) == [] and forget_list("") == []


def test_a_pin_on_a_held_subnet_names_the_holder_and_the_way_out():
    dummy, doc = run({"a1": spec(1), "a2": spec(2)}, {})
    newcomer = dict(spec(3), pod_cidr="10.244.1.0/24")
    with pytest.raises(PlanError) as info:
        run({"a1": spec(1), "a3": newcomer}, doc)
    message = str(info.value)
    assert "still held by host a2" in message and "podnet_forget=a2" in message


def test_the_ledger_records_address_and_prefix_of_every_node():
    dummy, doc = run({"a1": spec(1), "b1": spec(9, zone="b", prefix=None)}, {})
    assert doc["podnet_ledger"] == 2
    assert doc["nodes"]["a1"] == {"address": "192.0.2.1", "prefix": 24, "pod_cidr": "10.244.0.0/24",
                                  "state": "allocated", "zone": "a"}
    assert "prefix" not in doc["nodes"]["b1"]


def test_a_version_1_ledger_is_read_and_upgraded():
    v1 = {"podnet_ledger": 1, "cluster_cidr": "10.244.0.0/16", "node_prefix": 24, "zone_prefix": 20,
          "zones": {"a": "10.244.0.0/20"},
          "nodes": {"a1": {"zone": "a", "address": "192.0.2.1", "pod_cidr": "10.244.5.0/24"}}}
    result, doc = run({"a1": spec(1)}, v1)
    assert result["nodes"]["a1"]["pod_cidr"] == "10.244.5.0/24"
    assert doc["podnet_ledger"] == 2 and doc["nodes"]["a1"]["state"] == "allocated"


@pytest.mark.parametrize("entry, fragment", [
    ("10.244.1.0/24", r"ledger nodes\[a1\]: expected"),
    ({"zone": "a", "pod_cidr": "10.244.1.0/24", "state": "lost"}, "unknown state 'lost'"),
])
def test_a_malformed_ledger_entry_is_named(entry, fragment):
    doc = {"podnet_ledger": 2, "cluster_cidr": "10.244.0.0/16", "node_prefix": 24,
           "nodes": {"a1": entry}}
    with pytest.raises(PlanError, match=fragment):
        run({"a1": spec(1)}, doc)


def test_preflight_validates_without_addresses_and_says_whom_to_ask():
    nodes = {"a1": spec(1), "a2": {"zone": "a", "address": None}, "b1": dict(spec(9), prefix=None)}
    assert preflight(nodes, NET)["ask"] == ["a2", "b1"]
    with pytest.raises(PlanError, match="lies outside the cluster CIDR"):
        preflight(dict(nodes, a2={"zone": "a", "address": None, "pod_cidr": "10.9.0.0/24"}), NET)
    with pytest.raises(PlanError, match=r"network.zone_backends\[c\]"):
        preflight(nodes, dict(NET, zone_backends={"c": "vxlan"}))


def test_zone_backends_for_a_zone_without_nodes_is_refused():
    with pytest.raises(PlanError) as info:
        plan({"a1": spec(1)}, dict(NET, zone_backends={"ams": "vxlan"}))
    assert "no node is in zone 'ams' (zones with nodes: a)" in str(info.value)


@pytest.mark.parametrize("address, kind", [
    ("127.0.0.1", "loopback"), ("0.0.0.0", "'this network'"), ("224.0.0.5", "multicast"),
    ("255.255.255.255", "reserved/broadcast"),
])
def test_underlay_addresses_no_peer_can_reach_are_refused(address, kind):
    with pytest.raises(PlanError, match="host a1 address: %s is a %s" % (address, kind)):
        plan({"a1": {"zone": "a", "address": address}}, NET)


# --- the promise, as a property ---------------------------------------------------------
HOSTS = ["h%d" % i for i in range(6)]
STEPS = st.lists(st.tuples(st.sampled_from(["add", "remove", "down", "up", "reset", "forget"]),
                           st.sampled_from(HOSTS)), max_size=25)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STEPS)
def test_no_sequence_gives_one_subnet_to_two_live_holders(steps):
    """Model: a node holds its subnet from the first run that reaches it until it is reset
    (or destroyed, which is when an operator forgets it); a site.yml run follows every step."""
    inventory, down, held, doc = set(), set(), {}, {}
    zone = {host: "z%d" % (int(host[1:]) % 2) for host in HOSTS}
    for action, host in steps:
        if action == "add":
            inventory.add(host)
        elif action == "remove":
            inventory.discard(host)
        elif action == "down":
            down.add(host)
        elif action == "up":
            down.discard(host)
        elif action == "reset":
            if host not in inventory or host in down:
                continue  # reset.yml reaches only listed, reachable nodes
            held.pop(host, None)
            doc = mark_reset(doc, [host])
        elif action == "forget":
            if host in inventory or host not in (doc.get("nodes") or {}):
                with pytest.raises(PlanError):
                    released_nodes(sorted(inventory), doc, [host])
                continue
            held.pop(host, None)  # the operator forgets what is gone for good
            nodes = {h: spec(10 + int(h[1:]), zone[h]) for h in inventory}
            dummy, doc = run(nodes, doc, {h: held.get(h) for h in inventory - down}, forget=[host])
            continue
        nodes = {h: spec(10 + int(h[1:]), zone[h]) for h in inventory}
        reported = {h: held.get(h) for h in inventory - down}
        result, doc = run(nodes, doc, reported)
        for h in inventory - down:  # the run converges every node it reaches
            held[h] = result["nodes"][h]["pod_cidr"]
        holders = list(held.values())
        assert len(holders) == len(set(holders)), (held, doc)
        for h, node in result["nodes"].items():
            others = {o for o, subnet in held.items() if subnet == node["pod_cidr"] and o != h}
            assert not others, (h, node, held)
