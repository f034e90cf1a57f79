# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_ledger_network: the network settings with the ledger's zones pinned.

A thin entry over ``podnet_planner.ledger_network`` (plain Python, unit-tested without Ansible):
its ``PlanError`` becomes ``AnsibleFilterError``, message unchanged.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: podnet_ledger_network
short_description: Pin the ledger's zone blocks and zone prefix into podnet's network
description:
  - Returns C(network) with the ledger's zone blocks (C(zones)) and C(zone_prefix) pinned, so a
    zone never moves. Refuses a ledger made for another cluster CIDR or node prefix.
positional: _input, ledger
options:
  _input:
    description: The planner's network settings (see C(podnet_plan)).
    type: dict
    required: true
  ledger:
    description: The parsed ledger document, or C({}).
    type: dict
requirements:
  - podnet_planner (this repository's planner package; scripts/setup.sh installs it into .venv)
  - netaddr (Python library, on the controller)
author: podnet
"""

EXAMPLES = r"""
- name: Plan | network with the ledger's zones
  ansible.builtin.set_fact:
    podnet_network: "{{ network | podnet_ledger_network(ledger) }}"
"""

RETURN = r"""
_value:
  description: The network settings with C(zones) and C(zone_prefix) from the ledger.
  type: dict
"""

try:
    import podnet_planner
except ImportError as imp_exc:  # the planner package, or the netaddr it needs, is missing
    PLANNER_IMPORT_ERROR = imp_exc
else:
    PLANNER_IMPORT_ERROR = None


def podnet_ledger_network(network, ledger=None):
    """Pin the ledger's zone blocks and zone prefix into podnet's network (``podnet_planner.ledger_network``)."""
    if PLANNER_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            "podnet_ledger_network needs podnet's planner and netaddr in the Python that runs Ansible; "
            "run scripts/setup.sh (%s)" % PLANNER_IMPORT_ERROR) from PLANNER_IMPORT_ERROR
    try:
        return podnet_planner.ledger_network(network, ledger)
    except podnet_planner.PlanError as exc:
        raise AnsibleFilterError("podnet_ledger_network: %s" % exc) from exc


class FilterModule:
    """podnet_ledger_network."""

    def filters(self):
        return {"podnet_ledger_network": podnet_ledger_network}
