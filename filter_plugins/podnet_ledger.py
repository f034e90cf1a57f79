# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_ledger: the ledger document of a plan.

A thin entry over ``podnet_planner.ledger`` (plain Python, unit-tested without Ansible):
its ``PlanError`` becomes ``AnsibleFilterError``, message unchanged.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: podnet_ledger
short_description: The ledger document to write for podnet's plan
description:
  - Returns the ledger document for a plan - every node with zone, address, underlay prefix,
    pod subnet and state (C(allocated) or C(released-pending)), the zone blocks, and the settings
    that decided each pair's path. Role podnet_plan writes it atomically, under its lock.
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
- name: Plan | ledger document to write
  ansible.builtin.set_fact:
    podnet_ledger_document: "{{ podnet_plan_result | podnet_ledger }}"
"""

RETURN = r"""
_value:
  description:
    - "C({podnet_ledger, cluster_cidr, node_prefix, zone_prefix, zones: {zone: block},
      nodes: {host: {zone, address, prefix, pod_cidr, state}}, routing}), keys sorted."
  type: dict
"""

try:
    import podnet_planner
except ImportError as imp_exc:  # the planner package, or the netaddr it needs, is missing
    PLANNER_IMPORT_ERROR = imp_exc
else:
    PLANNER_IMPORT_ERROR = None


def podnet_ledger(plan):
    """The ledger document to write for podnet's plan (``podnet_planner.ledger``)."""
    if PLANNER_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            "podnet_ledger needs podnet's planner and netaddr in the Python that runs Ansible; "
            "run scripts/setup.sh (%s)" % PLANNER_IMPORT_ERROR) from PLANNER_IMPORT_ERROR
    try:
        return podnet_planner.ledger(plan)
    except podnet_planner.PlanError as exc:
        raise AnsibleFilterError("podnet_ledger: %s" % exc) from exc


class FilterModule:
    """podnet_ledger."""

    def filters(self):
        return {"podnet_ledger": podnet_ledger}
