# SPDX-License-Identifier: GPL-3.0-or-later
"""multizone scenario: host-gw inside zones, a flannel-layout VXLAN overlay between them.

The tests run in file order and walk the fleet's life: steady state, path choice, MTU,
overlay guard, check mode, restart, links podnet did not make, scale out and in, reset.
Later tests rely on earlier ones.
"""

import ipaddress
import json
from pathlib import Path

import pytest
from podnet_testlib import (Pod, assert_run_ok, host, ledger, listen, podnet_routes,
                            restart, run_playbook, sh)
from podnet_fixtures import pods, subnets  # noqa: F401 (fixtures: pytest finds them here)

ZONES = {"podnet-mz-a1": "a", "podnet-mz-a2": "a", "podnet-mz-b1": "b", "podnet-mz-b2": "b"}
NODES = sorted(ZONES)
SPARE = "podnet-mz-b3"
ADDRESSES = {"podnet-mz-a1": "172.30.31.11", "podnet-mz-a2": "172.30.31.12",
             "podnet-mz-b1": "172.30.32.11", "podnet-mz-b2": "172.30.32.12",
             SPARE: "172.30.32.13"}
INTRUDER = "podnet-mz-intruder"
OUTSIDE = ("podnet-mz-outside", "198.51.100.40")
VXLAN_DEV = "flannel.1"
OWNER_MARK = "podnet-owned"   # the link alias podnet gives the links it creates
FOREIGN_MAC = "12:34:56:78:9a:bc"
USER_FILE = "/etc/podnet/operator-notes.txt"
SPARE_INVENTORY = Path(__file__).resolve().parent / "spare-inventory.yml"


def test_each_zone_is_one_block(subnets):
    zones = ledger()["zones"]
    assert set(zones) == {"a", "b"}
    for name, zone in ZONES.items():
        assert ipaddress.ip_network(subnets[name]).subnet_of(ipaddress.ip_network(zones[zone]))


def test_vxlan_device_has_flannel_layout(subnets):
    for name in NODES:
        link = sh(host(name), f"ip -d link show {VXLAN_DEV}")
        assert "vxlan id 1 " in link and "dstport 8472" in link and "nolearning" in link
        assert f"local {ADDRESSES[name]}" in link
        assert "mtu 1450" in link
        vtep = subnets[name].split("/")[0]
        assert f"{vtep}/32" in sh(host(name), f"ip -4 -o addr show dev {VXLAN_DEV}")


@pytest.mark.parametrize("name", NODES)
def test_path_choice_host_gw_in_zone_vxlan_across(subnets, name):
    node = host(name)
    for peer in NODES:
        if peer == name:
            continue
        probe = subnets[peer].replace(".0/24", ".10")
        route = sh(node, f"ip -4 route get {probe}")
        if ZONES[peer] == ZONES[name]:
            assert f"via {ADDRESSES[peer]} dev eth0" in route, route
        else:
            assert f"dev {VXLAN_DEV}" in route, route
            vtep = subnets[peer].split("/")[0]
            assert f"via {vtep}" in route, route


@pytest.mark.parametrize("src", NODES)
@pytest.mark.parametrize("dst", NODES)
def test_pod_to_pod_full_mesh_keeps_the_source_address(pods, src, dst):
    if src == dst:
        pytest.skip("same pod")
    assert pods[src].source_seen_by(pods[dst].address) == pods[src].address


def test_inter_zone_traffic_is_encapsulated(pods):
    node = host("podnet-mz-a1")
    before = int(sh(node, f"cat /sys/class/net/{VXLAN_DEV}/statistics/tx_packets"))
    assert pods["podnet-mz-a1"].ping(pods["podnet-mz-b1"].address, count=3)
    after = int(sh(node, f"cat /sys/class/net/{VXLAN_DEV}/statistics/tx_packets"))
    assert after - before >= 3


def test_mtu_no_silent_fragmentation_across_zones(pods):
    src, dst = pods["podnet-mz-a1"], pods["podnet-mz-b2"]
    mtu = int(sh(host(src.node), "cat /sys/class/net/cbr0/mtu"))
    assert mtu == 1450
    assert src.ping(dst.address, count=1, size=mtu - 28, dont_fragment=True)
    assert not src.ping(dst.address, count=1, size=mtu - 27, dont_fragment=True)


def _rejected(name: str) -> int:
    out = sh(host(name), "nft list counter inet podnet vxlan_rejected")
    words = out.split()
    return int(words[words.index("packets") + 1])


def test_vxlan_from_a_non_member_is_dropped(pods):
    target = ADDRESSES["podnet-mz-a1"]
    before = _rejected("podnet-mz-a1")
    for dummy in range(5):
        host(INTRUDER).run(f"echo forged | socat -u - UDP:{target}:8472")
    assert _rejected("podnet-mz-a1") - before >= 5
    # a member's overlay traffic is accepted and not counted
    member_before = _rejected("podnet-mz-a1")
    assert pods["podnet-mz-b1"].ping(pods["podnet-mz-a1"].address, count=3)
    assert _rejected("podnet-mz-a1") == member_before


def test_pod_to_outside_is_masqueraded(pods):
    listen(host(OUTSIDE[0]))
    for name in NODES:
        assert pods[name].source_seen_by(OUTSIDE[1]) == ADDRESSES[name]


def test_check_mode_on_a_converged_fleet_changes_nothing():
    assert_run_ok(run_playbook("site.yml", "--check"), changed=0)


def test_restart_restores_the_overlay(subnets):
    name = "podnet-mz-b1"
    restart(name)
    node = host(name)
    assert node.run(f"ip link show {VXLAN_DEV}").rc == 0
    assert podnet_routes(node)[subnets["podnet-mz-a1"]] == subnets["podnet-mz-a1"].split("/")[0]
    fresh = Pod(name, subnets[name], index=20).create()
    fresh.listen()
    try:
        other = Pod("podnet-mz-a2", subnets["podnet-mz-a2"], index=21).create()
        assert other.source_seen_by(fresh.address) == other.address
        other.delete()
    finally:
        fresh.delete()


def _link(target, name: str) -> dict | None:
    """What podnet could change on a link: kind, mark, MAC, MTU, up, key parameters and
    IPv4 addresses (None when there is no such link)."""
    shown = target.run(f"ip -json -details link show dev {name}")
    if shown.rc != 0:
        return None
    link = json.loads(shown.stdout)[0]
    info = link.get("linkinfo", {})
    data = info.get("info_data", {})
    addrs = json.loads(sh(target, f"ip -json -4 addr show dev {name}"))
    return {
        "kind": info.get("info_kind"), "alias": link.get("ifalias"),
        "mac": link.get("address"), "mtu": link.get("mtu"), "up": "UP" in link.get("flags", []),
        "data": {k: data.get(k) for k in ("forward_delay", "id", "port", "local", "learning")},
        "addresses": sorted(f"{a['local']}/{a['prefixlen']}" for e in addrs
                            for a in e.get("addr_info", [])),
    }


def _flat(output: str) -> str:
    """The run's output with every run of whitespace made one space (YAML wraps)."""
    return " ".join(output.split())


def _make_foreign_links(target) -> dict:
    """A hand-made bridge named cbr0 on another subnet, and a VXLAN device like a stock
    flanneld's (podnet's name, VNI, port and local address; its own MAC)."""
    sh(target, "ip link add cbr0 type bridge && ip addr add 100.64.0.1/24 dev cbr0 && "
               "ip link set dev cbr0 up")
    sh(target, f"ip link add {VXLAN_DEV} type vxlan id 1 local {ADDRESSES[SPARE]} dstport 8472 "
               f"nolearning && ip link set dev {VXLAN_DEV} address {FOREIGN_MAC}")
    return {dev: _link(target, dev) for dev in ("cbr0", VXLAN_DEV)}


def test_links_podnet_did_not_make_are_refused_and_left_unmodified():
    spare = host(SPARE)
    before = _make_foreign_links(spare)
    assert before["cbr0"]["alias"] is None and before[VXLAN_DEV]["alias"] is None

    # The new node fails at its bridge before the link is touched; the fleet carries on.
    result = run_playbook("site.yml", inventories=(SPARE_INVENTORY,))
    assert result["rc"] != 0 and result["recap"][SPARE]["failed"] == 1, result["output"][-3000:]
    assert all(result["recap"][n]["failed"] == 0 for n in NODES), result["recap"]
    output = _flat(result["output"])
    assert "link cbr0 exists but podnet did not create it" in output, result["output"][-3000:]
    assert "podnet_bridge_adopt: true" in output and "ip link del cbr0" in output
    assert _link(spare, "cbr0") == before["cbr0"]

    # Without the foreign bridge podnet makes its own (marked), then refuses the device.
    sh(spare, "ip link del cbr0")
    result = run_playbook("site.yml", inventories=(SPARE_INVENTORY,))
    assert result["rc"] != 0 and result["recap"][SPARE]["failed"] == 1, result["output"][-3000:]
    output = _flat(result["output"])
    assert f"VXLAN link {VXLAN_DEV} (VNI 1, port 8472, MAC {FOREIGN_MAC}) exists but podnet did " \
        "not create it" in output, result["output"][-3000:]
    assert "podnet_vxlan_adopt: true" in output
    assert _link(spare, VXLAN_DEV) == before[VXLAN_DEV]
    assert _link(spare, "cbr0")["alias"] == OWNER_MARK
    # the next test adopts the device


def test_adding_a_node_to_a_zone_moves_nobody(subnets):
    # The spare still holds the flanneld-like device: the operator lets podnet adopt it.
    assert_run_ok(run_playbook("site.yml", "-e", '{"podnet_vxlan_adopt": true}',
                               inventories=(SPARE_INVENTORY,)))
    adopted = _link(host(SPARE), VXLAN_DEV)
    assert adopted["alias"] == OWNER_MARK and adopted["mac"] != FOREIGN_MAC
    assert "vxlan.batch" in sh(host(SPARE), "ls /etc/podnet")
    after = {name: node["pod_cidr"] for name, node in ledger()["nodes"].items()}
    assert {n: after[n] for n in NODES} == subnets
    for name in NODES:
        routes = podnet_routes(host(name))
        expected_via = ADDRESSES[SPARE] if ZONES[name] == "b" else after[SPARE].split("/")[0]
        assert routes[after[SPARE]] == expected_via, name
    newcomer = Pod(SPARE, after[SPARE], index=30).create()
    newcomer.listen()
    try:
        far = Pod("podnet-mz-a1", subnets["podnet-mz-a1"], index=31).create()
        assert far.source_seen_by(newcomer.address) == far.address
        far.delete()
    finally:
        newcomer.delete()


def test_removing_a_node_purges_its_peers_everywhere():
    spare = ledger()["nodes"][SPARE]["pod_cidr"]
    assert_run_ok(run_playbook("site.yml"))
    for name in NODES:
        node = host(name)
        assert spare not in podnet_routes(node)
        vtep = spare.split("/")[0]
        assert vtep not in sh(node, f"ip neigh show dev {VXLAN_DEV}")
        assert ADDRESSES[SPARE] not in sh(node, f"bridge fdb show dev {VXLAN_DEV}")
    spare_host = host(SPARE)
    sh(spare_host, f"echo 'kept by the operator' > {USER_FILE}")
    assert_run_ok(run_playbook("reset.yml", "--limit", SPARE, inventories=(SPARE_INVENTORY,)))
    # podnet's links and files are gone; the operator's file (and so /etc/podnet) stays
    assert _link(spare_host, "cbr0") is None and _link(spare_host, VXLAN_DEV) is None
    assert sh(spare_host, "ls -A /etc/podnet").split() == [USER_FILE.rsplit("/", 1)[1]]
    assert sh(spare_host, f"cat {USER_FILE}").strip() == "kept by the operator"


def test_reset_leaves_links_podnet_did_not_make_alone():
    spare = host(SPARE)
    sh(spare, f"rm {USER_FILE}")
    before = _make_foreign_links(spare)
    result = run_playbook("reset.yml", "--limit", SPARE, inventories=(SPARE_INVENTORY,))
    assert_run_ok(result)
    output = _flat(result["output"])
    assert "link cbr0 is not podnet's" in output and f"link {VXLAN_DEV} is not podnet's" in output
    assert {dev: _link(spare, dev) for dev in before} == before
    # with the operator's file gone, the emptied /etc/podnet goes too
    assert spare.run("test -e /etc/podnet").rc != 0
    sh(spare, f"ip link del cbr0 && ip link del {VXLAN_DEV}")
