# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sysctl concern of podnet: the kernel settings (forwarding, rp_filter, neighbour thresholds).

Read -> pure plan -> apply, shared by the module podnet_sysctl (which only declares its
arguments and calls `converge`) and the node agent (podnet_agent), which runs the same
`converge` in check mode to find drift and, when repair is on, for real. Standard
library only: the agent imports this file on a node without Ansible."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.podnet.network.plugins.module_utils.podnet_host import as_bool, as_int, finish, live_diff, managed_header, persist_file

PROC_SYS = "/proc/sys"
CONF_FILE = "/etc/sysctl.d/60-podnet.conf"
NEIGH_FILE = "/etc/sysctl.d/60-podnet-neigh.conf"
GC_KEYS = ("gc_thresh1", "gc_thresh2", "gc_thresh3")
NEIGH_PREFIX = "net.ipv4.neigh.default."
# Keys that exist only in the host's initial network namespace (not in a container's).
NEIGH_KEYS = tuple(NEIGH_PREFIX + key for key in GC_KEYS)
IPV6_FORWARD_KEY = "net.ipv6.conf.all.forwarding"
LINK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")


def accept_ra_key(interface):
    """The accept_ra key of INTERFACE; a name with a dot (a VLAN such as eth0.100) takes
    sysctl's slash form, which sysctl.d and /proc/sys both read unambiguously."""
    if "." in interface:
        return "net/ipv6/conf/%s/accept_ra" % interface
    return "net.ipv6.conf.%s.accept_ra" % interface


def check_ipv6(ipv6_forward, accept_ra_interfaces):
    """Pure check of the IPv6 inputs. Returns (errors, wanted {key: text}); both empty
    when IPv6 forwarding is not managed (IPV6_FORWARD None)."""
    if ipv6_forward is None:
        return [], {}
    errors = []
    forward = as_bool(ipv6_forward)
    if forward is None:
        errors.append("podnet_sysctl_ipv6_forward=%r must be a boolean: true (the node routes IPv6 "
                      "pod traffic), false, or null to leave IPv6 forwarding alone" % (ipv6_forward,))
    interfaces = accept_ra_interfaces or []
    bad = [name for name in interfaces if not isinstance(name, str) or not LINK_NAME.match(name)
           or name in ("all", "default", "lo")]
    if not isinstance(interfaces, list) or bad:
        errors.append("podnet_sysctl_ipv6_accept_ra_interfaces=%r must be a list of the underlay's "
                      "interface names (1-15 characters from A-Z a-z 0-9 _ . -, not all, default "
                      "or lo), e.g. [eth0]%s" % (accept_ra_interfaces, " (not: %r)" % bad if bad else ""))
    if errors:
        return errors, None
    wanted = {IPV6_FORWARD_KEY: "1" if forward else "0"}
    if forward:
        # With forwarding on, the kernel ignores router advertisements unless accept_ra is
        # 2: a host that learns its default route from them would lose it.
        for name in interfaces:
            wanted[accept_ra_key(name)] = "2"
    return [], wanted


def check_params(ip_forward, rp_filter, gc_thresh):
    """Pure check of the inputs' meaning. Returns (errors, wanted {key: value as text}).
    Every error names the role variable, what it holds and the fix."""
    errors = []
    forward = as_bool(ip_forward)
    if forward is None:
        errors.append("podnet_sysctl_ip_forward=%r must be a boolean: true (a pod network host "
                      "routes pod traffic; the default) or false" % (ip_forward,))
    rp = as_int(rp_filter)
    if rp not in (0, 1, 2):
        errors.append("podnet_sysctl_rp_filter=%r must be 0 (off), 1 (strict) or 2 (loose, what "
                      "podnet's asymmetric paths need): keep the default 2" % (rp_filter,))
    gc = None
    if isinstance(gc_thresh, dict) and sorted(gc_thresh) == list(GC_KEYS):
        gc = [as_int(gc_thresh[key]) for key in GC_KEYS]
        if None in gc or min(gc) <= 0 or not gc[0] <= gc[1] <= gc[2]:
            gc = None
    if gc is None:
        errors.append("podnet_sysctl_neigh_gc_thresh=%r must be a dict of exactly gc_thresh1, "
                      "gc_thresh2, gc_thresh3, positive integers with gc_thresh1 <= gc_thresh2 "
                      "<= gc_thresh3: pass the planner's neigh_gc_thresh (or the kernel "
                      "defaults 128/512/1024)" % (gc_thresh,))
    if errors:
        return errors, None
    wanted = {
        "net.ipv4.ip_forward": "1" if forward else "0",
        "net.ipv4.conf.all.rp_filter": str(rp),
        "net.ipv4.conf.default.rp_filter": str(rp),
    }
    for key, value in zip(NEIGH_KEYS, gc):
        wanted[key] = str(value)
    return [], wanted


def key_path(key):
    """net.ipv4.ip_forward -> /proc/sys/net/ipv4/ip_forward (a key in slash form, such as
    net/ipv6/conf/eth0.100/accept_ra, splits on the slashes only)."""
    return os.path.join(PROC_SYS, *key.split("/" if "/" in key else "."))


def normalise(value):
    """Compare values the way sysctl prints them: whitespace-separated fields."""
    return " ".join(str(value).split())


def plan_live(wanted, live):
    """Pure plan of the live values: WANTED {key: text}, LIVE {key: text, or None when the
    key does not exist here}. Returns {"set": {key: {before, after}}, "missing": [keys],
    "error": message or None}; only neighbour keys may be missing."""
    plan = {"set": {}, "missing": [], "error": None}
    for key in sorted(wanted):
        current = live.get(key)
        if current is None:
            if key in NEIGH_KEYS:
                plan["missing"].append(key)
                continue
            if key.endswith("accept_ra"):
                interface = key.split("/" if "/" in key else ".")[3]
                plan["error"] = (
                    "podnet_sysctl_ipv6_accept_ra_interfaces names %s, but this host has no such "
                    "interface with IPv6 (%s is absent): give the underlay's interface names"
                    % (interface, key_path(key)))
                return plan
            if key.startswith("net.ipv6."):
                plan["error"] = (
                    "sysctl key %s does not exist (%s is absent): IPv6 is disabled in this kernel "
                    "or network namespace (ipv6.disable=1); enable it or set "
                    "podnet_sysctl_ipv6_forward to null" % (key, key_path(key)))
                return plan
            plan["error"] = "sysctl key %s does not exist (%s is absent): this kernel cannot run podnet" % (
                key, key_path(key))
            return plan
        if normalise(current) != wanted[key]:
            plan["set"][key] = {"before": normalise(current), "after": wanted[key]}
    return plan


def file_contents(wanted):
    """The two sysctl.d files (path -> content), deterministic."""
    conf = managed_header("podnet_sysctl") + (
        "# podnet: kernel settings every pod network host needs (role podnet_sysctl).\n"
        "net.ipv4.ip_forward = {f}\n"
        "net.ipv4.conf.all.rp_filter = {rp}\n"
        "net.ipv4.conf.default.rp_filter = {rp}\n"
    ).format(f=wanted["net.ipv4.ip_forward"], rp=wanted["net.ipv4.conf.all.rp_filter"])
    if IPV6_FORWARD_KEY in wanted:
        conf += "# IPv6 forwarding; accept_ra = 2 keeps router advertisements on the underlay.\n"
        conf += "%s = %s\n" % (IPV6_FORWARD_KEY, wanted[IPV6_FORWARD_KEY])
        conf += "".join("%s = %s\n" % (key, wanted[key]) for key in sorted(wanted)
                        if key.endswith("accept_ra"))
    neigh = managed_header("podnet_sysctl") + (
        "# podnet: neighbour table size for the fleet (role podnet_sysctl).\n"
        "# These keys exist only in the host's initial network namespace; the leading '-' makes\n"
        "# systemd-sysctl skip them quietly where they are absent (e.g. inside a container).\n"
    ) + "".join("-%s = %s\n" % (key, wanted[key]) for key in NEIGH_KEYS)
    return {CONF_FILE: conf, NEIGH_FILE: neigh}


def missing_warning(missing):
    return ("podnet_sysctl: %s do not exist in this network namespace (a container has no "
            "neighbour table thresholds of its own), so they were not applied live; %s keeps "
            "them for hosts that have them." % (", ".join(missing), NEIGH_FILE))


def read_live(module, keys):
    live = {}
    for key in keys:
        path = key_path(key)
        if not os.path.exists(path):
            live[key] = None
            continue
        try:
            with open(path) as handle:
                live[key] = handle.read()
        except (IOError, OSError) as exc:
            module.fail_json(msg="cannot read %s: %s" % (path, str(exc)))
    return live


def apply_live(module, plan, actions):
    for key in sorted(plan["set"]):
        value = plan["set"][key]["after"]
        actions.append("sysctl -w %s=%s" % (key, value))
        if module.check_mode:
            continue
        try:
            with open(key_path(key), "w") as handle:
                handle.write(value)
        except (IOError, OSError) as exc:
            module.fail_json(msg="cannot write %s to %s: %s (is /proc/sys read-only?)"
                             % (value, key_path(key), str(exc)), actions=actions)


# The module's arguments (AnsibleModule's argument_spec; the agent fills defaults from it).
ARGUMENT_SPEC = dict(
    # Checked by check_params, whose messages name the role variables.
    ip_forward=dict(type="raw", default=True),
    rp_filter=dict(type="raw", default=2),
    neigh_gc_thresh=dict(type="raw", default=dict(gc_thresh1=128, gc_thresh2=512, gc_thresh3=1024)),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    # IPv6 (dual stack); None leaves IPv6 forwarding alone, as before.
    ipv6_forward=dict(type="raw"),
    ipv6_accept_ra_interfaces=dict(type="list", elements="str", default=[]),
)


def converge(module):
    """Read, plan (pure) and apply with MODULE (an AnsibleModule, or the agent's stand-in
    with the same surface); ends in module.exit_json (finish) or module.fail_json."""
    params = module.params
    actions, diffs = [], []
    if params["state"] == "absent":
        for path in (CONF_FILE, NEIGH_FILE):
            persist_file(module, path, None, actions, diffs)
        finish(module, actions, diffs, changed_keys={}, missing=[])

    errors, wanted = check_params(params["ip_forward"], params["rp_filter"], params["neigh_gc_thresh"])
    errors6, wanted6 = check_ipv6(params.get("ipv6_forward"), params.get("ipv6_accept_ra_interfaces"))
    errors += errors6
    if wanted is not None and wanted6:
        wanted.update(wanted6)
    if errors:
        module.fail_json(msg="; ".join(errors), actions=[])
    plan = plan_live(wanted, read_live(module, sorted(wanted)))
    if plan["error"]:
        module.fail_json(msg=plan["error"], actions=[])
    apply_live(module, plan, actions)
    if plan["set"]:
        live_diff(diffs, "sysctl", dict((k, v["before"]) for k, v in plan["set"].items()),
                  dict((k, v["after"]) for k, v in plan["set"].items()))
    for path, content in sorted(file_contents(wanted).items()):
        persist_file(module, path, content, actions, diffs)
    if plan["missing"]:
        module.warn(missing_warning(plan["missing"]))
    finish(module, actions, diffs, changed_keys=plan["set"], missing=plan["missing"])
