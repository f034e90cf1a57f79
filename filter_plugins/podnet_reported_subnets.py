# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_reported_subnets: what the reachable nodes report.

A thin entry over ``podnet_planner.reported_subnets`` (plain Python, unit-tested without Ansible):
its ``PlanError`` becomes ``AnsibleFilterError``, message unchanged.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

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
    description: Inventory hostnames of the podnet nodes (e.g. C(groups['podnet_nodes'])).
    type: list
    elements: str
    required: true
  hostvars:
    description: Ansible's C(hostvars).
    type: dict
    required: true
requirements:
  - podnet_planner (this repository's planner package; scripts/setup.sh installs it into .venv)
  - netaddr (Python library, on the controller)
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

try:
    import podnet_planner
except ImportError as imp_exc:  # the planner package, or the netaddr it needs, is missing
    PLANNER_IMPORT_ERROR = imp_exc
else:
    PLANNER_IMPORT_ERROR = None


def podnet_reported_subnets(hosts, hostvars):
    """The pod subnet each reachable podnet node reports it holds (``podnet_planner.reported_subnets``)."""
    if PLANNER_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            "podnet_reported_subnets needs podnet's planner and netaddr in the Python that runs Ansible; "
            "run scripts/setup.sh (%s)" % PLANNER_IMPORT_ERROR) from PLANNER_IMPORT_ERROR
    try:
        return podnet_planner.reported_subnets(hosts, hostvars)
    except podnet_planner.PlanError as exc:
        raise AnsibleFilterError("podnet_reported_subnets: %s" % exc) from exc


class FilterModule:
    """podnet_reported_subnets."""

    def filters(self):
        return {"podnet_reported_subnets": podnet_reported_subnets}
