# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_ledger_mark_reset: the ledger with nodes marked reset.

A thin entry over ``podnet_planner.mark_reset``.
"""

from ansible.errors import AnsibleFilterError

try:
    import podnet_planner  # its modules load when a filter is called, not with this file
    from podnet_planner.errors import PlanError
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_ledger_mark_reset: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

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
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
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


def podnet_ledger_mark_reset(ledger, hosts):
    """Mark nodes as reset in podnet's ledger."""
    try:
        return podnet_planner.mark_reset(ledger, hosts)
    except PlanError as exc:
        raise AnsibleFilterError("podnet_ledger_mark_reset: %s" % exc) from exc


class FilterModule:
    """The podnet_ledger_mark_reset filter."""

    def filters(self):
        return {"podnet_ledger_mark_reset": podnet_ledger_mark_reset}
