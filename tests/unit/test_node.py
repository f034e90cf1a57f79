# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet_node: one task for a node's five host concerns. Its action plugin's payload (the
plan's fleet table, the node's name and settings; the O(1) node view), the module deriving
the concerns' arguments from the table, the shared settings against the
roles' defaults, and the module side run for real in check mode on this machine through
the concern code (the sysctl concern reads /proc/sys), stopping at the first failure."""

import json
import os
import re

import pytest
import yaml
from ansible_collections.podnet.network.plugins.plugin_utils.planner import PlanError, host_view, plan
from ansible_collections.podnet.network.plugins.plugin_utils.planner.host_view import (
    CONCERN_SETTINGS, NODE_CONCERNS, concern_arguments, fleet_table, node_view)
from ansible_collections.podnet.network.plugins.plugin_utils.planner.agent_slices import concern_settings
from ansible_collections.podnet.network.tests.unit.role_modules import load_module, load_module_utils, run_module

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
# The roles' defaults, as the node play gives them when the inventory sets none.
SETTINGS = concern_settings()


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
        # The role's task may also pass its dual-stack variables (null by default): an IPv4
        # node's arguments leave them out, so the module's defaults apply.
        passed = task["podnet.network.podnet_" + concern]
        assert set(given) <= set(passed) and all("ipv6" in name for name in set(passed) - set(given)), concern
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


def test_the_payload_is_the_table_the_name_and_the_settings_and_the_node_view():
    """O(1) per node on the controller: the plan's fleet table goes as it is (one string),
    the node derives its slice; bad settings or a host not in the plan stop it here."""
    action = _action()
    table = fleet_table(PLAN)
    arguments, small = action.payload(PLAN, table, "a2", SETTINGS, True)
    assert arguments == {"table": table, "hostname": "a2", "settings": SETTINGS, "wireguard": True}
    assert arguments["table"] is table
    assert small == node_view(PLAN, "a2")
    with pytest.raises(PlanError, match="host zz is not in the plan"):
        action.payload(PLAN, table, "zz", SETTINGS, False)
    with pytest.raises(PlanError, match="routes takes exactly protocol, state"):
        action.payload(PLAN, table, "a2", dict(SETTINGS, routes={"protocol": 191}), False)


class Vars(dict):
    """hostvars as the action plugin sees them: raw_get gives localhost's stored variables."""

    def raw_get(self, host):
        return self[host]


def test_the_action_takes_the_plan_steps_table_or_makes_one():
    action = _action()
    table = fleet_table(PLAN)
    stored = {"podnet_plan_result": PLAN, "podnet_plan_table": table}
    assert action.plan_and_table({"hostvars": Vars(localhost=stored)}) == (PLAN, table)
    # A play that made no table (or a value that is not one): made from the plan read.
    for other in ({"podnet_plan_result": PLAN}, dict(stored, podnet_plan_table={"nodes": {}})):
        plan_read, made = action.plan_and_table({"hostvars": Vars(localhost=other)})
        assert plan_read is PLAN and made == table


def _module_args(table, hostname, **more):
    return dict({"table": table, "hostname": hostname, "settings": SETTINGS, "wireguard": False}, **more)


def test_the_module_refuses_a_table_it_cannot_use_naming_it_and_changes_nothing():
    table = fleet_table(PLAN)
    result = run_module("podnet_node", _module_args(table, "zz"))
    assert result["failed"] and "host zz is not in the fleet table (3 nodes)" in result["msg"]
    assert result["msg"].endswith("(nothing was changed on zz)")
    result = run_module("podnet_node", _module_args(table.replace(" 1\n", " 7\n", 1), "a1"))
    assert result["failed"] and "fleet table is version 7" in result["msg"] and "nothing was changed on a1" in result["msg"]
    result = run_module("podnet_node", _module_args(table, "a1", concerns={"sysctl": {}}))
    assert result["failed"] and "mutually exclusive" in result["msg"]
    # The table is never echoed back or logged (its size grows with the fleet).
    assert table not in json.dumps(result)


def test_the_module_derives_the_planners_concerns_from_the_table():
    """On this machine, check mode: the sysctl concern (it reads /proc/sys) gets the slice's
    neighbour thresholds; the module's own derivation is the planner's (test_fleet_table)."""
    table = fleet_table(PLAN)
    derived = load_module_utils("podnet_slice").concerns_from_table(table, "a1", SETTINGS, False)
    assert derived == concern_arguments(host_view(PLAN, "a1", peers=False), PLAN["network"], SETTINGS, False)
    result = run_module("podnet_node", _module_args(table, "a1"))
    # The five concerns ran in order from the derived arguments (in check mode: what they
    # would do here), and the result shows their sizes only.
    assert not result.get("failed") and list(result["concerns"]) == list(NODE_CONCERNS), result
    assert result["invocation"] == module.summary(derived)
    actions = result["concerns"]["vxlan"]["actions"] + result["concerns"]["routes"]["actions"]
    assert any("dst 172.16.5.20" in action for action in actions), actions  # b1, across zones


def test_the_shared_settings_are_the_roles_defaults():
    """The node play imports none of the five roles: each `| default(...)` literal of the
    shared settings file must be what the role's defaults/main.yml says."""
    with open(os.path.join(ROOT, "playbooks", "vars", "podnet_concerns.yml")) as handle:
        shared = yaml.safe_load(handle)
    settings = shared["__podnet_site_concern_settings"]
    assert dict((c, tuple(v)) for c, v in settings.items()) == CONCERN_SETTINGS
    stand_in = re.compile(r"^\{\{ (podnet_(\w+?)_\w+) \| default\((.+)\) \}\}$")
    checked = 0
    values = ([v for c in settings.values() for v in c.values()] + shared["__podnet_site_concern_packages"]
              + list(shared["__podnet_site_runtime_packages"].values()))
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
