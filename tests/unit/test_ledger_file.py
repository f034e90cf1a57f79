# SPDX-License-Identifier: GPL-3.0-or-later
"""The ledger file as the podnet_plan_ledger action reads it: an empty file, a wrong type
at the top or a bad record stops the run naming the file and the key path, before any
filter sees the document (the filters used to fail on it with Python's own errors)."""

import pytest

from ansible_collections.podnet.network.tests.unit.ledger_samples import (
    ACTION, VALID, VALID_TEXT, changed, written)


def test_a_valid_ledger_reads_back_as_written(tmp_path):
    assert ACTION.read_ledger(written(tmp_path, VALID_TEXT)) == VALID


def test_a_missing_ledger_is_a_first_run(tmp_path):
    assert ACTION.read_ledger(str(tmp_path / "absent.yml")) == {}


@pytest.mark.parametrize("text", ["", "\n\n  \n", "# podnet ledger\n# nothing else\n", "---\n", b""])
def test_an_empty_ledger_stops_the_run_naming_the_file(tmp_path, text):
    path = written(tmp_path, text)
    with pytest.raises(ACTION.LedgerError) as info:
        ACTION.read_ledger(path)
    message = " ".join(str(info.value).split())
    assert message.startswith("%s is empty: podnet found no ledger in it" % path), message
    assert "delete the file to start over, or restore it from version control" in message, message


@pytest.mark.parametrize("key, value, fragment", [
    ("nodes", ["a1", "a2"], "nodes: expected a mapping of hostname to record, got a list"),
    ("zones", ["a", "b"], "zones: expected a mapping of zone to block, got a list"),
    ("routing", "auto", "routing: expected a mapping, got a str"),
])
def test_a_wrong_type_at_the_top_names_the_file_and_the_key(tmp_path, key, value, fragment):
    path = written(tmp_path, ACTION.render_ledger(dict(VALID, **{key: value})))
    with pytest.raises(ACTION.LedgerError) as info:
        ACTION.read_ledger(path)
    message = " ".join(str(info.value).split())
    assert message.startswith(path + ": "), message
    assert fragment in message, message
    assert "restore it from version control" in message, message


def test_a_bad_record_names_the_file_not_the_host_alone(tmp_path):
    document = changed(("nodes", "a1", "pod_cidr"), "banana")
    path = written(tmp_path, ACTION.render_ledger(document))
    with pytest.raises(ACTION.LedgerError) as info:
        ACTION.read_ledger(path)
    message = " ".join(str(info.value).split())
    assert message.startswith(path + ": nodes.a1.pod_cidr: 'banana' is not an IPv4 CIDR"), message
