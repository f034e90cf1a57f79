# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet_flannel_env's pure steps without a host: the inputs' meaning (messages name the
role variables), flannel's subnet file and the tmpfiles.d entry that recreates it at boot."""

import pytest
import yaml
from ansible_collections.podnet.network.tests.unit.role_modules import load_module, run_module

env = load_module("podnet_flannel_env")
PATH = "/run/flannel/subnet.env"


def test_the_subnet_file_is_flannels_format():
    errors, values = env.check_params("10.244.0.0/16", "10.244.1.1/24", "1450", PATH)
    assert errors == [] and values == {"network": "10.244.0.0/16", "subnet": "10.244.1.1/24", "mtu": 1450}
    text = env.subnet_env(values, False)
    assert [line for line in text.splitlines() if not line.startswith("#")] == [
        "FLANNEL_NETWORK=10.244.0.0/16", "FLANNEL_SUBNET=10.244.1.1/24",
        "FLANNEL_MTU=1450", "FLANNEL_IPMASQ=false"]
    assert "FLANNEL_IPMASQ=true\n" in env.subnet_env(values, True)


def test_the_tmpfiles_entry_recreates_the_same_bytes_at_boot():
    content = "# 100% podnet's\nFLANNEL_MTU=1450\n"
    entry = env.tmpfiles_entry(PATH, content)
    lines = [line for line in entry.splitlines() if not line.startswith("#")]
    assert lines[0] == "d /run/flannel 0755 root root -"
    prefix = "f+ %s 0644 root root - " % PATH
    assert lines[1].startswith(prefix) and len(lines) == 2
    argument = lines[1][len(prefix):]
    # systemd-tmpfiles resolves C escapes and %% in the argument
    assert argument.replace("%%", "%").encode().decode("unicode_escape") == content


@pytest.mark.parametrize("network, subnet, mtu, path, variable", [
    ("10.244.0.1/16", "10.244.1.1/24", 1450, PATH, "podnet_flannel_env_network='10.244.0.1/16'"),
    ("", "10.244.1.1/24", 1450, PATH, "podnet_flannel_env_network=''"),
    ("10.244.0.0/16", "10.244.1.0/24", 1450, PATH, "podnet_flannel_env_subnet='10.244.1.0/24'"),
    ("10.244.0.0/16", "10.244.1.1", 1450, PATH, "podnet_flannel_env_subnet='10.244.1.1'"),
    ("10.244.0.0/16", "10.9.1.1/24", 1450, PATH, "podnet_flannel_env_subnet=10.9.1.1/24 lies outside"),
    ("10.244.0.0/16", "10.244.1.1/24", 500, PATH, "podnet_flannel_env_mtu=500"),
    ("10.244.0.0/16", "10.244.1.1/24", "x", PATH, "podnet_flannel_env_mtu='x'"),
    ("10.244.0.0/16", "10.244.1.1/24", 1450, "subnet.env", "podnet_flannel_env_path='subnet.env'"),
])
def test_bad_inputs_are_refused_naming_the_role_variable(network, subnet, mtu, path, variable):
    errors, values = env.check_params(network, subnet, mtu, path)
    assert values is None and len(errors) == 1 and errors[0].startswith(variable), errors


def test_module_documents_every_option():
    doc = yaml.safe_load(env.DOCUMENTATION)
    assert set(doc["options"]) == {"network", "subnet", "network_ipv6", "subnet_ipv6", "mtu", "ipmasq",
                                   "path", "state"}
    # check and diff mode: full, from the shared fragment
    assert doc["extends_documentation_fragment"] == ["podnet.network.attributes"]
    assert yaml.safe_load(env.EXAMPLES) and yaml.safe_load(env.RETURN)


FLANNELDS = "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.7.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n"


@pytest.mark.parametrize("state", ["present", "absent"])
def test_a_subnet_file_podnet_did_not_write_is_left_alone(tmp_path, state):
    # Reset used to remove /run/flannel/subnet.env whoever wrote it (a running flanneld's
    # included), and a run to overwrite it.
    path = tmp_path / "subnet.env"
    path.write_text(FLANNELDS)
    result = run_module("podnet_flannel_env", dict(state=state, path=str(path), network="10.244.0.0/16",
                                                   subnet="10.244.1.1/24", mtu=1450))
    assert not result.get("failed"), result
    assert not [a for a in result["actions"] if str(path) in a], result["actions"]
    assert result["left_alone"] and "not written by podnet" in result["left_alone"][0]
    assert path.read_text() == FLANNELDS


def test_podnets_own_subnet_file_is_podnets():
    errors, values = env.check_params("10.244.0.0/16", "10.244.1.1/24", "1450", PATH)
    assert env.foreign_subnet_env(env.subnet_env(values, False), PATH) == []
    assert env.foreign_subnet_env(None, PATH) == []
    assert env.foreign_subnet_env(FLANNELDS, PATH)
