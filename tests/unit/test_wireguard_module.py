# SPDX-License-Identifier: GPL-3.0-or-later
"""The podnet_wireguard and podnet_wireguard_key modules' pure steps: parsing recorded
``ip -json`` and ``wg show dump`` output, choosing the implementation, the plan from live
state to commands, the peers file and the boot step. No host, no real key.
"""

import json
import os

import pytest
from ansible_collections.podnet.network.tests.unit.role_modules import load_module, run_module

wg = load_module("podnet_wireguard")
wgkey = load_module("podnet_wireguard_key")

MARK = "podnet-owned"
# Fake keys (base64 of 32 bytes): never a real node's.
PRIV = "cHJpdmF0ZXByaXZhdGVwcml2YXRlcHJpdmF0ZXByaXY="
PUB = "bXlwdWJsaWNteXB1YmxpY215cHVibGljbXlwdWJsaWM="
PEER_B = "cGVlcmJwZWVyYnBlZXJicGVlcmJwZWVyYnBlZXJicGU="
PEER_C = "cGVlcmNwZWVyY3BlZXJjcGVlcmNwZWVyY3BlZXJjcGU="
PSK = "cHNrcHNrcHNrcHNrcHNrcHNrcHNrcHNrcHNrcHNrcHM="

# Recorded on a Debian 12 test host (iproute2 6.1, wireguard-go 0.0.20220316) converged by
# podnet with one peer over WireGuard; keys replaced by the fakes above.
LINK = json.loads("""[{"ifindex":4,"ifname":"flannel-wg","flags":["POINTOPOINT","MULTICAST","NOARP",
"UP","LOWER_UP"],"mtu":1420,"qdisc":"pfifo_fast","operstate":"UNKNOWN","linkmode":"DEFAULT",
"group":"default","txqlen":500,"link_type":"none","promiscuity":0,"allmulti":0,"min_mtu":68,
"max_mtu":65535,"linkinfo":{"info_kind":"tun","info_data":{"type":"tun","pi":true,
"vnet_hdr":false,"multi_queue":false,"persist":false}},"inet6_addr_gen_mode":"eui64",
"num_tx_queues":1,"num_rx_queues":1,"gso_max_size":65536,"gso_max_segs":65535,
"tso_max_size":65536,"tso_max_segs":65535,"gro_max_size":65536,"ifalias":"podnet-owned"}]""")
ADDR = json.loads("""[{"ifindex":4,"ifname":"flannel-wg","flags":["POINTOPOINT","MULTICAST","NOARP",
"UP","LOWER_UP"],"mtu":1420,"qdisc":"pfifo_fast","operstate":"UNKNOWN","group":"default",
"txqlen":500,"addr_info":[{"family":"inet","local":"10.244.0.0","prefixlen":32,"scope":"global",
"label":"flannel-wg","valid_life_time":4294967295,"preferred_life_time":4294967295}]}]""")
ROUTES = json.loads("""[{"dst":"default","gateway":"172.31.66.1","dev":"eth0","flags":[]},
{"dst":"10.244.16.0/24","dev":"flannel-wg","protocol":"193","scope":"253","flags":[]},
{"dst":"172.31.66.0/24","dev":"eth0","protocol":"2","scope":"253","prefsrc":"172.31.66.2","flags":[]}]""")
DUMP = (f"{PRIV}\t{PUB}\t51820\toff\n"
        f"{PEER_B}\t(none)\t172.31.66.3:51820\t10.244.16.0/24\t1796042562\t348\t436\toff\n")

CONFIG = {"device": "flannel-wg", "port": 51820, "address": "10.244.0.0/32", "mtu": 1420,
          "persistent_keepalive": 0, "public_key": PUB,
          "peers": [{"hostname": "b1", "public_key": PEER_B, "endpoint": "172.31.66.3:51820",
                     "allowed_ips": ["10.244.16.0/24"]}]}
PARAMS = {"device": "flannel-wg", "key_path": "/etc/podnet/wireguard/private.key",
          "protocol": 193, "routes_protocol": 191}


def live(link=LINK, addr=ADDR, dump=DUMP, routes=ROUTES, dests=("10.244.16.0/24",), unit=True):
    return {"link": wg.parse_link(link), "addresses": wg.parse_addresses(addr),
            "wg": wg.parse_dump(dump), "routes": wg.parse_routes(routes, 193, 191, set(dests)),
            "private_key": PRIV, "unit_active": unit}


def want(config=CONFIG, psk=None, implementation="userspace"):  # pylint: disable=dangerous-default-value  # never mutated
    peers, pending = wg.want_peers(config, psk)
    return dict(device=config["device"], port=config["port"], address=config["address"],
                mtu=config["mtu"], peers=peers, implementation=implementation), pending


def commands(result):
    assert result["error"] is None, result["error"]
    return [" ".join([tool] + args) for tool, args, dummy, dummy in result["commands"]]


def test_parsers_read_the_recorded_state():
    assert wg.parse_link(LINK) == {"kind": "tun", "alias": MARK, "mtu": 1420, "up": True}
    assert wg.parse_addresses(ADDR) == ["10.244.0.0/32"]
    dump = wg.parse_dump(DUMP)
    assert dump["public_key"] == PUB and dump["listen_port"] == 51820
    assert dump["peers"] == {PEER_B: {"preshared_key": "(none)", "endpoint": "172.31.66.3:51820",
                                      "allowed_ips": ["10.244.16.0/24"], "persistent_keepalive": 0}}
    assert wg.parse_routes(ROUTES, 193, 191, set()) == {
        "10.244.16.0/24": {"dev": "flannel-wg", "protocol": "193"}}
    assert wg.parse_link([]) is None and wg.parse_dump("") is None


def test_converged_host_plans_nothing():
    wanted, pending = want()
    assert pending == [] and commands(wg.plan(live(), wanted, PARAMS)) == []


def test_fresh_host_userspace_creates_then_configures_in_order():
    wanted, dummy = want()
    empty = {"link": None, "addresses": [], "wg": None, "routes": {}, "private_key": PRIV,
             "unit_active": False}
    assert commands(wg.plan(empty, wanted, PARAMS)) == [
        "start-userspace flannel-wg", "wait flannel-wg",
        "ip link set dev flannel-wg alias podnet-owned",
        "wg set flannel-wg listen-port 51820 private-key /etc/podnet/wireguard/private.key",
        f"wg set flannel-wg peer {PEER_B} endpoint 172.31.66.3:51820 allowed-ips 10.244.16.0/24 "
        "persistent-keepalive off",
        "ip addr replace 10.244.0.0/32 dev flannel-wg",
        "ip link set dev flannel-wg mtu 1420", "ip link set dev flannel-wg up",
        "ip route replace 10.244.16.0/24 dev flannel-wg proto 193",
    ]
    kernel, dummy = want(implementation="kernel")
    assert commands(wg.plan(empty, kernel, PARAMS))[0] == "ip link add dev flannel-wg type wireguard"


def test_peers_change_minimally_and_removed_ones_are_purged():
    config = dict(CONFIG, peers=[
        {"hostname": "b1", "public_key": PEER_B, "endpoint": "172.31.66.9:51820",
         "allowed_ips": ["10.244.16.0/24"]},
        {"hostname": "c1", "public_key": PEER_C, "endpoint": "172.31.67.3:51820",
         "allowed_ips": ["10.244.32.0/24"]}])
    wanted, dummy = want(config)
    assert commands(wg.plan(live(dests=("10.244.16.0/24", "10.244.32.0/24")), wanted, PARAMS)) == [
        f"wg set flannel-wg peer {PEER_B} endpoint 172.31.66.9:51820",
        f"wg set flannel-wg peer {PEER_C} endpoint 172.31.67.3:51820 allowed-ips 10.244.32.0/24 "
        "persistent-keepalive off",
        "ip route replace 10.244.32.0/24 dev flannel-wg proto 193",
    ]
    # b1 left the plan: its peer and its route go, nothing else is touched.
    gone, dummy = want(dict(CONFIG, peers=[]))
    assert commands(wg.plan(live(), gone, PARAMS)) == [
        f"wg set flannel-wg peer {PEER_B} remove", "ip route del 10.244.16.0/24 proto 193"]


def test_rotated_peer_key_replaces_the_old_peer():
    config = dict(CONFIG, peers=[dict(CONFIG["peers"][0], public_key=PEER_C)])
    wanted, dummy = want(config)
    assert commands(wg.plan(live(), wanted, PARAMS)) == [
        f"wg set flannel-wg peer {PEER_B} remove",
        f"wg set flannel-wg peer {PEER_C} endpoint 172.31.66.3:51820 allowed-ips 10.244.16.0/24 "
        "persistent-keepalive off"]


def test_own_key_rotated_is_set_from_the_key_file():
    state = live()
    state["private_key"] = "bmV3a2V5bmV3a2V5bmV3a2V5bmV3a2V5bmV3a2V5bmU="
    wanted, dummy = want()
    assert commands(wg.plan(state, wanted, PARAMS)) == [
        "wg set flannel-wg private-key /etc/podnet/wireguard/private.key"]


def test_preshared_key_goes_on_stdin_never_in_the_command():
    wanted, dummy = want(psk=PSK)
    result = wg.plan(live(), wanted, PARAMS)
    (tool, args, dummy, data), = result["commands"]
    assert args == ["set", "flannel-wg", "peer", PEER_B, "preshared-key", "/dev/stdin"]
    assert data == PSK and PSK not in " ".join(args)
    assert f"PresharedKey = {PSK}" in wg.conf_content(wanted)


def test_unknown_peer_key_is_pending_not_configured():
    config = dict(CONFIG, peers=[dict(CONFIG["peers"][0], public_key=None)])
    wanted, pending = want(config)
    assert pending == ["b1"] and wanted["peers"] == {}


def test_a_route_of_another_protocol_is_a_conflict_podnet_routes_own_is_taken_over():
    wanted, dummy = want()
    other = [{"dst": "10.244.16.0/24", "gateway": "172.31.66.3", "dev": "eth0", "protocol": "12",
              "flags": []}]
    result = wg.plan(live(routes=other), wanted, PARAMS)
    assert result["error"] and "10.244.16.0/24 (protocol 12)" in result["error"]
    assert result["commands"] == []
    mine = [{"dst": "10.244.16.0/24", "gateway": "10.244.16.0", "dev": "flannel.1",
             "protocol": "191", "flags": ["onlink"]}]
    assert commands(wg.plan(live(routes=mine), wanted, PARAMS)) == [
        "ip route replace 10.244.16.0/24 dev flannel-wg proto 193"]


def test_foreign_link_is_refused_when_wanted_and_left_alone_on_removal():
    foreign = [dict(LINK[0], ifalias=None)]
    wanted, dummy = want()
    result = wg.plan(live(link=foreign), wanted, PARAMS)
    assert result["commands"] == [] and "podnet_wireguard_config.device" in result["error"]
    assert "podnet_plan_wireguard_device" in result["error"]
    assert commands(wg.plan(live(link=foreign, unit=False, routes=[]), None, PARAMS)) == []


def test_removal_stops_wireguard_go_or_deletes_the_kernel_link():
    assert commands(wg.plan(live(), None, PARAMS)) == ["systemctl stop podnet-wireguard-go-flannel-wg.service"]
    assert commands(wg.plan(live(unit=False), None, PARAMS)) == ["ip link del dev flannel-wg"]


def test_switching_implementation_recreates_the_device():
    wanted, dummy = want(implementation="kernel")
    cmds = commands(wg.plan(live(), wanted, PARAMS))
    assert cmds[:2] == ["systemctl stop podnet-wireguard-go-flannel-wg.service",
                        "ip link add dev flannel-wg type wireguard"]


@pytest.mark.parametrize("wanted, has_module, finds, chosen", [
    ("auto", True, False, "kernel"), ("auto", False, True, "kernel"),
    ("auto", False, False, "userspace"), ("kernel", False, False, "kernel"),
    ("userspace", True, True, "userspace"),
])
def test_implementation_choice(wanted, has_module, finds, chosen):
    assert wg.choose_implementation(wanted, has_module, finds) == chosen


def test_boot_step_sets_the_key_after_setconf_and_holds_no_secret():
    wanted, dummy = want()
    script = wg.boot_script(wanted, PARAMS, "/etc/podnet/wireguard/flannel-wg.conf")
    lines = script.splitlines()
    assert lines.index("wg setconf flannel-wg /etc/podnet/wireguard/flannel-wg.conf") < lines.index(
        "wg set flannel-wg private-key /etc/podnet/wireguard/private.key")
    assert "systemd-run --collect --unit=podnet-wireguard-go-flannel-wg.service" in script
    assert "ip route replace 10.244.16.0/24 dev flannel-wg proto 193" in script
    # Handshakes are started at boot, in the background: peers drop their stale sessions.
    assert lines[-1] == '( for peer in 10.244.16.0; do ping -c 1 -W 1 "$peer"; done ) >/dev/null 2>&1 &'
    assert PRIV not in script
    conf = wg.conf_content(wanted)
    assert "PrivateKey" not in conf and f"PublicKey = {PEER_B}" in conf
    assert "Endpoint = 172.31.66.3:51820" in conf and "AllowedIPs = 10.244.16.0/24" in conf


@pytest.mark.parametrize("config, fragment", [
    (dict(CONFIG, mtu=None), "podnet_wireguard_config.mtu is missing"),
    (dict(CONFIG, address="fe80::1/64"), "not IPv4"),
    (dict(CONFIG, address="nonsense"), "not an IPv4"),
    (dict(CONFIG, mtu=400), "fix podnet_plan_underlay_mtu"),
    (dict(CONFIG, peers=[{"hostname": "b1"}]), "lacks endpoint"),
])
def test_config_meaning_checked_naming_the_role_variable(config, fragment):
    assert fragment in wg.check_config(config)


def test_key_steps():
    assert wgkey.plan_key("present", False, False) == "create"
    assert wgkey.plan_key("present", True, False) == "keep"
    assert wgkey.plan_key("present", True, True) == "rotate"
    assert wgkey.plan_key("absent", True, False) == "remove"
    assert wgkey.plan_key("absent", False, True) is None
    assert wgkey.wants_rotation("b1", ["a1", " b1"]) and wgkey.wants_rotation("b1", ["all"])
    assert not wgkey.wants_rotation("b1", ["b10"]) and not wgkey.wants_rotation("b1", [])
    assert json.loads(wgkey.fact_content(PUB)) == {"public_key": PUB}


@pytest.mark.skipif(not os.path.exists("/etc/iproute2/rt_protos"), reason="needs iproute2's rt_protos")
def test_a_route_protocol_the_host_names_for_another_is_refused():
    # The module deletes every route of its protocol off its device; it used to check only
    # the range, so protocol 12 would have deleted BIRD's routes (as podnet_routes refuses).
    result = run_module("podnet_wireguard", dict(state="absent", protocol=12))
    assert result.get("failed") and "route protocol 'bird' on this host" in result["msg"], result
    assert "podnet_wireguard_route_protocol=12" in result["msg"]
