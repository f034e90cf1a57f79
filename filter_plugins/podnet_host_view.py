# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_host_view: one node's slice of the plan.

A thin entry over ``podnet_planner.host_view``.
"""

from ansible.errors import AnsibleFilterError

try:
    import podnet_planner  # its modules load when a filter is called, not with this file
    from podnet_planner.errors import PlanError
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_host_view: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

DOCUMENTATION = r"""
name: podnet_host_view
short_description: One host's slice of podnet's plan
description:
  - Returns what one node needs to configure itself - its bridge address and MTU, the VXLAN
    device (or none), its routes, FDB and neighbour entries, its peers. O(n) per host.
positional: _input, hostname
options:
  _input:
    description: The plan (the output of C(podnet_plan)) to take one node's slice of.
    type: dict
    required: true
  hostname:
    description: The inventory hostname of a node of the plan.
    type: str
    required: true
  peers:
    description:
      - Include C(peers), every peer's hostname, zone, address, pod subnet and backend (40 %
        of a slice). Only verify.yml's probe reads it; site.yml keeps every node's slice at
        once on the controller and leaves it out.
    type: bool
    default: true
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
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
      (null or {device, vni, port, local, vtep_ip, vtep_mac, mtu}), wireguard (null or
      {device, port, address, mtu, persistent_keepalive, public_key, peers [{hostname,
      public_key (null while not known), endpoint, allowed_ips}]}: peers reached over
      wireguard are routed via the device, not in routes), routes [{dest, via,
      dev: underlay|vxlan, onlink}], fdb [{mac, dst}], neighbors [{ip, mac}], members [address],
      peers [{hostname, zone, address, pod_cidr, backend}] (unless peers=false), neigh_gc_thresh {gc_thresh1,
      gc_thresh2, gc_thresh3}})."
  type: dict
"""


def podnet_host_view(plan, hostname, peers=True):
    """One host's slice of podnet's plan."""
    try:
        return podnet_planner.host_view(plan, hostname, peers=bool(peers))
    except PlanError as exc:
        raise AnsibleFilterError("podnet_host_view: %s" % exc) from exc


class FilterModule:
    """The podnet_host_view filter."""

    def filters(self):
        return {"podnet_host_view": podnet_host_view}
