# SPDX-License-Identifier: GPL-3.0-or-later
"""Dual stack through the real planning playbook (playbooks/plan.yml, role podnet_plan's
variables rendered by Jinja): a bad dual-stack inventory refused before any host is asked,
the planner-stage switch, and an IPv4 fleet's ledger gaining
its IPv6 half without moving an IPv4 subnet. Nodes run as the controller itself
(ansible_connection=local): nothing leaves this machine, only the read-only facts step runs
on them."""

import yaml

from ansible_collections.podnet.network.tests.integration.test_plan_safety import (
    inventory, ledger_of, node, run)

FLEET = {"a": {"a1": node("198.51.100.11", podnet_address_ipv6="2001:db8:a::11",
                          podnet_underlay_prefix_ipv6=64),
               "a2": node("198.51.100.12", podnet_address_ipv6="2001:db8:a::12",
                          podnet_underlay_prefix_ipv6=64)},
         "b": {"b1": node("198.51.100.21", podnet_address_ipv6="2001:db8:b::21",
                          podnet_underlay_prefix_ipv6=64)}}
IPV4_FLEET = {zone: {host: {k: v for k, v in spec.items() if "ipv6" not in k}
                     for host, spec in hosts.items()} for zone, hosts in FLEET.items()}
DUAL = ("-e", "podnet_plan_cluster_cidr_ipv6=fd00:10:244::/56")


def test_a_bad_dual_stack_inventory_is_refused_before_any_contact(tmp_path):
    # host-gw routes IPv6 pods via the peer's IPv6 underlay address: a2 has none.
    fleet = {"a": dict(FLEET["a"], a2=IPV4_FLEET["a"]["a2"])}
    rc, out = run(inventory(tmp_path / "hosts.yml", fleet), *DUAL, "-e", "podnet_plan_backend=host-gw",
                  "-e", "podnet_plan_ledger_path=%s" % (tmp_path / "ledger.yml"))
    flat = " ".join(out.split())
    assert rc != 0, out
    assert "host a2 has no IPv6 underlay address" in flat and "podnet_address_ipv6" in flat, out
    assert "PLAY [Podnet | ask each node" not in out, out
    # IPv6 host variables without an IPv6 cluster: refused, naming the host.
    rc, out = run(inventory(tmp_path / "hosts.yml", FLEET),
                  "-e", "podnet_plan_ledger_path=%s" % (tmp_path / "ledger.yml"))
    assert rc != 0 and "host a1 address_ipv6" in " ".join(out.split()), out
    assert not (tmp_path / "ledger.yml").exists()


def test_an_ipv4_ledger_gains_ipv6_through_the_playbook(tmp_path):
    ledger_file = tmp_path / "ledger.yml"
    rc, out = run(inventory(tmp_path / "hosts.yml", IPV4_FLEET),
                  "-e", "podnet_plan_ledger_path=%s" % ledger_file)
    assert rc == 0, out
    before = ledger_of(ledger_file)
    assert "cluster_cidr_ipv6" not in before
    rc, out = run(inventory(tmp_path / "hosts.yml", FLEET), *DUAL,
                  "-e", "podnet_plan_ipv6_planner_only=true",
                  "-e", "podnet_plan_ledger_path=%s" % ledger_file)
    assert rc == 0, out
    after = ledger_of(ledger_file)
    assert {h: e["pod_cidr"] for h, e in after["nodes"].items()} == {
        h: e["pod_cidr"] for h, e in before["nodes"].items()}
    assert after["zones"] == before["zones"]
    assert after["cluster_cidr_ipv6"] == "fd00:10:244::/56" and after["node_prefix_ipv6"] == 64
    assert after["nodes"]["a1"]["pod_cidr_ipv6"] == "fd00:10:244::/64"
    assert after["nodes"]["a1"]["address_ipv6"] == "2001:db8:a::11"
    assert after["zones_ipv6"] == {"a": "fd00:10:244::/60", "b": "fd00:10:244:10::/60"}
    assert "POD PREFIX IPV6" in out and "fd00:10:244:10::/64" in out, out
    # Dropping IPv6 again is refused: the ledger holds it.
    rc, out = run(inventory(tmp_path / "hosts.yml", IPV4_FLEET),
                  "-e", "podnet_plan_ledger_path=%s" % ledger_file)
    assert rc != 0 and "the ledger holds IPv6 pod prefixes" in " ".join(out.split()), out
    assert yaml.safe_load(ledger_file.read_text()) == after
