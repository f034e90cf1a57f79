#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Save a snapshot of podnet's etcd cluster (etcdctl snapshot save) on a member."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: podnet_etcd_snapshot
short_description: Save a snapshot of podnet's etcd cluster with etcdctl snapshot save
description:
  - Runs on an etcd member; talks to etcd with C(etcdctl) and the settings of an environment
    file (C(ETCDCTL_*)). Saves the whole keyspace (flannel's config and leases, podnet's
    ledger) to O(path) with C(etcdctl snapshot save), mode 0600, and returns its revision,
    key count and hash (C(etcdctl snapshot status)).
  - Without the environment file (no cluster deployed on this host) saves nothing and
    returns RV(saved)=false, unless O(data_dir) holds a member's data (then etcd must answer
    first, its data would otherwise be lost unsaved, and the module fails).
  - Check mode saves nothing and reports a change when it would save.
options:
  path:
    description: Where the snapshot is written on the member (replaced if it exists).
    type: path
    required: true
  env_file:
    description: File with ETCDCTL_API, ETCDCTL_ENDPOINTS, ETCDCTL_CACERT, ETCDCTL_CERT, ETCDCTL_KEY.
    type: path
    required: true
  data_dir:
    description: The member's data directory (see above).
    type: path
    default: ""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Saves nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
author: podnet contributors (@podnet)
"""

EXAMPLES = r"""
- name: Etcd | save the cluster before its data is removed
  podnet.network.podnet_etcd_snapshot:
    path: /var/lib/etcd/podnet-snapshot.db
    env_file: /etc/etcd/podnet-etcdctl.env
    data_dir: /var/lib/etcd/podnet
  register: snapshot
"""

RETURN = r"""
saved:
  description: Whether a snapshot was saved (false without a deployed cluster, and in check mode).
  returned: always
  type: bool
stamp:
  description: UTC time of the snapshot, C(YYYYMMDDTHHMMSSZ) (for the controller's file name).
  returned: always
  type: str
status:
  description: C({hash, revision, totalKey, totalSize}) of the saved snapshot (etcdctl snapshot status).
  returned: when saved
  type: dict
"""

import datetime
import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils.podnet_etcd import Etcdctl, read_env


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            env_file=dict(type="path", required=True),
            data_dir=dict(type="path", default=""),
        ),
        supports_check_mode=True,
    )
    path = module.params["path"]
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    result = dict(changed=False, saved=False, stamp=stamp, path=path)
    env = read_env(module, module.params["env_file"])
    if env is None:
        data_dir = module.params["data_dir"]
        if data_dir and os.path.isdir(os.path.join(data_dir, "member")):
            module.fail_json(msg="%s holds etcd data but %s does not exist: cannot save a snapshot with "
                                 "etcdctl. Nothing was removed. Save %s by hand (or restore %s) first."
                             % (data_dir, module.params["env_file"], data_dir, module.params["env_file"]),
                             **result)
        module.exit_json(**result)
    result["changed"] = True
    if module.check_mode:
        module.exit_json(**result)
    ctl = Etcdctl(module, env)
    partial = path + ".part"
    rc, out, err = ctl.raw(["snapshot", "save", partial])
    if rc != 0:
        module.fail_json(msg="etcdctl snapshot save failed (is a quorum of etcd members up?): %s. Nothing "
                             "was removed." % (err.strip() or out.strip()), **result)
    os.chmod(partial, 0o600)
    os.rename(partial, path)
    rc, out, err = ctl.raw(["--write-out=json", "snapshot", "status", path])
    if rc == 0 and out.strip():
        try:
            result["status"] = json.loads(out)
        except ValueError:
            result["status"] = {}
    result["saved"] = True
    module.exit_json(**result)


def main():
    run_module()


if __name__ == "__main__":
    main()
