# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bridge concern of podnet: the pod bridge, its batch file and boot step.

Read -> pure plan -> apply, shared by the module podnet_bridge (which only declares its
arguments and calls `converge`) and the node agent (podnet_agent), which runs the same
`converge` in check mode to find drift and, when repair is on, for real. Standard
library only: the agent imports this file on a node without Ansible."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import re

from ansible_collections.podnet.network.plugins.module_utils.podnet_host import (
    BOOT_DIR, OWNER_MARK, CommandRunner, as_int, boot_step, boot_step_path, disable_ipv6_path,
    finish, live_diff, managed_header, persist_file, read_disable_ipv6, read_ipv6_addresses,
    read_text, remove_emptied_directory, retire_unit, write_proc,
)
# Re-exported: the bridge's tests read it from here (it lives in podnet_host since the
# WireGuard concern gives its device an IPv6 address too).
from ansible_collections.podnet.network.plugins.module_utils.podnet_host import (  # noqa: F401 pylint: disable=unused-import
    parse_ipv6_addresses,
)

# podnet.service replays the boot steps in name order: the bridge before the overlay.
BOOT_ORDER = 20
BOOT_CONCERN = "bridge"
# The per-concern unit older podnet versions installed; podnet.service replaces it.
OLD_UNIT = "podnet-bridge.service"
LINK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")


def check_params(name, state, address=None, mtu=None):
    """Pure check of the inputs' meaning. Returns (error message or None, the address
    normalised to host/prefix, the MTU as an int). Messages name the role variable, the
    culprit and the fix."""
    if not isinstance(name, str) or not LINK_NAME.match(name):
        return ("podnet_bridge_name=%r is not a valid link name: use 1-15 characters from "
                "A-Z a-z 0-9 _ . - (default cbr0)" % (name,)), None, None
    if state != "present":
        return None, None, None
    try:
        iface = ipaddress.IPv4Interface(address or "")
    except ValueError:
        iface = None
    if iface is None or "/" not in (address or ""):
        return ("podnet_bridge_address=%r is not an IPv4 host/prefix: set it to the pod "
                "subnet's gateway such as 10.244.1.1/24 (the plan's `bridge_address` for this "
                "host)" % (address,)), None, None
    net = iface.network
    if net.prefixlen < 31 and iface.ip in (net.network_address, net.broadcast_address):
        return ("podnet_bridge_address=%s is the network or broadcast address of %s, not a "
                "host address: use the pod subnet's gateway such as %s/%d"
                % (address, net, net.network_address + 1, net.prefixlen)), None, None
    number = as_int(mtu)
    if number is None or not 68 <= number <= 65535:
        return ("podnet_bridge_mtu=%r must be an integer between 68 and 65535 (the plan's "
                "`mtu` for this host)" % (mtu,)), None, None
    return None, "%s/%d" % (iface.ip, net.prefixlen), number


def check_ipv6(address_ipv6):
    """Pure check of the optional IPv6 address. Returns (error or None, the address
    normalised to host/prefix as ip prints it, or None when not given)."""
    if address_ipv6 is None:
        return None, None
    text = str(address_ipv6)
    try:
        iface = ipaddress.IPv6Interface(text)
    except ValueError:
        iface = None
    if iface is None or "/" not in text:
        return ("podnet_bridge_address_ipv6=%r is not an IPv6 host/prefix: set it to the IPv6 pod "
                "subnet's gateway such as fd00:10:244:1::1/64 (the plan's gateway_ipv6 and its "
                "prefix for this host), or null for an IPv4-only bridge" % (address_ipv6,)), None
    net = iface.network
    if net.prefixlen < 127 and iface.ip == net.network_address:
        return ("podnet_bridge_address_ipv6=%s is the subnet-router anycast address of %s, not a "
                "host address: use the IPv6 pod subnet's gateway such as %s/%d"
                % (address_ipv6, net, net.network_address + 1, net.prefixlen)), None
    return None, "%s/%d" % (iface.ip, net.prefixlen)


def parse_bridge(links, addrs):
    """The live state of a link from `ip -json -details link show dev NAME` (LINKS) and
    `ip -json -4 addr show dev NAME` (ADDRS), or None when there is no such link."""
    if not links:
        return None
    link = links[0]
    info = link.get("linkinfo", {})
    addresses = []
    for entry in addrs or []:
        for addr in entry.get("addr_info", []):
            if addr.get("family") == "inet":
                addresses.append("%s/%s" % (addr["local"], addr["prefixlen"]))
    return {
        "kind": info.get("info_kind"),
        "mtu": link.get("mtu"),
        "up": "UP" in link.get("flags", []),
        "forward_delay": info.get("info_data", {}).get("forward_delay"),
        "addresses": addresses,
        "alias": link.get("ifalias", ""),
    }


def read_bridge(runner, name):
    links = runner.read("ip", ["-details", "link", "show", "dev", name], json_flag="-json")
    if not links:
        return None
    addrs = runner.read("ip", ["-4", "addr", "show", "dev", name], json_flag="-json")
    return parse_bridge(links, addrs)


def recorded_address(batch_text, name):
    """The address podnet's batch file (any podnet version) gives link NAME, or None."""
    for line in (batch_text or "").splitlines():
        words = line.split()
        if words[:2] == ["addr", "replace"] and words[3:5] == ["dev", name] and ":" not in words[2]:
            return words[2]
    return None


def recorded_address_ipv6(batch_text, name):
    """The IPv6 address podnet's batch file gives link NAME (the one IPv6 address podnet
    put there and may remove again), or None."""
    for line in (batch_text or "").splitlines():
        words = line.split()
        if words[:2] == ["addr", "replace"] and words[3:5] == ["dev", name] and ":" in words[2]:
            return words[2]
    return None


def bridge_owner(before, recorded):
    """Who the existing link BEFORE belongs to: 'podnet' (a bridge with podnet's mark),
    'legacy' (an unmarked bridge made by a podnet version older than the mark: podnet's
    own batch file records exactly the one address it carries) or 'foreign'."""
    if before.get("kind") != "bridge":
        return "foreign"
    if before.get("alias") == OWNER_MARK:
        return "podnet"
    if recorded is not None and before.get("addresses") == [recorded]:
        return "legacy"
    return "foreign"


def refusal(name, before):
    """The message of a refused take-over: names the link and every fix."""
    if before.get("kind") != "bridge":
        return (
            "link %s exists but is a %s, not a bridge: podnet will not take it over and left "
            "it unmodified; delete it or set podnet_bridge_name to another name" % (name, before.get("kind"))
        )
    return (
        "link %s exists but podnet did not create it (its alias is %r, not %r, and podnet's "
        "batch file does not record its addresses %s): podnet left it unmodified. Remove it "
        "(ip link del %s), give podnet's bridge another name (podnet_bridge_name), or set "
        "podnet_bridge_adopt: true to let podnet take it over and mark it as its own"
        % (name, before.get("alias", ""), OWNER_MARK, before.get("addresses"), name)
    )


def plan_bridge(name, before, state, address=None, mtu=None, adopt=False, recorded=None,
                address_ipv6=None, live_ipv6=None, recorded_ipv6=None, disable_ipv6=None):
    """Pure plan: what to do with link NAME found as BEFORE (None: no such link).

    IPv6: ADDRESS_IPV6 is the wanted second address (None: none), LIVE_IPV6 the bridge's
    global IPv6 addresses, RECORDED_IPV6 the one podnet's batch file gave it: podnet adds
    its address (nodad: no duplicate address detection delay, the subnet is this node's
    alone) and removes only the one it recorded, never another IPv6 address. DISABLE_IPV6
    is the bridge's disable_ipv6 ('1': IPv6 off on it, switched on first, as the pseudo
    command ["sysctl", path, "0"]; a new bridge takes the host's default, so it is
    switched on whenever an IPv6 address is wanted).

    Returns a dict: owner (none|podnet|legacy|adopted|foreign), commands (ip argument
    lists, in order), error (a message when the module must fail before any change) and
    left_alone (names of links that are not podnet's and stay untouched)."""
    plan = dict(owner="none", commands=[], error=None, left_alone=[])
    if before is not None:
        plan["owner"] = bridge_owner(before, recorded)
    if state == "absent":
        if before is None:
            return plan
        if plan["owner"] == "foreign":
            plan["left_alone"] = [name]
        else:
            plan["commands"].append(["link", "del", "dev", name])
        return plan

    commands = plan["commands"]
    if before is None:
        commands.append(["link", "add", name, "type", "bridge", "forward_delay", "0"])
        commands.append(["link", "set", "dev", name, "alias", OWNER_MARK])
        commands.append(["link", "set", "dev", name, "mtu", str(mtu)])
        commands.append(["addr", "add", address, "dev", name])
        if address_ipv6:
            commands.append(["sysctl", disable_ipv6_path(name), "0"])
            commands.append(["addr", "add", address_ipv6, "dev", name, "nodad"])
        commands.append(["link", "set", "dev", name, "up"])
        return plan
    if before.get("kind") != "bridge" or (plan["owner"] == "foreign" and not adopt):
        plan["error"] = refusal(name, before)
        return plan
    if plan["owner"] == "foreign":
        plan["owner"] = "adopted"
    if before.get("alias") != OWNER_MARK:
        commands.append(["link", "set", "dev", name, "alias", OWNER_MARK])
    if before["forward_delay"] != 0:
        commands.append(["link", "set", "dev", name, "type", "bridge", "forward_delay", "0"])
    if before["mtu"] != mtu:
        commands.append(["link", "set", "dev", name, "mtu", str(mtu)])
    # Remove stale IPv4 addresses first (e.g. the old gateway after a subnet change),
    # so the kernel never holds two pod subnets on the bridge at once.
    for stale in before["addresses"]:
        if stale != address:
            commands.append(["addr", "del", stale, "dev", name])
    if address not in before["addresses"]:
        commands.append(["addr", "add", address, "dev", name])
    live_ipv6 = live_ipv6 or []
    if recorded_ipv6 and recorded_ipv6 != address_ipv6 and recorded_ipv6 in live_ipv6:
        commands.append(["addr", "del", recorded_ipv6, "dev", name])
    if address_ipv6 and disable_ipv6 != "0":
        commands.append(["sysctl", disable_ipv6_path(name), "0"])
    if address_ipv6 and address_ipv6 not in live_ipv6:
        commands.append(["addr", "add", address_ipv6, "dev", name, "nodad"])
    if not before["up"]:
        commands.append(["link", "set", "dev", name, "up"])
    return plan


def batch_content(name, address, mtu, address_ipv6=None):
    """The boot-time batch file for the declared bridge (deterministic)."""
    text = managed_header("podnet_bridge") + (
        "# Applied at boot with `ip -force -batch` by podnet.service's bridge step, which\n"
        "# creates the link first when it is missing and refuses a {n} that lacks podnet's\n"
        "# mark (alias {o}): every line here is idempotent and touches only podnet's\n"
        "# bridge.\n"
        "link set dev {n} alias {o}\n"
        "link set dev {n} type bridge forward_delay 0\n"
        "link set dev {n} mtu {m}\n"
        "addr replace {a} dev {n}\n"
        "link set dev {n} up\n"
    ).format(n=name, m=mtu, a=address, o=OWNER_MARK)
    if address_ipv6:
        # Before `link set up`: with nodad the address is usable at once.
        text = text.replace("link set dev %s up\n" % name,
                            "addr replace %s dev %s nodad\nlink set dev %s up\n" % (address_ipv6, name, name))
    return text


def boot_script(name, batch_path, ipv6=False):
    """The bridge's boot step (run by podnet.service with /bin/sh -e): create the marked
    bridge when it is missing, refuse a link of that name without the mark (the step
    fails and the link is left untouched), switch IPv6 on on it when it carries an IPv6
    address (IPV6), then apply the batch file."""
    text = (
        "# Bridge {n}: create it (marked {o}) when missing; a {n} without the mark is not\n"
        "# podnet's: fail and leave it untouched. Then apply {b}.\n"
        "if ip link show dev {n} >/dev/null 2>&1; then\n"
        "  grep -qsx {o} /sys/class/net/{n}/ifalias || {{\n"
        "    echo \"podnet: link {n} exists without the alias {o}: not podnet-made, left alone\" >&2\n"
        "    exit 1\n"
        "  }}\n"
        "else\n"
        "  ip link add {n} type bridge forward_delay 0\n"
        "  ip link set dev {n} alias {o}\n"
        "fi\n"
        "ip -force -batch {b}\n"
    ).format(n=name, o=OWNER_MARK, b=batch_path)
    if ipv6:
        text = text.replace("ip -force -batch", "echo 0 > %s\nip -force -batch" % disable_ipv6_path(name))
    return text


# The module's arguments (AnsibleModule's argument_spec; the agent fills defaults from it).
ARGUMENT_SPEC = dict(
    name=dict(type="str", default="cbr0"),
    address=dict(type="str"),
    # Checked (and converted) by check_params, whose message names the role variable.
    mtu=dict(type="raw", default=1500),
    adopt=dict(type="bool", default=False),
    persist_path=dict(type="path", default="/etc/podnet/bridge.batch"),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    # Dual stack: the bridge's IPv6 address (host/prefix); None keeps the bridge IPv4 only.
    address_ipv6=dict(type="str"),
)


def converge(module):
    """Read, plan (pure) and apply with MODULE (an AnsibleModule, or the agent's stand-in
    with the same surface); ends in module.exit_json (finish) or module.fail_json."""
    params = module.params
    name, state, persist_path = params["name"], params["state"], params["persist_path"]
    error, address, mtu = check_params(name, state, params["address"], params["mtu"])
    address_ipv6 = None
    if not error and state == "present":
        error, address_ipv6 = check_ipv6(params.get("address_ipv6"))
    if error:
        module.fail_json(msg=error, actions=[])

    # Read, plan (pure), then apply: a refusal fails before anything is changed.
    runner = CommandRunner(module)
    actions, diffs = runner.actions, []
    before = read_bridge(runner, name)
    batch_text = read_text(module, persist_path)
    recorded = recorded_address(batch_text, name)
    recorded_ipv6 = recorded_address_ipv6(batch_text, name)
    # IPv6 is read only where podnet has or wants an IPv6 address (an IPv4-only run is as before).
    live_ipv6 = (read_ipv6_addresses(runner, name)
                 if before is not None and (address_ipv6 or recorded_ipv6) else [])
    disable_ipv6 = read_disable_ipv6(module, name) if before is not None and address_ipv6 else None
    plan = plan_bridge(name, before, state, address, mtu, params["adopt"], recorded,
                       address_ipv6, live_ipv6, recorded_ipv6, disable_ipv6)
    if plan["error"]:
        module.fail_json(msg=plan["error"], before=before, owner=plan["owner"], actions=[])
    for name_left in plan["left_alone"]:
        module.warn("podnet_bridge: link %s is not podnet's (no alias %s): left alone" % (name_left, OWNER_MARK))
    for args in plan["commands"]:
        if args[0] == "sysctl":
            write_proc(module, args[1], args[2], actions)
        else:
            runner.change("ip", args)

    if state == "present":
        if actions:
            after = dict(kind="bridge", mtu=mtu, up=True, forward_delay=0, addresses=[address], alias=OWNER_MARK)
            shown = before
            if address_ipv6 or recorded_ipv6:
                after["addresses_ipv6"] = [a for a in live_ipv6 if a != recorded_ipv6]
                if address_ipv6 and address_ipv6 not in after["addresses_ipv6"]:
                    after["addresses_ipv6"].append(address_ipv6)
                shown = dict(before or {}, addresses_ipv6=live_ipv6) if before is not None else None
            live_diff(diffs, name, shown, after)
        persist_file(module, persist_path, batch_content(name, address, mtu, address_ipv6), actions, diffs)
        boot_step(module, BOOT_ORDER, BOOT_CONCERN, boot_script(name, persist_path, bool(address_ipv6)),
                  actions, diffs)
    else:
        persist_file(module, persist_path, None, actions, diffs)
        boot_step(module, BOOT_ORDER, BOOT_CONCERN, None, actions, diffs)
        # /etc/podnet goes once nothing is left in it (another role's or the operator's
        # file keeps it); in check mode the files removed above are still there.
        gone = set([persist_path, boot_step_path(BOOT_ORDER, BOOT_CONCERN)])
        if not os.path.isdir(BOOT_DIR) or "rmdir %s" % BOOT_DIR in actions:
            gone.add(BOOT_DIR)
        remove_emptied_directory(module, os.path.dirname(persist_path), actions, gone)
    retire_unit(module, OLD_UNIT, actions, diffs)
    finish(module, actions, diffs, before=before, owner=plan["owner"], left_alone=plan["left_alone"])
