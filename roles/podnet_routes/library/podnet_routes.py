#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: podnet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge podnet's routes (tagged with podnet's route protocol) in the main table."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: podnet_routes
short_description: Converge the IPv4 routes tagged with podnet's route protocol
description:
  - One call converges all of a host's pod routes, whatever the number of peers.
  - Reads the main table once with C(ip -json -Numeric -4 route show table main); the
    routes whose protocol is O(protocol) are podnet's. Missing declared routes are added,
    podnet routes whose gateway, device or onlink flag differ are replaced, podnet routes
    that are not declared are deleted, unchanged ones are left alone.
  - Routes of any other protocol are never touched. A declared destination already held
    by a route of another protocol (same metric 0) is a conflict and fails the module
    instead of overwriting it.
options:
  routes:
    description: The declared routes.
    type: list
    elements: dict
    default: []
    suboptions:
      dest: {description: Destination CIDR (a peer's pod subnet)., type: str, required: true}
      via: {description: Gateway IPv4 address., type: str, required: true}
      dev:
        description:
          - V(underlay) lets the kernel resolve the device from O(routes[].via) (a peer on
            a connected underlay segment); V(vxlan) sends it over O(vxlan_device) with onlink.
        type: str
        choices: [underlay, vxlan]
        default: underlay
      onlink:
        description:
          - Onlink flag. Always set for V(vxlan) routes; invalid for V(underlay) routes,
            which have no device to be onlink to.
        type: bool
        default: false
  vxlan_device:
    description: The VXLAN device that V(vxlan) routes use.
    type: str
    default: flannel.1
  protocol:
    description: Route protocol number that marks podnet's routes (1-255; default 191).
    type: int
    default: 191
  persist_path:
    description:
      - Batch file that persists the declared routes for C(ip -force -batch) at boot
        (podnet-routes.service), e.g. V(/etc/podnet/routes.batch).
      - Written atomically (root:root 0644, its directory created 0755) from the declared
        state, only when its content differs; in check mode only reported. A file edited
        by hand is rewritten. With O(state=absent) the file is removed.
      - Omitted means nothing is persisted.
    type: path
  state:
    description: V(absent) deletes every route of O(protocol) in the main table (and the batch file).
    type: str
    choices: [present, absent]
    default: present
author: podnet contributors
"""

EXAMPLES = r"""
- name: Routes | converge pod routes
  podnet_routes:
    protocol: 191
    vxlan_device: flannel.1
    persist_path: /etc/podnet/routes.batch
    routes:
      - {dest: 10.244.2.0/24, via: 192.168.1.12, dev: underlay, onlink: false}
      - {dest: 10.244.3.0/24, via: 10.244.3.0, dev: vxlan, onlink: true}
"""

RETURN = r"""
actions:
  description:
    - The ip commands run (or, in check mode, that would run), in order, followed by the
      file changes of O(persist_path) (C(write PATH), C(rm PATH), C(mkdir -m 0755 DIR)).
  returned: always
  type: list
  elements: str
  sample: ["ip route replace 10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink proto 191"]
before:
  description: Podnet's routes as found, keyed by destination.
  returned: always
  type: dict
  sample: {"10.244.2.0/24": {"via": "192.168.1.12", "dev": "eth0", "onlink": false, "metric": 0}}
summary:
  description: Counts of routes added, replaced and deleted.
  returned: always
  type: dict
  sample: {"add": 1, "replace": 0, "delete": 0}
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


def norm_dst(dst):
    if dst == "default":
        return "0.0.0.0/0"
    return str(ipaddress.IPv4Network(dst, strict=True))


def batch_content(proto, want):
    """The boot-time batch file for the declared routes (declared order)."""
    text = managed_header("podnet_routes") + (
        "# Applied at boot by podnet-routes.service with `ip -force -batch`. Every route carries\n"
        "# protocol %d (podnet), by number so it works without rt_protos.d.\n" % proto
    )
    for dest, w in want.items():
        text += "route replace %s via %s%s proto %d\n" % (
            dest, w["via"], " dev %s onlink" % w["dev"] if w["dev"] else "", proto
        )
    return text


def main():
    module = AnsibleModule(
        argument_spec=dict(
            routes=dict(
                type="list",
                elements="dict",
                default=[],
                options=dict(
                    dest=dict(type="str", required=True),
                    via=dict(type="str", required=True),
                    dev=dict(type="str", default="underlay", choices=["underlay", "vxlan"]),
                    onlink=dict(type="bool", default=False),
                ),
            ),
            vxlan_device=dict(type="str", default="flannel.1"),
            protocol=dict(type="int", default=191),
            persist_path=dict(type="path"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    proto = p["protocol"]
    if not 1 <= proto <= 255:
        module.fail_json(msg="protocol %s is not a route protocol number (1-255)" % proto)
    ip = module.get_bin_path("ip", required=True)
    actions = []
    diffs = []

    def change(args):
        actions.append("ip " + " ".join(args))
        if module.check_mode:
            return
        rc, dummy, err = module.run_command([ip] + args)
        if rc != 0:
            module.fail_json(msg="'ip %s' failed: %s" % (" ".join(args), err.strip()), actions=actions)

    want = {}
    if p["state"] == "present":
        for i, route in enumerate(p["routes"]):
            try:
                dest = norm_dst(route["dest"])
                via = str(ipaddress.IPv4Address(route["via"]))
            except ValueError as exc:
                module.fail_json(msg="routes[%d] (%s): %s" % (i, route["dest"], exc))
            if dest in want:
                module.fail_json(msg="routes: destination %s is declared twice" % dest)
            vxlan = route["dev"] == "vxlan"
            if route["onlink"] and not vxlan:
                module.fail_json(
                    msg="routes[%d] (%s): onlink needs a device; an underlay route lets the "
                    "kernel resolve its device from via, so set onlink false or dev vxlan" % (i, dest)
                )
            want[dest] = dict(
                via=via,
                dev=p["vxlan_device"] if vxlan else None,
                onlink=vxlan or route["onlink"],
            )

    rc, out, err = module.run_command([ip, "-json", "-Numeric", "-4", "route", "show", "table", "main"])
    if rc != 0:
        module.fail_json(msg="'ip route show' failed: %s" % err.strip())
    live = json.loads(out) if out.strip() else []

    ours, others = {}, {}
    for route in live:
        dest = norm_dst(route["dst"])
        entry = dict(
            via=route.get("gateway"),
            dev=route.get("dev"),
            onlink="onlink" in route.get("flags", []),
            metric=route.get("metric", 0),
            type=route.get("type", "unicast"),
        )
        if route.get("protocol") == str(proto):
            ours.setdefault(dest, []).append(entry)
        elif entry["metric"] == 0:
            others.setdefault(dest, []).append(route)

    conflicts = sorted(d for d in want if d in others)
    if conflicts:
        module.fail_json(
            msg="declared routes collide with routes podnet does not own (another protocol "
            "at metric 0): %s; remove those routes or fix the plan, podnet will not "
            "overwrite them" % ", ".join(conflicts),
            conflicts=dict((d, others[d]) for d in conflicts),
        )

    summary = dict(add=0, replace=0, delete=0)

    def spec(dest, w):
        args = [dest, "via", w["via"]]
        if w["dev"]:
            args += ["dev", w["dev"]]
        if w["onlink"]:
            args.append("onlink")
        return args + ["proto", str(proto)]

    # Deletions first: undeclared podnet routes, and podnet duplicates of a declared
    # destination at another metric (the declared one lives at metric 0).
    for dest in sorted(ours, key=lambda d: ipaddress.IPv4Network(d)):
        for entry in ours[dest]:
            if dest in want and entry["metric"] == 0:
                continue
            args = ["route", "del", dest, "proto", str(proto), "table", "main", "metric", str(entry["metric"])]
            if entry["type"] != "unicast":
                args[2:2] = [entry["type"]]
            summary["delete"] += 1
            change(args)

    for dest in sorted(want, key=lambda d: ipaddress.IPv4Network(d)):
        w = want[dest]
        live0 = [e for e in ours.get(dest, []) if e["metric"] == 0]
        if live0:
            e = live0[0]
            same = (
                e["type"] == "unicast"
                and e["via"] == w["via"]
                and e["onlink"] == w["onlink"]
                and (w["dev"] is None or e["dev"] == w["dev"])
            )
            if same:
                continue
            summary["replace"] += 1
            change(["route", "replace"] + spec(dest, w))
        else:
            summary["add"] += 1
            change(["route", "add"] + spec(dest, w))

    before = dict(
        (d, [dict((k, v) for k, v in e.items() if k != "type") for e in entries])
        for d, entries in sorted(ours.items())
    )
    if actions:
        after = dict(
            (d, [dict(via=w["via"], dev=w["dev"] or "(underlay)", onlink=w["onlink"], metric=0)])
            for d, w in sorted(want.items())
        )
        diffs.append(dict(
            before_header="podnet routes (live)", after_header="podnet routes (live)",
            before=json.dumps(before, indent=2, sort_keys=True) + "\n",
            after=json.dumps(after, indent=2, sort_keys=True) + "\n",
        ))
    if p["persist_path"]:
        content = batch_content(proto, want) if p["state"] == "present" else None
        persist_file(module, p["persist_path"], content, actions, diffs)
    result = dict(changed=bool(actions), actions=actions, before=before, summary=summary)
    if module._diff and diffs:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
