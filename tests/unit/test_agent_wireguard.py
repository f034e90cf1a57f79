# SPDX-License-Identifier: GPL-3.0-or-later
"""The node agent checks WireGuard with the module's own code (podnet_concern_wireguard),
from recorded ``ip -json`` and ``wg show dump`` output: a converged device is no drift, a
peer removed by hand is, and neither key ever reaches what the agent logs or exports.
BGP likewise (podnet_concern_bgp, recorded `systemctl show`). And the agent's since-when
bookkeeping (first-seen time of each problem), its metrics and the retried probes."""

import json

from ansible_collections.podnet.network.tests.unit import test_wireguard_module as recorded
from ansible_collections.podnet.network.tests.unit.role_modules import load_module, load_module_utils

agent = load_module_utils("podnet_agent")
concern = load_module_utils("podnet_concern_wireguard")

PRIV, PEER_B, PSK = recorded.PRIV, recorded.PEER_B, recorded.PSK
PEER_C = recorded.PEER_C
CONFIG = dict(recorded.CONFIG)


class RecordedNode(agent.NodeModule):
    """The agent's NodeModule answering each read from recorded output (no host touched)."""

    def __init__(self, params, outputs):
        super().__init__(params, True)
        self.outputs = outputs
        self.ran = []

    def get_bin_path(self, tool, required=False):
        return "/usr/bin/" + tool

    def run_command(self, argv, data=None, environ_update=None):
        self.ran.append(argv)
        command = " ".join(a for a in argv[1:] if a not in ("-json", "-j"))
        for prefix, out in self.outputs.items():
            if command.startswith(prefix):
                return 0, out, ""
        return 1, "", "Cannot find device %s" % command


def outputs(dump=recorded.DUMP):
    return {"-d link show dev flannel-wg": json.dumps(recorded.LINK),
            "show flannel-wg dump": dump,
            "is-active": "active\n",
            "-Numeric -4 route show table main": json.dumps(recorded.ROUTES),
            "-4 addr show dev flannel-wg": json.dumps(recorded.ADDR)}


def check(tmp_path, monkeypatch, arguments, dump=recorded.DUMP):
    """The agent's check of the wireguard concern against the recorded node."""
    key = tmp_path / "private.key"
    key.write_text(PRIV + "\n")
    monkeypatch.setattr(concern, "CONF_DIR", str(tmp_path))
    given = dict({"config": CONFIG, "key_path": str(key), "implementation": "userspace",
                  "preshared_key_from_node": True}, **arguments)
    node = RecordedNode(agent.fill_params(concern.ARGUMENT_SPEC, given), outputs(dump))
    return agent._masked(agent._converged(concern.converge, node), node.no_log_values), node


def live_commands(result):
    # The persisted files and boot step are this machine's (absent here): only the live
    # device's commands matter to these tests.
    return [a for a in result["actions"] if a.split()[0] in ("ip", "wg", "systemctl", "systemd-run")]


def test_the_module_is_thin_over_the_concern():
    module = load_module("podnet_wireguard")
    assert module.concern is concern
    assert module.ARGUMENT_SPEC is concern.ARGUMENT_SPEC and module.plan is concern.plan


def test_converged_device_is_no_drift(tmp_path, monkeypatch):
    result, node = check(tmp_path, monkeypatch, {})
    assert result["error"] is None, result["error"]
    assert live_commands(result) == []
    # Check mode: nothing but reads ran.
    assert all(argv[1] in ("-d", "-Numeric", "-4", "-json", "show", "is-active") for argv in node.ran), node.ran


def test_a_peer_removed_by_hand_is_drift_and_its_repair_names_no_key(tmp_path, monkeypatch):
    head = recorded.DUMP.splitlines()[0] + "\n"
    result, dummy = check(tmp_path, monkeypatch, {}, dump=head)
    assert live_commands(result) == [
        "wg set flannel-wg peer %s endpoint 172.31.66.3:51820 allowed-ips 10.244.16.0/24 "
        "persistent-keepalive off" % PEER_B]
    assert PRIV not in json.dumps(result)


def test_a_foreign_peer_added_by_hand_is_drift(tmp_path, monkeypatch):
    extra = "%s\t(none)\t192.0.2.9:51820\t10.250.0.0/24\t0\t0\t0\toff\n" % PEER_C
    result, dummy = check(tmp_path, monkeypatch, {}, dump=recorded.DUMP + extra)
    assert live_commands(result) == ["wg set flannel-wg peer %s remove" % PEER_C]


def test_the_preshared_key_is_read_from_the_node_and_never_shown(tmp_path, monkeypatch):
    # The run persisted the peers file with the key; the slice does not hold it.
    want = concern.want_peers(CONFIG, PSK)[0]
    (tmp_path / "flannel-wg.conf").write_text(concern.conf_content(dict(port=51820, peers=want)))
    assert concern.persisted_preshared_key((tmp_path / "flannel-wg.conf").read_text()) == PSK
    result, node = check(tmp_path, monkeypatch, {})
    # The live peer has no preshared key: the drift is setting it, from stdin, unshown.
    assert live_commands(result) == [
        "wg set flannel-wg peer %s preshared-key /dev/stdin (preshared key on stdin)" % PEER_B]
    assert PSK in node.no_log_values and PRIV in node.no_log_values
    assert PSK not in json.dumps(result) and PRIV not in json.dumps(result)
    # Without the flag (and no key given) the wanted state is "no preshared key".
    result, dummy = check(tmp_path, monkeypatch, {"preshared_key_from_node": False})
    assert live_commands(result) == []


def test_persisted_preshared_key_reads_the_peers_file():
    assert concern.persisted_preshared_key(None) is None
    assert concern.persisted_preshared_key("[Interface]\nListenPort = 51820\n") is None
    assert concern.persisted_preshared_key("[Peer]\nPresharedKey = %s\n" % PSK) == PSK


def test_a_secret_in_an_error_is_masked():
    masked = agent._masked({"actions": ["wg set x private-key " + PRIV], "error": "bad " + PSK,
                            "warnings": []}, {PRIV, PSK})
    assert PRIV not in json.dumps(masked) and PSK not in json.dumps(masked)


def test_wireguard_is_checked_only_where_the_run_converged_a_device():
    slice_ = {"concerns": {"routes": {}, "wireguard": {"state": "present", "config": CONFIG}}}
    assert [c for c, dummy in agent.concerns_of(slice_)] == ["wireguard", "routes", "boot"]
    for arguments in ({"state": "present", "config": None}, {"state": "absent", "config": CONFIG}):
        slice_["concerns"]["wireguard"] = arguments
        assert [c for c, dummy in agent.concerns_of(slice_)] == ["routes", "boot"]


# --- since when each problem holds ------------------------------------------------------

def test_since_keeps_the_first_seen_time_and_clears_with_the_problem():
    since = agent.track_since({}, {("drift", "routes")}, 100.0)
    since = agent.track_since(since, {("drift", "routes"), ("peer", "b1")}, 130.0)
    assert since == {("drift", "routes"): 100.0, ("peer", "b1"): 130.0}
    since = agent.track_since(since, {("peer", "b1")}, 160.0)
    assert since == {("peer", "b1"): 130.0}
    # A sampled peer the check did not probe keeps its time; answered, it goes.
    assert agent.track_since(since, set(), 190.0, unknown={("peer", "b1")}) == {("peer", "b1"): 130.0}
    assert agent.track_since(since, set(), 190.0) == {}
    # A drift that comes back later starts again.
    assert agent.track_since({}, {("drift", "routes")}, 220.0) == {("drift", "routes"): 220.0}


def test_problems_and_unprobed_peers_of_one_check():
    results = {"routes": {"drift": True, "error": None}, "sysctl": {"drift": False, "error": "x"}}
    peers = [{"hostname": "a2", "zone": "a"}, {"hostname": "b1", "zone": "b"}, {"hostname": "b2", "zone": "b"}]
    probes = [(peers[0], 0.001), (peers[1], None)]
    assert agent.problems_of(results, probes) == {("drift", "routes"), ("check_error", "sysctl"), ("peer", "b1")}
    assert agent.unprobed_peers(peers, probes) == {("peer", "b2")}


def test_since_metrics_name_each_problem_with_its_start():
    slice_ = {"hostname": "a1", "zone": "a", "concerns": {},
              "peers": [{"hostname": "b1", "zone": "b", "pod_cidr": "10.244.2.0/24"}]}
    document = json.loads(agent.plan_slice_file(None, slice_, {}, 7))
    since = {("drift", "routes"): 1700000000.0, ("peer", "b1"): 1700000030.5}
    text = agent.render_metrics(document, {"routes": {"drift": True, "error": None, "repaired": []}},
                                [], {}, 1700000060.0, 0.1, agent.settings_of(document), since)
    lines = set(text.splitlines())
    assert 'podnet_agent_drift_since_timestamp_seconds{concern="routes"} 1700000000.0' in lines
    assert 'podnet_agent_peer_unreachable_since_timestamp_seconds{peer="b1",zone="b"} 1700000030.5' in lines
    assert "# TYPE podnet_agent_check_error_since_timestamp_seconds gauge" in lines
    assert not any(line.startswith("podnet_agent_check_error_since_timestamp_seconds") for line in lines)


def test_check_once_keeps_since_across_checks(tmp_path):
    # Real: the sysctl concern checked on this machine in check mode (a wanted value
    # opposite to the live one is a drift); the probe is a stand-in that never answers.
    with open("/proc/sys/net/ipv4/ip_forward") as handle:
        forward = handle.read().strip() == "1"
    slice_ = {"hostname": "a1", "zone": "a", "concerns": {"sysctl": {"ip_forward": not forward}},
              "peers": [{"hostname": "a2", "zone": "a", "pod_cidr": "10.244.1.0/24"}]}
    path = tmp_path / "slice.json"
    path.write_text(agent.plan_slice_file(None, slice_, {"metrics_dir": str(tmp_path)}, 1))
    since, logged = {}, []

    def silent(addresses, timeout):
        return dict((address, None) for address in addresses)

    agent.check_once(0, {}, str(path), logged.append, silent, since=since)
    first = dict(since)
    assert set(first) == {("drift", "sysctl"), ("peer", "a2")}
    agent.check_once(1, {}, str(path), logged.append, silent, since=since)
    assert since == first
    text = (tmp_path / agent.METRICS_FILE).read_text()
    assert 'podnet_agent_drift_since_timestamp_seconds{concern="sysctl"} %r' % first[("drift", "sysctl")] in text


def test_an_unanswered_peer_of_another_zone_is_probed_again_until_it_answers():
    peers = [{"hostname": "a2", "zone": "a"}] + [{"hostname": "b%d" % i, "zone": "b"} for i in range(6)]
    targets = agent.probe_targets(peers, "a", 2, 0)
    assert [p["hostname"] for p in targets] == ["a2", "b0", "b1"]
    # b1 did not answer: the next check's sample (b2, b3) takes it again.
    again = agent.with_retries(agent.probe_targets(peers, "a", 2, 1), peers, ["b1"], 2)
    assert [p["hostname"] for p in again] == ["a2", "b2", "b3", "b1"]
    # At most LIMIT retries on top of the sample; none already chosen twice.
    many = agent.with_retries(targets, peers, ["b1", "b3", "b4", "b5"], 2)
    assert [p["hostname"] for p in many] == ["a2", "b0", "b1", "b3", "b4"]


# --- BGP (BIRD) through the agent, from recorded `systemctl show` output ------------------

def bgp_check(tmp_path, content, unit, mode=0o640):
    from ansible_collections.podnet.network.tests.unit import test_bgp_module as bgp_recorded
    bgp = load_module_utils("podnet_concern_bgp")
    conf = tmp_path / "bird.conf"
    if content is not None:
        conf.write_text(content(bgp.render(bgp_recorded.CONFIG)))
        conf.chmod(mode)
    facts = tmp_path / "facts"
    facts.mkdir(exist_ok=True)
    facts.chmod(0o755)  # the mode podnet gives its directories
    fact = facts / "podnet_bgp.fact"
    fact.write_text(json.dumps({"asn": bgp_recorded.CONFIG["asn"], "pod_cidr": bgp_recorded.CONFIG["pod_cidr"]},
                               sort_keys=True) + "\n")
    shown = "".join("%s=%s\n" % item for item in sorted(unit.items()))
    node = RecordedNode(agent.fill_params(bgp.ARGUMENT_SPEC, {
        "state": "present", "config": bgp_recorded.CONFIG, "path": str(conf),
        "stock_path": str(tmp_path / "stock.conf"), "fact_path": str(fact)}),
        {"show --property": shown, "show protocols": "BIRD 2.0.12 ready.\nName       Proto      Table      State  Since         Info\n"})
    return agent._converged(bgp.converge, node)


ACTIVE = {"LoadState": "loaded", "UnitFileState": "enabled", "ActiveState": "active"}


def test_bgp_converged_is_no_drift_and_a_stopped_bird_or_an_edited_config_is(tmp_path):
    assert bgp_check(tmp_path, lambda text: text, ACTIVE) == {"actions": [], "error": None, "warnings": []}
    stopped = dict(ACTIVE, ActiveState="inactive")
    assert bgp_check(tmp_path, lambda text: text, stopped)["actions"] == ["systemctl start bird.service"]
    edited = bgp_check(tmp_path, lambda text: text.replace("metric 32;", "metric 33;"), ACTIVE)
    assert edited["error"] is None, edited["error"]
    assert edited["actions"][:2] == ["write %s" % (tmp_path / "bird.conf"), "birdc configure"]
    assert edited["error"] is None


def test_bgp_module_is_thin_over_the_concern():
    module = load_module("podnet_bgp")
    assert module.concern is load_module_utils("podnet_concern_bgp")
    assert module.ARGUMENT_SPEC is module.concern.ARGUMENT_SPEC
