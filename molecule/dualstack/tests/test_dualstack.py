# SPDX-License-Identifier: GPL-3.0-or-later
"""dualstack scenario: pods of both families, a dual-stack zone and an IPv6-only-underlay zone.

Zone a (IPv4 and IPv6 underlay, zone backend vxlan): both pod families over flannel.1 on
IPv4. Zone b (IPv6 underlay only): IPv6 pods host-gw, IPv4 pods over flannel-v6.1 (VXLAN
on IPv6). Between the zones: both families over flannel-v6.1. The tests run in file order:
plan, devices, path choice, pod to pod in both families with sources kept, node to pod,
egress, check mode, WireGuard between the zones and back, restart.
"""

import ipaddress

import pytest
from podnet_testlib import Pod, assert_run_ok, host, ledger, listen, restart, run_playbook, sh

ZONES = {"podnet-ds-a1": "a", "podnet-ds-a2": "a", "podnet-ds-b1": "b", "podnet-ds-b2": "b"}
NODES = sorted(ZONES)
ADDRESSES = {"podnet-ds-a1": "172.30.101.11", "podnet-ds-a2": "172.30.101.12"}
ADDRESSES_IPV6 = {"podnet-ds-a1": "fd00:30:101::11", "podnet-ds-a2": "fd00:30:101::12",
                  "podnet-ds-b1": "fd00:30:102::11", "podnet-ds-b2": "fd00:30:102::12"}
OUTSIDE = ("podnet-ds-outside", "198.51.100.200", "2001:db8:30:103::100")
V4_DEV, V6_DEV = "flannel.1", "flannel-v6.1"


@pytest.fixture(scope="module")
def plan_nodes():
    return ledger()["nodes"]


@pytest.fixture(scope="module")
def pods(plan_nodes):  # pylint: disable=redefined-outer-name
    """A pod with both addresses and echo listeners of both families on every node."""
    made = {}
    try:
        for name in NODES:
            made[name] = Pod(name, plan_nodes[name]["pod_cidr"],
                             pod_cidr_ipv6=plan_nodes[name]["pod_cidr_ipv6"]).create()
            made[name].listen()
        yield made
    finally:
        for pod in made.values():
            pod.delete()


def test_the_ledger_holds_both_prefixes_and_each_nodes_underlay(plan_nodes):
    block6 = ipaddress.ip_network("fd00:10:244::/56")
    for name in NODES:
        node = plan_nodes[name]
        assert ipaddress.ip_network(node["pod_cidr_ipv6"]).subnet_of(block6)
        assert node["address_ipv6"] == ADDRESSES_IPV6[name]
        # zone b has no IPv4 underlay: its nodes are planned without one
        assert node.get("address") == ADDRESSES.get(name)


def test_zone_b_has_no_ipv4_underlay():
    for name in ("podnet-ds-b1", "podnet-ds-b2"):
        assert sh(host(name), "ip -4 -o addr show dev eth0 scope global").strip() == ""


def test_vxlan_devices_per_underlay_family(plan_nodes):
    for name in NODES:
        node, me = host(name), plan_nodes[name]
        vtep4 = me["pod_cidr"].split("/")[0]
        vtep6 = me["pod_cidr_ipv6"].split("/")[0]
        six = sh(node, f"ip -d link show {V6_DEV}")
        assert f"local {ADDRESSES_IPV6[name]}" in six and "vxlan id 1 " in six and "dstport 8472" in six
        assert "mtu 1430" in six
        if ZONES[name] == "a":
            four = sh(node, f"ip -d link show {V4_DEV}")
            assert f"local {ADDRESSES[name]}" in four
            # IPv6 pods of zone a ride flannel.1: it holds the node's IPv6 VTEP address
            assert f"{vtep6}/128" in sh(node, f"ip -6 -o addr show dev {V4_DEV}")
        else:
            assert node.run(f"ip link show {V4_DEV}").rc != 0
            # IPv4 pods of zone b ride flannel-v6.1: it holds the IPv4 VTEP address too
            assert f"{vtep4}/32" in sh(node, f"ip -4 -o addr show dev {V6_DEV}")
        assert f"{vtep6}/128" in sh(node, f"ip -6 -o addr show dev {V6_DEV}")


@pytest.mark.parametrize("name", NODES)
def test_path_choice_per_pod_family(plan_nodes, name):
    node = host(name)
    for peer in NODES:
        if peer == name:
            continue
        probe4 = str(ipaddress.ip_network(plan_nodes[peer]["pod_cidr"]).network_address + 10)
        probe6 = str(ipaddress.ip_network(plan_nodes[peer]["pod_cidr_ipv6"]).network_address + 10)
        route4, route6 = sh(node, f"ip -4 route get {probe4}"), sh(node, f"ip -6 route get {probe6}")
        if ZONES[name] == ZONES[peer] == "a":
            assert f"dev {V4_DEV}" in route4 and f"dev {V4_DEV}" in route6, (route4, route6)
        elif ZONES[name] == ZONES[peer] == "b":
            assert f"dev {V6_DEV}" in route4, route4
            assert f"via {ADDRESSES_IPV6[peer]} dev eth0" in route6, route6
        else:
            assert f"dev {V6_DEV}" in route4 and f"dev {V6_DEV}" in route6, (route4, route6)


@pytest.mark.parametrize("src", NODES)
@pytest.mark.parametrize("dst", NODES)
def test_pod_to_pod_in_both_families_keeps_the_source_address(pods, src, dst):
    if src == dst:
        pytest.skip("same pod")
    assert pods[src].source_seen_by(pods[dst].address) == pods[src].address
    assert pods[src].source_seen_by(pods[dst].address6) == pods[src].address6


@pytest.mark.parametrize("name", NODES)
def test_node_to_pod_in_both_families(pods, name):
    for peer in NODES:
        for address in (pods[peer].address, pods[peer].address6):
            assert host(name).run(f"ping -q -c 2 -W 2 -i 0.2 {address}").rc == 0, (name, address)


def test_full_size_packets_pass_in_both_families(pods):
    # 1430 bytes is the pod MTU (VXLAN over IPv6): the largest unfragmented packet passes.
    src, dst = pods["podnet-ds-a1"], pods["podnet-ds-b1"]
    assert src.ping(dst.address, size=1430 - 28, dont_fragment=True)
    assert src.ping(dst.address6, size=1430 - 48, dont_fragment=True)


def test_pod_to_outside_is_masqueraded_per_family(pods):
    listen(host(OUTSIDE[0]))
    listen(host(OUTSIDE[0]), ipv6=True)
    for name in NODES:
        # IPv6 pods (a ULA cluster CIDR): masqueraded to the node's IPv6 address
        assert pods[name].source_seen_by(OUTSIDE[2]) == ADDRESSES_IPV6[name]
        if name in ADDRESSES:
            assert pods[name].source_seen_by(OUTSIDE[1]) == ADDRESSES[name]


def test_check_mode_on_a_converged_fleet_changes_nothing():
    assert_run_ok(run_playbook("site.yml", "--check"), changed=0)


def test_wireguard_between_the_zones_carries_both_families(plan_nodes, pods):
    # The same fleet with WireGuard between the zones (over IPv6: zone b has no IPv4
    # underlay), then back to VXLAN; pods keep their addresses both ways.
    wg_dev = "flannel-wg"
    assert_run_ok(run_playbook("site.yml", "-e", "podnet_plan_cross_zone_backend=wireguard"))
    try:
        peer = plan_nodes["podnet-ds-b1"]
        for probe in (peer["pod_cidr"], peer["pod_cidr_ipv6"]):
            address = str(ipaddress.ip_network(probe).network_address + 10)
            assert f"dev {wg_dev}" in sh(host("podnet-ds-a1"), f"ip route get {address}")
        endpoints = sh(host("podnet-ds-a1"), f"wg show {wg_dev} endpoints")
        assert f"[{ADDRESSES_IPV6['podnet-ds-b1']}]:51820" in endpoints, endpoints
        for src, dst in (("podnet-ds-a1", "podnet-ds-b1"), ("podnet-ds-b2", "podnet-ds-a2")):
            assert pods[src].source_seen_by(pods[dst].address) == pods[src].address
            assert pods[src].source_seen_by(pods[dst].address6) == pods[src].address6
        # inside zone b the pairs stay as they were: IPv4 pods over flannel-v6.1
        assert pods["podnet-ds-b1"].source_seen_by(pods["podnet-ds-b2"].address6) == pods["podnet-ds-b1"].address6
    finally:
        assert_run_ok(run_playbook("site.yml"))
    assert host("podnet-ds-a1").run(f"ip link show {wg_dev}").rc != 0
    assert pods["podnet-ds-a1"].source_seen_by(pods["podnet-ds-b1"].address6) == pods["podnet-ds-a1"].address6


def test_restart_restores_both_families(plan_nodes, pods):
    name = "podnet-ds-b1"
    restart(name)
    node = host(name)
    assert node.run(f"ip link show {V6_DEV}").rc == 0
    fresh = Pod(name, plan_nodes[name]["pod_cidr"], index=20,
                pod_cidr_ipv6=plan_nodes[name]["pod_cidr_ipv6"]).create()
    fresh.listen()
    try:
        for peer in ("podnet-ds-a2", "podnet-ds-b2"):
            assert pods[peer].source_seen_by(fresh.address) == pods[peer].address
            assert pods[peer].source_seen_by(fresh.address6) == pods[peer].address6
    finally:
        fresh.delete()
