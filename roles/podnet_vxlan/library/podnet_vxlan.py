#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: podnet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge podnet's flannel-layout VXLAN device, its fdb and neighbor entries."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: podnet_vxlan
short_description: Converge podnet's VXLAN device (flannel layout) with its fdb and neighbors
description:
  - One call converges the whole overlay concern of a host, whatever the number of peers
    (no task loop over peers).
  - Reads live state with C(ip -json -details link show), C(ip -json -4 addr show),
    C(bridge -json fdb show dev DEV), C(ip -json -4 neigh show dev DEV) and (when the
    tx checksum offload is managed) C(ethtool -k DEV); adds what is missing, changes
    what differs, deletes podnet-owned entries that are no longer declared and leaves
    unchanged entries alone.
  - Podnet marks every VXLAN device it creates with the link alias (C(ifalias))
    V(podnet-owned), live and in the batch file, so the mark survives a reboot. Only
    marked links are podnet's. A VXLAN link named like the declared device (or matching
    O(owned_pattern), flannel.<vni>) without the mark, e.g. a stock flanneld's
    flannel.1, is never modified. With O(state=present) and the declared device's
    name the module fails before changing anything, naming the link and the fix
    (remove it, use another device name, or set O(adopt)). Otherwise it is left alone
    and reported in RV(left_alone).
  - A device made by a podnet version older than the mark is recognised by podnet's own
    batch file (O(persist_path)). When the file records the MAC address the unmarked
    link has, the link is podnet's and is marked (or deleted) like any podnet device.
    Matching live parameters are not enough (a flanneld adopting podnet's etcd lease
    builds a device with exactly podnet's VNI, port, local address and VTEP MAC).
  - Marked VXLAN links of that pattern other than the declared device are deleted
    (e.g. after a VNI change). On the device, podnet owns every fdb entry with a
    destination (except the all-zeros MAC) and every PERMANENT IPv4 neighbor outside
    169.254.0.0/16; the kernel's own dynamic entries are ignored.
  - VNI, UDP port and local address cannot be changed on a live device; when they
    differ (or learning is on, or a group/remote is set) the device is recreated.
options:
  device:
    description:
      - The declared device; null or omitted means the host needs no overlay, so every
        podnet-owned VXLAN link is deleted.
    type: dict
    suboptions:
      device: {description: Link name, e.g. V(flannel.1)., type: str, required: true}
      vni: {description: VXLAN network identifier., type: int, required: true}
      port: {description: UDP destination port., type: int, required: true}
      local: {description: Own underlay IPv4 address (source of the tunnel)., type: str, required: true}
      vtep_ip: {description: VTEP IPv4 address, set on the device as /32., type: str, required: true}
      vtep_mac: {description: VTEP MAC address of the device., type: str, required: true}
      mtu: {description: MTU of the device., type: int, required: true}
  fdb:
    description: Forwarding entries, one per peer VTEP.
    type: list
    elements: dict
    default: []
    suboptions:
      mac: {description: Peer VTEP MAC., type: str, required: true}
      dst: {description: Peer underlay IPv4 address., type: str, required: true}
  neighbors:
    description: Permanent neighbor entries, one per peer VTEP.
    type: list
    elements: dict
    default: []
    suboptions:
      ip: {description: Peer VTEP IPv4 address., type: str, required: true}
      mac: {description: Peer VTEP MAC., type: str, required: true}
  tx_checksum_offload:
    description:
      - V(false) turns TX checksum offload off on the device (C(ethtool -K DEV tx off)),
        the mitigation for VXLAN traffic stalling behind NAT (flannel PR 1282/1929).
      - V(true) keeps (or turns back) the kernel default, on. Needs C(ethtool) only when
        it must be read or changed.
    type: bool
    default: true
  persist_path:
    description:
      - Batch file for C(ip -force -batch) that persists the device (address, MTU, up)
        and its neighbors at boot (podnet-vxlan.service), e.g. V(/etc/podnet/vxlan.batch).
      - Written atomically (root:root 0644, its directory created 0755) from the declared
        state, only when its content differs; in check mode only reported. A file edited
        by hand is rewritten. Removed when no overlay is declared or O(state=absent).
      - Omitted means nothing is persisted.
    type: path
  persist_fdb_path:
    description:
      - Batch file for C(bridge -force -batch) that persists the fdb entries at boot,
        e.g. V(/etc/podnet/vxlan-fdb.batch); handled like O(persist_path).
    type: path
  adopt:
    description:
      - With O(state=present), take over an existing VXLAN link with the declared
        device's name that podnet did not create (no mark). Podnet reconfigures it
        (recreating it when VNI, port or local address differ) and marks it as its own.
      - V(false) refuses such a link. Only the declared device can be adopted; other
        unmarked links are always left alone.
    type: bool
    default: false
  owned_pattern:
    description: Regular expression of the VXLAN link names podnet may have created (and, when marked, deletes).
    type: str
    default: '^flannel\.[0-9]+$'
  state:
    description: V(absent) deletes every podnet-owned VXLAN link (and with it its entries) and the batch files.
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
- name: Vxlan | converge flannel.1
  podnet_vxlan:
    device:
      device: flannel.1
      vni: 1
      port: 8472
      local: 192.168.1.11
      vtep_ip: 10.244.1.0
      vtep_mac: 0a:58:0a:f4:01:00
      mtu: 1450
    fdb:
      - {mac: "0a:58:0a:f4:02:00", dst: 192.168.1.12}
    neighbors:
      - {ip: 10.244.2.0, mac: "0a:58:0a:f4:02:00"}
    persist_path: /etc/podnet/vxlan.batch
    persist_fdb_path: /etc/podnet/vxlan-fdb.batch
"""

RETURN = r"""
actions:
  description:
    - The commands run (or, in check mode, that would run), in order, followed by the
      file changes of O(persist_path) and O(persist_fdb_path) (C(write PATH), C(rm PATH)).
  returned: always
  type: list
  elements: str
  sample: ["bridge fdb replace 0a:58:0a:f4:02:00 dev flannel.1 dst 192.168.1.12 self permanent"]
recreated:
  description: Whether the device was (or would be) deleted and created again.
  returned: always
  type: bool
before:
  description: Podnet-owned live state read before any change.
  returned: always
  type: dict
  sample: {"links": ["flannel.1"], "fdb": {"0a:58:0a:f4:02:00": ["192.168.1.12"]}, "neighbors": {"10.244.2.0": "0a:58:0a:f4:02:00"}}
owner:
  description:
    - Who the declared device belonged to before this run. V(none) (no such link or no
      device declared), V(podnet) (marked), V(legacy) (made by an older podnet, proven
      by its batch file), V(adopted) (taken over through O(adopt)) or V(foreign).
  returned: always
  type: str
  sample: podnet
left_alone:
  description: VXLAN links with a podnet name that are not podnet's and were left unmodified.
  returned: always
  type: list
  elements: str
  sample: ["flannel.1"]
summary:
  description: Counts of entries added, changed and deleted.
  returned: always
  type: dict
  sample: {"fdb": {"add": 1, "change": 0, "delete": 0}, "neighbors": {"add": 1, "change": 0, "delete": 0}}
"""

import errno
import ipaddress
import json
import os
import re
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

# The link alias (ifalias) podnet gives every link it creates: the mark that tells
# podnet's links from links of the same name that someone else (flanneld) made.
OWNER_MARK = "podnet-owned"
ZERO_MAC = "00:00:00:00:00:00"
MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
LINK_LOCAL = ipaddress.IPv4Network("169.254.0.0/16")


class Runner:
    """Reads always; changes only outside check mode. Records every change."""

    def __init__(self, module):
        self.module = module
        self.bins = {}
        self.actions = []

    def bin(self, name, required=True):
        if name not in self.bins:
            self.bins[name] = self.module.get_bin_path(name, required=required)
        return self.bins[name]

    def read(self, tool, args, json_out=True):
        cmd = [self.bin(tool)] + (["-json"] if json_out else []) + args
        rc, out, err = self.module.run_command(cmd)
        if rc != 0:
            if "does not exist" in err or "Cannot find device" in err:
                return None
            self.module.fail_json(msg="'%s %s' failed: %s" % (tool, " ".join(args), err.strip()))
        if not json_out:
            return out
        return json.loads(out) if out.strip() else []

    def change(self, tool, args):
        self.actions.append("%s %s" % (tool, " ".join(args)))
        if self.module.check_mode:
            return
        rc, dummy, err = self.module.run_command([self.bin(tool)] + args)
        if rc != 0:
            self.module.fail_json(
                msg="'%s %s' failed: %s" % (tool, " ".join(args), err.strip()), actions=self.actions
            )


def norm_mac(module, value, what):
    mac = str(value).strip().lower()
    if not MAC_RE.match(mac):
        module.fail_json(msg="%s: %r is not a MAC address like 0a:58:0a:f4:01:00" % (what, value))
    return mac


def norm_ip(module, value, what):
    try:
        return str(ipaddress.IPv4Address(str(value).strip()))
    except ValueError:
        module.fail_json(msg="%s: %r is not an IPv4 address" % (what, value))


def tx_checksumming(runner, dev):
    """Return True/False for 'tx-checksumming' of DEV as ethtool -k reports it."""
    out = runner.read("ethtool", ["-k", dev], json_out=False)
    for line in (out or "").splitlines():
        if line.startswith("tx-checksumming:"):
            return line.split(":", 1)[1].split()[0] == "on"
    runner.module.fail_json(msg="ethtool -k %s printed no tx-checksumming line" % dev)


def read_text(module, path):
    """The content of PATH, or None when it is not set or does not exist."""
    if not path:
        return None
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        if exc.errno != errno.ENOENT:
            module.fail_json(msg="cannot read %s: %s" % (path, exc))
        return None


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


def batch_contents(p, name, vtep_ip, vtep_mac, mtu, fdb, neighbors):
    """The two boot-time batch files (ip, bridge) for the declared state, in declared order."""
    ip_batch = managed_header("podnet_vxlan") + (
        "# Applied at boot by podnet-vxlan.service with `ip -force -batch`; the unit creates\n"
        "# the device first when it is missing and refuses a {n} that lacks podnet's mark\n"
        "# (alias {o}), so every line here is idempotent and touches only podnet's device.\n"
        "link set dev {n} alias {o}\n"
        "link set dev {n} address {mac} mtu {mtu}\n"
        "addr replace {ip}/32 dev {n}\n"
        "link set dev {n} up\n"
    ).format(n=name, mac=vtep_mac, mtu=mtu, ip=vtep_ip, o=OWNER_MARK)
    for ip, mac in neighbors:
        ip_batch += "neigh replace %s lladdr %s dev %s nud permanent\n" % (ip, mac, name)
    fdb_batch = managed_header("podnet_vxlan") + (
        "# Applied at boot by podnet-vxlan.service with `bridge -force -batch`, after\n"
        "# %s (fdb entries are not ip commands).\n" % (p["persist_path"] or "the ip batch file")
    )
    for mac, dst in fdb:
        fdb_batch += "fdb replace %s dev %s dst %s self permanent\n" % (mac, name, dst)
    return ip_batch, fdb_batch


def persist(module, contents, actions, diffs):
    """Write (or with contents None, remove) the batch files that are configured."""
    p = module.params
    for path, content in zip((p["persist_path"], p["persist_fdb_path"]), contents):
        if path:
            persist_file(module, path, content, actions, diffs)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            device=dict(
                type="dict",
                options=dict(
                    device=dict(type="str", required=True),
                    vni=dict(type="int", required=True),
                    port=dict(type="int", required=True),
                    local=dict(type="str", required=True),
                    vtep_ip=dict(type="str", required=True),
                    vtep_mac=dict(type="str", required=True),
                    mtu=dict(type="int", required=True),
                ),
            ),
            fdb=dict(
                type="list",
                elements="dict",
                default=[],
                options=dict(mac=dict(type="str", required=True), dst=dict(type="str", required=True)),
            ),
            neighbors=dict(
                type="list",
                elements="dict",
                default=[],
                options=dict(ip=dict(type="str", required=True), mac=dict(type="str", required=True)),
            ),
            tx_checksum_offload=dict(type="bool", default=True),
            persist_path=dict(type="path"),
            persist_fdb_path=dict(type="path"),
            adopt=dict(type="bool", default=False),
            owned_pattern=dict(type="str", default=r"^flannel\.[0-9]+$"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    runner = Runner(module)
    diffs = []
    owned_re = re.compile(p["owned_pattern"])
    want = p["device"] if p["state"] == "present" else None
    name = p["device"]["device"] if p["device"] else None

    links = runner.read("ip", ["-details", "link", "show"]) or []
    by_name = dict((link["ifname"], link) for link in links)
    owned = sorted(
        n for n, link in by_name.items()
        if link_kind(link) == "vxlan" and (owned_re.match(n) or n == name)
    )
    before = dict(links=owned)
    summary = dict(
        fdb=dict(add=0, change=0, delete=0), neighbors=dict(add=0, change=0, delete=0)
    )

    # Validate the declared state before anything is read further or changed.
    if want:
        if not re.match(r"^[A-Za-z0-9_.-]{1,15}$", name):
            module.fail_json(msg="device.device %r is not a valid link name" % name)
        local = norm_ip(module, want["local"], "device.local")
        vtep_ip = norm_ip(module, want["vtep_ip"], "device.vtep_ip")
        vtep_mac = norm_mac(module, want["vtep_mac"], "device.vtep_mac")
        vni, port, mtu = want["vni"], want["port"], want["mtu"]

        fdb_want, fdb_order = {}, []
        for i, entry in enumerate(p["fdb"]):
            mac = norm_mac(module, entry["mac"], "fdb[%d].mac" % i)
            if mac in fdb_want:
                module.fail_json(msg="fdb: MAC %s is declared twice" % mac)
            fdb_want[mac] = norm_ip(module, entry["dst"], "fdb[%d].dst" % i)
            fdb_order.append((mac, fdb_want[mac]))
        neigh_want, neigh_order = {}, []
        for i, entry in enumerate(p["neighbors"]):
            ip = norm_ip(module, entry["ip"], "neighbors[%d].ip" % i)
            if ip in neigh_want:
                module.fail_json(msg="neighbors: IP %s is declared twice" % ip)
            neigh_want[ip] = norm_mac(module, entry["mac"], "neighbors[%d].mac" % i)
            neigh_order.append((ip, neigh_want[ip]))

    # Plan the links (pure): a refused take-over fails here, before any change.
    plan = plan_links(
        by_name, owned_re, name,
        dict(device=name, vni=vni, port=port, local=local) if want else None,
        p["adopt"], recorded_macs(read_text(module, p["persist_path"])),
    )
    if plan["error"]:
        module.fail_json(msg=plan["error"], before=before, owner=plan["owner"], actions=[])
    before["links"] = [n for n in owned if n not in plan["left_alone"]]
    for n in plan["left_alone"]:
        module.warn("podnet_vxlan: VXLAN link %s is not podnet's (no alias %s): left alone" % (n, OWNER_MARK))

    # Stale podnet VXLAN links (no overlay wanted, absent, or another VNI's device).
    for n in plan["delete"]:
        runner.change("ip", ["link", "del", "dev", n])

    if not want:
        persist(module, (None, None), runner.actions, diffs)
        result = dict(
            changed=bool(runner.actions), actions=runner.actions, recreated=False,
            before=before, summary=summary, owner=plan["owner"], left_alone=plan["left_alone"],
        )
        if module._diff and diffs:
            result["diff"] = diffs
        module.exit_json(**result)

    current = by_name.get(name)
    create, recreated = plan["create"], plan["recreate"]
    if recreated:
        runner.change("ip", ["link", "del", "dev", name])
    if plan["mark"]:
        runner.change("ip", ["link", "set", "dev", name, "alias", OWNER_MARK])

    if create:
        runner.change(
            "ip",
            ["link", "add", name, "type", "vxlan", "id", str(vni), "local", local,
             "dstport", str(port), "nolearning"],
        )
        runner.change("ip", ["link", "set", "dev", name, "alias", OWNER_MARK])
        runner.change("ip", ["link", "set", "dev", name, "address", vtep_mac, "mtu", str(mtu)])
        runner.change("ip", ["addr", "add", "%s/32" % vtep_ip, "dev", name])
        runner.change("ip", ["link", "set", "dev", name, "up"])
        tx_on = True  # a new VXLAN device starts with TX checksum offload on
        fdb_live, neigh_live = {}, {}
    else:
        if current.get("address", "").lower() != vtep_mac:
            runner.change("ip", ["link", "set", "dev", name, "address", vtep_mac])
        if current.get("mtu") != mtu:
            runner.change("ip", ["link", "set", "dev", name, "mtu", str(mtu)])
        addrs = []
        for entry in runner.read("ip", ["-4", "addr", "show", "dev", name]) or []:
            for addr in entry.get("addr_info", []):
                if addr.get("family") == "inet":
                    addrs.append("%s/%s" % (addr["local"], addr["prefixlen"]))
        want_addr = "%s/32" % vtep_ip
        for stale in addrs:
            if stale != want_addr:
                runner.change("ip", ["addr", "del", stale, "dev", name])
        if want_addr not in addrs:
            runner.change("ip", ["addr", "add", want_addr, "dev", name])
        if "UP" not in current.get("flags", []):
            runner.change("ip", ["link", "set", "dev", name, "up"])
        before["addresses"] = addrs

        tx_on = None
        if not p["tx_checksum_offload"] or runner.bin("ethtool", required=False):
            tx_on = tx_checksumming(runner, name)

        fdb_live = {}
        for entry in runner.read("bridge", ["fdb", "show", "dev", name]) or []:
            mac = entry.get("mac", "").lower()
            if "dst" not in entry or mac == ZERO_MAC:
                continue  # not an entry podnet could have made
            permanent = entry.get("state") == "permanent"
            fdb_live.setdefault(mac, []).append((entry["dst"], permanent))
        neigh_live = {}
        for entry in runner.read("ip", ["-4", "neigh", "show", "dev", name]) or []:
            try:
                addr = ipaddress.IPv4Address(entry.get("dst", ""))
            except ValueError:
                continue
            if addr in LINK_LOCAL or "PERMANENT" not in entry.get("state", []):
                continue  # the kernel's own (dynamic) entries are left alone
            neigh_live[str(addr)] = entry.get("lladdr", "").lower()
        before["fdb"] = dict((m, [d for d, dummy in v]) for m, v in sorted(fdb_live.items()))
        before["neighbors"] = dict(sorted(neigh_live.items()))

    if tx_on is not None:
        before["tx_checksum_offload"] = tx_on
        if tx_on != p["tx_checksum_offload"]:
            runner.change("ethtool", ["-K", name, "tx", "on" if p["tx_checksum_offload"] else "off"])

    # fdb: delete what is no longer declared, then add/replace what is missing/differs.
    for mac in sorted(fdb_live):
        entries = fdb_live[mac]
        wanted = fdb_want.get(mac)
        if wanted is not None and len(entries) == 1:
            continue  # one entry for a declared MAC: replaced below if it differs
        for dst, dummy in entries:
            runner.change("bridge", ["fdb", "del", mac, "dev", name, "dst", dst, "self"])
            if wanted is None:
                summary["fdb"]["delete"] += 1
        if wanted is not None:
            fdb_live[mac] = []
    for mac in sorted(fdb_want):
        dst = fdb_want[mac]
        live = fdb_live.get(mac) or []
        if live == [(dst, True)]:
            continue
        summary["fdb"]["change" if live else "add"] += 1
        runner.change("bridge", ["fdb", "replace", mac, "dev", name, "dst", dst, "self", "permanent"])

    for ip in sorted(neigh_live, key=ipaddress.IPv4Address):
        if ip not in neigh_want:
            summary["neighbors"]["delete"] += 1
            runner.change("ip", ["neigh", "del", ip, "dev", name])
    for ip in sorted(neigh_want, key=ipaddress.IPv4Address):
        mac = neigh_want[ip]
        if neigh_live.get(ip) == mac:
            continue
        summary["neighbors"]["change" if ip in neigh_live else "add"] += 1
        runner.change("ip", ["neigh", "replace", ip, "lladdr", mac, "dev", name, "nud", "permanent"])

    if runner.actions:
        after = dict(
            links=[name], addresses=["%s/32" % vtep_ip],
            fdb=dict((m, [d]) for m, d in sorted(fdb_want.items())),
            neighbors=dict(sorted(neigh_want.items(), key=lambda kv: ipaddress.IPv4Address(kv[0]))),
        )
        if tx_on is not None:
            after["tx_checksum_offload"] = p["tx_checksum_offload"]
        diffs.append(dict(
            before_header="%s (live)" % name, after_header="%s (live)" % name,
            before=json.dumps(before, indent=2, sort_keys=True) + "\n",
            after=json.dumps(after, indent=2, sort_keys=True) + "\n",
        ))
    persist(
        module,
        batch_contents(p, name, vtep_ip, vtep_mac, mtu, fdb_order, neigh_order),
        runner.actions, diffs,
    )
    result = dict(
        changed=bool(runner.actions), actions=runner.actions, recreated=recreated,
        before=before, summary=summary, owner=plan["owner"], left_alone=plan["left_alone"],
    )
    if module._diff and diffs:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
