# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_flannel_leases: flannel's leases of a plan.

A thin entry over ``podnet_planner.flannel_leases``.
"""

from ansible.errors import AnsibleFilterError

try:
    import podnet_planner  # its modules load when a filter is called, not with this file
    from podnet_planner.errors import PlanError
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_flannel_leases: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

DOCUMENTATION = r"""
name: podnet_flannel_leases
short_description: flannel's subnet leases for podnet's plan
description:
  - Returns one flannel lease per node, keyed C(<prefix>/subnets/<net>-<len>), with the node's
    C(PublicIP) and vxlan backend data (VNI, VTEP MAC).
positional: _input, prefix
options:
  _input:
    description: The plan (the output of C(podnet_plan)) to lease one subnet per node of.
    type: dict
    required: true
  prefix:
    description: The registry's etcd key prefix (flannel's C(-etcd-prefix)),
      to write the leases under.
    type: str
    default: /coreos.com/network
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
author: podnet
"""

EXAMPLES = r"""
- name: Registry | flannel's leases
  ansible.builtin.debug:
    msg: "{{ podnet_plan_result | podnet_flannel_leases('/coreos.com/network') }}"
"""

RETURN = r"""
_value:
  description: "C({key: {PublicIP, BackendType, BackendData: {VNI, VtepMAC}}}), keys sorted."
  type: dict
"""


def podnet_flannel_leases(plan, prefix="/coreos.com/network"):
    """flannel's subnet leases for podnet's plan."""
    try:
        return podnet_planner.flannel_leases(plan, prefix)
    except PlanError as exc:
        raise AnsibleFilterError("podnet_flannel_leases: %s" % exc) from exc


class FilterModule:
    """The podnet_flannel_leases filter."""

    def filters(self):
        return {"podnet_flannel_leases": podnet_flannel_leases}
