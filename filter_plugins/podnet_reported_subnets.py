# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_reported_subnets: what the reachable nodes report.

A thin entry over ``podnet_planner.reported_subnets``.
"""

from ansible.errors import AnsibleFilterError

try:
    import podnet_planner  # its modules load when a filter is called, not with this file
    from podnet_planner.errors import PlanError
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_reported_subnets: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

DOCUMENTATION = r"""
name: podnet_reported_subnets
short_description: The pod subnet each reachable podnet node reports it holds
description:
  - "Returns C({host: pod_cidr or None}), what each reachable host reports in its local fact
    C(podnet) (None when it holds nothing yet); hosts that gathered no facts (unreachable) are
    left out, so the ledger speaks for them."
positional: _input, hostvars
options:
  _input:
    description: Inventory hostnames of the podnet nodes (e.g. C(groups['podnet_nodes'])),
      to ask.
    type: list
    elements: str
    required: true
  hostvars:
    description: Ansible's C(hostvars), with their local facts.
    type: dict
    required: true
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
author: podnet
"""

EXAMPLES = r"""
- name: Plan | what the nodes hold
  ansible.builtin.set_fact:
    reported: "{{ groups['podnet_nodes'] | podnet_reported_subnets(hostvars) }}"
"""

RETURN = r"""
_value:
  description: "C({host: pod_cidr or None}) of the hosts that answered."
  type: dict
"""


def podnet_reported_subnets(hosts, hostvars):
    """The pod subnet each reachable podnet node reports it holds."""
    try:
        return podnet_planner.reported_subnets(hosts, hostvars)
    except PlanError as exc:
        raise AnsibleFilterError("podnet_reported_subnets: %s" % exc) from exc


class FilterModule:
    """The podnet_reported_subnets filter."""

    def filters(self):
        return {"podnet_reported_subnets": podnet_reported_subnets}
