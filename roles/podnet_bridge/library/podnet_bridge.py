#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: podnet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge podnet's pod bridge (cbr0) with iproute2's JSON output."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: podnet_bridge
short_description: Converge podnet's pod bridge (link, IPv4 address, MTU, up)
description:
  - Reads the live link with C(ip -json -details link show) and its IPv4 addresses
    with C(ip -json -4 addr show), then adds what is missing, changes what differs and
    removes IPv4 addresses that are not declared. Nothing else is touched.
  - The bridge is podnet's own link, so with O(state=absent) it is deleted.
  - Uses iproute2 only (no pyroute2). Supports check mode truthfully.
options:
  name:
    description: Name of the bridge link.
    type: str
    default: cbr0
  address:
    description:
      - The one IPv4 address of the bridge, in C(host/prefix) form (e.g. V(10.244.1.1/24)).
      - Required when O(state=present).
    type: str
  mtu:
    description: MTU of the bridge.
    type: int
    default: 1500
  state:
    description: V(present) converges the bridge, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
author: podnet contributors
"""

EXAMPLES = r"""
- name: Bridge | converge cbr0
  podnet_bridge:
    name: cbr0
    address: 10.244.1.1/24
    mtu: 1500
"""

RETURN = r"""
actions:
  description: The iproute2 commands run (or, in check mode, that would run), in order.
  returned: always
  type: list
  elements: str
  sample: ["ip link add cbr0 type bridge forward_delay 0", "ip addr add 10.244.1.1/24 dev cbr0"]
before:
  description: Live state read before any change (null when the link did not exist).
  returned: always
  type: dict
  sample: {"kind": "bridge", "mtu": 1500, "up": true, "forward_delay": 0, "addresses": ["10.244.1.1/24"]}
"""

import ipaddress
import json

from ansible.module_utils.basic import AnsibleModule


class IpRunner:
    """Run iproute2 commands: reads always, writes only outside check mode."""

    def __init__(self, module):
        self.module = module
        self.ip = module.get_bin_path("ip", required=True)
        self.actions = []

    def read_json(self, args):
        rc, out, err = self.module.run_command([self.ip, "-json"] + args)
        if rc != 0:
            if "does not exist" in err or "Cannot find device" in err:
                return None
            self.module.fail_json(msg="'ip %s' failed: %s" % (" ".join(args), err.strip()))
        return json.loads(out) if out.strip() else []

    def change(self, args):
        self.actions.append("ip " + " ".join(args))
        if self.module.check_mode:
            return
        rc, dummy, err = self.module.run_command([self.ip] + args)
        if rc != 0:
            self.module.fail_json(
                msg="'ip %s' failed: %s" % (" ".join(args), err.strip()), actions=self.actions
            )


def read_bridge(runner, name):
    links = runner.read_json(["-details", "link", "show", "dev", name])
    if not links:
        return None
    link = links[0]
    info = link.get("linkinfo", {})
    addrs = runner.read_json(["-4", "addr", "show", "dev", name]) or []
    addresses = []
    for entry in addrs:
        for addr in entry.get("addr_info", []):
            if addr.get("family") == "inet":
                addresses.append("%s/%s" % (addr["local"], addr["prefixlen"]))
    return {
        "kind": info.get("info_kind"),
        "mtu": link.get("mtu"),
        "up": "UP" in link.get("flags", []),
        "forward_delay": info.get("info_data", {}).get("forward_delay"),
        "addresses": addresses,
    }


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", default="cbr0"),
            address=dict(type="str"),
            mtu=dict(type="int", default=1500),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        required_if=[("state", "present", ["address"])],
        supports_check_mode=True,
    )
    name = module.params["name"]
    state = module.params["state"]
    runner = IpRunner(module)
    before = read_bridge(runner, name)

    if before is not None and before["kind"] != "bridge":
        module.fail_json(
            msg="link %s exists but is a %s, not a bridge: podnet will not take it over; "
            "delete it or set podnet_bridge_name to another name" % (name, before["kind"]),
            before=before,
        )

    if state == "absent":
        if before is not None:
            runner.change(["link", "del", "dev", name])
        module.exit_json(changed=bool(runner.actions), actions=runner.actions, before=before)

    try:
        iface = ipaddress.IPv4Interface(module.params["address"])
    except ValueError as exc:
        module.fail_json(msg="address %r is not an IPv4 host/prefix: %s" % (module.params["address"], exc))
    address = "%s/%s" % (iface.ip, iface.network.prefixlen)
    mtu = module.params["mtu"]

    if before is None:
        runner.change(["link", "add", name, "type", "bridge", "forward_delay", "0"])
        runner.change(["link", "set", "dev", name, "mtu", str(mtu)])
        runner.change(["addr", "add", address, "dev", name])
        runner.change(["link", "set", "dev", name, "up"])
    else:
        if before["forward_delay"] != 0:
            runner.change(["link", "set", "dev", name, "type", "bridge", "forward_delay", "0"])
        if before["mtu"] != mtu:
            runner.change(["link", "set", "dev", name, "mtu", str(mtu)])
        # Remove stale IPv4 addresses first (e.g. the old gateway after a subnet change),
        # so the kernel never holds two pod subnets on the bridge at once.
        for stale in before["addresses"]:
            if stale != address:
                runner.change(["addr", "del", stale, "dev", name])
        if address not in before["addresses"]:
            runner.change(["addr", "add", address, "dev", name])
        if not before["up"]:
            runner.change(["link", "set", "dev", name, "up"])

    after = dict(kind="bridge", mtu=mtu, up=True, forward_delay=0, addresses=[address])
    result = dict(changed=bool(runner.actions), actions=runner.actions, before=before)
    if module._diff and runner.actions:
        result["diff"] = dict(
            before=json.dumps(before, indent=2, sort_keys=True) + "\n",
            after=json.dumps(after, indent=2, sort_keys=True) + "\n",
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
