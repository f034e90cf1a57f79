# SPDX-License-Identifier: GPL-3.0-or-later
"""The podnet_vxlan module with dual stack over tunnels: flannel.1 (IPv4 underlay) with an
IPv6 VTEP address and IPv6 neighbours, and flannel-v6.1 (IPv6 underlay) carrying both pod
families. Checks, parsers and the plan, fed with ``ip -json`` / ``bridge -json`` output
recorded on a Debian 12 test host (iproute2 6.1) that podnet_vxlan converged. No host.
"""

import copy
import json
import subprocess

import pytest
from ansible_collections.podnet.network.tests.unit.role_modules import load_module, load_module_utils

vxlan = load_module("podnet_vxlan")
concern = load_module_utils("podnet_concern_vxlan")

MARK = "podnet-owned"
DEVICE = {"device": "flannel.1", "vni": 1, "port": 8472, "local": "172.30.240.11",
          "vtep_ip": "10.244.1.0", "vtep_ip_ipv6": "fd00:10:244:1::", "vtep_mac": "0a:58:0a:f4:01:00",
          "mtu": 1450}
FDB = [{"mac": "0a:58:0a:f4:02:00", "dst": "172.30.240.12"}]
NEIGHBORS = [{"ip": "10.244.2.0", "mac": "0a:58:0a:f4:02:00"},
             {"ip": "fd00:10:244:2::", "mac": "0a:58:0a:f4:02:00"}]
DEVICE6 = {"device": "flannel-v6.1", "vni": 1, "port": 8472, "local": "fd00:30:240::11",
           "vtep_ip": "10.244.1.0", "vtep_ip_ipv6": "fd00:10:244:1::", "vtep_mac": "0e:58:0a:f4:01:00",
           "mtu": 1430}
FDB6 = [{"mac": "0e:58:0a:f4:02:00", "dst": "fd00:30:240::12"}]
NEIGHBORS6 = [{"ip": "10.244.2.0", "mac": "0e:58:0a:f4:02:00"},
              {"ip": "fd00:10:244:2::", "mac": "0e:58:0a:f4:02:00"}]

# `ip -json -details addr show` on a test host converged with both devices (the underlay
# eth0 and lo left out): IPv4 and IPv6 VTEP addresses on each, and the kernel's own
# link-local address once IPv6 is on.
ADDR_SHOW = json.loads("""[
{"ifindex":9,"ifname":"flannel.1","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,"qdisc":"noqueue",
 "operstate":"UNKNOWN","group":"default","txqlen":1000,"link_type":"ether","address":"0a:58:0a:f4:01:00",
 "broadcast":"ff:ff:ff:ff:ff:ff","promiscuity":0,"allmulti":0,"min_mtu":68,"max_mtu":65535,
 "linkinfo":{"info_kind":"vxlan","info_data":{"id":1,"local":"172.30.240.11","port_range":{"low":0,"high":0},
  "port":8472,"learning":false,"ttl":0,"df":"unset","ageing":300,"udp_csum":true,"udp_zero_csum6_tx":false,
  "udp_zero_csum6_rx":false}},"num_tx_queues":1,"num_rx_queues":1,"ifalias":"podnet-owned",
 "addr_info":[{"family":"inet","local":"10.244.1.0","prefixlen":32,"scope":"global","label":"flannel.1",
  "valid_life_time":4294967295,"preferred_life_time":4294967295},
  {"family":"inet6","local":"fd00:10:244:1::","prefixlen":128,"scope":"global","nodad":true,
  "valid_life_time":4294967295,"preferred_life_time":4294967295},
  {"family":"inet6","local":"fe80::858:aff:fef4:100","prefixlen":64,"scope":"link",
  "valid_life_time":4294967295,"preferred_life_time":4294967295}]},
{"ifindex":12,"ifname":"flannel-v6.1","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1430,
 "qdisc":"noqueue","operstate":"UNKNOWN","group":"default","txqlen":1000,"link_type":"ether",
 "address":"0e:58:0a:f4:01:00","broadcast":"ff:ff:ff:ff:ff:ff","promiscuity":0,"allmulti":0,"min_mtu":68,
 "max_mtu":65535,"linkinfo":{"info_kind":"vxlan","info_data":{"id":1,"local6":"fd00:30:240::11",
  "port_range":{"low":0,"high":0},"port":8472,"learning":false,"ttl":0,"df":"unset","ageing":300,
  "udp_csum":true,"udp_zero_csum6_tx":false,"udp_zero_csum6_rx":false}},"num_tx_queues":1,"num_rx_queues":1,
 "ifalias":"podnet-owned",
 "addr_info":[{"family":"inet","local":"10.244.1.0","prefixlen":32,"scope":"global","label":"flannel-v6.1",
  "valid_life_time":4294967295,"preferred_life_time":4294967295},
  {"family":"inet6","local":"fd00:10:244:1::","prefixlen":128,"scope":"global","nodad":true,
  "valid_life_time":4294967295,"preferred_life_time":4294967295},
  {"family":"inet6","local":"fe80::c58:aff:fef4:100","prefixlen":64,"scope":"link","tentative":true,
  "valid_life_time":4294967295,"preferred_life_time":4294967295}]}
]""")
# `ip -json -4 neigh show dev D`, `ip -json -6 neigh show dev D`, `bridge -json fdb show dev D`
NEIGH4 = {"flannel.1": json.loads('[{"dst":"10.244.2.0","lladdr":"0a:58:0a:f4:02:00","state":["PERMANENT"]}]'),
          "flannel-v6.1": json.loads('[{"dst":"10.244.2.0","lladdr":"0e:58:0a:f4:02:00","state":["PERMANENT"]}]')}
NEIGH6 = {"flannel.1": json.loads('[{"dst":"fd00:10:244:2::","lladdr":"0a:58:0a:f4:02:00","state":["PERMANENT"]}]'),
          "flannel-v6.1": json.loads(
              '[{"dst":"fd00:10:244:2::","lladdr":"0e:58:0a:f4:02:00","state":["PERMANENT"]}]')}
FDB_SHOW = {
    "flannel.1": json.loads(
        '[{"mac":"0a:58:0a:f4:02:00","dst":"172.30.240.12","flags":["self"],"state":"permanent"}]'),
    "flannel-v6.1": json.loads(
        '[{"mac":"0e:58:0a:f4:02:00","dst":"fd00:30:240::12","flags":["self"],"state":"permanent"}]'),
}


def by_name(entries):
    return {link["ifname"]: link for link in entries}


def found(name, disable_ipv6="0", tx=None, neigh6=None):
    neigh = NEIGH4.get(name, []) + (NEIGH6.get(name, []) if neigh6 is None else neigh6)
    return {"fdb": vxlan.parse_fdb(FDB_SHOW.get(name)), "neighbors": vxlan.parse_neighbors(neigh), "tx": tx,
            "disable_ipv6": disable_ipv6}


def live(addr_show=ADDR_SHOW, v4=None, v6=None, recorded=None):
    state = {"links": by_name(addr_show), "recorded": recorded or {}, "ipv6": v6 if v6 is not None else {}}
    state.update(v4 if v4 is not None else {"fdb": {}, "neighbors": {}, "tx": None, "disable_ipv6": None})
    return state


def converged():
    return live(v4=found("flannel.1"), v6=found("flannel-v6.1"))


def declared(tx=True, **given):
    """check_wanted's arguments: the declaration above with GIVEN ones replaced."""
    names = ("device", "fdb", "neighbors", "device6", "fdb6", "neighbors6")
    values = dict(zip(names, (DEVICE, FDB, NEIGHBORS, DEVICE6, FDB6, NEIGHBORS6)), **given)
    return ("present", values["device"], values["fdb"], values["neighbors"], tx, values["device6"], values["fdb6"],
            values["neighbors6"])


def want(**given):
    wanted, error = vxlan.check_wanted(*declared(**given))
    assert error is None, error
    return wanted


def without(*names):
    return [link for link in ADDR_SHOW if link["ifname"] not in names]


def changed(name, **fields):
    entries = copy.deepcopy(ADDR_SHOW)
    for link in entries:
        if link["ifname"] == name:
            link.update(fields)
    return entries


def error_of(**given):
    wanted, error = vxlan.check_wanted(*declared(**given))
    assert wanted is None and error
    return error


# --- checking the role's variables ------------------------------------------------------
def test_both_devices_are_accepted_and_normalised():
    wanted = want(device6=dict(DEVICE6, local="FD00:30:240:0::11", vni="1"))
    assert wanted["device"] == "flannel.1" and wanted["vtep_ip_ipv6"] == "fd00:10:244:1::"
    assert wanted["neighbors"] == [("10.244.2.0", "0a:58:0a:f4:02:00"), ("fd00:10:244:2::", "0a:58:0a:f4:02:00")]
    six = wanted["ipv6"]
    assert (six["device"], six["local"], six["vni"]) == ("flannel-v6.1", "fd00:30:240::11", 1)
    assert six["fdb"] == [("0e:58:0a:f4:02:00", "fd00:30:240::12")]
    assert six["tx_checksum_offload"] is True
    assert [w["device"] for w in vxlan.devices(wanted)] == ["flannel.1", "flannel-v6.1"]


def test_an_ipv4_only_declaration_has_no_ipv6_part():
    wanted = want(device=dict(DEVICE, vtep_ip_ipv6=None), neighbors=NEIGHBORS[:1], device6=None)
    assert wanted["vtep_ip_ipv6"] is None and wanted["ipv6"] is None
    assert [w["device"] for w in vxlan.devices(wanted)] == ["flannel.1"]


def test_a_node_with_only_an_ipv6_underlay_declares_only_the_ipv6_device():
    wanted = want(device=None, fdb=[], neighbors=[])
    assert wanted["device"] is None and wanted["ipv6"]["device"] == "flannel-v6.1"
    assert [w["device"] for w in vxlan.devices(wanted)] == ["flannel-v6.1"]
    # one VTEP family is enough on the IPv6-underlay device
    assert want(device=None, device6=dict(DEVICE6, vtep_ip=None), neighbors6=NEIGHBORS6[1:])["ipv6"]["vtep_ip"] is None


@pytest.mark.parametrize("key, value, needle", [
    ("local", "172.30.240.11", "podnet_vxlan_device_ipv6.local='172.30.240.11' is not valid: give this host's "
                               "own underlay IPv6 address"),
    ("vtep_ip_ipv6", "10.244.1.0", "podnet_vxlan_device_ipv6.vtep_ip_ipv6='10.244.1.0' is not valid: give an IPv6"),
    ("vtep_ip", "fd00:10:244:1::", "podnet_vxlan_device_ipv6.vtep_ip='fd00:10:244:1::' is not valid: give an IPv4"),
    ("mtu", 40, "underlay MTU - 70"),
    ("device", "flannel-v6.1-too-long", "e.g. flannel-v6.1"),
])
def test_a_bad_ipv6_underlay_device_key_is_named_with_the_fix(key, value, needle):
    assert needle in error_of(device6=dict(DEVICE6, **{key: value}))


def test_the_ipv6_underlay_device_needs_a_vtep_address_its_keys_and_a_name_of_its_own():
    error = error_of(device6=dict(DEVICE6, vtep_ip=None, vtep_ip_ipv6=None))
    assert error.startswith("podnet_vxlan_device_ipv6 has neither vtep_ip nor vtep_ip_ipv6: give at least one")
    error = error_of(device6={"device": "flannel-v6.1"})
    assert error.startswith("podnet_vxlan_device_ipv6 lacks vni, port, local, vtep_mac, mtu:")
    assert "null when no tunnel of this host runs over IPv6" in error
    assert "is not a dict" in error_of(device6="flannel-v6.1")
    error = error_of(device6=dict(DEVICE6, device="flannel.1"))
    assert error.startswith("podnet_vxlan_device_ipv6.device='flannel.1' is podnet_vxlan_device's name too")


def test_the_ipv4_underlay_device_checks_its_ipv6_vtep_address():
    error = error_of(device=dict(DEVICE, vtep_ip_ipv6="fd00:10:244:1::/64"))
    assert error.startswith("podnet_vxlan_device.vtep_ip_ipv6='fd00:10:244:1::/64' is not valid")


@pytest.mark.parametrize("kwargs, needle", [
    ({"fdb6": [{"mac": "0e:58:0a:f4:02:00", "dst": "172.30.240.12"}]}, "podnet_vxlan_fdb_ipv6[0]="),
    ({"fdb": [{"mac": "0a:58:0a:f4:02:00", "dst": "fd00:30:240::12"}]}, "podnet_vxlan_fdb[0]="),
    ({"neighbors6": NEIGHBORS6 + [{"ip": "fd00:10:244:2:0::", "mac": "0e:58:0a:f4:03:00"}]},
     "podnet_vxlan_neighbors_ipv6 declares IP fd00:10:244:2:: twice"),
    ({"neighbors6": [{"ip": "fd00:10:244:2::/64", "mac": "0e:58:0a:f4:02:00"}]}, "podnet_vxlan_neighbors_ipv6[0]="),
    ({"fdb6": "0e:58:0a:f4:02:00"}, "podnet_vxlan_fdb_ipv6="),
])
def test_a_bad_ipv6_entry_is_named(kwargs, needle):
    assert needle in error_of(**kwargs)


def test_a_neighbor_needs_a_vtep_address_of_its_family_on_its_device():
    error = error_of(device=dict(DEVICE, vtep_ip_ipv6=None))
    assert error == ("podnet_vxlan_neighbors[1] has the IPv6 address fd00:10:244:2:: but podnet_vxlan_device has no "
                     "vtep_ip_ipv6: set podnet_vxlan_device.vtep_ip_ipv6 (the node's IPv6 pod prefix's network "
                     "address) or remove the entry.")
    error = error_of(device6=dict(DEVICE6, vtep_ip=None))
    assert error.startswith("podnet_vxlan_neighbors_ipv6[0] has the IPv4 address 10.244.2.0 but "
                            "podnet_vxlan_device_ipv6 has no vtep_ip: set podnet_vxlan_device_ipv6.vtep_ip")


# --- parsing recorded output -------------------------------------------------------------
def test_ipv6_neighbours_keep_only_permanent_ones_outside_link_local():
    recorded = NEIGH6["flannel.1"] + [
        {"dst": "fe80::858:aff:fef4:200", "lladdr": "0a:58:0a:f4:02:00", "state": ["PERMANENT"]},
        {"dst": "febf::1", "lladdr": "0a:58:0a:f4:02:00", "state": ["PERMANENT"]},       # still fe80::/10
        {"dst": "fd00:10:244:3::", "lladdr": "0a:58:0a:f4:03:00", "state": ["STALE"]},
        {"dst": "FD00:10:244:4:0::", "lladdr": "0A:58:0A:F4:04:00", "state": ["PERMANENT"]},
    ]
    assert vxlan.parse_neighbors(NEIGH4["flannel.1"] + recorded) == {
        "10.244.2.0": "0a:58:0a:f4:02:00", "fd00:10:244:2::": "0a:58:0a:f4:02:00",
        "fd00:10:244:4::": "0a:58:0a:f4:04:00"}


def test_ipv6_addresses_are_read_without_the_link_local_one():
    links = by_name(ADDR_SHOW)
    assert vxlan.parse_addresses(links["flannel.1"]) == ["10.244.1.0/32"]
    assert vxlan.parse_addresses_ipv6(links["flannel.1"]) == ["fd00:10:244:1::/128"]
    assert vxlan.parse_addresses_ipv6(links["flannel-v6.1"]) == ["fd00:10:244:1::/128"]


# --- the plan ----------------------------------------------------------------------------
def test_a_converged_dual_stack_host_needs_no_command():
    result = vxlan.plan(converged(), "flannel.1", want())
    assert result["error"] is None and (result["owner"], result["owner_ipv6"]) == ("podnet", "podnet")
    assert result["commands"] == []
    assert result["before"]["links"] == ["flannel-v6.1", "flannel.1"]
    assert result["before"]["addresses"] == ["10.244.1.0/32", "fd00:10:244:1::/128"]
    assert result["before"]["neighbors"] == {"10.244.2.0": "0a:58:0a:f4:02:00", "fd00:10:244:2::": "0a:58:0a:f4:02:00"}
    assert result["before"]["ipv6"]["fdb"] == {"0e:58:0a:f4:02:00": ["fd00:30:240::12"]}
    assert result["after"]["links"] == ["flannel.1", "flannel-v6.1"]
    assert result["after"]["ipv6"]["addresses"] == ["10.244.1.0/32", "fd00:10:244:1::/128"]


def test_a_fresh_host_gets_both_devices_ipv6_switched_on_before_the_nodad_address():
    result = vxlan.plan(live(addr_show=[]), "flannel.1", want())

    def sysctl(name):
        return ["sysctl", "/proc/sys/net/ipv6/conf/%s/disable_ipv6" % name, "0"]

    assert result["commands"] == [
        ["ip", "link", "add", "flannel.1", "type", "vxlan", "id", "1", "local", "172.30.240.11",
         "dstport", "8472", "nolearning"],
        ["ip", "link", "set", "dev", "flannel.1", "alias", MARK],
        ["ip", "link", "set", "dev", "flannel.1", "address", "0a:58:0a:f4:01:00", "mtu", "1450"],
        ["ip", "addr", "add", "10.244.1.0/32", "dev", "flannel.1"],
        sysctl("flannel.1"),
        ["ip", "addr", "add", "fd00:10:244:1::/128", "dev", "flannel.1", "nodad"],
        ["ip", "link", "set", "dev", "flannel.1", "up"],
        ["bridge", "fdb", "replace", "0a:58:0a:f4:02:00", "dev", "flannel.1", "dst", "172.30.240.12",
         "self", "permanent"],
        ["ip", "neigh", "replace", "10.244.2.0", "lladdr", "0a:58:0a:f4:02:00", "dev", "flannel.1",
         "nud", "permanent"],
        ["ip", "neigh", "replace", "fd00:10:244:2::", "lladdr", "0a:58:0a:f4:02:00", "dev", "flannel.1",
         "nud", "permanent"],
        ["ip", "link", "add", "flannel-v6.1", "type", "vxlan", "id", "1", "local", "fd00:30:240::11",
         "dstport", "8472", "nolearning"],
        ["ip", "link", "set", "dev", "flannel-v6.1", "alias", MARK],
        ["ip", "link", "set", "dev", "flannel-v6.1", "address", "0e:58:0a:f4:01:00", "mtu", "1430"],
        ["ip", "addr", "add", "10.244.1.0/32", "dev", "flannel-v6.1"],
        sysctl("flannel-v6.1"),
        ["ip", "addr", "add", "fd00:10:244:1::/128", "dev", "flannel-v6.1", "nodad"],
        ["ip", "link", "set", "dev", "flannel-v6.1", "up"],
        ["bridge", "fdb", "replace", "0e:58:0a:f4:02:00", "dev", "flannel-v6.1", "dst", "fd00:30:240::12",
         "self", "permanent"],
        ["ip", "neigh", "replace", "10.244.2.0", "lladdr", "0e:58:0a:f4:02:00", "dev", "flannel-v6.1",
         "nud", "permanent"],
        ["ip", "neigh", "replace", "fd00:10:244:2::", "lladdr", "0e:58:0a:f4:02:00", "dev", "flannel-v6.1",
         "nud", "permanent"],
    ]
    assert result["summary"] == {"fdb": {"add": 2, "change": 0, "delete": 0},
                                 "neighbors": {"add": 4, "change": 0, "delete": 0}}
    ip_batch, fdb_batch = result["files"][vxlan.IP_BATCH], result["files"][vxlan.FDB_BATCH]
    assert ip_batch.endswith(
        "link set dev flannel.1 alias podnet-owned\n"
        "link set dev flannel.1 address 0a:58:0a:f4:01:00 mtu 1450\n"
        "addr replace 10.244.1.0/32 dev flannel.1\n"
        "addr replace fd00:10:244:1::/128 dev flannel.1 nodad\n"
        "link set dev flannel.1 up\n"
        "neigh replace 10.244.2.0 lladdr 0a:58:0a:f4:02:00 dev flannel.1 nud permanent\n"
        "neigh replace fd00:10:244:2:: lladdr 0a:58:0a:f4:02:00 dev flannel.1 nud permanent\n"
        "link set dev flannel-v6.1 alias podnet-owned\n"
        "link set dev flannel-v6.1 address 0e:58:0a:f4:01:00 mtu 1430\n"
        "addr replace 10.244.1.0/32 dev flannel-v6.1\n"
        "addr replace fd00:10:244:1::/128 dev flannel-v6.1 nodad\n"
        "link set dev flannel-v6.1 up\n"
        "neigh replace 10.244.2.0 lladdr 0e:58:0a:f4:02:00 dev flannel-v6.1 nud permanent\n"
        "neigh replace fd00:10:244:2:: lladdr 0e:58:0a:f4:02:00 dev flannel-v6.1 nud permanent\n")
    assert fdb_batch.endswith(
        "fdb replace 0a:58:0a:f4:02:00 dev flannel.1 dst 172.30.240.12 self permanent\n"
        "fdb replace 0e:58:0a:f4:02:00 dev flannel-v6.1 dst fd00:30:240::12 self permanent\n")


def test_the_boot_step_creates_both_devices_and_switches_ipv6_on_before_the_batch_files():
    script = vxlan.boot_script(want(tx=False))
    lines = script.splitlines()
    create6 = "    ip link add flannel-v6.1 type vxlan id 1 local fd00:30:240::11 dstport 8472 nolearning"
    assert create6 in lines and "grep -qsx %s /sys/class/net/flannel-v6.1/ifalias || {" % MARK in script
    on = [lines.index("echo 0 > /proc/sys/net/ipv6/conf/%s/disable_ipv6" % n) for n in ("flannel.1", "flannel-v6.1")]
    batch = lines.index("ip -force -batch /etc/podnet/vxlan.batch")
    assert lines.index(create6) < min(on) and max(on) < batch
    assert lines[-2:] == ["ethtool -K flannel.1 tx off", "ethtool -K flannel-v6.1 tx off"]
    subprocess.run(["sh", "-n"], input=script, text=True, check=True)
    # an IPv4-only device switches nothing on
    assert "disable_ipv6" not in vxlan.boot_script(want(device=dict(DEVICE, vtep_ip_ipv6=None),
                                                        neighbors=NEIGHBORS[:1], device6=None))


@pytest.mark.parametrize("disable_ipv6, switch", [("1", True), ("0", False), (None, True)])
def test_an_ipv6_vtep_address_on_a_live_device_switches_ipv6_on_only_when_off(disable_ipv6, switch):
    no_ipv6 = changed("flannel.1", addr_info=ADDR_SHOW[0]["addr_info"][:1])
    result = vxlan.plan(live(addr_show=no_ipv6, v4=found("flannel.1", disable_ipv6, neigh6=[]),
                             v6=found("flannel-v6.1")), "flannel.1", want())
    assert result["commands"] == (
        [["sysctl", "/proc/sys/net/ipv6/conf/flannel.1/disable_ipv6", "0"]] if switch else []) + [
        ["ip", "addr", "add", "fd00:10:244:1::/128", "dev", "flannel.1", "nodad"],
        ["ip", "neigh", "replace", "fd00:10:244:2::", "lladdr", "0a:58:0a:f4:02:00", "dev", "flannel.1",
         "nud", "permanent"],
    ]
    assert result["summary"]["neighbors"] == {"add": 1, "change": 0, "delete": 0}


def test_back_to_ipv4_only_deletes_the_ipv6_device_address_and_neighbours():
    result = vxlan.plan(converged(), "flannel.1",
                        want(device=dict(DEVICE, vtep_ip_ipv6=None), neighbors=NEIGHBORS[:1], device6=None))
    assert result["error"] is None and result["owner_ipv6"] == "none"
    assert result["commands"] == [
        ["ip", "link", "del", "dev", "flannel-v6.1"],
        ["ip", "addr", "del", "fd00:10:244:1::/128", "dev", "flannel.1"],
        ["ip", "neigh", "del", "fd00:10:244:2::", "dev", "flannel.1"],
    ]
    assert "flannel-v6.1" not in result["files"][vxlan.IP_BATCH] + result["files"][vxlan.FDB_BATCH]
    assert "flannel-v6.1" not in result["boot"] and "disable_ipv6" not in result["boot"]


def test_an_unwanted_flannel_v6_is_deleted_when_podnets_and_left_alone_when_not():
    theirs = changed("flannel-v6.1", ifalias="")
    wanted = want(device=dict(DEVICE, vtep_ip_ipv6=None), neighbors=NEIGHBORS[:1], device6=None)
    result = vxlan.plan(live(addr_show=theirs, v4=found("flannel.1", neigh6=[])), "flannel.1", wanted)
    assert result["left_alone"] == ["flannel-v6.1"]
    assert ["ip", "link", "del", "dev", "flannel-v6.1"] not in result["commands"]
    # no overlay at all: podnet's flannel-v6.1 goes with flannel.1
    result = vxlan.plan(converged(), None, None)
    assert result["commands"] == [["ip", "link", "del", "dev", "flannel-v6.1"], ["ip", "link", "del", "dev", "flannel.1"]]
    # the default pattern owns flannel.N and flannel-v6.N, nothing else
    owned = concern.re.compile(vxlan.OWNED_PATTERN)
    assert [n for n in ("flannel.1", "flannel-v6.1", "flannel-v6.x", "flannel-v4.1", "vxlan0") if owned.match(n)] == [
        "flannel.1", "flannel-v6.1"]


def test_a_declared_flannel_v6_that_is_not_podnets_is_refused_naming_the_fix():
    theirs = changed("flannel-v6.1", ifalias="")
    result = vxlan.plan(live(addr_show=theirs, v4=found("flannel.1"), v6=found("flannel-v6.1")), "flannel.1", want())
    assert result["owner_ipv6"] == "foreign" and result["commands"] == [] and result["files"] == {}
    for fix in ("VXLAN link flannel-v6.1", "ip link del flannel-v6.1", "podnet_plan_vxlan_device_ipv6",
                "podnet_vxlan_adopt: true"):
        assert fix in result["error"]
    adopted = vxlan.plan(live(addr_show=theirs, v4=found("flannel.1"), v6=found("flannel-v6.1")), "flannel.1",
                         want(), adopt=True)
    assert adopted["owner_ipv6"] == "adopted"
    assert adopted["commands"] == [["ip", "link", "set", "dev", "flannel-v6.1", "alias", MARK]]


@pytest.mark.parametrize("info, reason", [
    ({"local6": "fd00:30:240::99"}, "local"),
    ({"id": 2}, "vni"),
    ({"port": 4789}, "port"),
    ({"local6": None, "local": "172.30.240.11"}, "IPv4 underlay"),
])
def test_the_ipv6_underlay_device_is_recreated_when_its_socket_differs(info, reason):
    entries = copy.deepcopy(ADDR_SHOW)
    entries[1]["linkinfo"]["info_data"].update(info)
    result = vxlan.plan(live(addr_show=entries, v4=found("flannel.1"), v6=found("flannel-v6.1")), "flannel.1", want())
    assert result["recreated"], reason
    assert result["commands"][:2] == [
        ["ip", "link", "del", "dev", "flannel-v6.1"],
        ["ip", "link", "add", "flannel-v6.1", "type", "vxlan", "id", "1", "local", "fd00:30:240::11",
         "dstport", "8472", "nolearning"]]


def test_a_node_with_only_an_ipv6_underlay_converges_flannel_v6_alone():
    result = vxlan.plan(converged(), None, want(device=None, fdb=[], neighbors=[]))
    assert result["commands"] == [["ip", "link", "del", "dev", "flannel.1"]]
    assert result["after"]["links"] == ["flannel-v6.1"] and "flannel.1" not in result["files"][vxlan.IP_BATCH]
    assert "flannel.1" not in result["boot"] and "ip link add flannel-v6.1" in result["boot"]


# --- reading the host --------------------------------------------------------------------
class Runner:
    """Recorded read-only commands (tool, args) -> their parsed output."""

    def __init__(self, outputs):
        self.outputs, self.calls = outputs, []

    def read(self, tool, args, json_flag=None):
        self.calls.append(" ".join([tool] + list(args)))
        return copy.deepcopy(self.outputs[(tool,) + tuple(args)])


def recorded_host():
    outputs = {("ip", "-details", "addr", "show"): ADDR_SHOW}
    for name in ("flannel.1", "flannel-v6.1"):
        outputs[("bridge", "fdb", "show", "dev", name)] = FDB_SHOW[name]
        outputs[("ip", "-4", "neigh", "show", "dev", name)] = NEIGH4[name]
        outputs[("ip", "-6", "neigh", "show", "dev", name)] = NEIGH6[name]
    return Runner(outputs)


def test_read_live_reads_both_devices_and_their_ipv6_neighbours(monkeypatch, tmp_path):
    inet6 = tmp_path / "if_inet6"
    inet6.write_text("")
    monkeypatch.setattr(concern, "IPV6_PROC", str(inet6))
    monkeypatch.setattr(concern, "read_text", lambda module, path: None)
    monkeypatch.setattr(concern, "read_disable_ipv6", lambda module, name: {"flannel.1": "0"}.get(name, "1"))
    runner = recorded_host()
    state = concern.read_live(runner, None, "flannel.1", want(), False)
    assert "ip -6 neigh show dev flannel-v6.1" in runner.calls
    assert state["neighbors"] == {"10.244.2.0": "0a:58:0a:f4:02:00", "fd00:10:244:2::": "0a:58:0a:f4:02:00"}
    assert (state["disable_ipv6"], state["ipv6"]["disable_ipv6"]) == ("0", "1")
    assert state["ipv6"]["fdb"] == {"0e:58:0a:f4:02:00": [("fd00:30:240::12", True)]}
    # IPv6 off flannel-v6.1 (disable_ipv6 1, as the host's default gives a new link): switched on
    result = vxlan.plan(state, "flannel.1", want())
    assert result["commands"] == [["sysctl", "/proc/sys/net/ipv6/conf/flannel-v6.1/disable_ipv6", "0"]]
    # a kernel without IPv6: no ip -6 read
    inet6.unlink()
    runner = recorded_host()
    concern.read_live(runner, None, "flannel.1", want(device6=None), False)
    assert not [call for call in runner.calls if " -6 " in call]
