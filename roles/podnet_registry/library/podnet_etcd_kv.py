#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Read a prefix of etcd, or converge it to a set of JSON values, with etcdctl."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: podnet_etcd_kv
short_description: Read an etcd prefix, or write only the keys that differ, in one call
description:
  - Runs on an etcd member; talks to etcd with C(etcdctl) (API v3) and the settings of an
    environment file (C(ETCDCTL_ENDPOINTS), C(ETCDCTL_CACERT), C(ETCDCTL_CERT), C(ETCDCTL_KEY)).
  - Reads everything under O(prefix) with one C(etcdctl get --prefix -w json) and returns it.
  - With O(keys), puts every key whose value is absent or differs (values compare as JSON,
    so key order and spacing do not matter), without a lease (no TTL), and deletes keys under
    O(purge) that are not in O(keys) and carry no lease (keys with a lease belong to a live
    client such as flanneld and are left alone). Writes nothing and reports C(changed=false)
    when everything already matches; check mode reports and writes nothing.
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
  env_file:
    description: File with the ETCDCTL_* settings.
    type: path
    required: true
  missing_ok:
    description: Treat a missing O(env_file) as an empty registry (first run) instead of an error.
    type: bool
    default: false
author:
  - podnet
"""

EXAMPLES = r"""
- name: Registry | read flannel's prefix
  podnet_etcd_kv:
    prefix: /coreos.com/network
    env_file: /etc/etcd/podnet-etcdctl.env
    missing_ok: true
  delegate_to: etcd1
  register: registry
"""

RETURN = r"""
kvs:
  description: "C({key: {value: str, lease: int}}) under the prefix, as read before any write."
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
"""

import base64
import json
import os

from ansible.module_utils.basic import AnsibleModule


def read_env(path):
    env = {}
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                env[key.strip()] = value.strip().strip('"')
    return env


def same(current, wanted):
    try:
        return json.loads(current) == json.loads(wanted)
    except ValueError:
        return current == wanted


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            prefix=dict(type="str", required=True),
            keys=dict(type="dict", default=None, no_log=False),
            purge=dict(type="list", elements="str", default=[]),
            env_file=dict(type="path", required=True),
            missing_ok=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    prefix = module.params["prefix"].rstrip("/") + "/"
    result = dict(changed=False, kvs={}, written=[], deleted=[], deployed=True)
    if not os.path.exists(module.params["env_file"]):
        if module.params["missing_ok"] and module.params["keys"] is None:
            result["deployed"] = False
            module.exit_json(**result)
        module.fail_json(msg="%s does not exist: is podnet's etcd cluster deployed on this host "
                             "(role podnet_etcd)?" % module.params["env_file"])
    env = dict(os.environ)
    env.update(read_env(module.params["env_file"]))
    env["ETCDCTL_API"] = "3"
    etcdctl = module.get_bin_path("etcdctl", required=True)

    def ctl(*args, data=None):
        rc, out, err = module.run_command([etcdctl, *args], environ_update=env, data=data,
                                          binary_data=True)
        if rc != 0:
            module.fail_json(msg="etcdctl %s failed (is a quorum of etcd members up?): %s" % (
                args[0], err.strip() or out.strip()), **result)
        return out

    answer = json.loads(ctl("get", "--prefix", prefix, "-w", "json") or "{}")
    kvs = {}
    for item in answer.get("kvs") or []:
        key = base64.b64decode(item["key"]).decode()
        value = base64.b64decode(item.get("value") or "").decode()
        kvs[key] = {"value": value, "lease": int(item.get("lease") or 0)}
    result["kvs"] = kvs

    wanted = module.params["keys"]
    if wanted is not None:
        wanted = {key: value if isinstance(value, str) else json.dumps(value, sort_keys=True)
                  for key, value in wanted.items()}
        for key in sorted(wanted):
            have = kvs.get(key)
            if have is None or have["lease"] or not same(have["value"], wanted[key]):
                result["written"].append(key)
        purge = [p.rstrip("/") + "/" for p in module.params["purge"]]
        for key in sorted(kvs):
            if key not in wanted and not kvs[key]["lease"] and any(key.startswith(p) for p in purge):
                result["deleted"].append(key)
        result["changed"] = bool(result["written"] or result["deleted"])
        result["diff"] = dict(
            before="".join("%s %s\n" % (k, kvs[k]["value"]) for k in result["written"] + result["deleted"]
                           if k in kvs),
            after="".join("%s %s\n" % (k, wanted[k]) for k in result["written"]))
        if not module.check_mode:
            for key in result["written"]:
                ctl("put", key, data=wanted[key])
            for key in result["deleted"]:
                ctl("del", key)
    module.exit_json(**result)


def main():
    run_module()


if __name__ == "__main__":
    main()
