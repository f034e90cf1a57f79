# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet_wireguard with dual stack (issue 24): the device's IPv6 address, IPv6 allowed IPs
routed over the device (ip -6 route, metric 1024), "[v6]:port" endpoints, stale podnet
routes and addresses of either family removed, the boot step. Pure steps from output
recorded on a Debian 12 test host; no host, no real key.
"""

import json

import pytest
from ansible_collections.podnet.network.tests.unit.role_modules import load_module, load_module_utils, run_module

wg = load_module("podnet_wireguard")
host = load_module_utils("podnet_host")

PRIV = "cHJpdmF0ZXByaXZhdGVwcml2YXRlcHJpdmF0ZXByaXY="
PUB = "bXlwdWJsaWNteXB1YmxpY215cHVibGljbXlwdWJsaWM="
PEER_B = "cGVlcmJwZWVyYnBlZXJicGVlcmJwZWVyYnBlZXJicGU="

# Recorded on a Debian 12 test host (iproute2 6.1, wireguard-go 0.0.20220316) converged by
# podnet_wireguard with address_ipv6 and one peer over an IPv6 underlay (keys replaced by
# the fakes above). The pod bridge cbr0 holds the node's own prefixes.
LINK = json.loads("""[{"ifindex":4,"ifname":"flannel-wg","flags":["POINTOPOINT","MULTICAST","NOARP",
"UP","LOWER_UP"],"mtu":1420,"qdisc":"pfifo_fast","operstate":"UNKNOWN","linkmode":"DEFAULT",
"group":"default","txqlen":500,"link_type":"none","promiscuity":0,"allmulti":0,"min_mtu":68,
"max_mtu":65535,"linkinfo":{"info_kind":"tun","info_data":{"type":"tun","pi":true,
"vnet_hdr":false,"multi_queue":false,"persist":false}},"inet6_addr_gen_mode":"random",
"num_tx_queues":1,"num_rx_queues":1,"gso_max_size":65536,"gso_max_segs":65535,
"tso_max_size":65536,"tso_max_segs":65535,"gro_max_size":65536,"ifalias":"podnet-owned"}]""")
ADDR4 = json.loads("""[{"ifindex":4,"ifname":"flannel-wg","flags":["POINTOPOINT","MULTICAST","NOARP",
"UP","LOWER_UP"],"mtu":1420,"qdisc":"pfifo_fast","operstate":"UNKNOWN","group":"default",
"txqlen":500,"addr_info":[{"family":"inet","local":"10.244.1.0","prefixlen":32,"scope":"global",
"label":"flannel-wg","valid_life_time":4294967295,"preferred_life_time":4294967295}]}]""")
# ip -json -6 addr show dev flannel-wg
ADDR6 = json.loads("""[{"ifindex":4,"ifname":"flannel-wg","flags":["POINTOPOINT","MULTICAST","NOARP",
"UP","LOWER_UP"],"mtu":1420,"qdisc":"pfifo_fast","operstate":"UNKNOWN","group":"default",
"txqlen":500,"addr_info":[{"family":"inet6","local":"fd00:10:244:1::","prefixlen":128,
"scope":"global","nodad":true,"valid_life_time":4294967295,"preferred_life_time":4294967295},
{"family":"inet6","local":"fe80::e1b8:b5ae:4c38:55a","prefixlen":64,"scope":"link",
"stable-privacy":true,"valid_life_time":4294967295,"preferred_life_time":4294967295}]}]""")
# The same device converged IPv4 only: the kernel's link-local address alone.
ADDR6_LINK_LOCAL = json.loads("""[{"ifindex":5,"ifname":"flannel-wg","flags":["POINTOPOINT",
"MULTICAST","NOARP","UP","LOWER_UP"],"mtu":1420,"qdisc":"pfifo_fast","operstate":"UNKNOWN",
"group":"default","txqlen":500,"addr_info":[{"family":"inet6","local":"fe80::e73a:4f4e:70df:728",
"prefixlen":64,"scope":"link","stable-privacy":true,"valid_life_time":4294967295,
"preferred_life_time":4294967295}]}]""")
# ip -json -Numeric -4 route show table main / -6
ROUTES4 = json.loads("""[{"dst":"default","gateway":"172.30.241.1","dev":"eth0","flags":[]},
{"dst":"10.244.1.0/24","dev":"cbr0","protocol":"2","scope":"253","prefsrc":"10.244.1.1","flags":[]},
{"dst":"10.244.2.0/24","dev":"flannel-wg","protocol":"193","scope":"253","flags":[]},
{"dst":"172.30.241.0/24","dev":"eth0","protocol":"2","scope":"253","prefsrc":"172.30.241.11",
"flags":[]}]""")
ROUTES6 = json.loads("""[{"dst":"fd00:10:244:1::","dev":"flannel-wg","protocol":"2","metric":256,
"flags":[],"pref":"medium"},{"dst":"fd00:10:244:1::/64","dev":"cbr0","protocol":"2","metric":256,
"flags":[],"pref":"medium"},{"dst":"fd00:10:244:2::/64","dev":"flannel-wg","protocol":"193",
"metric":1024,"flags":[],"pref":"medium"},{"dst":"fd00:30:241::/64","dev":"eth0","protocol":"2",
"metric":256,"flags":[],"pref":"medium"},{"dst":"fe80::/64","dev":"eth0","protocol":"2",
"metric":256,"flags":[],"pref":"medium"},{"dst":"fe80::/64","dev":"cbr0","protocol":"2",
"metric":256,"flags":[],"pref":"medium"},{"dst":"fe80::/64","dev":"flannel-wg","protocol":"2",
"metric":256,"flags":[],"pref":"medium"},{"dst":"default","gateway":"fd00:30:241::1","dev":"eth0",
"metric":1024,"flags":[],"pref":"medium"}]""")
# wg show flannel-wg dump: an IPv6 endpoint is printed in brackets.
DUMP = (f"{PRIV}\t{PUB}\t51820\toff\n"
        f"{PEER_B}\t(none)\t[fd00:30:241::12]:51820\t10.244.2.0/24,fd00:10:244:2::/64\t"
        "1796657750\t1504\t1472\toff\n")

PEER = {"hostname": "n2", "public_key": PEER_B, "endpoint": "[fd00:30:241::12]:51820",
        "allowed_ips": ["10.244.2.0/24", "fd00:10:244:2::/64"]}
CONFIG = {"device": "flannel-wg", "port": 51820, "address": "10.244.1.0/32",
          "address_ipv6": "fd00:10:244:1::/128", "mtu": 1420, "persistent_keepalive": 0,
          "public_key": PUB, "peers": [PEER]}
PARAMS = {"device": "flannel-wg", "key_path": "/etc/podnet/wireguard/private.key",
          "protocol": 193, "routes_protocol": 191}
DESTS = {"10.244.2.0/24", "fd00:10:244:2::/64"}


def live(addr6=ADDR6, routes6=ROUTES6, dump=DUMP, disable="0", dests=DESTS, routes4=ROUTES4):  # pylint: disable=dangerous-default-value  # never mutated
    routes = wg.parse_routes(routes4, 193, 191, set(dests))
    routes.update(wg.parse_routes(routes6, 193, 191, set(dests), family_=6))
    return {"link": wg.parse_link(LINK), "addresses": wg.parse_addresses(ADDR4),
            "addresses_ipv6": host.parse_ipv6_addresses(addr6),
            "disable_ipv6": disable, "wg": wg.parse_dump(dump), "routes": routes,
            "private_key": PRIV, "unit_active": True}


def want(config=CONFIG):  # pylint: disable=dangerous-default-value  # never mutated
    peers, dummy = wg.want_peers(config, None)
    out = dict(device=config["device"], port=config["port"], address=config["address"],
               mtu=config["mtu"], peers=peers, implementation="userspace")
    if config.get("address_ipv6"):
        out["address_ipv6"] = config["address_ipv6"]
    return out


def commands(result):
    assert result["error"] is None, result["error"]
    return [" ".join([tool] + args) for tool, args, dummy, dummy in result["commands"]]


EMPTY = {"link": None, "addresses": [], "addresses_ipv6": [], "disable_ipv6": None, "wg": None,
         "routes": {}, "private_key": PRIV, "unit_active": False}


def test_parsers_read_ipv6_state():
    assert host.parse_ipv6_addresses(ADDR6) == ["fd00:10:244:1::/128"]
    assert host.parse_ipv6_addresses(ADDR6_LINK_LOCAL) == []
    # Only metric 1024 (what `ip -6 route replace` gives): the kernel's metric-256 routes to
    # the device's own address and fe80::/64 and the default route are never podnet's.
    assert wg.parse_routes(ROUTES6, 193, 191, set(), family_=6) == {
        "fd00:10:244:2::/64": {"dev": "flannel-wg", "protocol": "193"}}
    # IPv4 reads as before: metric 0 only.
    assert wg.parse_routes(ROUTES4, 193, 191, set()) == {
        "10.244.2.0/24": {"dev": "flannel-wg", "protocol": "193"}}
    peer = wg.parse_dump(DUMP)["peers"][PEER_B]
    assert peer["endpoint"] == "[fd00:30:241::12]:51820"
    assert peer["allowed_ips"] == ["10.244.2.0/24", "fd00:10:244:2::/64"]


def test_converged_dual_stack_host_plans_nothing():
    assert commands(wg.plan(live(), want(), PARAMS)) == []


def test_fresh_host_switches_ipv6_on_adds_the_address_nodad_and_routes_both_families():
    assert commands(wg.plan(EMPTY, want(), PARAMS)) == [
        "start-userspace flannel-wg", "wait flannel-wg",
        "ip link set dev flannel-wg alias podnet-owned",
        "wg set flannel-wg listen-port 51820 private-key /etc/podnet/wireguard/private.key",
        f"wg set flannel-wg peer {PEER_B} endpoint [fd00:30:241::12]:51820 "
        "allowed-ips 10.244.2.0/24,fd00:10:244:2::/64 persistent-keepalive off",
        "ip addr replace 10.244.1.0/32 dev flannel-wg",
        "sysctl /proc/sys/net/ipv6/conf/flannel-wg/disable_ipv6 0",
        "ip -6 addr replace fd00:10:244:1::/128 dev flannel-wg nodad",
        "ip link set dev flannel-wg mtu 1420", "ip link set dev flannel-wg up",
        "ip route replace 10.244.2.0/24 dev flannel-wg proto 193",
        "ip -6 route replace fd00:10:244:2::/64 dev flannel-wg proto 193",
    ]


def test_ipv6_added_to_an_ipv4_only_device():
    """A node that becomes dual stack: its device (IPv6 off, as a new link in a container
    whose default disables it) gets IPv6 on, the address, the peer's IPv6 prefix."""
    dump = DUMP.replace("[fd00:30:241::12]:51820\t10.244.2.0/24,fd00:10:244:2::/64",
                        "172.30.241.12:51820\t10.244.2.0/24")
    state = live(addr6=[], routes6=[], dump=dump, disable="1")
    assert commands(wg.plan(state, want(), PARAMS)) == [
        f"wg set flannel-wg peer {PEER_B} endpoint [fd00:30:241::12]:51820 "
        "allowed-ips 10.244.2.0/24,fd00:10:244:2::/64",
        "sysctl /proc/sys/net/ipv6/conf/flannel-wg/disable_ipv6 0",
        "ip -6 addr replace fd00:10:244:1::/128 dev flannel-wg nodad",
        "ip -6 route replace fd00:10:244:2::/64 dev flannel-wg proto 193",
    ]


def test_back_to_ipv4_only_removes_the_ipv6_address_and_stale_podnet_ipv6_routes():
    stale = ROUTES6 + [{"dst": "fd00:99::/64", "gateway": "fd00:30:241::12", "dev": "eth0",
                        "protocol": "193", "metric": 1024, "flags": [], "pref": "medium"}]
    config = dict(CONFIG, address_ipv6=None, peers=[
        dict(PEER, endpoint="172.30.241.12:51820", allowed_ips=["10.244.2.0/24"])])
    assert commands(wg.plan(live(routes6=stale, dests={"10.244.2.0/24"}), want(config), PARAMS)) == [
        f"wg set flannel-wg peer {PEER_B} endpoint 172.30.241.12:51820 allowed-ips 10.244.2.0/24",
        "ip -6 addr del fd00:10:244:1::/128 dev flannel-wg",
        "ip -6 route del fd00:10:244:2::/64 proto 193",
        "ip -6 route del fd00:99::/64 proto 193",
    ]


def test_ipv6_endpoint_compared_as_wg_prints_it():
    """A non-canonical spelling of the same address is no change; another underlay is."""
    spelled = dict(CONFIG, peers=[dict(PEER, endpoint="[FD00:30:241:0:0:0:0:12]:51820",
                                       allowed_ips=["fd00:10:244:2:0::/64", "10.244.2.0/24"])])
    assert commands(wg.plan(live(), want(spelled), PARAMS)) == []
    over_ipv4 = dict(CONFIG, peers=[dict(PEER, endpoint="172.30.241.12:51820")])
    assert commands(wg.plan(live(), want(over_ipv4), PARAMS)) == [
        f"wg set flannel-wg peer {PEER_B} endpoint 172.30.241.12:51820"]


@pytest.mark.parametrize("text, normal", [
    ("[fd00:30:241::12]:51820", "[fd00:30:241::12]:51820"),
    ("[FD00:30:241:0::12]:1", "[fd00:30:241::12]:1"),
    ("172.30.241.12:51820", "172.30.241.12:51820"),
    ("fd00:30:241::12:51820", None),   # IPv6 without brackets
    ("[172.30.241.12]:51820", None),
    ("[fd00::1]:0", None), ("[fd00::1]:65536", None), ("[fd00::1]", None),
    ("node2.example:51820", None), ("[fd00::1%eth0]:51820", None), ("", None),
])
def test_endpoint_forms(text, normal):
    assert wg.norm_endpoint(text) == normal


def test_an_ipv6_route_of_another_protocol_is_a_conflict():
    bird = ROUTES6 + [{"dst": "fd00:10:244:2::/64", "gateway": "fe80::1", "dev": "eth0",
                       "protocol": "12", "metric": 1024, "flags": [], "pref": "medium"}]
    bird = [r for r in bird if r.get("protocol") != "193"]
    result = wg.plan(live(routes6=bird), want(), PARAMS)
    assert result["commands"] == [] and "fd00:10:244:2::/64 (protocol 12)" in result["error"]
    # podnet_routes' own (191) is taken over, as for IPv4.
    mine = [dict(r, protocol="191", dev="flannel.1") if r.get("protocol") == "193" else r for r in ROUTES6]
    assert commands(wg.plan(live(routes6=mine), want(), PARAMS)) == [
        "ip -6 route replace fd00:10:244:2::/64 dev flannel-wg proto 193"]


def test_removal_deletes_ipv6_routes_off_the_device():
    off = ROUTES6 + [{"dst": "fd00:99::/64", "gateway": "fd00:30:241::12", "dev": "eth0",
                      "protocol": "193", "metric": 1024, "flags": [], "pref": "medium"}]
    assert commands(wg.plan(live(routes6=off), None, PARAMS)) == [
        "systemctl stop podnet-wireguard-go-flannel-wg.service",
        "ip -6 route del fd00:99::/64 proto 193"]


def test_boot_step_restores_ipv6_and_the_peers_file_holds_both_families():
    script = wg.boot_script(want(), PARAMS, "/etc/podnet/wireguard/flannel-wg.conf")
    lines = script.splitlines()
    assert lines[lines.index("wg set flannel-wg private-key /etc/podnet/wireguard/private.key") + 1:] == [
        "ip addr replace 10.244.1.0/32 dev flannel-wg",
        "echo 0 > /proc/sys/net/ipv6/conf/flannel-wg/disable_ipv6",
        "ip -6 addr replace fd00:10:244:1::/128 dev flannel-wg nodad",
        "ip link set dev flannel-wg mtu 1420 up",
        "ip route replace 10.244.2.0/24 dev flannel-wg proto 193",
        "ip -6 route replace fd00:10:244:2::/64 dev flannel-wg proto 193",
        '( for peer in 10.244.2.0; do ping -c 1 -W 1 "$peer"; done ) >/dev/null 2>&1 &',
    ]
    conf = wg.conf_content(want())
    assert "Endpoint = [fd00:30:241::12]:51820" in conf
    assert "AllowedIPs = 10.244.2.0/24, fd00:10:244:2::/64" in conf
    # A peer with IPv6 pods only is kicked on its IPv6 address.
    v6only = dict(CONFIG, peers=[dict(PEER, allowed_ips=["fd00:10:244:2::/64"])])
    assert wg.boot_script(want(v6only), PARAMS, "/x").splitlines()[-1] == (
        '( for peer in fd00:10:244:2::; do ping -c 1 -W 1 "$peer"; done ) >/dev/null 2>&1 &')


@pytest.mark.parametrize("config, fragments", [
    (dict(CONFIG, address_ipv6="10.244.1.0/32"), ("podnet_wireguard_config.address_ipv6",
                                                  "'10.244.1.0/32'", "not an IPv6")),
    (dict(CONFIG, address_ipv6="fd00:10:244:1::"), ("address_ipv6", "/128")),
    (dict(CONFIG, mtu=1200), ("podnet_wireguard_config.mtu", "1280", "podnet_plan_underlay_mtu")),
    (dict(CONFIG, peers=[dict(PEER, endpoint="fd00:30:241::12:51820")]),
     ("n2's endpoint", "'fd00:30:241::12:51820'", "[IPv6]:port")),
    (dict(CONFIG, peers=[dict(PEER, endpoint="[fd00:30:241::12]:0")]), ("n2's endpoint", "port 1-65535")),
    (dict(CONFIG, peers=[dict(PEER, allowed_ips=["fd00:10:244:2::1/64"])]),
     ("n2's allowed IP", "'fd00:10:244:2::1/64'", "no host bits")),
    (dict(CONFIG, peers=[dict(PEER, allowed_ips="fd00:10:244:2::/64")]), ("n2's allowed_ips", "list")),
])
def test_dual_stack_config_meaning_checked(config, fragments):
    error = wg.check_config(config)
    for fragment in fragments:
        assert fragment in error, error


def test_ipv4_only_and_small_mtu_without_ipv6_still_accepted():
    assert wg.check_config(dict(CONFIG, address_ipv6=None, mtu=1200)) is None
    assert wg.check_config(CONFIG) is None


def test_role_variable_and_config_disagreeing_fail_before_any_host_is_touched():
    result = run_module("podnet_wireguard", dict(config=CONFIG, address_ipv6="fd00:10:244:9::/128"))
    assert result.get("failed"), result
    assert "podnet_wireguard_address_ipv6" in result["msg"] and "fd00:10:244:9::/128" in result["msg"]
    assert result.get("actions") in (None, [])
