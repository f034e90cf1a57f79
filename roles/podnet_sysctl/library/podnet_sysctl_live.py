#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Apply a set of sysctl values live, in one task, with truthful check mode."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: podnet_sysctl_live
short_description: Apply kernel parameters live through /proc/sys in one call
description:
  - Reads every given key from C(/proc/sys), writes only the ones whose value differs
    and reports C(changed) only then. Check mode reports what would change and writes
    nothing.
  - Persistence is not this module's job (podnet renders /etc/sysctl.d files); this
    module converges the running kernel to the same values, so drift is repaired.
  - Keys listed in O(missing_ok) may be absent from this kernel or network namespace
    (for example C(net.ipv4.neigh.default.*) inside a container); they are skipped and
    returned in RV(missing). Any other absent key is an error.
options:
  settings:
    description: Mapping of sysctl key (dotted) to the wanted value.
    type: dict
    required: true
  missing_ok:
    description: Keys that may be absent; they are skipped and reported.
    type: list
    elements: str
    default: []
author:
  - podnet
"""

EXAMPLES = r"""
- name: sysctl | apply live
  podnet_sysctl_live:
    settings:
      net.ipv4.ip_forward: 1
      net.ipv4.neigh.default.gc_thresh1: 128
    missing_ok:
      - net.ipv4.neigh.default.gc_thresh1
"""

RETURN = r"""
changed_keys:
  description: Keys whose live value differed, with the value before and the value set.
  returned: always
  type: dict
missing:
  description: Keys from O(missing_ok) that this kernel or namespace does not have.
  returned: always
  type: list
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

PROC_SYS = "/proc/sys"


def key_path(key):
    """net.ipv4.ip_forward -> /proc/sys/net/ipv4/ip_forward (also accepts slashes)."""
    return os.path.join(PROC_SYS, *key.strip().replace("/", ".").split("."))


def normalise(value):
    """Compare values the way sysctl prints them: whitespace-separated fields."""
    if isinstance(value, bool):
        value = int(value)
    return " ".join(str(value).split())


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            settings=dict(type="dict", required=True),
            missing_ok=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    missing_ok = set(module.params["missing_ok"])
    changed_keys = {}
    missing = []
    before_lines, after_lines = [], []

    for key in sorted(module.params["settings"]):
        wanted = normalise(module.params["settings"][key])
        path = key_path(key)
        if not os.path.exists(path):
            if key in missing_ok:
                missing.append(key)
                continue
            module.fail_json(msg="sysctl key %s does not exist (%s is absent)" % (key, path))
        try:
            with open(path) as handle:
                current = normalise(handle.read())
        except (IOError, OSError) as exc:
            module.fail_json(msg="cannot read %s: %s" % (path, to_native(exc)))
        if current == wanted:
            continue
        changed_keys[key] = {"before": current, "after": wanted}
        before_lines.append("%s = %s\n" % (key, current))
        after_lines.append("%s = %s\n" % (key, wanted))
        if module.check_mode:
            continue
        try:
            with open(path, "w") as handle:
                handle.write(wanted)
        except (IOError, OSError) as exc:
            module.fail_json(msg="cannot write %s to %s: %s (is /proc/sys read-only?)"
                             % (wanted, path, to_native(exc)), changed_keys=changed_keys)

    module.exit_json(
        changed=bool(changed_keys),
        changed_keys=changed_keys,
        missing=missing,
        diff=dict(before="".join(before_lines), after="".join(after_lines),
                  before_header="live kernel", after_header="live kernel"),
    )


def main():
    run_module()


if __name__ == "__main__":
    main()
