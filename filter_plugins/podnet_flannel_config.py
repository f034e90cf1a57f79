# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_flannel_config: flannel's network config of a plan.

A thin entry over ``podnet_planner.flannel_config`` (plain Python, unit-tested without Ansible):
its ``PlanError`` becomes ``AnsibleFilterError``, message unchanged.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: podnet_flannel_config
short_description: flannel's network config for podnet's plan
description:
  - Returns the value of flannel's C(<prefix>/config) key for a plan - C(Network), C(SubnetLen),
    the full C(SubnetMin)/C(SubnetMax) range and the vxlan backend (C(DirectRouting) unless the
    backend is vxlan everywhere), so a stock flanneld adopts podnet's allocations.
positional: _input
options:
  _input:
    description:
      - The plan, the output of C(podnet_plan).
    type: dict
    required: true
requirements:
  - podnet_planner (this repository's planner package; scripts/setup.sh installs it into .venv)
  - netaddr (Python library, on the controller)
author: podnet
"""

EXAMPLES = r"""
- name: Registry | flannel's config
  ansible.builtin.debug:
    msg: "{{ podnet_plan_result | podnet_flannel_config | to_json }}"
"""

RETURN = r"""
_value:
  description: C({Network, SubnetLen, SubnetMin, SubnetMax, Backend}).
  type: dict
"""

try:
    import podnet_planner
except ImportError as imp_exc:  # the planner package, or the netaddr it needs, is missing
    PLANNER_IMPORT_ERROR = imp_exc
else:
    PLANNER_IMPORT_ERROR = None


def podnet_flannel_config(plan):
    """flannel's network config for podnet's plan (``podnet_planner.flannel_config``)."""
    if PLANNER_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            "podnet_flannel_config needs podnet's planner and netaddr in the Python that runs Ansible; "
            "run scripts/setup.sh (%s)" % PLANNER_IMPORT_ERROR) from PLANNER_IMPORT_ERROR
    try:
        return podnet_planner.flannel_config(plan)
    except podnet_planner.PlanError as exc:
        raise AnsibleFilterError("podnet_flannel_config: %s" % exc) from exc


class FilterModule:
    """podnet_flannel_config."""

    def filters(self):
        return {"podnet_flannel_config": podnet_flannel_config}
