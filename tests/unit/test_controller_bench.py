# SPDX-License-Identifier: GPL-3.0-or-later
"""benchmarks/controller_bench.py's pure parts: the generated inventory (and that the
planner plans it), the play recap, and the guard's comparison of the machine's state."""

import ipaddress

import pytest
from ansible_collections.podnet.network.plugins.plugin_utils.planner import host_view, plan
from ansible_collections.podnet.network.tests.unit.role_modules import load_benchmark

bench = load_benchmark("controller_bench")


def _hosts(document):
    zones = document["all"]["children"]["podnet_nodes"]["children"]
    return {name: dict(vars_, zone=group["vars"]["podnet_zone"])
            for group in zones.values() for name, vars_ in group["hosts"].items()}


def test_every_host_is_local_with_its_own_address_in_its_zones_prefix():
    document = bench.inventory(25, "/venv/bin/python")
    assert document["all"]["vars"]["ansible_connection"] == "local"
    assert document["all"]["vars"]["ansible_python_interpreter"] == "/venv/bin/python"
    hosts = _hosts(document)
    assert len(hosts) == 25
    assert len({host["podnet_address"] for host in hosts.values()}) == 25
    zones = {}
    for host in hosts.values():
        network = ipaddress.ip_interface("%s/%s" % (host["podnet_address"], host["podnet_underlay_prefix"])).network
        assert network.subnet_of(bench.UNDERLAY)
        zones.setdefault(host["zone"], set()).add(network)
    # 10 zones of 2 or 3 hosts, each zone one underlay segment of its own.
    assert len(zones) == 10 and all(len(networks) == 1 for networks in zones.values())
    assert len({next(iter(networks)) for networks in zones.values()}) == 10


def test_the_planner_plans_the_generated_fleet_host_gw_inside_zones_vxlan_across():
    document = bench.inventory(30, "python")
    nodes = {name: {"zone": host["zone"], "address": host["podnet_address"],
                    "prefix": host["podnet_underlay_prefix"]} for name, host in _hosts(document).items()}
    result = plan(nodes, {"cluster_cidr": document["all"]["vars"]["podnet_plan_cluster_cidr"],
                          "backend": "auto"})
    assert len(result["nodes"]) == 30
    assert len({node["pod_cidr"] for node in result["nodes"].values()}) == 30
    routes = host_view(result, "node-00000", peers=False)["routes"]
    assert len(routes) == 29
    # Its two zone peers over the underlay (host-gw), the 27 nodes of other zones over VXLAN.
    assert sorted(route["dev"] for route in routes) == ["underlay"] * 2 + ["vxlan"] * 27


def test_fewer_nodes_than_zones_and_fleets_that_do_not_fit():
    assert len(bench.inventory(3, "python")["all"]["children"]["podnet_nodes"]["children"]) == 3
    with pytest.raises(ValueError, match="at least 1"):
        bench.inventory(0, "python")
    with pytest.raises(ValueError, match="do not fit"):
        bench.inventory(10 * 4095, "python")


RECAP_TEXT = """
PLAY RECAP *********************************************************************
localhost                  : ok=9    changed=1    unreachable=0    failed=0    skipped=4    rescued=0    ignored=0
node-00000                 : ok=9    changed=7    unreachable=0    failed=0    skipped=3    rescued=0    ignored=0
node-00001                 : ok=7    changed=5    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0
"""


def test_the_recap_gives_each_hosts_figures_and_tasks_per_node():
    hosts = bench.recap(RECAP_TEXT)
    assert hosts["node-00000"] == (9, 7, 0, 0, 3)
    assert hosts["node-00001"] == (7, 5, 0, 1, 0)
    assert bench.tasks_per_node(hosts, ["node-00000", "node-00001"]) == (7, 12)
    # Two plays' recaps (or two runs in one output) add up.
    assert bench.recap(RECAP_TEXT + RECAP_TEXT)["node-00000"] == (18, 14, 0, 0, 6)


def test_a_node_without_a_recap_line_fails_the_benchmark():
    with pytest.raises(bench.BenchFailed, match="no recap line for 1 nodes"):
        bench.tasks_per_node(bench.recap(RECAP_TEXT), ["node-00000", "node-00002"])


# nft list ruleset, recorded on the benchmark machine (iptables-nft under Docker).
RULESET = """# Warning: table ip filter is managed by iptables-nft, do not touch!
table ip filter {
\tchain DOCKER-USER {
\t\tcounter packets 13406 bytes 1277922 return
\t}

\tchain FORWARD {
\t\ttype filter hook forward priority filter; policy drop;
\t\tcounter packets 5500 bytes 56641580 jump DOCKER-USER
\t\tiifname "docker0" oifname "docker0" counter packets 0 bytes 0 accept
\t}
}
"""


def test_nft_entries_are_scoped_lines_without_counters():
    entries = bench.nft_entries(RULESET)
    assert "table ip filter / chain FORWARD / counter jump DOCKER-USER" in entries
    assert "table ip filter / chain DOCKER-USER / counter return" in entries
    moved = RULESET.replace("packets 5500 bytes 56641580", "packets 9999 bytes 1")
    assert bench.nft_entries(moved) == entries


def _state(ruleset=RULESET, link_json=None, route_json=None, sysctl="1"):
    link_json = link_json or [{"ifname": "eth0", "mtu": 1500, "address": "02:fc:00:00:00:01",
                               "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"]}]
    route_json = route_json or [{"dst": "default", "gateway": "192.0.2.1", "dev": "eth0", "flags": []}]
    return (bench.links(link_json, [{"ifname": "eth0", "addr_info": [{"local": "192.0.2.2", "prefixlen": 24}]}])
            + bench.routes("route", route_json)
            + ["nft " + entry for entry in bench.nft_entries(ruleset)]
            + ["sysctl net/ipv4/ip_forward=" + sysctl])


def test_the_guard_sees_nothing_when_nothing_changed_but_the_counters_and_carrier():
    before = _state()
    after = _state(ruleset=RULESET.replace("packets 0 bytes 0", "packets 7 bytes 420"),
                   link_json=[{"ifname": "eth0", "mtu": 1500, "address": "02:fc:00:00:00:01",
                               "flags": ["BROADCAST", "MULTICAST", "UP"]}],
                   route_json=[{"dst": "default", "gateway": "192.0.2.1", "dev": "eth0",
                                "flags": ["linkdown"]}])
    assert bench.compare(before, after) == ([], [])


def test_the_guard_names_every_change_podnet_could_make():
    before = _state()
    cbr0 = {"ifname": "cbr0", "mtu": 1450, "address": "aa:bb:cc:00:00:01", "flags": ["UP"],
            "linkinfo": {"info_kind": "bridge"}}
    eth0 = {"ifname": "eth0", "mtu": 1500, "address": "02:fc:00:00:00:01", "flags": ["UP"]}
    after = _state(ruleset=RULESET + 'table inet podnet {\n\tcomment "podnet: x"\n}\n',
                   link_json=[eth0, cbr0],
                   route_json=[{"dst": "default", "gateway": "192.0.2.1", "dev": "eth0", "flags": []},
                               {"dst": "10.0.1.0/24", "gateway": "198.18.16.1", "dev": "eth0",
                                "protocol": "191", "flags": ["onlink"]}],
                   sysctl="0")
    mine, foreign = bench.compare(before, after)
    assert foreign == []
    text = "\n".join(mine)
    assert "+ link cbr0 kind=bridge mtu=1450" in text
    assert "+ nft table inet podnet" in text
    assert '"dst": "10.0.1.0/24"' in text
    assert "- sysctl net/ipv4/ip_forward=1" in text and "+ sysctl net/ipv4/ip_forward=0" in text


def test_the_guard_sets_docker_test_networks_aside():
    before = _state()
    eth0 = {"ifname": "eth0", "mtu": 1500, "address": "02:fc:00:00:00:01", "flags": ["UP"]}
    veth = {"ifname": "veth1a2b3c", "mtu": 1500, "address": "aa:00:00:00:00:02", "flags": ["UP"],
            "master": "podnet-mz-a", "linkinfo": {"info_kind": "veth"}}
    bridge = {"ifname": "podnet-mz-a", "mtu": 1500, "address": "aa:00:00:00:00:03", "flags": ["UP"],
              "linkinfo": {"info_kind": "bridge"}}
    docker_rules = RULESET.replace(
        "\tchain FORWARD {",
        '\tchain DOCKER-ISOLATION-STAGE-1 {\n\t\tiifname "podnet-mz-a" counter packets 0 bytes 0 return\n\t}\n'
        "\tchain FORWARD {").replace(
        '\t\tcounter packets 0 bytes 0 accept\n',
        '\t\tcounter packets 0 bytes 0 accept\n\t\toifname "br-12ab" counter packets 0 bytes 0 accept\n')
    after = _state(ruleset=docker_rules, link_json=[eth0, veth, bridge],
                   route_json=[{"dst": "default", "gateway": "192.0.2.1", "dev": "eth0", "flags": []},
                               {"dst": "172.31.250.0/24", "dev": "podnet-mz-a", "protocol": "kernel"}])
    mine, foreign = bench.compare(before, after)
    assert mine == []
    assert len(foreign) == 5  # two links, a route, a chain and a rule of Docker's
