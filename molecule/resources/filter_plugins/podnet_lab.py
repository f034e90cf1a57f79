# -*- coding: utf-8 -*-
"""Test-lab helpers for molecule scenarios (not part of podnet itself)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: podnet_lab_networks
short_description: Bridge names of a scenario's docker networks
description:
  - Returns the sorted, unique names of the docker networks declared by a molecule
    scenario's platforms, checking that each network's Linux bridge carries the network's
    own name (driver option C(com.docker.network.bridge.name)) so rules can name it.
positional: _input
options:
  _input:
    description: C(molecule_yml.platforms).
    type: list
    required: true
author: podnet
"""

EXAMPLES = r"""
- name: List the lab bridges
  ansible.builtin.debug:
    msg: "{{ molecule_yml.platforms | podnet_lab_networks }}"
"""

RETURN = r"""
_value:
  description: Bridge (= network) names.
  type: list
  elements: str
"""

BRIDGE_OPTION = "com.docker.network.bridge.name"


def lab_networks(platforms) -> list:
    names = set()
    for platform in platforms:
        for network in platform.get("docker_networks") or []:
            name = network["name"]
            bridge = (network.get("driver_options") or {}).get(BRIDGE_OPTION)
            if bridge != name or len(name) > 15:
                raise AnsibleFilterError(
                    f"lab network {name!r}: set driver_options {BRIDGE_OPTION}: {name} "
                    "(the bridge must carry the network's name, at most 15 characters)")
            if not network.get("internal"):
                raise AnsibleFilterError(
                    f"lab network {name!r} must be internal: true (test traffic never "
                    "leaves this machine)")
            names.add(name)
    return sorted(names)


class FilterModule:
    """Lab filters."""

    def filters(self):
        return {"podnet_lab_networks": lab_networks}
