# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet_files (library/, shared by the roles that only keep files) without a host: its
pure plan, and podnet_host.remove_emptied_directory, which makes its check mode truthful
about directories that the removal of its files leaves empty."""

import pytest
import yaml
from ansible_collections.podnet.network.tests.unit.role_modules import load_module, load_module_utils

files = load_module("podnet_files")
host = load_module_utils("podnet_host")
FACT = "/etc/ansible/facts.d/podnet.fact"


def test_present_keeps_each_file_with_its_content_and_mode():
    error, wanted, dirs = files.plan_files(
        [{"path": FACT, "content": "{}\n", "mode": None},
         {"path": "/etc/podnet//x.conf", "content": "", "mode": "600"}], "present", ["/etc/ansible/facts.d"])
    assert error is None
    assert wanted == [(FACT, "{}\n", "0644"), ("/etc/podnet/x.conf", "", "0600")]
    assert dirs == []  # only absent removes directories


def test_absent_needs_no_content_and_lists_the_directories_in_order():
    error, wanted, dirs = files.plan_files([{"path": FACT}], "absent", ["/etc/ansible/facts.d", "/etc/ansible"])
    assert error is None and wanted == [(FACT, None, "0644")]
    assert dirs == ["/etc/ansible/facts.d", "/etc/ansible"]


@pytest.mark.parametrize("items, state, dirs, culprit", [
    ([{"path": "podnet.fact", "content": ""}], "present", [], "'podnet.fact' must be absolute"),
    ([{"path": FACT, "content": "a"}, {"path": FACT + "/", "content": "b"}], "present", [], "listed twice"),
    ([{"path": FACT, "content": "a", "mode": "rw-r--r--"}], "present", [], "mode 'rw-r--r--'"),
    ([{"path": FACT, "content": "a", "mode": "0844"}], "present", [], "must be octal"),
    ([{"path": FACT}], "present", [], "has no content"),
    ([{"path": FACT}], "absent", ["facts.d"], "remove_dirs_if_empty: 'facts.d'"),
])
def test_bad_lists_are_refused_naming_the_file(items, state, dirs, culprit):
    error, wanted, directories = files.plan_files(items, state, dirs)
    assert culprit in error and wanted == [] and directories == []


class FakeModule:
    def __init__(self, check_mode):
        self.check_mode = check_mode

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs)


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_directory_emptied_by_the_removal_goes_with_its_empty_parent(tmp_path, check_mode):
    parent = tmp_path / "ansible"
    facts = parent / "facts.d"
    facts.mkdir(parents=True)
    (facts / "podnet.fact").write_text("{}\n")
    if not check_mode:  # persist_file removed it; in check mode it is still there
        (facts / "podnet.fact").unlink()
    gone, actions = {str(facts / "podnet.fact")}, []
    module = FakeModule(check_mode)
    assert host.remove_emptied_directory(module, str(facts), actions, gone)
    assert host.remove_emptied_directory(module, str(parent), actions, gone)
    assert actions == ["rmdir %s" % facts, "rmdir %s" % parent]
    assert parent.exists() == check_mode


def test_someone_elses_file_keeps_the_directory(tmp_path):
    (tmp_path / "podnet.fact").write_text("{}\n")
    (tmp_path / "site.fact").write_text("{}\n")
    actions = []
    gone = {str(tmp_path / "podnet.fact")}
    assert not host.remove_emptied_directory(FakeModule(False), str(tmp_path), actions, gone)
    assert actions == [] and tmp_path.exists()
    assert not host.remove_emptied_directory(FakeModule(False), str(tmp_path / "none"), actions, gone)


def test_module_documents_every_option():
    doc = yaml.safe_load(files.DOCUMENTATION)
    assert set(doc["options"]) == {"files", "remove_dirs_if_empty", "state"}
    assert set(doc["options"]["files"]["suboptions"]) == {"path", "content", "mode"}
    # check and diff mode: full, from the shared fragment
    assert doc["extends_documentation_fragment"] == ["podnet.network.attributes"]
    assert yaml.safe_load(files.EXAMPLES) and yaml.safe_load(files.RETURN)


@pytest.mark.parametrize("value, number", [
    (1450, 1450), ("1450", 1450), (" 68 ", 68), ("0", 0),
    (True, None), ("jumbo", None), ("-1", None), ("1.5", None), (None, None), ("١٢", None),
])
def test_as_int_takes_numbers_and_digit_strings_only(value, number):
    assert host.as_int(value) == number


class _CheckModule:
    check_mode = True


def test_a_proc_write_is_recorded_as_the_sysctl_to_type():
    actions = []
    host.write_proc(_CheckModule(), "/proc/sys/net/ipv6/conf/cbr0/disable_ipv6", "0", actions)
    # A device name with a dot (flannel.1) makes the dotted form ambiguous: slashes then.
    host.write_proc(_CheckModule(), "/proc/sys/net/ipv6/conf/flannel.1/disable_ipv6", "0", actions)
    assert actions == ["sysctl -w net.ipv6.conf.cbr0.disable_ipv6=0",
                       "sysctl -w net/ipv6/conf/flannel.1/disable_ipv6=0"]
