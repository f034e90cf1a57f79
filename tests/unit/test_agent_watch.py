# SPDX-License-Identifier: GPL-3.0-or-later
"""etcd mode of the node agent, node side (plugins/module_utils/podnet_agent_watch.py): what
etcdctl says about the node's slice key, which generation is newer, when to converge, and the
slice file the watcher writes (the next run must keep it as it is).

The ``etcdctl -w json`` lines are recorded from Debian's etcd 3.4 (etcd-client) on
molecule/etcd's nodes, with the agent's own certificate: a get of its key, the watch line of
a put of a new generation, and the watch line of a delete."""

import base64
import json
import shutil
import subprocess

from ansible_collections.podnet.network.tests.unit.role_modules import load_module_utils

watch = load_module_utils("podnet_agent_watch")
agent = load_module_utils("podnet_agent")

SLICE = {"hostname": "n1", "zone": "z", "concerns": {"sysctl": {"ip_forward": True}}, "peers": []}
SETTINGS = {"interval": 10, "repair": False, "etcd": {"key": "/coreos.com/network/podnet/agent/n1"}}


def published(generation, slice_=None):
    slice_ = SLICE if slice_ is None else slice_
    return {"generation": generation, "digest": agent.slice_digest(slice_), "slice": slice_}


def test_a_get_gives_the_revision_and_the_published_document():
    revision, document = watch.parse_get(RECORDED_GET)
    assert revision == RECORDED_GET_REVISION
    assert document["generation"] == RECORDED_GET_GENERATION and document["slice"]["hostname"] == RECORDED_HOST
    assert watch.parse_get(RECORDED_GET_EMPTY) == (RECORDED_GET_EMPTY_REVISION, None)


def test_a_watch_line_gives_each_event_in_order():
    documents = watch.parse_watch(RECORDED_WATCH_PUT)
    assert [d["generation"] for d in documents] == [RECORDED_WATCH_GENERATION]
    assert watch.parse_watch(RECORDED_WATCH_DELETE) == [None]
    # what etcdctl prints besides JSON (its warnings) carries no event
    assert watch.parse_watch("{not json") == [] and watch.parse_watch("[]") == []


def test_a_value_that_is_not_a_slice_document_is_never_applied():
    for value in ("not json", json.dumps({"generation": "1", "slice": {}}), json.dumps({"generation": 3})):
        line = json.dumps({"Events": [{"kv": {"key": "", "value": base64.b64encode(value.encode()).decode()}}]})
        assert watch.parse_watch(line) == [None]
        assert watch.decide(watch.newest(watch.parse_watch(line)), 1) is False


def test_the_newest_generation_wins_and_only_a_newer_one_converges():
    events = [published(5), None, published(9), published(7)]
    assert watch.newest(events)["generation"] == 9
    assert watch.newest([None]) is None
    assert watch.decide(published(9), 8) is True
    assert watch.decide(published(9), 9) is False       # the run wrote it already
    assert watch.decide(published(9), 10) is False      # the file is newer: never backwards
    assert watch.decide(published(9), None) is True     # no readable slice file yet
    assert watch.decide(None, 1) is False


def test_the_file_the_watcher_writes_is_the_one_the_next_run_keeps():
    """The run's module (podnet_agent_slice) finds the same slice and settings: no change,
    and the generation stays (it would only ever move forward)."""
    local = json.loads(agent.plan_slice_file(None, dict(SLICE, peers=[{"hostname": "n2"}]), SETTINGS, 100))
    text = watch.merged_text(local, published(200))
    document = json.loads(text)
    assert document["generation"] == 200 and document["settings"] == SETTINGS and document["slice"] == SLICE
    assert agent.plan_slice_file(text, SLICE, SETTINGS, 300) is None


def test_offer_writes_a_newer_slice_atomically_and_wakes_the_loop(tmp_path):
    path = tmp_path / "slice.json"
    path.write_text(agent.plan_slice_file(None, SLICE, SETTINGS, 100))
    logged = []
    watcher = watch.Watcher(str(path), logged.append)
    newer = dict(SLICE, peers=[{"hostname": "n2", "zone": "z", "pod_cidr": "10.244.1.0/24"}])
    watcher.offer(published(99, newer))                       # older: ignored
    assert json.loads(path.read_text())["generation"] == 100 and not watcher.wake.is_set()
    watcher.offer(published(150, newer))
    assert json.loads(path.read_text())["slice"] == newer and watcher.wake.is_set()
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slice.json"]
    applied = []
    watcher.converge_new(applied.append)
    watcher.converge_new(applied.append)                      # once per new slice
    assert [d["generation"] for d in applied] == [150]
    assert watcher.state["generation"] == 150 and any("came from etcd" in line for line in logged)


def test_backoff_doubles_up_to_30_seconds():
    assert [watch.backoff(n) for n in (1, 2, 3, 4, 5, 6, 9)] == [1, 2, 4, 8, 16, 30, 30]


def test_etcdctl_is_called_with_the_agents_own_certificate():
    etcd = {"endpoints": ["https://192.0.2.1:2379", "https://192.0.2.2:2379"], "cacert": "/c/ca.crt",
            "cert": "/c/client.crt", "key_file": "/c/client.key", "key": "/p/podnet/agent/n1"}
    argv = watch.etcdctl_argv(etcd, "watch", etcd["key"], "--rev=8", "-w", "json")
    assert argv[:5] == ["/usr/bin/etcdctl", "--endpoints=https://192.0.2.1:2379,https://192.0.2.2:2379",
                        "--cacert=/c/ca.crt", "--cert=/c/client.crt", "--key=/c/client.key"]
    assert argv[-5:] == ["watch", "/p/podnet/agent/n1", "--rev=8", "-w", "json"]


def test_the_watch_metrics_are_valid_prometheus_text():
    state = {"connected": True, "last_event": 1765090000.5, "last_contact": 1765090010.0, "generation": 17,
             "reconnects": 2}
    text = watch.render_metrics(state, True)
    assert "podnet_agent_watch_connected 1\n" in text and "podnet_agent_watch_generation 17\n" in text
    assert "podnet_agent_watch_reconnects_total 2\n" in text
    promtool = shutil.which("promtool") or "promtool"
    out = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


# etcdctl 3.4 (Debian's etcd-client) on molecule/etcd's podnet-et-node1, a scratch key:
# `get KEY -w json` with the key present, then absent, and the two lines of `watch KEY
# --rev=N -w json` for a put of generation 1765100100 and a delete.
RECORDED_HOST = "n1"
RECORDED_GET_REVISION = 3
RECORDED_GET_GENERATION = 1765100000
RECORDED_GET = (
    '{"header":{"cluster_id":3679339118466210043,"member_id":7949335637635687431,"revision":3,"raft_term":4},'
    '"kvs":[{"key":"L3BvZG5ldC10ZXN0L2FnZW50L24x","create_revision":3,"mod_revision":3,"version":1,'
    '"value":"eyJkaWdlc3QiOiJkIiwiZ2VuZXJhdGlvbiI6MTc2NTEwMDAwMCwic2xpY2UiOnsiaG9zdG5hbWUiOiJuMSIsInpvbmUiOiJ6I'
    'iwiY29uY2VybnMiOnt9LCJwZWVycyI6W119fQ=="}],"count":1}')
RECORDED_GET_EMPTY_REVISION = 3
RECORDED_GET_EMPTY = '{"header":{"cluster_id":3679339118466210043,"member_id":7949335637635687431,"revision":3,"raft_term":4}}'
RECORDED_WATCH_GENERATION = 1765100100
RECORDED_WATCH_PUT = (
    '{"Header":{"cluster_id":3679339118466210043,"member_id":7949335637635687431,"revision":4,"raft_term":4},'
    '"Events":[{"kv":{"key":"L3BvZG5ldC10ZXN0L2FnZW50L24x","create_revision":3,"mod_revision":4,"version":2,'
    '"value":"eyJkaWdlc3QiOiJlIiwiZ2VuZXJhdGlvbiI6MTc2NTEwMDEwMCwic2xpY2UiOnsiaG9zdG5hbWUiOiJuMSIsInpvbmUiOiJ6I'
    'iwiY29uY2VybnMiOnt9LCJwZWVycyI6W119fQ=="}}],"CompactRevision":0,"Canceled":false,"Created":false}')
RECORDED_WATCH_DELETE = (
    '{"Header":{"cluster_id":3679339118466210043,"member_id":7949335637635687431,"revision":5,"raft_term":4},'
    '"Events":[{"type":1,"kv":{"key":"L3BvZG5ldC10ZXN0L2FnZW50L24x","mod_revision":5}}],"CompactRevision":0,'
    '"Canceled":false,"Created":false}')
