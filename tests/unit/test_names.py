# SPDX-License-Identifier: GPL-3.0-or-later
"""One rule per kind of name podnet writes onto a host, checked once before any host is
contacted, and quoted wherever it is written (issue 27, part 3).

Each kind meets hostile values (``;``, ``$()``, quotes, a newline, ``..``, 16 characters,
``/etc``): device names, hostnames, paths podnet may delete, values rendered into
systemd units or config lines, and the cluster CIDR. Plain pytest on the planner's
functions, plus the modules' own re-checks and the role templates rendered with hostile
values.
"""

import importlib
import os
import warnings

import jinja2
import pytest
from ansible_collections.podnet.network.plugins.plugin_utils.planner import PlanError, plan, preflight
from ansible_collections.podnet.network.plugins.plugin_utils.planner.inventory import inventory_nodes
from ansible_collections.podnet.network.plugins.plugin_utils.planner.validate import validate_network
from ansible_collections.podnet.network.tests.unit.role_modules import load_filter, load_module

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLANNER = "ansible_collections.podnet.network.plugins.plugin_utils.planner"

NET = {"cluster_cidr": "10.244.0.0/16"}
INJECTION = "-v=2\nExecStartPre=/bin/sh -c 'id >pwned'"
HOSTILE_DEVICES = ["wg;id", "$(id)", "wg'x", 'wg"x', "wg\nid", "wg id", "..", ".",
                   "a" * 16, "/etc", "wg:0", "wg`id`"]
GOOD_DEVICES = ["flannel.1", "flannel-wg", "wg_0", "a" * 15, "cbr0"]
HOSTILE_HOSTS = ["a;id", "$(id)", "a'b", 'a"b', "a\nb", "a b", "a..b", ".a", "a.", "-a", "a-",
                 "a_b", "a/b", "x" * 64, ".".join(["a" * 63] * 4), ""]
GOOD_HOSTS = ["a1", "podnet-lab-a1", "node1.example.com", "1node", "x" * 63,
              ".".join(["a" * 63] * 3 + ["a" * 61])]


def names():
    """The planner's name rules (a module of their own)."""
    return importlib.import_module(PLANNER + ".names")


def message(excinfo):
    return " ".join(str(excinfo.value).split())


# ---------------------------------------------------------------- device names

@pytest.mark.parametrize("device", HOSTILE_DEVICES)
def test_a_hostile_wireguard_device_name_is_refused_by_the_planner(device):
    with pytest.raises(PlanError) as excinfo:
        validate_network(dict(NET, wireguard={"device": device}))
    text = message(excinfo)
    assert "network.wireguard.device" in text and repr(device) in str(excinfo.value)
    assert "podnet_plan_wireguard_device" in text and "[A-Za-z0-9_.-]" in text


@pytest.mark.parametrize("device", HOSTILE_DEVICES)
def test_a_hostile_vxlan_device_name_is_refused_by_the_planner(device):
    with pytest.raises(PlanError) as excinfo:
        validate_network(dict(NET, vxlan={"device": device}))
    text = message(excinfo)
    assert "network.vxlan.device" in text and "podnet_plan_vxlan_device" in text


@pytest.mark.parametrize("device", GOOD_DEVICES)
def test_ordinary_device_names_plan(device):
    net = validate_network(dict(NET, vxlan={"device": device}, wireguard={"device": "wg0"}))
    assert net.device == device


def test_the_wireguard_module_rechecks_its_device_name():
    wg = load_module("podnet_wireguard")
    config = {"device": "wg;id", "port": 51820, "address": "10.244.1.0/32", "mtu": 1420, "peers": []}
    error = wg.check_config(config)
    assert error and "podnet_wireguard_config.device" in error and "'wg;id'" in error
    assert wg.check_config(dict(config, device="flannel-wg")) is None


@pytest.mark.parametrize("device", ["flannel.1\n", "..", "."])
def test_the_vxlan_module_refuses_a_device_name_with_a_trailing_newline_or_dots(device):
    vxlan = load_module("podnet_vxlan")
    spec = {"device": device, "vni": 1, "port": 8472, "local": "192.0.2.1",
            "vtep_ip": "10.244.1.0", "vtep_mac": "0a:58:0a:f4:01:00", "mtu": 1450}
    want, error = vxlan.check_wanted("present", spec, [], [])
    assert want is None and "podnet_vxlan_device.device" in error


# ---------------------------------------------------------------- hostnames

def nodes_with(name):
    return {name: {"zone": "a", "address": "192.0.2.11"}, "ok1": {"zone": "a", "address": "192.0.2.12"}}


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
def test_a_hostile_hostname_is_refused_by_the_plan_and_the_preflight(host):
    for call in (plan, preflight):
        with pytest.raises(PlanError) as excinfo:
            call(nodes_with(host), NET)
        text = str(excinfo.value)
        assert repr(host) in text and "RFC 1123" in text, text


@pytest.mark.parametrize("host", GOOD_HOSTS)
def test_rfc_1123_hostnames_plan(host):
    assert host in plan(nodes_with(host), NET)["nodes"]


def test_a_hostile_hostname_is_refused_in_the_first_play_before_any_host_is_asked():
    hostvars = {"a;id": {"podnet_zone": "a", "podnet_address": "192.0.2.11"}}
    with pytest.raises(PlanError) as excinfo:
        inventory_nodes(["a;id"], hostvars, None, True)
    assert "'a;id'" in str(excinfo.value) and "inventory" in str(excinfo.value)


@pytest.mark.parametrize("variable, value", [("podnet_flannel_extra_args", [INJECTION]),
                                             ("podnet_etcd_cluster_token", INJECTION),
                                             ("podnet_etcd_data_dir", "/etc/etcd")])
def test_a_hostile_role_knob_in_the_inventory_is_refused_in_the_first_play(variable, value):
    hostvars = {"n1": {"podnet_zone": "a", "podnet_address": "192.0.2.11", variable: value}}
    with pytest.raises(PlanError) as excinfo:
        inventory_nodes(["n1"], hostvars, None, True)
    assert "host n1" in str(excinfo.value) and variable in str(excinfo.value)
    del hostvars["n1"][variable]
    assert inventory_nodes(["n1"], hostvars, None, True)["n1"]["zone"] == "a"


def test_a_hostile_etcd_member_name_is_refused():
    with pytest.raises(PlanError) as excinfo:
        validate_network(dict(NET, registry="etcd", registry_members=["etcd1", "e;id"]))
    assert "network.registry_members" in str(excinfo.value) and "'e;id'" in str(excinfo.value)


def test_the_wireguard_module_refuses_a_peer_hostname_that_would_add_lines():
    wg = load_module("podnet_wireguard")
    config = {"device": "flannel-wg", "port": 51820, "address": "10.244.1.0/32", "mtu": 1420,
              "peers": [{"hostname": "b\n[Peer]", "endpoint": "192.0.2.12:51820",
                         "allowed_ips": ["10.244.2.0/24"]}]}
    error = wg.check_config(config)
    assert error and "hostname" in error


# ---------------------------------------------------------------- paths podnet may delete

@pytest.mark.parametrize("variable", ["podnet_etcd_data_dir", "podnet_etcd_member_pki_dir",
                                      "podnet_flannel_bin"])
@pytest.mark.parametrize("path", ["/", "/etc", "/etc/etcd", "=/etc/etcd", "/var/lib", "/var/lib/etcd",
                                  "/usr/local/bin", "/tmp", "/home", "/root", "/opt", "/srv", "/run",
                                  "/data", "etc/etcd", "/var/lib/etcd/../../../etc", "/var//lib/etcd/x",
                                  "/var/lib/etcd/podnet/", "/var/lib/etcd/./podnet", "/var/lib/etcd/$(id)",
                                  "/var/lib/etcd/a;b", "/var/lib/etcd/a b", "/var/lib/etcd/x\n",
                                  "/var/lib/etcd/'x'", "/proc/x", "/etc/podnet", ""])
def test_a_path_podnet_may_delete_must_be_podnets_own(variable, path):
    with pytest.raises(PlanError) as excinfo:
        names().role_inputs({variable: path})
    text = str(excinfo.value)
    assert variable in text and repr(path) in text, text


@pytest.mark.parametrize("variable, path", [
    ("podnet_etcd_data_dir", "/var/lib/etcd/podnet"), ("podnet_etcd_data_dir", "/data/etcd"),
    ("podnet_etcd_member_pki_dir", "/etc/etcd/podnet-pki"), ("podnet_flannel_bin", "/usr/local/bin/flanneld"),
    ("podnet_flannel_env_path", "/run/flannel/subnet.env")])
def test_podnets_default_paths_pass(variable, path):
    assert names().role_inputs({variable: path}) == {variable: path}


def test_every_problem_is_named_at_once():
    with pytest.raises(PlanError) as excinfo:
        names().role_inputs({"podnet_etcd_data_dir": "/etc", "podnet_etcd_member_pki_dir": "/etc/etcd"})
    assert "podnet_etcd_data_dir" in str(excinfo.value) and "podnet_etcd_member_pki_dir" in str(excinfo.value)


def test_an_unknown_knob_is_a_programming_error():
    with pytest.raises(PlanError) as excinfo:
        names().role_inputs({"podnet_etcd_whatever": "x"})
    assert "podnet_etcd_whatever" in str(excinfo.value)


# ---------------------------------------------------------------- values in units and config lines

@pytest.mark.parametrize("variable, value", [
    ("podnet_flannel_extra_args", [INJECTION]), ("podnet_flannel_extra_args", ["-v=2\r"]),
    ("podnet_flannel_extra_args", "-v=2"), ("podnet_etcd_cluster_token", INJECTION),
    ("podnet_etcd_cluster_token", "tok\x00en"), ("podnet_etcd_cluster_token", ""),
    ("podnet_flannel_etcd_prefix", "/coreos.com/network\nExecStartPre=/bin/id"),
    ("podnet_flannel_etcd_prefix", "coreos.com/network"), ("podnet_flannel_etcd_prefix", "/a b"),
    ("podnet_flannel_etcd_prefix", "/a/../b"), ("podnet_registry_prefix", "/a;b"),
    ("inventory_hostname", "a;id"), ("inventory_hostname", "a\nb")])
def test_a_value_with_a_newline_or_control_character_is_refused(variable, value):
    with pytest.raises(PlanError) as excinfo:
        names().role_inputs({variable: value})
    assert variable in str(excinfo.value)


@pytest.mark.parametrize("variable, value", [
    ("podnet_flannel_extra_args", ["-v=2", "-iface-regex=^eth[0-9]+$", "--healthz-port=8471", "it's"]),
    ("podnet_etcd_cluster_token", "podnet $(id) 'x' \"y\" 100%"), ("podnet_etcd_cluster_token", 12345),
    ("podnet_flannel_etcd_prefix", "/coreos.com/network"), ("podnet_registry_prefix", "/coreos.com/network/"),
    ("inventory_hostname", "podnet-et-node1")])
def test_ordinary_values_pass(variable, value):
    names().role_inputs({variable: value})


def render(template, **variables):
    """A role template rendered as Ansible renders it (podnet's filters by their FQCN)."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True,
                             loader=jinja2.FileSystemLoader(ROOT))
    env.filters.update({
        "comment": lambda text: "#\n# %s\n#" % text,
        "bool": bool,
        "podnet.network.podnet_systemd_quote": lambda *a, **k: names().systemd_quote(*a, **k),
        "podnet.network.podnet_role_inputs": lambda *a, **k: names().role_inputs(*a, **k),
    })
    return env.get_template(template).render(ansible_managed="managed", **variables)


def flannel_unit(**override):
    variables = dict(
        podnet_flannel_public_ip="192.0.2.11", podnet_flannel_public_ipv6="",
        podnet_flannel_bin="/usr/local/bin/flanneld",
        podnet_flannel_etcd_endpoints=["https://192.0.2.21:2379"],
        podnet_flannel_etcd_prefix="/coreos.com/network", podnet_flannel_ip_masq=False,
        podnet_flannel_extra_args=[], __podnet_flannel_pki_dir="/etc/podnet/flannel-pki",
        __podnet_flannel_subnet_file="/run/flannel/subnet.env")
    variables.update(override)
    return render("roles/podnet_flannel/templates/etc/systemd/system/podnet-flanneld.service.j2",
                  **variables)


def etcd_dropin(**override):
    variables = dict(
        inventory_hostname="podnet-et-node1", podnet_etcd_data_dir="/var/lib/etcd/podnet",
        __podnet_etcd_peer_url="https://192.0.2.21:2380", __podnet_etcd_client_url="https://192.0.2.21:2379",
        podnet_etcd_client_port=2379, podnet_etcd_heartbeat_interval=100, podnet_etcd_election_timeout=1000,
        podnet_etcd_member_pki_dir="/etc/etcd/podnet-pki", __podnet_etcd_peer_cn="podnet-etcd-peer",
        podnet_etcd_cluster_token="podnet")
    variables.update(override)
    return render("roles/podnet_etcd/templates/etc/systemd/system/etcd.service.d/podnet.conf.j2",
                  **variables)


def directives(text):
    return [line.split("=", 1)[0] for line in text.splitlines() if line and not line.startswith("#")]


def test_a_newline_in_flannel_extra_args_adds_no_line_to_the_unit():
    try:
        unit = flannel_unit(podnet_flannel_extra_args=[INJECTION])
    except PlanError as exc:  # refused where it is written, too
        assert "podnet_flannel_extra_args" in str(exc) or "newline" in str(exc)
        return
    assert "ExecStartPre" not in directives(unit), unit


def test_a_newline_in_the_etcd_cluster_token_adds_no_line_to_the_dropin():
    try:
        dropin = etcd_dropin(podnet_etcd_cluster_token=INJECTION)
    except PlanError as exc:
        assert "newline" in str(exc) or "control" in str(exc)
        return
    assert "ExecStartPre" not in directives(dropin), dropin


def test_flannel_arguments_are_quoted_for_systemd():
    unit = flannel_unit(podnet_flannel_extra_args=["-v=2", "$(id) 'x' \"y\" 100%"])
    assert '"-v=2"' in unit
    # systemd would expand $ and % and split on the quotes: each is escaped.
    assert '"$$(id) \'x\' \\"y\\" 100%%"' in unit, unit
    assert 'ExecStart="/usr/local/bin/flanneld"' in unit


def test_flannel_gets_public_ipv6_on_a_dual_stack_node_only():
    assert "-public-ipv6" not in flannel_unit()
    unit = flannel_unit(podnet_flannel_public_ipv6="2001:db8::11")
    assert '  "-public-ip=192.0.2.11" \\\n  "-public-ipv6=2001:db8::11" \\\n  "-subnet-file=' in unit, unit


def test_etcd_environment_values_are_quoted_for_systemd():
    dropin = etcd_dropin(podnet_etcd_cluster_token="tok en%n")
    assert 'Environment="ETCD_INITIAL_CLUSTER_TOKEN=tok en%%n"' in dropin, dropin
    assert 'Environment="ETCD_NAME=podnet-et-node1"' in dropin
    assert 'Environment="ETCD_DATA_DIR=/var/lib/etcd/podnet"' in dropin


def test_systemd_quote_refuses_control_characters():
    with pytest.raises(PlanError):
        names().systemd_quote("a\nb")
    assert names().systemd_quote("a b", environment=True) == '"a b"'
    assert names().systemd_quote("$x", environment=True) == '"$x"'
    assert names().systemd_quote("$x") == '"$$x"'


# ---------------------------------------------------------------- the cluster CIDR

@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "0.0.0.0/1", "10.0.0.0/7", "128.0.0.0/2"])
def test_a_cluster_cidr_shorter_than_a_slash_8_is_refused(cidr):
    # (0.0.0.0/1 with a node on 192.0.2.0/24 planned, and so did 0.0.0.0/0 before the nodes'
    # addresses were known: the firewall then accepted every forwarded packet.)
    with pytest.raises(PlanError) as excinfo:
        validate_network({"cluster_cidr": cidr, "node_prefix": 24})
    text = message(excinfo)
    assert "network.cluster_cidr" in text and cidr in text and "/8 or longer" in text
    assert "podnet_plan_cluster_cidr" in text


@pytest.mark.parametrize("cidr", ["8.0.0.0/8", "172.0.0.0/8", "192.0.0.0/16", "100.0.0.0/9"])
def test_a_public_cluster_cidr_plans_with_a_warning(cidr):
    with pytest.warns(names().PlanWarning) as caught:
        validate_network({"cluster_cidr": cidr})
    text = " ".join(str(w.message) for w in caught)
    assert cidr in text and "podnet_plan_cluster_cidr" in text and "10.0.0.0/8" in text


@pytest.mark.parametrize("cidr", ["10.0.0.0/8", "10.244.0.0/16", "172.16.0.0/12", "172.31.0.0/16",
                                  "192.168.0.0/16", "100.64.0.0/10", "100.127.0.0/16"])
def test_a_private_or_shared_cluster_cidr_plans_without_a_warning(cidr):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_network({"cluster_cidr": cidr})


def test_the_planners_warning_is_a_warning_of_the_run(monkeypatch):
    from ansible.utils.display import Display  # pylint: disable=import-outside-toplevel
    shown = []
    monkeypatch.setattr(Display, "warning", lambda self, msg, *a, **k: shown.append(msg))
    load_filter("podnet_preflight")({"a1": {"zone": "a", "address": None}}, {"cluster_cidr": "8.8.0.0/16"})
    assert len(shown) == 1 and shown[0].startswith("podnet_preflight: network.cluster_cidr: 8.8.0.0/16")
