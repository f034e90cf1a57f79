# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_runtime_ranges: the runtimes' address ranges on a node.

A thin entry over ``podnet_planner.runtime_ranges`` (plain Python, unit-tested without Ansible):
its ``PlanError`` becomes ``AnsibleFilterError``, message unchanged.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

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
requirements:
  - podnet_planner (this repository's planner package; scripts/setup.sh installs it into .venv)
  - netaddr (Python library, on the controller)
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

try:
    import podnet_planner
except ImportError as imp_exc:  # the planner package, or the netaddr it needs, is missing
    PLANNER_IMPORT_ERROR = imp_exc
else:
    PLANNER_IMPORT_ERROR = None


def podnet_runtime_ranges(pod_cidr, shared):
    """Split a node's pod subnet between Docker and CNI (``podnet_planner.runtime_ranges``)."""
    if PLANNER_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            "podnet_runtime_ranges needs podnet's planner and netaddr in the Python that runs Ansible; "
            "run scripts/setup.sh (%s)" % PLANNER_IMPORT_ERROR) from PLANNER_IMPORT_ERROR
    try:
        return podnet_planner.runtime_ranges(pod_cidr, shared)
    except podnet_planner.PlanError as exc:
        raise AnsibleFilterError("podnet_runtime_ranges: %s" % exc) from exc


class FilterModule:
    """podnet_runtime_ranges."""

    def filters(self):
        return {"podnet_runtime_ranges": podnet_runtime_ranges}
