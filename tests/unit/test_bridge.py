# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet_bridge's pure steps without a host: the inputs' meaning (messages name the role
variables), the live state parsed from recorded ``ip -json`` output, the plan of minimal
changes, the batch file and the boot step that podnet.service replays.

Who owns a link (podnet's mark, an older podnet's batch file, adopt) is tested in
test_link_ownership.py.
"""

import os
import subprocess

import pytest
import yaml
from ansible_collections.podnet.network.tests.unit.role_modules import load_module

bridge = load_module("podnet_bridge")
MARK = "podnet-owned"

# `ip -json -details link show dev cbr0` and `ip -json -4 addr show dev cbr0` on a test
# host (Debian 12's iproute2 6.1), trimmed to the keys the module reads and a few more.
IP_LINK_CBR0 = [{
    "ifindex": 2, "ifname": "cbr0", "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
    "mtu": 1500, "qdisc": "noqueue", "operstate": "UNKNOWN", "link_type": "ether",
    "address": "52:a7:a1:d3:7a:a7", "min_mtu": 68, "max_mtu": 65535,
    "linkinfo": {"info_kind": "bridge", "info_data": {"forward_delay": 0, "hello_time": 200,
                                                      "stp_state": 0, "vlan_filtering": 0}},
    "ifalias": "podnet-owned",
}]
IP_ADDR_CBR0 = [{
    "ifindex": 2, "ifname": "cbr0", "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
    "mtu": 1500, "addr_info": [{"family": "inet", "local": "10.244.1.1", "prefixlen": 24,
                                "scope": "global", "label": "cbr0"}],
}]
# a bridge made with `ip link add br1 type bridge` (down, no alias, STP's forward delay)
IP_LINK_BR1 = [{
    "ifindex": 3, "ifname": "br1", "flags": ["BROADCAST", "MULTICAST"], "mtu": 1500,
    "linkinfo": {"info_kind": "bridge", "info_data": {"forward_delay": 1500}},
}]


def test_live_state_is_parsed_from_ip_json():
    assert bridge.parse_bridge(IP_LINK_CBR0, IP_ADDR_CBR0) == {
        "kind": "bridge", "mtu": 1500, "up": True, "forward_delay": 0,
        "addresses": ["10.244.1.1/24"], "alias": MARK,
    }
    assert bridge.parse_bridge(IP_LINK_BR1, []) == {
        "kind": "bridge", "mtu": 1500, "up": False, "forward_delay": 1500,
        "addresses": [], "alias": "",
    }
    assert bridge.parse_bridge([], []) is None


def test_a_converged_bridge_needs_no_command():
    before = bridge.parse_bridge(IP_LINK_CBR0, IP_ADDR_CBR0)
    plan = bridge.plan_bridge("cbr0", before, "present", "10.244.1.1/24", 1500)
    assert plan["commands"] == [] and plan["error"] is None


def test_only_what_differs_changes_and_the_old_subnet_goes_first():
    before = bridge.parse_bridge(IP_LINK_CBR0, IP_ADDR_CBR0)
    plan = bridge.plan_bridge("cbr0", before, "present", "10.244.7.1/24", 1450)
    assert plan["commands"] == [
        ["link", "set", "dev", "cbr0", "mtu", "1450"],
        ["addr", "del", "10.244.1.1/24", "dev", "cbr0"],
        ["addr", "add", "10.244.7.1/24", "dev", "cbr0"],
    ]


def test_a_missing_bridge_is_created_marked_configured_and_up():
    plan = bridge.plan_bridge("cbr0", None, "present", "10.244.1.1/24", 1450)
    assert plan["commands"] == [
        ["link", "add", "cbr0", "type", "bridge", "forward_delay", "0"],
        ["link", "set", "dev", "cbr0", "alias", MARK],
        ["link", "set", "dev", "cbr0", "mtu", "1450"],
        ["addr", "add", "10.244.1.1/24", "dev", "cbr0"],
        ["link", "set", "dev", "cbr0", "up"],
    ]


@pytest.mark.parametrize("address, mtu, normalised", [
    ("10.244.1.1/24", 1450, "10.244.1.1/24"),
    ("10.244.1.1/255.255.255.0", "1450", "10.244.1.1/24"),
    ("10.244.1.129/25", 68, "10.244.1.129/25"),
    ("10.244.1.0/31", 65535, "10.244.1.0/31"),
])
def test_good_inputs_pass_and_are_normalised(address, mtu, normalised):
    assert bridge.check_params("cbr0", "present", address, mtu) == (None, normalised, int(mtu))


@pytest.mark.parametrize("name, address, mtu, variable, hint", [
    ("cbr0-much-too-long", "10.244.1.1/24", 1500, "podnet_bridge_name=", "1-15 characters"),
    ("cb r0", "10.244.1.1/24", 1500, "podnet_bridge_name=", "1-15 characters"),
    ("cbr0", "", 1500, "podnet_bridge_address=", "10.244.1.1/24"),
    ("cbr0", "10.244.1.1", 1500, "podnet_bridge_address=", "host/prefix"),
    ("cbr0", "10.244.1.0/24", 1500, "podnet_bridge_address=10.244.1.0/24", "10.244.1.1/24"),
    ("cbr0", "10.244.1.255/24", 1500, "podnet_bridge_address=", "broadcast"),
    ("cbr0", "fd00::1/64", 1500, "podnet_bridge_address=", "IPv4"),
    ("cbr0", "10.244.1.1/24", 12, "podnet_bridge_mtu=12", "between 68 and 65535"),
    ("cbr0", "10.244.1.1/24", "jumbo", "podnet_bridge_mtu='jumbo'", "between 68 and 65535"),
    ("cbr0", "10.244.1.1/24", True, "podnet_bridge_mtu=True", "integer"),
])
def test_bad_inputs_are_refused_naming_the_role_variable(name, address, mtu, variable, hint):
    error, address, mtu = bridge.check_params(name, "present", address, mtu)
    assert variable in error and hint in error
    assert address is None and mtu is None


def test_absent_needs_only_a_valid_name():
    assert bridge.check_params("cbr0", "absent", None, None) == (None, None, None)
    assert "podnet_bridge_name=" in bridge.check_params("", "absent")[0]


def test_batch_file_is_deterministic_and_replays_the_declared_state():
    text = bridge.batch_content("cbr0", "10.244.1.1/24", 1450)
    assert text == bridge.batch_content("cbr0", "10.244.1.1/24", 1450)
    commands = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert commands == [
        "link set dev cbr0 alias %s" % MARK,
        "link set dev cbr0 type bridge forward_delay 0",
        "link set dev cbr0 mtu 1450",
        "addr replace 10.244.1.1/24 dev cbr0",
        "link set dev cbr0 up",
    ]
    assert "podnet-bridge.service" not in text


def _run_boot_step(tmp_path, name, link_exists):
    """Run the boot step with /bin/sh -e (as podnet.service does) and a fake `ip` that
    logs its arguments; `ip link show` succeeds only when LINK_EXISTS."""
    log = tmp_path / "ip.log"
    fake = tmp_path / "ip"
    fake.write_text(
        "#!/bin/sh\necho \"$*\" >> %s\n"
        "if [ \"$1 $2\" = \"link show\" ]; then exit %d; fi\nexit 0\n" % (log, 0 if link_exists else 1)
    )
    fake.chmod(0o755)
    script = tmp_path / "20-bridge.sh"
    script.write_text(bridge.boot_script(name, "/etc/podnet/bridge.batch"))
    env = dict(os.environ, PATH="%s:%s" % (tmp_path, os.environ.get("PATH", "")))
    result = subprocess.run(["/bin/sh", "-e", str(script)], env=env, capture_output=True, text=True,
                            check=False)
    calls = log.read_text().splitlines() if log.exists() else []
    return result, calls


def test_boot_step_creates_the_marked_bridge_then_applies_the_batch_file(tmp_path):
    # a name no real link has: the step must take the "missing" branch on any machine
    result, calls = _run_boot_step(tmp_path, "pn-unit-br0", link_exists=False)
    assert result.returncode == 0, result.stderr
    assert calls == [
        "link show dev pn-unit-br0",
        "link add pn-unit-br0 type bridge forward_delay 0",
        "link set dev pn-unit-br0 alias %s" % MARK,
        "-force -batch /etc/podnet/bridge.batch",
    ]


def test_boot_step_refuses_a_link_without_the_mark_and_leaves_it_alone(tmp_path):
    # `ip link show` finds the link, but it has no podnet-owned alias in /sys
    result, calls = _run_boot_step(tmp_path, "pn-unit-br0", link_exists=True)
    assert result.returncode == 1
    assert "pn-unit-br0 exists without the alias %s" % MARK in result.stderr
    assert calls == ["link show dev pn-unit-br0"]


def test_module_documents_every_option_and_its_boot_wiring():
    doc = yaml.safe_load(bridge.DOCUMENTATION)
    assert set(doc["options"]) == {"name", "address", "mtu", "adopt", "persist_path", "state", "address_ipv6"}
    # check and diff mode: full, from the shared fragment
    assert doc["extends_documentation_fragment"] == ["podnet.network.attributes"]
    assert yaml.safe_load(bridge.EXAMPLES) and yaml.safe_load(bridge.RETURN)
    assert (bridge.BOOT_ORDER, bridge.BOOT_CONCERN, bridge.OLD_UNIT) == (20, "bridge", "podnet-bridge.service")


# --- IPv6 (dual stack) -------------------------------------------------------------------
# `ip -json -6 addr show dev cbr0` on a test host after podnet added fd00:10:244:1::1/64
# (nodad: no "tentative" flag) next to the kernel's link-local address.
IP_ADDR6_CBR0 = [{
    "ifindex": 2, "ifname": "cbr0", "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
    "mtu": 1500, "addr_info": [
        {"family": "inet6", "local": "fd00:10:244:1::1", "prefixlen": 64, "scope": "global",
         "nodad": True, "valid_life_time": 4294967295, "preferred_life_time": 4294967295},
        {"family": "inet6", "local": "fe80::50a7:a1ff:fed3:7aa7", "prefixlen": 64, "scope": "link",
         "valid_life_time": 4294967295, "preferred_life_time": 4294967295}],
}]
V6 = "fd00:10:244:1::1/64"


@pytest.mark.parametrize("given, normalised", [
    (None, None),
    ("fd00:10:244:1::1/64", V6),
    ("FD00:10:244:1:0:0:0:1/64", V6),
    ("2001:db8:1::1/64", "2001:db8:1::1/64"),
])
def test_the_ipv6_address_is_optional_and_normalised_as_ip_prints_it(given, normalised):
    assert bridge.check_ipv6(given) == (None, normalised)


@pytest.mark.parametrize("given, hint", [
    ("fd00:10:244:1::1", "host/prefix"),
    ("10.244.1.1/24", "IPv6 host/prefix"),
    ("fd00:10:244:1::/64", "subnet-router anycast"),
])
def test_a_bad_ipv6_address_is_refused_naming_the_role_variable(given, hint):
    error, address = bridge.check_ipv6(given)
    assert error.startswith("podnet_bridge_address_ipv6=") and hint in error and address is None


def test_global_ipv6_addresses_are_read_link_local_is_never_podnets():
    assert bridge.parse_ipv6_addresses(IP_ADDR6_CBR0) == [V6]
    assert bridge.parse_ipv6_addresses([]) == []


def test_a_new_bridge_gets_its_ipv6_address_without_dad_before_it_comes_up():
    # A new link takes the host's default disable_ipv6 (1 in a Docker container without
    # IPv6 by default): IPv6 is switched on on the bridge first.
    plan = bridge.plan_bridge("cbr0", None, "present", "10.244.1.1/24", 1450, address_ipv6=V6)
    assert plan["commands"][-3:] == [["sysctl", "/proc/sys/net/ipv6/conf/cbr0/disable_ipv6", "0"],
                                     ["addr", "add", V6, "dev", "cbr0", "nodad"],
                                     ["link", "set", "dev", "cbr0", "up"]]
    before = bridge.parse_bridge(IP_LINK_CBR0, IP_ADDR_CBR0)
    assert bridge.plan_bridge("cbr0", before, "present", "10.244.1.1/24", 1500, address_ipv6=V6,
                              live_ipv6=[], disable_ipv6="1")["commands"] == [
        ["sysctl", "/proc/sys/net/ipv6/conf/cbr0/disable_ipv6", "0"], ["addr", "add", V6, "dev", "cbr0", "nodad"]]


def test_the_boot_step_switches_ipv6_on_before_the_batch_only_for_a_dual_stack_bridge():
    assert "disable_ipv6" not in bridge.boot_script("cbr0", "/etc/podnet/bridge.batch")
    lines = bridge.boot_script("cbr0", "/etc/podnet/bridge.batch", ipv6=True).splitlines()
    assert lines[-2:] == ["echo 0 > /proc/sys/net/ipv6/conf/cbr0/disable_ipv6",
                          "ip -force -batch /etc/podnet/bridge.batch"]


def test_ipv6_address_is_added_changed_and_removed_only_when_podnet_recorded_it():
    before = bridge.parse_bridge(IP_LINK_CBR0, IP_ADDR_CBR0)
    live = bridge.parse_ipv6_addresses(IP_ADDR6_CBR0)
    # converged
    assert bridge.plan_bridge("cbr0", before, "present", "10.244.1.1/24", 1500,
                              address_ipv6=V6, live_ipv6=live, recorded_ipv6=V6, disable_ipv6="0")["commands"] == []
    # missing on an IPv4-only bridge
    assert bridge.plan_bridge("cbr0", before, "present", "10.244.1.1/24", 1500,
                              address_ipv6=V6, live_ipv6=[], disable_ipv6="0")["commands"] == [
        ["addr", "add", V6, "dev", "cbr0", "nodad"]]
    # a new IPv6 subnet: podnet's old address goes first
    assert bridge.plan_bridge("cbr0", before, "present", "10.244.1.1/24", 1500,
                              address_ipv6="fd00:10:244:7::1/64", live_ipv6=live,
                              recorded_ipv6=V6, disable_ipv6="0")["commands"] == [
        ["addr", "del", V6, "dev", "cbr0"], ["addr", "add", "fd00:10:244:7::1/64", "dev", "cbr0", "nodad"]]
    # the option went away: podnet's recorded address is removed
    assert bridge.plan_bridge("cbr0", before, "present", "10.244.1.1/24", 1500,
                              live_ipv6=live, recorded_ipv6=V6)["commands"] == [["addr", "del", V6, "dev", "cbr0"]]
    # an IPv6 address podnet did not record is someone else's
    assert bridge.plan_bridge("cbr0", before, "present", "10.244.1.1/24", 1500,
                              live_ipv6=live, recorded_ipv6=None)["commands"] == []


def test_the_batch_file_persists_the_ipv6_address_and_tells_it_from_the_ipv4_one():
    text = bridge.batch_content("cbr0", "10.244.1.1/24", 1450, V6)
    commands = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert commands[-3:] == ["addr replace 10.244.1.1/24 dev cbr0",
                             "addr replace %s dev cbr0 nodad" % V6,
                             "link set dev cbr0 up"]
    assert bridge.recorded_address(text, "cbr0") == "10.244.1.1/24"
    assert bridge.recorded_address_ipv6(text, "cbr0") == V6
    assert bridge.recorded_address_ipv6(bridge.batch_content("cbr0", "10.244.1.1/24", 1450), "cbr0") is None
    assert bridge.batch_content("cbr0", "10.244.1.1/24", 1450, None) == \
        bridge.batch_content("cbr0", "10.244.1.1/24", 1450)
