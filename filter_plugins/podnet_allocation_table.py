# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_allocation_table: the allocation as a table.

A thin entry over ``podnet_planner.allocation_table``.
"""

from ansible.errors import AnsibleFilterError

try:
    import podnet_planner  # its modules load when a filter is called, not with this file
    from podnet_planner.errors import PlanError
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_allocation_table: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

DOCUMENTATION = r"""
name: podnet_allocation_table
short_description: podnet's allocation as an aligned table for humans
description:
  - Returns one aligned line per node - host, zone, address, pod subnet, MTU - under a header
    line, sorted by host.
positional: _input
options:
  _input:
    description: The plan (the output of C(podnet_plan)) to show.
    type: dict
    required: true
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
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


def podnet_allocation_table(plan):
    """podnet's allocation as an aligned table for humans."""
    try:
        return podnet_planner.allocation_table(plan)
    except PlanError as exc:
        raise AnsibleFilterError("podnet_allocation_table: %s" % exc) from exc


class FilterModule:
    """The podnet_allocation_table filter."""

    def filters(self):
        return {"podnet_allocation_table": podnet_allocation_table}
