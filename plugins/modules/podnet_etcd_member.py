#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make sure a member is registered in a running etcd cluster before it starts."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: podnet_etcd_member
short_description: Register a new or replaced etcd member (member add) in one call
description:
  - Runs on a healthy member of a running cluster (C(delegate_to)); talks to etcd with
    C(etcdctl) and the settings of an environment file (C(ETCDCTL_*)).
  - Matches the member by its peer URL. Absent -> C(member add). Registered but never
    started (no name yet) -> nothing to do. Registered and started before (it lost its
    data) -> C(member remove) then C(member add), so it rejoins as a fresh member and
    takes the cluster's data from its peers.
  - Returns the C(initial_cluster) string the member must start with
    (initial-cluster-state existing). Check mode reports what it would do.
options:
  name:
    description: The member's name (etcd --name).
    type: str
    required: true
  peer_url:
    description: The member's peer URL, e.g. https://192.0.2.10:2380.
    type: str
    required: true
  env_file:
    description: File with ETCDCTL_API, ETCDCTL_ENDPOINTS, ETCDCTL_CACERT, ETCDCTL_CERT, ETCDCTL_KEY.
    type: path
    required: true
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reads the member list and reports the C(member add) it would run, and runs none.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
author: podnet contributors (@podnet)
"""

EXAMPLES = r"""
- name: Etcd | register this member
  podnet_etcd_member:
    name: node4
    peer_url: https://192.0.2.14:2380
    env_file: /etc/etcd/podnet-etcdctl.env
  delegate_to: node1
"""

RETURN = r"""
initial_cluster:
  description: name=peer_url of every member, comma-separated, the new member included.
  returned: always
  type: str
action:
  description: none, add or replace.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils.podnet_etcd import Etcdctl, read_env


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            peer_url=dict(type="str", required=True),
            env_file=dict(type="path", required=True),
        ),
        supports_check_mode=True,
    )
    name, peer_url = module.params["name"], module.params["peer_url"]
    # Written into etcd's initial cluster (name=url,...): the planner's hostname rule (RFC 1123).
    if not name or len(name) > 253 or not all(c.isascii() and (c.isalnum() or c in ".-") for c in name):
        module.fail_json(msg="name: %r is not an RFC 1123 hostname; rename the etcd member in the "
                             "inventory (letters, digits, '-' and '.')" % (name,))
    env = read_env(module, module.params["env_file"])
    if env is None:
        module.fail_json(msg="%s does not exist: is podnet's etcd cluster deployed on this host "
                             "(role podnet_etcd)?" % module.params["env_file"])
    ctl = Etcdctl(module, env).call

    members = ctl(["member", "list"]).get("members", [])
    mine = [m for m in members if peer_url in (m.get("peerURLs") or [])]
    action = "none"
    if not mine:
        action = "add"
    elif mine[0].get("name"):
        action = "replace"  # it ran before and lost its data: register it anew
    if action != "none" and not module.check_mode:
        if action == "replace":
            ctl(["member", "remove", "%x" % int(mine[0]["ID"])])
        ctl(["member", "add", name, "--peer-urls=%s" % peer_url])
        members = ctl(["member", "list"]).get("members", [])
    pairs = []
    for member in members:
        urls = member.get("peerURLs") or []
        member_name = name if peer_url in urls else member.get("name")
        pairs.extend("%s=%s" % (member_name, url) for url in urls if member_name)
    if action != "none" and module.check_mode:
        pairs = [p for p in pairs if not p.endswith("=" + peer_url)] + ["%s=%s" % (name, peer_url)]
    module.exit_json(changed=action != "none", action=action, initial_cluster=",".join(sorted(pairs)))


def main():
    run_module()


if __name__ == "__main__":
    main()
