# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_plan: the whole plan of podnet's pod network.

A thin entry over ``podnet_planner.plan``.
"""

from ansible.errors import AnsibleFilterError

try:
    import podnet_planner  # its modules load when a filter is called, not with this file
    from podnet_planner.errors import PlanError
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_plan: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

DOCUMENTATION = r"""
name: podnet_plan
short_description: Validate podnet's inventory and allocate one pod subnet per node
description:
  - Validates every input, then allocates one pod subnet per node inside a per-zone block of the
    cluster CIDR (pins and held subnets kept, lowest free subnet first) and chooses the path
    (host-gw, VXLAN or WireGuard) between every pair of nodes. Pure and deterministic, O(n) in the nodes.
  - Every error names the culprit (host, CIDR, zone) and the fix; nothing is half planned.
positional: _input, network
options:
  _input:
    description:
      - "The nodes, C({hostname: {zone: str, address: IPv4, prefix: int (optional underlay prefix
        length), pod_cidr: CIDR (optional pin or previously held subnet), wireguard_key:
        the node's WireGuard public key (optional, as the node reports it)}});
        usually C(podnet_ledger_inputs(...).nodes)."
    type: dict
    required: true
  network:
    description:
      - "C(cluster_cidr) (required), C(node_prefix) (24), C(zone_prefix) (default: half-way between
        cluster and node prefix, stable), C(zones) ({zone: {block: CIDR}} pins, from the ledger),
        C(zone_backends) ({zone: auto|host-gw|vxlan|wireguard}), C(service_cidr), C(reserved)
        (list), C(backend) (auto|host-gw|vxlan|wireguard, default auto), C(cross_zone_backend)
        (vxlan|wireguard, default vxlan: what auto uses between zones), C(underlay_mtu) (1500),
        C(vxlan) ({vni: 1, port: 8472, device: flannel.<vni>}), C(wireguard) ({port: 51820,
        device: flannel-wg, persistent_keepalive: 0}), C(released) (released-pending
        nodes, from C(podnet_ledger_inputs)), C(registry) (ledger|etcd, default ledger) and
        C(registry_members) (etcd mode: inventory hostnames of the etcd members)."
    type: dict
    required: true
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
author: podnet
"""

EXAMPLES = r"""
- name: Plan | allocate
  ansible.builtin.set_fact:
    podnet_plan_result: "{{ inputs.nodes | podnet_plan(inputs.network) }}"

- name: Plan | a two-node network
  ansible.builtin.debug:
    msg: >-
      {{ {'a': {'zone': 'z', 'address': '192.0.2.1'}, 'b': {'zone': 'z', 'address': '192.0.2.2'}}
         | podnet_plan({'cluster_cidr': '10.244.0.0/16'}) }}
"""

RETURN = r"""
_value:
  description:
    - "C({network, zones, nodes}): C(network) normalised with every default filled and C(zones)
      set to the allocated blocks (feeding it back in reproduces the plan), with C(registry) and
      C(registry_member) (the etcd member the registry is read and written through, null in
      ledger mode); C(zones) C({zone: {block}}); C(nodes) C({host: {zone, address, prefix,
      pod_cidr, gateway, vtep_ip, vtep_mac, mtu}}). Keys are sorted."
  type: dict
"""


def podnet_plan(nodes, network):
    """Validate podnet's inventory and allocate one pod subnet per node."""
    try:
        return podnet_planner.plan(nodes, network)
    except PlanError as exc:
        raise AnsibleFilterError("podnet_plan: %s" % exc) from exc


class FilterModule:
    """The podnet_plan filter."""

    def filters(self):
        return {"podnet_plan": podnet_plan}
