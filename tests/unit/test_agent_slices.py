# SPDX-License-Identifier: GPL-3.0-or-later
"""etcd mode of the node agent, controller side: every agent node's slice published under
podnet's prefix (planner ``agent_slice_keys``), with a generation that moves only when the
slice changed and only forward, and the same arguments as site.yml's agent play."""

import json
import os
import re

import pytest
import yaml
from ansible_collections.podnet.network.plugins.plugin_utils.planner import PlanError, agent_slice, agent_slice_keys, plan
from ansible_collections.podnet.network.plugins.plugin_utils.planner.agent_slices import VARIABLES, agent_key
from ansible_collections.podnet.network.tests.unit.role_modules import load_module_utils

agent = load_module_utils("podnet_agent")

P = "/coreos.com/network"
NODES = {"a": {"zone": "z", "address": "192.0.2.1"}, "b": {"zone": "z", "address": "192.0.2.2"}}
PLAN = plan(NODES, {"cluster_cidr": "10.244.0.0/16"})
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def registry(keys):
    """What a registry read returns for KEYS ({key: {value: JSON text}})."""
    return {key: {"value": json.dumps(value), "lease": 0, "mod": 7} for key, value in keys.items()}


def test_one_key_per_agent_node_beside_the_ledger():
    keys = agent_slice_keys(PLAN, ["b", "a"], {}, {}, 1000, P + "/")
    assert sorted(keys) == [P + "/podnet/agent/a", P + "/podnet/agent/b"] == [agent_key(P, "a"), agent_key(P, "b")]
    document = keys[P + "/podnet/agent/a"]
    assert document["generation"] == 1000
    slice_ = document["slice"]
    assert slice_["hostname"] == "a" and slice_["zone"] == "z"
    assert [p["hostname"] for p in slice_["peers"]] == ["b"]
    assert slice_["concerns"]["routes"]["routes"][0]["dest"] == PLAN["nodes"]["b"]["pod_cidr"]
    # the digest is the agent's own (its slice file's)
    assert document["digest"] == agent.slice_digest(slice_)


def test_only_the_agent_nodes_get_a_slice():
    assert list(agent_slice_keys(PLAN, ["a"], {}, {}, 1)) == [P + "/podnet/agent/a"]
    assert agent_slice_keys(PLAN, [], {}, {}, 1) == {}


def test_an_unchanged_slice_keeps_its_generation_so_a_second_run_writes_nothing():
    first = agent_slice_keys(PLAN, ["a", "b"], {}, {}, 1000)
    again = agent_slice_keys(PLAN, ["a", "b"], {}, registry(first), 2000)
    assert again == first


def test_a_changed_slice_moves_forward_and_never_back():
    first = agent_slice_keys(PLAN, ["a"], {}, {}, 1000)
    bigger = plan(dict(NODES, c={"zone": "z", "address": "192.0.2.3"}), {"cluster_cidr": "10.244.0.0/16"})
    moved = agent_slice_keys(bigger, ["a"], {}, registry(first), 2000)[P + "/podnet/agent/a"]
    assert moved["generation"] == 2000 and moved["digest"] != first[P + "/podnet/agent/a"]["digest"]
    # a controller whose clock is behind the published generation still moves it forward
    behind = agent_slice_keys(bigger, ["a"], {}, registry(first), 10)[P + "/podnet/agent/a"]
    assert behind["generation"] == 1001


def test_an_unreadable_published_value_is_replaced():
    current = {P + "/podnet/agent/a": {"value": "not json"}}
    assert agent_slice_keys(PLAN, ["a"], {}, current, 5)[P + "/podnet/agent/a"]["generation"] == 5


def test_inventory_variables_reach_the_slice_and_unset_ones_take_the_roles_defaults():
    keys = agent_slice_keys(PLAN, ["a", "b"], {"a": {"podnet_routes_protocol": 192, "unrelated": 1}}, {}, 1)
    assert keys[P + "/podnet/agent/a"]["slice"]["concerns"]["routes"]["protocol"] == 192
    assert keys[P + "/podnet/agent/b"]["slice"]["concerns"]["routes"]["protocol"] == 191


@pytest.mark.parametrize("hosts,hostvars,generation,message", [
    ("a", {}, 1, "must be a list"),
    (["gone"], {}, 1, "gone runs podnet's agent .* no node of the plan"),
    (["a b"], {}, 1, "not an RFC 1123 hostname"),
    (["a"], {}, "soon", "generation must be an integer"),
    (["a"], {"a": 3}, 1, "variables of a must be a mapping"),
])
def test_bad_input_names_the_culprit(hosts, hostvars, generation, message):
    with pytest.raises(PlanError, match=message):
        agent_slice_keys(PLAN, hosts, hostvars, {}, generation)


def agent_play():
    with open(os.path.join(ROOT, "playbooks", "site.yml")) as handle:
        plays = yaml.safe_load(handle)
    return next(p for p in plays if "podnet_agent" in [r if isinstance(r, str) else r.get("role")
                                                       for r in p.get("roles") or []])


def test_the_agent_play_writes_the_published_slice():
    """site.yml's agent play writes the slice file with the filter etcd mode publishes with
    (podnet_agent_slice = agent_slice_keys' slice): one definition, so the digests agree
    (molecule/etcd compares them on live nodes)."""
    play = agent_play()
    role = next(r for r in play["roles"] if isinstance(r, dict) and r.get("role") == "podnet_agent")
    assert role["podnet_agent_slice"] == "{{ __podnet_site_agent_slice }}"
    assert "podnet.network.podnet_agent_slice(inventory_hostname, hostvars[inventory_hostname]," in " ".join(
        play["vars"]["__podnet_site_agent_slice"].split())
    published = agent_slice_keys(PLAN, ["a"], {"a": {"podnet_routes_protocol": 192}}, {}, 1)
    assert published[P + "/podnet/agent/a"]["slice"] == agent_slice(PLAN, "a", {"podnet_routes_protocol": 192})


def test_the_agent_gets_every_argument_each_concerns_role_gives_its_module():
    """Each concern's arguments in the slice have the names of its role's converge task
    (the node play's too), so a new argument cannot be forgotten by the agent."""
    concerns = agent_slice(PLAN, "a", {}, True)["concerns"]
    assert sorted(concerns) == sorted(agent.CONCERNS)
    for concern, arguments in concerns.items():
        with open(os.path.join(ROOT, "roles", "podnet_" + concern, "tasks", "converge.yml")) as handle:
            task = yaml.safe_load(handle)[0]
        module_args = dict(task["podnet.network.podnet_" + concern])
        if concern == "wireguard":
            # The preshared key stays on the node: the agent reads it from the peers file.
            del module_args["preshared_key"]
            module_args["preshared_key_from_node"] = True
        # The role's task may also pass its dual-stack variables (null or [] by default): an
        # IPv4 node's slice leaves them to the module's defaults (as test_node allows for an
        # IPv4 node's arguments; test_agent_dualstack checks a dual-stack node's).
        for name in [name for name in module_args if "ipv6" in name and name not in arguments]:
            del module_args[name]
        assert sorted(arguments) == sorted(module_args), concern
        assert set(arguments) <= set(load_module_utils("podnet_concern_" + concern).ARGUMENT_SPEC), concern


def test_the_slices_stand_in_defaults_are_the_roles_own_and_the_node_plays():
    """A role variable the inventory leaves unset takes VARIABLES' value in the slice: it
    must be the role's default (defaults/main.yml) and the node play's stand-in
    (playbooks/vars/podnet_concerns.yml), or the agent would check another state than the
    run set."""
    for name, value in VARIABLES.items():
        role = "podnet_" + name.split("_")[1]
        if name in ("podnet_node_bridge", "podnet_masquerade_ipv6"):  # site.yml's own variables, no role's
            continue
        with open(os.path.join(ROOT, "roles", role, "defaults", "main.yml")) as handle:
            assert yaml.safe_load(handle)[name] == value, name
    stand_in = re.compile(r"(podnet_\w+) \| default\(([^)]*)\)")
    with open(os.path.join(ROOT, "playbooks", "vars", "podnet_concerns.yml")) as handle:
        shared = yaml.safe_load(handle)["__podnet_site_concern_settings"]
    seen = {}
    for arguments in shared.values():
        for value in arguments.values():
            for name, default in stand_in.findall(str(value)):
                seen[name] = yaml.safe_load(default)
    assert len(seen) >= 10 and all(VARIABLES[name] == value for name, value in seen.items()), seen
    # The node play's dual-stack egress setting: unset, the task omits it (None: absent here too).
    with open(os.path.join(ROOT, "playbooks", "site.yml")) as handle:
        node_play = next(p for p in yaml.safe_load(handle) if "vars_files" in p)
    task = next(t for t in node_play["tasks"] if "podnet.network.podnet_node" in t)
    assert task["podnet.network.podnet_node"]["masquerade_ipv6"] == "{{ podnet_masquerade_ipv6 | default(omit) }}"
    assert VARIABLES["podnet_masquerade_ipv6"] is None
