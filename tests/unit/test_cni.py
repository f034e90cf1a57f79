# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet_cni's pure steps without a host: the inputs' meaning (messages name the role
variables) and the conflist it renders (valid, deterministic JSON, the same network the
role's Jinja template used to render)."""

import ipaddress
import json

import pytest
import yaml
from ansible_collections.podnet.network.tests.unit.role_modules import load_module, run_module

cni = load_module("podnet_cni")
BASE = {"conf_dir": "/etc/cni/net.d", "network_name": "podnet", "version": "1.0.0", "bridge": "cbr0",
        "subnet": "10.244.1.0/24", "gateway": "10.244.1.1", "range_start": "", "range_end": "",
        "mtu": 1450, "portmap": True, "state": "present", "subnet_ipv6": None, "gateway_ipv6": ""}


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


# The IPv4-only conflist's exact bytes before dual stack came (podnet_cni_subnet_ipv6 unset
# must keep them: a changed file would be a changed task on every upgraded node).
IPV4_ONLY = """{
  "cniVersion": "1.0.0",
  "name": "podnet",
  "plugins": [
    {
      "bridge": "cbr0",
      "hairpinMode": true,
      "ipMasq": false,
      "ipam": {
        "ranges": [
          [
            {
              "gateway": "10.244.1.1",
              "rangeEnd": "10.244.1.127",
              "rangeStart": "10.244.1.2",
              "subnet": "10.244.1.0/24"
            }
          ]
        ],
        "routes": [
          {
            "dst": "0.0.0.0/0"
          }
        ],
        "type": "host-local"
      },
      "isGateway": true,
      "mtu": 1450,
      "type": "bridge"
    },
    {
      "capabilities": {
        "portMappings": true
      },
      "type": "portmap"
    }
  ],
  "podnet": "written by podnet's podnet_cni module; podnet's reset removes this file"
}
"""


@pytest.mark.parametrize("unset", [None, ""])
def test_without_an_ipv6_prefix_the_conflist_is_byte_for_byte_the_ipv4_only_one(unset):
    assert render(range_end="10.244.1.127", subnet_ipv6=unset) == IPV4_ONLY


def test_dual_stack_gives_host_local_a_range_per_family_and_a_default_route_each():
    conf = json.loads(render(range_end="10.244.1.127", subnet_ipv6="fd00:10:244:1::/64"))
    ipam = conf["plugins"][0]["ipam"]
    assert ipam == {
        "type": "host-local",
        "ranges": [[{"subnet": "10.244.1.0/24", "gateway": "10.244.1.1",
                     "rangeStart": "10.244.1.2", "rangeEnd": "10.244.1.127"}],
                   [{"subnet": "fd00:10:244:1::/64", "gateway": "fd00:10:244:1::1",
                     "rangeStart": "fd00:10:244:1:1::"}]],
        "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]}
    # everything else is the IPv4-only network's
    ipv4 = json.loads(IPV4_ONLY)
    conf["plugins"][0].pop("ipam")
    ipv4["plugins"][0].pop("ipam")
    assert conf == ipv4


def ipv6_range(**changes):
    return json.loads(render(**changes))["plugins"][0]["ipam"]["ranges"][1]


def test_the_ipv6_gateway_may_be_given_in_either_form():
    for gateway in ("fd00:10:244:1::1", "fd00:10:244:1::1/64", " fd00:10:244:1::1"):
        assert ipv6_range(subnet_ipv6="fd00:10:244:1::/64", gateway_ipv6=gateway) == [
            {"subnet": "fd00:10:244:1::/64", "gateway": "fd00:10:244:1::1", "rangeStart": "fd00:10:244:1:1::"}]


def test_host_local_leaves_the_gateways_80_to_docker():
    """Docker's container addresses on the bridge are the gateway's first 80 bits and the
    container's MAC (libnetwork's bridge driver, fixed-cidr-v6 of /80 or shorter)."""
    docker_block = ipaddress.IPv6Network("fd00:10:244:1::/80")
    start = ipaddress.IPv6Address(ipv6_range(subnet_ipv6="fd00:10:244:1::/64")[0]["rangeStart"])
    assert start == docker_block.broadcast_address + 1
    # a gateway elsewhere: the /80 after its own
    assert ipv6_range(subnet_ipv6="fd00:10:244:1::/64", gateway_ipv6="fd00:10:244:1:7::1")[0][
        "rangeStart"] == "fd00:10:244:1:8::"
    # no /80 after the gateway's, or a prefix too long for Docker: right after the gateway
    assert ipv6_range(subnet_ipv6="fd00:10:244:1::/64", gateway_ipv6="fd00:10:244:1:ffff::1")[0][
        "rangeStart"] == "fd00:10:244:1:ffff::2"
    assert ipv6_range(subnet_ipv6="fd00:10:244:1::/96")[0]["rangeStart"] == "fd00:10:244:1::2"


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
    ({"subnet_ipv6": "fd00:10:244:1::1/64"}, "podnet_cni_subnet_ipv6='fd00:10:244:1::1/64'"),
    ({"subnet_ipv6": "fd00:10:244:1::"}, "podnet_cni_subnet_ipv6='fd00:10:244:1::'"),
    ({"subnet_ipv6": "10.244.1.0/24"}, "podnet_cni_subnet_ipv6='10.244.1.0/24'"),
    ({"subnet_ipv6": "fd00::/127"}, "podnet_cni_subnet_ipv6='fd00::/127'"),
    ({"subnet_ipv6": "fd00:10:244:1::/64", "gateway_ipv6": "fd00:10:244:2::1"},
     "podnet_cni_gateway_ipv6='fd00:10:244:2::1'"),
    ({"subnet_ipv6": "fd00:10:244:1::/64", "gateway_ipv6": "fd00:10:244:1::"},
     "podnet_cni_gateway_ipv6='fd00:10:244:1::'"),
    ({"subnet_ipv6": "fd00:10:244:1::/64", "gateway_ipv6": "10.244.1.1"},
     "podnet_cni_gateway_ipv6='10.244.1.1'"),
    ({"gateway_ipv6": "fd00:10:244:1::1"}, "podnet_cni_gateway_ipv6='fd00:10:244:1::1' is set but"),
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
