# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The vxlan concern of podnet: podnet's VXLAN device, fdb and neighbour entries, their files and boot step.

Read -> pure plan -> apply, shared by the module podnet_vxlan (which only declares its
arguments and calls `converge`) and the node agent (podnet_agent), which runs the same
`converge` in check mode to find drift and, when repair is on, for real. Standard
library only: the agent imports this file on a node without Ansible."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.podnet.network.plugins.module_utils.podnet_host import (
    OWNER_MARK,
    CommandRunner,
    boot_step,
    finish,
    live_diff,
    managed_header,
    persist_file,
    read_text,
    retire_unit,
)

IP_BATCH = "/etc/podnet/vxlan.batch"
FDB_BATCH = "/etc/podnet/vxlan-fdb.batch"
BOOT_ORDER = 30
BOOT_CONCERN = "vxlan"
OLD_UNIT = "podnet-vxlan.service"
OWNED_PATTERN = r"^flannel\.[0-9]+$"

ZERO_MAC = "00:00:00:00:00:00"
MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
LINK_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")
LINK_LOCAL = ipaddress.IPv4Network("169.254.0.0/16")
DEVICE_KEYS = ("device", "vni", "port", "local", "vtep_ip", "vtep_mac", "mtu")
DEVICE_HELP = (
    "give the host view's vxlan: a dict with device (link name, e.g. flannel.1), vni "
    "(1-16777215), port (1-65535), local (own underlay IPv4), vtep_ip (IPv4), vtep_mac "
    "(aa:bb:cc:dd:ee:ff) and mtu (68-65535), or null when this host needs no overlay"
)


# --- validation (pure) ---------------------------------------------------------------
def _mac(value):
    mac = str(value).strip().lower()
    return mac if MAC_RE.match(mac) else None


def _ipv4(value):
    try:
        return str(ipaddress.IPv4Address(str(value).strip()))
    except ValueError:
        return None


def _number(value, low, high):
    """VALUE as an int in [LOW, HIGH] (decimal strings too, never bools), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and low <= value <= high:
        return value
    return None


def device_name(device):
    """The link name of a declared device, or None (no device or no name)."""
    if isinstance(device, dict) and device.get("device"):
        return str(device["device"])
    return None


def check_wanted(state, device, fdb, neighbors, tx_checksum_offload=True):
    """Check what the role declares and normalise it (pure). Returns (want, error):
    WANT is None when no overlay is wanted (state absent, device null or empty), else
    {device, vni, port, local, vtep_ip, vtep_mac, mtu, fdb: [(mac, dst)], neighbors:
    [(ip, mac)], tx_checksum_offload}; ERROR names the role variable, the culprit and
    the fix."""
    if state != "present" or not device:
        return None, None
    if not isinstance(device, dict):
        return None, "podnet_vxlan_device=%r is not a dict: %s." % (device, DEVICE_HELP)
    missing = [k for k in DEVICE_KEYS if device.get(k) in (None, "")]
    if missing:
        return None, "podnet_vxlan_device lacks %s: %s." % (", ".join(missing), DEVICE_HELP)
    want = dict(tx_checksum_offload=bool(tx_checksum_offload))
    checks = (
        ("device", lambda v: str(v) if LINK_NAME_RE.fullmatch(str(v)) and str(v) not in (".", "..") else None,
         "a link name of 1-15 letters, digits, '_', '.' or '-', not '.' or '..' (e.g. flannel.1)"),
        ("vni", lambda v: _number(v, 1, 16777215), "a VNI from 1 to 16777215"),
        ("port", lambda v: _number(v, 1, 65535), "a UDP port from 1 to 65535 (flannel: 8472)"),
        ("local", _ipv4, "this host's own underlay IPv4 address"),
        ("vtep_ip", _ipv4, "an IPv4 address (the pod subnet's network address)"),
        ("vtep_mac", _mac, "a MAC address like 0a:58:0a:f4:01:00"),
        ("mtu", lambda v: _number(v, 68, 65535), "an MTU from 68 to 65535 (underlay MTU - 50)"),
    )
    for key, norm, what in checks:
        want[key] = norm(device[key])
        if want[key] is None:
            return None, (
                "podnet_vxlan_device.%s=%r is not valid: give %s (the plan's host view "
                "gives every key)." % (key, device[key], what)
            )

    for var, items, fields in (
        ("fdb", fdb, (("mac", _mac, "peer VTEP MAC"), ("dst", _ipv4, "peer underlay IPv4"))),
        ("neighbors", neighbors, (("ip", _ipv4, "peer VTEP IPv4"), ("mac", _mac, "peer VTEP MAC"))),
    ):
        want[var], error = _check_entries(var, items, fields)
        if error:
            return None, error
    return want, None


def _check_entries(var, items, fields):
    """Check the list podnet_vxlan_VAR of {key: value} entries (FIELDS: (key, normaliser,
    what)); the first key is unique. Returns ([(value, value)], error)."""
    shape = "{%s}" % ", ".join('"%s": %s' % (key, what) for key, dummy, what in fields)
    if not isinstance(items, list):
        return None, "podnet_vxlan_%s=%r is not a list of %s: give the host view's %s." % (var, items, shape, var)
    seen, entries = set(), []
    for i, item in enumerate(items):
        entry = item if isinstance(item, dict) else {}
        values = tuple(norm(entry.get(key, "")) for key, norm, dummy in fields)
        if None in values:
            return None, (
                "podnet_vxlan_%s[%d]=%r is not %s: fix that entry (the host view's %s)."
                % (var, i, item, shape, var)
            )
        if values[0] in seen:
            return None, (
                "podnet_vxlan_%s declares %s %s twice (entry %d): one entry per peer VTEP; "
                "remove the duplicate." % (var, fields[0][0].upper(), values[0], i)
            )
        seen.add(values[0])
        entries.append(values)
    return entries, None


# --- ownership of links (pure) -------------------------------------------------------
def recorded_macs(batch_text):
    """{link name: MAC} as podnet's ip batch file (any podnet version) records them."""
    macs = {}
    for line in (batch_text or "").splitlines():
        words = line.split()
        if words[:3] == ["link", "set", "dev"] and len(words) >= 6 and words[4] == "address":
            macs[words[3]] = words[5].lower()
    return macs


def link_kind(link):
    return (link or {}).get("linkinfo", {}).get("info_kind")


def link_owner(link, recorded_mac=None):
    """Who an existing VXLAN link belongs to: 'podnet' (it carries podnet's mark),
    'legacy' (unmarked, made by a podnet version older than the mark: podnet's own batch
    file records the MAC it has) or 'foreign'."""
    if link_kind(link) != "vxlan":
        return "foreign"
    if link.get("ifalias") == OWNER_MARK:
        return "podnet"
    if recorded_mac and link.get("address", "").lower() == recorded_mac:
        return "legacy"
    return "foreign"


def refusal(name, link):
    """The message of a refused take-over: names the link and every fix."""
    if link_kind(link) != "vxlan":
        return (
            "link %s exists but is a %s, not a vxlan device: podnet will not take it over and "
            "left it unmodified; delete it or declare another device name "
            "(podnet_plan_vxlan_device)" % (name, link_kind(link))
        )
    data = link.get("linkinfo", {}).get("info_data", {})
    return (
        "VXLAN link %s (VNI %s, port %s, MAC %s) exists but podnet did not create it (its "
        "alias is %r, not %r, and podnet's batch file does not record its MAC), e.g. a stock "
        "flanneld's device: podnet left it unmodified. Remove it (stop what made it, then "
        "ip link del %s), give podnet's device another name (podnet_plan_vxlan_device or "
        "another VNI), or set podnet_vxlan_adopt: true to let podnet take it over and mark "
        "it as its own"
        % (name, data.get("id"), data.get("port"), link.get("address"), link.get("ifalias", ""),
           OWNER_MARK, name)
    )


def plan_links(links, owned_re, name, want=None, adopt=False, recorded=None):
    """Pure plan of the VXLAN links: which podnet links to delete, which links to leave
    alone, and what to do with the declared device.

    LINKS maps link names to ``ip -json -details link show`` entries; OWNED_RE matches
    the names podnet may have created; NAME is the declared device's name (or None);
    WANT is None (no overlay wanted: absent) or the normalised declared device
    {device, vni, port, local}; RECORDED maps link names to the MACs podnet's batch
    file records. Returns a dict: delete (names, in order), left_alone (names), error (a
    message when the module must fail before any change), owner (of the declared
    device: none|podnet|legacy|adopted|foreign), create, recreate and mark (bools)."""
    recorded = recorded or {}
    plan = dict(delete=[], left_alone=[], error=None, owner="none", create=False, recreate=False,
                mark=False)
    for n in sorted(links):
        if link_kind(links[n]) != "vxlan" or not (owned_re.match(n) or n == name):
            continue
        if want is not None and n == name:
            continue  # the declared device: decided below
        if link_owner(links[n], recorded.get(n)) == "foreign":
            plan["left_alone"].append(n)
        else:
            plan["delete"].append(n)
    if want is None:
        return plan

    current = links.get(name)
    if current is None:
        plan["create"] = True
        return plan
    owner = link_owner(current, recorded.get(name))
    if link_kind(current) != "vxlan" or (owner == "foreign" and not adopt):
        plan["owner"] = owner
        plan["error"] = refusal(name, current)
        return plan
    plan["owner"] = "adopted" if owner == "foreign" else owner
    data = current.get("linkinfo", {}).get("info_data", {})
    if (
        data.get("id") != want["vni"]
        or data.get("port") != want["port"]
        or data.get("local") != want["local"]
        or data.get("learning")
        or data.get("group")
        or data.get("remote")
    ):
        plan["recreate"] = plan["create"] = True
    elif current.get("ifalias") != OWNER_MARK:
        plan["mark"] = True
    return plan


# --- reading live state (parsers are pure) -------------------------------------------
def parse_addresses(link):
    """The IPv4 addresses (CIDR) of an ``ip -json addr show`` entry, in order."""
    return ["%s/%s" % (a["local"], a["prefixlen"]) for a in (link or {}).get("addr_info", [])
            if a.get("family") == "inet"]


def parse_fdb(entries):
    """{mac: [(dst, permanent)]} of the fdb entries podnet could have made
    (``bridge -json fdb show dev DEV``): those with a destination, except all-zeros."""
    fdb = {}
    for entry in entries or []:
        mac = entry.get("mac", "").lower()
        if "dst" not in entry or mac == ZERO_MAC:
            continue
        fdb.setdefault(mac, []).append((entry["dst"], entry.get("state") == "permanent"))
    return fdb


def parse_neighbors(entries):
    """{ip: mac} of the PERMANENT IPv4 neighbors outside 169.254.0.0/16
    (``ip -json -4 neigh show dev DEV``); the kernel's dynamic entries are not podnet's."""
    neighbors = {}
    for entry in entries or []:
        try:
            addr = ipaddress.IPv4Address(entry.get("dst", ""))
        except ValueError:
            continue
        if addr in LINK_LOCAL or "PERMANENT" not in entry.get("state", []):
            continue
        neighbors[str(addr)] = entry.get("lladdr", "").lower()
    return neighbors


def parse_tx_checksumming(text):
    """True/False for 'tx-checksumming' as ``ethtool -k DEV`` prints it, None if absent."""
    for line in (text or "").splitlines():
        if line.startswith("tx-checksumming:"):
            return line.split(":", 1)[1].split()[0] == "on"
    return None


def read_live(runner, module, name, want, read_tx):
    """Everything the plan needs from the host, read once: every link with its
    addresses, and (when an overlay is wanted and the device exists) its fdb, neighbors
    and TX checksum offload."""
    links = dict((link["ifname"], link) for link in runner.read("ip", ["-details", "addr", "show"], "-json") or [])
    live = dict(links=links, fdb={}, neighbors={}, tx=None,
                recorded=recorded_macs(read_text(module, IP_BATCH)))
    if want and link_kind(links.get(name)) == "vxlan":
        live["fdb"] = parse_fdb(runner.read("bridge", ["fdb", "show", "dev", name], "-json"))
        live["neighbors"] = parse_neighbors(runner.read("ip", ["-4", "neigh", "show", "dev", name], "-json"))
        if read_tx:
            text = runner.read("ethtool", ["-k", name])
            live["tx"] = parse_tx_checksumming(text)
            if live["tx"] is None:
                module.fail_json(msg="ethtool -k %s printed no tx-checksumming line" % name)
    return live


# --- the plan (pure) -----------------------------------------------------------------
def batch_contents(name, vtep_ip, vtep_mac, mtu, fdb, neighbors):
    """The two boot-time batch files (ip, bridge) for the declared state, in declared order."""
    ip_batch = managed_header("podnet_vxlan") + (
        "# Applied at boot by podnet.service (step 30-vxlan) with `ip -force -batch`; the step\n"
        "# creates the device first when it is missing and refuses a {n} that lacks podnet's\n"
        "# mark (alias {o}), so every line here is idempotent and touches only podnet's device.\n"
        "link set dev {n} alias {o}\n"
        "link set dev {n} address {mac} mtu {mtu}\n"
        "addr replace {ip}/32 dev {n}\n"
        "link set dev {n} up\n"
    ).format(n=name, mac=vtep_mac, mtu=mtu, ip=vtep_ip, o=OWNER_MARK)
    for ip, mac in neighbors:
        ip_batch += "neigh replace %s lladdr %s dev %s nud permanent\n" % (ip, mac, name)
    fdb_batch = managed_header("podnet_vxlan") + (
        "# Applied at boot by podnet.service (step 30-vxlan) with `bridge -force -batch`,\n"
        "# after %s (fdb entries are not ip commands).\n" % IP_BATCH
    )
    for mac, dst in fdb:
        fdb_batch += "fdb replace %s dev %s dst %s self permanent\n" % (mac, name, dst)
    return ip_batch, fdb_batch


def boot_script(want):
    """The boot step: create the marked device when missing, refuse an unmarked one,
    replay both batch files, and turn TX checksum offload off when asked."""
    n = want["device"]
    lines = [
        "# Replayed by podnet.service at boot. A %s that podnet did not make (no alias %s," % (n, OWNER_MARK),
        "# e.g. flanneld's) fails this step and is left untouched.",
        "if ip link show dev %s >/dev/null 2>&1; then" % n,
        "    grep -qsx %s /sys/class/net/%s/ifalias || {" % (OWNER_MARK, n),
        "        echo \"podnet: link %s exists without the alias %s: not podnet-made, left alone\" >&2" % (n, OWNER_MARK),
        "        exit 1",
        "    }",
        "else",
        "    ip link add %s type vxlan id %d local %s dstport %d nolearning" % (n, want["vni"], want["local"], want["port"]),
        "    ip link set dev %s alias %s" % (n, OWNER_MARK),
        "fi",
        "ip -force -batch %s" % IP_BATCH,
        "bridge -force -batch %s" % FDB_BATCH,
    ]
    if not want["tx_checksum_offload"]:
        lines += [
            "# TX checksum offload off: mitigation for VXLAN behind NAT (flannel PR #1282 / #1929).",
            "ethtool -K %s tx off" % n,
        ]
    return "\n".join(lines) + "\n"


def plan(live, name, want, adopt=False, owned_re=None):
    """From LIVE state (read_live) and WANT (check_wanted: None means no overlay) to the
    ordered commands ([tool, arg, ...]), the files ({path: content or None}), the boot
    step script (or None), and what the run reports. Pure: no host, no Ansible."""
    owned_re = owned_re or re.compile(OWNED_PATTERN)
    links = live["links"]
    link_plan = plan_links(
        links, owned_re, name,
        dict((k, want[k]) for k in ("device", "vni", "port", "local")) if want else None,
        adopt, live.get("recorded"),
    )
    summary = dict(fdb=dict(add=0, change=0, delete=0), neighbors=dict(add=0, change=0, delete=0))
    result = dict(
        error=link_plan["error"], owner=link_plan["owner"], left_alone=link_plan["left_alone"],
        recreated=link_plan["recreate"], summary=summary, commands=[], files={}, boot=None,
        before=dict(links=sorted(
            n for n, link in links.items()
            if link_kind(link) == "vxlan" and (owned_re.match(n) or n == name)
            and n not in link_plan["left_alone"]
        )),
        after=None,
    )
    if result["error"]:
        return result
    cmds = result["commands"]
    for n in link_plan["delete"]:
        cmds.append(["ip", "link", "del", "dev", n])
    if want is None:
        result["files"] = {IP_BATCH: None, FDB_BATCH: None}
        result["after"] = dict(links=[])
        return result

    current = links.get(name)
    tx_on = live.get("tx")
    fdb_live, neigh_live = live.get("fdb", {}), live.get("neighbors", {})
    vtep_addr = "%s/32" % want["vtep_ip"]
    if link_plan["recreate"]:
        cmds.append(["ip", "link", "del", "dev", name])
    if link_plan["mark"]:
        cmds.append(["ip", "link", "set", "dev", name, "alias", OWNER_MARK])
    if link_plan["create"]:
        cmds += [
            ["ip", "link", "add", name, "type", "vxlan", "id", str(want["vni"]), "local", want["local"],
             "dstport", str(want["port"]), "nolearning"],
            ["ip", "link", "set", "dev", name, "alias", OWNER_MARK],
            ["ip", "link", "set", "dev", name, "address", want["vtep_mac"], "mtu", str(want["mtu"])],
            ["ip", "addr", "add", vtep_addr, "dev", name],
            ["ip", "link", "set", "dev", name, "up"],
        ]
        tx_on = True  # a new VXLAN device starts with TX checksum offload on
        fdb_live, neigh_live = {}, {}
    else:
        if current.get("address", "").lower() != want["vtep_mac"]:
            cmds.append(["ip", "link", "set", "dev", name, "address", want["vtep_mac"]])
        if current.get("mtu") != want["mtu"]:
            cmds.append(["ip", "link", "set", "dev", name, "mtu", str(want["mtu"])])
        addrs = parse_addresses(current)
        for stale in addrs:
            if stale != vtep_addr:
                cmds.append(["ip", "addr", "del", stale, "dev", name])
        if vtep_addr not in addrs:
            cmds.append(["ip", "addr", "add", vtep_addr, "dev", name])
        if "UP" not in current.get("flags", []):
            cmds.append(["ip", "link", "set", "dev", name, "up"])
        result["before"].update(
            addresses=addrs,
            fdb=dict((m, [d for d, dummy in v]) for m, v in sorted(fdb_live.items())),
            neighbors=dict(sorted(neigh_live.items())),
        )
        if tx_on is not None:
            result["before"]["tx_checksum_offload"] = tx_on

    if tx_on is not None and tx_on != want["tx_checksum_offload"]:
        cmds.append(["ethtool", "-K", name, "tx", "on" if want["tx_checksum_offload"] else "off"])

    # fdb: delete what is no longer declared, then add/replace what is missing/differs.
    fdb_want = dict(want["fdb"])
    fdb_live = dict(fdb_live)
    for mac in sorted(fdb_live):
        entries = fdb_live[mac]
        wanted = fdb_want.get(mac)
        if wanted is not None and len(entries) == 1:
            continue  # one entry for a declared MAC: replaced below if it differs
        for dst, dummy in entries:
            cmds.append(["bridge", "fdb", "del", mac, "dev", name, "dst", dst, "self"])
            if wanted is None:
                summary["fdb"]["delete"] += 1
        if wanted is not None:
            fdb_live[mac] = []
    for mac in sorted(fdb_want):
        dst = fdb_want[mac]
        entries = fdb_live.get(mac) or []
        if entries == [(dst, True)]:
            continue
        summary["fdb"]["change" if entries else "add"] += 1
        cmds.append(["bridge", "fdb", "replace", mac, "dev", name, "dst", dst, "self", "permanent"])

    neigh_want = dict(want["neighbors"])
    for ip in sorted(neigh_live, key=ipaddress.IPv4Address):
        if ip not in neigh_want:
            summary["neighbors"]["delete"] += 1
            cmds.append(["ip", "neigh", "del", ip, "dev", name])
    for ip in sorted(neigh_want, key=ipaddress.IPv4Address):
        mac = neigh_want[ip]
        if neigh_live.get(ip) == mac:
            continue
        summary["neighbors"]["change" if ip in neigh_live else "add"] += 1
        cmds.append(["ip", "neigh", "replace", ip, "lladdr", mac, "dev", name, "nud", "permanent"])

    after = dict(
        links=[name], addresses=[vtep_addr],
        fdb=dict((m, [d]) for m, d in sorted(fdb_want.items())),
        neighbors=dict(sorted(neigh_want.items(), key=lambda kv: ipaddress.IPv4Address(kv[0]))),
    )
    if tx_on is not None:
        after["tx_checksum_offload"] = want["tx_checksum_offload"]
    result["after"] = after
    ip_batch, fdb_batch = batch_contents(
        name, want["vtep_ip"], want["vtep_mac"], want["mtu"], want["fdb"], want["neighbors"]
    )
    result["files"] = {IP_BATCH: ip_batch, FDB_BATCH: fdb_batch}
    result["boot"] = boot_script(want)
    return result


# --- apply ---------------------------------------------------------------------------


# The module's arguments (AnsibleModule's argument_spec; the agent fills defaults from it).
ARGUMENT_SPEC = dict(
    device=dict(type="dict"),
    fdb=dict(type="list", elements="dict", default=[]),
    neighbors=dict(type="list", elements="dict", default=[]),
    tx_checksum_offload=dict(type="bool", default=True),
    adopt=dict(type="bool", default=False),
    owned_pattern=dict(type="str", default=OWNED_PATTERN),
    state=dict(type="str", default="present", choices=["present", "absent"]),
)


def converge(module):
    """Read, plan (pure) and apply with MODULE (an AnsibleModule, or the agent's stand-in
    with the same surface); ends in module.exit_json (finish) or module.fail_json."""
    p = module.params
    want, error = check_wanted(p["state"], p["device"], p["fdb"], p["neighbors"], p["tx_checksum_offload"])
    if error:
        module.fail_json(msg=error, actions=[])
    try:
        owned_re = re.compile(p["owned_pattern"])
    except re.error as exc:
        module.fail_json(msg="owned_pattern %r is not a regular expression: %s" % (p["owned_pattern"], exc))
    name = want["device"] if want else device_name(p["device"])

    runner = CommandRunner(module)
    read_tx = bool(want) and (not want["tx_checksum_offload"] or bool(runner.bin("ethtool", required=False)))
    live = read_live(runner, module, name, want, read_tx)
    result = plan(live, name, want, p["adopt"], owned_re)
    if result["error"]:
        module.fail_json(msg=result["error"], before=result["before"], owner=result["owner"], actions=[])
    for n in result["left_alone"]:
        module.warn("podnet_vxlan: VXLAN link %s is not podnet's (no alias %s): left alone" % (n, OWNER_MARK))

    diffs = []
    for command in result["commands"]:
        runner.change(command[0], command[1:])
    if runner.actions:
        live_diff(diffs, name or "podnet VXLAN links", result["before"], result["after"])
    for path in (IP_BATCH, FDB_BATCH):
        persist_file(module, path, result["files"][path], runner.actions, diffs)
    boot_step(module, BOOT_ORDER, BOOT_CONCERN, result["boot"], runner.actions, diffs)
    retire_unit(module, OLD_UNIT, runner.actions, diffs)
    finish(module, runner.actions, diffs, recreated=result["recreated"], before=result["before"],
           summary=result["summary"], owner=result["owner"], left_alone=result["left_alone"])
