# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The vxlan concern of podnet: podnet's VXLAN devices, fdb and neighbour entries, their files and boot step.

Up to two devices: flannel.<vni> over the IPv4 underlay (module argument ``device``)
and flannel-v6.<vni> over the IPv6 underlay (``device_ipv6``); either may carry IPv4
and IPv6 pods (its VTEP addresses).

Read -> pure plan -> apply, shared by the module podnet_vxlan (which only declares its
arguments and calls `converge`) and the node agent (podnet_agent), which runs the same
`converge` in check mode to find drift and, when repair is on, for real. Standard
library only: the agent imports this file on a node without Ansible."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import re

from ansible_collections.podnet.network.plugins.module_utils.podnet_host import (
    OWNER_MARK,
    CommandRunner,
    boot_step,
    disable_ipv6_path,
    finish,
    live_diff,
    managed_header,
    persist_file,
    read_disable_ipv6,
    read_text,
    retire_unit,
    write_proc,
)

IP_BATCH = "/etc/podnet/vxlan.batch"
FDB_BATCH = "/etc/podnet/vxlan-fdb.batch"
BOOT_ORDER = 30
BOOT_CONCERN = "vxlan"
OLD_UNIT = "podnet-vxlan.service"
OWNED_PATTERN = r"^flannel(-v6)?\.[0-9]+$"
# Present whenever the kernel has IPv6 (absent with ipv6.disable=1).
IPV6_PROC = "/proc/net/if_inet6"

ZERO_MAC = "00:00:00:00:00:00"
MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
LINK_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")
LINK_LOCAL = ipaddress.IPv4Network("169.254.0.0/16")
LINK_LOCAL_IPV6 = ipaddress.IPv6Network("fe80::/10")
DEVICE_KEYS = ("device", "vni", "port", "local", "vtep_ip", "vtep_mac", "mtu")
DEVICE_IPV6_KEYS = ("device", "vni", "port", "local", "vtep_mac", "mtu")
DEVICE_HELP = (
    "give the host view's vxlan: a dict with device (link name, e.g. flannel.1), vni "
    "(1-16777215), port (1-65535), local (own underlay IPv4), vtep_ip (IPv4), vtep_mac "
    "(aa:bb:cc:dd:ee:ff), mtu (68-65535) and optionally vtep_ip_ipv6 (IPv6), or null when "
    "this host needs no overlay"
)
DEVICE_IPV6_HELP = (
    "give the host view's vxlan_ipv6: a dict with device (link name, e.g. flannel-v6.1), vni "
    "(1-16777215), port (1-65535), local (own underlay IPv6), vtep_ip (IPv4 or null), "
    "vtep_ip_ipv6 (IPv6 or null; at least one of the two), vtep_mac (aa:bb:cc:dd:ee:ff) and "
    "mtu (68-65535), or null when no tunnel of this host runs over IPv6"
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


def _ipv6(value):
    try:
        return str(ipaddress.IPv6Address(str(value).strip()))
    except ValueError:
        return None


def _ip(value):
    """An IPv4 or IPv6 address, normalised, else None."""
    return _ipv4(value) or _ipv6(value)


def _link_name(value):
    name = str(value)
    return name if LINK_NAME_RE.fullmatch(name) and name not in (".", "..") else None


def _check_device(var, device, underlay, fdb, neighbors):
    """Check one declared device (VAR: its role variable, podnet_vxlan_device or
    podnet_vxlan_device_ipv6; UNDERLAY: 4 or 6, the family of its ``local`` and of its
    fdb's ``dst``) with its fdb and neighbor lists. Returns (want, error)."""
    help_text = DEVICE_HELP if underlay == 4 else DEVICE_IPV6_HELP
    suffix = "" if underlay == 4 else "_ipv6"
    if not isinstance(device, dict):
        return None, "%s=%r is not a dict: %s." % (var, device, help_text)
    required = DEVICE_KEYS if underlay == 4 else DEVICE_IPV6_KEYS
    missing = [k for k in required if device.get(k) in (None, "")]
    if missing:
        return None, "%s lacks %s: %s." % (var, ", ".join(missing), help_text)
    underlay_ip = _ipv4 if underlay == 4 else _ipv6
    checks = (
        ("device", _link_name,
         "a link name of 1-15 letters, digits, '_', '.' or '-', not '.' or '..' (e.g. %s)"
         % ("flannel.1" if underlay == 4 else "flannel-v6.1")),
        ("vni", lambda v: _number(v, 1, 16777215), "a VNI from 1 to 16777215"),
        ("port", lambda v: _number(v, 1, 65535), "a UDP port from 1 to 65535 (flannel: 8472)"),
        ("local", underlay_ip, "this host's own underlay IPv%d address" % underlay),
        ("vtep_ip", _ipv4, "an IPv4 address (the pod subnet's network address)"),
        ("vtep_ip_ipv6", _ipv6, "an IPv6 address (the IPv6 pod prefix's network address)"),
        ("vtep_mac", _mac, "a MAC address like 0a:58:0a:f4:01:00"),
        ("mtu", lambda v: _number(v, 68, 65535),
         "an MTU from 68 to 65535 (underlay MTU - %d)" % (50 if underlay == 4 else 70)),
    )
    want = {}
    for key, norm, what in checks:
        if key not in required and device.get(key) in (None, ""):
            want[key] = None  # optional and not given
            continue
        want[key] = norm(device[key])
        if want[key] is None:
            return None, (
                "%s.%s=%r is not valid: give %s (the plan's host view "
                "gives every key)." % (var, key, device[key], what)
            )
    if want["vtep_ip"] is None and want["vtep_ip_ipv6"] is None:
        return None, (
            "%s has neither vtep_ip nor vtep_ip_ipv6: give at least one (vtep_ip: the node's IPv4 "
            "pod subnet's network address, for IPv4 pods over %s; vtep_ip_ipv6: its IPv6 pod "
            "prefix's network address, for IPv6 pods), or set %s to null." % (var, want["device"], var)
        )

    for key, items, fields in (
        ("fdb", fdb, (("mac", _mac, "peer VTEP MAC"),
                      ("dst", underlay_ip, "peer underlay IPv%d" % underlay))),
        ("neighbors", neighbors, (("ip", _ip, "peer VTEP IPv4 or IPv6"), ("mac", _mac, "peer VTEP MAC"))),
    ):
        want[key], error = _check_entries(key + suffix, items, fields)
        if error:
            return None, error
    # A neighbor of a family the device has no VTEP address of would never be used: the
    # routes over this device take their source from its VTEP address of that family.
    for i, (ip, dummy) in enumerate(want["neighbors"]):
        vtep_key = "vtep_ip_ipv6" if ":" in ip else "vtep_ip"
        if want[vtep_key] is None:
            return None, (
                "podnet_vxlan_neighbors%s[%d] has the IPv%s address %s but %s has no %s: set "
                "%s.%s (the node's %s) or remove the entry." % (
                    suffix, i, "6" if ":" in ip else "4", ip, var, vtep_key, var, vtep_key,
                    "IPv6 pod prefix's network address" if ":" in ip else "IPv4 pod subnet's network address")
            )
    return want, None


def check_wanted(state, device, fdb, neighbors, tx_checksum_offload=True, device_ipv6=None,
                 fdb_ipv6=None, neighbors_ipv6=None):
    """Check what the role declares and normalise it (pure). Returns (want, error):
    WANT is None when no overlay is wanted (state absent, both devices null or empty),
    else {device, vni, port, local, vtep_ip, vtep_ip_ipv6, vtep_mac, mtu, fdb: [(mac,
    dst)], neighbors: [(ip, mac)], tx_checksum_offload, ipv6} for the IPv4-underlay
    device (device None and no other key but tx_checksum_offload and ipv6 when only the
    IPv6-underlay one is declared), where ipv6 is the same dict (without ipv6) for
    DEVICE_IPV6 or None; ERROR names the role variable, the culprit and the fix."""
    if state != "present" or not (device or device_ipv6):
        return None, None
    want = dict(device=None)
    if device:
        want, error = _check_device("podnet_vxlan_device", device, 4, fdb, neighbors)
        if error:
            return None, error
    want["tx_checksum_offload"] = bool(tx_checksum_offload)
    want["ipv6"] = None
    if device_ipv6:
        want6, error = _check_device("podnet_vxlan_device_ipv6", device_ipv6, 6,
                                     [] if fdb_ipv6 is None else fdb_ipv6,
                                     [] if neighbors_ipv6 is None else neighbors_ipv6)
        if error:
            return None, error
        if want6["device"] == want["device"]:
            return None, (
                "podnet_vxlan_device_ipv6.device=%r is podnet_vxlan_device's name too: the "
                "IPv6-underlay device needs a name of its own (flannel-v6.<vni>)." % want6["device"]
            )
        want6["tx_checksum_offload"] = want["tx_checksum_offload"]
        want["ipv6"] = want6
    return want, None


def devices(want):
    """The declared devices of WANT (check_wanted), the IPv4-underlay one first."""
    if not want:
        return []
    return ([want] if want.get("device") else []) + ([want["ipv6"]] if want.get("ipv6") else [])


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


def refusal(name, link, variable="podnet_plan_vxlan_device"):
    """The message of a refused take-over: names the link and every fix (VARIABLE: the
    plan's setting that names the device)."""
    if link_kind(link) != "vxlan":
        return (
            "link %s exists but is a %s, not a vxlan device: podnet will not take it over and "
            "left it unmodified; delete it or declare another device name "
            "(%s)" % (name, link_kind(link), variable)
        )
    data = link.get("linkinfo", {}).get("info_data", {})
    return (
        "VXLAN link %s (VNI %s, port %s, MAC %s) exists but podnet did not create it (its "
        "alias is %r, not %r, and podnet's batch file does not record its MAC), e.g. a stock "
        "flanneld's device: podnet left it unmodified. Remove it (stop what made it, then "
        "ip link del %s), give podnet's device another name (%s or "
        "another VNI), or set podnet_vxlan_adopt: true to let podnet take it over and mark "
        "it as its own"
        % (name, data.get("id"), data.get("port"), link.get("address"), link.get("ifalias", ""),
           OWNER_MARK, name, variable)
    )


def plan_links(links, owned_re, name, want=None, adopt=False, recorded=None, keep=()):
    """Pure plan of the VXLAN links: which podnet links to delete, which links to leave
    alone, and what to do with the declared device.

    LINKS maps link names to ``ip -json -details link show`` entries; OWNED_RE matches
    the names podnet may have created; NAME is the declared device's name (or None);
    WANT is None (no overlay wanted: absent) or the normalised declared device
    {device, vni, port, local}; RECORDED maps link names to the MACs podnet's batch
    file records; KEEP names other declared devices (planned with plan_device), neither
    deleted nor reported here. Returns a dict: delete (names, in order), left_alone
    (names), error (a message when the module must fail before any change), owner (of
    the declared device: none|podnet|legacy|adopted|foreign), create, recreate and mark
    (bools)."""
    recorded = recorded or {}
    plan = dict(delete=[], left_alone=[], error=None, owner="none", create=False, recreate=False,
                mark=False)
    for n in sorted(links):
        if link_kind(links[n]) != "vxlan" or not (owned_re.match(n) or n == name) or n in keep:
            continue
        if want is not None and n == name:
            continue  # the declared device: decided below
        if link_owner(links[n], recorded.get(n)) == "foreign":
            plan["left_alone"].append(n)
        else:
            plan["delete"].append(n)
    if want is None:
        return plan
    plan.update(plan_device(links, name, want, adopt, recorded))
    return plan


def _info(data, key):
    """An address of a VXLAN link's info_data: ip -json prints IPv6 ones as KEY + '6'."""
    return data.get(key) or data.get(key + "6")


def plan_device(links, name, want, adopt=False, recorded=None, variable="podnet_plan_vxlan_device"):
    """Pure plan of one declared device NAME (WANT: {device, vni, port, local}) among
    LINKS: {owner, error, create, recreate, mark} (see plan_links); VARIABLE names the
    plan's setting of its name in a refusal."""
    recorded = recorded or {}
    plan = dict(error=None, owner="none", create=False, recreate=False, mark=False)
    current = links.get(name)
    if current is None:
        plan["create"] = True
        return plan
    owner = link_owner(current, recorded.get(name))
    if link_kind(current) != "vxlan" or (owner == "foreign" and not adopt):
        plan["owner"] = owner
        plan["error"] = refusal(name, current, variable)
        return plan
    plan["owner"] = "adopted" if owner == "foreign" else owner
    data = current.get("linkinfo", {}).get("info_data", {})
    if (
        data.get("id") != want["vni"]
        or data.get("port") != want["port"]
        or _info(data, "local") != want["local"]
        or data.get("learning")
        or _info(data, "group")
        or _info(data, "remote")
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


def parse_addresses_ipv6(link):
    """The IPv6 addresses (CIDR) of an ``ip -json addr show`` entry but link-local ones
    (the kernel's fe80::/64 of a device with IPv6 on), in order."""
    return ["%s/%s" % (a["local"], a["prefixlen"]) for a in (link or {}).get("addr_info", [])
            if a.get("family") == "inet6" and a.get("scope") != "link"]


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
    """{ip: mac} of the PERMANENT neighbors outside 169.254.0.0/16 and fe80::/10
    (``ip -json -4 neigh show dev DEV`` and ``ip -json -6 ...``); the kernel's dynamic
    entries are not podnet's."""
    neighbors = {}
    for entry in entries or []:
        try:
            addr = ipaddress.ip_address(entry.get("dst", ""))
        except ValueError:
            continue
        if addr in (LINK_LOCAL if addr.version == 4 else LINK_LOCAL_IPV6):
            continue
        if "PERMANENT" not in entry.get("state", []):
            continue
        neighbors[str(addr)] = entry.get("lladdr", "").lower()
    return neighbors


def parse_tx_checksumming(text):
    """True/False for 'tx-checksumming' as ``ethtool -k DEV`` prints it, None if absent."""
    for line in (text or "").splitlines():
        if line.startswith("tx-checksumming:"):
            return line.split(":", 1)[1].split()[0] == "on"
    return None


def _ip_key(ip):
    """Sort key of an address text: IPv4 first, numerically."""
    addr = ipaddress.ip_address(ip)
    return (addr.version, addr)


def read_device(runner, module, link, want, read_tx):
    """One existing device's fdb, neighbors (both families), TX checksum offload (when
    READ_TX) and, when WANT puts an IPv6 VTEP address on it, its disable_ipv6."""
    name = link["ifname"]
    found = dict(tx=None, disable_ipv6=None)
    found["fdb"] = parse_fdb(runner.read("bridge", ["fdb", "show", "dev", name], "-json"))
    neigh = runner.read("ip", ["-4", "neigh", "show", "dev", name], "-json") or []
    if os.path.exists(IPV6_PROC):
        # Podnet's IPv6 neighbours go too once no longer declared (dual stack turned off).
        neigh = neigh + (runner.read("ip", ["-6", "neigh", "show", "dev", name], "-json") or [])
    found["neighbors"] = parse_neighbors(neigh)
    if want.get("vtep_ip_ipv6"):
        found["disable_ipv6"] = read_disable_ipv6(module, name)
    if read_tx:
        text = runner.read("ethtool", ["-k", name])
        found["tx"] = parse_tx_checksumming(text)
        if found["tx"] is None:
            module.fail_json(msg="ethtool -k %s printed no tx-checksumming line" % name)
    return found


def read_live(runner, module, name, want, read_tx):
    """Everything the plan needs from the host, read once: every link with its
    addresses, and (when an overlay is wanted and the device exists) its fdb, neighbors,
    TX checksum offload and disable_ipv6: for the IPv4-underlay device NAME at the top
    level, for the IPv6-underlay one (WANT's ipv6) under the key ipv6."""
    links = dict((link["ifname"], link) for link in runner.read("ip", ["-details", "addr", "show"], "-json") or [])
    live = dict(links=links, fdb={}, neighbors={}, tx=None, disable_ipv6=None,
                recorded=recorded_macs(read_text(module, IP_BATCH)), ipv6={})
    for wanted in devices(want):
        link = links.get(wanted["device"])
        if link_kind(link) != "vxlan":
            continue
        found = read_device(runner, module, link, wanted, read_tx)
        if wanted["device"] == name:
            live.update(found)
        else:
            live["ipv6"] = found
    return live


# --- the plan (pure) -----------------------------------------------------------------
def _vtep_addresses(want):
    """The device's own addresses: the IPv4 VTEP as /32, the IPv6 one as /128."""
    return ([want["vtep_ip"] + "/32"] if want.get("vtep_ip") else []) + (
        [want["vtep_ip_ipv6"] + "/128"] if want.get("vtep_ip_ipv6") else [])


def batch_contents(name, vtep_ip, vtep_mac, mtu, fdb, neighbors):
    """The two boot-time batch files (ip, bridge) of one IPv4-only device (batch_files)."""
    return batch_files([dict(device=name, vtep_ip=vtep_ip, vtep_ip_ipv6=None, vtep_mac=vtep_mac, mtu=mtu,
                             fdb=fdb, neighbors=neighbors)])


def batch_files(wanted):
    """The two boot-time batch files (ip, bridge) for the declared devices WANTED
    (devices(want)), in declared order."""
    names = " or ".join(w["device"] for w in wanted)
    ip_batch = managed_header("podnet_vxlan") + (
        "# Applied at boot by podnet.service (step 30-vxlan) with `ip -force -batch`; the step\n"
        "# creates the device first when it is missing and refuses a {n} that lacks podnet's\n"
        "# mark (alias {o}), so every line here is idempotent and touches only podnet's device.\n"
    ).format(n=names, o=OWNER_MARK)
    fdb_batch = managed_header("podnet_vxlan") + (
        "# Applied at boot by podnet.service (step 30-vxlan) with `bridge -force -batch`,\n"
        "# after %s (fdb entries are not ip commands).\n" % IP_BATCH
    )
    for w in wanted:
        n = w["device"]
        ip_batch += (
            "link set dev {n} alias {o}\n"
            "link set dev {n} address {mac} mtu {mtu}\n"
        ).format(n=n, mac=w["vtep_mac"], mtu=w["mtu"], o=OWNER_MARK)
        if w["vtep_ip"]:
            ip_batch += "addr replace %s/32 dev %s\n" % (w["vtep_ip"], n)
        if w["vtep_ip_ipv6"]:
            # The boot step has switched IPv6 on on the device; nodad: usable at once.
            ip_batch += "addr replace %s/128 dev %s nodad\n" % (w["vtep_ip_ipv6"], n)
        ip_batch += "link set dev %s up\n" % n
        for ip, mac in w["neighbors"]:
            ip_batch += "neigh replace %s lladdr %s dev %s nud permanent\n" % (ip, mac, n)
        for mac, dst in w["fdb"]:
            fdb_batch += "fdb replace %s dev %s dst %s self permanent\n" % (mac, n, dst)
    return ip_batch, fdb_batch


def boot_script(want):
    """The boot step: create each marked device when missing, refuse an unmarked one,
    switch IPv6 on on a device with an IPv6 VTEP address, replay both batch files, and
    turn TX checksum offload off when asked."""
    wanted = devices(want)
    names = " or ".join(w["device"] for w in wanted)
    lines = [
        "# Replayed by podnet.service at boot. A %s that podnet did not make (no alias %s," % (names, OWNER_MARK),
        "# e.g. flanneld's) fails this step and is left untouched.",
    ]
    for w in wanted:
        n = w["device"]
        lines += [
            "if ip link show dev %s >/dev/null 2>&1; then" % n,
            "    grep -qsx %s /sys/class/net/%s/ifalias || {" % (OWNER_MARK, n),
            "        echo \"podnet: link %s exists without the alias %s: not podnet-made, left alone\" >&2" % (n, OWNER_MARK),
            "        exit 1",
            "    }",
            "else",
            "    ip link add %s type vxlan id %d local %s dstport %d nolearning" % (n, w["vni"], w["local"], w["port"]),
            "    ip link set dev %s alias %s" % (n, OWNER_MARK),
            "fi",
        ]
    lines += ["echo 0 > %s" % disable_ipv6_path(w["device"]) for w in wanted if w.get("vtep_ip_ipv6")]
    lines += [
        "ip -force -batch %s" % IP_BATCH,
        "bridge -force -batch %s" % FDB_BATCH,
    ]
    if not want["tx_checksum_offload"]:
        lines.append("# TX checksum offload off: mitigation for VXLAN behind NAT (flannel PR #1282 / #1929).")
        lines += ["ethtool -K %s tx off" % w["device"] for w in wanted]
    return "\n".join(lines) + "\n"


def plan_device_state(current, want, link_plan, found, summary):
    """The commands that bring one declared device (WANT, one of devices(want)) from
    CURRENT (its ``ip -json -details addr show`` entry, or None) and FOUND (read_device's
    dict, or {}) to the declared state, as LINK_PLAN (plan_device) says, counting fdb and
    neighbor changes in SUMMARY. Returns (commands, before or None (created now), after)."""
    name = want["device"]
    cmds, before = [], None
    tx_on = found.get("tx")
    fdb_live, neigh_live = found.get("fdb", {}), found.get("neighbors", {})
    addresses = _vtep_addresses(want)
    sysctl = ["sysctl", disable_ipv6_path(name), "0"]
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
        ]
        for address in addresses:
            if ":" in address:
                # A new link takes the host's default, often IPv6 off (Docker's containers).
                cmds += [sysctl, ["ip", "addr", "add", address, "dev", name, "nodad"]]
            else:
                cmds.append(["ip", "addr", "add", address, "dev", name])
        cmds.append(["ip", "link", "set", "dev", name, "up"])
        tx_on = True  # a new VXLAN device starts with TX checksum offload on
        fdb_live, neigh_live = {}, {}
    else:
        if current.get("address", "").lower() != want["vtep_mac"]:
            cmds.append(["ip", "link", "set", "dev", name, "address", want["vtep_mac"]])
        if current.get("mtu") != want["mtu"]:
            cmds.append(["ip", "link", "set", "dev", name, "mtu", str(want["mtu"])])
        live_addrs = parse_addresses(current) + parse_addresses_ipv6(current)
        for stale in live_addrs:
            if stale not in addresses:
                cmds.append(["ip", "addr", "del", stale, "dev", name])
        for address in addresses:
            if ":" in address and found.get("disable_ipv6") != "0":
                cmds.append(sysctl)
            if address not in live_addrs:
                cmds.append(["ip", "addr", "add", address, "dev", name] + (["nodad"] if ":" in address else []))
        if "UP" not in current.get("flags", []):
            cmds.append(["ip", "link", "set", "dev", name, "up"])
        before = dict(
            addresses=live_addrs,
            fdb=dict((m, [d for d, dummy in v]) for m, v in sorted(fdb_live.items())),
            neighbors=dict(sorted(neigh_live.items(), key=lambda kv: _ip_key(kv[0]))),
        )
        if tx_on is not None:
            before["tx_checksum_offload"] = tx_on

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
    for ip in sorted(neigh_live, key=_ip_key):
        if ip not in neigh_want:
            summary["neighbors"]["delete"] += 1
            cmds.append(["ip", "neigh", "del", ip, "dev", name])
    for ip in sorted(neigh_want, key=_ip_key):
        mac = neigh_want[ip]
        if neigh_live.get(ip) == mac:
            continue
        summary["neighbors"]["change" if ip in neigh_live else "add"] += 1
        cmds.append(["ip", "neigh", "replace", ip, "lladdr", mac, "dev", name, "nud", "permanent"])

    after = dict(
        addresses=addresses,
        fdb=dict((m, [d]) for m, d in sorted(fdb_want.items())),
        neighbors=dict(sorted(neigh_want.items(), key=lambda kv: _ip_key(kv[0]))),
    )
    if tx_on is not None:
        after["tx_checksum_offload"] = want["tx_checksum_offload"]
    return cmds, before, after


def plan(live, name, want, adopt=False, owned_re=None):
    """From LIVE state (read_live) and WANT (check_wanted: None means no overlay) to the
    ordered commands ([tool, arg, ...]; ["sysctl", /proc/sys path, value] writes that
    file), the files ({path: content or None}), the boot step script (or None), and what
    the run reports. NAME is the IPv4-underlay device's name (or None); the
    IPv6-underlay device, WANT's ipv6, is reported under the key ipv6 of before and
    after. Pure: no host, no Ansible."""
    owned_re = owned_re or re.compile(OWNED_PATTERN)
    links = live["links"]
    want4 = want if want and want.get("device") else None
    want6 = (want or {}).get("ipv6")
    name6 = want6["device"] if want6 else None
    link_keys = ("device", "vni", "port", "local")
    link_plan = plan_links(
        links, owned_re, name,
        dict((k, want4[k]) for k in link_keys) if want4 else None,
        adopt, live.get("recorded"), keep=(name6,) if name6 else (),
    )
    link_plan6 = (plan_device(links, name6, dict((k, want6[k]) for k in link_keys), adopt, live.get("recorded"),
                              "podnet_plan_vxlan_device_ipv6") if want6 else None)
    summary = dict(fdb=dict(add=0, change=0, delete=0), neighbors=dict(add=0, change=0, delete=0))
    result = dict(
        error=link_plan["error"] or (link_plan6 or {}).get("error"), owner=link_plan["owner"],
        owner_ipv6=link_plan6["owner"] if link_plan6 else "none", left_alone=link_plan["left_alone"],
        recreated=link_plan["recreate"] or bool(link_plan6 and link_plan6["recreate"]),
        summary=summary, commands=[], files={}, boot=None,
        before=dict(links=sorted(
            n for n, link in links.items()
            if link_kind(link) == "vxlan" and (owned_re.match(n) or n in (name, name6))
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

    after = result["after"] = dict(links=[w["device"] for w in devices(want)])
    for wanted, planned, found, key in ((want4, link_plan, live, None), (want6, link_plan6, live.get("ipv6") or {}, "ipv6")):
        if wanted is None:
            continue
        commands, before, after_device = plan_device_state(links.get(wanted["device"]), wanted, planned, found, summary)
        cmds += commands
        if key:
            after[key] = after_device
            if before is not None:
                result["before"][key] = before
        else:
            after.update(after_device)
            if before is not None:
                result["before"].update(before)

    ip_batch, fdb_batch = batch_files(devices(want))
    result["files"] = {IP_BATCH: ip_batch, FDB_BATCH: fdb_batch}
    result["boot"] = boot_script(want)
    return result


# --- apply ---------------------------------------------------------------------------


# The module's arguments (AnsibleModule's argument_spec; the agent fills defaults from it).
ARGUMENT_SPEC = dict(
    device=dict(type="dict"),
    fdb=dict(type="list", elements="dict", default=[]),
    neighbors=dict(type="list", elements="dict", default=[]),
    # Dual stack: the IPv6-underlay device (flannel-v6.<vni>) and its entries; None / []
    # (the defaults) leave a host as an IPv4-only run does.
    device_ipv6=dict(type="dict"),
    fdb_ipv6=dict(type="list", elements="dict", default=[]),
    neighbors_ipv6=dict(type="list", elements="dict", default=[]),
    tx_checksum_offload=dict(type="bool", default=True),
    adopt=dict(type="bool", default=False),
    owned_pattern=dict(type="str", default=OWNED_PATTERN),
    state=dict(type="str", default="present", choices=["present", "absent"]),
)


def converge(module):
    """Read, plan (pure) and apply with MODULE (an AnsibleModule, or the agent's stand-in
    with the same surface); ends in module.exit_json (finish) or module.fail_json."""
    p = module.params
    want, error = check_wanted(p["state"], p["device"], p["fdb"], p["neighbors"], p["tx_checksum_offload"],
                               p.get("device_ipv6"), p.get("fdb_ipv6"), p.get("neighbors_ipv6"))
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
        module.fail_json(msg=result["error"], before=result["before"], owner=result["owner"],
                         owner_ipv6=result["owner_ipv6"], actions=[])
    for n in result["left_alone"]:
        module.warn("podnet_vxlan: VXLAN link %s is not podnet's (no alias %s): left alone" % (n, OWNER_MARK))

    diffs = []
    for command in result["commands"]:
        if command[0] == "sysctl":
            write_proc(module, command[1], command[2], runner.actions)
        else:
            runner.change(command[0], command[1:])
    if runner.actions:
        live_diff(diffs, " and ".join(w["device"] for w in devices(want)) or name or "podnet VXLAN links",
                  result["before"], result["after"])
    for path in (IP_BATCH, FDB_BATCH):
        persist_file(module, path, result["files"][path], runner.actions, diffs)
    boot_step(module, BOOT_ORDER, BOOT_CONCERN, result["boot"], runner.actions, diffs)
    retire_unit(module, OLD_UNIT, runner.actions, diffs)
    finish(module, runner.actions, diffs, recreated=result["recreated"], before=result["before"],
           summary=result["summary"], owner=result["owner"], owner_ipv6=result["owner_ipv6"],
           left_alone=result["left_alone"])
