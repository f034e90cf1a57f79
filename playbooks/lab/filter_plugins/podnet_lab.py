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
  - With C(ipv6=true) (C(make lab LAB_IPV6=1)) every network also gets an IPv6 subnet
    (C(subnet_ipv6) - the zones fd00:30:21::/64, fd00:30:22::/64, ... (from fd00:30:61::/64 for
    V(fb)); the outside 2001:db8:30:96::/64, or 2001:db8:30:128::/64 for V(fb)), every leg its
    C(ipv6_address) (same last number as its IPv4 one, the router's C(::fe)) and every host
    C(gateway_ipv6) and C(ipv6_only) - true for the nodes of every zone but the first - and
    C(ssh_address), the address the machine reaches it at (IPv6 for an IPv6-only host).
    Without it the result is the IPv4-only one, key for key.
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


def lab_topology(zones, nodes_per_zone, name="lab", ipv6=False) -> dict:
    zones, nodes_per_zone = int(zones), int(nodes_per_zone)
    if not 1 <= zones <= 9 or not 1 <= nodes_per_zone <= 40:
        raise AnsibleFilterError("lab: zones must be 1..9 and nodes per zone 1..40")
    if name not in LABS:
        raise AnsibleFilterError(f"lab: unknown lab name {name!r}: use one of {sorted(LABS)}")
    if not isinstance(ipv6, bool):
        raise AnsibleFilterError(f"lab: ipv6 is {ipv6!r}: give true (dual-stack lab networks) or false")
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
    if ipv6:
        _add_ipv6(networks, hosts, "fd00:30:{}::", f"2001:db8:30:{outside_first}::", first)
    return {"networks": networks, "hosts": hosts}


def _add_ipv6(networks, hosts, zone_base, outside_base, first):
    """Dual-stack lab networks: each network's IPv6 /64 beside its IPv4 subnet (zones: ULA
    fd00:30:<first + index>::/64; the outside world: OUTSIDE_BASE in 2001:db8::/32), each
    leg's IPv6 address of the same last number (the router's ::fe), each host's IPv6
    gateway (the router's leg in its network) and whether its underlay is IPv6 only (the
    nodes of every zone but the first: the lab drops the IPv4 address Docker gives them)."""
    bases = {}
    for index, network in enumerate(networks):
        zone = network["name"].rsplit("-", 1)[1]
        base = outside_base if zone == "out" else zone_base.format(first + index)
        bases[network["name"]] = base
        network["subnet_ipv6"] = base + "/64"
    for host in hosts:
        for leg in host["networks"]:
            last = int(leg["ipv4_address"].rsplit(".", 1)[1])
            leg["ipv6_address"] = bases[leg["name"]] + ("fe" if host["group"] == "lab_router" else str(last))
        gateway_leg = host["networks"][0]["name"]
        host["gateway_ipv6"] = None if host["group"] == "lab_router" else bases[gateway_leg] + "fe"
        host["ipv6_only"] = bool(host["zone"]) and host["zone"] != "a"
        host["ssh_address"] = host["networks"][0]["ipv6_address" if host["ipv6_only"] else "ipv4_address"]


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
