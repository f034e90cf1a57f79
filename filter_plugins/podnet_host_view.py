# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_host_view: one node's slice of the plan.

A thin entry over ``podnet_planner.host_view`` (plain Python, unit-tested without Ansible):
its ``PlanError`` becomes ``AnsibleFilterError``, message unchanged.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: podnet_host_view
short_description: One host's slice of podnet's plan
description:
  - Returns what one node needs to configure itself - its bridge address and MTU, the VXLAN
    device (or none), its routes, FDB and neighbour entries, its peers. O(n) per host.
positional: _input, hostname
options:
  _input:
    description:
      - The plan, the output of C(podnet_plan).
    type: dict
    required: true
  hostname:
    description: The inventory hostname of a node of the plan.
    type: str
    required: true
requirements:
  - podnet_planner (this repository's planner package; scripts/setup.sh installs it into .venv)
  - netaddr (Python library, on the controller)
author: podnet
"""

EXAMPLES = r"""
- name: Podnet | take this node's slice of the plan
  ansible.builtin.set_fact:
    podnet_host: "{{ hostvars['localhost'].podnet_plan_result | podnet_host_view(inventory_hostname) }}"
"""

RETURN = r"""
_value:
  description:
    - "C({hostname, zone, address, pod_cidr, gateway, bridge_address, mtu, cluster_cidr, vxlan
      (null or {device, vni, port, local, vtep_ip, vtep_mac, mtu}), routes [{dest, via,
      dev: underlay|vxlan, onlink}], fdb [{mac, dst}], neighbors [{ip, mac}], members [address],
      peers [{hostname, zone, address, pod_cidr, backend}], neigh_gc_thresh {gc_thresh1,
      gc_thresh2, gc_thresh3}})."
  type: dict
"""

try:
    import podnet_planner
except ImportError as imp_exc:  # the planner package, or the netaddr it needs, is missing
    PLANNER_IMPORT_ERROR = imp_exc
else:
    PLANNER_IMPORT_ERROR = None


def podnet_host_view(plan, hostname):
    """One host's slice of podnet's plan (``podnet_planner.host_view``)."""
    if PLANNER_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            "podnet_host_view needs podnet's planner and netaddr in the Python that runs Ansible; "
            "run scripts/setup.sh (%s)" % PLANNER_IMPORT_ERROR) from PLANNER_IMPORT_ERROR
    try:
        return podnet_planner.host_view(plan, hostname)
    except podnet_planner.PlanError as exc:
        raise AnsibleFilterError("podnet_host_view: %s" % exc) from exc


class FilterModule:
    """podnet_host_view."""

    def filters(self):
        return {"podnet_host_view": podnet_host_view}
