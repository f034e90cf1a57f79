# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_registry_keys: the etcd keys of a plan.

A thin entry over ``podnet_planner.registry_keys``.
"""

from ansible.errors import AnsibleFilterError

try:
    import podnet_planner  # its modules load when a filter is called, not with this file
    from podnet_planner.errors import PlanError
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_registry_keys: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

DOCUMENTATION = r"""
name: podnet_registry_keys
short_description: Every etcd key podnet writes for its plan
description:
  - "Returns C({key: value}) for every key podnet writes under O(prefix) - flannel's C(config),
    one C(subnets/<net>-<len>) lease per node and podnet's ledger document at C(podnet/ledger)
    (which flanneld never reads)."
positional: _input, prefix
options:
  _input:
    description: The plan (the output of C(podnet_plan)) to write into etcd.
    type: dict
    required: true
  prefix:
    description: The registry's etcd key prefix (flannel's C(-etcd-prefix)),
      to write under.
    type: str
    default: /coreos.com/network
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
author: podnet
"""

EXAMPLES = r"""
- name: Registry | what podnet writes
  ansible.builtin.set_fact:
    keys: "{{ podnet_plan_result | podnet_registry_keys('/coreos.com/network') }}"
"""

RETURN = r"""
_value:
  description: "C({key: value}), keys sorted."
  type: dict
"""


def podnet_registry_keys(plan, prefix="/coreos.com/network"):
    """Every etcd key podnet writes for its plan."""
    try:
        return podnet_planner.registry_keys(plan, prefix)
    except PlanError as exc:
        raise AnsibleFilterError("podnet_registry_keys: %s" % exc) from exc


class FilterModule:
    """The podnet_registry_keys filter."""

    def filters(self):
        return {"podnet_registry_keys": podnet_registry_keys}
