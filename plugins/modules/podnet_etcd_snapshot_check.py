#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check that a file is an etcd snapshot etcdctl snapshot restore takes, without etcd."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: podnet_etcd_snapshot_check
short_description: Check that a file is an etcd snapshot, without etcd
description:
  - Reads O(path) as C(etcdctl snapshot restore) does before it restores, and needs no etcd
    (run it on the controller, before any member is touched). An etcd snapshot
    (C(etcdctl snapshot save), what C(playbooks/reset.yml) keeps) is etcd's bbolt database
    followed by the SHA-256 of that database.
  - Fails, naming the file, when it is missing, not a regular file, unreadable, not an etcd
    (bbolt) database, truncated, or damaged (its SHA-256 differs from the one at its end).
    Only reads; check mode is a real run.
options:
  path:
    description: The snapshot file.
    type: path
    required: true
extends_documentation_fragment: [podnet.network.attributes.read_only]
"""

EXAMPLES = r"""
- name: Etcd | check the snapshot before any member is touched
  podnet.network.podnet_etcd_snapshot_check:
    path: inventories/prod/.podnet-etcd-snapshots/podnet-etcd-20260101T000000Z.db
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
size:
  description: Size of the file in bytes.
  returned: always
  type: int
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils.podnet_etcd import snapshot_problem


def run_module():
    module = AnsibleModule(argument_spec=dict(path=dict(type="path", required=True)), supports_check_mode=True)
    path = module.params["path"]
    problem = snapshot_problem(path)
    if problem:
        module.fail_json(msg="podnet_etcd: %s. Nothing was changed." % problem, changed=False, size=0)
    module.exit_json(changed=False, size=os.path.getsize(path))


def main():
    run_module()


if __name__ == "__main__":
    main()
