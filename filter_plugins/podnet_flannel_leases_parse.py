# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_flannel_leases_parse: flannel's leases read back.

A thin entry over ``podnet_planner.flannel_leases_parse`` (plain Python, unit-tested without Ansible):
its ``PlanError`` becomes ``AnsibleFilterError``, message unchanged.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: podnet_flannel_leases_parse
short_description: Read flannel's subnet leases back as addresses and subnets
description:
  - "Returns C({PublicIP: pod_cidr}) from flannel leases read out of etcd; keys outside
    C(<prefix>/subnets/) are ignored. A host holding two leases is an error naming both."
positional: _input, prefix
options:
  _input:
    description: "C({key: lease}), each lease a dict or its JSON text."
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
- name: Registry | who holds what
  ansible.builtin.debug:
    msg: "{{ etcd_keys | podnet_flannel_leases_parse }}"
"""

RETURN = r"""
_value:
  description: "C({PublicIP: pod_cidr})."
  type: dict
"""

try:
    import podnet_planner
except ImportError as imp_exc:  # the planner package, or the netaddr it needs, is missing
    PLANNER_IMPORT_ERROR = imp_exc
else:
    PLANNER_IMPORT_ERROR = None


def podnet_flannel_leases_parse(kv, prefix="/coreos.com/network"):
    """Read flannel's subnet leases back as addresses and subnets (``podnet_planner.flannel_leases_parse``)."""
    if PLANNER_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            "podnet_flannel_leases_parse needs podnet's planner and netaddr in the Python that runs Ansible; "
            "run scripts/setup.sh (%s)" % PLANNER_IMPORT_ERROR) from PLANNER_IMPORT_ERROR
    try:
        return podnet_planner.flannel_leases_parse(kv, prefix)
    except podnet_planner.PlanError as exc:
        raise AnsibleFilterError("podnet_flannel_leases_parse: %s" % exc) from exc


class FilterModule:
    """podnet_flannel_leases_parse."""

    def filters(self):
        return {"podnet_flannel_leases_parse": podnet_flannel_leases_parse}
