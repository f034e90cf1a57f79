# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet_cni's pure steps without a host: the inputs' meaning (messages name the role
variables) and the conflist it renders (valid, deterministic JSON, the same network the
role's Jinja template used to render)."""

import json

import pytest
import yaml
from ansible_collections.podnet.network.tests.unit.role_modules import load_module, run_module

cni = load_module("podnet_cni")
BASE = {"conf_dir": "/etc/cni/net.d", "network_name": "podnet", "version": "1.0.0", "bridge": "cbr0",
        "subnet": "10.244.1.0/24", "gateway": "10.244.1.1", "range_start": "", "range_end": "",
        "mtu": 1450, "portmap": True, "state": "present"}


def params(**changes):
    return dict(BASE, **changes)


def render(**changes):
    p = params(**changes)
    errors, values = cni.check_params(p)
    assert errors == []
    return cni.render(cni.conflist(p, values))


def test_the_conflist_is_the_bridge_plugin_with_host_local_then_portmap():
    text = render(range_end="10.244.1.127")
    assert text == render(range_end="10.244.1.127") and text.endswith("}\n")
    assert json.loads(text) == {
        "cniVersion": "1.0.0", "name": "podnet",
        "plugins": [
            {"type": "bridge", "bridge": "cbr0", "isGateway": True, "ipMasq": False,
             "hairpinMode": True, "mtu": 1450,
             "ipam": {"type": "host-local",
                      "ranges": [[{"subnet": "10.244.1.0/24", "gateway": "10.244.1.1",
                                   "rangeStart": "10.244.1.2", "rangeEnd": "10.244.1.127"}]],
                      "routes": [{"dst": "0.0.0.0/0"}]}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
        "podnet": cni.MARK,
    }


def test_options_shape_the_conflist():
    conf = json.loads(render(portmap=False, range_start="10.244.1.10", gateway="10.244.1.1/24", mtu="1500"))
    assert [plugin["type"] for plugin in conf["plugins"]] == ["bridge"]
    ipam = conf["plugins"][0]["ipam"]["ranges"][0][0]
    assert ipam == {"subnet": "10.244.1.0/24", "gateway": "10.244.1.1", "rangeStart": "10.244.1.10"}
    assert conf["plugins"][0]["mtu"] == 1500


def test_the_file_is_named_after_the_network():
    assert cni.conflist_path("/etc/cni/net.d", "podnet") == "/etc/cni/net.d/10-podnet.conflist"


@pytest.mark.parametrize("changes, variable", [
    ({"bridge": "docker0"}, "podnet_cni_bridge=docker0"),
    ({"subnet": ""}, "podnet_cni_subnet=''"),
    ({"subnet": "10.244.1.1/24"}, "podnet_cni_subnet='10.244.1.1/24'"),
    ({"subnet": "10.244.1.0"}, "podnet_cni_subnet="),
    ({"gateway": "10.244.2.1"}, "podnet_cni_gateway='10.244.2.1'"),
    ({"gateway": "10.244.1.0"}, "podnet_cni_gateway='10.244.1.0'"),
    ({"gateway": ""}, "podnet_cni_gateway=''"),
    ({"gateway": "10.244.1.254"}, "podnet_cni_gateway=10.244.1.254 leaves no address"),
    ({"range_end": "10.244.9.9"}, "podnet_cni_range_end='10.244.9.9'"),
    ({"range_start": "10.244.1.200", "range_end": "10.244.1.100"}, "podnet_cni_range_start=10.244.1.200"),
    ({"mtu": 12}, "podnet_cni_mtu=12"),
    ({"mtu": "big"}, "podnet_cni_mtu='big'"),
    ({"network_name": "../etc"}, "podnet_cni_network_name='../etc'"),
])
def test_bad_inputs_are_refused_naming_the_role_variable(changes, variable):
    errors, values = cni.check_params(params(**changes))
    assert values is None and len(errors) == 1 and errors[0].startswith(variable), errors


def test_absent_checks_only_the_network_name():
    assert cni.check_params({"state": "absent", "network_name": "podnet"}) == ([], None)
    errors, dummy = cni.check_params({"state": "absent", "network_name": "a/b"})
    assert errors and errors[0].startswith("podnet_cni_network_name=")


def test_module_documents_every_option():
    doc = yaml.safe_load(cni.DOCUMENTATION)
    assert set(doc["options"]) == set(BASE)
    # check and diff mode: full, from the shared fragment
    assert doc["extends_documentation_fragment"] == ["podnet.network.attributes"]
    assert yaml.safe_load(cni.EXAMPLES) and yaml.safe_load(cni.RETURN)


FOREIGN = json.dumps({"cniVersion": "1.0.0", "name": "podnet",
                      "plugins": [{"type": "calico", "ipam": {"type": "calico-ipam"}}]}) + "\n"
ARGS = dict(subnet="10.244.1.0/24", gateway="10.244.1.1", mtu=1450)


def test_the_conflist_carries_podnets_mark_and_older_ones_are_podnets_by_shape():
    text = render()
    assert json.loads(text)["podnet"] == cni.MARK and cni.podnet_wrote(text)
    older = json.loads(text)
    del older["podnet"]
    assert cni.podnet_wrote(json.dumps(older))
    assert not cni.podnet_wrote(FOREIGN) and not cni.podnet_wrote("not json")


def test_a_conflist_podnet_did_not_write_stops_the_run(tmp_path):
    (tmp_path / "10-podnet.conflist").write_text(FOREIGN)
    result = run_module("podnet_cni", dict(ARGS, conf_dir=str(tmp_path)))
    assert result.get("failed") and "podnet did not write it" in result["msg"], result
    assert (tmp_path / "10-podnet.conflist").read_text() == FOREIGN


def test_reset_leaves_a_foreign_conflist_and_the_watched_directory(tmp_path):
    conf_dir = tmp_path / "net.d"
    conf_dir.mkdir()
    (conf_dir / "10-podnet.conflist").write_text(FOREIGN)
    result = run_module("podnet_cni", dict(conf_dir=str(conf_dir), state="absent"), check_mode=False)
    assert not result.get("failed") and result["left_alone"], result
    assert (conf_dir / "10-podnet.conflist").read_text() == FOREIGN
    # podnet's own conflist goes; the emptied directory a runtime watches stays.
    (conf_dir / "10-podnet.conflist").write_text(render())
    result = run_module("podnet_cni", dict(conf_dir=str(conf_dir), state="absent"), check_mode=False)
    assert result["actions"] == ["rm %s/10-podnet.conflist" % conf_dir], result
    assert conf_dir.is_dir()
