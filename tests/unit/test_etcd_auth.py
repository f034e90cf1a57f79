# SPDX-License-Identifier: GPL-3.0-or-later
"""etcd auth: the planner's access plan (podnet_registry_access) and the pure read -> plan
steps of plugins/modules/podnet_etcd_auth.py.

The ``etcdctl -w json`` answers are recorded from Debian's etcd 3.4.23 (the test hosts'
etcd); the planned commands were run with that etcdctl against a cluster with auth off and
again with it on (the second run planned nothing).
"""

import json

import pytest
from ansible_collections.podnet.network.plugins.plugin_utils.planner import PlanError, plan, registry_access
from ansible_collections.podnet.network.tests.unit.role_modules import load_module

auth = load_module("podnet_etcd_auth")

P = "/coreos.com/network"
PLAN = plan({"a": {"zone": "z", "address": "192.0.2.1"}, "b": {"zone": "z", "address": "192.0.2.2"}},
            {"cluster_cidr": "10.244.0.0/16"})

# etcdctl role get flanneld-a -w json: read config, read subnets/ (prefix), readwrite its lease
RECORDED_ROLE = json.loads(
    '{"header":{"cluster_id":324952591200643719,"member_id":3319814642761637952,"revision":6,'
    '"raft_term":2},"perm":[{"key":"L2NvcmVvcy5jb20vbmV0d29yay9jb25maWc="},'
    '{"key":"L2NvcmVvcy5jb20vbmV0d29yay9zdWJuZXRzLw==","range_end":"L2NvcmVvcy5jb20vbmV0d29yay9zdWJuZXRzMA=="},'
    '{"permType":2,"key":"L2NvcmVvcy5jb20vbmV0d29yay9zdWJuZXRzLzEwLjI0NC4wLjAtMjQ="}]}')


def converged(access):
    """What etcd holds once ACCESS was applied: ({user: roles}, {role: permissions})."""
    roles = {role: auth.wanted_permissions(perms) for role, perms in access["roles"].items()}
    return {user: list(granted) for user, granted in access["users"].items()}, roles


def test_podnet_and_root_hold_root_and_each_flanneld_its_own_lease():
    access = registry_access(PLAN, P + "/", ["a", "b"])
    assert access["users"]["podnet"] == ["root"] and access["users"]["root"] == ["root"]
    assert access["users"]["flanneld-a"] == ["flanneld-a"]
    assert access["roles"]["flanneld-a"] == [
        {"key": P + "/config", "prefix": False, "permission": "read"},
        {"key": P + "/subnets/", "prefix": True, "permission": "read"},
        {"key": P + "/subnets/10.244.0.0-24", "prefix": False, "permission": "readwrite"}]
    # nothing of a flanneld's reaches the ledger, another lease or the admin API
    for role, perms in access["roles"].items():
        if role.startswith("flanneld-"):
            written = [p["key"] for p in perms if p["permission"] != "read"]
            assert written == [P + "/subnets/" + PLAN["nodes"][role[len("flanneld-"):]]["pod_cidr"].replace("/", "-")]
    assert access["nameless"] == ["podnet-etcd-server", "podnet-etcd-peer"]


def test_a_flanneld_host_without_a_subnet_may_only_read():
    access = registry_access(PLAN, P, ["a", "gone"])
    assert all(p["permission"] == "read" for p in access["roles"]["flanneld-gone"])


@pytest.mark.parametrize("hosts", [["a\nb"], ["root x"], "a"])
def test_a_bad_flanneld_host_list_is_refused(hosts):
    with pytest.raises(PlanError, match="flanneld|hostname"):
        registry_access(PLAN, P, hosts)


def test_recorded_role_reads_back_as_the_access_plan():
    held = auth.held_permissions(RECORDED_ROLE)
    assert held == auth.wanted_permissions(registry_access(PLAN, P, ["a"])["roles"]["flanneld-a"])
    assert auth.prefix_end(P + "/subnets/") == P + "/subnets0"


def test_a_cluster_without_auth_gets_roles_and_users_first_and_auth_enable_last():
    access = registry_access(PLAN, P, ["a", "b"])
    steps, problem = auth.plan_auth(access, {}, {}, enabled=False)
    assert problem is None
    assert steps[-1] == ["auth", "enable"]
    assert ["user", "add", "root", "--no-password"] in steps and ["user", "grant-role", "podnet", "root"] in steps
    enable = steps.index(["auth", "enable"])
    assert all(step[0] in ("role", "user") for step in steps[:enable])


def test_a_converged_cluster_plans_nothing():
    access = registry_access(PLAN, P, ["a", "b"])
    users, roles = converged(access)
    assert auth.plan_auth(access, users, roles, enabled=True) == ([], None)


def test_stray_grants_are_revoked_and_a_forgotten_flanneld_is_deleted_after_enable():
    access = registry_access(PLAN, P, ["a"])
    users, roles = converged(access)
    roles["flanneld-a"][(P + "/podnet/ledger", "")] = "readwrite"     # someone widened it
    users["flanneld-a"].append("root")
    users["flanneld-b"], roles["flanneld-b"] = ["flanneld-b"], {}      # b left the fleet
    users["alice"], roles["alice-role"] = ["alice-role"], {}          # the operator's own
    steps, dummy = auth.plan_auth(access, users, roles, enabled=False)
    assert ["role", "revoke-permission", "flanneld-a", P + "/podnet/ledger"] in steps
    assert ["user", "revoke-role", "flanneld-a", "root"] in steps
    assert steps[-3:] == [["auth", "enable"], ["user", "delete", "flanneld-b"], ["role", "delete", "flanneld-b"]]
    assert not any("alice" in " ".join(step) for step in steps)


def test_a_read_grant_widened_to_readwrite_is_granted_again_not_duplicated():
    access = registry_access(PLAN, P, ["a"])
    users, roles = converged(access)
    roles["flanneld-a"][(P + "/config", "")] = "readwrite"
    steps, dummy = auth.plan_auth(access, users, roles, enabled=True)
    assert steps == [["role", "grant-permission", "flanneld-a", "read", P + "/config"]]


def test_a_user_named_after_a_member_certificate_stops_before_any_change():
    access = registry_access(PLAN, P, ["a"])
    steps, problem = auth.plan_auth(access, {"podnet-etcd-server": []}, {}, enabled=False)
    assert steps == [] and "podnet-etcd-server" in problem and "user delete" in problem


class RecordedEtcdctl:
    """etcdctl's JSON answers by command, and the commands asked."""

    def __init__(self, answers):
        self.answers, self.asked = answers, []

    def call(self, args):
        self.asked.append(" ".join(args))
        return self.answers[" ".join(args)]


def test_the_read_asks_only_for_what_podnet_declares_or_owns():
    access = registry_access(PLAN, P, ["a"])
    ctl = RecordedEtcdctl({
        "user list": {"users": ["root", "ops-backup", "flanneld-old"]},
        "user get root": {"roles": ["root"]},
        "role list": {"roles": ["root", "backup", "flanneld-old"]},
        "role get root": {"perm": []},
        "role get flanneld-old": {"perm": []},
    })
    users, roles = auth.read_auth(ctl, access)
    # An operator's user and role are listed (so podnet never takes their names) but not read.
    assert "user get ops-backup" not in ctl.asked and "role get backup" not in ctl.asked
    assert users == {"root": ["root"], "ops-backup": [], "flanneld-old": []}
    assert roles == {"root": {}, "backup": {}, "flanneld-old": {}}


def test_each_agent_reads_its_own_slice_and_nothing_else():
    access = registry_access(PLAN, P, ["a"], ["a", "b"])
    assert access["users"]["podnet-agent-a"] == ["podnet-agent-a"]
    assert access["roles"]["podnet-agent-a"] == [
        {"key": P + "/podnet/agent/a", "prefix": False, "permission": "read"}]
    assert access["roles"]["podnet-agent-b"] == [
        {"key": P + "/podnet/agent/b", "prefix": False, "permission": "read"}]
    # no prefix grant: b's key (or anything else) is out of a's reach
    assert all(not p["prefix"] for p in access["roles"]["podnet-agent-a"])
    assert access["owned"] == ["flanneld-", "podnet-agent-"]


def test_without_agents_the_access_plan_is_as_before():
    access = registry_access(PLAN, P, ["a"])
    assert not any(user.startswith("podnet-agent-") for user in access["users"])


@pytest.mark.parametrize("agents,message", [
    ("a", "agent hosts must be a list"),
    (["gone"], "gone has an agent client certificate .* no node of the plan"),
    (["a\nb"], "agent client host"),
])
def test_a_bad_agent_host_list_is_refused_naming_the_culprit(agents, message):
    with pytest.raises(PlanError, match=message):
        registry_access(PLAN, P, [], agents)


def test_a_forgotten_agent_is_deleted_and_a_converged_cluster_plans_nothing():
    access = registry_access(PLAN, P, ["a"], ["a", "b"])
    users, roles = converged(access)
    assert auth.plan_auth(access, users, roles, enabled=True) == ([], None)
    fewer = registry_access(PLAN, P, ["a"], ["a"])
    steps, problem = auth.plan_auth(fewer, users, roles, enabled=True)
    assert problem is None
    assert steps == [["user", "delete", "podnet-agent-b"], ["role", "delete", "podnet-agent-b"]]
    # the read of etcd's auth fetches the permissions of podnet's agent roles too
    assert auth._owned(fewer) == ("flanneld-", "podnet-agent-")
    assert auth._owned({"owned": "flanneld-"}) == "flanneld-"
