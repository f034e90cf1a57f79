# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_ledger_inputs: the plan's inputs with the ledger lifecycle.

A thin entry over ``podnet_planner.ledger_inputs``.
"""

from ansible.errors import AnsibleFilterError

try:
    import podnet_planner  # its modules load when a filter is called, not with this file
    from podnet_planner.errors import PlanError
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_ledger_inputs: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

DOCUMENTATION = r"""
name: podnet_ledger_inputs
short_description: podnet_plan's inputs from inventory, ledger lifecycle and host reports
description:
  - "Returns C({nodes, network}) for C(podnet_plan): C(podnet_merge_nodes) and
    C(podnet_ledger_network) in one call, plus C(network.released) - the ledger's
    released-pending nodes (left the inventory, never reset, not forgotten), whose subnets no
    newcomer may take."
positional: _input, ledger, reported, network, forget
options:
  _input:
    description:
      - "What the inventory says of each node (C(podnet_inventory_nodes), with C(partial)
        before the facts step), C({hostname: {zone: str, address: IPv4, prefix: int (optional underlay prefix
        length), pod_cidr: CIDR (optional pin or previously held subnet)}})."
    type: dict
    required: true
  ledger:
    description: The parsed ledger document, or C({}).
    type: dict
  reported:
    description: "C({host: pod_cidr or null}) of the hosts that answered, C({}) before any was
      asked."
    type: dict
  network:
    description: The planner's network settings (see C(podnet_plan)).
    type: dict
  forget:
    description:
      - Nodes that left the inventory unreset and are gone for good (a list or
        C(host1,host2)); their released-pending subnets become free.
    type: list
    elements: str
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
author: podnet
"""

EXAMPLES = r"""
- name: Plan | inputs
  ansible.builtin.set_fact:
    inputs: >-
      {{ hosts | podnet_inventory_nodes(hostvars, ledger)
         | podnet_ledger_inputs(ledger, reported, network, forget) }}
"""

RETURN = r"""
_value:
  description: C({nodes, network}), the two arguments of C(podnet_plan).
  type: dict
"""


def podnet_ledger_inputs(inventory_nodes, ledger=None, reported=None, network=None, forget=None):
    """podnet_plan's inputs from inventory, ledger lifecycle and host reports."""
    try:
        return podnet_planner.ledger_inputs(inventory_nodes, ledger, reported, network, forget)
    except PlanError as exc:
        raise AnsibleFilterError("podnet_ledger_inputs: %s" % exc) from exc


class FilterModule:
    """The podnet_ledger_inputs filter."""

    def filters(self):
        return {"podnet_ledger_inputs": podnet_ledger_inputs}
