# SPDX-License-Identifier: GPL-3.0-or-later
"""Examples for podnet_host_view."""

import pytest

from ansible_collections.podnet.network.plugins.plugin_utils.planner import (
    PlanError, host_view, plan)
from ansible_collections.podnet.network.plugins.plugin_utils.planner.host_view import (
    neigh_gc_thresh)

NET = {"cluster_cidr": "10.244.0.0/16"}
NODES = {
    "a1": {"zone": "east", "address": "192.168.1.10", "prefix": 24},
    "a2": {"zone": "east", "address": "192.168.1.11", "prefix": 24},
    "b1": {"zone": "west", "address": "172.16.5.20", "prefix": 24},
}


def test_auto_mixes_host_gw_and_vxlan():
    view = host_view(plan(NODES, NET), "a1")
    assert view["hostname"] == "a1" and view["zone"] == "east"
    assert view["address"] == "192.168.1.10"
    assert view["pod_cidr"] == "10.244.0.0/24"
    assert view["gateway"] == "10.244.0.1"
    assert view["bridge_address"] == "10.244.0.1/24"
    assert view["mtu"] == 1450
    assert view["cluster_cidr"] == "10.244.0.0/16"
    assert view["vxlan"] == {"device": "flannel.1", "vni": 1, "port": 8472, "local": "192.168.1.10",
                             "vtep_ip": "10.244.0.0", "vtep_mac": "0a:58:0a:f4:00:00", "mtu": 1450}
    assert view["routes"] == [
        {"dest": "10.244.1.0/24", "via": "192.168.1.11", "dev": "underlay", "onlink": False},
        {"dest": "10.244.16.0/24", "via": "10.244.16.0", "dev": "vxlan", "onlink": True},
    ]
    assert view["fdb"] == [{"mac": "0a:58:0a:f4:10:00", "dst": "172.16.5.20"}]
    assert view["neighbors"] == [{"ip": "10.244.16.0", "mac": "0a:58:0a:f4:10:00"}]
    assert view["members"] == ["172.16.5.20", "192.168.1.11"]
    assert view["peers"] == [
        {"hostname": "a2", "zone": "east", "address": "192.168.1.11", "pod_cidr": "10.244.1.0/24",
         "backend": "host-gw"},
        {"hostname": "b1", "zone": "west", "address": "172.16.5.20", "pod_cidr": "10.244.16.0/24",
         "backend": "vxlan"},
    ]
    assert view["neigh_gc_thresh"] == {"gc_thresh1": 128, "gc_thresh2": 512, "gc_thresh3": 1024}


def test_no_vxlan_peer_means_no_vxlan_device():
    nodes = {k: v for k, v in NODES.items() if v["zone"] == "east"}
    view = host_view(plan(nodes, NET), "a2")
    assert view["vxlan"] is None and view["fdb"] == [] and view["neighbors"] == []
    assert view["mtu"] == 1500
    assert view["routes"] == [{"dest": "10.244.0.0/24", "via": "192.168.1.10", "dev": "underlay",
                               "onlink": False}]


def test_vxlan_backend_uses_overlay_to_everyone():
    view = host_view(plan(NODES, dict(NET, backend="vxlan")), "a1")
    assert {r["dev"] for r in view["routes"]} == {"vxlan"}
    assert [f["dst"] for f in view["fdb"]] == ["172.16.5.20", "192.168.1.11"]


def test_zone_backend_override_only_inside_the_zone():
    view = host_view(plan(NODES, dict(NET, zone_backends={"east": "vxlan"})), "a1")
    assert [p["backend"] for p in view["peers"]] == ["vxlan", "vxlan"]
    view_b = host_view(plan(NODES, dict(NET, zone_backends={"west": "vxlan"})), "a1")
    assert [p["backend"] for p in view_b["peers"]] == ["host-gw", "vxlan"]


def test_routes_sort_numerically():
    nodes = {"n%02d" % i: {"zone": "z", "address": "192.0.2.%d" % (i + 1)} for i in range(12)}
    view = host_view(plan(nodes, NET), "n00")
    assert [r["dest"] for r in view["routes"]][:2] == ["10.244.1.0/24", "10.244.2.0/24"]
    assert view["routes"][-1]["dest"] == "10.244.11.0/24"


def test_neigh_gc_thresh_scales_with_peers():
    assert neigh_gc_thresh(0) == {"gc_thresh1": 128, "gc_thresh2": 512, "gc_thresh3": 1024}
    big = neigh_gc_thresh(10254)
    assert big["gc_thresh3"] >= 2 * 10254
    assert big["gc_thresh1"] < big["gc_thresh2"] < big["gc_thresh3"]


def test_view_mtu_matches_plan_mtu():
    result = plan(NODES, NET)
    for host in NODES:
        assert host_view(result, host)["mtu"] == result["nodes"][host]["mtu"]


def test_unknown_host():
    with pytest.raises(PlanError, match="host ghost is not in the plan"):
        host_view(plan(NODES, NET), "ghost")


def test_not_a_plan():
    with pytest.raises(PlanError, match="output of podnet_plan"):
        host_view({"nodes": {}}, "a1")


def test_a_slice_without_peers_is_the_same_slice_less_the_peers_list():
    """site.yml keeps every node's slice at once: it asks for them without the peers list,
    which only verify.yml's probe reads (the neighbour table still counts every peer)."""
    result = plan(NODES, {"cluster_cidr": "10.244.0.0/16", "cross_zone_backend": "wireguard"})
    for name in NODES:
        full = host_view(result, name)
        lean = host_view(result, name, peers=False)
        assert "peers" not in lean and len(full["peers"]) == 2
        assert lean == {key: value for key, value in full.items() if key != "peers"}
