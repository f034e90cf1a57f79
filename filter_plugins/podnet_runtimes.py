# -*- coding: utf-8 -*-
"""Address ranges of the container runtimes on one node's pod subnet.

When Docker and CNI share podnet's cbr0 they must not hand out the same addresses:
CNI's host-local IPAM takes the lower half of the node's pod subnet, Docker's
`fixed-cidr` the upper half. Computed here so the playbook holds no address arithmetic.
"""

from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: podnet_runtime_ranges
short_description: Split a node's pod subnet between Docker and CNI
description:
  - C(podnet_runtime_ranges(pod_cidr, shared)) returns C({docker_fixed_cidr, cni_range_end}).
    When C(shared) is false both are empty strings (each runtime may use the whole subnet).
    When true, C(cni_range_end) is the last usable address of the lower half and
    C(docker_fixed_cidr) the upper half.
positional: _input, shared
options:
  _input:
    description: The node's pod subnet, e.g. C(10.244.1.0/24).
    type: str
    required: true
  shared:
    description: Whether Docker and CNI share the node's bridge.
    type: bool
    required: true
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


def runtime_ranges(pod_cidr, shared) -> dict:
    if not shared:
        return {"docker_fixed_cidr": "", "cni_range_end": ""}
    try:
        net = ipaddress.IPv4Network(str(pod_cidr))
    except ValueError as err:
        raise AnsibleFilterError(f"podnet_runtime_ranges: pod subnet {pod_cidr!r}: {err}") from err
    if net.prefixlen > 28:
        raise AnsibleFilterError(
            f"podnet_runtime_ranges: pod subnet {pod_cidr} is too small to share between "
            "Docker and CNI: use a node_prefix of /28 or shorter, or run one runtime per node")
    lower, upper = net.subnets(prefixlen_diff=1)
    return {"docker_fixed_cidr": str(upper), "cni_range_end": str(lower.broadcast_address - 1)}


class FilterModule:
    """Runtime range filter."""

    def filters(self):
        return {"podnet_runtime_ranges": runtime_ranges}
