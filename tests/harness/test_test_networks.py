# SPDX-License-Identifier: GPL-3.0-or-later
"""The test networks never shadow the machine's own routes or its package mirror.

A Docker network takes a route on the machine for its subnet and the gateway address
itself: a scenario on the machine's own network cuts it off from its default gateway,
and one on the mirror's range (203.0.113.0/24 on this kind of machine) makes apt fail
with "No route to host" for as long as the network exists.
"""

import glob
import ipaddress
import json
import os
import subprocess

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MIRROR_RANGE = ipaddress.ip_network("203.0.113.0/24")


def scenario_networks():
    found = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "molecule", "*", "molecule.yml"))):
        scenario = os.path.basename(os.path.dirname(path))
        for platform in yaml.safe_load(open(path, encoding="utf-8")).get("platforms") or []:
            for network in platform.get("docker_networks") or []:
                # every subnet of a network (a dual-stack one has an IPv4 and an IPv6 subnet)
                for ipam in network.get("ipam_config") or []:
                    subnet = ipaddress.ip_network(ipam["subnet"])
                    label = network["name"] + (" IPv6" if subnet.version == 6 else "")
                    found[(scenario, label)] = subnet
    return found


def lab_networks():
    import sys  # pylint: disable=import-outside-toplevel
    sys.path.insert(0, os.path.join(ROOT, "playbooks", "lab", "filter_plugins"))
    try:
        import podnet_lab  # pylint: disable=import-outside-toplevel
    finally:
        sys.path.pop(0)
    found = {}
    for lab in podnet_lab.LABS:  # the README's lab and the fleet benchmark's, at their largest
        topology = podnet_lab.lab_topology(9, 40, lab, True)  # make lab LAB_IPV6=1: IPv6 subnets too
        found.update({(lab, n["name"]): ipaddress.ip_network(n["subnet"]) for n in topology["networks"]})
        found.update({(lab, n["name"] + " IPv6"): ipaddress.ip_network(n["subnet_ipv6"])
                      for n in topology["networks"]})
    return found


def machine_networks():
    """The machine's own routes (not Docker's, not podnet's test bridges)."""
    out = subprocess.run(["ip", "-j", "-4", "route"], capture_output=True, text=True, check=True)
    nets = []
    for route in json.loads(out.stdout):
        dev = route.get("dev", "")
        if route["dst"] == "default" or dev.startswith(("podnet-", "docker", "br-")):
            continue
        nets.append((dev, ipaddress.ip_network(route["dst"], strict=False)))
    return nets


def test_no_test_network_shadows_the_machine_or_its_mirror():
    networks = {**scenario_networks(), **lab_networks()}
    assert networks
    for (owner, name), subnet in networks.items():
        assert not subnet.overlaps(MIRROR_RANGE), f"{owner} {name} {subnet} shadows the mirror range"
        for dev, own in machine_networks():
            assert not subnet.overlaps(own), f"{owner} {name} {subnet} shadows {dev}'s {own}"


def test_networks_of_different_names_never_overlap():
    networks = sorted({**scenario_networks(), **lab_networks()}.items())
    for index, ((owner, name), subnet) in enumerate(networks):
        for (other_owner, other_name), other in networks[index + 1:]:
            if name != other_name:  # one network shared by scenarios that never run together
                assert not subnet.overlaps(other), f"{owner} {name} {subnet} ~ {other_owner} {other_name} {other}"
