#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet's CNI network: the conflist rendered from the node's slice of the plan."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: podnet_cni
short_description: Keep podnet's CNI conflist (bridge on cbr0, host-local over the pod subnet, portmap)
description:
  - Renders C(<conf_dir>/10-<network_name>.conflist) from its options (JSON, keys sorted,
    the same bytes for the same input) and writes it atomically (root:root 0644, its
    directory created 0755) only when it differs. Container runtimes read the directory
    for every pod they create, so nothing needs a restart.
  - The network is the standard C(bridge) plugin on podnet's bridge (C(isGateway), no
    masquerade, hairpin mode, the plan's MTU) with C(host-local) IPAM over the node's pod
    subnet and a default route, optionally chained with C(portmap).
  - Dual stack, with O(subnet_ipv6) (the node's IPv6 pod prefix), host-local gets a second
    range (C(ranges) holds one list per family, so each pod gets one address of each) with
    the IPv6 gateway, and a default route for each family (C(0.0.0.0/0) and C(::/0)).
    Without it the conflist is exactly the IPv4-only one.
  - Checks the inputs' meaning before writing anything and names the role variable
    (C(podnet_cni_*)) in its message.
  - With O(state=absent), removes the conflist and host-local's allocation directory of
    the network (C(/var/lib/cni/networks/<network_name>)). The directories stay, even
    emptied, since a runtime watches O(conf_dir) (containerd stops reloading CNI
    configuration when it goes).
  - The conflist carries podnet's mark (its key C(podnet)). A file at its path without it
    is someone else's; O(state=present) stops naming it, O(state=absent) leaves it and
    says so (RV(left_alone)).
options:
  conf_dir:
    description: Directory the container runtime reads CNI configurations from.
    type: path
    default: /etc/cni/net.d
  network_name:
    description: CNI network name (also host-local's directory under C(/var/lib/cni/networks)).
    type: str
    default: podnet
  version:
    description: cniVersion of the conflist.
    type: str
    default: "1.0.0"
  bridge:
    description: Bridge pods attach to; podnet's bridge, never Docker's C(docker0).
    type: str
    default: cbr0
  subnet:
    description: The node's pod subnet (network address/prefix). Required when O(state=present).
    type: str
  gateway:
    description: The pods' gateway, the bridge's address, inside O(subnet). Required when O(state=present).
    type: str
  subnet_ipv6:
    description:
      - The node's IPv6 pod prefix (network/prefix, e.g. V(fd00:10:244:1::/64)), or null for
        IPv4 only.
    type: str
  gateway_ipv6:
    description:
      - The pods' IPv6 gateway, the bridge's IPv6 address, inside O(subnet_ipv6); empty for
        the prefix's first address (C(<prefix>::1), as the plan's C(gateway_ipv6)).
      - host-local hands out IPv6 addresses from the /80 after the gateway's /80 to the
        prefix's last address (for a /64, from C(<prefix>:1::) on). The gateway's /80 is
        where Docker puts its containers (their addresses are the gateway's first 80 bits
        and the container's MAC address), so Docker with C(fixed-cidr-v6) on the same bridge
        never hands out an address host-local does. A prefix longer than /79 has no such
        room; its range starts after the gateway.
    type: str
    default: ""
  range_start:
    description: First address host-local hands out; empty for the address after O(gateway).
    type: str
    default: ""
  range_end:
    description: Last address host-local hands out; empty for the subnet's last usable one.
    type: str
    default: ""
  mtu:
    description: MTU of pod interfaces, 68 to 65535.
    type: raw
    default: 1500
  portmap:
    description: Chain the portmap plugin after the bridge plugin.
    type: bool
    default: true
  state:
    description:
      - V(present) writes the conflist.
      - V(absent) removes the conflist and host-local's allocations of the network.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment: [podnet.network.attributes]
"""

EXAMPLES = r"""
- name: CNI | keep podnet's conflist
  podnet_cni:
    bridge: cbr0
    subnet: 10.244.1.0/24
    gateway: 10.244.1.1
    range_end: 10.244.1.127
    mtu: 1450
    state: present

- name: CNI | dual stack, one address of each family per pod
  podnet_cni:
    subnet: 10.244.1.0/24
    gateway: 10.244.1.1
    subnet_ipv6: "fd00:10:244:1::/64"
    mtu: 1450

- name: CNI | remove it and host-local's allocations
  podnet_cni:
    state: absent
"""

RETURN = r"""
actions:
  description: The changes made (or, in check mode, that would be made), in order.
  returned: always
  type: list
  elements: str
  sample: ["write /etc/cni/net.d/10-podnet.conflist"]
left_alone:
  description: What podnet found at its paths but did not write, and left as it was.
  returned: always
  type: list
  elements: str
path:
  description: The conflist's path.
  returned: always
  type: str
  sample: /etc/cni/net.d/10-podnet.conflist
"""

import ipaddress
import json
import os
import re
import shutil

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils.podnet_host import as_int, finish, persist_file, read_text

# podnet's mark in its conflist.
MARK_KEY = "podnet"
MARK = "written by podnet's podnet_cni module; podnet's reset removes this file"
# Where host-local records the addresses it handed out, one directory per network.
IPAM_DIR = "/var/lib/cni/networks"
NETWORK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def conflist_path(conf_dir, network_name):
    return os.path.join(conf_dir, "10-%s.conflist" % network_name)


def _address(text):
    """TEXT (an address, or address/prefix) as an IPv4Address, or None."""
    try:
        return ipaddress.IPv4Interface(str(text or "").strip()).ip
    except ValueError:
        return None


def check_params(p):
    """Pure check of the inputs' meaning (P: the module's parameters). Returns (errors,
    normalised values {subnet, gateway, range_start, range_end, mtu}). Every error names
    the role variable, what it holds and the fix."""
    errors = []
    if not NETWORK_NAME.match(p.get("network_name") or ""):
        errors.append("podnet_cni_network_name=%r must be a CNI network name (letters, digits, "
                      "_ . -, starting with a letter or digit; default podnet)" % (p.get("network_name"),))
    if p.get("state") != "present":
        return errors, None
    if p.get("bridge") == "docker0":
        errors.append("podnet_cni_bridge=docker0 is Docker's bridge, whose addresses Docker hands "
                      "out itself: use podnet's cbr0 (with Docker attached to it if it runs too)")
    try:
        subnet = ipaddress.IPv4Network(str(p.get("subnet") or "").strip(), strict=True)
        if "/" not in str(p.get("subnet")):
            raise ValueError("no prefix")
    except ValueError:
        errors.append("podnet_cni_subnet=%r must be the node's pod subnet as network/prefix such as "
                      "10.244.1.0/24 (the plan's pod_cidr)" % (p.get("subnet"),))
        return errors, None
    values = {"subnet": str(subnet)}
    hosts = (subnet.network_address, subnet.broadcast_address) if subnet.prefixlen < 31 else ()

    def inside(variable, text, what):
        address = _address(text)
        if address is None or address not in subnet or address in hosts:
            errors.append("%s=%r must be %s, a host address inside podnet_cni_subnet=%s"
                          % (variable, text, what, subnet))
            return None
        return address

    gateway = inside("podnet_cni_gateway", p.get("gateway"), "the pods' gateway (the plan's gateway)")
    values["gateway"] = str(gateway) if gateway else None
    start = None
    if p.get("range_start"):
        start = inside("podnet_cni_range_start", p["range_start"], "\"\" or the first address host-local hands out")
    elif gateway is not None:
        start = gateway + 1
        if start not in subnet or start in hosts:
            errors.append("podnet_cni_gateway=%s leaves no address after it in podnet_cni_subnet=%s: "
                          "set podnet_cni_range_start" % (gateway, subnet))
            start = None
    end = None
    if p.get("range_end"):
        end = inside("podnet_cni_range_end", p["range_end"], "\"\" or the last address host-local hands out")
    if start is not None and end is not None and start > end:
        errors.append("podnet_cni_range_start=%s is above podnet_cni_range_end=%s: host-local would "
                      "have no address to hand out" % (start, end))
    values["range_start"] = str(start) if start else None
    values["range_end"] = str(end) if end else ""
    mtu = p.get("mtu")
    number = as_int(mtu)
    if number is None or not 68 <= number <= 65535:
        errors.append("podnet_cni_mtu=%r must be an integer between 68 and 65535 (the plan's mtu)" % (mtu,))
    values["mtu"] = number
    values.update(check_ipv6(p, errors))
    return errors, (None if errors else values)


def check_ipv6(p, errors):
    """The IPv6 range's values {subnet_ipv6, gateway_ipv6, range_start_ipv6} (all None
    without podnet_cni_subnet_ipv6), appending to ERRORS what cannot work."""
    values = {"subnet_ipv6": None, "gateway_ipv6": None, "range_start_ipv6": None}
    text = p.get("subnet_ipv6")
    if text is None or text == "":
        if p.get("gateway_ipv6"):
            errors.append("podnet_cni_gateway_ipv6=%r is set but podnet_cni_subnet_ipv6 is not: set "
                          "both (the plan's pod_cidr_ipv6 and gateway_ipv6), or neither for IPv4 only"
                          % (p.get("gateway_ipv6"),))
        return values
    try:
        subnet = ipaddress.IPv6Network(str(text).strip(), strict=True)
        if "/" not in str(text) or subnet.prefixlen > 126:
            raise ValueError("no prefix, or no room")
    except ValueError:
        errors.append("podnet_cni_subnet_ipv6=%r must be the node's IPv6 pod prefix as network/prefix "
                      "of /126 or shorter such as fd00:10:244:1::/64 (the plan's pod_cidr_ipv6), or "
                      "null for IPv4 only" % (text,))
        return values
    given = p.get("gateway_ipv6")
    try:
        gateway = ipaddress.IPv6Interface(str(given).strip()).ip if given else subnet.network_address + 1
    except ValueError:
        gateway = None
    # The network address is the subnet-router anycast address; host-local needs one after it.
    if gateway is None or gateway not in subnet or gateway in (subnet.network_address, subnet[-1]):
        errors.append("podnet_cni_gateway_ipv6=%r must be the pods' IPv6 gateway, an address inside "
                      "podnet_cni_subnet_ipv6=%s other than its first and last (the plan's gateway_ipv6; "
                      "\"\" for %s)" % (given, subnet, subnet.network_address + 1))
        return values
    values.update(subnet_ipv6=str(subnet), gateway_ipv6=str(gateway),
                  range_start_ipv6=str(ipv6_range_start(subnet, gateway)))
    return values


def ipv6_range_start(subnet, gateway):
    """host-local's first IPv6 address in SUBNET: the first of the /80 after GATEWAY's /80
    (Docker's MAC-derived container addresses all lie in the gateway's /80), or the address
    after the gateway when SUBNET is longer than /79."""
    if subnet.prefixlen <= 79:
        after = ipaddress.IPv6Network("%s/80" % gateway, strict=False).network_address + (1 << 48)
        if after in subnet:
            return after
    return gateway + 1


def conflist(p, values):
    """The conflist as data (P: the module's parameters, VALUES: from check_params)."""
    ipam_range = {"subnet": values["subnet"], "gateway": values["gateway"], "rangeStart": values["range_start"]}
    if values["range_end"]:
        ipam_range["rangeEnd"] = values["range_end"]
    ranges, routes = [[ipam_range]], [{"dst": "0.0.0.0/0"}]
    if values.get("subnet_ipv6"):
        ranges.append([{"subnet": values["subnet_ipv6"], "gateway": values["gateway_ipv6"],
                        "rangeStart": values["range_start_ipv6"]}])
        routes.append({"dst": "::/0"})
    plugins = [{
        "type": "bridge", "bridge": p["bridge"], "isGateway": True, "ipMasq": False,
        "hairpinMode": True, "mtu": values["mtu"],
        "ipam": {"type": "host-local", "ranges": ranges, "routes": routes},
    }]
    if p.get("portmap", True):
        plugins.append({"type": "portmap", "capabilities": {"portMappings": True}})
    return {"cniVersion": p["version"], "name": p["network_name"], "plugins": plugins, MARK_KEY: MARK}


def render(data):
    """Deterministic bytes."""
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def podnet_wrote(text):
    """Whether a conflist is podnet's: it carries podnet's mark (JSON has no comments; CNI
    runtimes ignore keys they do not know), or it has exactly the shape podnet wrote
    before the mark (a bridge + host-local network with podnet's keys, then portmap)."""
    try:
        data = json.loads(text)
    except ValueError:
        return False
    if not isinstance(data, dict):
        return False
    if data.get(MARK_KEY) == MARK:
        return True
    plugins = data.get("plugins")
    return (set(data) == {"cniVersion", "name", "plugins"} and isinstance(plugins, list)
            and 1 <= len(plugins) <= 2 and isinstance(plugins[0], dict)
            and set(plugins[0]) == {"type", "bridge", "isGateway", "ipMasq", "hairpinMode", "mtu", "ipam"}
            and plugins[0].get("type") == "bridge"
            and (plugins[0].get("ipam") or {}).get("type") == "host-local"
            and all(isinstance(x, dict) and x.get("type") == "portmap" for x in plugins[1:]))


def remove_tree(module, path, actions):
    """Remove host-local's allocation directory PATH (a tree of podnet's network only)."""
    if not os.path.lexists(path):
        return
    actions.append("rm -r %s" % path)
    if module.check_mode:
        return
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except OSError as exc:
        module.fail_json(msg="cannot remove %s: %s" % (path, exc), actions=actions)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            conf_dir=dict(type="path", default="/etc/cni/net.d"),
            network_name=dict(type="str", default="podnet"),
            version=dict(type="str", default="1.0.0"),
            bridge=dict(type="str", default="cbr0"),
            subnet=dict(type="str"),
            gateway=dict(type="str"),
            subnet_ipv6=dict(type="str"),
            gateway_ipv6=dict(type="str", default=""),
            range_start=dict(type="str", default=""),
            range_end=dict(type="str", default=""),
            # Checked by check_params, whose message names the role variable.
            mtu=dict(type="raw", default=1500),
            portmap=dict(type="bool", default=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    errors, values = check_params(p)
    if errors:
        module.fail_json(msg="; ".join(errors), actions=[])
    path = conflist_path(p["conf_dir"], p["network_name"])
    actions, diffs = [], []
    current = read_text(module, path)
    foreign = current is not None and not podnet_wrote(current)
    if p["state"] == "present":
        if foreign:
            module.fail_json(msg="%s exists and podnet did not write it (no \"%s\" mark in it): podnet "
                                 "leaves it alone. Move it away, or give podnet's network another "
                                 "name (podnet_cni_network_name)" % (path, MARK_KEY), actions=[])
        persist_file(module, path, render(conflist(p, values)), actions, diffs)
        finish(module, actions, diffs, path=path, left_alone=[])
    left_alone = []
    if foreign:
        left_alone.append("%s was not written by podnet (no \"%s\" mark), so it is left as it is"
                          % (path, MARK_KEY))
        module.warn("podnet_cni: " + left_alone[0])
    else:
        persist_file(module, path, None, actions, diffs)
        # host-local's records of podnet's network go too. The directories stay, emptied or
        # not: a runtime watches conf_dir (containerd stops reloading CNI configuration when
        # the directory it watches is removed), and host-local keeps its own tree.
        remove_tree(module, os.path.join(IPAM_DIR, p["network_name"]), actions)
    finish(module, actions, diffs, path=path, left_alone=left_alone)


if __name__ == "__main__":
    main()
