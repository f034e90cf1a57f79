# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_registry_keys: the etcd keys of a plan.

A thin entry over ``podnet_planner.registry_keys`` (plain Python, unit-tested without Ansible):
its ``PlanError`` becomes ``AnsibleFilterError``, message unchanged.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: podnet_registry_keys
short_description: Every etcd key podnet writes for its plan
description:
  - "Returns C({key: value}) for every key podnet writes under O(prefix) - flannel's C(config),
    one C(subnets/<net>-<len>) lease per node and podnet's ledger document at C(podnet/ledger)
    (which flanneld never reads)."
positional: _input, prefix
options:
  _input:
    description:
      - The plan, the output of C(podnet_plan).
    type: dict
    required: true
  prefix:
    description: The registry's etcd key prefix (flannel's C(-etcd-prefix)).
    type: str
    default: /coreos.com/network
requirements:
  - podnet_planner (this repository's planner package; scripts/setup.sh installs it into .venv)
  - netaddr (Python library, on the controller)
author: podnet
"""

EXAMPLES = r"""
- name: Registry | what podnet writes
  ansible.builtin.set_fact:
    keys: "{{ podnet_plan_result | podnet_registry_keys('/coreos.com/network') }}"
"""

RETURN = r"""
_value:
  description: "C({key: value}), keys sorted."
  type: dict
"""

try:
    import podnet_planner
except ImportError as imp_exc:  # the planner package, or the netaddr it needs, is missing
    PLANNER_IMPORT_ERROR = imp_exc
else:
    PLANNER_IMPORT_ERROR = None


def podnet_registry_keys(plan, prefix="/coreos.com/network"):
    """Every etcd key podnet writes for its plan (``podnet_planner.registry_keys``)."""
    if PLANNER_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            "podnet_registry_keys needs podnet's planner and netaddr in the Python that runs Ansible; "
            "run scripts/setup.sh (%s)" % PLANNER_IMPORT_ERROR) from PLANNER_IMPORT_ERROR
    try:
        return podnet_planner.registry_keys(plan, prefix)
    except podnet_planner.PlanError as exc:
        raise AnsibleFilterError("podnet_registry_keys: %s" % exc) from exc


class FilterModule:
    """podnet_registry_keys."""

    def filters(self):
        return {"podnet_registry_keys": podnet_registry_keys}
