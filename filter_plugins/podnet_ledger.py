# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_ledger: the ledger document of a plan.

A thin entry over ``podnet_planner.ledger``.
"""

from ansible.errors import AnsibleFilterError

try:
    import podnet_planner  # its modules load when a filter is called, not with this file
    from podnet_planner.errors import PlanError
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_ledger: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

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
    description: The plan (the output of C(podnet_plan)) to write the ledger of.
    type: dict
    required: true
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
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


def podnet_ledger(plan):
    """The ledger document to write for podnet's plan."""
    try:
        return podnet_planner.ledger(plan)
    except PlanError as exc:
        raise AnsibleFilterError("podnet_ledger: %s" % exc) from exc


class FilterModule:
    """The podnet_ledger filter."""

    def filters(self):
        return {"podnet_ledger": podnet_ledger}
