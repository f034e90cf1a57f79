# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_flannel_leases_parse: flannel's leases read back.

A thin entry over ``podnet_planner.flannel_leases_parse``.
"""

from ansible.errors import AnsibleFilterError

try:
    import podnet_planner  # its modules load when a filter is called, not with this file
    from podnet_planner.errors import PlanError
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_flannel_leases_parse: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

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
    description: The registry's etcd key prefix (flannel's C(-etcd-prefix)),
      the leases were read from.
    type: str
    default: /coreos.com/network
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
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


def podnet_flannel_leases_parse(kv, prefix="/coreos.com/network"):
    """Read flannel's subnet leases back as addresses and subnets."""
    try:
        return podnet_planner.flannel_leases_parse(kv, prefix)
    except PlanError as exc:
        raise AnsibleFilterError("podnet_flannel_leases_parse: %s" % exc) from exc


class FilterModule:
    """The podnet_flannel_leases_parse filter."""

    def filters(self):
        return {"podnet_flannel_leases_parse": podnet_flannel_leases_parse}
