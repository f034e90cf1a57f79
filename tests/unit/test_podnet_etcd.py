# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/podnet_etcd.py: the etcdctl environment file both etcd modules read."""

import pytest
from ansible_collections.podnet.network.tests.unit.role_modules import load_module, load_module_utils

etcd = load_module_utils("podnet_etcd")

# what roles/podnet_etcd/templates/etc/etcd/podnet-etcdctl.env.j2 renders
RENDERED = """\
#
# Ansible managed
#
# podnet: etcdctl settings for this member's cluster (role podnet_etcd). Use with
#   set -a; . /etc/etcd/podnet-etcdctl.env; set +a; etcdctl member list
ETCDCTL_API=3
ETCDCTL_ENDPOINTS=https://192.0.2.10:2379
ETCDCTL_CACERT=/etc/etcd/pki/ca.crt
ETCDCTL_CERT=/etc/etcd/pki/client.crt
ETCDCTL_KEY=/etc/etcd/pki/client.key
"""


def test_the_rendered_environment_file_gives_every_etcdctl_setting():
    assert etcd.parse_env(RENDERED) == {
        "ETCDCTL_API": "3",
        "ETCDCTL_ENDPOINTS": "https://192.0.2.10:2379",
        "ETCDCTL_CACERT": "/etc/etcd/pki/ca.crt",
        "ETCDCTL_CERT": "/etc/etcd/pki/client.crt",
        "ETCDCTL_KEY": "/etc/etcd/pki/client.key",
    }


def test_quotes_spaces_and_lines_without_a_setting():
    text = ' KEY = "a=b" \n\nnot a setting\n# X=1\nEMPTY=\n'
    assert etcd.parse_env(text) == {"KEY": "a=b", "EMPTY": ""}


class FakeModule:
    def __init__(self, answer):
        self.answer, self.calls, self.check_mode = answer, [], False

    def get_bin_path(self, tool, required=False):
        return "/usr/bin/" + tool

    def run_command(self, argv, data=None, binary_data=False, environ_update=None):
        self.calls.append((argv, data, binary_data, environ_update))
        return self.answer

    def fail_json(self, **result):
        raise AssertionError(result)


def test_etcdctl_speaks_api_3_in_the_c_locale_with_the_files_settings():
    module = FakeModule((0, '{"members": []}', ""))
    ctl = etcd.Etcdctl(module, {"ETCDCTL_ENDPOINTS": "https://192.0.2.10:2379", "ETCDCTL_API": "2"})
    assert ctl.call(["member", "list"]) == {"members": []}
    ((argv, data, binary, env),) = module.calls
    assert argv == ["/usr/bin/etcdctl", "--write-out=json", "member", "list"]
    assert binary and data is None
    assert env["ETCDCTL_API"] == "3" and env["LC_ALL"] == "C"
    assert env["ETCDCTL_ENDPOINTS"] == "https://192.0.2.10:2379"


def test_a_failed_etcdctl_names_the_command_and_carries_what_was_read():
    result = {"kvs": {"/k": {}}}
    module = FakeModule((1, "", "context deadline exceeded\n"))
    with pytest.raises(AssertionError) as failed:
        etcd.Etcdctl(module, {}, failure=result).call(["get", "--prefix", "/p/"])
    failure = failed.value.args[0]
    assert failure["msg"] == ("etcdctl get --prefix /p/ failed (is a quorum of etcd members "
                              "up?): context deadline exceeded")
    assert failure["kvs"] == {"/k": {}}


def test_both_etcd_modules_import_the_shared_client():
    member = load_module("podnet_etcd_member")
    kv = load_module("podnet_etcd_kv")
    assert member.Etcdctl is kv.Etcdctl is etcd.Etcdctl
    assert member.read_env is kv.read_env is etcd.read_env


# what roles/podnet_etcd/templates/etc/systemd/system/etcd.service.d/podnet.conf.j2 renders
DROPIN = """\
[Service]
EnvironmentFile=
Environment="ETCD_NAME=node1"
Environment="ETCD_DATA_DIR=/var/lib/etcd/podnet"
Environment=ETCD_CLIENT_CERT_AUTH=true
"""


def test_the_drop_in_gives_the_data_directory_etcd_runs_on():
    assert etcd.dropin_setting(DROPIN, "ETCD_DATA_DIR") == "/var/lib/etcd/podnet"
    assert etcd.dropin_setting(DROPIN, "ETCD_CLIENT_CERT_AUTH") == "true"
    assert etcd.dropin_setting(DROPIN, "ETCD_NAME_X") is None
    assert etcd.dropin_setting(None, "ETCD_DATA_DIR") is None


@pytest.mark.parametrize("deployed,wanted_has,deployed_has,refused", [
    ("/var/lib/etcd/podnet", False, True, False),   # unchanged
    ("/srv/etcd", False, True, True),               # changed under a running member: refused
    ("/srv/etcd", True, False, False),              # the operator moved the data: allowed
    ("/srv/etcd", True, True, False),               # copied: etcd takes the wanted one
    ("/srv/etcd", False, False, False),             # nothing anywhere: a member without data
    ("", False, False, False),                      # no drop-in yet: a new member
])
def test_a_data_directory_change_is_refused_only_under_a_running_members_data(deployed, wanted_has, deployed_has,
                                                                              refused):
    message = etcd.data_dir_change("node1", "/var/lib/etcd/podnet", deployed, wanted_has, deployed_has)
    assert (message is not None) == refused
    if refused:
        assert "mv /srv/etcd /var/lib/etcd/podnet" in message and "Nothing was changed" in message
