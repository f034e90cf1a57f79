# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_preflight: the checks that need no host.

A thin entry over ``podnet_planner.preflight`` (plain Python, unit-tested without Ansible):
its ``PlanError`` becomes ``AnsibleFilterError``, message unchanged.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

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
      - "The nodes, C({hostname: {zone: str, address: IPv4, prefix: int (optional underlay prefix length), pod_cidr: CIDR (optional pin or previously held subnet)}}); C(address) may be null (partial inventory)."
    type: dict
    required: true
  network:
    description: The planner's network settings (see C(podnet_plan)).
    type: dict
    required: true
requirements:
  - podnet_planner (this repository's planner package; scripts/setup.sh installs it into .venv)
  - netaddr (Python library, on the controller)
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
      network, as in the plan (C(registry), C(registry_member)), C(zones) still as pinned})."
  type: dict
"""

try:
    import podnet_planner
except ImportError as imp_exc:  # the planner package, or the netaddr it needs, is missing
    PLANNER_IMPORT_ERROR = imp_exc
else:
    PLANNER_IMPORT_ERROR = None


def podnet_preflight(nodes, network):
    """Validate podnet's inventory before any host is asked (``podnet_planner.preflight``)."""
    if PLANNER_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            "podnet_preflight needs podnet's planner and netaddr in the Python that runs Ansible; "
            "run scripts/setup.sh (%s)" % PLANNER_IMPORT_ERROR) from PLANNER_IMPORT_ERROR
    try:
        return podnet_planner.preflight(nodes, network)
    except podnet_planner.PlanError as exc:
        raise AnsibleFilterError("podnet_preflight: %s" % exc) from exc


class FilterModule:
    """podnet_preflight."""

    def filters(self):
        return {"podnet_preflight": podnet_preflight}
