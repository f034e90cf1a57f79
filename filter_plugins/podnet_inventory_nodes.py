# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_inventory_nodes: the planner's node records from host variables.

A thin entry over ``podnet_planner.inventory_nodes``.
"""

from ansible.errors import AnsibleFilterError

try:
    import podnet_planner  # its modules load when a filter is called, not with this file
    from podnet_planner.errors import PlanError
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_inventory_nodes: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

DOCUMENTATION = r"""
name: podnet_inventory_nodes
short_description: Build the planner's node records from podnet's host variables
description:
  - "Returns C({host: {zone, address, prefix?, pod_cidr?}}) for the hosts named."
  - C(zone) comes from the host variable C(podnet_zone) (a string); C(address) from
    C(podnet_address), else the address the ledger recorded (a host that cannot be reached keeps
    it; set C(podnet_address) to change it on purpose), else the host's default IPv4 address
    (facts), else C(ansible_host) when it is an IPv4 address.
  - C(prefix) from C(podnet_underlay_prefix), else the ledger's (for the same address), else the
    prefix of the default IPv4 interface when C(address) is that interface's address; C(pod_cidr)
    from the pin C(podnet_pod_cidr).
  - With C(partial=true) (before any host was asked) a host nothing describes gets C(address=None).
positional: _input, hostvars, ledger, partial
options:
  _input:
    description: Inventory hostnames of the podnet nodes (e.g. C(groups['podnet_nodes'])),
      to describe.
    type: list
    elements: str
    required: true
  hostvars:
    description: Ansible's C(hostvars), with their podnet_* variables and facts.
    type: dict
    required: true
  ledger:
    description: The parsed ledger document, or C({}).
    type: dict
  partial:
    description: Allow hosts without a known address (the validation before the facts step).
    type: bool
    default: false
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
author: podnet
"""

EXAMPLES = r"""
- name: Plan | inventory records
  ansible.builtin.set_fact:
    nodes: "{{ groups['podnet_nodes'] | podnet_inventory_nodes(hostvars, ledger) }}"
"""

RETURN = r"""
_value:
  description: "C({host: {zone, address, prefix?, pod_cidr?}})."
  type: dict
"""


def podnet_inventory_nodes(hosts, hostvars, ledger=None, partial=False):
    """Build the planner's node records from podnet's host variables."""
    try:
        return podnet_planner.inventory_nodes(hosts, hostvars, ledger, partial)
    except PlanError as exc:
        raise AnsibleFilterError("podnet_inventory_nodes: %s" % exc) from exc


class FilterModule:
    """The podnet_inventory_nodes filter."""

    def filters(self):
        return {"podnet_inventory_nodes": podnet_inventory_nodes}
