# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_ledger_inputs: the plan's inputs with the ledger lifecycle.

A thin entry over ``podnet_planner.ledger_inputs`` (plain Python, unit-tested without Ansible):
its ``PlanError`` becomes ``AnsibleFilterError``, message unchanged.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

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
    description: "The inventory records (C(podnet_inventory_nodes)), C({hostname: {zone: str, address: IPv4, prefix: int (optional underlay prefix length), pod_cidr: CIDR (optional pin or previously held subnet)}})."
    type: dict
    required: true
  ledger:
    description: The parsed ledger document, or C({}).
    type: dict
  reported:
    description: "C({host: pod_cidr or null}) of the hosts that answered, C({}) before any was asked."
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
requirements:
  - podnet_planner (this repository's planner package; scripts/setup.sh installs it into .venv)
  - netaddr (Python library, on the controller)
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

try:
    import podnet_planner
except ImportError as imp_exc:  # the planner package, or the netaddr it needs, is missing
    PLANNER_IMPORT_ERROR = imp_exc
else:
    PLANNER_IMPORT_ERROR = None


def podnet_ledger_inputs(inventory_nodes, ledger=None, reported=None, network=None, forget=None):
    """podnet_plan's inputs from inventory, ledger lifecycle and host reports (``podnet_planner.ledger_inputs``)."""
    if PLANNER_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            "podnet_ledger_inputs needs podnet's planner and netaddr in the Python that runs Ansible; "
            "run scripts/setup.sh (%s)" % PLANNER_IMPORT_ERROR) from PLANNER_IMPORT_ERROR
    try:
        return podnet_planner.ledger_inputs(inventory_nodes, ledger, reported, network, forget)
    except podnet_planner.PlanError as exc:
        raise AnsibleFilterError("podnet_ledger_inputs: %s" % exc) from exc


class FilterModule:
    """podnet_ledger_inputs."""

    def filters(self):
        return {"podnet_ledger_inputs": podnet_ledger_inputs}
