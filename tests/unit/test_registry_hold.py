# SPDX-License-Identifier: GPL-3.0-or-later
"""Every leased subnet is held (issue 22): a subnet a live flanneld podnet does not know leased
with a TTL is kept from every node for the run, named with its PublicIP, never recorded in the
ledger, and free again once the lease expires.

The property test runs random sequences of external leases (with a TTL), their expiry, new
nodes (in three zones) and plan runs against a simulated etcd, through the filters
roles/podnet_plan/tasks/plan.yml chains (the very filter entries Ansible calls, in the order
``test_plan_yml_chains_these_filters`` checks), the ledger check of role podnet_registry's read
(``ledger_registry_read``, what action podnet_plan_ledger runs) and podnet_etcd_kv's write
plan, and checks that no subnet ever has two holders and that no run stops but on a full zone.
"""

import json
import os
import re

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import given, settings, strategies as st

from ansible_collections.podnet.network.plugins.plugin_utils.planner import (
    allocation_table, ledger, plan, preview, registry_hold, report_document)
from ansible_collections.podnet.network.plugins.plugin_utils.planner.errors import PlanError
from ansible_collections.podnet.network.plugins.plugin_utils.planner.ledger_reader import ledger_registry_read
from ansible_collections.podnet.network.tests.unit.role_modules import load_filter, load_module

kv = load_module("podnet_etcd_kv")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
P = "/coreos.com/network"
# The role's network knobs in etcd mode (roles/podnet_plan/vars/main.yml); /22 zone blocks.
NETWORK = {"cluster_cidr": "10.244.0.0/20", "node_prefix": 24, "registry": "etcd",
           "registry_members": ["etcd1"]}
SUBNETS = ["10.244.%d.0/24" % i for i in range(16)]
ZONES = ("a", "b", "c")
# The filters of plan.yml's inputs, in its order (podnet_reported_subnets feeds ledger_inputs).
CHAIN = ["podnet_inventory_nodes", "podnet_registry_pins", "podnet_ledger_inputs",
         "podnet_reported_subnets", "podnet_registry_hold"]
F = {name: load_filter(name) for name in CHAIN + ["podnet_plan", "podnet_registry_keys"]}


def key_of(subnet):
    return "%s/subnets/%s" % (P, subnet.replace("/", "-"))


class Fleet:
    """A simulated registry, inventory (hostvars) and the nodes' own facts."""

    def __init__(self):
        self.kvs, self.revision = {}, 0
        self.hostvars, self.plan = {}, None
        # flanneld leases only under a network config (podnet's first run, or someone's)
        self.put(P + "/config", json.dumps({"Network": "10.244.0.0/20", "SubnetLen": 24,
                                            "Backend": {"Type": "vxlan"}}))

    def put(self, key, value, lease=0):
        self.revision += 1
        self.kvs[key] = {"value": value, "lease": lease, "mod": self.revision}

    def lease(self, subnet, address):
        """A flanneld outside the inventory takes SUBNET, as flanneld does: only a free one,
        one per flanneld, with a TTL."""
        mine = any(json.loads(item["value"]).get("PublicIP") == address
                   for k, item in self.kvs.items() if k.startswith(P + "/subnets/"))
        if key_of(subnet) not in self.kvs and not mine:
            self.put(key_of(subnet), json.dumps({"PublicIP": address, "BackendType": "vxlan"}), lease=7)

    def expire(self, subnet):
        if self.kvs.get(key_of(subnet), {}).get("lease"):
            del self.kvs[key_of(subnet)]

    def add_node(self, zone="a"):
        index = len(self.hostvars) + 1
        self.hostvars["n%02d" % index] = {
            "podnet_zone": zone, "podnet_address": "192.0.2.%d" % index, "podnet_underlay_prefix": 24,
            "ansible_facts": {"ansible_local": {"podnet": {}}}}  # answered: holds nothing yet

    def ledger(self):
        raw = self.kvs.get(P + "/podnet/ledger")
        return json.loads(raw["value"]) if raw else {}

    def run(self):
        """One site.yml: the plan (plan.yml's filters), then the registry write. Returns the
        plan's inputs, or raises what stopped the run."""
        hosts = sorted(self.hostvars)
        content = ledger_registry_read(self.kvs, P)  # role podnet_registry, entry read
        expect = kv.snapshot(self.kvs, self.revision)
        document = content["ledger"]
        try:
            inputs = F["podnet_registry_hold"](F["podnet_ledger_inputs"](
                F["podnet_registry_pins"](F["podnet_inventory_nodes"](hosts, self.hostvars, document),
                                          content["leases"]),
                document, F["podnet_reported_subnets"](hosts, self.hostvars), NETWORK, []), content)
            result = F["podnet_plan"](inputs["nodes"], inputs["network"])
        except AnsibleFilterError as exc:  # the filter's error, as Ansible shows it: the planner's
            if not isinstance(exc.__cause__, PlanError):
                raise
            raise PlanError(str(exc.__cause__)) from None
        actions = kv.plan(self.kvs, kv.encode(F["podnet_registry_keys"](result, P)),
                          purge=[P + "/subnets/"], expect=expect)
        for key, value in actions["put"].items():
            self.put(key, value)
        for key in actions["delete"]:
            del self.kvs[key]
        self.plan = result
        for host, node in result["nodes"].items():  # the nodes now route their subnets
            self.hostvars[host]["ansible_facts"]["ansible_local"]["podnet"] = {"pod_cidr": node["pod_cidr"]}
        return inputs

    def holders(self):
        """{subnet: {PublicIP}}: the registry's keys and the subnets the nodes route."""
        held = {}
        for key, item in self.kvs.items():
            if key.startswith(P + "/subnets/"):
                held.setdefault(key.rsplit("/", 1)[1].replace("-", "/"), set()).add(
                    json.loads(item["value"])["PublicIP"])
        for node in (self.plan or {}).get("nodes", {}).values():
            held.setdefault(node["pod_cidr"], set()).add(node["address"])
        return held

    def stray(self):
        """{subnet: PublicIP} of the live leases of flanneld outside the inventory."""
        return {key.rsplit("/", 1)[1].replace("-", "/"): json.loads(item["value"])["PublicIP"]
                for key, item in self.kvs.items()
                if item["lease"] and json.loads(item["value"])["PublicIP"].startswith("198.51.100.")}


STEPS = st.lists(st.one_of(
    st.tuples(st.just("lease"), st.integers(0, 15), st.integers(1, 9)),
    st.tuples(st.just("expire"), st.integers(0, 15)),
    st.tuples(st.just("add"), st.sampled_from(ZONES)),
    st.tuples(st.just("run")),
), max_size=30)


def play(fleet, steps):
    for step in steps:
        if step[0] == "lease":
            fleet.lease(SUBNETS[step[1]], "198.51.100.%d" % step[2])
        elif step[0] == "expire":
            fleet.expire(SUBNETS[step[1]])
        elif step[0] == "add":
            fleet.add_node(step[1])
        elif fleet.hostvars:
            stray = fleet.stray()
            try:
                fleet.run()
            except PlanError as exc:
                # the only stop: a zone (or the cluster) has no free subnet (block) left
                assert "holds only" in str(exc) or "no free" in str(exc), str(exc)
            else:
                # every stray lease is named in the plan, with its PublicIP
                leased = fleet.plan["network"].get("leased") or {}
                assert {s: e["address"] for s, e in leased.items()} == stray
                assert all(e["holder"] == "leased outside the inventory" for e in leased.values())
            # the ledger never holds a lease of a flanneld outside the inventory
            entries = (fleet.ledger().get("nodes") or {}).values()
            assert all(e["address"].startswith("192.0.2.") for e in entries), fleet.ledger()
        for subnet, holders in fleet.holders().items():
            assert len(holders) == 1, "%s has two holders: %s" % (subnet, sorted(holders))


@settings(max_examples=200, deadline=None)
@given(STEPS)
def test_no_sequence_of_external_leases_and_runs_gives_a_subnet_two_holders(steps):
    play(Fleet(), steps)


def test_plan_yml_chains_these_filters():
    # The property test calls the filters plan.yml calls, in its order: the hold comes after
    # ledger_inputs (so it never enters network.released, nor the ledger) and gets the read.
    with open(os.path.join(ROOT, "roles", "podnet_plan", "tasks", "plan.yml"), encoding="utf-8") as handle:
        text = handle.read()
    inputs = text[text.index("__podnet_plan_inputs: >-"):text.index("- name: Plan | write the ledger")]
    assert re.findall(r"podnet\.network\.(podnet_\w+)", inputs) == CHAIN
    assert re.search(r"podnet_registry_hold\(podnet_plan_registry_content\s+if podnet_plan_registry == 'etcd'",
                     inputs)
    assert "__podnet_plan_inputs.nodes | podnet.network.podnet_plan(__podnet_plan_inputs.network)" in text


def test_a_stray_lease_on_the_lowest_free_subnet_is_held_and_named():
    # before: the new node was planned onto 10.244.1.0/24, which a flanneld podnet does not
    # know leased; the write stopped on the conflict (or, before podnet_etcd_kv's check, kept
    # the lease and committed the ledger: two hosts routed one subnet)
    fleet = Fleet()
    fleet.add_node()
    fleet.run()  # n01 takes 10.244.0.0/24
    fleet.lease("10.244.1.0/24", "198.51.100.7")
    fleet.add_node()
    fleet.run()
    assert fleet.plan["nodes"]["n02"]["pod_cidr"] == "10.244.2.0/24"
    assert fleet.plan["network"]["leased"] == {"10.244.1.0/24": {
        "address": "198.51.100.7", "key": P + "/subnets/10.244.1.0-24",
        "holder": "leased outside the inventory"}}
    assert "198.51.100.7" not in json.dumps(fleet.ledger()) and "10.244.1.0/24" not in json.dumps(fleet.ledger())
    assert "198.51.100.7" not in json.dumps(ledger(fleet.plan))
    assert allocation_table(fleet.plan)[-1] == (
        "held: 10.244.1.0/24 by 198.51.100.7 (leased outside the inventory; no node is planned "
        "onto it while the lease lives)")


def test_an_expired_lease_frees_the_subnet_on_the_next_run():
    fleet = Fleet()
    fleet.add_node()
    fleet.lease("10.244.1.0/24", "198.51.100.7")
    fleet.run()
    fleet.add_node()
    fleet.run()
    assert fleet.plan["nodes"]["n02"]["pod_cidr"] == "10.244.2.0/24"
    fleet.expire("10.244.1.0/24")
    fleet.add_node()
    fleet.run()
    assert fleet.plan["nodes"]["n03"]["pod_cidr"] == "10.244.1.0/24"
    assert "leased" not in fleet.plan["network"]
    assert sorted(fleet.ledger()["nodes"]) == ["n01", "n02", "n03"]
    assert fleet.holders()["10.244.1.0/24"] == {"192.0.2.3"}


def test_a_lease_outside_every_zone_block_is_held_when_a_new_zone_takes_its_block():
    fleet = Fleet()
    fleet.add_node("a")
    fleet.lease("10.244.4.0/24", "198.51.100.7")  # zone b's block-to-be, 10.244.4.0/22
    fleet.run()
    assert fleet.plan["network"]["leased"]["10.244.4.0/24"]["address"] == "198.51.100.7"
    fleet.add_node("b")
    fleet.run()
    assert fleet.plan["zones"]["b"]["block"] == "10.244.4.0/22"
    assert fleet.plan["nodes"]["n02"]["pod_cidr"] == "10.244.5.0/24"


def test_a_zone_full_of_leases_stops_naming_them():
    fleet = Fleet()
    fleet.add_node()
    for index in (1, 2, 3):
        fleet.lease("10.244.%d.0/24" % index, "198.51.100.%d" % index)
    fleet.run()
    fleet.add_node()
    with pytest.raises(PlanError, match=r"holds only 1 \(3 more are held by 10\.244\.1\.0/24: 198\.51\.100\.1 "
                                        r"\(leased outside the inventory\)"):
        fleet.run()


def test_a_lease_of_a_node_is_its_own_and_not_held():
    fleet = Fleet()
    fleet.add_node()
    fleet.run()
    fleet.kvs[key_of("10.244.0.0/24")]["lease"] = 7  # its flanneld took over its reservation
    fleet.run()
    assert "leased" not in fleet.plan["network"] and not fleet.plan["network"]["released"]


def test_a_kept_key_leased_to_another_publicip_stops_the_plan_naming_both_and_the_fix():
    # n01's reservation was deleted by hand and a flanneld podnet does not know leased it:
    # the plan (before any host is touched) stops, as the write would (podnet_etcd_kv)
    fleet = Fleet()
    fleet.add_node()
    fleet.run()
    del fleet.kvs[key_of("10.244.0.0/24")]
    fleet.lease("10.244.0.0/24", "198.51.100.9")
    with pytest.raises(PlanError) as info:
        fleet.run()
    message = " ".join(str(info.value).split())
    assert ("etcd key %s is leased (TTL) to PublicIP 198.51.100.9, but the plan keeps 10.244.0.0/24 "
            "for host n01 (PublicIP 192.0.2.1)" % key_of("10.244.0.0/24")) in message
    assert "etcdctl del %s" % key_of("10.244.0.0/24") in message
    # and the write's own check (podnet_etcd_kv) holds as well
    with pytest.raises(kv.KVError, match="is leased \\(TTL\\) to 198.51.100.9, but the plan gives"):
        kv.plan(fleet.kvs, kv.encode({key_of("10.244.0.0/24"): {"PublicIP": "192.0.2.1"}}))


def test_the_report_and_the_preview_name_each_holder():
    fleet = Fleet()
    fleet.add_node()
    fleet.lease("10.244.1.0/24", "198.51.100.7")
    fleet.run()
    held = report_document({"pairs": []}, fleet.plan, "now")["held"]
    assert held == [{"holder": "leased outside the inventory", "address": "198.51.100.7",
                     "pod_cidr": "10.244.1.0/24", "zone": None}]
    lines = preview(fleet.ledger(), fleet.plan)["lines"]
    assert lines[-1] == ("= 10.244.1.0/24 stays held by 198.51.100.7 (leased outside the inventory): "
                         "no node is planned onto it while the lease lives")


def test_a_lease_that_is_no_subnet_of_the_network_stops_naming_the_key():
    nodes = {"n01": {"zone": "a", "address": "192.0.2.1"}}
    bad = registry_hold({"nodes": nodes, "network": dict(NETWORK)},
                        {"leased": {"10.244.1.0/25": "198.51.100.7"}, "prefix": P})
    with pytest.raises(PlanError, match="etcd key %s/subnets/10.244.1.0-25 \\(PublicIP 198.51.100.7\\) "
                                        "leases a subnet that is not a /24" % P):
        plan(nodes, bad["network"])


def test_hold_refuses_what_it_cannot_read_and_ledger_mode_holds_nothing():
    with pytest.raises(PlanError):
        registry_hold({"nodes": {}}, {})
    with pytest.raises(PlanError):
        registry_hold({"nodes": {}, "network": {}}, {"leased": ["10.244.1.0/24"]})
    assert registry_hold({"nodes": {}, "network": {"cluster_cidr": "10.244.0.0/16"}}, {}) == {
        "nodes": {}, "network": {"cluster_cidr": "10.244.0.0/16"}}
