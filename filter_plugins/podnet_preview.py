# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_preview: the changes a plan makes against its ledger.

A thin entry over ``podnet_planner.preview``.
"""

from ansible.errors import AnsibleFilterError

try:
    import podnet_planner  # its modules load when a filter is called, not with this file
    from podnet_planner.errors import PlanError
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_preview: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

DOCUMENTATION = r"""
name: podnet_preview
short_description: What applying podnet's plan changes against its ledger
description:
  - Compares a plan with the ledger it was made from - nodes added and leaving, subnets freed,
    path (backend) and MTU changes between pairs - with one line per change for humans.
    C(moved) must always be empty (the planner never renumbers a node).
positional: _input, plan
options:
  _input:
    description: The ledger document the plan was made from (C({}) on the first run).
    type: dict
    required: true
  plan:
    description: The plan to compare with the ledger (C(podnet_plan) output).
    type: dict
    required: true
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
author: podnet
"""

EXAMPLES = r"""
- name: Preview | what would change
  ansible.builtin.debug:
    msg: "{{ (podnet_plan_previous_ledger | podnet_preview(podnet_plan_result)).lines }}"
"""

RETURN = r"""
_value:
  description: C({added, leaving, freed, moved, backend_changes, mtu_changes, lines}).
  type: dict
"""


def podnet_preview(ledger, plan):
    """What applying podnet's plan changes against its ledger."""
    try:
        return podnet_planner.preview(ledger, plan)
    except PlanError as exc:
        raise AnsibleFilterError("podnet_preview: %s" % exc) from exc


class FilterModule:
    """The podnet_preview filter."""

    def filters(self):
        return {"podnet_preview": podnet_preview}
