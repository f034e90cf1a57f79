# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_wireguard_nodes: the nodes the WireGuard concern visits.

A thin entry over ``podnet_planner.wireguard_nodes``.
"""

from ansible.errors import AnsibleFilterError

try:
    import podnet_planner  # its modules load when a filter is called, not with this file
    from podnet_planner.errors import PlanError
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_wireguard_nodes: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

DOCUMENTATION = r"""
name: podnet_wireguard_nodes
short_description: The podnet nodes that run the WireGuard concern in this run
description:
  - "Where some pair of the network may use WireGuard (backend V(wireguard), a zone forced to
    it, or V(auto) with cross_zone_backend V(wireguard)): every node of the plan. Otherwise only
    the nodes that still report a WireGuard key in this run (local fact C(podnet_wireguard)), so
    that the concern removes what they held."
  - "site.yml gives the WireGuard play these hosts: a fleet without WireGuard pays no task."
positional: _input, hostvars
options:
  _input:
    description: The plan (C(podnet_plan_result)).
    type: dict
    required: true
  hostvars:
    description: Ansible's C(hostvars), with the local facts of this run.
    type: dict
    required: true
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
author: podnet
"""

EXAMPLES = r"""
- name: Podnet | WireGuard (only where used or still held)
  hosts: "{{ hostvars['localhost'].podnet_plan_result | podnet_wireguard_nodes(hostvars) }}"
"""

RETURN = r"""
_value:
  description: Sorted hostnames.
  type: list
  elements: str
"""


def podnet_wireguard_nodes(plan, hostvars):
    """The podnet nodes that run the WireGuard concern in this run."""
    try:
        return podnet_planner.wireguard_nodes(plan, hostvars)
    except PlanError as exc:
        raise AnsibleFilterError("podnet_wireguard_nodes: %s" % exc) from exc


class FilterModule:
    """The podnet_wireguard_nodes filter."""

    def filters(self):
        return {"podnet_wireguard_nodes": podnet_wireguard_nodes}
