# SPDX-License-Identifier: GPL-3.0-or-later
"""The podnet_routes module's pure steps: which route protocols podnet may claim,
checking the declared routes, and the plan from recorded ``ip -json -Numeric -4 route
show table main`` output to commands, files and the boot step. No host.
"""

import json
from unittest import mock

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.podnet.network.tests.unit.role_modules import load_module, load_module_utils

routes = load_module("podnet_routes")
host = load_module_utils("podnet_host")

# Recorded on a Debian 12 test host (iproute2 6.1): Docker's default route (proto boot,
# shown without "protocol"), the underlay's kernel route, podnet's host-gw and vxlan
# routes (191), and an administrator's static route (4).
ROUTE_SHOW = json.loads("""[
{"dst":"default","gateway":"172.31.2.1","dev":"eth0","flags":[]},
{"dst":"10.244.2.0/24","gateway":"10.244.2.0","dev":"flannel.1","protocol":"191","flags":["onlink"]},
{"dst":"10.244.3.0/24","gateway":"172.31.2.12","dev":"eth0","protocol":"191","flags":[]},
{"dst":"10.244.9.0/24","gateway":"172.31.2.12","dev":"eth0","protocol":"4","flags":[]},
{"dst":"172.31.2.0/24","dev":"eth0","protocol":"2","scope":"253","prefsrc":"172.31.2.11","flags":[]}
]""")
ROUTES = [
    {"dest": "10.244.2.0/24", "via": "10.244.2.0", "dev": "vxlan", "onlink": True},
    {"dest": "10.244.3.0/24", "via": "172.31.2.12", "dev": "underlay", "onlink": False},
]
# Debian 12's /etc/iproute2/rt_protos (iproute2 6.1), as shipped.
DEBIAN_RT_PROTOS = """#
# Reserved protocols.
#
0\tunspec
1\tredirect
2\tkernel
3\tboot
4\tstatic
8\tgated
9\tra
10\tmrt
11\tzebra
12\tbird
13\tdnrouted
14\txorp
15\tntk
16\tdhcp
18\tkeepalived
42\tbabel
99\topenr
186\tbgp
187\tisis
188\tospf
189\trip
192\teigrp
"""
NAMED = host.parse_rt_protos([DEBIAN_RT_PROTOS, "191 podnet\n"])


def want(declared=ROUTES, device="flannel.1"):  # pylint: disable=dangerous-default-value  # never mutated
    wanted, error = routes.check_wanted("present", declared, device)
    assert error is None, error
    return wanted


# --- which route protocols podnet may claim (the defect: preflight said 5-255, the rest 1-255)
@pytest.mark.parametrize("protocol, name", [(0, "unspec"), (1, "redirect"), (2, "kernel"),
                                            (3, "boot"), (4, "static")])
def test_the_kernels_own_protocols_are_refused(protocol, name):
    error = routes.check_protocol(protocol, NAMED)
    assert error.startswith("podnet_routes_protocol=%d is the kernel's own" % protocol)
    assert repr(name) in error and "from 5 to 255" in error


@pytest.mark.parametrize("protocol", [-1, 256, 1000, True, "191"])
def test_numbers_outside_a_route_protocol_are_refused(protocol):
    error = routes.check_protocol(protocol, NAMED)
    assert error.startswith("podnet_routes_protocol=") and "from 5 to 255" in error


@pytest.mark.parametrize("protocol, name", [(12, "bird"), (16, "dhcp"), (186, "bgp"), (192, "eigrp")])
def test_a_protocol_the_host_names_for_a_routing_daemon_is_refused(protocol, name):
    error = routes.check_protocol(protocol, NAMED)
    assert "is route protocol %r on this host" % name in error and "delete %s's routes" % name in error


@pytest.mark.parametrize("protocol", [5, 7, 17, 191, 200, 255])
def test_free_protocols_from_5_to_255_are_accepted(protocol):
    assert routes.check_protocol(protocol, NAMED) is None
    assert routes.check_protocol(protocol) is None


def test_rt_protos_files_are_parsed_like_iproute2_does():
    assert NAMED[3] == "boot" and NAMED[186] == "bgp" and NAMED[191] == "podnet"
    assert host.parse_rt_protos(["0x20 hex # comment\n# 33 no\n\n44\n"]) == {32: "hex"}


def run_main(args):
    """Run the module's main() with ARGS; returns (result, commands run)."""
    calls = []

    def fake_run(self, argv, **kwargs):
        calls.append(argv)
        return 0, "[]", ""

    class Done(Exception):
        pass

    def leave(self, **result):
        raise Done(result)

    with patch_module_args(args), \
            mock.patch.object(basic.AnsibleModule, "run_command", fake_run), \
            mock.patch.object(basic.AnsibleModule, "fail_json", leave), \
            mock.patch.object(basic.AnsibleModule, "exit_json", leave):
        with pytest.raises(Done) as done:
            routes.main()
    return done.value.args[0], calls


@pytest.mark.parametrize("state", ["present", "absent"])
def test_the_module_refuses_a_kernel_protocol_before_reading_or_changing_anything(state):
    # With protocol 3 (boot), absent would delete every route `ip route add` made.
    result, calls = run_main({"protocol": 3, "state": state, "routes": ROUTES})
    assert "podnet_routes_protocol=3 is the kernel's own route protocol 'boot'" in result.get("msg", "")
    assert calls == []


# --- checking the declared routes --------------------------------------------------------
def test_the_host_views_routes_are_accepted():
    assert want() == {
        "10.244.2.0/24": {"via": "10.244.2.0", "dev": "flannel.1", "onlink": True},
        "10.244.3.0/24": {"via": "172.31.2.12", "dev": None, "onlink": False},
    }


@pytest.mark.parametrize("declared, needle", [
    ([{"dest": "10.244.3.1/24", "via": "172.31.2.12", "dev": "underlay"}], "podnet_routes_routes[0].dest="),
    ([{"dest": "10.244.3.0/24", "via": "172.31.2", "dev": "underlay"}], "podnet_routes_routes[0].via="),
    ([{"dest": "10.244.3.0/24", "via": "172.31.2.12", "dev": "eth0"}], "podnet_routes_routes[0].dev="),
    ([{"dest": "10.244.3.0/24", "via": "172.31.2.12", "dev": "underlay", "onlink": True}],
     "onlink needs a device"),
    ([{"dest": "10.244.3.0/24"}], "podnet_routes_routes[0]="),
    (ROUTES + [{"dest": "10.244.3.0/24", "via": "172.31.2.13", "dev": "underlay"}],
     "declares destination 10.244.3.0/24 twice"),
    ("10.244.3.0/24", "podnet_routes_routes="),
])
def test_a_bad_route_is_named_with_the_fix(declared, needle):
    wanted, error = routes.check_wanted("present", declared, "flannel.1")
    assert wanted is None and needle in error


def test_a_bad_vxlan_device_is_named_only_when_a_route_uses_it():
    dummy, error = routes.check_wanted("present", ROUTES, "not a link name")
    assert error.startswith("podnet_routes_vxlan_device=")
    assert routes.check_wanted("present", ROUTES[1:], None)[1] is None


def test_absent_declares_nothing():
    assert routes.check_wanted("absent", "junk", None) == ({}, None)


# --- the plan ----------------------------------------------------------------------------
def test_a_converged_host_needs_no_command():
    result = routes.plan(ROUTE_SHOW, want(), 191)
    assert result["error"] is None and result["commands"] == []
    assert result["summary"] == {"add": 0, "replace": 0, "delete": 0}
    assert sorted(result["before"]) == ["10.244.2.0/24", "10.244.3.0/24"]
    assert "route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink proto 191\n" in \
        result["files"][routes.ROUTES_BATCH]
    assert "route replace 10.244.3.0/24 via 172.31.2.12 proto 191\n" in result["files"][routes.ROUTES_BATCH]
    assert result["files"][routes.PROTO_FILE].endswith("191 podnet\n")
    assert result["boot"].endswith("ip -force -batch /etc/podnet/routes.batch\n")


def test_a_fresh_host_gets_every_route_added():
    result = routes.plan([r for r in ROUTE_SHOW if r.get("protocol") != "191"], want(), 191)
    assert result["commands"] == [
        ["ip", "route", "add", "10.244.2.0/24", "via", "10.244.2.0", "dev", "flannel.1", "onlink",
         "proto", "191"],
        ["ip", "route", "add", "10.244.3.0/24", "via", "172.31.2.12", "proto", "191"],
    ]


def test_changed_routes_are_replaced_and_undeclared_ones_deleted():
    declared = [
        {"dest": "10.244.3.0/24", "via": "172.31.2.13", "dev": "underlay", "onlink": False},
        {"dest": "10.244.4.0/24", "via": "172.31.2.14", "dev": "underlay", "onlink": False},
    ]
    extra = ROUTE_SHOW + [{"dst": "10.244.3.0/24", "gateway": "172.31.2.12", "dev": "eth0",
                           "protocol": "191", "metric": 100, "flags": []},
                          {"dst": "10.244.5.0/24", "dev": "eth0", "protocol": "191", "type": "blackhole",
                           "flags": []}]
    result = routes.plan(extra, want(declared), 191)
    assert result["commands"] == [
        ["ip", "route", "del", "10.244.2.0/24", "proto", "191", "table", "main", "metric", "0"],
        ["ip", "route", "del", "10.244.3.0/24", "proto", "191", "table", "main", "metric", "100"],
        ["ip", "route", "del", "blackhole", "10.244.5.0/24", "proto", "191", "table", "main", "metric", "0"],
        ["ip", "route", "replace", "10.244.3.0/24", "via", "172.31.2.13", "proto", "191"],
        ["ip", "route", "add", "10.244.4.0/24", "via", "172.31.2.14", "proto", "191"],
    ]
    assert result["summary"] == {"add": 1, "replace": 1, "delete": 3}


def test_a_destination_held_by_another_protocol_is_a_conflict_and_nothing_changes():
    declared = ROUTES + [{"dest": "10.244.9.0/24", "via": "172.31.2.19", "dev": "underlay"}]
    result = routes.plan(ROUTE_SHOW, want(declared), 191)
    assert result["error"].startswith("podnet_routes_routes collide with routes podnet does not own")
    assert "10.244.9.0/24" in result["error"] and "10.244.9.0/24" in result["conflicts"]
    assert result["commands"] == [] and result["files"] == {} and result["boot"] is None


def test_absent_deletes_only_podnets_routes_files_and_boot_step():
    result = routes.plan(ROUTE_SHOW, {}, 191, state="absent")
    assert result["commands"] == [
        ["ip", "route", "del", "10.244.2.0/24", "proto", "191", "table", "main", "metric", "0"],
        ["ip", "route", "del", "10.244.3.0/24", "proto", "191", "table", "main", "metric", "0"],
    ]
    assert result["files"] == {routes.ROUTES_BATCH: None, routes.PROTO_FILE: None}
    assert result["boot"] is None


def test_another_protocol_number_owns_other_routes():
    # the static route (4) is never podnet's, whatever podnet's number
    result = routes.plan(ROUTE_SHOW, {}, 200, state="absent")
    assert result["commands"] == [] and result["before"] == {}


def test_the_boot_order_puts_the_routes_after_the_overlay():
    assert (routes.BOOT_ORDER, routes.BOOT_CONCERN) == (40, "routes")


def test_defaults_specs_and_docs_agree_on_the_protocol():
    import os
    import yaml
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    role = os.path.join(root, "roles", "podnet_routes")
    with open(os.path.join(role, "defaults", "main.yml"), encoding="utf-8") as handle:
        defaults_text = handle.read()
    with open(os.path.join(role, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)["argument_specs"]["main"]["options"]["podnet_routes_protocol"]
    doc = yaml.safe_load(routes.DOCUMENTATION)["options"]["protocol"]
    assert yaml.safe_load(defaults_text)["podnet_routes_protocol"] == spec["default"] == doc["default"] == 191
    assert routes.check_protocol(191, NAMED) is None
    for text in (defaults_text, " ".join(spec["description"]), " ".join(doc["description"])):
        assert "5-255" in text or "5 to 255" in text, text
        assert "1-255" not in text


# --- IPv6 (dual stack) -------------------------------------------------------------------
# `ip -json -Numeric -6 route show table main` on a Debian 12 test host (iproute2 6.1, a
# Docker network with IPv6): podnet's host-gw and vxlan routes (191, metric 1024 as `ip
# -6 route add` gives them), an administrator's static route (4), the kernel's connected
# and link-local routes (metric 256) and Docker's default route.
ROUTE_SHOW6 = json.loads("""[
{"dst":"fd00:10:244:2::/64","gateway":"fd00:10:244:2::","dev":"flannel.1","protocol":"191","metric":1024,"flags":["onlink"],"pref":"medium"},
{"dst":"fd00:10:244:3::/64","gateway":"fd42:24:3::12","dev":"eth0","protocol":"191","metric":1024,"flags":[],"pref":"medium"},
{"dst":"fd00:10:244:9::/64","gateway":"fd42:24:3::12","dev":"eth0","protocol":"4","metric":1024,"flags":[],"pref":"medium"},
{"dst":"fd42:24:3::/64","dev":"eth0","protocol":"2","metric":256,"flags":[],"pref":"medium"},
{"dst":"fe80::/64","dev":"eth0","protocol":"2","metric":256,"flags":[],"pref":"medium"},
{"dst":"fe80::/64","dev":"flannel.1","protocol":"2","metric":256,"flags":[],"pref":"medium"},
{"dst":"default","gateway":"fd42:24:3::1","dev":"eth0","metric":1024,"flags":[],"pref":"medium"}
]""")
ROUTES6 = [
    {"dest": "fd00:10:244:2::/64", "via": "fd00:10:244:2::", "dev": "vxlan", "onlink": True},
    {"dest": "fd00:10:244:3::/64", "via": "fd42:24:3::12", "dev": "underlay", "onlink": False},
]


def test_ipv6_routes_share_the_list_and_take_their_own_family():
    assert want(ROUTES + ROUTES6) == {
        "10.244.2.0/24": {"via": "10.244.2.0", "dev": "flannel.1", "onlink": True},
        "10.244.3.0/24": {"via": "172.31.2.12", "dev": None, "onlink": False},
        "fd00:10:244:2::/64": {"via": "fd00:10:244:2::", "dev": "flannel.1", "onlink": True},
        "fd00:10:244:3::/64": {"via": "fd42:24:3::12", "dev": None, "onlink": False},
    }
    # dev names the device, not the family: vxlan is flannel.1 (IPv4 underlay) even for
    # an IPv6 route and even when an IPv6-underlay device is given
    wanted, error = routes.check_wanted("present", ROUTES + ROUTES6, "flannel.1", "flannel-v6.1")
    assert error is None and wanted["fd00:10:244:2::/64"]["dev"] == "flannel.1"
    assert wanted["10.244.2.0/24"]["dev"] == "flannel.1"


# Dual stack over tunnels: flannel.1 runs over the IPv4 underlay, flannel-v6.1 over the
# IPv6 one; either carries both pod families.
ROUTES_TUNNELS = [
    {"dest": "10.244.2.0/24", "via": "10.244.2.0", "dev": "vxlan", "onlink": True},
    {"dest": "fd00:10:244:2::/64", "via": "fd00:10:244:2::", "dev": "vxlan", "onlink": True},
    {"dest": "10.244.3.0/24", "via": "10.244.3.0", "dev": "vxlan_ipv6", "onlink": True},
    {"dest": "fd00:10:244:3::/64", "via": "fd00:10:244:3::", "dev": "vxlan_ipv6", "onlink": True},
]


def test_dev_vxlan_ipv6_routes_either_family_over_the_ipv6_underlay_device():
    wanted, error = routes.check_wanted("present", ROUTES_TUNNELS, "flannel.1", "flannel-v6.1")
    assert error is None
    assert dict((d, w["dev"]) for d, w in wanted.items()) == {
        "10.244.2.0/24": "flannel.1", "fd00:10:244:2::/64": "flannel.1",
        "10.244.3.0/24": "flannel-v6.1", "fd00:10:244:3::/64": "flannel-v6.1"}
    assert all(w["onlink"] for w in wanted.values())
    result = routes.plan([], wanted, 191, live6=[])
    assert result["commands"] == [
        ["ip", "route", "add", "10.244.2.0/24", "via", "10.244.2.0", "dev", "flannel.1", "onlink", "proto", "191"],
        ["ip", "route", "add", "10.244.3.0/24", "via", "10.244.3.0", "dev", "flannel-v6.1", "onlink", "proto", "191"],
        ["ip", "-6", "route", "add", "fd00:10:244:2::/64", "via", "fd00:10:244:2::", "dev", "flannel.1", "onlink",
         "proto", "191"],
        ["ip", "-6", "route", "add", "fd00:10:244:3::/64", "via", "fd00:10:244:3::", "dev", "flannel-v6.1",
         "onlink", "proto", "191"],
    ]
    assert "route replace 10.244.3.0/24 via 10.244.3.0 dev flannel-v6.1 onlink proto 191\n" in (
        result["files"][routes.ROUTES_BATCH])
    # the IPv6-underlay device is needed only when some route uses it
    assert routes.check_wanted("present", ROUTES_TUNNELS[:2], "flannel.1")[1] is None


@pytest.mark.parametrize("declared, needle", [
    ([{"dest": "10.244.3.0/24", "via": "fd00:10:244:3::", "dev": "vxlan_ipv6"}],
     "podnet_routes_routes[0].via='fd00:10:244:3::' (10.244.3.0/24) is not an IPv4 address"),
    ([{"dest": "fd00:10:244:3::/64", "via": "10.244.3.0", "dev": "vxlan"}],
     "podnet_routes_routes[0].via='10.244.3.0' (fd00:10:244:3::/64) is not an IPv6 address"),
    ([{"dest": "10.244.3.0/24", "via": "10.244.3.0", "dev": "vxlan6"}], "or vxlan_ipv6 (over"),
])
def test_a_tunnel_route_of_mixed_families_or_unknown_dev_is_named(declared, needle):
    wanted, error = routes.check_wanted("present", declared, "flannel.1", "flannel-v6.1")
    assert wanted is None and needle in error, error


@pytest.mark.parametrize("declared, needle", [
    ([{"dest": "fd00:10:244:3::1/64", "via": "fd42:24:3::12"}], "is not an IPv6 network"),
    ([{"dest": "fd00:10:244:3::/64", "via": "172.31.2.12"}], "podnet_routes_routes[0].via="),
    ([{"dest": "10.244.3.0/24", "via": "fd42:24:3::12"}], "is not an IPv4 address"),
    ([{"dest": "fd00:10:244:3::/64", "via": "fe80::1"}], "is link-local"),
    (ROUTES6 + [{"dest": "fd00:10:244:3:0::/64", "via": "fd42:24:3::13"}],
     "declares destination fd00:10:244:3::/64 twice"),
])
def test_a_bad_ipv6_route_is_named_with_the_fix(declared, needle):
    wanted, error = routes.check_wanted("present", declared, "flannel.1")
    assert wanted is None and needle in error


@pytest.mark.parametrize("device6", ["no such name", None])
def test_a_bad_or_missing_ipv6_underlay_vxlan_device_is_named(device6):
    dummy, error = routes.check_wanted("present", ROUTES_TUNNELS, "flannel.1", device6)
    assert error.startswith("podnet_routes_vxlan_device_ipv6=%r" % device6)
    assert "some route has dev vxlan_ipv6" in error and "flannel-v6.<vni>" in error


def test_a_converged_dual_stack_host_needs_no_command():
    result = routes.plan(ROUTE_SHOW, want(ROUTES + ROUTES6), 191, live6=ROUTE_SHOW6)
    assert result["error"] is None and result["commands"] == []
    assert result["before"]["fd00:10:244:3::/64"] == [
        {"via": "fd42:24:3::12", "dev": "eth0", "onlink": False, "metric": 1024}]
    batch = result["files"][routes.ROUTES_BATCH]
    assert batch.endswith(
        "route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink proto 191\n"
        "route replace 10.244.3.0/24 via 172.31.2.12 proto 191\n"
        "route replace fd00:10:244:2::/64 via fd00:10:244:2:: dev flannel.1 onlink proto 191\n"
        "route replace fd00:10:244:3::/64 via fd42:24:3::12 proto 191\n")


def test_ipv6_routes_are_added_replaced_and_deleted_with_ip_6():
    declared = ROUTES + [
        {"dest": "fd00:10:244:3::/64", "via": "fd42:24:3::13", "dev": "underlay"},
        {"dest": "fd00:10:244:4::/64", "via": "fd42:24:3::14", "dev": "underlay"},
    ]
    live6 = ROUTE_SHOW6 + [{"dst": "fd00:10:244:5::/64", "dev": "lo", "protocol": "191", "metric": 1024,
                            "type": "blackhole", "flags": [], "pref": "medium"}]
    result = routes.plan(ROUTE_SHOW, want(declared), 191, live6=live6)
    assert result["commands"] == [
        ["ip", "-6", "route", "del", "fd00:10:244:2::/64", "proto", "191", "table", "main", "metric", "1024"],
        ["ip", "-6", "route", "del", "blackhole", "fd00:10:244:5::/64", "proto", "191", "table", "main",
         "metric", "1024"],
        ["ip", "-6", "route", "replace", "fd00:10:244:3::/64", "via", "fd42:24:3::13", "proto", "191"],
        ["ip", "-6", "route", "add", "fd00:10:244:4::/64", "via", "fd42:24:3::14", "proto", "191"],
    ]
    assert result["summary"] == {"add": 1, "replace": 1, "delete": 2}


def test_ipv4_only_declarations_delete_podnets_stale_ipv6_routes_and_nothing_else():
    result = routes.plan(ROUTE_SHOW, want(), 191, live6=ROUTE_SHOW6)
    assert result["commands"] == [
        ["ip", "-6", "route", "del", "fd00:10:244:2::/64", "proto", "191", "table", "main", "metric", "1024"],
        ["ip", "-6", "route", "del", "fd00:10:244:3::/64", "proto", "191", "table", "main", "metric", "1024"],
    ]
    # the IPv4 part is exactly what it was without IPv6
    assert routes.plan(ROUTE_SHOW, want(), 191, live6=[]) == routes.plan(ROUTE_SHOW, want(), 191)
    absent = routes.plan(ROUTE_SHOW, {}, 191, state="absent", live6=ROUTE_SHOW6)["commands"]
    assert [c[:5] for c in absent] == [["ip", "route", "del", "10.244.2.0/24", "proto"],
                                       ["ip", "route", "del", "10.244.3.0/24", "proto"],
                                       ["ip", "-6", "route", "del", "fd00:10:244:2::/64"],
                                       ["ip", "-6", "route", "del", "fd00:10:244:3::/64"]]


def test_an_ipv6_destination_held_by_another_protocol_is_a_conflict():
    declared = ROUTES6 + [{"dest": "fd00:10:244:9::/64", "via": "fd42:24:3::19", "dev": "underlay"}]
    result = routes.plan(ROUTE_SHOW, want(declared), 191, live6=ROUTE_SHOW6)
    assert "fd00:10:244:9::/64" in result["error"] and result["commands"] == []


def test_an_ipv6_onlink_route_moving_to_the_other_vxlan_device_is_deleted_then_added():
    """The kernel refuses `ip -6 route replace ... dev flannel-v6.1 onlink` while the route
    being replaced reaches the gateway over flannel.1 ("Nexthop has invalid gateway or
    device mismatch", seen on a test host); an IPv4 route is replaced in place."""
    wanted, error = routes.check_wanted("present", ROUTES_TUNNELS[:1] + [
        {"dest": "fd00:10:244:2::/64", "via": "fd00:10:244:2::", "dev": "vxlan_ipv6", "onlink": True}],
        "flannel.1", "flannel-v6.1")
    assert error is None
    wanted["10.244.2.0/24"]["dev"] = "flannel-v6.1"
    result = routes.plan(ROUTE_SHOW, wanted, 191, live6=ROUTE_SHOW6)
    assert result["commands"] == [
        ["ip", "route", "del", "10.244.3.0/24", "proto", "191", "table", "main", "metric", "0"],
        ["ip", "-6", "route", "del", "fd00:10:244:3::/64", "proto", "191", "table", "main", "metric", "1024"],
        ["ip", "route", "replace", "10.244.2.0/24", "via", "10.244.2.0", "dev", "flannel-v6.1", "onlink", "proto",
         "191"],
        ["ip", "-6", "route", "del", "fd00:10:244:2::/64", "proto", "191", "table", "main", "metric", "1024"],
        ["ip", "-6", "route", "add", "fd00:10:244:2::/64", "via", "fd00:10:244:2::", "dev", "flannel-v6.1", "onlink",
         "proto", "191"],
    ]
    assert result["summary"] == {"add": 0, "replace": 2, "delete": 2}
