# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet_node_facts (library/) without a host: the local fact as the planner reads it and
the default IPv4 address from recorded `ip -4 -json` output, in setup's shape."""

import pytest
from ansible_collections.podnet.network.tests.unit.role_modules import load_module, run_module

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


def fake_nft(directory, listing):
    """A stand-in `nft` that lists LISTING as table inet podnet (None: no such table)."""
    script = directory / "nft"
    if listing is None:
        script.write_text("#!/bin/sh\necho 'Error: No such file or directory' >&2\nexit 1\n")
    else:
        script.write_text("#!/bin/sh\ncat <<'EOF'\n%sEOF\n" % listing)
    script.chmod(0o755)
    return directory


def test_a_table_podnet_did_not_make_stops_the_node_before_any_change(tmp_path):
    # The firewall module, late in site.yml, refuses it too; the facts step comes before
    # every change, so nothing is half-applied on that node.
    foreign = "table inet podnet {\n\tchain forward {\n\t}\n}\n"
    result = run_module("podnet_node_facts", dict(fact_path=str(tmp_path)), path_first=fake_nft(tmp_path, foreign))
    assert result.get("failed") and "table inet podnet exists that podnet did not make" in result["msg"], result
    assert "nothing was changed on this node" in result["msg"]


@pytest.mark.parametrize("listing", [None, 'table inet podnet {\n\tcomment "podnet: pod subnet x"\n}\n'])
def test_no_table_or_podnets_own_table_is_fine(tmp_path, listing):
    result = run_module("podnet_node_facts", dict(fact_path=str(tmp_path)), path_first=fake_nft(tmp_path, listing))
    assert not result.get("failed"), result
