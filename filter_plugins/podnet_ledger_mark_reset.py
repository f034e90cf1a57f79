# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_ledger_mark_reset: the ledger with nodes marked reset.

A thin entry over ``podnet_planner.mark_reset`` (plain Python, unit-tested without Ansible):
its ``PlanError`` becomes ``AnsibleFilterError``, message unchanged.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: podnet_ledger_mark_reset
short_description: Mark nodes as reset in podnet's ledger
description:
  - Returns the ledger with C(reset=true) on the nodes playbooks/reset.yml has cleaned; once
    such a node leaves the inventory its subnet is free at once instead of released-pending.
positional: _input, hosts
options:
  _input:
    description: The parsed ledger document.
    type: dict
    required: true
  hosts:
    description: Inventory hostnames of the nodes that were reset.
    type: list
    elements: str
    required: true
requirements:
  - podnet_planner (this repository's planner package; scripts/setup.sh installs it into .venv)
  - netaddr (Python library, on the controller)
author: podnet
"""

EXAMPLES = r"""
- name: Plan | note the reset nodes
  ansible.builtin.set_fact:
    ledger: "{{ ledger | podnet_ledger_mark_reset(ansible_play_hosts) }}"
"""

RETURN = r"""
_value:
  description: The ledger document with C(reset=true) on those nodes.
  type: dict
"""

try:
    import podnet_planner
except ImportError as imp_exc:  # the planner package, or the netaddr it needs, is missing
    PLANNER_IMPORT_ERROR = imp_exc
else:
    PLANNER_IMPORT_ERROR = None


def podnet_ledger_mark_reset(ledger, hosts):
    """Mark nodes as reset in podnet's ledger (``podnet_planner.mark_reset``)."""
    if PLANNER_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            "podnet_ledger_mark_reset needs podnet's planner and netaddr in the Python that runs Ansible; "
            "run scripts/setup.sh (%s)" % PLANNER_IMPORT_ERROR) from PLANNER_IMPORT_ERROR
    try:
        return podnet_planner.mark_reset(ledger, hosts)
    except podnet_planner.PlanError as exc:
        raise AnsibleFilterError("podnet_ledger_mark_reset: %s" % exc) from exc


class FilterModule:
    """podnet_ledger_mark_reset."""

    def filters(self):
        return {"podnet_ledger_mark_reset": podnet_ledger_mark_reset}
