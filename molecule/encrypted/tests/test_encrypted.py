# SPDX-License-Identifier: GPL-3.0-or-later
"""encrypted scenario: WireGuard between zones, VXLAN inside zone a and host-gw inside
zone b, over wireguard-go; zone a runs Debian 12 (bookworm), zone b Debian 13 (trixie).

The tests run in file order and walk the fleet's life: the mesh and its layout, pods
across zones, no plaintext on the carriers' router (and plaintext there with vxlan), a
non-member at the port, masquerade, check mode, restart, key rotation, scale out and in,
reset. Later tests rely on earlier ones.
"""

import base64
import json
import secrets
import time
from pathlib import Path

import pytest
from podnet_testlib import (Pod, assert_run_ok, host, ledger, listen, restart, run_playbook, sh)
from podnet_fixtures import pods, subnets  # noqa: F401 (fixtures: pytest finds them here)

ZONES = {"podnet-enc-a1": "a", "podnet-enc-a2": "a", "podnet-enc-b1": "b"}
# A fleet mid-upgrade: each zone on its own Debian release (/etc/debian_version's major).
RELEASES = {"a": "12", "b": "13"}
NODES = sorted(ZONES)
SPARE = "podnet-enc-b2"
ADDRESSES = {"podnet-enc-a1": "172.30.71.11", "podnet-enc-a2": "172.30.71.12",
             "podnet-enc-b1": "172.30.72.11", SPARE: "172.30.72.12"}
ROUTER = "podnet-enc-router"
ROUTER_ZONE_A = "172.30.71.254"
OUTSIDE = "198.51.100.190"    # the router's leg on the "outside" network
WG_DEV = "flannel-wg"
WG_PORT = 51820
WG_PROTOCOL = 193             # roles/podnet_wireguard: podnet_wireguard_route_protocol
VXLAN_DEV = "flannel.1"
KEY_FILE = "/etc/podnet/wireguard/private.key"
SPARE_INVENTORY = Path(__file__).resolve().parent / "spare-inventory.yml"


def wg_peers(name: str) -> dict:
    """{public key: {"endpoint", "allowed_ips"}} of the node's WireGuard device (none: {})."""
    result = host(name).run(f"wg show {WG_DEV} dump")
    if result.rc != 0:
        return {}
    peers = {}
    for line in result.stdout.splitlines()[1:]:
        fields = line.split("\t")
        peers[fields[0]] = {"endpoint": fields[2], "allowed_ips": fields[3]}
    return peers


def public_key(name: str) -> str:
    return sh(host(name), f"wg show {WG_DEV} public-key").strip()


def wg_routes(name: str) -> list:
    return sorted(line.split()[0] for line in
                  sh(host(name), f"ip -4 route show proto {WG_PROTOCOL}").splitlines())


def test_cross_zone_pairs_are_wireguard_peers_in_flannel_layout(subnets):
    for name in NODES:
        node = host(name)
        link = json.loads(sh(node, f"ip -d -j link show dev {WG_DEV}"))[0]
        # No kernel module here: wireguard-go's TUN device, marked as podnet's.
        assert link["linkinfo"]["info_kind"] == "tun" and link["ifalias"] == "podnet-owned"
        assert link["mtu"] == 1420 and "UP" in link["flags"]
        assert sh(node, f"systemctl is-active podnet-wireguard-go-{WG_DEV}").strip() == "active"
        vtep = subnets[name].split("/")[0]
        assert f"{vtep}/32" in sh(node, f"ip -4 -o addr show dev {WG_DEV}")
        assert f"listening port: {WG_PORT}" in sh(node, f"wg show {WG_DEV}")
        others = [p for p in NODES if ZONES[p] != ZONES[name]]
        assert wg_peers(name) == {
            public_key(p): {"endpoint": f"{ADDRESSES[p]}:{WG_PORT}", "allowed_ips": subnets[p]}
            for p in others}
        assert wg_routes(name) == sorted(subnets[p] for p in others)
        # The private key stays on the node, root's alone; the ledger holds public keys only.
        assert sh(node, f"stat -c '%a %U %G' {KEY_FILE}").split() == ["600", "root", "root"]
        assert ledger()["nodes"][name]["wireguard_key"] == public_key(name)
        # Pods get the MTU of the narrowest path (WireGuard: underlay - 80).
        assert sh(node, "cat /sys/class/net/cbr0/mtu").strip() == "1420"


@pytest.mark.parametrize("name", NODES + [SPARE])
def test_each_zone_runs_its_own_debian_release(name):
    zone = ZONES.get(name, "b")
    assert sh(host(name), "cat /etc/debian_version").split(".")[0] == RELEASES[zone]


@pytest.mark.parametrize("name", NODES)
def test_path_choice_vxlan_in_zone_a_wireguard_across(subnets, name):
    for peer in NODES:
        if peer == name:
            continue
        route = sh(host(name), f"ip -4 route get {subnets[peer].replace('.0/24', '.10')}")
        if ZONES[peer] != ZONES[name]:
            expected = f"dev {WG_DEV}"
        else:   # only zone a has two members; its pairs use VXLAN (podnet_plan_zone_backends)
            expected = f"via {subnets[peer].split('/')[0]} dev {VXLAN_DEV}"
        assert expected in route, route


@pytest.mark.parametrize("src", NODES)
@pytest.mark.parametrize("dst", NODES)
def test_pod_to_pod_full_mesh_keeps_the_source_address(pods, src, dst):
    if src == dst:
        pytest.skip("same pod")
    assert pods[src].source_seen_by(pods[dst].address) == pods[src].address


def _capture_on_router(pods, src: str, dst: str, marker: str) -> bytes:
    """Send MARKER from pod SRC to pod DST while the router captures on its zone-a leg
    (bounded: 200 packets or 20 s); return the capture."""
    router = host(ROUTER)
    leg = sh(router, f"ip -o -4 addr show to {ROUTER_ZONE_A}/32").split()[1]
    router.run("systemctl stop podnet-test-capture 2>/dev/null; rm -f /tmp/podnet-capture.pcap")
    sh(router, "systemd-run --quiet --collect --unit=podnet-test-capture timeout 20 "
               f"tcpdump -n -U -i {leg} -c 200 -w /tmp/podnet-capture.pcap 'udp or tcp'")
    for dummy in range(50):
        if router.run("test -s /tmp/podnet-capture.pcap").rc == 0:  # pcap header written
            break
        time.sleep(0.1)
    time.sleep(0.5)
    for dummy in range(3):
        result = pods[src].run(f"sh -c 'echo {marker} | socat -T 3 - TCP:{pods[dst].address}:7777'")
        assert result.rc == 0, result.stderr
    time.sleep(1)
    router.run("systemctl kill -s INT podnet-test-capture 2>/dev/null")
    for dummy in range(50):
        if router.run("systemctl is-active podnet-test-capture").stdout.strip() != "active":
            break
        time.sleep(0.1)
    return base64.b64decode(router.run("base64 -w0 /tmp/podnet-capture.pcap").stdout)


def test_router_sees_no_plaintext_between_zones(pods):
    marker = "PODNET-MARKER-" + secrets.token_hex(8)
    capture = _capture_on_router(pods, "podnet-enc-a1", "podnet-enc-b1", marker)
    assert len(capture) > 24 + 3 * 100, "the router captured (almost) nothing"
    assert marker.encode() not in capture
    # What crossed was WireGuard: UDP to port 51820 (big-endian in the headers).
    assert WG_PORT.to_bytes(2, "big") in capture


def _rejected(name: str) -> int:
    out = sh(host(name), "nft list counter inet podnet wireguard_rejected")
    words = out.split()
    return int(words[words.index("packets") + 1])


def test_a_non_member_at_the_wireguard_port_changes_nothing(pods):
    # The spare is no member yet: its packets to the port are dropped before WireGuard.
    target = ADDRESSES["podnet-enc-a1"]
    peers = wg_peers("podnet-enc-a1")
    before = _rejected("podnet-enc-a1")
    for dummy in range(5):
        host(SPARE).run(f"echo forged | socat -u - UDP:{target}:{WG_PORT}")
    assert _rejected("podnet-enc-a1") - before >= 5
    assert wg_peers("podnet-enc-a1") == peers
    # A member's tunnel traffic is accepted and not counted.
    member_before = _rejected("podnet-enc-a1")
    assert pods["podnet-enc-b1"].ping(pods["podnet-enc-a1"].address, count=3)
    assert _rejected("podnet-enc-a1") == member_before


def test_pod_to_outside_is_masqueraded_and_nothing_else(pods):
    listen(host(ROUTER))
    for name in NODES:
        assert pods[name].source_seen_by(OUTSIDE) == ADDRESSES[name]


def test_check_mode_on_a_converged_fleet_changes_nothing():
    assert_run_ok(run_playbook("site.yml", "--check"), changed=0)


def _answers(pod, address: str, tries: int = 10) -> str:
    """The source address seen at ADDRESS, allowing a few seconds for a WireGuard handshake."""
    seen = ""
    for dummy in range(tries):
        seen = pod.source_seen_by(address)
        if not seen.startswith("<no answer"):
            break
        time.sleep(1)
    return seen


def test_restart_brings_the_tunnel_back(subnets, pods):
    name = "podnet-enc-b1"
    restart(name)
    # The node's pods did not survive the reboot (namespaces live in /run): recreate b1's
    # pod, as a runtime would, for this and the later tests.
    pods[name].create().listen()
    node = host(name)
    for dummy in range(100):   # podnet.service may still be replaying when boot is "running"
        if node.run(f"wg show {WG_DEV}").rc == 0 and wg_routes(name):
            break
        time.sleep(0.2)
    assert len(wg_peers(name)) == 2 and wg_routes(name) == sorted(
        subnets[p] for p in NODES if ZONES[p] == "a")
    # The boot step starts the handshakes, so the peers' stale sessions go at once.
    for peer in ("podnet-enc-a1", "podnet-enc-a2"):
        assert _answers(pods[peer], pods[name].address, tries=5) == pods[peer].address


def test_rotating_one_key_keeps_the_mesh_up(pods):
    name = "podnet-enc-b1"
    old = public_key(name)
    result = run_playbook("site.yml", "-e", f"podnet_wireguard_rotate={name}")
    assert_run_ok(result)
    new = public_key(name)
    assert new != old and ledger()["nodes"][name]["wireguard_key"] == new
    for peer in ("podnet-enc-a1", "podnet-enc-a2"):
        keys = set(wg_peers(peer))
        assert new in keys and old not in keys
        assert _answers(pods[peer], pods[name].address, tries=5) == pods[peer].address
    # Nobody else's key moved, and the next run changes nothing.
    assert_run_ok(run_playbook("site.yml"), changed=0)


def test_with_vxlan_across_zones_the_router_reads_the_marker(pods):
    """The same pair over the backend podnet used before: the carrier reads everything.
    A network that no longer uses WireGuard keeps nothing of it: device, routes, key."""
    assert_run_ok(run_playbook("site.yml", "-e", "podnet_plan_cross_zone_backend=vxlan"))
    for name in NODES:
        assert host(name).run(f"ip link show {WG_DEV}").rc != 0
        assert wg_routes(name) == []
        assert not host(name).file(KEY_FILE).exists
        assert not host(name).file("/etc/ansible/facts.d/podnet_wireguard.fact").exists
    assert f"dev {VXLAN_DEV}" in sh(host("podnet-enc-a1"),
                                    f"ip -4 route get {pods['podnet-enc-b1'].address}")
    marker = "PODNET-MARKER-" + secrets.token_hex(8)
    assert marker.encode() in _capture_on_router(pods, "podnet-enc-a1", "podnet-enc-b1", marker)


def test_adding_a_node_back_on_wireguard_moves_nobody(subnets, pods):
    # Back to wireguard across zones, and the spare joins zone b in the same run.
    assert_run_ok(run_playbook("site.yml", inventories=(SPARE_INVENTORY,)))
    after = {name: node["pod_cidr"] for name, node in ledger()["nodes"].items()}
    assert {n: after[n] for n in NODES} == {n: subnets[n] for n in NODES}
    spare_key = public_key(SPARE)
    for name in ("podnet-enc-a1", "podnet-enc-a2"):
        assert wg_peers(name)[spare_key] == {"endpoint": f"{ADDRESSES[SPARE]}:{WG_PORT}",
                                             "allowed_ips": after[SPARE]}
    assert spare_key not in wg_peers("podnet-enc-b1")   # same zone, same segment: host-gw
    assert set(wg_peers(SPARE)) == {public_key("podnet-enc-a1"), public_key("podnet-enc-a2")}
    newcomer = Pod(SPARE, after[SPARE], index=30).create()
    newcomer.listen()
    try:
        for name in NODES:
            assert pods[name].source_seen_by(newcomer.address) == pods[name].address
    finally:
        newcomer.delete()


def test_removing_a_node_purges_its_peer_entries_everywhere():
    spare = ledger()["nodes"][SPARE]
    assert_run_ok(run_playbook("site.yml"))
    for name in NODES:
        assert spare["wireguard_key"] not in wg_peers(name)
        assert spare["pod_cidr"] not in wg_routes(name)
        assert spare["pod_cidr"] not in sh(host(name), f"cat /etc/podnet/wireguard/{WG_DEV}.conf "
                                                       "2>/dev/null || true")
    assert_run_ok(run_playbook("reset.yml", "--limit", SPARE, inventories=(SPARE_INVENTORY,)))
    spare_host = host(SPARE)
    assert spare_host.run(f"ip link show {WG_DEV}").rc != 0
    assert spare_host.run(f"test -e {KEY_FILE}").rc != 0
    assert spare_host.run(f"systemctl is-active podnet-wireguard-go-{WG_DEV}").stdout.strip() != "active"
    assert spare_host.run("test -e /etc/podnet").rc != 0
