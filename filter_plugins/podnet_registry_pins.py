# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_registry_pins: nodes pinned to their etcd leases.

A thin entry over ``podnet_planner.registry_pins``.
"""

from ansible.errors import AnsibleFilterError

try:
    import podnet_planner  # its modules load when a filter is called, not with this file
    from podnet_planner.errors import PlanError
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_registry_pins: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

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
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
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


def podnet_registry_pins(nodes, leases):
    """Pin nodes to the subnets their etcd leases hold."""
    try:
        return podnet_planner.registry_pins(nodes, leases)
    except PlanError as exc:
        raise AnsibleFilterError("podnet_registry_pins: %s" % exc) from exc


class FilterModule:
    """The podnet_registry_pins filter."""

    def filters(self):
        return {"podnet_registry_pins": podnet_registry_pins}
