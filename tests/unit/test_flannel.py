# SPDX-License-Identifier: GPL-3.0-or-later
"""flannel etcd schema helpers."""

import json

import pytest

from ansible_collections.podnet.network.plugins.plugin_utils.planner import (
    PlanError, flannel_config, flannel_leases, flannel_leases_parse, plan)

NODES = {"a": {"zone": "z", "address": "192.0.2.1"}, "b": {"zone": "z", "address": "192.0.2.2"}}
PLAN = plan(NODES, {"cluster_cidr": "10.244.0.0/16", "vxlan": {"vni": 4096, "port": 4789}})


def test_config():
    assert flannel_config(PLAN) == {
        "Network": "10.244.0.0/16", "SubnetLen": 24, "SubnetMin": "10.244.0.0",
        "SubnetMax": "10.244.255.0",
        "Backend": {"Type": "vxlan", "VNI": 4096, "Port": 4789, "DirectRouting": True},
    }
    vx = plan(NODES, {"cluster_cidr": "10.244.0.0/16", "backend": "vxlan"})
    assert "DirectRouting" not in flannel_config(vx)["Backend"]


def test_leases():
    assert flannel_leases(PLAN, "/podnet/network/") == {
        "/podnet/network/subnets/10.244.0.0-24": {
            "PublicIP": "192.0.2.1", "BackendType": "vxlan",
            "BackendData": {"VNI": 4096, "VtepMAC": "0a:58:0a:f4:00:00"}},
        "/podnet/network/subnets/10.244.1.0-24": {
            "PublicIP": "192.0.2.2", "BackendType": "vxlan",
            "BackendData": {"VNI": 4096, "VtepMAC": "0a:58:0a:f4:01:00"}},
    }


def test_leases_round_trip_with_json_values():
    leases = {k: json.dumps(v) for k, v in flannel_leases(PLAN).items()}
    leases["/coreos.com/network/config"] = json.dumps(flannel_config(PLAN))
    assert flannel_leases_parse(leases) == {"192.0.2.1": "10.244.0.0/24", "192.0.2.2": "10.244.1.0/24"}


def test_leases_parse_rejects_two_leases_for_one_host():
    leases = flannel_leases(PLAN)
    leases["/coreos.com/network/subnets/10.244.9.0-24"] = {"PublicIP": "192.0.2.1"}
    with pytest.raises(PlanError, match="host 192.0.2.1 holds both"):
        flannel_leases_parse(leases)


def test_leases_parse_rejects_a_bad_key():
    with pytest.raises(PlanError, match="flannel lease key"):
        flannel_leases_parse({"/coreos.com/network/subnets/10.244.9-24": {"PublicIP": "192.0.2.1"}})


def test_bad_prefix():
    with pytest.raises(PlanError, match="absolute etcd key prefix"):
        flannel_leases(PLAN, "coreos.com")
