# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_flannel_leases: flannel's leases of a plan.

A thin entry over ``podnet_planner.flannel_leases`` (plain Python, unit-tested without Ansible):
its ``PlanError`` becomes ``AnsibleFilterError``, message unchanged.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: podnet_flannel_leases
short_description: flannel's subnet leases for podnet's plan
description:
  - Returns one flannel lease per node, keyed C(<prefix>/subnets/<net>-<len>), with the node's
    C(PublicIP) and vxlan backend data (VNI, VTEP MAC).
positional: _input, prefix
options:
  _input:
    description:
      - The plan, the output of C(podnet_plan).
    type: dict
    required: true
  prefix:
    description: The registry's etcd key prefix (flannel's C(-etcd-prefix)).
    type: str
    default: /coreos.com/network
requirements:
  - podnet_planner (this repository's planner package; scripts/setup.sh installs it into .venv)
  - netaddr (Python library, on the controller)
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

try:
    import podnet_planner
except ImportError as imp_exc:  # the planner package, or the netaddr it needs, is missing
    PLANNER_IMPORT_ERROR = imp_exc
else:
    PLANNER_IMPORT_ERROR = None


def podnet_flannel_leases(plan, prefix="/coreos.com/network"):
    """flannel's subnet leases for podnet's plan (``podnet_planner.flannel_leases``)."""
    if PLANNER_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            "podnet_flannel_leases needs podnet's planner and netaddr in the Python that runs Ansible; "
            "run scripts/setup.sh (%s)" % PLANNER_IMPORT_ERROR) from PLANNER_IMPORT_ERROR
    try:
        return podnet_planner.flannel_leases(plan, prefix)
    except podnet_planner.PlanError as exc:
        raise AnsibleFilterError("podnet_flannel_leases: %s" % exc) from exc


class FilterModule:
    """podnet_flannel_leases."""

    def filters(self):
        return {"podnet_flannel_leases": podnet_flannel_leases}
