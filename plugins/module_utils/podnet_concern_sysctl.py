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

from ansible_collections.podnet.network.plugins.module_utils.podnet_host import as_bool, as_int, finish, live_diff, managed_header, persist_file

PROC_SYS = "/proc/sys"
CONF_FILE = "/etc/sysctl.d/60-podnet.conf"
NEIGH_FILE = "/etc/sysctl.d/60-podnet-neigh.conf"
GC_KEYS = ("gc_thresh1", "gc_thresh2", "gc_thresh3")
NEIGH_PREFIX = "net.ipv4.neigh.default."
# Keys that exist only in the host's initial network namespace (not in a container's).
NEIGH_KEYS = tuple(NEIGH_PREFIX + key for key in GC_KEYS)


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
    """net.ipv4.ip_forward -> /proc/sys/net/ipv4/ip_forward."""
    return os.path.join(PROC_SYS, *key.split("."))


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
