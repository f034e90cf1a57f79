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
  - Podnet marks the bridge it creates with the link alias (C(ifalias)) V(podnet-owned),
    live and in the batch file, so the mark survives a reboot.
  - A link named O(name) that carries no mark is not podnet's and is never modified. With
    O(state=present) the module fails before changing anything, naming the link and the
    fix (remove it, give podnet's bridge another O(name), or set O(adopt)). With
    O(state=absent) it is left alone and reported in RV(left_alone).
  - A bridge made by a podnet version older than the mark is recognised by podnet's own
    batch file (O(persist_path)). When the file records exactly the one IPv4 address the
    unmarked bridge carries, the bridge is podnet's, and it is marked (or deleted) like
    any podnet bridge. A bridge that merely carries the planned address is not enough;
    use O(adopt) for it.
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
  adopt:
    description:
      - With O(state=present), take over an existing bridge named O(name) that podnet
        did not create (no mark). Podnet reconfigures it and marks it as its own, so a
        later O(state=absent) deletes it.
      - V(false) refuses such a bridge. Ignored with O(state=absent), which deletes only
        podnet's own bridge.
    type: bool
    default: false
  persist_path:
    description:
      - Batch file that persists the bridge for C(ip -force -batch) at boot
        (podnet-bridge.service), e.g. V(/etc/podnet/bridge.batch).
      - Written atomically (root:root 0644, its directory created 0755) from the declared
        state, only when its content differs; in check mode only reported. A file edited
        by hand is rewritten. With O(state=absent) the file is removed.
      - Omitted means nothing is persisted.
    type: path
  state:
    description:
      - V(present) converges (and persists) the bridge.
      - V(absent) deletes podnet's bridge (and its batch file); a bridge podnet did not create is left alone.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
author: podnet contributors
"""

EXAMPLES = r"""
- name: Bridge | converge cbr0
  podnet_bridge:
    name: cbr0
    address: 10.244.1.1/24
    mtu: 1500
    persist_path: /etc/podnet/bridge.batch
"""

RETURN = r"""
actions:
  description:
    - The iproute2 commands run (or, in check mode, that would run), in order, followed by
      the file changes of O(persist_path) (C(write PATH), C(rm PATH), C(mkdir -m 0755 DIR)).
  returned: always
  type: list
  elements: str
  sample: ["ip link add cbr0 type bridge forward_delay 0", "ip link set dev cbr0 alias podnet-owned"]
before:
  description: Live state read before any change (null when the link did not exist).
  returned: always
  type: dict
  sample: {"kind": "bridge", "mtu": 1500, "up": true, "forward_delay": 0, "addresses": ["10.244.1.1/24"], "alias": "podnet-owned"}
owner:
  description:
    - Who the link O(name) belonged to before this run. V(none) (no such link), V(podnet)
      (marked), V(legacy) (made by an older podnet, proven by its batch file), V(adopted)
      (taken over through O(adopt)) or V(foreign) (not podnet's, left unmodified).
  returned: always
  type: str
  sample: podnet
left_alone:
  description: Links with podnet's name that are not podnet's and were left unmodified.
  returned: always
  type: list
  elements: str
  sample: ["cbr0"]
"""

import errno
import ipaddress
import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule


def managed_header(module_name):
    """The ansible_managed-style comment that opens every batch file podnet writes."""
    return (
        "#\n# Ansible managed: written by podnet's %s module from the declared state;\n"
        "# edits by hand are detected and overwritten on the next run.\n#\n" % module_name
    )


def _fs_args(module, path, mode):
    return module.load_file_common_arguments(dict(path=path, mode=mode, owner="root", group="root"))


def persist_file(module, path, content, actions, diffs):
    """Keep PATH (root:root 0644, in a root:root 0755 directory) holding CONTENT, or
    remove it when CONTENT is None. Writes atomically and only when the content (or an
    attribute) differs; in check mode only reports. Records every change in ACTIONS and
    a file diff in DIFFS."""
    try:
        with open(path) as handle:
            current = handle.read()
    except (IOError, OSError) as exc:
        if exc.errno != errno.ENOENT:
            module.fail_json(msg="cannot read %s: %s" % (path, exc), actions=actions)
        current = None

    if content is None:
        if current is None:
            return
        actions.append("rm %s" % path)
        diffs.append(dict(before_header=path, after_header=path, before=current, after=""))
        if not module.check_mode:
            try:
                os.unlink(path)
            except OSError as exc:
                module.fail_json(msg="cannot remove %s: %s" % (path, exc), actions=actions)
        return

    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        actions.append("mkdir -m 0755 %s" % directory)
        if not module.check_mode:
            try:
                os.makedirs(directory, 0o755)
            except OSError as exc:
                module.fail_json(msg="cannot create %s: %s" % (directory, exc), actions=actions)
    if os.path.isdir(directory) and module.set_fs_attributes_if_different(_fs_args(module, directory, "0755"), False):
        actions.append("chown root:root %s && chmod 0755 %s" % (directory, directory))

    if current != content:
        actions.append("write %s" % path)
        diffs.append(dict(before_header=path, after_header=path, before=current or "", after=content))
        if not module.check_mode:
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path))
            try:
                with os.fdopen(fd, "w") as handle:
                    handle.write(content)
            except (IOError, OSError) as exc:
                os.unlink(tmp)
                module.fail_json(msg="cannot write %s: %s" % (tmp, exc), actions=actions)
            module.atomic_move(tmp, path)
    if os.path.exists(path) and module.set_fs_attributes_if_different(_fs_args(module, path, "0644"), False):
        actions.append("chown root:root %s && chmod 0644 %s" % (path, path))


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


# The link alias (ifalias) podnet gives every link it creates: the mark that tells
# podnet's links from links of the same name that someone else made.
OWNER_MARK = "podnet-owned"


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
        "alias": link.get("ifalias", ""),
    }


def read_text(module, path):
    """The content of PATH, or None when it does not exist."""
    if not path:
        return None
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        if exc.errno != errno.ENOENT:
            module.fail_json(msg="cannot read %s: %s" % (path, exc))
        return None


def recorded_address(batch_text, name):
    """The address podnet's batch file (any podnet version) gives link NAME, or None."""
    for line in (batch_text or "").splitlines():
        words = line.split()
        if words[:2] == ["addr", "replace"] and words[3:5] == ["dev", name]:
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


def plan_bridge(name, before, state, address=None, mtu=None, adopt=False, recorded=None):
    """Pure plan: what to do with link NAME found as BEFORE (None: no such link).

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
    if not before["up"]:
        commands.append(["link", "set", "dev", name, "up"])
    return plan


def batch_content(name, address, mtu):
    """The boot-time batch file for the declared bridge (deterministic)."""
    return managed_header("podnet_bridge") + (
        "# Applied at boot by podnet-bridge.service with `ip -force -batch`; the unit creates\n"
        "# the link first when it is missing and refuses a {n} that lacks podnet's mark\n"
        "# (alias {o}), so every line here is idempotent and touches only podnet's bridge.\n"
        "link set dev {n} alias {o}\n"
        "link set dev {n} type bridge forward_delay 0\n"
        "link set dev {n} mtu {m}\n"
        "addr replace {a} dev {n}\n"
        "link set dev {n} up\n"
    ).format(n=name, m=mtu, a=address, o=OWNER_MARK)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", default="cbr0"),
            address=dict(type="str"),
            mtu=dict(type="int", default=1500),
            adopt=dict(type="bool", default=False),
            persist_path=dict(type="path"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        required_if=[("state", "present", ["address"])],
        supports_check_mode=True,
    )
    name = module.params["name"]
    state = module.params["state"]
    persist_path = module.params["persist_path"]
    mtu = module.params["mtu"]
    address = None
    if state == "present":
        try:
            iface = ipaddress.IPv4Interface(module.params["address"])
        except ValueError as exc:
            module.fail_json(msg="address %r is not an IPv4 host/prefix: %s" % (module.params["address"], exc))
        address = "%s/%s" % (iface.ip, iface.network.prefixlen)

    # Read, plan (pure), then apply: a refusal fails before anything is changed.
    runner = IpRunner(module)
    diffs = []
    before = read_bridge(runner, name)
    recorded = recorded_address(read_text(module, persist_path), name)
    plan = plan_bridge(name, before, state, address, mtu, module.params["adopt"], recorded)
    if plan["error"]:
        module.fail_json(msg=plan["error"], before=before, owner=plan["owner"], actions=[])
    for name_left in plan["left_alone"]:
        module.warn("podnet_bridge: link %s is not podnet's (no alias %s): left alone" % (name_left, OWNER_MARK))
    for args in plan["commands"]:
        runner.change(args)

    if state == "present" and runner.actions:
        after = dict(kind="bridge", mtu=mtu, up=True, forward_delay=0, addresses=[address], alias=OWNER_MARK)
        diffs.append(dict(
            before_header="%s (live)" % name, after_header="%s (live)" % name,
            before=json.dumps(before, indent=2, sort_keys=True) + "\n",
            after=json.dumps(after, indent=2, sort_keys=True) + "\n",
        ))
    if persist_path:
        content = batch_content(name, address, mtu) if state == "present" else None
        persist_file(module, persist_path, content, runner.actions, diffs)
    result = dict(
        changed=bool(runner.actions), actions=runner.actions, before=before,
        owner=plan["owner"], left_alone=plan["left_alone"],
    )
    if module._diff and diffs:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
