# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet_docker_daemon: the pure plan of merging into and giving back daemon.json, of
the role's inputs, of docker.service and of docker0.

The module is loaded from its file (roles/podnet_docker/library is no package); only its
pure functions run here, on bytes as they would be read from disk.
"""

import json

import pytest
from ansible_collections.podnet.network.tests.unit.role_modules import load_module

daemon = load_module("podnet_docker_daemon")

# A user's file with its own layout (tabs, odd spacing, no newline at the end) and order.
USER = b'{\n\t"log-level": "warn",\n\t"storage-driver":  "vfs"}'
SETTINGS = {"bip": "10.244.1.1/24", "mtu": 1450, "ip-masq": False, "iptables": True}


def present(content, record=None, settings=None, mode=0o644):
    return daemon.plan_present(content, None if content is None else mode, record,
                               SETTINGS if settings is None else settings)


def absent(content, record, mode=0o644):
    return daemon.plan_absent(content, None if content is None else mode, record)


def doc(plan):
    return json.loads(plan["content"])


def test_merge_keeps_the_users_keys_and_order_and_records_the_original():
    plan = present(USER)
    assert plan["action"] == "merge"
    assert list(doc(plan)) == ["log-level", "storage-driver", "bip", "ip-masq", "iptables", "mtu"]
    assert doc(plan)["log-level"] == "warn" and doc(plan)["storage-driver"] == "vfs"
    assert doc(plan)["mtu"] == 1450 and doc(plan)["ip-masq"] is False
    assert plan["keys"] == ["bip", "ip-masq", "iptables", "mtu"]
    record = plan["record"]
    assert daemon.decode_original(record) == USER and record["original_mode"] == "0644"
    assert record["settings"] == SETTINGS and record["previous"] == {}
    assert record["written_sha256"] == daemon.sha256(plan["content"])
    assert plan["content"].endswith(b"}\n") and plan["mode"] == 0o644


def test_merge_records_the_values_podnet_overrides():
    plan = present(b'{"mtu": 9000, "debug": true}', settings=dict(SETTINGS, debug=True))
    assert plan["record"]["previous"] == {"mtu": 9000, "debug": True}
    assert doc(plan)["mtu"] == 1450


def test_merge_into_no_file_records_that_there_was_none():
    plan = present(None)
    assert doc(plan) == SETTINGS and plan["mode"] == 0o644
    assert plan["record"]["original"] is None and plan["record"]["original_mode"] is None


def test_merge_keeps_the_files_mode():
    assert present(USER, mode=0o600)["mode"] == 0o600


def test_a_file_already_holding_the_settings_is_left_byte_for_byte():
    converged = present(USER)
    again = present(converged["content"], converged["record"])
    assert again["action"] == "none" and again["keys"] == []
    assert again["content"] is converged["content"] and again["record"] is converged["record"]
    # a user whose file already says what podnet wants: nothing written, nothing recorded
    odd = b'{ "mtu":1450,"ip-masq":false, "iptables":true,"bip":"10.244.1.1/24" }'
    untouched = present(odd)
    assert untouched == {"content": odd, "mode": 0o644, "record": None, "action": "none",
                         "keys": []}


def test_json_types_are_compared_strictly():
    # true == 1 in Python, not in JSON
    plan = present(b'{"mtu": 1450, "ip-masq": 0, "iptables": true, "bip": "10.244.1.1/24"}')
    assert plan["keys"] == ["ip-masq"] and doc(plan)["ip-masq"] is False


def test_reset_restores_the_original_bytes_and_mode():
    merged = present(USER, mode=0o640)
    plan = absent(merged["content"], merged["record"], mode=0o640)
    assert plan["content"] == USER and plan["mode"] == 0o640
    assert plan["record"] is None and plan["action"] == "restore"
    assert plan["keys"] == ["bip", "ip-masq", "iptables", "mtu"]


def test_reset_deletes_the_file_podnet_created():
    merged = present(None)
    plan = absent(merged["content"], merged["record"])
    assert plan["content"] is None and plan["mode"] is None and plan["action"] == "delete"


def test_reset_without_a_record_changes_nothing():
    plan = absent(USER, None)
    assert plan == {"content": USER, "mode": 0o644, "record": None, "action": "none", "keys": []}
    assert absent(None, None)["content"] is None


def test_reset_after_user_edits_removes_only_podnets_keys():
    merged = present(b'{"mtu": 9000, "log-level": "warn"}')
    edited = doc(merged)
    edited["max-concurrent-downloads"] = 2
    edited["log-level"] = "info"
    plan = absent(json.dumps(edited).encode(), merged["record"])
    assert plan["action"] == "unmerge"
    # podnet's keys gone, mtu back to the user's value, the user's edits kept
    assert doc(plan) == {"mtu": 9000, "log-level": "info", "max-concurrent-downloads": 2}
    assert list(doc(plan)) == ["mtu", "log-level", "max-concurrent-downloads"]
    assert plan["record"] is None


def test_reset_keeps_a_podnet_key_the_user_changed_since():
    merged = present(USER)
    edited = dict(doc(merged), mtu=9000)
    plan = absent(json.dumps(edited).encode(), merged["record"])
    assert doc(plan) == {"log-level": "warn", "storage-driver": "vfs", "mtu": 9000}


def test_reset_of_an_edit_that_came_back_to_the_original_restores_its_bytes():
    merged = present(USER)
    reordered = json.dumps(dict(reversed(list(doc(merged).items())))).encode()
    plan = absent(reordered, merged["record"])
    assert plan["content"] == USER and plan["action"] == "restore"


def test_reset_when_the_user_removed_podnets_file_or_every_key():
    merged = present(None)
    assert absent(None, merged["record"])["content"] is None
    plan = absent(b'{"mtu": 9000}', merged["record"])
    assert doc(plan) == {"mtu": 9000}
    emptied = absent(b"{}", merged["record"])
    assert emptied["content"] is None and emptied["action"] == "delete"


def test_keys_podnet_no_longer_sets_get_their_previous_value_back():
    merged = present(b'{"fixed-cidr": "10.1.0.0/24", "log-level": "warn"}',
                     settings=dict(SETTINGS, **{"fixed-cidr": "10.244.1.128/25"}))
    plan = present(merged["content"], merged["record"])
    assert doc(plan)["fixed-cidr"] == "10.1.0.0/24" and plan["keys"] == ["fixed-cidr"]
    assert "fixed-cidr" not in plan["record"]["previous"]
    assert "fixed-cidr" not in plan["record"]["settings"]
    # the original is still the one from before podnet's first change
    assert daemon.decode_original(plan["record"]) == \
        b'{"fixed-cidr": "10.1.0.0/24", "log-level": "warn"}'
    back = absent(plan["content"], plan["record"])
    assert back["content"] == b'{"fixed-cidr": "10.1.0.0/24", "log-level": "warn"}'


def test_bridge_mode_switch_drops_bip_and_sets_bridge():
    merged = present(USER)
    cbr0 = {"bridge": "cbr0", "mtu": 1450, "ip-masq": False, "iptables": True}
    plan = present(merged["content"], merged["record"], settings=cbr0)
    assert "bip" not in doc(plan) and doc(plan)["bridge"] == "cbr0"
    assert absent(plan["content"], plan["record"])["content"] == USER


def test_whitespace_only_file_counts_as_empty():
    plan = present(b" \n")
    assert doc(plan) == SETTINGS
    assert absent(plan["content"], plan["record"])["content"] == b" \n"


@pytest.mark.parametrize("content", [b"{", b"[]", b'"x"', b"\xff{}"])
def test_a_file_that_is_not_a_json_object_is_refused(content):
    with pytest.raises(daemon.DaemonJsonError):
        present(content)


def test_record_round_trip_and_validation():
    record = present(USER)["record"]
    assert daemon.load_record(daemon.render_record(record)) == record
    assert daemon.load_record(None) is None
    for bad in (b"nope", b"[]", b'{"version": 1}', b'{"version": 2, "previous": {}, "settings": {}}'):
        with pytest.raises(daemon.DaemonJsonError):
            daemon.load_record(bad)


# --- the role's inputs -> podnet's keys ------------------------------------------------------
def settings(bridge="docker0", bridge_address="10.244.1.1/24", fixed_cidr="", mtu=1450, options=None,
             fixed_cidr_v6=None):
    return daemon.daemon_settings(bridge, bridge_address, fixed_cidr, mtu, options or {}, fixed_cidr_v6)


# daemon.json as podnet wrote it before dual stack came, for a user's file and no file:
# podnet_docker_fixed_cidr_v6 unset (null, or "") must keep these bytes (a changed file
# would restart dockerd on every upgraded node).
IPV4_ONLY_DOCKER0 = (b'{\n  "log-level": "warn",\n  "bip": "10.244.1.1/24",\n  "ip-masq": false,\n'
                     b'  "iptables": true,\n  "mtu": 1450\n}\n')
IPV4_ONLY_CBR0 = (b'{\n  "bridge": "cbr0",\n  "fixed-cidr": "10.244.1.128/25",\n  "ip-masq": false,\n'
                  b'  "iptables": true,\n  "mtu": 1450,\n  "storage-driver": "vfs"\n}\n')


@pytest.mark.parametrize("unset", [None, ""])
def test_without_an_ipv6_prefix_daemon_json_is_byte_for_byte_the_ipv4_only_one(unset):
    got = present(b'{"log-level": "warn"}', settings=settings(fixed_cidr_v6=unset))
    assert got["content"] == IPV4_ONLY_DOCKER0
    got = present(None, settings=settings(bridge="cbr0", bridge_address="", fixed_cidr="10.244.1.128/25",
                                          options={"storage-driver": "vfs"}, fixed_cidr_v6=unset))
    assert got["content"] == IPV4_ONLY_CBR0


def test_dual_stack_turns_on_ipv6_with_the_nodes_prefix_and_no_ip6tables():
    got = settings(fixed_cidr_v6="fd00:10:244:1::/64",
                   options={"ipv6": False, "fixed-cidr-v6": "fd00:99::/64", "storage-driver": "vfs"})
    assert got == {"storage-driver": "vfs", "bip": "10.244.1.1/24", "mtu": 1450, "ip-masq": False,
                   "iptables": True, "ipv6": True, "fixed-cidr-v6": "fd00:10:244:1::/64"}
    assert "ip6tables" not in got and "experimental" not in got
    # written after the user's keys; the record lets `absent` take both out again
    plan = present(b'{"log-level": "warn"}', settings=got)
    assert plan["content"] == (
        b'{\n  "log-level": "warn",\n  "bip": "10.244.1.1/24",\n  "fixed-cidr-v6": "fd00:10:244:1::/64",\n'
        b'  "ip-masq": false,\n  "iptables": true,\n  "ipv6": true,\n  "mtu": 1450,\n'
        b'  "storage-driver": "vfs"\n}\n')
    assert plan["keys"] == ["bip", "fixed-cidr-v6", "ip-masq", "iptables", "ipv6", "mtu", "storage-driver"]
    assert absent(plan["content"], plan["record"])["content"] == b'{"log-level": "warn"}'
    # a node back to IPv4 only: podnet's IPv6 keys go, the file is the IPv4-only one again
    back = present(plan["content"], plan["record"], settings=settings())
    assert back["keys"] == ["fixed-cidr-v6", "ipv6", "storage-driver"]
    assert back["content"] == IPV4_ONLY_DOCKER0
    # on cbr0 (Docker keeps the bridge's own address inside the prefix as its gateway)
    assert settings(bridge="cbr0", bridge_address="", fixed_cidr_v6="fd00:10:244:1::/64")["fixed-cidr-v6"] == \
        "fd00:10:244:1::/64"


def test_docker0_gets_the_gateway_as_bip_and_options_never_override_network_keys():
    got = settings(options={"storage-driver": "vfs", "mtu": 9000, "bridge": "br9", "ip-masq": True})
    assert got == {"storage-driver": "vfs", "bip": "10.244.1.1/24", "mtu": 1450,
                   "ip-masq": False, "iptables": True}


def test_another_bridge_is_attached_with_its_fixed_cidr():
    got = settings(bridge="cbr0", fixed_cidr="10.244.1.128/25")
    assert got == {"bridge": "cbr0", "fixed-cidr": "10.244.1.128/25", "mtu": 1450,
                   "ip-masq": False, "iptables": True}
    # without an address (cbr0 carries it) and a fixed-cidr only checked for its form
    assert settings(bridge="cbr0", bridge_address="", fixed_cidr="10.9.0.0/24")["fixed-cidr"] == "10.9.0.0/24"


@pytest.mark.parametrize("inputs, culprit", [
    (dict(bridge="a-very-long-bridge"), "podnet_docker_bridge='a-very-long-bridge'"),
    (dict(bridge="br 0"), "podnet_docker_bridge='br 0'"),
    (dict(bridge_address=""), "podnet_docker_bridge_address is empty, but podnet_docker_bridge=docker0"),
    (dict(bridge_address="10.244.1.1"), "podnet_docker_bridge_address='10.244.1.1'"),
    (dict(bridge_address="10.244.1.0/24"), "podnet_docker_bridge_address='10.244.1.0/24'"),
    (dict(bridge_address="fd00::1/64"), "podnet_docker_bridge_address='fd00::1/64'"),
    (dict(fixed_cidr="10.244.1.129/25"), "podnet_docker_fixed_cidr='10.244.1.129/25'"),
    (dict(fixed_cidr="10.245.0.0/25"), "podnet_docker_fixed_cidr=10.245.0.0/25 lies outside the pod "
                                       "subnet 10.244.1.0/24"),
    (dict(mtu=12), "podnet_docker_mtu=12"),
    (dict(fixed_cidr_v6="fd00:10:244:1::1/64"), "podnet_docker_fixed_cidr_v6='fd00:10:244:1::1/64'"),
    (dict(fixed_cidr_v6="fd00:10:244:1::"), "podnet_docker_fixed_cidr_v6='fd00:10:244:1::'"),
    (dict(fixed_cidr_v6="10.244.1.0/24"), "podnet_docker_fixed_cidr_v6='10.244.1.0/24'"),
    (dict(fixed_cidr_v6="fd00:10:244:1::/96"), "podnet_docker_fixed_cidr_v6=fd00:10:244:1::/96 is longer"),
])
def test_inputs_that_cannot_work_are_refused_naming_the_role_variable(inputs, culprit):
    with pytest.raises(daemon.DockerInputError) as refused:
        settings(**inputs)
    assert str(refused.value).startswith(culprit)
    assert "pass" in str(refused.value)


# --- docker.service and docker0 -----------------------------------------------------------
RUNNING = {"LoadState": "loaded", "UnitFileState": "enabled", "ActiveState": "active"}
STOPPED = dict(RUNNING, UnitFileState="disabled", ActiveState="inactive")
NOT_INSTALLED = {"LoadState": "not-found", "UnitFileState": "", "ActiveState": "inactive"}


def test_a_running_enabled_dockerd_is_left_alone_when_nothing_changed():
    assert daemon.service_plan("present", RUNNING, False, True) == ([], None)


def test_a_change_of_daemon_json_restarts_a_running_dockerd_once():
    assert daemon.service_plan("present", RUNNING, True, True) == (["stop", "start"], None)
    steps, warning = daemon.service_plan("present", RUNNING, True, False)
    assert steps == [] and "restart docker.service" in warning


def test_a_stopped_or_disabled_dockerd_is_enabled_and_started_once():
    assert daemon.service_plan("present", STOPPED, True, True) == (["enable", "start"], None)
    assert daemon.service_plan("present", STOPPED, False, False) == (["enable", "start"], None)
    runtime = dict(RUNNING, UnitFileState="enabled-runtime")
    assert daemon.service_plan("present", runtime, False, True) == (["enable"], None)


def test_absent_restarts_only_a_running_dockerd_whose_file_changed():
    assert daemon.service_plan("absent", RUNNING, True, True) == (["restart"], None)
    assert daemon.service_plan("absent", RUNNING, False, True) == ([], None)
    assert daemon.service_plan("absent", STOPPED, True, True) == ([], None)
    assert daemon.service_plan("absent", RUNNING, True, False) == ([], None)
    assert daemon.service_plan("absent", {}, False, True) == ([], None)


def test_a_masked_or_missing_docker_service_is_refused():
    assert daemon.unit_refusal(RUNNING) is None
    assert "systemctl unmask docker.service" in daemon.unit_refusal(dict(STOPPED, UnitFileState="masked"))
    assert "podnet_docker_packages" in daemon.unit_refusal(NOT_INSTALLED)


# `ip -json -4 addr show dev docker0` of Debian's iproute2 6.1 (trimmed)
DOCKER0_DEFAULT = json.loads(
    '[{"ifindex":3,"ifname":"docker0","flags":["NO-CARRIER","BROADCAST","MULTICAST","UP"],'
    '"mtu":1500,"qdisc":"noqueue","operstate":"DOWN","group":"default","txqlen":1000,'
    '"addr_info":[{"family":"inet","local":"172.17.0.1","prefixlen":16,'
    '"broadcast":"172.17.255.255","scope":"global","label":"docker0",'
    '"valid_life_time":4294967295,"preferred_life_time":4294967295}]}]')
DOCKER0_NO_ADDRESS = json.loads('[{"ifindex":3,"ifname":"docker0","addr_info":[]}]')


def test_docker0_on_another_subnet_is_stale():
    assert daemon.stale_docker0(DOCKER0_DEFAULT, "10.244.1.1/24")
    assert not daemon.stale_docker0(DOCKER0_DEFAULT, "172.17.0.1/16")
    # Docker attached to cbr0: a docker0 with any address is a leftover of its store
    assert daemon.stale_docker0(DOCKER0_DEFAULT, "")
    assert not daemon.stale_docker0(DOCKER0_NO_ADDRESS, "")
    # no docker0 at all
    assert not daemon.stale_docker0(None, "10.244.1.1/24")
    assert not daemon.stale_docker0([], "")


# `ip -json addr show dev docker0` on a dual-stack test host (Debian 12, iproute2 6.1) right
# after Docker 20.10 started with bip 10.244.1.1/24, ipv6 and fixed-cidr-v6 fd00:10:244:1::/64
DOCKER0_DUAL = json.loads(
    '[{"ifindex":8,"ifname":"docker0","flags":["NO-CARRIER","BROADCAST","MULTICAST","UP"],"mtu":1500,'
    '"qdisc":"noqueue","operstate":"DOWN","group":"default","link_type":"ether","address":"02:42:a2:49:3e:72",'
    '"broadcast":"ff:ff:ff:ff:ff:ff","addr_info":[{"family":"inet","local":"10.244.1.1","prefixlen":24,'
    '"broadcast":"10.244.1.255","scope":"global","label":"docker0","valid_life_time":4294967295,'
    '"preferred_life_time":4294967295},{"family":"inet6","local":"fd00:10:244:1::1","prefixlen":64,'
    '"scope":"global","tentative":true,"valid_life_time":4294967295,"preferred_life_time":4294967295},'
    '{"family":"inet6","local":"fe80::1","prefixlen":64,"scope":"link","tentative":true,'
    '"valid_life_time":4294967295,"preferred_life_time":4294967295}]}]')


def test_docker0_with_an_ipv6_address_outside_its_prefix_is_stale():
    assert not daemon.stale_docker0(DOCKER0_DUAL, "10.244.1.1/24", "fd00:10:244:1::/64")
    # IPv6 turned off, or the node's prefix moved: Docker would leave the old address
    assert daemon.stale_docker0(DOCKER0_DUAL, "10.244.1.1/24", None)
    assert daemon.stale_docker0(DOCKER0_DUAL, "10.244.1.1/24", "fd00:10:244:2::/64")
    assert daemon.stale_docker0(DOCKER0_DUAL, "10.244.1.1/24", "fd00:10:244::/56")
    # Docker's link-local fe80::1 alone is no reason
    link_local = [dict(DOCKER0_DUAL[0], addr_info=[info for info in DOCKER0_DUAL[0]["addr_info"]
                                                   if info["local"] != "fd00:10:244:1::1"])]
    assert not daemon.stale_docker0(link_local, "10.244.1.1/24")
    assert not daemon.stale_docker0(link_local, "10.244.1.1/24", "fd00:10:244:1::/64")


def test_the_drop_in_orders_dockerd_after_podnet_service():
    content = daemon.dropin_content()
    assert content.startswith("#\n# Ansible managed")
    assert "[Unit]\nAfter=podnet.service\n" in content
    assert "podnet-bridge.service" not in content
