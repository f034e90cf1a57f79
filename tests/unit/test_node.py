# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet_node: one task for a node's five host concerns. Its action plugin's payload (the
concerns' arguments from the plan, the O(1) node view), the shared settings against the
roles' defaults, and the module side run for real in check mode on this machine through
the concern code (the sysctl concern reads /proc/sys), stopping at the first failure."""

import json
import os
import re

import pytest
import yaml
from ansible_collections.podnet.network.plugins.plugin_utils.planner import PlanError, host_view, plan
from ansible_collections.podnet.network.plugins.plugin_utils.planner.host_view import (
    CONCERN_SETTINGS, NODE_CONCERNS, concern_arguments, node_view)
from ansible_collections.podnet.network.tests.unit.role_modules import load_module, load_module_utils

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
agent = load_module_utils("podnet_agent")
node = load_module_utils("podnet_node")
module = load_module("podnet_node")

NODES = {
    "a1": {"zone": "east", "address": "192.168.1.10", "prefix": 24},
    "a2": {"zone": "east", "address": "192.168.1.11", "prefix": 24},
    "b1": {"zone": "west", "address": "172.16.5.20", "prefix": 24},
}
PLAN = plan(NODES, {"cluster_cidr": "10.244.0.0/16"})
SETTINGS = {
    "sysctl": {"ip_forward": True, "rp_filter": 2, "state": "present"},
    "bridge": {"name": "cbr0", "adopt": False, "state": "present"},
    "vxlan": {"tx_checksum_offload": True, "adopt": False, "state": "present"},
    "routes": {"protocol": 191, "state": "present"},
    "firewall": {"masquerade": True, "iptables_forward_accept": True, "state": "present"},
}


def _action():
    from ansible_collections.podnet.network.plugins.action import podnet_node  # pylint: disable=import-outside-toplevel
    return podnet_node


def test_each_concern_gets_exactly_its_role_converge_tasks_arguments():
    arguments = concern_arguments(host_view(PLAN, "a1", peers=False), PLAN["network"], SETTINGS)
    assert list(arguments) == list(NODE_CONCERNS) == list(node.ORDER)
    # The agent's order (which also checks concerns of other plays, e.g. wireguard).
    assert [c for c in agent.CONCERNS if c in NODE_CONCERNS] == list(NODE_CONCERNS)
    for concern, given in arguments.items():
        with open(os.path.join(ROOT, "roles", "podnet_" + concern, "tasks", "converge.yml")) as handle:
            task = yaml.safe_load(handle)[0]
        assert sorted(given) == sorted(task["podnet.network.podnet_" + concern]), concern
        assert set(given) <= set(load_module_utils("podnet_concern_" + concern).ARGUMENT_SPEC), concern


def test_the_arguments_are_the_slices_values():
    view = host_view(PLAN, "a1", peers=False)
    arguments = concern_arguments(view, PLAN["network"], SETTINGS, wireguard=False)
    assert arguments["sysctl"]["neigh_gc_thresh"] == view["neigh_gc_thresh"]
    assert arguments["bridge"]["address"] == "10.244.0.1/24" and arguments["bridge"]["mtu"] == 1450
    assert arguments["vxlan"]["device"]["device"] == "flannel.1"
    assert arguments["vxlan"]["fdb"] == [{"mac": "0a:58:0a:f4:10:00", "dst": "172.16.5.20"}]
    assert arguments["routes"]["routes"] == view["routes"] and arguments["routes"]["vxlan_device"] == "flannel.1"
    assert arguments["firewall"]["node_addresses"] == ["172.16.5.20", "192.168.1.11", "192.168.1.10"]
    assert arguments["firewall"]["vxlan_port"] == 8472 and arguments["firewall"]["wireguard_port"] is None
    assert arguments["routes"]["protocol"] == 191 and arguments["bridge"]["state"] == "present"


def test_settings_are_checked_naming_the_concern_and_the_names():
    view = host_view(PLAN, "a1", peers=False)
    with pytest.raises(PlanError, match="exactly sysctl, bridge, vxlan, routes, firewall"):
        concern_arguments(view, PLAN["network"], {"sysctl": {}})
    wrong = dict(SETTINGS, routes={"protocol": 191})
    with pytest.raises(PlanError, match="routes takes exactly protocol, state"):
        concern_arguments(view, PLAN["network"], wrong)


def test_the_node_view_is_the_slices_o1_part():
    small = node_view(PLAN, "b1")
    view = host_view(PLAN, "b1")
    assert small.pop("registry") == PLAN["network"]["registry"]
    assert small == dict((key, view[key]) for key in small)
    assert sorted(small) == ["address", "bridge_address", "cluster_cidr", "gateway", "hostname", "mtu",
                             "pod_cidr", "zone"]
    with pytest.raises(PlanError, match="host c9 is not in the plan"):
        node_view(PLAN, "c9")


def test_the_payload_is_the_module_arguments_and_the_node_view():
    action = _action()
    arguments, small = action.payload(PLAN, "a2", SETTINGS, True)
    # One JSON text (AnsibleModule reads a JSON object string as the dict it declares).
    assert json.loads(arguments["concerns"]) == concern_arguments(host_view(PLAN, "a2", peers=False),
                                                                  PLAN["network"], SETTINGS, True)
    assert small == node_view(PLAN, "a2")
    assert "peers" not in json.dumps(arguments)
    with pytest.raises(PlanError, match="host zz is not in the plan"):
        action.payload(PLAN, "zz", SETTINGS, False)


def test_the_shared_settings_are_the_roles_defaults():
    """The node play imports none of the five roles: each `| default(...)` literal of the
    shared settings file must be what the role's defaults/main.yml says."""
    with open(os.path.join(ROOT, "playbooks", "vars", "podnet_concerns.yml")) as handle:
        shared = yaml.safe_load(handle)
    settings = shared["__podnet_site_concern_settings"]
    assert dict((c, tuple(v)) for c, v in settings.items()) == CONCERN_SETTINGS
    stand_in = re.compile(r"^\{\{ (podnet_(\w+?)_\w+) \| default\((.+)\) \}\}$")
    checked = 0
    values = [v for c in settings.values() for v in c.values()] + shared["__podnet_site_concern_packages"]
    for value in values:
        found = stand_in.match(str(value).strip())
        if found:
            with open(os.path.join(ROOT, "roles", "podnet_" + found.group(2), "defaults", "main.yml")) as handle:
                defaults = yaml.safe_load(handle)
            assert yaml.safe_load(found.group(3)) == defaults[found.group(1)], found.group(1)
            checked += 1
    assert checked == len(values) - 1  # all but the bridge's state (docker0 or cbr0)


class Host(agent.NodeModule):
    """The running module's surface, on this machine (the agent's stand-in, check mode)."""

    def __init__(self, check_mode=True):
        agent.NodeModule.__init__(self, {}, check_mode)


def test_the_concern_code_runs_in_check_mode_through_the_running_module():
    with open("/proc/sys/net/ipv4/ip_forward") as handle:
        forward = handle.read().strip() == "1"
    result, failure = node.converge_node(Host(), {"sysctl": {"ip_forward": not forward}})
    assert failure is None
    assert "sysctl -w net.ipv4.ip_forward=%d" % (not forward) in result["concerns"]["sysctl"]["actions"]
    assert result["changed"] and list(result["concerns"]) == ["sysctl"]
    with open("/proc/sys/net/ipv4/ip_forward") as handle:
        assert (handle.read().strip() == "1") == forward


def test_the_first_failing_concern_stops_the_call_and_is_named():
    ran = []

    def make(host, params):
        ran.append(params)
        return node.ConcernModule(host, params)

    concerns = {"sysctl": {"rp_filter": 7}, "routes": {"routes": []}}
    result, failure = node.converge_node(Host(), concerns, make=make)
    assert failure.startswith("sysctl: podnet_sysctl_rp_filter=7")
    assert result["concerns"]["sysctl"]["failed"] and "routes" not in result["concerns"]
    assert len(ran) == 1
    # A wrong type is refused as the concern's own module would refuse it, before it runs.
    result, failure = node.converge_node(Host(), {"routes": {"protocol": "many"}}, make=make)
    assert failure.startswith("routes: ") and "protocol" in failure and result["concerns"] == {}
    result, failure = node.converge_node(Host(), {"dns": {}})
    assert "unknown concern dns" in failure


def test_the_result_shows_the_arguments_size_not_the_entries():
    shown = module.summary({"routes": {"routes": [{"dest": "10.0.%d.0/24" % i} for i in range(500)],
                                       "protocol": 191}})
    assert shown == {"module_args": {"concerns": {
        "routes": "2 arguments, 500 list entries (not echoed back)"}}}
