# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The BGP concern of podnet: BIRD 2's configuration from the node's slice of the plan and
bird.service kept enabled and running.

Read -> pure plan -> apply, shared by the module podnet_bgp (which only declares its
arguments and calls `converge`) and the node agent (podnet_agent), which runs the same
`converge` in check mode to find drift (the configuration file, its owner and mode, the
service enabled and running, the fact file) and, when repair is on, for real. The BGP
sessions themselves are reported, never judged here. Standard library only: the agent
imports this file on a node without Ansible."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import ipaddress
import json
import os
import pwd
import re
import tempfile

from ansible_collections.podnet.network.plugins.module_utils.podnet_host import (
    CommandRunner, finish, managed_header, persist_file, podnet_wrote, read_text, read_unit, write_atomically,
)

UNIT = "bird.service"
SYMBOL = re.compile(r"[^A-Za-z0-9_]")


def _network(value, what, errors):
    try:
        return ipaddress.IPv4Network(str(value), strict=True)
    except ValueError:
        errors.append("podnet_bgp_config.%s=%r is not a network/prefix; pass the host view's bgp" % (what, value))
        return None


def check_config(config):
    """The error in CONFIG's meaning (the role variable and the fix named), or None."""
    if not isinstance(config, dict):
        return "podnet_bgp_config is required with podnet_bgp_state=present: pass the host view's bgp"
    errors = []
    for key in ("asn", "router_id", "pod_cidr", "import_prefixes", "neighbors"):
        if key not in config:
            errors.append("podnet_bgp_config.%s is missing; pass the host view's bgp (podnet_host.bgp)" % key)
    if errors:
        return "; ".join(errors)
    asn = config["asn"]
    if isinstance(asn, bool) or not isinstance(asn, int) or not 1 <= asn <= 4294967294:
        errors.append("podnet_bgp_config.asn=%r is not an ASN" % (asn,))
    try:
        ipaddress.IPv4Address(str(config["router_id"]))
    except ValueError:
        errors.append("podnet_bgp_config.router_id=%r is not an IPv4 address" % (config["router_id"],))
    _network(config["pod_cidr"], "pod_cidr", errors)
    prefixes = config["import_prefixes"]
    if not isinstance(prefixes, list) or not prefixes:
        errors.append("podnet_bgp_config.import_prefixes must list the prefix sets to import")
    else:
        for item in prefixes:
            match = re.fullmatch(r"([0-9./]+)\{(\d+),(\d+)\}", str(item))
            if not match or _network(match.group(1), "import_prefixes", errors) is None:
                errors.append("podnet_bgp_config.import_prefixes: %r is not NETWORK{LEN,LEN}" % (item,))
    neighbors = config["neighbors"]
    if not isinstance(neighbors, list) or not neighbors:
        errors.append("podnet_bgp_config.neighbors lists no router: the plan names the routers of "
                      "the node's segment (podnet_plan_bgp_routers)")
    else:
        for item in neighbors:
            try:
                ipaddress.IPv4Address(str(item.get("address")))
                if not SYMBOL.sub("", str(item.get("name"))) or not 1 <= int(item.get("asn")) <= 4294967294:
                    raise ValueError(item)
            except (ValueError, TypeError, AttributeError):
                errors.append("podnet_bgp_config.neighbors: %r is not {name, address, asn}" % (item,))
    return "; ".join(errors) or None


def render(config):
    """BIRD 2's whole configuration for CONFIG (deterministic)."""
    pod = config["pod_cidr"]
    bfd = config.get("bfd")
    graceful = config.get("graceful_restart", True)
    text = managed_header("podnet_bgp") + (
        "# podnet: this node's BGP (role podnet_bgp, docs/bgp.md): announce its pod subnet\n"
        "# %(pod)s as ASN %(asn)d to the routers of its rack; learn the other nodes' subnets.\n"
        "log syslog all;\n"
        "router id %(rid)s;\n"
        "\n"
        "protocol device {\n"
        "  scan time 10;\n"
        "}\n"
        "\n"
        "# The pod subnet to announce. Never installed by BIRD: the bridge holds it.\n"
        "protocol static podnet_pod {\n"
        "  ipv4;\n"
        "  route %(pod)s unreachable;\n"
        "}\n"
        "\n"
        "# Only what BGP learned goes into the kernel (route protocol bird, 12; metric 32).\n"
        "protocol kernel podnet_kernel {\n"
        "  ipv4 {\n"
        "    import none;\n"
        "    export filter { if source = RTS_BGP then accept; reject; };\n"
        "  };\n"
        "  metric 32;\n"
        "  merge paths on;\n"
        "%(kgr)s"
        "}\n"
        "\n"
    ) % {"pod": pod, "asn": config["asn"], "rid": config["router_id"],
         "kgr": "  graceful restart on;\n" if graceful else ""}
    if bfd:
        text += (
            "protocol bfd podnet_bfd {\n"
            "  interface \"*\" {\n"
            "    min rx interval %(i)d ms;\n"
            "    min tx interval %(i)d ms;\n"
            "    multiplier %(m)d;\n"
            "  };\n"
            "}\n"
            "\n" % {"i": int(bfd["interval_ms"]), "m": int(bfd["multiplier"])})
    text += (
        "# Exactly this node's own pod subnet, whatever else BIRD knows.\n"
        "filter podnet_export {\n"
        "  if net = %(pod)s then accept;\n"
        "  reject;\n"
        "}\n"
        "\n"
        "# Only other nodes' pod subnets of the zones BGP carries, at the node prefix length.\n"
        "filter podnet_import {\n"
        "  if net = %(pod)s then reject;\n"
        "  if net ~ [ %(imports)s ] then accept;\n"
        "  reject;\n"
        "}\n"
        "\n"
        "template bgp podnet_router {\n"
        "  local as %(asn)d;\n"
        "  connect retry time 5;\n"
        "  error wait time 1, 30;\n"
        "%(bfd)s%(gr)s"
        "  ipv4 {\n"
        "    import filter podnet_import;\n"
        "    export filter podnet_export;\n"
        "  };\n"
        "}\n"
    ) % {"pod": pod, "asn": config["asn"], "imports": ", ".join(config["import_prefixes"]),
         "bfd": "  bfd on;\n" if bfd else "", "gr": "  graceful restart on;\n" if graceful else ""}
    for name, neighbor in protocol_names(config["neighbors"]):
        text += (
            "\n"
            "protocol bgp %(name)s from podnet_router {\n"
            "  description \"router %(router)s\";\n"
            "  neighbor %(address)s as %(asn)d;\n"
            "}\n" % {"name": name, "router": neighbor["name"], "address": neighbor["address"],
                     "asn": int(neighbor["asn"])})
    return text


def protocol_names(neighbors):
    """[(BIRD protocol name, neighbor)]: podnet_<router>_<n>, n counting that router's sessions."""
    seen = {}
    result = []
    for neighbor in neighbors:
        base = "podnet_" + SYMBOL.sub("_", str(neighbor["name"]))
        seen[base] = seen.get(base, -1) + 1
        result.append(("%s_%d" % (base, seen[base]), neighbor))
    return result


def parse_protocols(text):
    """[{name, proto, state, since, info}] of the BGP protocols in `birdc show protocols`."""
    sessions = []
    for line in (text or "").splitlines():
        words = line.split(None, 5)
        if len(words) >= 4 and words[1] == "BGP":
            sessions.append({"name": words[0], "state": words[3],
                             "since": words[4] if len(words) > 4 else "",
                             "info": words[5].strip() if len(words) > 5 else ""})
    return sessions


def stock_config(stock, content):
    """Whether CONTENT is the configuration Debian's bird2 installed (ucf copies STOCK, the
    text of /usr/share/bird2/bird.conf, to /etc/bird/bird.conf)."""
    return content is not None and stock is not None and content == stock


def _ids(user, group):
    """(uid, gid) of USER/GROUP, root's where they do not exist."""
    try:
        uid = pwd.getpwnam(user).pw_uid
    except KeyError:
        uid = 0
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        gid = 0
    return uid, gid


def write_config(module, path, content, actions, diffs, current, mode=0o640):
    """Keep PATH holding CONTENT, owned bird:bird MODE as the package keeps it (its
    dpkg-statoverride), written atomically beside it; remove it when CONTENT is None. The
    directory is the package's: never created, never changed. Returns True on change."""
    uid, gid = _ids("bird", "bird")
    if content is None:
        if current is None:
            return False
        actions.append("rm %s" % path)
        diffs.append(dict(before_header=path, after_header=path, before=current, after=""))
        if not module.check_mode:
            os.unlink(path)
        return True
    changed = False
    if current != content:
        actions.append("write %s" % path)
        diffs.append(dict(before_header=path, after_header=path, before=current or "", after=content))
        changed = True
        if not module.check_mode:
            write_atomically(module, path, content, mode, uid, gid, actions)
    if os.path.exists(path):
        st = os.stat(path)
        if (st.st_mode & 0o7777, st.st_uid, st.st_gid) != (mode, uid, gid):
            actions.append("chown %d:%d %s && chmod %o %s" % (uid, gid, path, mode, path))
            changed = True
            if not module.check_mode:
                os.chown(path, uid, gid)
                os.chmod(path, mode)
    return changed


def plan(state, current, wanted, owned, unit):
    """The steps to take (pure): a list of "write", "enable", "start", "configure", "stop",
    "disable", "remove". UNIT: read_unit's dict of bird.service (None when not installed)."""
    unit = unit or {}
    active = unit.get("ActiveState") in ("active", "activating", "reloading")
    enabled = unit.get("UnitFileState") in ("enabled", "enabled-runtime")
    steps = []
    if state == "absent":
        if not owned or current is None:
            return steps
        if active:
            steps.append("stop")
        if enabled:
            steps.append("disable")
        return steps + ["remove"]
    changed = current != wanted
    if changed:
        steps.append("write")
    if not enabled:
        steps.append("enable")
    if not active:
        steps.append("start")
    elif changed:
        steps.append("configure")
    return steps


def _parse_check(module, runner, path, content):
    """`bird -p -c` on the new text before it replaces the old one."""
    bird = runner.bin("bird", required=False)
    if not bird or module.check_mode:
        return
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".podnet-check.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
        rc, out, err = module.run_command([bird, "-p", "-c", tmp])
        if rc != 0:
            module.fail_json(msg="BIRD refuses the configuration podnet rendered (%s); nothing was "
                             "changed: %s" % (path, (err or out).strip()))
    finally:
        os.unlink(tmp)


ARGUMENT_SPEC = dict(
    state=dict(type="str", default="present", choices=["present", "absent"]),
    config=dict(type="dict"),
    path=dict(type="path", default="/etc/bird/bird.conf"),
    stock_path=dict(type="path", default="/usr/share/bird2/bird.conf"),
    fact_path=dict(type="path", default="/etc/ansible/facts.d/podnet_bgp.fact"),
)


def converge(module):
    """Read, plan (pure) and apply with MODULE (an AnsibleModule, or the agent's stand-in
    with the same surface); ends in module.exit_json (finish) or module.fail_json."""
    p = module.params
    state = p["state"]
    wanted = None
    if state == "present":
        error = check_config(p["config"])
        if error:
            module.fail_json(msg=error)
        wanted = render(p["config"])
    actions, diffs, left_alone = [], [], []
    runner = CommandRunner(module, actions)
    current = read_text(module, p["path"])
    owned = current is None or podnet_wrote(current) or stock_config(read_text(module, p["stock_path"]), current)
    if state == "absent" and not podnet_wrote(current):
        owned = False  # the package's own config (or none) on a host podnet never configured: not podnet's BIRD
    if not owned and current is not None and not stock_config(read_text(module, p["stock_path"]), current):
        message = ("%s is not podnet's (no podnet comment) nor the one Debian's bird2 installed: "
                   "someone configured BIRD here" % p["path"])
        if state == "present":
            module.fail_json(msg=message + "; podnet does not overwrite it. Move it aside (e.g. to "
                             "%s.orig) or merge it into your routers' side, then run again" % p["path"])
        left_alone.append(message + "; left as it is")
        module.warn("podnet_bgp: " + left_alone[-1])
    unit = read_unit(runner, UNIT) if runner.bin("systemctl", required=False) else {}
    if state == "present" and unit.get("LoadState") != "loaded" and not module.check_mode:
        module.fail_json(msg="%s is not installed: install bird2 first (role podnet_bgp's "
                         "install step, podnet_bgp_packages)" % UNIT)
    steps = plan(state, current if owned else None, wanted, owned, unit)
    if state == "present" and "write" not in steps:
        write_config(module, p["path"], wanted, actions, diffs, current)  # owner and mode only
    for step in steps:
        if step == "write":
            _parse_check(module, runner, p["path"], wanted)
            write_config(module, p["path"], wanted, actions, diffs, current)
        elif step == "remove":
            write_config(module, p["path"], None, actions, diffs, current)
        elif step in ("enable", "start", "stop", "disable"):
            runner.change("systemctl", [step, UNIT])
        elif step == "configure":
            out = runner.change("birdc", ["configure"])
            if out and "Reconfigured" not in out and "Reconfiguration in progress" not in out:
                module.fail_json(msg="birdc configure did not reconfigure BIRD: %s" % out.strip(),
                                 actions=actions)
    if state == "present":
        fact = json.dumps({"asn": p["config"]["asn"], "pod_cidr": p["config"]["pod_cidr"]},
                          sort_keys=True) + "\n"
        persist_file(module, p["fact_path"], fact, actions, diffs)
    else:
        persist_file(module, p["fact_path"], None, actions, diffs)
    sessions = []
    if state == "present" and unit.get("ActiveState") == "active" and runner.bin("birdc", required=False):
        sessions = parse_protocols(runner.read("birdc", ["show", "protocols"], missing=("Unable to connect",)))
    finish(module, actions, diffs, sessions=sessions, left_alone=left_alone)
