# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet_inventory_nodes: what the operator set, then the ledger, then the host's facts."""

import pytest
from ansible_collections.podnet.network.plugins.plugin_utils.planner import (
    PlanError, inventory_nodes)

LEDGER = {"podnet_ledger": 2, "nodes": {
    "a1": {"zone": "a", "address": "198.51.100.11", "prefix": 24, "pod_cidr": "10.244.0.0/24"}}}
FACTS = {"ansible_facts": {"default_ipv4": {"address": "198.51.100.99", "prefix": 16}}}


def test_the_recorded_address_and_prefix_win_over_facts_and_ansible_host():
    hostvars = {"a1": dict(FACTS, podnet_zone="a", ansible_host="127.0.0.1")}
    assert inventory_nodes(["a1"], hostvars, LEDGER) == {
        "a1": {"zone": "a", "address": "198.51.100.11", "prefix": 24}}


def test_podnet_address_changes_the_address_on_purpose():
    hostvars = {"a1": dict(FACTS, podnet_zone="a", podnet_address="198.51.100.99")}
    # The ledger's prefix belonged to the old address; the facts describe the new one.
    assert inventory_nodes(["a1"], hostvars, LEDGER)["a1"] == {
        "zone": "a", "address": "198.51.100.99", "prefix": 16}


def test_unreachable_and_unrecorded_host_without_address():
    hostvars = {"b1": {"podnet_zone": "b", "ansible_host": "b1.example"}}
    with pytest.raises(PlanError, match="cannot tell the underlay address of host 'b1'"):
        inventory_nodes(["b1"], hostvars, LEDGER)
    assert inventory_nodes(["b1"], hostvars, LEDGER, True) == {"b1": {"zone": "b", "address": None}}


def test_a_zone_that_is_not_a_string_is_named():
    with pytest.raises(PlanError, match="host 'a1': podnet_zone is \\['a', 'b'\\], not a name"):
        inventory_nodes(["a1"], {"a1": {"podnet_zone": ["a", "b"]}}, {})


@pytest.mark.parametrize("prefix", ["twenty-four", "33", [24], True])
def test_a_bad_underlay_prefix_is_named(prefix):
    hostvars = {"a1": {"podnet_zone": "a", "podnet_address": "198.51.100.5",
                       "podnet_underlay_prefix": prefix}}
    with pytest.raises(PlanError) as info:
        inventory_nodes(["a1"], hostvars, {})
    assert "host 'a1': podnet_underlay_prefix is" in str(info.value)
    assert "between 0 and 32" in str(info.value)


def test_a_digit_string_prefix_from_an_ini_inventory_is_a_number():
    hostvars = {"a1": {"podnet_zone": "a", "podnet_address": "198.51.100.5",
                       "podnet_underlay_prefix": "24"}}
    assert inventory_nodes(["a1"], hostvars, {})["a1"]["prefix"] == 24


def test_before_the_facts_step_ansible_host_is_not_taken_for_the_address():
    # SSH through a tunnel: ansible_host is 127.0.0.1, the facts will tell the real address.
    hostvars = {"a1": {"podnet_zone": "a", "ansible_host": "127.0.0.1"}}
    assert inventory_nodes(["a1"], hostvars, {}, True) == {"a1": {"zone": "a", "address": None}}
    assert inventory_nodes(["a1"], hostvars, {})["a1"]["address"] == "127.0.0.1"
