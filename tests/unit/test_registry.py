# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet_planner.registry: plan <-> etcd registry (flannel schema + ledger)."""

import json

import pytest
from ansible_collections.podnet.network.plugins.plugin_utils.planner import (
    PlanError, plan, registry_keys, registry_pins, registry_read)

PREFIX = "/coreos.com/network"
NODES = {"a": {"zone": "z", "address": "192.0.2.1"}, "b": {"zone": "z", "address": "192.0.2.2"}}
PLAN = plan(NODES, {"cluster_cidr": "10.244.0.0/16"})


def as_read(keys, leased=()):
    """What podnet_etcd_kv returns after reading ``keys`` back."""
    return {k: {"value": json.dumps(v), "lease": 7 if k in leased else 0} for k, v in keys.items()}


def test_keys_hold_config_leases_and_ledger():
    keys = registry_keys(PLAN, PREFIX + "/")
    assert sorted(keys) == [PREFIX + "/config", PREFIX + "/podnet/ledger",
                            PREFIX + "/subnets/10.244.0.0-24", PREFIX + "/subnets/10.244.1.0-24"]
    assert keys[PREFIX + "/subnets/10.244.1.0-24"]["PublicIP"] == "192.0.2.2"
    assert keys[PREFIX + "/podnet/ledger"]["nodes"]["a"]["pod_cidr"] == "10.244.0.0/24"


def test_round_trip_gives_back_the_ledger_and_leases():
    read = registry_read(as_read(registry_keys(PLAN)), PREFIX)
    assert read["ledger"]["nodes"]["b"]["pod_cidr"] == "10.244.1.0/24"
    assert read["leases"] == {"192.0.2.1": "10.244.0.0/24", "192.0.2.2": "10.244.1.0/24"}


def test_empty_registry_is_empty():
    assert registry_read({}, PREFIX) == {"ledger": {}, "leases": {}, "leased": {}}


def test_config_without_ledger_still_guards_the_cluster_cidr():
    keys = {PREFIX + "/config": {"Network": "10.1.0.0/16", "SubnetLen": 24}}
    ledger = registry_read(as_read(keys), PREFIX)["ledger"]
    assert ledger["cluster_cidr"] == "10.1.0.0/16" and ledger["node_prefix"] == 24


def test_leases_without_config_are_an_error():
    keys = {PREFIX + "/subnets/10.244.3.0-24": {"PublicIP": "192.0.2.9"}}
    with pytest.raises(PlanError, match="no config"):
        registry_read(as_read(keys), PREFIX)


def test_a_lease_pins_the_node_with_its_address():
    nodes = {"a": {"zone": "z", "address": "192.0.2.1"},
             "c": {"zone": "z", "address": "192.0.2.3", "pod_cidr": "10.244.9.0/24"}}
    pinned = registry_pins(nodes, {"192.0.2.1": "10.244.5.0/24", "192.0.2.3": "10.244.6.0/24"})
    assert pinned["a"]["pod_cidr"] == "10.244.5.0/24"
    assert pinned["c"]["pod_cidr"] == "10.244.9.0/24"  # an inventory pin is kept (and checked later)
    assert "pod_cidr" not in nodes["a"]  # input untouched
    # the pin survives planning: the host keeps the subnet it holds in etcd
    assert plan(pinned, {"cluster_cidr": "10.244.0.0/16"})["nodes"]["a"]["pod_cidr"] == "10.244.5.0/24"
