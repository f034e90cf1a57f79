# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_merge_nodes: the planner's nodes from inventory, ledger and reports.

A thin entry over ``podnet_planner.merge_nodes``.
"""

from ansible.errors import AnsibleFilterError

try:
    import podnet_planner  # its modules load when a filter is called, not with this file
    from podnet_planner.errors import PlanError
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_merge_nodes: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

DOCUMENTATION = r"""
name: podnet_merge_nodes
short_description: Merge inventory, ledger and host reports into the planner's nodes
description:
  - Builds the C(nodes) input of C(podnet_plan) from the inventory records, the ledger and what
    the reachable hosts report they hold. A host that did not answer keeps its ledger subnet; a
    host that reports another subnet than the ledger is an error naming both.
  - C(podnet_ledger_inputs) does this and the ledger lifecycle in one call.
positional: _input, ledger, reported
options:
  _input:
    description:
      - "The inventory records (C(podnet_inventory_nodes)),
        C({hostname: {zone: str, address: IPv4, prefix: int (optional underlay prefix
        length), pod_cidr: CIDR (optional pin or previously held subnet)}})."
    type: dict
    required: true
  ledger:
    description: The parsed ledger document, or C({}) on the first run.
    type: dict
  reported:
    description: "C({host: pod_cidr or null}) of the hosts that answered
      (C(podnet_reported_subnets))."
    type: dict
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
author: podnet
"""

EXAMPLES = r"""
- name: Plan | nodes for the planner
  ansible.builtin.set_fact:
    podnet_nodes: "{{ inventory_nodes | podnet_merge_nodes(ledger, reported) }}"
"""

RETURN = r"""
_value:
  description: The nodes, each with the C(pod_cidr) it keeps where it holds one.
  type: dict
"""


def podnet_merge_nodes(inventory_nodes, ledger=None, reported=None):
    """Merge inventory, ledger and host reports into the planner's nodes."""
    try:
        return podnet_planner.merge_nodes(inventory_nodes, ledger, reported)
    except PlanError as exc:
        raise AnsibleFilterError("podnet_merge_nodes: %s" % exc) from exc


class FilterModule:
    """The podnet_merge_nodes filter."""

    def filters(self):
        return {"podnet_merge_nodes": podnet_merge_nodes}
