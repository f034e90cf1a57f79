"""podnet_docker_daemon: the pure plan of merging into and giving back daemon.json.

The module is loaded from its file (roles/podnet_docker/library is no package); only its
pure functions run here, on bytes as they would be read from disk.
"""

import json

import pytest
from role_modules import load_role_module



daemon = load_role_module("podnet_docker", "podnet_docker_daemon")

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
