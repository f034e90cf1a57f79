# SPDX-License-Identifier: GPL-3.0-or-later
"""roles/podnet_registry/library/podnet_etcd_kv.py: the pure read -> plan -> transaction steps.

The inputs are ``etcdctl -w json`` answers recorded from Debian's etcd 3.4.23 (the test
hosts' etcd); the transaction texts were fed to that etcdctl's ``txn`` and applied.
"""

import json

import pytest
from ansible_collections.podnet.network.tests.unit.role_modules import load_module

kv = load_module("podnet_etcd_kv")

P = "/coreos.com/network"
LEDGER = P + "/podnet/ledger"

# etcdctl get --prefix /coreos.com/network/ -w json: config, a reservation (no TTL) and a
# lease flanneld holds (TTL 600 s).
RECORDED_GET = json.loads(
    '{"header":{"cluster_id":14841639068965178418,"member_id":10276657743932975437,"revision":4,'
    '"raft_term":2},"kvs":[{"key":"L2NvcmVvcy5jb20vbmV0d29yay9jb25maWc=","create_revision":2,'
    '"mod_revision":2,"version":1,"value":"eyJOZXR3b3JrIjoiMTAuMjQ0LjAuMC8xNiIsIlN1Ym5ldExlbiI6MjR9"},'
    '{"key":"L2NvcmVvcy5jb20vbmV0d29yay9zdWJuZXRzLzEwLjI0NC4wLjAtMjQ=","create_revision":3,'
    '"mod_revision":3,"version":1,"value":"eyJQdWJsaWNJUCI6IjE5Mi4wLjIuMSJ9"},'
    '{"key":"L2NvcmVvcy5jb20vbmV0d29yay9zdWJuZXRzLzEwLjI0NC4xLjAtMjQ=","create_revision":4,'
    '"mod_revision":4,"version":1,"value":"eyJQdWJsaWNJUCI6IjE5Mi4wLjIuMiJ9",'
    '"lease":7587899255304583175}],"count":3}')
# the same get on an empty prefix
RECORDED_EMPTY = json.loads('{"header":{"cluster_id":14841639068965178418,'
                            '"member_id":10276657743932975437,"revision":5,"raft_term":2}}')


def read():
    return kv.parse_get(RECORDED_GET)[0]


def test_parse_get_keeps_value_lease_and_mod_revision():
    kvs, revision = kv.parse_get(RECORDED_GET)
    assert revision == 4
    assert kvs == {
        P + "/config": {"value": '{"Network":"10.244.0.0/16","SubnetLen":24}', "lease": 0, "mod": 2},
        P + "/subnets/10.244.0.0-24": {"value": '{"PublicIP":"192.0.2.1"}', "lease": 0, "mod": 3},
        P + "/subnets/10.244.1.0-24": {"value": '{"PublicIP":"192.0.2.2"}',
                                       "lease": 7587899255304583175, "mod": 4},
    }
    assert kv.parse_get(RECORDED_EMPTY) == ({}, 5)


def test_snapshot_holds_the_mod_revision_of_keys_without_lease():
    assert kv.snapshot(read(), 4) == {"revision": 4, "mods": {P + "/config": 2, P + "/subnets/10.244.0.0-24": 3}}


def test_equal_json_is_no_change():
    wanted = kv.encode({P + "/config": {"SubnetLen": 24, "Network": "10.244.0.0/16"}})
    assert kv.plan(read(), wanted) == {"put": {}, "delete": [], "kept": []}


def test_a_leased_key_is_never_written_even_with_another_value():
    # before: the module re-put every leased key without its lease (flanneld's TTL lease
    # turned into a permanent reservation) and overwrote its value
    wanted = kv.encode({P + "/subnets/10.244.1.0-24": {"PublicIP": "192.0.2.2", "BackendType": "vxlan"}})
    assert kv.plan(read(), wanted) == {"put": {}, "delete": [], "kept": [P + "/subnets/10.244.1.0-24"]}
    same = kv.encode({P + "/subnets/10.244.1.0-24": {"PublicIP": "192.0.2.2"}})
    assert kv.plan(read(), same) == {"put": {}, "delete": [], "kept": []}


def test_purge_deletes_reservations_but_never_a_leased_key():
    actions = kv.plan(read(), kv.encode({P + "/config": {"Network": "10.244.0.0/16", "SubnetLen": 24}}),
                      purge=[P + "/subnets"])
    assert actions == {"put": {}, "delete": [P + "/subnets/10.244.0.0-24"],
                       "kept": [P + "/subnets/10.244.1.0-24"]}


def test_every_write_compares_the_mod_revision_it_read():
    kvs = read()
    wanted = kv.encode({P + "/config": {"Network": "10.245.0.0/16"}, LEDGER: {"nodes": {}},
                        P + "/subnets/10.244.2.0-24": {"PublicIP": "192.0.2.3"}})
    actions = kv.plan(kvs, wanted, purge=[P + "/subnets/"])
    (ops,) = kv.batches(actions, LEDGER)
    assert [op[:2] for op in ops] == [("put", LEDGER), ("put", P + "/config"),
                                      ("put", P + "/subnets/10.244.2.0-24"),
                                      ("del", P + "/subnets/10.244.0.0-24")]
    text = kv.txn_input(ops, {k: v["mod"] for k, v in kvs.items()}, LEDGER, 0)
    assert text == (
        'mod("/coreos.com/network/podnet/ledger") = "0"\n'           # absent: create only
        'mod("/coreos.com/network/config") = "2"\n'                  # update only if unchanged
        'mod("/coreos.com/network/subnets/10.244.2.0-24") = "0"\n'
        'mod("/coreos.com/network/subnets/10.244.0.0-24") = "3"\n'   # delete only if unchanged
        '\n'
        'put "/coreos.com/network/podnet/ledger" "{\\"nodes\\": {}}"\n'
        'put "/coreos.com/network/config" "{\\"Network\\": \\"10.245.0.0/16\\"}"\n'
        'put "/coreos.com/network/subnets/10.244.2.0-24" "{\\"PublicIP\\": \\"192.0.2.3\\"}"\n'
        'del "/coreos.com/network/subnets/10.244.0.0-24"\n'
        '\n\n')


def test_values_are_quoted_for_etcdctl():
    (ops,) = kv.batches({"put": {"/k": 'a "b" \\ \u00fc'}, "delete": []})
    assert kv.txn_input(ops, {}) == 'mod("/k") = "0"\n\nput "/k" "a \\"b\\" \\\\ \\u00fc"\n\n\n'


def test_the_guard_is_compared_even_when_not_written():
    (ops,) = kv.batches({"put": {P + "/subnets/10.244.2.0-24": "{}"}, "delete": []}, LEDGER)
    text = kv.txn_input(ops, {}, LEDGER, 17)
    assert text.splitlines()[:3] == ['mod("/coreos.com/network/subnets/10.244.2.0-24") = "0"',
                                     'mod("/coreos.com/network/podnet/ledger") = "17"', ""]


def test_large_writes_are_split_below_etcds_operation_limit_guard_first():
    puts = {"%s/subnets/10.%d.0.0-24" % (P, i): "{}" for i in range(150)}
    puts[LEDGER] = "{}"
    chunks = kv.batches({"put": puts, "delete": []}, LEDGER)
    assert [len(c) for c in chunks] == [64, 64, 23]
    assert chunks[0][0][1] == LEDGER
    assert all(len(c) < 128 for c in chunks)


def test_large_values_are_split_below_etcds_request_size_limit():
    # the agents' slices of a 100-node fleet in etcd mode: about 28 KB each; 64 of them in one
    # transaction (1.8 MB) were over etcd's 1.5 MiB request limit
    slice_ = "x" * 28 * 1024
    puts = {"%s/podnet/agent/node%03d" % (P, i): slice_ for i in range(100)}
    puts[LEDGER] = "{}"
    chunks = kv.batches({"put": puts, "delete": ["%s/podnet/agent/gone" % P]}, LEDGER)
    assert chunks[0][0][1] == LEDGER
    assert sum(len(c) for c in chunks) == 102
    for chunk in chunks:
        assert sum(len(key) + len(value or "") for dummy, key, value in chunk) <= kv.BATCH_BYTES
    # one value over the limit still goes, alone
    (big,), (small,) = kv.batches({"put": {"/a": "y" * (kv.BATCH_BYTES + 1), "/b": "{}"}, "delete": []})
    assert big[1] == "/a" and small[1] == "/b"


def test_a_write_planned_from_a_stale_read_is_refused():
    kvs = read()
    stale = {"revision": 3, "mods": {P + "/config": 2}}   # planned before the reservation appeared
    wanted = kv.encode({LEDGER: {"nodes": {"a": {}}}})
    with pytest.raises(kv.KVError, match=r"changed since this run read it \(revision 3\): "
                                         r"/coreos.com/network/subnets/10.244.0.0-24"):
        kv.plan(kvs, wanted, expect=stale)
    # a key changed by someone else (mod revision moved) is refused too
    with pytest.raises(kv.KVError, match="/coreos.com/network/config"):
        kv.plan(kvs, wanted, expect={"revision": 4, "mods": {P + "/config": 1,
                                                             P + "/subnets/10.244.0.0-24": 3}})
    # leases come and go (flanneld): they do not count as a change
    assert kv.plan(kvs, wanted, expect=kv.snapshot(kvs, 4))["put"] == {LEDGER: wanted[LEDGER]}


def test_nothing_to_write_is_not_refused_even_after_a_change():
    kvs = read()
    wanted = {P + "/config": kvs[P + "/config"]["value"]}
    assert kv.plan(kvs, wanted, expect={"revision": 1, "mods": {}}) == {"put": {}, "delete": [], "kept": []}


class FakeEtcd:
    """``Etcdctl.call`` for ``txn``: commits the first COMMITS transactions, refuses the next."""

    def __init__(self, commits):
        self.commits, self.seen = commits, []

    def __call__(self, args, data=None):
        assert args == ["txn"]
        self.seen.append(data)
        if len(self.seen) > self.commits:
            return {"succeeded": False, "header": {"revision": 100}}
        return {"succeeded": True, "header": {"revision": 100 + len(self.seen)}}


def test_a_write_of_several_transactions_that_fails_midway_says_exactly_what_was_written():
    # before: "Nothing of this transaction was written", while the first (with the ledger) had
    # committed; the result said the whole plan was written
    puts = {"%s/subnets/10.%d.0.0-24" % (P, i): "{}" for i in range(150)}
    puts[LEDGER] = "{}"
    actions = {"put": puts, "delete": ["%s/subnets/10.250.0.0-24" % P]}
    fake = FakeEtcd(commits=1)
    with pytest.raises(kv.KVError) as caught:
        kv.write(fake, actions, {}, LEDGER)
    message, written, deleted = caught.value.args
    first = [key for dummy, key, dummy in kv.batches(actions, LEDGER)[0]]
    assert written == sorted(first) and LEDGER in written and deleted == []
    assert "transaction 2 of 3" in message
    assert "Transactions 1-1 of 3 were committed before it and stay: written " + ", ".join(first) in message
    assert "Nothing was written" not in message
    # the guard of the later transactions is the ledger as the first one left it
    assert 'mod("%s") = "101"' % LEDGER in fake.seen[1]


def test_a_write_refused_at_its_first_transaction_wrote_nothing():
    fake = FakeEtcd(commits=0)
    with pytest.raises(kv.KVError) as caught:
        kv.write(fake, {"put": {LEDGER: "{}"}, "delete": []}, {}, LEDGER)
    assert caught.value.args[1:] == ([], [])
    assert "Nothing was written" in caught.value.args[0]
    assert kv.write(FakeEtcd(commits=1), {"put": {LEDGER: "{}"}, "delete": []}, {}, LEDGER) == ([LEDGER], [])


def test_a_leased_key_the_plan_gives_to_another_host_stops_the_write():
    # before: the key was "kept" with a warning, and the plan went on with a second holder of
    # the subnet (the live flanneld at 192.0.2.2 and the planned node at 192.0.2.9)
    wanted = kv.encode({P + "/subnets/10.244.1.0-24": {"PublicIP": "192.0.2.9", "BackendType": "vxlan"}})
    with pytest.raises(kv.KVError, match=r"10\.244\.1\.0-24 is leased \(TTL\) to 192\.0\.2\.2, but the plan "
                                         r"gives that subnet to 192\.0\.2\.9.*Nothing was written"):
        kv.plan(read(), wanted)
