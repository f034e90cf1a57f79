# SPDX-License-Identifier: GPL-3.0-or-later
"""The podnet_vxlan module's pure steps: checking the role's variables, parsing recorded
``ip -json -details addr show`` / ``bridge -json fdb show`` / ``ip -json -4 neigh show``
output, and the plan from live state to commands, files and the boot step. No host.

(Link ownership, the mark and adoption are in tests/unit/test_link_ownership.py.)
"""

import json
import subprocess

import pytest
from ansible_collections.podnet.network.tests.unit.role_modules import load_module

vxlan = load_module("podnet_vxlan")

MARK = "podnet-owned"
DEVICE = {"device": "flannel.1", "vni": 1, "port": 8472, "local": "172.31.2.11",
          "vtep_ip": "10.244.1.0", "vtep_mac": "0a:58:0a:f4:01:00", "mtu": 1450}
FDB = [{"mac": "0a:58:0a:f4:02:00", "dst": "172.31.2.12"}]
NEIGHBORS = [{"ip": "10.244.2.0", "mac": "0a:58:0a:f4:02:00"}]

# Recorded on a Debian 12 test host (iproute2 6.1) converged by podnet: flannel.1 with
# one peer, next to the underlay eth0 and lo.
ADDR_SHOW = json.loads("""[
{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"address":"00:00:00:00:00:00",
 "addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo"}]},
{"ifindex":2,"ifname":"flannel.1","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,
 "qdisc":"noqueue","operstate":"UNKNOWN","link_type":"ether","address":"0a:58:0a:f4:01:00",
 "broadcast":"ff:ff:ff:ff:ff:ff","min_mtu":68,"max_mtu":65535,
 "linkinfo":{"info_kind":"vxlan","info_data":{"id":1,"local":"172.31.2.11","port_range":{"low":0,"high":0},
  "port":8472,"learning":false,"ttl":0,"df":"unset","ageing":300,"udp_csum":true,
  "udp_zero_csum6_tx":false,"udp_zero_csum6_rx":false}},"ifalias":"podnet-owned",
 "addr_info":[{"family":"inet","local":"10.244.1.0","prefixlen":32,"scope":"global","label":"flannel.1",
  "valid_life_time":4294967295,"preferred_life_time":4294967295}]},
{"ifindex":9,"link_index":10,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,
 "address":"02:42:ac:1f:02:0b","linkinfo":{"info_kind":"veth"},
 "addr_info":[{"family":"inet","local":"172.31.2.11","prefixlen":24,"broadcast":"172.31.2.255",
  "scope":"global","label":"eth0"}]}
]""")
FDB_SHOW = json.loads("""[
{"mac":"0a:58:0a:f4:02:00","dst":"172.31.2.12","flags":["self"],"state":"permanent"}
]""")
NEIGH_SHOW = json.loads("""[
{"dst":"10.244.2.0","lladdr":"0a:58:0a:f4:02:00","state":["PERMANENT"]}
]""")
ETHTOOL_K = "Features for flannel.1:\nrx-checksumming: on\ntx-checksumming: on\n\ttx-checksum-ipv4: off [fixed]\n"


def by_name(entries):
    return {link["ifname"]: link for link in entries}


def live(addr_show=ADDR_SHOW, fdb=FDB_SHOW, neigh=NEIGH_SHOW, tx=True, recorded=None):
    return {"links": by_name(addr_show), "fdb": vxlan.parse_fdb(fdb),
            "neighbors": vxlan.parse_neighbors(neigh), "tx": tx, "recorded": recorded or {}}


def want(device=DEVICE, fdb=FDB, neighbors=NEIGHBORS, tx_checksum_offload=True):  # pylint: disable=dangerous-default-value  # never mutated
    wanted, error = vxlan.check_wanted("present", device, fdb, neighbors, tx_checksum_offload)
    assert error is None, error
    return wanted


def without(name, entries=ADDR_SHOW):
    return [link for link in entries if link["ifname"] != name]


def changed(name, **fields):
    entries = json.loads(json.dumps(ADDR_SHOW))
    for link in entries:
        if link["ifname"] == name:
            link.update(fields)
    return entries


# --- checking the role's variables ------------------------------------------------------
def test_the_host_views_device_is_accepted_and_normalised():
    device = dict(DEVICE, vtep_mac="0A:58:0A:F4:01:00", vni="1")
    wanted = want(device=device, fdb=[{"mac": "0A:58:0A:F4:02:00", "dst": "172.31.2.12"}])
    assert wanted["vtep_mac"] == "0a:58:0a:f4:01:00" and wanted["vni"] == 1
    assert wanted["fdb"] == [("0a:58:0a:f4:02:00", "172.31.2.12")]
    assert wanted["neighbors"] == [("10.244.2.0", "0a:58:0a:f4:02:00")]


@pytest.mark.parametrize("device", [None, {}])
def test_no_device_means_no_overlay(device):
    assert vxlan.check_wanted("present", device, FDB, NEIGHBORS) == (None, None)


def test_absent_checks_nothing():
    assert vxlan.check_wanted("absent", {"device": "flannel.1", "vni": 0}, "junk", None) == (None, None)


@pytest.mark.parametrize("key, value, hint", [
    ("vni", 0, "1 to 16777215"),
    ("vni", 16777216, "1 to 16777215"),
    ("vni", True, "1 to 16777215"),
    ("port", 70000, "1 to 65535"),
    ("local", "192.0.2.300", "underlay IPv4"),
    ("vtep_ip", "10.244.1.0/24", "IPv4 address"),
    ("vtep_mac", "0a:58:0a:f4:01", "MAC address"),
    ("mtu", 12, "68 to 65535"),
    ("device", "flannel.1-much-too-long", "link name"),
])
def test_a_bad_device_key_is_named_with_the_fix(key, value, hint):
    wanted, error = vxlan.check_wanted("present", dict(DEVICE, **{key: value}), FDB, NEIGHBORS)
    assert wanted is None
    assert error.startswith("podnet_vxlan_device.%s=" % key) and hint in error


def test_a_device_missing_keys_names_them():
    dummy, error = vxlan.check_wanted("present", {"device": "flannel.1"}, FDB, NEIGHBORS)
    assert "podnet_vxlan_device lacks vni, port, local, vtep_ip, vtep_mac, mtu" in error
    assert "null when this host needs no overlay" in error


@pytest.mark.parametrize("fdb, needle", [
    ([{"mac": "zz", "dst": "172.31.2.12"}], "podnet_vxlan_fdb[0]="),
    ([{"mac": "0a:58:0a:f4:02:00"}], "podnet_vxlan_fdb[0]="),
    (["0a:58:0a:f4:02:00"], "podnet_vxlan_fdb[0]="),
    (FDB + [{"mac": "0A:58:0A:F4:02:00", "dst": "172.31.2.13"}], "podnet_vxlan_fdb declares MAC 0a:58:0a:f4:02:00 twice"),
    ("0a:58:0a:f4:02:00", "podnet_vxlan_fdb="),
])
def test_a_bad_fdb_entry_is_named(fdb, needle):
    dummy, error = vxlan.check_wanted("present", DEVICE, fdb, NEIGHBORS)
    assert needle in error


@pytest.mark.parametrize("neighbors, needle", [
    ([{"ip": "10.244.2", "mac": "0a:58:0a:f4:02:00"}], "podnet_vxlan_neighbors[0]="),
    (NEIGHBORS + [{"ip": "10.244.2.0", "mac": "0a:58:0a:f4:03:00"}], "podnet_vxlan_neighbors declares IP 10.244.2.0 twice"),
])
def test_a_bad_neighbor_is_named(neighbors, needle):
    dummy, error = vxlan.check_wanted("present", DEVICE, FDB, neighbors)
    assert needle in error


# --- parsing recorded output -------------------------------------------------------------
def test_fdb_keeps_only_entries_podnet_could_have_made():
    recorded = FDB_SHOW + [
        {"mac": "00:00:00:00:00:00", "dst": "172.31.2.99", "flags": ["self"], "state": "permanent"},
        {"mac": "33:33:00:00:00:01", "flags": ["self"], "state": "permanent"},     # no dst
        {"mac": "0a:58:0a:f4:03:00", "dst": "172.31.2.13", "flags": ["self"]},      # not permanent
    ]
    assert vxlan.parse_fdb(recorded) == {
        "0a:58:0a:f4:02:00": [("172.31.2.12", True)],
        "0a:58:0a:f4:03:00": [("172.31.2.13", False)],
    }


def test_neighbors_keep_only_permanent_ipv4_outside_link_local():
    recorded = NEIGH_SHOW + [
        {"dst": "10.244.3.0", "lladdr": "0a:58:0a:f4:03:00", "state": ["REACHABLE"]},
        {"dst": "169.254.1.1", "lladdr": "0a:58:0a:f4:04:00", "state": ["PERMANENT"]},
        {"dst": "fe80::1", "lladdr": "0a:58:0a:f4:05:00", "state": ["PERMANENT"]},
    ]
    assert vxlan.parse_neighbors(recorded) == {"10.244.2.0": "0a:58:0a:f4:02:00"}


def test_tx_checksumming_is_read_from_ethtool():
    assert vxlan.parse_tx_checksumming(ETHTOOL_K) is True
    assert vxlan.parse_tx_checksumming(ETHTOOL_K.replace("tx-checksumming: on", "tx-checksumming: off")) is False
    assert vxlan.parse_tx_checksumming("Features for x:\n") is None


def test_addresses_are_read_from_addr_show():
    assert vxlan.parse_addresses(by_name(ADDR_SHOW)["flannel.1"]) == ["10.244.1.0/32"]


# --- the plan ----------------------------------------------------------------------------
def test_a_converged_host_needs_no_command():
    result = vxlan.plan(live(), "flannel.1", want())
    assert result["error"] is None and result["owner"] == "podnet"
    assert result["commands"] == []
    assert result["summary"] == {"fdb": {"add": 0, "change": 0, "delete": 0},
                                 "neighbors": {"add": 0, "change": 0, "delete": 0}}
    assert result["before"]["fdb"] == {"0a:58:0a:f4:02:00": ["172.31.2.12"]}
    assert result["before"]["tx_checksum_offload"] is True


def test_a_fresh_host_gets_the_marked_device_then_its_entries():
    result = vxlan.plan(live(addr_show=without("flannel.1"), fdb=[], neigh=[], tx=None),
                        "flannel.1", want())
    assert result["commands"] == [
        ["ip", "link", "add", "flannel.1", "type", "vxlan", "id", "1", "local", "172.31.2.11",
         "dstport", "8472", "nolearning"],
        ["ip", "link", "set", "dev", "flannel.1", "alias", MARK],
        ["ip", "link", "set", "dev", "flannel.1", "address", "0a:58:0a:f4:01:00", "mtu", "1450"],
        ["ip", "addr", "add", "10.244.1.0/32", "dev", "flannel.1"],
        ["ip", "link", "set", "dev", "flannel.1", "up"],
        ["bridge", "fdb", "replace", "0a:58:0a:f4:02:00", "dev", "flannel.1", "dst", "172.31.2.12",
         "self", "permanent"],
        ["ip", "neigh", "replace", "10.244.2.0", "lladdr", "0a:58:0a:f4:02:00", "dev", "flannel.1",
         "nud", "permanent"],
    ]
    assert result["summary"]["fdb"]["add"] == 1 and result["summary"]["neighbors"]["add"] == 1
    ip_batch = result["files"][vxlan.IP_BATCH]
    fdb_batch = result["files"][vxlan.FDB_BATCH]
    assert "neigh replace 10.244.2.0 lladdr 0a:58:0a:f4:02:00 dev flannel.1 nud permanent\n" in ip_batch
    assert fdb_batch.endswith("fdb replace 0a:58:0a:f4:02:00 dev flannel.1 dst 172.31.2.12 self permanent\n")
    assert result["boot"] is not None


def test_drift_is_repaired_entry_by_entry():
    drifted = changed("flannel.1", mtu=1400, flags=["BROADCAST", "MULTICAST"], addr_info=[
        {"family": "inet", "local": "10.244.7.0", "prefixlen": 32},
    ])
    fdb = FDB_SHOW + [{"mac": "0a:58:0a:f4:09:00", "dst": "172.31.2.19", "flags": ["self"], "state": "permanent"}]
    neigh = [{"dst": "10.244.2.0", "lladdr": "0a:58:0a:f4:0f:00", "state": ["PERMANENT"]},
             {"dst": "10.244.9.0", "lladdr": "0a:58:0a:f4:09:00", "state": ["PERMANENT"]}]
    result = vxlan.plan(live(addr_show=drifted, fdb=fdb, neigh=neigh), "flannel.1", want())
    assert result["commands"] == [
        ["ip", "link", "set", "dev", "flannel.1", "mtu", "1450"],
        ["ip", "addr", "del", "10.244.7.0/32", "dev", "flannel.1"],
        ["ip", "addr", "add", "10.244.1.0/32", "dev", "flannel.1"],
        ["ip", "link", "set", "dev", "flannel.1", "up"],
        ["bridge", "fdb", "del", "0a:58:0a:f4:09:00", "dev", "flannel.1", "dst", "172.31.2.19", "self"],
        ["ip", "neigh", "del", "10.244.9.0", "dev", "flannel.1"],
        ["ip", "neigh", "replace", "10.244.2.0", "lladdr", "0a:58:0a:f4:02:00", "dev", "flannel.1",
         "nud", "permanent"],
    ]
    assert result["summary"] == {"fdb": {"add": 0, "change": 0, "delete": 1},
                                 "neighbors": {"add": 0, "change": 1, "delete": 1}}


def test_a_new_vni_recreates_the_device():
    result = vxlan.plan(live(), "flannel.1", want(device=dict(DEVICE, vni=2)))
    assert result["recreated"]
    assert result["commands"][0] == ["ip", "link", "del", "dev", "flannel.1"]
    assert result["commands"][1][:8] == ["ip", "link", "add", "flannel.1", "type", "vxlan", "id", "2"]


def test_tx_checksum_offload_off_is_applied_live_and_at_boot():
    result = vxlan.plan(live(), "flannel.1", want(tx_checksum_offload=False))
    assert result["commands"] == [["ethtool", "-K", "flannel.1", "tx", "off"]]
    assert "ethtool -K flannel.1 tx off\n" in result["boot"]
    # and back on when it is asked for again
    result = vxlan.plan(live(tx=False), "flannel.1", want())
    assert result["commands"] == [["ethtool", "-K", "flannel.1", "tx", "on"]]
    assert "ethtool" not in result["boot"]
    # a device created now starts with offload on: off needs the command at once
    fresh = vxlan.plan(live(addr_show=without("flannel.1"), fdb=[], neigh=[], tx=None), "flannel.1",
                       want(tx_checksum_offload=False))
    assert ["ethtool", "-K", "flannel.1", "tx", "off"] in fresh["commands"]


def test_a_foreign_device_is_refused_before_any_command():
    foreign = changed("flannel.1", ifalias="")
    result = vxlan.plan(live(addr_show=foreign), "flannel.1", want())
    assert result["error"] and "podnet_vxlan_adopt: true" in result["error"]
    assert result["commands"] == [] and result["files"] == {} and result["boot"] is None


@pytest.mark.parametrize("name", [None, "flannel.1"])
def test_no_overlay_deletes_podnets_device_files_and_boot_step(name):
    result = vxlan.plan(live(), name, None)
    assert result["error"] is None
    assert result["commands"] == [["ip", "link", "del", "dev", "flannel.1"]]
    assert result["files"] == {vxlan.IP_BATCH: None, vxlan.FDB_BATCH: None}
    assert result["boot"] is None


def test_no_overlay_leaves_a_foreign_device_alone():
    result = vxlan.plan(live(addr_show=changed("flannel.1", ifalias="")), None, None)
    assert result["commands"] == [] and result["left_alone"] == ["flannel.1"]
    assert result["files"] == {vxlan.IP_BATCH: None, vxlan.FDB_BATCH: None}


def test_no_overlay_on_a_clean_host_needs_nothing_but_absent_files():
    result = vxlan.plan(live(addr_show=without("flannel.1"), fdb=[], neigh=[]), None, None)
    assert result["commands"] == [] and result["left_alone"] == []


# --- the boot step -----------------------------------------------------------------------
def test_the_boot_step_creates_the_marked_device_and_refuses_an_unmarked_one():
    script = vxlan.boot_script(want())
    assert "grep -qsx %s /sys/class/net/flannel.1/ifalias" % MARK in script
    assert "exit 1" in script
    create = "ip link add flannel.1 type vxlan id 1 local 172.31.2.11 dstport 8472 nolearning\n"
    assert create in script
    assert script.index(create) < script.index("ip link set dev flannel.1 alias %s\n" % MARK)
    assert script.endswith("ip -force -batch /etc/podnet/vxlan.batch\n"
                           "bridge -force -batch /etc/podnet/vxlan-fdb.batch\n")
    subprocess.run(["sh", "-n"], input=script, text=True, check=True)


def test_the_boot_order_puts_the_overlay_after_the_bridge_and_before_the_routes():
    assert (vxlan.BOOT_ORDER, vxlan.BOOT_CONCERN) == (30, "vxlan")


def test_docs_describe_every_option_and_no_old_unit():
    import yaml
    doc = yaml.safe_load(vxlan.DOCUMENTATION)
    assert set(doc["options"]) == set(vxlan.ARGUMENT_SPEC) == {
        "device", "fdb", "neighbors", "device_ipv6", "fdb_ipv6", "neighbors_ipv6", "tx_checksum_offload",
        "adopt", "owned_pattern", "state"}
    # check and diff mode: full, from the shared fragment
    assert doc["extends_documentation_fragment"] == ["podnet.network.attributes"]
    assert "C(podnet-vxlan.service)" in vxlan.DOCUMENTATION  # retired, said so
