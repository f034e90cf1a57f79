#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Keep the node agent's slice file: what the last run applied on this node, with a
generation that moves only when the slice changed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: podnet_agent_slice
short_description: Keep the podnet node agent's slice file
description:
  - Writes C(/etc/podnet/agent/slice.json) (root 0644, atomically, only when its content
    differs), which podnet's node agent reads on every check. It holds the slice
    (per concern the arguments podnet's module got in this run, and the peers to probe),
    the agent's settings, a digest of the slice and a generation.
  - The generation becomes O(generation) (at least the old one plus one) only when the
    slice changed; a run that changes nothing, or only the settings, keeps it.
  - With O(state=absent), removes the file.
options:
  slice:
    description:
      - The slice, with keys C(hostname), C(zone), C(concerns) (a dict from concern
        name to its module's arguments) and C(peers) (a list of dicts with C(hostname),
        C(zone) and C(pod_cidr)).
    type: dict
    default: {}
  settings:
    description: The agent's settings (interval, repair, probe sample, metrics directory).
    type: dict
    default: {}
  generation:
    description: The generation a changed slice gets (an integer that grows from run to run).
    type: int
    default: 0
  path:
    description: Where the slice file lives.
    type: path
    default: /etc/podnet/agent/slice.json
  state:
    description: V(present) keeps the file, V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment: [podnet.network.attributes]
"""

EXAMPLES = r"""
- name: Agent | the slice the agent checks against
  podnet.network.podnet_agent_slice:
    slice:
      hostname: node1
      zone: a
      concerns: {sysctl: {ip_forward: true}}
      peers: [{hostname: node2, zone: a, pod_cidr: 10.244.1.0/24}]
    settings: {interval: 30, repair: false}
    generation: 1765090000
"""

RETURN = r"""
actions:
  description: The changes made (or, in check mode, that would be made).
  returned: always
  type: list
  elements: str
  sample: ["write /etc/podnet/agent/slice.json"]
generation:
  description: The generation the file holds after the run (null with O(state=absent)).
  returned: always
  type: int
  sample: 1765090000
"""

import json

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils.podnet_agent import plan_slice_file
from ansible_collections.podnet.network.plugins.module_utils.podnet_host import finish, persist_file, read_text


def main():
    module = AnsibleModule(
        argument_spec=dict(
            slice=dict(type="dict", default={}),
            settings=dict(type="dict", default={}),
            generation=dict(type="int", default=0),
            path=dict(type="path", default="/etc/podnet/agent/slice.json"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    actions, diffs = [], []
    if params["state"] == "absent":
        persist_file(module, params["path"], None, actions, diffs)
        finish(module, actions, diffs, generation=None)
    current = read_text(module, params["path"])
    text = plan_slice_file(current, params["slice"], params["settings"], params["generation"])
    persist_file(module, params["path"], current if text is None else text, actions, diffs)
    finish(module, actions, diffs, generation=json.loads(text or current)["generation"])


if __name__ == "__main__":
    main()
