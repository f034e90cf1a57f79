#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read a prefix of etcd, or converge it to a set of JSON values, with etcdctl."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: podnet_etcd_kv
short_description: Read an etcd prefix, or write only the keys that differ, with compare-and-swap
description:
  - Runs on an etcd member; talks to etcd with C(etcdctl) (API v3) and the settings of an
    environment file (C(ETCDCTL_ENDPOINTS), C(ETCDCTL_CACERT), C(ETCDCTL_CERT), C(ETCDCTL_KEY)).
  - Reads everything under O(prefix) with one C(etcdctl get --prefix -w json) and returns it,
    with the mod revision of every key (RV(snapshot)).
  - With O(keys), puts every key whose value is absent or differs (values compare as JSON,
    so key order and spacing do not matter), without a lease (no TTL), and deletes keys under
    O(purge) that are not in O(keys). Writes nothing and reports C(changed=false) when
    everything already matches; check mode reports and writes nothing.
  - Every write is an C(etcdctl txn) that compares each key's mod revision with the one read
    (a key absent when read is created only if it is still absent; a key present is updated
    or deleted only if nobody changed it since), so a concurrent writer is never overwritten.
  - A key that carries a lease (a TTL, held by a live client such as flanneld) is never
    written nor deleted; it is reported in RV(kept). When the value to write names another
    C(PublicIP) than the leased one (the plan gives a subnet held by a live flanneld to another
    host), the module fails before writing anything.
  - With O(expect) (the RV(snapshot) of an earlier read, the one the caller planned from), a
    write that has something to change stops before changing anything when a key without a
    lease changed since that read, and every transaction also compares the mod revision of O(guard) (podnet's ledger), so a
    second run that planned from the same read fails with a message instead of interleaving.
  - If the environment file does not exist (no cluster deployed yet), reads return nothing
    and O(missing_ok) decides whether that is an error.
options:
  prefix:
    description: Key prefix to read (a trailing slash is added).
    type: str
    required: true
  keys:
    description: "C({key: value}); values are JSON-encoded unless they are strings. Null: read only."
    type: dict
  purge:
    description: Sub-prefixes under which keys not in O(keys) are deleted (unless they carry a lease).
    type: list
    elements: str
    default: []
  expect:
    description: >-
      C({revision, mods}) returned as RV(snapshot) by the read the caller planned from. Empty:
      compare against this call's own read only.
    type: dict
    default: {}
  guard:
    description: Key whose mod revision every write transaction compares (podnet's ledger); written first.
    type: str
    default: ""
  env_file:
    description: File with the ETCDCTL_* settings.
    type: path
    required: true
  missing_ok:
    description: Treat a missing O(env_file) as an empty registry (first run) instead of an error.
    type: bool
    default: false
extends_documentation_fragment: [podnet.network.attributes]
"""

EXAMPLES = r"""
- name: Registry | read flannel's prefix
  podnet_etcd_kv:
    prefix: /coreos.com/network
    env_file: /etc/etcd/podnet-etcdctl.env
    missing_ok: true
  delegate_to: etcd1
  register: registry

- name: Registry | write what the plan says, only if nobody wrote since that read
  podnet_etcd_kv:
    prefix: /coreos.com/network
    keys: {/coreos.com/network/config: {Network: 10.244.0.0/16}}
    expect: "{{ registry.snapshot }}"
    guard: /coreos.com/network/podnet/ledger
    env_file: /etc/etcd/podnet-etcdctl.env
  delegate_to: etcd1
"""

RETURN = r"""
kvs:
  description: "C({key: {value: str, lease: int, mod: int}}) under the prefix, as read before any write."
  returned: always
  type: dict
snapshot:
  description: >-
    C({revision: int, mods: {key: mod revision}}) of the keys without a lease, as read before
    any write; pass it as O(expect) to a later write.
  returned: always
  type: dict
deployed:
  description: Whether the environment file existed (a cluster is deployed).
  returned: always
  type: bool
written:
  description: Keys put.
  returned: always
  type: list
deleted:
  description: Keys deleted.
  returned: always
  type: list
kept:
  description: Keys the write would change or delete but left alone because they carry a lease (TTL).
  returned: always
  type: list
"""

import base64
import json

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils.podnet_etcd import Etcdctl, read_env

# etcd refuses a transaction with more than --max-txn-ops (default 128) operations, and a
# request over --max-request-bytes (default 1.5 MiB): the agents' slices in etcd mode grow
# with the fleet (about 28 KB each at 100 nodes), so a batch is also cut by size.
BATCH = 64
BATCH_BYTES = 1024 * 1024


class KVError(Exception):
    """A refusal the module reports as a failure."""


def same(current, wanted):
    try:
        return json.loads(current) == json.loads(wanted)
    except ValueError:
        return current == wanted


def parse_get(answer):
    """``({key: {value, lease, mod}}, revision)`` from ``etcdctl get -w json``'s answer."""
    kvs = {}
    for item in answer.get("kvs") or []:
        key = base64.b64decode(item["key"]).decode()
        kvs[key] = {"value": base64.b64decode(item.get("value") or "").decode(),
                    "lease": int(item.get("lease") or 0),
                    "mod": int(item.get("mod_revision") or 0)}
    return kvs, int((answer.get("header") or {}).get("revision") or 0)


def public_ip(value):
    """The PublicIP of a flannel lease value (None when it has none or is not JSON)."""
    try:
        document = json.loads(value)
    except ValueError:
        return None
    return document.get("PublicIP") if isinstance(document, dict) else None


def snapshot(kvs, revision):
    """What a later write compares against: mod revisions of the keys without a lease."""
    return {"revision": revision,
            "mods": {key: kv["mod"] for key, kv in sorted(kvs.items()) if not kv["lease"]}}


def encode(keys):
    return {key: value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            for key, value in keys.items()}


def plan(kvs, wanted, purge=(), expect=None):
    """What a write must do: ``{"put": {key: value}, "delete": [..], "kept": [..]}``.

    Pure. ``wanted`` holds encoded values. Keys with a lease are never put nor deleted.
    With ``expect`` (an earlier snapshot) and something to write, raises KVError when a key
    without a lease changed, appeared or vanished since that snapshot (the plan was made
    from a state that is gone). Nothing to write: the registry already holds the plan.
    """
    put, kept = {}, []
    for key in sorted(wanted):
        have = kvs.get(key)
        if have is not None and same(have["value"], wanted[key]):
            continue
        if have is not None and have["lease"]:
            holder, planned = public_ip(have["value"]), public_ip(wanted[key])
            if holder != planned:
                raise KVError(
                    "%s is leased (TTL) to %s, but the plan gives that subnet to %s: it would have two "
                    "holders. Nothing was written. Find the flanneld at %s (its lease is live); stop it "
                    "or let its lease expire, or pin the planned node to another subnet, then re-run."
                    % (key, holder or "an unknown host", planned or "another host", holder or "that address"))
            kept.append(key)
            continue
        put[key] = wanted[key]
    prefixes = [p.rstrip("/") + "/" for p in purge]
    delete = []
    for key in sorted(kvs):
        if key in wanted or not any(key.startswith(p) for p in prefixes):
            continue
        if kvs[key]["lease"]:
            kept.append(key)
        else:
            delete.append(key)
    if expect and (put or delete):
        now = snapshot(kvs, 0)["mods"]
        was = {key: int(mod) for key, mod in (expect.get("mods") or {}).items()}
        moved = sorted(key for key in set(now) | set(was) if now.get(key) != was.get(key))
        if moved:
            raise KVError(
                "the etcd registry changed since this run read it (revision %s): %s. Another "
                "podnet run (or someone by hand) wrote it meanwhile; nothing was written. Re-run "
                "to plan from what the registry holds now." % (expect.get("revision"), ", ".join(moved)))
    return {"put": put, "delete": delete, "kept": sorted(kept)}


def quote(text):
    """A Go double-quoted string (etcdctl txn reads its arguments with %q)."""
    return json.dumps(text, ensure_ascii=True)


def batches(actions, guard=""):
    """Split ``plan()``'s put/delete into transactions, the guard key's put first: at most
    BATCH operations and BATCH_BYTES of keys and values each (one larger value goes alone)."""
    ops = [("put", key, value) for key, value in actions["put"].items()]
    ops.sort(key=lambda op: op[1] != guard)
    ops += [("del", key, None) for key in actions["delete"]]
    chunks, size = [], 0
    for op in ops:
        weight = len(op[1].encode("utf-8")) + len((op[2] or "").encode("utf-8"))
        if not chunks or len(chunks[-1]) == BATCH or (chunks[-1] and size + weight > BATCH_BYTES):
            chunks.append([])
            size = 0
        chunks[-1].append(op)
        size += weight
    return chunks


def txn_input(ops, mods, guard="", guard_mod=None):
    """stdin of ``etcdctl txn``: compares, blank line, success ops, blank line, no failure ops.

    Every key of ``ops`` must still have the mod revision in ``mods`` (0: still absent); the
    guard key, when given and not itself in ``ops``, must still have ``guard_mod``.
    """
    compares = ['mod(%s) = "%d"' % (quote(key), mods.get(key, 0)) for dummy, key, dummy in ops]
    if guard and guard not in [key for dummy, key, dummy in ops]:
        compares.append('mod(%s) = "%d"' % (quote(guard), guard_mod or 0))
    lines = compares + [""]
    for verb, key, value in ops:
        lines.append("put %s %s" % (quote(key), quote(value)) if verb == "put" else "del %s" % quote(key))
    return "\n".join(lines + ["", "", ""])


def write(ctl, actions, mods, guard=""):
    """Apply ``plan()``'s actions with CTL (``Etcdctl.call``): one compare-and-swap transaction
    per batch, the guard key (podnet's ledger) in the first. A refused transaction raises
    ``KVError(message, written, deleted)`` where WRITTEN and DELETED are exactly what the
    transactions before it committed (etcd keeps them: a transaction is all-or-nothing, a
    series of them is not), and the message names them."""
    guard_mod = mods.get(guard, 0)
    ops_all = batches(actions, guard)
    written, deleted = [], []
    for number, ops in enumerate(ops_all, 1):
        answer = ctl(["txn"], data=txn_input(ops, mods, guard, guard_mod))
        if not answer.get("succeeded"):
            if written or deleted:
                done = ("Transactions 1-%d of %d were committed before it and stay: written %s; deleted %s. "
                        "The registry holds part of this plan; re-run to plan from what it holds now and "
                        "write the rest." % (number - 1, len(ops_all), ", ".join(written) or "nothing",
                                             ", ".join(deleted) or "nothing"))
            else:
                done = "Nothing was written; re-run to plan from what the registry holds now."
            raise KVError(
                "etcd refused the write (transaction %d of %d): a key among %s (or %s) changed since it "
                "was read -- another podnet run or a client wrote meanwhile. Nothing of this transaction "
                "was written. %s" % (number, len(ops_all), ", ".join(key for dummy, key, dummy in ops),
                                     guard or "the guard key", done), sorted(written), deleted)
        written.extend(key for verb, key, dummy in ops if verb == "put")
        deleted.extend(key for verb, key, dummy in ops if verb == "del")
        if guard in [key for dummy, key, dummy in ops]:
            # later transactions expect the guard exactly as this one left it
            guard_mod = int(answer["header"]["revision"])
    return sorted(written), deleted


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            prefix=dict(type="str", required=True),
            keys=dict(type="dict", default=None, no_log=False),
            purge=dict(type="list", elements="str", default=[]),
            expect=dict(type="dict", default={}),
            guard=dict(type="str", default=""),
            env_file=dict(type="path", required=True),
            missing_ok=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    prefix = module.params["prefix"].rstrip("/") + "/"
    guard = module.params["guard"]
    result = dict(changed=False, kvs={}, snapshot={"revision": 0, "mods": {}}, written=[], deleted=[],
                  kept=[], deployed=True)
    env = read_env(module, module.params["env_file"])
    if env is None:
        if module.params["missing_ok"] and module.params["keys"] is None:
            result["deployed"] = False
            module.exit_json(**result)
        module.fail_json(msg="%s does not exist: is podnet's etcd cluster deployed on this host "
                             "(role podnet_etcd)?" % module.params["env_file"])
    ctl = Etcdctl(module, env, failure=result).call

    kvs, revision = parse_get(ctl(["get", "--prefix", prefix]))
    result["kvs"] = kvs
    result["snapshot"] = snapshot(kvs, revision)

    if module.params["keys"] is not None:
        wanted = encode(module.params["keys"])
        try:
            actions = plan(kvs, wanted, module.params["purge"], module.params["expect"])
        except KVError as exc:
            module.fail_json(msg=str(exc), **result)
        result["written"], result["deleted"] = sorted(actions["put"]), actions["delete"]
        result["kept"] = actions["kept"]
        if actions["kept"]:
            module.warn("left alone because they carry a lease (a live client such as flanneld "
                        "holds them): %s" % ", ".join(actions["kept"]))
        result["changed"] = bool(result["written"] or result["deleted"])
        result["diff"] = dict(
            before="".join("%s %s\n" % (k, kvs[k]["value"]) for k in result["written"] + result["deleted"]
                           if k in kvs),
            after="".join("%s %s\n" % (k, wanted[k]) for k in result["written"]))
        if result["changed"] and not module.check_mode:
            mods = {key: kv["mod"] for key, kv in kvs.items()}
            try:
                write(ctl, actions, mods, guard)
            except KVError as exc:
                result["written"], result["deleted"] = exc.args[1], exc.args[2]
                result["changed"] = bool(exc.args[1] or exc.args[2])
                module.fail_json(msg=exc.args[0], **result)
    module.exit_json(**result)


def main():
    run_module()


if __name__ == "__main__":
    main()
