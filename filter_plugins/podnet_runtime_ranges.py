# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_runtime_ranges: the runtimes' address ranges on a node.

A thin entry over ``podnet_planner.runtime_ranges``.
"""

from ansible.errors import AnsibleFilterError

try:
    import podnet_planner  # its modules load when a filter is called, not with this file
    from podnet_planner.errors import PlanError
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_runtime_ranges: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

DOCUMENTATION = r"""
name: podnet_runtime_ranges
short_description: Split a node's pod subnet between Docker and CNI
description:
  - When Docker and CNI share podnet's bridge they must not hand out the same addresses - CNI's
    host-local IPAM takes the lower half of the node's pod subnet, Docker's C(fixed-cidr) the
    upper half. When they do not share it both are empty strings (each may use the whole subnet).
positional: _input, shared
options:
  _input:
    description: The node's pod subnet, e.g. C(10.244.1.0/24) (/28 or larger when shared).
    type: str
    required: true
  shared:
    description: Whether Docker and CNI share the node's bridge.
    type: bool
    required: true
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
author: podnet
"""

EXAMPLES = r"""
- name: Split 10.244.1.0/24
  ansible.builtin.debug:
    msg: "{{ '10.244.1.0/24' | podnet_runtime_ranges(true) }}"
  # -> {cni_range_end: 10.244.1.126, docker_fixed_cidr: 10.244.1.128/25}
"""

RETURN = r"""
_value:
  description: C({docker_fixed_cidr, cni_range_end}), empty strings when not shared.
  type: dict
"""


def podnet_runtime_ranges(pod_cidr, shared):
    """Split a node's pod subnet between Docker and CNI."""
    try:
        return podnet_planner.runtime_ranges(pod_cidr, shared)
    except PlanError as exc:
        raise AnsibleFilterError("podnet_runtime_ranges: %s" % exc) from exc


class FilterModule:
    """The podnet_runtime_ranges filter."""

    def filters(self):
        return {"podnet_runtime_ranges": podnet_runtime_ranges}
