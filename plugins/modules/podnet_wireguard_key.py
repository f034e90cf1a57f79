#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Keep this node's WireGuard private key on the node; report only its public key."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: podnet_wireguard_key
short_description: Keep a node's WireGuard private key on the node and report its public key
description:
  - Generates the node's WireGuard private key B(on the node) with C(wg genkey) when it has
    none (a new or re-imaged node), or when O(rotate) names this node (or C(all)), and keeps
    it in O(key_path) (root:root 0600, born with that mode, written atomically).
  - The private key never leaves the node. It is never returned, never shown in a diff and
    never recorded in RV(actions) beyond the words C(write KEY_PATH).
  - Runs in the facts step of C(playbooks/plan.yml), before the plan is made. Returns the
    public key as the fact C(podnet_wireguard) (the planner reads it from there), and keeps
    it in the local fact file O(fact_path) (JSON with the one key C(public_key)).
  - A key file that holds no valid key fails the module naming the file and the fix (rotate
    the node's key); it is never silently replaced.
  - O(state=absent) removes the key and the fact file (module podnet_wireguard does the
    same on reset).
options:
  state:
    description: V(present) keeps a key, V(absent) removes it and the fact file.
    type: str
    choices: [present, absent]
    default: present
  node:
    description: This node's inventory hostname (matched against O(rotate)).
    type: str
    required: true
  rotate:
    description:
      - Inventory hostnames whose key is replaced by a new one in this run (a list, or
        C(host1,host2)); C(all) rotates every node. Role variable C(podnet_wireguard_rotate),
        usually given as C(-e podnet_wireguard_rotate=<node>).
    type: list
    elements: str
    default: []
  key_path:
    description: Where the private key lives (root:root 0600; its directory root:root 0755).
    type: path
    default: /etc/podnet/wireguard/private.key
  fact_path:
    description: The local fact file that reports the public key to the facts step.
    type: path
    default: /etc/ansible/facts.d/podnet_wireguard.fact
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: A node without a key reports the key it would make as unknown (null).
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: partial
    details: Only the fact file (public) is diffed; the key file never is.
requirements: [wireguard-tools (wg)]
author: podnet contributors (@podnet)
"""

EXAMPLES = r"""
- name: WireGuard | this node's key
  podnet_wireguard_key:
    node: "{{ inventory_hostname }}"
    rotate: "{{ podnet_wireguard_rotate }}"
  register: __podnet_wireguard_key
"""

RETURN = r"""
public_key:
  description: The node's WireGuard public key (null only in check mode on a node without key).
  returned: always
  type: str
  sample: YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=
rotated:
  description: Whether a new key replaced an existing one in this run.
  returned: always
  type: bool
created:
  description: Whether the node had no key and got one in this run.
  returned: always
  type: bool
actions:
  description: What changed (or, in check mode, would change), in order.
  returned: always
  type: list
  elements: str
  sample: ["wg genkey > /etc/podnet/wireguard/private.key", "write /etc/ansible/facts.d/podnet_wireguard.fact"]
ansible_facts:
  description: C(podnet_wireguard), a dict with the one key C(public_key), for the plan of this run.
  returned: always
  type: dict
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils.podnet_host import (
    C_LOCALE, finish, persist_file, read_text, remove_emptied_directory)


def wants_rotation(node, rotate):
    """Whether ROTATE (hostnames, or 'all') names NODE."""
    names = set(name.strip() for name in rotate or [] if name and name.strip())
    return node in names or "all" in names


def plan_key(state, has_key, rotate):
    """Pure: 'keep', 'create', 'rotate' or 'remove' (or None: nothing to do)."""
    if state == "absent":
        return "remove" if has_key else None
    if not has_key:
        return "create"
    return "rotate" if rotate else "keep"


def fact_content(public_key):
    return json.dumps({"public_key": public_key}, sort_keys=True) + "\n"


def _wg(module, args, data=None):
    """Run wg with DATA on stdin; its output is a secret or derived from one: never logged."""
    rc, out, err = module.run_command([module.get_bin_path("wg", required=True)] + args, data=data,
                                      environ_update=C_LOCALE, binary_data=True)
    if rc != 0:
        module.fail_json(msg="'wg %s' failed: %s" % (args[0], err.strip()))
    return out.strip()


def public_of(module, private, path):
    rc, out, err = module.run_command([module.get_bin_path("wg", required=True), "pubkey"],
                                      data=private, environ_update=C_LOCALE, binary_data=True)
    if rc != 0 or len(out.strip()) != 44:
        module.fail_json(msg="%s holds no valid WireGuard private key (wg pubkey: %s); give the "
                         "node a new key with -e podnet_wireguard_rotate=%s" % (
                             path, err.strip() or "no key", module.params["node"]))
    return out.strip()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", default="present", choices=["present", "absent"]),
            node=dict(type="str", required=True),
            rotate=dict(type="list", elements="str", default=[]),
            key_path=dict(type="path", default="/etc/podnet/wireguard/private.key"),
            fact_path=dict(type="path", default="/etc/ansible/facts.d/podnet_wireguard.fact"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    actions, diffs = [], []
    key_path = p["key_path"]
    current = read_text(module, key_path)
    if current is not None and current.strip():
        module.no_log_values.add(current.strip())
    step = plan_key(p["state"], current is not None, wants_rotation(p["node"], p["rotate"]))

    if step == "remove":
        persist_file(module, key_path, None, actions, diffs, secret=True)
        remove_emptied_directory(module, os.path.dirname(key_path), actions, {key_path})
        persist_file(module, p["fact_path"], None, actions, diffs)
        finish(module, actions, diffs, public_key=None, rotated=False, created=False,
               ansible_facts=dict(podnet_wireguard={}))
    if step is None:
        persist_file(module, p["fact_path"], None, actions, diffs)
        finish(module, actions, diffs, public_key=None, rotated=False, created=False,
               ansible_facts=dict(podnet_wireguard={}))

    public = None
    if step == "keep":
        public = public_of(module, current, key_path)
        # Same content: only a mode or owner changed by hand is put back (0600 root:root).
        persist_file(module, key_path, current, actions, diffs, mode="0600", secret=True)
    else:
        actions.append("wg genkey > %s" % key_path)
        if not module.check_mode:
            private = _wg(module, ["genkey"])
            module.no_log_values.add(private)
            public = public_of(module, private + "\n", key_path)
            persist_file(module, key_path, private + "\n", [], [], mode="0600", secret=True)
    if public is not None:
        persist_file(module, p["fact_path"], fact_content(public), actions, diffs)
    finish(module, actions, diffs, public_key=public, rotated=step == "rotate",
           created=step == "create", ansible_facts=dict(podnet_wireguard=dict(public_key=public)))


if __name__ == "__main__":
    main()
