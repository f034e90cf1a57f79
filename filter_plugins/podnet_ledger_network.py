# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_ledger_network: the network settings with the ledger's zones pinned.

A thin entry over ``podnet_planner.ledger_network``.
"""

from ansible.errors import AnsibleFilterError

try:
    import podnet_planner  # its modules load when a filter is called, not with this file
    from podnet_planner.errors import PlanError
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_ledger_network: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

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
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
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


def podnet_ledger_network(network, ledger=None):
    """Pin the ledger's zone blocks and zone prefix into podnet's network."""
    try:
        return podnet_planner.ledger_network(network, ledger)
    except PlanError as exc:
        raise AnsibleFilterError("podnet_ledger_network: %s" % exc) from exc


class FilterModule:
    """The podnet_ledger_network filter."""

    def filters(self):
        return {"podnet_ledger_network": podnet_ledger_network}
