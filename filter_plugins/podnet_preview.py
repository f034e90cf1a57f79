# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_preview: the changes a plan makes against its ledger.

A thin entry over ``podnet_planner.preview`` (plain Python, unit-tested without Ansible):
its ``PlanError`` becomes ``AnsibleFilterError``, message unchanged.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

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
    description: The plan, the output of C(podnet_plan).
    type: dict
    required: true
requirements:
  - podnet_planner (this repository's planner package; scripts/setup.sh installs it into .venv)
  - netaddr (Python library, on the controller)
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

try:
    import podnet_planner
except ImportError as imp_exc:  # the planner package, or the netaddr it needs, is missing
    PLANNER_IMPORT_ERROR = imp_exc
else:
    PLANNER_IMPORT_ERROR = None


def podnet_preview(ledger, plan):
    """What applying podnet's plan changes against its ledger (``podnet_planner.preview``)."""
    if PLANNER_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            "podnet_preview needs podnet's planner and netaddr in the Python that runs Ansible; "
            "run scripts/setup.sh (%s)" % PLANNER_IMPORT_ERROR) from PLANNER_IMPORT_ERROR
    try:
        return podnet_planner.preview(ledger, plan)
    except podnet_planner.PlanError as exc:
        raise AnsibleFilterError("podnet_preview: %s" % exc) from exc


class FilterModule:
    """podnet_preview."""

    def filters(self):
        return {"podnet_preview": podnet_preview}
