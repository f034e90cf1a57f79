# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile names stop playbooks/plan.yml in its first play, before any host is contacted.

Run for real with ansible-playbook on a scratch inventory: the nodes point SSH at a closed
port on 127.0.0.1, so a run that contacted them would say UNREACHABLE; the one run that
plans uses ansible_connection=local (only the read-only facts step touches anything).
"""

import json

from ansible_collections.podnet.network.tests.integration.test_plan_safety import (
    REACHABLE, UNREACHABLE, inventory, run)

INJECTION = "-v=2\nExecStartPre=/bin/sh -c 'id >pwned'"


def fleet(**extra):
    return {"a": {"a1": dict(UNREACHABLE, podnet_address="198.51.100.11", **extra),
                  "a2": dict(UNREACHABLE, podnet_address="198.51.100.12", **extra)}}


def stopped_before_contact(out):
    assert "UNREACHABLE" not in out and "Failed to connect" not in out, out
    return " ".join(out.split())


def test_a_hostile_wireguard_device_stops_the_plan_before_any_host_is_contacted(tmp_path):
    rc, out = run(inventory(tmp_path / "hosts.yml", fleet()),
                  "-e", json.dumps({"podnet_plan_wireguard_device": "wg;id"}))
    assert rc != 0
    text = stopped_before_contact(out)
    assert "network.wireguard.device: 'wg;id' is not a valid Linux interface name" in text, out
    assert "podnet_plan_wireguard_device" in text


def test_a_newline_in_flannel_extra_args_stops_the_plan_before_any_host_is_contacted(tmp_path):
    rc, out = run(inventory(tmp_path / "hosts.yml", fleet(podnet_flannel_extra_args=[INJECTION])))
    assert rc != 0
    text = stopped_before_contact(out)
    assert "podnet_flannel_extra_args" in text and "control character" in text, out


def test_a_system_directory_as_etcd_data_dir_stops_the_plan_before_any_host_is_contacted(tmp_path):
    rc, out = run(inventory(tmp_path / "hosts.yml", fleet()),
                  "-e", json.dumps({"podnet_etcd_data_dir": "/etc/etcd"}))
    assert rc != 0
    text = stopped_before_contact(out)
    assert "podnet_etcd_data_dir: '/etc/etcd'" in text and "system directory" in text, out


def test_a_hostile_hostname_stops_the_plan_before_any_host_is_contacted(tmp_path):
    bad = {"a": {"a1": dict(UNREACHABLE, podnet_address="198.51.100.11"),
                 "a;id": dict(UNREACHABLE, podnet_address="198.51.100.12")}}
    rc, out = run(inventory(tmp_path / "hosts.yml", bad))
    assert rc != 0
    text = stopped_before_contact(out)
    assert "'a;id' is not an RFC 1123 hostname" in text, out


def test_a_cluster_cidr_shorter_than_a_slash_8_stops_the_plan_before_any_host_is_contacted(tmp_path):
    rc, out = run(inventory(tmp_path / "hosts.yml", fleet()),
                  "-e", "podnet_plan_cluster_cidr=0.0.0.0/0")
    assert rc != 0
    text = stopped_before_contact(out)
    assert "network.cluster_cidr: 0.0.0.0/0 is a /0" in text and "/8 or longer" in text, out


def test_a_public_cluster_cidr_plans_with_a_warning(tmp_path):
    nodes = {"a": {"a1": dict(REACHABLE, podnet_address="198.51.100.11", podnet_underlay_prefix=24)}}
    rc, out = run(inventory(tmp_path / "hosts.yml", nodes), "-e", "podnet_plan_cluster_cidr=8.8.0.0/16",
                  "-e", "podnet_plan_ledger_path=%s" % (tmp_path / "ledger.yml"))
    assert rc == 0, out
    text = " ".join(out.split())
    assert "[WARNING]" in text and "8.8.0.0/16 lies outside the private ranges" in text, out
