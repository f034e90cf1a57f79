# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet_node_facts (library/) without a host: the local fact as the planner reads it and
the default IPv4 address from recorded `ip -4 -json` output, in setup's shape."""

from ansible_collections.podnet.network.tests.unit.role_modules import load_module

node_facts = load_module("podnet_node_facts")

# Recorded on a lab node: ip -4 -json route show default; ip -4 -json addr show dev eth0
ROUTES = [{"dst": "default", "gateway": "172.30.61.254", "dev": "eth0", "flags": []}]
LINKS = [{"ifindex": 888, "ifname": "eth0", "mtu": 1500, "addr_info": [
    {"family": "inet", "local": "172.30.61.11", "prefixlen": 24, "broadcast": "172.30.61.255",
     "scope": "global", "label": "eth0"}]}]


def test_the_default_route_link_address_in_setups_shape():
    assert node_facts.default_ipv4(ROUTES, LINKS) == {
        "address": "172.30.61.11", "prefix": "24", "interface": "eth0", "gateway": "172.30.61.254"}


def test_the_address_on_the_gateways_network_wins_over_the_first_one():
    links = [{"ifname": "eth0", "addr_info": [
        {"family": "inet", "local": "10.9.0.5", "prefixlen": 16},
        {"family": "inet", "local": "172.30.61.11", "prefixlen": 24}]}]
    assert node_facts.default_ipv4(ROUTES, links)["address"] == "172.30.61.11"


def test_the_routes_preferred_source_wins_and_the_lowest_metric_route_is_used():
    routes = [{"dst": "default", "gateway": "10.1.0.1", "dev": "eth1", "metric": 200},
              {"dst": "default", "gateway": "10.9.0.1", "dev": "eth0", "metric": 100,
               "prefsrc": "10.9.0.7"}]
    links = [{"ifname": "eth0", "addr_info": [
        {"family": "inet", "local": "10.9.0.5", "prefixlen": 16},
        {"family": "inet", "local": "10.9.0.7", "prefixlen": 16}]}]
    assert node_facts.default_ipv4(routes, links) == {
        "address": "10.9.0.7", "prefix": "16", "interface": "eth0", "gateway": "10.9.0.1"}


def test_no_default_route_or_no_address_reports_nothing():
    assert node_facts.default_ipv4([], LINKS) == {}
    assert node_facts.default_ipv4(ROUTES, [{"ifname": "eth0", "addr_info": []}]) == {}


def test_the_fact_file_is_read_as_json_and_a_broken_one_as_missing():
    assert node_facts.parse_fact('{"zone": "a", "pod_cidr": "10.244.1.0/24"}\n') == (
        {"zone": "a", "pod_cidr": "10.244.1.0/24"}, None)
    assert node_facts.parse_fact(None) == ({}, None)
    fact, problem = node_facts.parse_fact("{zone: a")
    assert fact == {} and "is not JSON" in problem
    assert node_facts.parse_fact("[1]") == ({}, "is not a JSON object")


def test_every_podnet_fact_file_is_read_and_no_other(tmp_path):
    for name in ("podnet.fact", "podnet_wireguard.fact", "other.fact", "podnet.fact.bak", "podnetx.fact"):
        (tmp_path / name).write_text("{}")
    assert [path.rsplit("/", 1)[1] for path in node_facts.fact_files(str(tmp_path))] == [
        "podnet.fact", "podnet_wireguard.fact"]
    assert node_facts.fact_files(str(tmp_path / "missing")) == []
