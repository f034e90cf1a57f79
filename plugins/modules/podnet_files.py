#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Keep a list of files (or remove them) in one call: podnet's roles that only write files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: podnet_files
short_description: Keep a list of podnet's files with their content, or remove them, in one call
description:
  - Writes every file of O(files) (root:root, O(files[].mode)) atomically and only when
    its content or an attribute differs; missing directories are created root:root 0755.
  - With O(state=absent), removes every file of O(files) (their content is not needed),
    then each directory of O(remove_dirs_if_empty) that is left empty, in the order given.
    A directory that still holds anything (someone else's file) is kept.
  - One call keeps any number of files, since Ansible pays per task per host (a task per
    file would cost a remote round trip each).
  - Knows nothing of any concern; a role whose inputs have a meaning to check uses a module
    of its own.
options:
  files:
    description: The files.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path of the file.
        type: path
        required: true
      content:
        description: The file's whole content. Required when O(state=present).
        type: str
      mode:
        description: Octal mode of the file, as a string.
        type: str
        default: "0644"
  remove_dirs_if_empty:
    description:
      - With O(state=absent), directories removed after the files when they are empty.
        Ignored with O(state=present).
    type: list
    elements: path
    default: []
  state:
    description:
      - V(present) writes the files.
      - V(absent) removes them (and the empty directories of O(remove_dirs_if_empty)).
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment: [podnet.network.attributes]
"""

EXAMPLES = r"""
- name: Facts | record what this node holds
  podnet_files:
    files:
      - path: /etc/ansible/facts.d/podnet.fact
        content: "{{ podnet_facts_content | to_nice_json(indent=2) }}\n"
    state: present

- name: Facts | forget it
  podnet_files:
    files:
      - path: /etc/ansible/facts.d/podnet.fact
    remove_dirs_if_empty: [/etc/ansible/facts.d]
    state: absent
"""

RETURN = r"""
actions:
  description: The changes made (or, in check mode, that would be made), in order.
  returned: always
  type: list
  elements: str
  sample: ["mkdir -p -m 0755 /etc/ansible/facts.d", "write /etc/ansible/facts.d/podnet.fact"]
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils.podnet_host import finish, persist_file, remove_emptied_directory

MODE = re.compile(r"^0?[0-7]{3}$")


def plan_files(files, state, remove_dirs_if_empty=()):
    """Pure plan: (error or None, [(path, content or None, mode)], [directories]).
    Refuses relative paths, a path given twice, a bad mode and, when present, a file
    without content, naming the file."""
    wanted, seen = [], set()
    for item in files:
        path = item.get("path") or ""
        mode = str(item.get("mode") or "0644")
        content = item.get("content")
        if not os.path.isabs(path):
            return "files: path %r must be absolute" % (path,), [], []
        path = os.path.normpath(path)
        if path in seen:
            return "files: %s is listed twice" % path, [], []
        seen.add(path)
        if not MODE.match(mode):
            return "files: mode %r of %s must be octal such as 0644" % (mode, path), [], []
        if state == "present" and content is None:
            return "files: %s has no content (required when state is present)" % path, [], []
        wanted.append((path, content if state == "present" else None, mode.rjust(4, "0")))
    directories = []
    if state == "absent":
        for directory in remove_dirs_if_empty:
            if not os.path.isabs(directory or ""):
                return "remove_dirs_if_empty: %r must be absolute" % (directory,), [], []
            directories.append(os.path.normpath(directory))
    return None, wanted, directories


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type="list", elements="dict", required=True, options=dict(
                path=dict(type="path", required=True),
                content=dict(type="str"),
                mode=dict(type="str", default="0644"),
            )),
            remove_dirs_if_empty=dict(type="list", elements="path", default=[]),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    error, wanted, directories = plan_files(params["files"], params["state"], params["remove_dirs_if_empty"])
    if error:
        module.fail_json(msg="podnet_files: " + error, actions=[])
    actions, diffs, gone = [], [], set()
    for path, content, mode in wanted:
        persist_file(module, path, content, actions, diffs, mode=mode)
        if content is None:
            gone.add(path)
    for directory in directories:
        remove_emptied_directory(module, directory, actions, gone)
    finish(module, actions, diffs)


if __name__ == "__main__":
    main()
