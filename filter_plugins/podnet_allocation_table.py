# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_allocation_table: the allocation as a table.

A thin entry over ``podnet_planner.allocation_table`` (plain Python, unit-tested without Ansible):
its ``PlanError`` becomes ``AnsibleFilterError``, message unchanged.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: podnet_allocation_table
short_description: podnet's allocation as an aligned table for humans
description:
  - Returns one aligned line per node - host, zone, address, pod subnet, MTU - under a header
    line, sorted by host.
positional: _input
options:
  _input:
    description:
      - The plan, the output of C(podnet_plan).
    type: dict
    required: true
requirements:
  - podnet_planner (this repository's planner package; scripts/setup.sh installs it into .venv)
  - netaddr (Python library, on the controller)
author: podnet
"""

EXAMPLES = r"""
- name: Plan | show the allocation
  ansible.builtin.debug:
    msg: "{{ podnet_plan_result | podnet_allocation_table }}"
"""

RETURN = r"""
_value:
  description: The table's lines.
  type: list
  elements: str
"""

try:
    import podnet_planner
except ImportError as imp_exc:  # the planner package, or the netaddr it needs, is missing
    PLANNER_IMPORT_ERROR = imp_exc
else:
    PLANNER_IMPORT_ERROR = None


def podnet_allocation_table(plan):
    """podnet's allocation as an aligned table for humans (``podnet_planner.allocation_table``)."""
    if PLANNER_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            "podnet_allocation_table needs podnet's planner and netaddr in the Python that runs Ansible; "
            "run scripts/setup.sh (%s)" % PLANNER_IMPORT_ERROR) from PLANNER_IMPORT_ERROR
    try:
        return podnet_planner.allocation_table(plan)
    except podnet_planner.PlanError as exc:
        raise AnsibleFilterError("podnet_allocation_table: %s" % exc) from exc


class FilterModule:
    """podnet_allocation_table."""

    def filters(self):
        return {"podnet_allocation_table": podnet_allocation_table}
