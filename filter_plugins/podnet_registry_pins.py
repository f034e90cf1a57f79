# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_registry_pins: nodes pinned to their etcd leases.

A thin entry over ``podnet_planner.registry_pins`` (plain Python, unit-tested without Ansible):
its ``PlanError`` becomes ``AnsibleFilterError``, message unchanged.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: podnet_registry_pins
short_description: Pin nodes to the subnets their etcd leases hold
description:
  - Gives every node that has no C(pod_cidr) yet the subnet a lease holds for its address, so
    a host keeps a subnet it holds in etcd (even one a stock flanneld acquired). An inventory
    pin is kept.
positional: _input, leases
options:
  _input:
    description: The inventory records (C(podnet_inventory_nodes)).
    type: dict
    required: true
  leases:
    description: "C({PublicIP: pod_cidr}) (C(podnet_registry_read(...).leases))."
    type: dict
    required: true
requirements:
  - podnet_planner (this repository's planner package; scripts/setup.sh installs it into .venv)
  - netaddr (Python library, on the controller)
author: podnet
"""

EXAMPLES = r"""
- name: Plan | keep what etcd holds
  ansible.builtin.set_fact:
    nodes: "{{ inventory_nodes | podnet_registry_pins(podnet_registry_content.leases) }}"
"""

RETURN = r"""
_value:
  description: The nodes (a copy), with C(pod_cidr) from the leases where they had none.
  type: dict
"""

try:
    import podnet_planner
except ImportError as imp_exc:  # the planner package, or the netaddr it needs, is missing
    PLANNER_IMPORT_ERROR = imp_exc
else:
    PLANNER_IMPORT_ERROR = None


def podnet_registry_pins(nodes, leases):
    """Pin nodes to the subnets their etcd leases hold (``podnet_planner.registry_pins``)."""
    if PLANNER_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            "podnet_registry_pins needs podnet's planner and netaddr in the Python that runs Ansible; "
            "run scripts/setup.sh (%s)" % PLANNER_IMPORT_ERROR) from PLANNER_IMPORT_ERROR
    try:
        return podnet_planner.registry_pins(nodes, leases)
    except podnet_planner.PlanError as exc:
        raise AnsibleFilterError("podnet_registry_pins: %s" % exc) from exc


class FilterModule:
    """podnet_registry_pins."""

    def filters(self):
        return {"podnet_registry_pins": podnet_registry_pins}
