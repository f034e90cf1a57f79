# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The routes concern of podnet: podnet's routes (its route protocol), their files and boot step.

Read -> pure plan -> apply, shared by the module podnet_routes (which only declares its
arguments and calls `converge`) and the node agent (podnet_agent), which runs the same
`converge` in check mode to find drift and, when repair is on, for real. Standard
library only: the agent imports this file on a node without Ansible."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import re

from ansible_collections.podnet.network.plugins.module_utils.podnet_host import (
    CommandRunner,
    boot_step,
    check_route_protocol,
    finish,
    live_diff,
    managed_header,
    persist_file,
    read_named_protocols,
    retire_unit,
)

ROUTES_BATCH = "/etc/podnet/routes.batch"
PROTO_NAME = "podnet"
PROTO_FILE = "/etc/iproute2/rt_protos.d/podnet.conf"
BOOT_ORDER = 40
BOOT_CONCERN = "routes"
OLD_UNIT = "podnet-routes.service"
LINK_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")
# The metric a declared route lives at: what `ip route add` without a metric gives, 0 for
# IPv4 and 1024 for IPv6 (the kernel's IP6_RT_PRIO_USER).
DECLARED_METRIC = {4: 0, 6: 1024}
# Present whenever the kernel has IPv6 (absent with ipv6.disable=1).
IPV6_PROC = "/proc/net/if_inet6"


# --- validation (pure) ---------------------------------------------------------------
def check_protocol(protocol, named=None):
    """The error for a route protocol podnet must not claim, or None (podnet_host's
    check_protocol, naming this role's variable)."""
    return check_route_protocol(protocol, named, "podnet_routes_protocol", 191)


def norm_dst(dst, family=4):
    """A destination as podnet compares it; FAMILY says what `default` means (ip -json
    prints both 0.0.0.0/0 and ::/0 as default)."""
    if dst == "default":
        return "0.0.0.0/0" if family == 4 else "::/0"
    if family == 6:
        return str(ipaddress.IPv6Network(dst, strict=True))
    return str(ipaddress.IPv4Network(dst, strict=True))


def family_of(dest):
    """4 or 6, from a normalised destination."""
    return 6 if ":" in dest else 4


def dest_key(dest):
    """Sort key: IPv4 destinations first, in numeric order (as before), then IPv6 ones."""
    return (family_of(dest), ipaddress.ip_network(dest))


def _is_ipv6_route(route):
    return isinstance(route, dict) and ":" in str(route.get("dest", ""))


# A route's dev: the role variable naming its device (None: the kernel resolves it).
DEVICE_VARIABLES = {"underlay": None, "vxlan": "podnet_routes_vxlan_device",
                    "vxlan_ipv6": "podnet_routes_vxlan_device_ipv6"}


def check_wanted(state, routes, vxlan_device, vxlan_device_ipv6=None):
    """Check the declared routes and normalise them (pure). Returns (want, error): WANT
    maps destinations to {via, dev (None: underlay), onlink} in declared order (empty
    when state is absent); ERROR names the role variable, the culprit and the fix.
    A route's family is its destination's, and its via must be of that family. Its dev
    says the device, whatever the family: underlay (the kernel resolves it from via),
    vxlan (VXLAN_DEVICE, over the IPv4 underlay) or vxlan_ipv6 (VXLAN_DEVICE_IPV6, over
    the IPv6 underlay; needed only when some route uses it)."""
    want = {}
    if state != "present":
        return want, None
    if not isinstance(routes, list):
        return None, "podnet_routes_routes=%r is not a list of routes: give the host view's routes." % (routes,)
    names = {"vxlan": vxlan_device, "vxlan_ipv6": vxlan_device_ipv6}
    used = set(r.get("dev") for r in routes if isinstance(r, dict))
    if "vxlan" in used and not (isinstance(vxlan_device, str) and LINK_NAME_RE.match(vxlan_device)):
        return None, (
            "podnet_routes_vxlan_device=%r is not a valid link name: set it to the VXLAN device "
            "name given to podnet_vxlan (the plan's network.vxlan.device, default flannel.1)."
            % (vxlan_device,)
        )
    if "vxlan_ipv6" in used and not (isinstance(vxlan_device_ipv6, str) and LINK_NAME_RE.match(vxlan_device_ipv6)):
        return None, (
            "podnet_routes_vxlan_device_ipv6=%r is not a valid link name, and some route has dev "
            "vxlan_ipv6: set it to the VXLAN device over the IPv6 underlay given to podnet_vxlan "
            "(podnet_vxlan_device_ipv6's device, flannel-v6.<vni>)." % (vxlan_device_ipv6,)
        )
    for i, route in enumerate(routes):
        if not isinstance(route, dict) or not route.get("dest") or not route.get("via"):
            return None, (
                "podnet_routes_routes[%d]=%r is not {\"dest\": CIDR, \"via\": address of its "
                "family, \"dev\": \"underlay\", \"vxlan\" or \"vxlan_ipv6\", \"onlink\": bool}: "
                "fix that entry (the host view's routes)." % (i, route)
            )
        family = 6 if _is_ipv6_route(route) else 4
        try:
            dest = norm_dst(str(route["dest"]).strip(), family)
        except ValueError as exc:
            return None, (
                "podnet_routes_routes[%d].dest=%r is not an IPv%d network (%s): give the peer's "
                "pod subnet, e.g. %s." % (i, route["dest"], family, exc,
                                          "10.244.2.0/24" if family == 4 else "fd00:10:244:2::/64")
            )
        try:
            via_ip = (ipaddress.IPv4Address if family == 4 else ipaddress.IPv6Address)(str(route["via"]).strip())
            via = str(via_ip)
        except ValueError:
            return None, (
                "podnet_routes_routes[%d].via=%r (%s) is not an IPv%d address: give the peer's "
                "underlay address (underlay) or VTEP address (vxlan, vxlan_ipv6) of the "
                "destination's family." % (i, route["via"], dest, family)
            )
        dev = route.get("dev", "underlay")
        if dev not in DEVICE_VARIABLES:
            return None, (
                "podnet_routes_routes[%d].dev=%r (%s) must be underlay (the kernel resolves the "
                "device from via), vxlan (over podnet_routes_vxlan_device) or vxlan_ipv6 (over "
                "podnet_routes_vxlan_device_ipv6)." % (i, dev, dest)
            )
        onlink = route.get("onlink", False)
        if not isinstance(onlink, bool):
            return None, "podnet_routes_routes[%d].onlink=%r (%s) must be true or false." % (i, onlink, dest)
        if onlink and dev == "underlay":
            return None, (
                "podnet_routes_routes[%d] (%s): onlink needs a device; an underlay route lets the "
                "kernel resolve its device from via, so set onlink false or dev vxlan." % (i, dest)
            )
        if family == 6 and dev == "underlay" and via_ip.is_link_local:
            return None, (
                "podnet_routes_routes[%d].via=%s (%s) is link-local: an underlay route has no "
                "device to scope it to; give the peer's global or ULA underlay IPv6 address."
                % (i, via, dest)
            )
        if dest in want:
            return None, (
                "podnet_routes_routes declares destination %s twice (entry %d): one route per "
                "peer pod subnet; remove the duplicate." % (dest, i)
            )
        tunnel = dev != "underlay"
        want[dest] = dict(via=via, dev=names[dev] if tunnel else None, onlink=tunnel or onlink)
    return want, None


# --- the plan (pure) -----------------------------------------------------------------
def ip_route(dest):
    """The command's head: ``ip route`` for IPv4 (as before), ``ip -6 route`` for IPv6."""
    return ["ip", "route"] if family_of(dest) == 4 else ["ip", "-6", "route"]


def parse_routes(live, protocol, family=4):
    """Split ``ip -json -Numeric -4 route show table main`` (FAMILY 6: ``-6``) into
    podnet's routes ({dest: [{via, dev, onlink, metric, type}]}) and other protocols'
    routes at the declared metric ({dest: [route]})."""
    ours, others = {}, {}
    declared = DECLARED_METRIC[family]
    for route in live or []:
        dest = norm_dst(route["dst"], family)
        entry = dict(
            via=route.get("gateway"),
            dev=route.get("dev"),
            onlink="onlink" in route.get("flags", []),
            metric=route.get("metric", 0),
            type=route.get("type", "unicast"),
        )
        if str(route.get("protocol")) == str(protocol):
            ours.setdefault(dest, []).append(entry)
        elif entry["metric"] == declared:
            others.setdefault(dest, []).append(route)
    return ours, others


def batch_content(protocol, want):
    """The boot-time batch file for the declared routes (declared order)."""
    text = managed_header("podnet_routes") + (
        "# Applied at boot by podnet.service (step 40-routes) with `ip -force -batch`. Every\n"
        "# route carries protocol %d (podnet), by number so it works without rt_protos.d.\n" % protocol
    )
    for dest, w in want.items():
        text += "route replace %s via %s%s proto %d\n" % (
            dest, w["via"], " dev %s onlink" % w["dev"] if w["dev"] else "", protocol
        )
    return text


def proto_name_content(protocol):
    """/etc/iproute2/rt_protos.d/podnet.conf: `ip route show proto podnet` works."""
    return managed_header("podnet_routes") + (
        "# Route protocol that tags podnet's routes (`ip route show proto podnet`).\n"
        "%d %s\n" % (protocol, PROTO_NAME)
    )


def boot_script():
    return (
        "# Replayed by podnet.service at boot, after the bridge and the VXLAN device exist.\n"
        "ip -force -batch %s\n" % ROUTES_BATCH
    )


def plan(live, want, protocol, state="present", live6=None):
    """From LIVE routes (``ip -json -Numeric -4 route show table main``), LIVE6 (the same
    with ``-6``; None: not read) and WANT (check_wanted) to the ordered ip commands, the
    files ({path: content or None}), the boot step script (or None), and what the run
    reports. Pure: no host, no Ansible."""
    ours, others = parse_routes(live, protocol)
    ours6, others6 = parse_routes(live6, protocol, 6)
    ours.update(ours6)
    others.update(others6)
    proto = str(protocol)
    summary = dict(add=0, replace=0, delete=0)
    before = dict(
        (d, [dict((k, v) for k, v in e.items() if k != "type") for e in entries])
        for d, entries in sorted(ours.items())
    )
    result = dict(error=None, conflicts={}, commands=[], files={}, boot=None, summary=summary,
                  before=before, after=None)
    conflicts = sorted(d for d in want if d in others)
    if conflicts:
        result["conflicts"] = dict((d, others[d]) for d in conflicts)
        result["error"] = (
            "podnet_routes_routes collide with routes podnet does not own (another protocol at "
            "metric 0): %s; remove those routes or fix the plan, podnet will not overwrite "
            "them" % ", ".join(sorted(conflicts, key=dest_key))
        )
        return result

    def spec(dest, w):
        args = [dest, "via", w["via"]]
        if w["dev"]:
            args += ["dev", w["dev"]]
        if w["onlink"]:
            args.append("onlink")
        return args + ["proto", proto]

    cmds = result["commands"]
    # Deletions first: undeclared podnet routes, and podnet duplicates of a declared
    # destination at another metric (the declared one lives at metric 0).
    for dest in sorted(ours, key=dest_key):
        for entry in ours[dest]:
            if dest in want and entry["metric"] == DECLARED_METRIC[family_of(dest)]:
                continue
            args = ip_route(dest) + ["del", dest, "proto", proto, "table", "main", "metric", str(entry["metric"])]
            if entry["type"] != "unicast":
                args[-7:-7] = [entry["type"]]  # before the destination
            summary["delete"] += 1
            cmds.append(args)

    for dest in sorted(want, key=dest_key):
        w = want[dest]
        live0 = [e for e in ours.get(dest, []) if e["metric"] == DECLARED_METRIC[family_of(dest)]]
        if live0:
            e = live0[0]
            if (e["type"] == "unicast" and e["via"] == w["via"] and e["onlink"] == w["onlink"]
                    and (w["dev"] is None or e["dev"] == w["dev"])):
                continue
            summary["replace"] += 1
            if family_of(dest) == 6 and w["onlink"] and e["dev"] != w["dev"]:
                # The kernel refuses an IPv6 onlink route whose gateway another route
                # reaches over another device ("Nexthop has invalid gateway or device
                # mismatch"): the route being replaced is such a route (a VXLAN peer's
                # VTEP lies in its own pod prefix). Delete it first.
                cmds.append(ip_route(dest) + ["del", dest, "proto", proto, "table", "main", "metric",
                                              str(e["metric"])])
                cmds.append(ip_route(dest) + ["add"] + spec(dest, w))
                continue
            cmds.append(ip_route(dest) + ["replace"] + spec(dest, w))
        else:
            summary["add"] += 1
            cmds.append(ip_route(dest) + ["add"] + spec(dest, w))

    result["after"] = dict(
        (d, [dict(via=w["via"], dev=w["dev"] or "(underlay)", onlink=w["onlink"],
                  metric=DECLARED_METRIC[family_of(d)])])
        for d, w in sorted(want.items())
    )
    present = state == "present"
    result["files"] = {
        ROUTES_BATCH: batch_content(protocol, want) if present else None,
        PROTO_FILE: proto_name_content(protocol) if present else None,
    }
    result["boot"] = boot_script() if present else None
    return result


# --- apply ---------------------------------------------------------------------------


# The module's arguments (AnsibleModule's argument_spec; the agent fills defaults from it).
ARGUMENT_SPEC = dict(
    routes=dict(type="list", elements="dict", default=[]),
    vxlan_device=dict(type="str", default="flannel.1"),
    # Dual stack: the VXLAN device over the IPv6 underlay, of the routes with dev
    # vxlan_ipv6 (needed only when some route has it).
    vxlan_device_ipv6=dict(type="str"),
    protocol=dict(type="int", default=191),
    state=dict(type="str", default="present", choices=["present", "absent"]),
)


def converge(module):
    """Read, plan (pure) and apply with MODULE (an AnsibleModule, or the agent's stand-in
    with the same surface); ends in module.exit_json (finish) or module.fail_json."""
    p = module.params
    protocol = p["protocol"]
    error = check_protocol(protocol, read_named_protocols(module, PROTO_FILE))
    want = None
    if not error:
        want, error = check_wanted(p["state"], p["routes"], p["vxlan_device"], p.get("vxlan_device_ipv6"))
    if error:
        module.fail_json(msg=error, actions=[])

    runner = CommandRunner(module)
    live = runner.read("ip", ["-Numeric", "-4", "route", "show", "table", "main"], "-json")
    # IPv6 routes of podnet's protocol are read wherever the kernel has IPv6, so that a
    # stale one goes even when no IPv6 route is declared any more.
    live6 = (runner.read("ip", ["-Numeric", "-6", "route", "show", "table", "main"], "-json")
             if os.path.exists(IPV6_PROC) else None)
    result = plan(live, want, protocol, p["state"], live6)
    if result["error"]:
        module.fail_json(msg=result["error"], conflicts=result["conflicts"], actions=[])

    diffs = []
    for command in result["commands"]:
        runner.change(command[0], command[1:])
    if runner.actions:
        live_diff(diffs, "podnet routes", result["before"], result["after"])
    for path in (ROUTES_BATCH, PROTO_FILE):
        persist_file(module, path, result["files"][path], runner.actions, diffs)
    boot_step(module, BOOT_ORDER, BOOT_CONCERN, result["boot"], runner.actions, diffs)
    retire_unit(module, OLD_UNIT, runner.actions, diffs)
    finish(module, runner.actions, diffs, before=result["before"], summary=result["summary"])
