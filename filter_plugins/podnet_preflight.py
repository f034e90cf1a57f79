# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_preflight: the checks that need no host.

A thin entry over ``podnet_planner.preflight``.
"""

from ansible.errors import AnsibleFilterError

try:
    import podnet_planner  # its modules load when a filter is called, not with this file
    from podnet_planner.errors import PlanError
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_preflight: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

DOCUMENTATION = r"""
name: podnet_preflight
short_description: Validate podnet's inventory before any host is asked
description:
  - Runs every check of C(podnet_plan) that needs no host - network, zones, pins, held subnets,
    capacity - on nodes that may lack their address, and says which hosts must be asked for
    their underlay address and prefix.
positional: _input, network
options:
  _input:
    description:
      - "The nodes as far as known before any host is asked,
        C({hostname: {zone: str, address: IPv4, prefix: int (optional underlay prefix
        length), pod_cidr: CIDR (optional pin or previously held subnet)}});
        C(address) may be null (partial inventory)."
    type: dict
    required: true
  network:
    description: The planner's network settings (see C(podnet_plan)).
    type: dict
    required: true
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
author: podnet
"""

EXAMPLES = r"""
- name: Plan | validate before contact
  ansible.builtin.set_fact:
    podnet_plan_ask: "{{ (inputs.nodes | podnet_preflight(inputs.network)).ask }}"
"""

RETURN = r"""
_value:
  description:
    - "C({ask: [hosts whose address or prefix only the host can tell], network: the normalised
      network, as in the plan (C(registry), C(registry_member)), C(zones) still as pinned,
      wireguard: whether some pair may use WireGuard, so the nodes make their keys in the
      facts step})."
  type: dict
"""


def podnet_preflight(nodes, network):
    """Validate podnet's inventory before any host is asked."""
    try:
        return podnet_planner.preflight(nodes, network)
    except PlanError as exc:
        raise AnsibleFilterError("podnet_preflight: %s" % exc) from exc


class FilterModule:
    """The podnet_preflight filter."""

    def filters(self):
        return {"podnet_preflight": podnet_preflight}
