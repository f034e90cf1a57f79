# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_flannel_config: flannel's network config of a plan.

A thin entry over ``podnet_planner.flannel_config``.
"""

from ansible.errors import AnsibleFilterError

try:
    import podnet_planner  # its modules load when a filter is called, not with this file
    from podnet_planner.errors import PlanError
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_flannel_config: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

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
    description: The plan (the output of C(podnet_plan)) whose config flanneld reads.
    type: dict
    required: true
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
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


def podnet_flannel_config(plan):
    """flannel's network config for podnet's plan."""
    try:
        return podnet_planner.flannel_config(plan)
    except PlanError as exc:
        raise AnsibleFilterError("podnet_flannel_config: %s" % exc) from exc


class FilterModule:
    """The podnet_flannel_config filter."""

    def filters(self):
        return {"podnet_flannel_config": podnet_flannel_config}
