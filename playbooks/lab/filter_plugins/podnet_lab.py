# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-lab helpers for the lab playbooks and molecule scenarios (not part of podnet)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: podnet_lab_networks
short_description: Lab topology helpers
description:
  - C(podnet_lab_topology(zones, nodes_per_zone, name)) describes a lab fleet; C(zones) zone
    networks (172.30.21.0/24, 172.30.22.0/24, ... for lab V(lab); from 172.30.61.0/24 for
    the fleet benchmark's lab V(fb)), C(nodes_per_zone) nodes in each, one router with a
    leg in every network (.254) and one "outside" host on a documentation range
    (198.51.100.96/27, or .128/27 for V(fb)). Returns C({networks: [{name, subnet}], hosts: [{name, group,
    zone, networks: [{name, ipv4_address}], gateway}]}).
  - C(podnet_lab_networks) returns the sorted, unique names of the docker networks declared by a molecule
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


# Each lab gets its own networks, so the README's lab and the fleet benchmark's can exist
# side by side: (first zone subnet 172.30.N.0/24, its "outside world"). The outside is a
# slice of a documentation range: test networks take /27s of 198.51.100.0/24 only, since
# on this kind of machine 192.0.2.0/24 is the machine's own network and the package
# mirror answers in 203.0.113.0/24 (a Docker network there cuts the machine off).
# Names: podnet-<name>-a1 ..., networks podnet-<name>-a ... and podnet-<name>-out (a
# bridge carries its network's name: 15 characters at most, so the bench lab is "fb").
LABS = {
    "lab": (21, "198.51.100.96/27"),
    "fb": (61, "198.51.100.128/27"),
}


def lab_topology(zones, nodes_per_zone, name="lab") -> dict:
    zones, nodes_per_zone = int(zones), int(nodes_per_zone)
    if not 1 <= zones <= 9 or not 1 <= nodes_per_zone <= 40:
        raise AnsibleFilterError("lab: zones must be 1..9 and nodes per zone 1..40")
    if name not in LABS:
        raise AnsibleFilterError(f"lab: unknown lab name {name!r}: use one of {sorted(LABS)}")
    first, outside = LABS[name]
    outside_base = outside.rsplit(".", 1)[0]
    outside_first = int(outside.rsplit(".", 1)[1].split("/")[0])
    outside_router = f"{outside_base}.{outside_first + 30}"
    prefix = f"podnet-{name}"
    networks, hosts, router_legs = [], [], []
    for index in range(zones):
        zone = chr(ord("a") + index)
        net, base = f"{prefix}-{zone}", f"172.30.{first + index}"
        networks.append({"name": net, "subnet": f"{base}.0/24"})
        router_legs.append({"name": net, "ipv4_address": f"{base}.254"})
        for number in range(1, nodes_per_zone + 1):
            hosts.append({"name": f"{prefix}-{zone}{number}", "group": f"lab_zone_{zone}",
                          "zone": zone, "gateway": f"{base}.254",
                          "networks": [{"name": net, "ipv4_address": f"{base}.{10 + number}"}]})
    outside_net = f"{prefix}-out"
    networks.append({"name": outside_net, "subnet": outside})
    router_legs.append({"name": outside_net, "ipv4_address": outside_router})
    hosts.append({"name": f"{prefix}-router", "group": "lab_router", "zone": None,
                  "gateway": None, "networks": router_legs})
    hosts.append({"name": f"{prefix}-outside", "group": "lab_outside", "zone": None,
                  "gateway": outside_router,
                  "networks": [{"name": outside_net,
                                "ipv4_address": f"{outside_base}.{outside_first + 10}"}]})
    return {"networks": networks, "hosts": hosts}


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
        return {"podnet_lab_networks": lab_networks, "podnet_lab_topology": lab_topology}
