#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the planner asks every node: what podnet's local facts record (the pod subnet it
holds, its WireGuard public key) and, where nothing else tells it, its underlay address."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: podnet_node_facts
short_description: Report podnet's local facts and, when asked, the node's default IPv4 address
description:
  - Returns the facts podnet's planner reads, and no others - C(ansible_local.<name>) for
    each of podnet's local fact files C(podnet*.fact) in O(fact_path) (C(podnet.fact), the
    subnet the node holds; C(podnet_wireguard.fact), its WireGuard public key) and, with
    O(address=true), C(ansible_default_ipv4) (address, prefix, interface and gateway of
    the default route's link), in the shape M(ansible.builtin.setup) gives them.
  - Costs a fraction of M(ansible.builtin.setup) (which loads every fact collector even for
    one subset), and it runs on every node on every run.
  - A fact file that is not a JSON object is reported as missing, with a warning naming
    the file; the planner then keeps what the ledger recorded for the node.
  - Fails, before any change of podnet's on the node, when a C(table inet podnet) exists
    that podnet did not make (one without the comment that starts with C(podnet)).
options:
  address:
    description: Also report C(ansible_default_ipv4) (two C(ip -json) reads).
    type: bool
    default: false
  fact_path:
    description: Directory of Ansible local facts.
    type: path
    default: /etc/ansible/facts.d
extends_documentation_fragment: [podnet.network.attributes.read_only]
"""

EXAMPLES = r"""
- name: Podnet | ask the node what it holds
  podnet_node_facts:
    address: true
"""

RETURN = r"""
ansible_facts:
  description: C(local.podnet) always (V({}) when the node has no fact), C(local.<name>) for
    every other C(podnet*.fact), C(default_ipv4) with O(address=true).
  returned: always
  type: dict
  sample: {"local": {"podnet": {"zone": "a", "pod_cidr": "10.244.1.0/24"}},
           "default_ipv4": {"address": "172.30.61.11", "prefix": "24", "interface": "eth0"}}
"""

import ipaddress
import json
import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils.podnet_host import CommandRunner, foreign_nft_table_error, read_text

FACT_NAME = re.compile(r"^podnet(_[a-z0-9_]+)?\.fact$")


def parse_fact(text):
    """(fact dict, problem or None): the content of podnet.fact, {} when absent or broken."""
    if text is None:
        return {}, None
    try:
        fact = json.loads(text)
    except ValueError as exc:
        return {}, "is not JSON (%s)" % exc
    if not isinstance(fact, dict):
        return {}, "is not a JSON object"
    return fact, None


def fact_files(directory):
    """podnet's local fact files in DIRECTORY (podnet.fact, podnet_<concern>.fact), sorted."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return [os.path.join(directory, name) for name in sorted(names)
            if FACT_NAME.match(name)]


def default_route(routes):
    """Pure: the default route with a device and the lowest metric, or None. ROUTES is
    `ip -4 -json route show default`."""
    routes = [route for route in routes or [] if route.get("dev")]
    return min(routes, key=lambda item: item.get("metric", 0)) if routes else None


def default_ipv4(routes, links):
    """Pure: the default route's link address as setup reports it, or {} without one.
    ROUTES is `ip -4 -json route show default`, LINKS `ip -4 -json addr show dev DEV`.
    The route's preferred source wins, then the address whose network holds the gateway,
    then the link's first address."""
    route = default_route(routes)
    if route is None:
        return {}
    addresses = []
    for link in links or []:
        if link.get("ifname") == route["dev"]:
            addresses += [info for info in link.get("addr_info", []) if info.get("family") == "inet"]
    if not addresses:
        return {}
    chosen = next((info for info in addresses if info.get("local") == route.get("prefsrc")), None)
    gateway = route.get("gateway")
    if chosen is None and gateway:
        for info in addresses:
            network = ipaddress.ip_network("%s/%s" % (info["local"], info["prefixlen"]), strict=False)
            if ipaddress.ip_address(gateway) in network:
                chosen = info
                break
    chosen = chosen or addresses[0]
    result = dict(address=chosen["local"], prefix=str(chosen["prefixlen"]), interface=route["dev"])
    if gateway:
        result["gateway"] = gateway
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            address=dict(type="bool", default=False),
            fact_path=dict(type="path", default="/etc/ansible/facts.d"),
        ),
        supports_check_mode=True,
    )
    local = dict(podnet={})
    for path in fact_files(module.params["fact_path"]):
        name = os.path.basename(path)[:-len(".fact")]
        fact, problem = parse_fact(read_text(module, path))
        if problem:
            module.warn("%s %s: podnet reads it as missing (the ledger speaks for this node); "
                        "the next site.yml run writes it again" % (path, problem))
        if fact or name == "podnet":
            local[name] = fact
    facts = dict(local=local)
    runner = CommandRunner(module)
    # Before any podnet change on this node: a table inet podnet someone else made stops
    # this node here, so nothing is half-applied on it (podnet_firewall refuses it too).
    if runner.bin("nft", required=False):
        error = foreign_nft_table_error(runner.read("nft", ["-s", "list", "table", "inet", "podnet"]))
        if error:
            module.fail_json(msg="podnet_node_facts: " + error + "; nothing was changed on this node")
    if module.params["address"]:
        routes = runner.read("ip", ["-4", "route", "show", "default"], json_flag="-json")
        route = default_route(routes)
        links = runner.read("ip", ["-4", "addr", "show", "dev", route["dev"]], json_flag="-json") if route else []
        facts["default_ipv4"] = default_ipv4(routes, links)
    module.exit_json(changed=False, ansible_facts=facts)


if __name__ == "__main__":
    main()
