# SPDX-License-Identifier: GPL-3.0-or-later
"""agent scenario: podnet's node agent on three nodes (checks every 10 s; node2 repairs;
node3 is another zone, reached over WireGuard).

The tests run in file order: steady state and node-exporter; drift on node1 (repair
off, WireGuard peer removed too) shows in the metrics within one interval and stays,
with its since-time kept from check to check; the same drift on node2 (repair on) is
repaired within one interval, its since-time goes, and pods talk again; a stopped node
is reported unreachable by its peers, with the time since when. Each later test relies
on the earlier ones.
"""

import json
import re
import subprocess
import time

import pytest
from podnet_testlib import assert_run_ok, host, podnet_routes, run_playbook, sh
from podnet_fixtures import pods, subnets  # noqa: F401 (fixtures: pytest finds them here)

NODES = ["podnet-ag-node1", "podnet-ag-node2", "podnet-ag-node3"]
WG_NODE = "podnet-ag-node3"   # zone b: node1 and node2 reach it over WireGuard
WG_DEVICE = "flannel-wg"
INTERVAL = 10   # podnet_agent_interval in molecule.yml
# One interval, plus a check's own time (probes wait up to 1 s) on a loaded machine.
WITHIN = INTERVAL + 8
METRICS = "/var/lib/prometheus/node-exporter/podnet_agent.prom"
SAMPLE = re.compile(r"^(?P<name>[a-z_]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")


def metrics(name):
    """{(metric, frozenset of labels): value} of the node's agent metrics file."""
    found = {}
    for line in sh(host(name), f"cat {METRICS}").splitlines():
        match = SAMPLE.match(line)
        if match:
            labels = frozenset(re.findall(r'(\w+)="([^"]*)"', match["labels"] or ""))
            found[(match["name"], labels)] = float(match["value"])
    return found


def drift(name):
    return {dict(labels)["concern"]: value for (metric, labels), value in metrics(name).items()
            if metric == "podnet_agent_drift"}


def peer_up(name):
    return {dict(labels)["peer"]: value for (metric, labels), value in metrics(name).items()
            if metric == "podnet_agent_peer_up"}


def since(name, kind):
    """{concern or peer: first-seen time} of podnet_agent_<KIND>_since_timestamp_seconds."""
    key = "peer" if kind == "peer_unreachable" else "concern"
    return {dict(labels)[key]: value for (metric, labels), value in metrics(name).items()
            if metric == f"podnet_agent_{kind}_since_timestamp_seconds"}


def last_check(name):
    return metrics(name)[("podnet_agent_last_check_timestamp_seconds", frozenset())]


def wait_for(what, predicate, timeout):
    """Poll PREDICATE every second until it holds; fail naming WHAT after TIMEOUT s."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout} s (last: {value!r})")


def journal(name, since):
    return sh(host(name), f"journalctl -u podnet-agent --no-pager -o cat --since=@{int(since)}")


def test_agent_runs_enabled_and_reports_no_drift():
    for name in NODES:
        target = host(name)
        assert target.service("podnet-agent").is_running and target.service("podnet-agent").is_enabled
        document = json.loads(sh(target, "cat /etc/podnet/agent/slice.json"))
        assert document["generation"] > 0 and document["slice"]["hostname"] == name
        found = wait_for(f"{name}: a check with no drift", lambda n=name: (
            set(drift(n)) == {"sysctl", "bridge", "vxlan", "wireguard", "routes", "firewall", "boot"}
            and not any(drift(n).values()) and drift(n)), 2 * WITHIN)
        assert found
        assert peer_up(name) == {p: 1.0 for p in NODES if p != name}, name
        generation = metrics(name)[("podnet_agent_slice_generation", frozenset())]
        assert generation == document["generation"]
        assert since(name, "drift") == {} and since(name, "peer_unreachable") == {}, name
        # The WireGuard arguments are in the slice, its keys are not.
        wireguard = document["slice"]["concerns"]["wireguard"]
        assert wireguard["preshared_key_from_node"] and "preshared_key" not in wireguard
        private = sh(target, "cat /etc/podnet/wireguard/private.key").strip()
        assert private and private not in json.dumps(document)


def test_check_mode_on_the_converged_fleet_changes_nothing():
    assert_run_ok(run_playbook("site.yml", "--check"), changed=0)


def test_node_exporter_serves_the_agent_metrics():
    out = sh(host("podnet-ag-node1"), "python3 -c \"import urllib.request; print(urllib.request.urlopen("
                                      "'http://127.0.0.1:9100/metrics', timeout=10).read().decode())\"")
    assert 'podnet_agent_drift{concern="routes"} 0' in out
    assert "podnet_agent_peer_rtt_seconds" in out


def break_node(name, subnets):  # noqa: F811 (subnets: the fixture's value)
    """Delete a podnet route, flush table inet podnet, reset ip_forward, remove the
    WireGuard peer node3: what another tool, an operator's `nft flush` or `wg set`, or a
    config-management neighbour might do."""
    other = next(n for n in NODES if n != name)
    key = sh(host(WG_NODE), f"wg show {WG_DEVICE} public-key").strip()
    sh(host(name), f"ip route del {subnets[other]} proto 191 && nft flush table inet podnet && "
                   f"sysctl -qw net.ipv4.ip_forward=0 && wg set {WG_DEVICE} peer {key} remove")
    return other


def test_drift_shows_within_one_interval_and_stays_without_repair(subnets):  # noqa: F811
    name = "podnet-ag-node1"
    other = break_node(name, subnets)
    broken = time.time()
    wait_for("node1's drift metric",
             lambda: all(drift(name)[c] == 1 for c in ("routes", "firewall", "sysctl", "wireguard")), WITHIN)
    seen = last_check(name)
    assert drift(name)["bridge"] == 0
    first = since(name, "drift")
    assert set(first) == {"routes", "firewall", "sysctl", "wireguard"}
    assert all(broken - 1 <= when <= seen for when in first.values()), (broken, first, seen)
    # Repair is off: a later check still finds the route missing and nothing repaired.
    wait_for("another check on node1", lambda: last_check(name) > broken + INTERVAL, WITHIN)
    assert subnets[other] not in podnet_routes(host(name))
    assert sh(host(name), "sysctl -n net.ipv4.ip_forward").strip() == "0"
    assert drift(name)["routes"] == 1
    # A later check keeps the time each drift was first seen.
    assert since(name, "drift") == first
    # The deleted route shows in the probes too: node1 no longer reaches that peer's pods,
    # nor node3's (zone b), whose WireGuard peer is gone; each since a time.
    assert peer_up(name)[other] == 0.0 and peer_up(name)[WG_NODE] == 0.0
    assert set(since(name, "peer_unreachable")) == {other, WG_NODE}
    assert "routes drifted from the slice" in journal(name, broken)
    assert "repaired" not in journal(name, broken)


def test_repair_within_one_interval_and_pods_talk_again(subnets, pods):  # noqa: F811
    name = "podnet-ag-node2"
    other = break_node(name, subnets)
    broken = time.time()
    wait_for("node2's repair", lambda: (subnets[other] in podnet_routes(host(name))
                                        and sh(host(name), "sysctl -n net.ipv4.ip_forward").strip() == "1"
                                        and "podnet" in sh(host(name), "nft list table inet podnet")
                                        and "masquerade" in sh(host(name), "nft list table inet podnet")),
             WITHIN)
    wait_for("node2's WireGuard repair", lambda: len(sh(host(name), f"wg show {WG_DEVICE} peers").split()) == 1,
             WITHIN)
    wait_for("node2's metrics after the repair",
             lambda: last_check(name) > broken and not any(drift(name).values()), WITHIN)
    # Repaired: no drift has a since-time any more.
    assert since(name, "drift") == {}
    repairs = {dict(labels)["concern"]: value for (metric, labels), value in metrics(name).items()
               if metric == "podnet_agent_repairs_total"}
    assert repairs["routes"] >= 1 and repairs["firewall"] >= 1 and repairs["sysctl"] >= 1
    log = journal(name, broken)
    assert "routes repaired: ip route" in log and "sysctl repaired: sysctl -w net.ipv4.ip_forward=1" in log
    assert f"wireguard repaired: wg set {WG_DEVICE} peer" in log and repairs["wireguard"] >= 1
    # Neither the journal nor the metrics hold the node's private key.
    private = sh(host(name), "cat /etc/podnet/wireguard/private.key").strip()
    assert private not in log and private not in sh(host(name), f"cat {METRICS}")
    # The pod-to-pod proof, through node2 both ways (node3 is intact).
    for src, dst in (("podnet-ag-node2", "podnet-ag-node3"), ("podnet-ag-node3", "podnet-ag-node2")):
        assert pods[src].source_seen_by(pods[dst].address) == pods[src].address, (src, dst)


def test_a_stopped_node_is_reported_unreachable_by_its_peers():
    stopped = "podnet-ag-node3"
    wait_for("node2 reaches node3 (WireGuard, repaired) with no since-time for it",
             lambda: peer_up("podnet-ag-node2").get(stopped) == 1.0
             and stopped not in since("podnet-ag-node2", "peer_unreachable"), WITHIN)
    subprocess.run(["docker", "stop", "-t", "5", stopped], check=True, capture_output=True)
    stopped_at = time.time()
    for name in ("podnet-ag-node1", "podnet-ag-node2"):
        wait_for(f"{name} reports {stopped} unreachable", lambda n=name: peer_up(n).get(stopped) == 0.0, WITHIN)
    # node2 saw node3 answer before the stop: its since-time is after the stop.
    assert since("podnet-ag-node2", "peer_unreachable")[stopped] >= stopped_at - 1
    # node2 (repaired) still reaches node1 (whose own route towards node2 is still missing).
    assert peer_up("podnet-ag-node2")["podnet-ag-node1"] == 1.0


@pytest.fixture(scope="module", autouse=True)
def _start_stopped_nodes():
    yield
    # Leave every node running for molecule's destroy (and a re-run of verify).
    subprocess.run(["docker", "start", "podnet-ag-node3"], check=False, capture_output=True)
