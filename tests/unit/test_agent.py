# SPDX-License-Identifier: GPL-3.0-or-later
"""The node agent's pure steps (slice file, arguments, probe rotation, metrics, the
check-then-repair loop) and its real parts that need no test host: the concern code run
in check mode through NodeModule on this machine, and an ICMP probe of 127.0.0.1."""

import json
import os

import pytest
from ansible_collections.podnet.network.tests.unit.role_modules import load_module, load_module_utils

agent = load_module_utils("podnet_agent")
sysctl = load_module_utils("podnet_concern_sysctl")

SLICE = {"hostname": "n1", "zone": "a", "concerns": {"sysctl": {"ip_forward": True}},
         "peers": [{"hostname": "n2", "zone": "a", "pod_cidr": "10.244.1.0/24"},
                   {"hostname": "n3", "zone": "b", "pod_cidr": "10.244.2.0/24"}]}


def test_slice_file_keeps_its_generation_while_the_slice_is_the_same():
    first = agent.plan_slice_file(None, SLICE, {"repair": False}, 100)
    assert json.loads(first)["generation"] == 100
    assert agent.plan_slice_file(first, SLICE, {"repair": False}, 200) is None
    # Settings alone keep the generation.
    changed = agent.plan_slice_file(first, SLICE, {"repair": True}, 200)
    assert json.loads(changed)["generation"] == 100 and json.loads(changed)["settings"]["repair"]


def test_slice_file_generation_moves_forward_only():
    first = agent.plan_slice_file(None, SLICE, {}, 100)
    other = dict(SLICE, zone="b")
    assert json.loads(agent.plan_slice_file(first, other, {}, 200))["generation"] == 200
    # A run whose clock is behind still moves the generation forward.
    assert json.loads(agent.plan_slice_file(first, other, {}, 50))["generation"] == 101


def test_fill_params_converts_like_ansible_and_fills_defaults():
    # raw arguments pass as they are (the concern's check reads them, as in the module)
    params = agent.fill_params(sysctl.ARGUMENT_SPEC, {"ip_forward": "yes", "rp_filter": "2"})
    assert params["ip_forward"] == "yes" and params["rp_filter"] == "2"
    assert params["state"] == "present" and params["neigh_gc_thresh"]["gc_thresh1"] == 128
    routes = load_module_utils("podnet_concern_routes")
    assert agent.fill_params(routes.ARGUMENT_SPEC, {"protocol": "191"})["protocol"] == 191
    firewall = load_module_utils("podnet_concern_firewall")
    assert agent.fill_params(firewall.ARGUMENT_SPEC, {"masquerade": "false"})["masquerade"] is False
    with pytest.raises(ValueError, match="does not take: colour"):
        agent.fill_params(sysctl.ARGUMENT_SPEC, {"colour": 1})


def test_probe_targets_take_the_own_zone_and_rotate_through_the_others():
    peers = [{"hostname": "a%d" % i, "zone": "a"} for i in range(3)] + \
            [{"hostname": "b%d" % i, "zone": "b"} for i in range(5)]
    seen = set()
    for turn in range(5):
        targets = agent.probe_targets(peers, "a", 2, turn)
        assert [p["hostname"] for p in targets[:3]] == ["a0", "a1", "a2"]
        assert len(targets) == 5
        seen.update(p["hostname"] for p in targets[3:])
    assert seen == {"b%d" % i for i in range(5)}
    assert len(agent.probe_targets(peers, "a", 0, 0)) == 3


def test_gateway_is_the_first_address_of_the_pod_subnet():
    assert agent.gateway_of({"pod_cidr": "10.244.7.0/24"}) == "10.244.7.1"
    assert agent.gateway_of({"pod_cidr": "10.244.7.0/24", "gateway": "10.244.7.9"}) == "10.244.7.9"


def test_metrics_name_drift_per_concern_and_reachability_per_zone():
    document = json.loads(agent.plan_slice_file(None, SLICE, {}, 7))
    results = {"routes": {"drift": True, "error": None, "repaired": []},
               "sysctl": {"drift": False, "error": "boom", "repaired": []}}
    probes = [(SLICE["peers"][0], 0.0005), (SLICE["peers"][1], None)]
    text = agent.render_metrics(document, results, probes, {"routes": 2}, 1700000000.0, 0.25,
                                agent.settings_of(document))
    lines = set(text.splitlines())
    assert 'podnet_agent_drift{concern="routes"} 1' in lines
    assert 'podnet_agent_drift{concern="sysctl"} 0' in lines
    assert 'podnet_agent_check_error{concern="sysctl"} 1' in lines
    assert 'podnet_agent_repairs_total{concern="routes"} 2' in lines
    assert "podnet_agent_slice_generation 7" in lines
    assert 'podnet_agent_peer_up{peer="n2",zone="a"} 1' in lines
    assert 'podnet_agent_peer_up{peer="n3",zone="b"} 0' in lines
    assert 'podnet_agent_zone_peers_reachable{zone="a",peer_zone="b"} 0' in lines
    assert 'podnet_agent_zone_rtt_seconds{zone="a",peer_zone="a"} 0.0005' in lines
    assert "podnet_agent_last_check_timestamp_seconds 1700000000.0" in lines


def test_check_reports_and_repairs_only_with_repair_on():
    calls, live = [], {"drift": True}

    def run(concern, arguments, check_mode):
        calls.append((concern, check_mode))
        if concern != "sysctl" or not live["drift"]:
            return {"actions": [], "error": None, "warnings": []}
        if not check_mode:
            live["drift"] = False
        return {"actions": ["sysctl -w net.ipv4.ip_forward=1"], "error": None, "warnings": []}

    logged = []
    results = agent.check_and_repair(SLICE, False, logged.append, run=run)
    assert results["sysctl"]["drift"] and not results["sysctl"]["repaired"]
    assert ("sysctl", False) not in calls and list(results) == ["sysctl", "boot"]
    results = agent.check_and_repair(SLICE, True, logged.append, run=run)
    assert not results["sysctl"]["drift"]
    assert results["sysctl"]["repaired"] == ["sysctl -w net.ipv4.ip_forward=1"]
    assert any("sysctl repaired: sysctl -w net.ipv4.ip_forward=1" in line for line in logged)


def test_the_module_code_runs_through_node_module_in_check_mode():
    # Real: the sysctl concern reads this machine's /proc/sys and plans; check mode
    # changes nothing. Wanted = the live value, so the only drift can be the files.
    with open("/proc/sys/net/ipv4/ip_forward") as handle:
        forward = handle.read().strip() == "1"
    result = agent.run_concern("sysctl", {"ip_forward": not forward}, True)
    assert result["error"] is None
    assert "sysctl -w net.ipv4.ip_forward=%d" % (not forward) in result["actions"]
    with open("/proc/sys/net/ipv4/ip_forward") as handle:
        assert (handle.read().strip() == "1") == forward
    bad = agent.run_concern("sysctl", {"rp_filter": 7}, True)
    assert "podnet_sysctl_rp_filter=7" in bad["error"]


def test_the_modules_are_thin_over_the_shared_code():
    for name in ("sysctl", "bridge", "vxlan", "wireguard", "bgp", "routes", "firewall"):
        module = load_module("podnet_" + name)
        shared = load_module_utils("podnet_concern_" + name)
        assert module.concern is shared
        assert module.ARGUMENT_SPEC is shared.ARGUMENT_SPEC


@pytest.mark.skipif(os.geteuid() != 0, reason="a raw ICMP socket needs root")
def test_ping_all_reaches_loopback_and_not_an_unroutable_address():
    # 240.0.0.1 (reserved) cannot be sent to: it reads unreachable, the probe goes on.
    rtts = agent.ping_all(["127.0.0.1", "240.0.0.1"], 0.5)
    assert rtts["127.0.0.1"] is not None and rtts["127.0.0.1"] < 0.5
    assert rtts["240.0.0.1"] is None


def test_metrics_are_written_atomically(tmp_path):
    agent.write_metrics(str(tmp_path), "podnet_agent_drift 0\n")
    assert (tmp_path / agent.METRICS_FILE).read_text() == "podnet_agent_drift 0\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [agent.METRICS_FILE]
