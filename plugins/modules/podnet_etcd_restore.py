#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Give an etcd member without data the data of a snapshot (etcdctl snapshot restore)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: podnet_etcd_restore
short_description: Restore an etcd member's data directory from a snapshot
description:
  - Runs on an etcd member whose O(data_dir) holds no member data (no C(<data_dir>/member)),
    with etcd stopped or not yet using it. Checks O(snapshot) (an etcd snapshot, its SHA-256
    intact), restores it with C(etcdctl snapshot restore) into the scratch directory
    C(<data_dir>.restore) (etcdctl refuses an existing data directory), gives it to O(owner)
    and moves its C(member) directory into O(data_dir). The member then starts on the
    snapshot's keys, in a new cluster of O(initial_cluster) (every member restores the same
    snapshot with its own O(name) and O(peer_url)).
  - Fails, changing nothing, when O(data_dir) already holds member data (a snapshot is
    restored only into an empty member; remove the cluster first with C(playbooks/reset.yml)),
    or when O(snapshot) is not an intact etcd snapshot.
  - Check mode restores nothing and reports the change it would make.
options:
  snapshot:
    description: The snapshot file on the member.
    type: path
    required: true
  data_dir:
    description: The member's data directory (it may exist, empty).
    type: path
    required: true
  name:
    description: The member's name (etcd's C(--name)).
    type: str
    required: true
  initial_cluster:
    description: Every member of the new cluster, C(name=peer URL) joined by commas.
    type: str
    required: true
  peer_url:
    description: This member's peer URL, as in O(initial_cluster).
    type: str
    required: true
  cluster_token:
    description: The initial cluster token.
    type: str
    required: true
  owner:
    description: User that runs etcd and owns the restored data (with its primary group).
    type: str
    default: etcd
extends_documentation_fragment: [podnet.network.attributes]
"""

EXAMPLES = r"""
- name: Etcd | restore this member's data from the snapshot
  podnet.network.podnet_etcd_restore:
    snapshot: /var/lib/etcd/podnet-restore.db
    data_dir: /var/lib/etcd/podnet
    name: node1
    initial_cluster: node1=https://192.0.2.11:2380,node2=https://192.0.2.12:2380,node3=https://192.0.2.13:2380
    peer_url: https://192.0.2.11:2380
    cluster_token: podnet
"""

RETURN = r"""
actions:
  description: The commands run (in check mode, that would run).
  returned: always
  type: list
  elements: str
"""

import os
import pwd
import shutil

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils.podnet_etcd import Etcdctl, snapshot_problem


def give(path, uid, gid):
    """chown PATH and everything under it to UID:GID."""
    os.chown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid)


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            snapshot=dict(type="path", required=True),
            data_dir=dict(type="path", required=True),
            name=dict(type="str", required=True),
            initial_cluster=dict(type="str", required=True),
            peer_url=dict(type="str", required=True),
            cluster_token=dict(type="str", required=True, no_log=False),
            owner=dict(type="str", default="etcd"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    data_dir = params["data_dir"].rstrip("/") or "/"
    member = os.path.join(data_dir, "member")
    scratch = data_dir + ".restore"
    result = dict(changed=False, actions=[])
    if os.path.exists(member):
        module.fail_json(msg="podnet_etcd: %s already holds etcd data (%s): a snapshot is restored only into a "
                             "member without data. Nothing was changed. Remove the cluster first: "
                             "playbooks/reset.yml -e podnet_reset_etcd=true (docs/etcd-pki.md, 'Restore from "
                             "a snapshot')." % (params["name"], member), **result)
    args = ["snapshot", "restore", params["snapshot"], "--name", params["name"],
            "--initial-cluster", params["initial_cluster"], "--initial-cluster-token", params["cluster_token"],
            "--initial-advertise-peer-urls", params["peer_url"], "--data-dir", scratch]
    # (in check mode the copy of the snapshot is not there: the controller's was checked)
    problem = None if module.check_mode else snapshot_problem(params["snapshot"])
    if problem:
        module.fail_json(msg="podnet_etcd: %s. Nothing was changed." % problem, **result)
    result["changed"] = True
    result["actions"] = ["etcdctl " + " ".join(args), "chown -R %s: %s" % (params["owner"], scratch),
                         "mv %s %s" % (os.path.join(scratch, "member"), member), "rmdir %s" % scratch]
    if module.check_mode:
        module.exit_json(**result)
    try:
        owner = pwd.getpwnam(params["owner"])
    except KeyError:
        module.fail_json(msg="podnet_etcd: no user %s on this host (is etcd-server installed?)"
                             % params["owner"], **result)
    if os.path.lexists(scratch):  # left by an interrupted restore: podnet's own path
        shutil.rmtree(scratch)
    ctl = Etcdctl(module, {}, failure=result)
    rc, out, err = ctl.raw(args)
    if rc != 0:
        shutil.rmtree(scratch, ignore_errors=True)
        module.fail_json(msg="etcdctl snapshot restore failed: %s. Nothing was changed in %s."
                         % (err.strip() or out.strip(), data_dir), **result)
    uid, gid = owner.pw_uid, owner.pw_gid
    give(scratch, uid, gid)
    if not os.path.isdir(data_dir):
        os.makedirs(data_dir, 0o700)
        os.chown(data_dir, uid, gid)
    os.rename(os.path.join(scratch, "member"), member)
    shutil.rmtree(scratch)
    module.exit_json(**result)


def main():
    run_module()


if __name__ == "__main__":
    main()
