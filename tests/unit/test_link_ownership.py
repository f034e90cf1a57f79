# SPDX-License-Identifier: GPL-3.0-or-later
"""Podnet touches only the links it created: the pure plan functions of the
podnet_bridge and podnet_vxlan modules, fed with recorded ``ip -json`` link entries.

A link podnet creates carries the link alias ``podnet-owned`` (live, in the boot batch
file, and set by the boot unit). A link of podnet's name without it is refused on
converge (before any change, naming the link and the fixes) and left alone on reset,
unless the operator adopts it; a link made by a podnet version before the mark is
recognised by podnet's own batch file and marked.
"""

import os
import re

import pytest
import yaml
from ansible_collections.podnet.network.tests.unit.role_modules import load_module

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MARK = "podnet-owned"


bridge = load_module("podnet_bridge")
vxlan = load_module("podnet_vxlan")

# /etc/podnet/bridge.batch and vxlan.batch as podnet wrote them before the mark existed.
OLD_BRIDGE_BATCH = """#
# Ansible managed: written by podnet's podnet_bridge module from the declared state;
# edits by hand are detected and overwritten on the next run.
#
link set dev cbr0 type bridge forward_delay 0
link set dev cbr0 mtu 1450
addr replace 10.244.1.1/24 dev cbr0
link set dev cbr0 up
"""
OLD_VXLAN_BATCH = """#
# Ansible managed: written by podnet's podnet_vxlan module from the declared state;
#
link set dev flannel.1 address 0a:58:0a:f4:01:00 mtu 1450
addr replace 10.244.1.0/32 dev flannel.1
link set dev flannel.1 up
neigh replace 10.244.2.0 lladdr 0a:58:0a:f4:02:00 dev flannel.1 nud permanent
"""


# --- podnet_bridge ---------------------------------------------------------------------
def live_bridge(addresses=("10.244.1.1/24",), alias="", kind="bridge", mtu=1450, forward_delay=0):
    return {"kind": kind, "mtu": mtu, "up": True, "forward_delay": forward_delay,
            "addresses": list(addresses), "alias": alias}


def test_a_new_bridge_is_marked_right_after_it_is_created():
    plan = bridge.plan_bridge("cbr0", None, "present", "10.244.1.1/24", 1450)
    assert plan["error"] is None and plan["owner"] == "none"
    assert plan["commands"][:2] == [
        ["link", "add", "cbr0", "type", "bridge", "forward_delay", "0"],
        ["link", "set", "dev", "cbr0", "alias", MARK],
    ]


def test_a_foreign_bridge_is_refused_before_any_change():
    # e.g. a hand-made cbr0 (kubenet, docs) on another subnet
    before = live_bridge(addresses=["192.0.2.1/24"], forward_delay=1500, mtu=1500)
    plan = bridge.plan_bridge("cbr0", before, "present", "10.244.1.1/24", 1450)
    assert plan["commands"] == []
    assert plan["owner"] == "foreign"
    msg = plan["error"]
    assert "cbr0" in msg and "left it unmodified" in msg
    for fix in ("ip link del cbr0", "podnet_bridge_name", "podnet_bridge_adopt: true"):
        assert fix in msg


def test_a_foreign_bridge_with_the_planned_address_is_still_refused():
    # Carrying the planned address proves nothing; only podnet's batch file or adopt do.
    plan = bridge.plan_bridge("cbr0", live_bridge(), "present", "10.244.1.1/24", 1450)
    assert plan["error"] and plan["commands"] == []


def test_a_foreign_bridge_is_adopted_and_marked_when_the_operator_says_so():
    before = live_bridge(addresses=["192.0.2.1/24"], forward_delay=1500, mtu=1500)
    plan = bridge.plan_bridge("cbr0", before, "present", "10.244.1.1/24", 1450, adopt=True)
    assert plan["error"] is None and plan["owner"] == "adopted"
    assert plan["commands"][0] == ["link", "set", "dev", "cbr0", "alias", MARK]
    assert ["addr", "del", "192.0.2.1/24", "dev", "cbr0"] in plan["commands"]
    assert ["addr", "add", "10.244.1.1/24", "dev", "cbr0"] in plan["commands"]


def test_a_marked_bridge_in_its_declared_state_needs_nothing():
    plan = bridge.plan_bridge("cbr0", live_bridge(alias=MARK), "present", "10.244.1.1/24", 1450)
    assert plan == {"owner": "podnet", "commands": [], "error": None, "left_alone": []}


def test_an_older_podnets_bridge_is_recognised_by_its_batch_file_and_marked():
    recorded = bridge.recorded_address(OLD_BRIDGE_BATCH, "cbr0")
    assert recorded == "10.244.1.1/24"
    plan = bridge.plan_bridge("cbr0", live_bridge(), "present", "10.244.1.1/24", 1450,
                              recorded=recorded)
    assert plan["owner"] == "legacy" and plan["error"] is None
    assert plan["commands"] == [["link", "set", "dev", "cbr0", "alias", MARK]]
    # a subnet change on upgrade: the batch file still proves the bridge is podnet's
    plan = bridge.plan_bridge("cbr0", live_bridge(), "present", "10.244.7.1/24", 1450,
                              recorded=recorded)
    assert plan["owner"] == "legacy" and plan["error"] is None


def test_a_bridge_whose_address_differs_from_podnets_batch_file_is_foreign():
    recorded = bridge.recorded_address(OLD_BRIDGE_BATCH, "cbr0")
    for addresses in (["192.0.2.1/24"], ["10.244.1.1/24", "192.0.2.1/24"], []):
        before = live_bridge(addresses=addresses)
        assert bridge.bridge_owner(before, recorded) == "foreign", addresses
    assert bridge.recorded_address(OLD_BRIDGE_BATCH, "br-other") is None


def test_a_non_bridge_with_podnets_name_is_refused_even_with_adopt():
    before = live_bridge(kind="vxlan", alias=MARK)
    plan = bridge.plan_bridge("cbr0", before, "present", "10.244.1.1/24", 1450, adopt=True)
    assert plan["commands"] == [] and "not a bridge" in plan["error"]


@pytest.mark.parametrize("before, recorded, deleted", [
    (live_bridge(alias=MARK), None, True),
    (live_bridge(), "10.244.1.1/24", True),             # older podnet's, per its batch file
    (live_bridge(), None, False),                       # someone else's
    (live_bridge(kind="dummy"), None, False),
])
def test_reset_deletes_only_podnets_bridge(before, recorded, deleted):
    plan = bridge.plan_bridge("cbr0", before, "absent", recorded=recorded, adopt=True)
    assert plan["error"] is None
    if deleted:
        assert plan["commands"] == [["link", "del", "dev", "cbr0"]] and plan["left_alone"] == []
    else:
        assert plan["commands"] == [] and plan["left_alone"] == ["cbr0"]


def test_reset_without_a_bridge_does_nothing():
    assert bridge.plan_bridge("cbr0", None, "absent")["commands"] == []


def test_the_bridge_batch_file_marks_the_bridge_at_boot():
    text = bridge.batch_content("cbr0", "10.244.1.1/24", 1450)
    assert "link set dev cbr0 alias %s\n" % MARK in text
    assert bridge.recorded_address(text, "cbr0") == "10.244.1.1/24"


# --- podnet_vxlan ----------------------------------------------------------------------
OWNED = re.compile(r"^flannel\.[0-9]+$")
WANT = {"device": "flannel.1", "vni": 1, "port": 8472, "local": "172.30.31.11"}


def vx(name, vni=1, port=8472, local="172.30.31.11", mac="0a:58:0a:f4:01:00", alias=None,
       kind="vxlan"):
    link = {"ifname": name, "address": mac, "flags": ["UP"], "mtu": 1450,
            "linkinfo": {"info_kind": kind,
                         "info_data": {"id": vni, "port": port, "local": local, "learning": False}}}
    if alias is not None:
        link["ifalias"] = alias
    return link


def links(*items):
    return {link["ifname"]: link for link in items}


def test_a_stock_flanneld_device_is_refused_before_any_change():
    # flanneld adopting podnet's etcd lease builds exactly podnet's VNI/port/local/MAC:
    # live parameters cannot tell the two apart, the mark can.
    live = links(vx("flannel.1"), vx("flannel.2", vni=2, alias=MARK))
    plan = vxlan.plan_links(live, OWNED, "flannel.1", WANT)
    assert plan["owner"] == "foreign"
    msg = plan["error"]
    assert "flannel.1" in msg and "left it unmodified" in msg
    for fix in ("ip link del flannel.1", "podnet_plan_vxlan_device", "podnet_vxlan_adopt: true"):
        assert fix in msg
    assert not (plan["create"] or plan["recreate"] or plan["mark"])


def test_a_foreign_device_is_adopted_and_marked_when_the_operator_says_so():
    plan = vxlan.plan_links(links(vx("flannel.1", mac="12:34:56:78:9a:bc")), OWNED, "flannel.1",
                            WANT, adopt=True)
    assert plan["error"] is None and plan["owner"] == "adopted"
    assert plan["mark"] and not plan["recreate"]
    # other parameters: recreated by podnet (and marked on creation)
    plan = vxlan.plan_links(links(vx("flannel.1", port=4789)), OWNED, "flannel.1", WANT, adopt=True)
    assert plan["recreate"] and plan["create"] and not plan["mark"]


def test_a_marked_device_is_podnets():
    plan = vxlan.plan_links(links(vx("flannel.1", alias=MARK)), OWNED, "flannel.1", WANT)
    assert plan == {"delete": [], "left_alone": [], "error": None, "owner": "podnet",
                    "create": False, "recreate": False, "mark": False}


def test_a_missing_device_is_created():
    plan = vxlan.plan_links({}, OWNED, "flannel.1", WANT)
    assert plan["create"] and plan["error"] is None


def test_an_older_podnets_device_is_recognised_by_its_batch_file_and_marked():
    recorded = vxlan.recorded_macs(OLD_VXLAN_BATCH)
    assert recorded == {"flannel.1": "0a:58:0a:f4:01:00"}
    plan = vxlan.plan_links(links(vx("flannel.1")), OWNED, "flannel.1", WANT, recorded=recorded)
    assert plan["owner"] == "legacy" and plan["mark"] and plan["error"] is None
    # a device with another MAC than podnet recorded is not podnet's
    plan = vxlan.plan_links(links(vx("flannel.1", mac="12:34:56:78:9a:bc")), OWNED, "flannel.1",
                            WANT, recorded=recorded)
    assert plan["error"]


def test_stale_devices_are_deleted_only_when_podnets():
    # declared flannel.2 (VNI change): podnet's old flannel.1 goes, flanneld's flannel.3 stays
    want = dict(WANT, device="flannel.2", vni=2)
    live = links(vx("flannel.1", alias=MARK), vx("flannel.3", vni=3), vx("flannel.4", vni=4),
                 vx("vxlan0"))
    plan = vxlan.plan_links(live, OWNED, "flannel.2", want,
                            recorded={"flannel.4": "0a:58:0a:f4:01:00"})
    assert plan["delete"] == ["flannel.1", "flannel.4"]
    assert plan["left_alone"] == ["flannel.3"]
    assert plan["create"] and plan["error"] is None


def test_reset_deletes_only_podnets_devices():
    live = links(vx("flannel.1", alias=MARK), vx("flannel.2", vni=2), vx("flannel.3", vni=3),
                 vx("flannel.9", kind="bridge"))
    plan = vxlan.plan_links(live, OWNED, None, None, adopt=True,
                            recorded={"flannel.3": "0a:58:0a:f4:01:00"})
    assert plan["delete"] == ["flannel.1", "flannel.3"]
    assert plan["left_alone"] == ["flannel.2"]
    assert plan["error"] is None and not plan["create"]


def test_a_non_vxlan_link_with_the_device_name_is_refused_even_with_adopt():
    live = links(vx("flannel.1", kind="bridge", alias=MARK))
    plan = vxlan.plan_links(live, OWNED, "flannel.1", WANT, adopt=True)
    assert "not a vxlan device" in plan["error"]


def test_the_vxlan_batch_file_marks_the_device_at_boot():
    ip_batch, dummy = vxlan.batch_contents("flannel.1", "10.244.1.0", "0a:58:0a:f4:01:00", 1450, [], [])
    assert "link set dev flannel.1 alias %s\n" % MARK in ip_batch
    assert vxlan.recorded_macs(ip_batch) == {"flannel.1": "0a:58:0a:f4:01:00"}


# --- the boot steps use the same mark ----------------------------------------------------
# podnet_bridge's and podnet_vxlan's boot steps are written by their modules:
# tests/unit/test_bridge.py and tests/unit/test_vxlan.py check that they create marked
# links and refuse unmarked ones.


@pytest.mark.parametrize("module", [bridge, vxlan], ids=["podnet_bridge", "podnet_vxlan"])
def test_module_docs_are_valid_yaml(module):
    for part in ("DOCUMENTATION", "EXAMPLES", "RETURN"):
        assert yaml.safe_load(getattr(module, part)), part
    options = yaml.safe_load(module.DOCUMENTATION)["options"]
    assert options["adopt"]["default"] is False
