#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Converge podnet's flannel-layout VXLAN device, its fdb and neighbor entries, the
files that persist them and their boot step: read -> pure plan -> apply."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: podnet_vxlan
short_description: Converge podnet's VXLAN devices (flannel layout) with their fdb, neighbors and boot step
description:
  - The one task of the C(podnet_vxlan) role. One call converges the whole overlay
    concern of a host, whatever the number of peers (no task loop over peers), namely the live
    device, its fdb and neighbor entries, the batch files that persist them, and the boot
    step that C(podnet.service) replays at boot.
  - Checks the meaning of its input before it changes anything and fails with a message
    naming the role variable (V(podnet_vxlan_device), V(podnet_vxlan_fdb),
    V(podnet_vxlan_neighbors), V(podnet_vxlan_device_ipv6), V(podnet_vxlan_fdb_ipv6),
    V(podnet_vxlan_neighbors_ipv6)), the culprit and the fix.
  - Dual stack, up to two devices. O(device) (C(flannel.<vni>)) runs over the IPv4
    underlay, O(device_ipv6) (C(flannel-v6.<vni>)) over the IPv6 underlay, with the same
    VNI and port (the kernel keeps one IPv4 and one IPv6 socket on a port). Either
    carries IPv4 pods (its C(vtep_ip), as /32) and IPv6 pods (its C(vtep_ip_ipv6), as
    /128, added with nodad after the device's own C(net.ipv6.conf.DEV.disable_ipv6) is
    set to 0, live and at boot). Its neighbors may be of either family, each needing a
    VTEP address of that family on the device.
  - Reads live state with C(ip -json -details addr show), C(bridge -json fdb show dev DEV),
    C(ip -json -4 neigh show dev DEV), C(ip -json -6 neigh show dev DEV) (wherever the
    kernel has IPv6) and (when the tx checksum offload is managed)
    C(ethtool -k DEV); a pure plan turns it into the commands that add what is missing,
    change what differs, delete podnet-owned entries no longer declared and leave
    unchanged entries alone.
  - Podnet marks every VXLAN device it creates with the link alias (C(ifalias))
    V(podnet-owned), live and in the batch file, so the mark survives a reboot. Only
    marked links are podnet's. A VXLAN link named like the declared device (or matching
    O(owned_pattern), flannel.<vni> and flannel-v6.<vni>) without the mark, e.g. a stock flanneld's
    flannel.1, is never modified. With O(state=present) and the declared device's
    name the module fails before changing anything, naming the link and the fix
    (remove it, use another device name, or set O(adopt)). Otherwise it is left alone
    and reported in RV(left_alone).
  - A device made by a podnet version older than the mark is recognised by podnet's own
    batch file (C(/etc/podnet/vxlan.batch)). When the file records the MAC address the
    unmarked link has, the link is podnet's and is marked (or deleted) like any podnet
    device. Matching live parameters are not enough (a flanneld adopting podnet's etcd
    lease builds a device with exactly podnet's VNI, port, local address and VTEP MAC).
  - Marked VXLAN links of that pattern other than the declared device are deleted
    (e.g. after a VNI change, or a flannel-v6.<vni> no longer needed). On a device,
    podnet owns every fdb entry with a destination (except the all-zeros MAC), every
    PERMANENT neighbor outside 169.254.0.0/16 and fe80::/10 and every address but IPv6
    link-local ones; the kernel's own dynamic entries are ignored.
  - VNI, UDP port and local address cannot be changed on a live device; when they
    differ (or learning is on, or a group/remote is set) the device is recreated.
  - Persists C(/etc/podnet/vxlan.batch) (C(ip -force -batch)) and
    C(/etc/podnet/vxlan-fdb.batch) (C(bridge -force -batch)), root:root 0644, written
    atomically and only when their content differs, and the boot step
    C(/etc/podnet/boot.d/30-vxlan.sh). The step creates each marked device when it is
    missing, refuses (fails on) an unmarked one, switches IPv6 on on a device with an
    IPv6 VTEP address, applies both batch files and, with
    O(tx_checksum_offload=false), turns TX checksum offload off. The per-concern unit
    C(podnet-vxlan.service) of older podnet versions is removed.
  - With no device declared (null or empty) or O(state=absent), deletes every
    podnet-owned VXLAN link (and with it its entries), both batch files and the boot step.
options:
  device:
    description:
      - The declared device (the host view's C(vxlan)), a dict with the keys C(device)
        (link name, e.g. V(flannel.1)), C(vni) (1-16777215), C(port) (UDP destination
        port, 1-65535), C(local) (own underlay IPv4 address), C(vtep_ip) (VTEP IPv4
        address, set on the device as /32), C(vtep_mac) (VTEP MAC) and C(mtu) (68-65535).
      - Optional C(vtep_ip_ipv6) (dual stack, the network address of the node's IPv6 pod
        prefix) is set on the device as /128, for IPv6 pods over the IPv4 underlay.
      - Null or empty means the host needs no overlay, so every podnet-owned VXLAN link is
        deleted. With O(state=absent) only C(device) is read (a podnet link of that name
        outside O(owned_pattern) is deleted too).
    type: dict
  fdb:
    description: Forwarding entries, one per peer VTEP, each C({mac, dst}) (peer VTEP MAC, peer underlay IPv4).
    type: list
    elements: dict
    default: []
  neighbors:
    description:
      - Permanent neighbor entries, one per peer VTEP address, each C({ip, mac}) (peer VTEP
        IPv4 or IPv6 address, peer VTEP MAC).
      - An IPv6 entry needs C(vtep_ip_ipv6) in O(device).
    type: list
    elements: dict
    default: []
  device_ipv6:
    description:
      - The IPv6-underlay device (the host view's C(vxlan_ipv6), dual stack), a dict with
        the keys C(device) (e.g. V(flannel-v6.1)), C(vni), C(port), C(local) (own underlay
        IPv6 address), C(vtep_ip) (IPv4 VTEP address or V(null)), C(vtep_ip_ipv6) (IPv6
        VTEP address or V(null); at least one of the two), C(vtep_mac) (its own MAC) and
        C(mtu) (underlay MTU - 70).
      - Null (the default) means no tunnel of this host runs over IPv6; a podnet-owned
        flannel-v6.<vni> is then deleted.
    type: dict
  fdb_ipv6:
    description: Forwarding entries of O(device_ipv6), each C({mac, dst}) (peer MAC, peer underlay IPv6).
    type: list
    elements: dict
    default: []
  neighbors_ipv6:
    description:
      - Permanent neighbor entries of O(device_ipv6), each C({ip, mac}) (peer VTEP IPv4 or
        IPv6 address, the MAC of the peer's IPv6-underlay device).
      - An entry needs a VTEP address of its family in O(device_ipv6).
    type: list
    elements: dict
    default: []
  tx_checksum_offload:
    description:
      - V(false) turns TX checksum offload off on the device (C(ethtool -K DEV tx off)),
        live and at boot, the mitigation for VXLAN traffic stalling behind NAT (flannel
        PR 1282/1929).
      - V(true) keeps (or turns back) the kernel default, on. Needs C(ethtool) only when
        it must be read or changed.
    type: bool
    default: true
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
    default: '^flannel(-v6)?\.[0-9]+$'
  state:
    description:
      - V(present) converges and persists the declared device.
      - V(absent) deletes every podnet-owned VXLAN link, the batch files and the boot step.
      - With no O(device) but O(device_ipv6) (a node with only an IPv6 underlay), only the
        IPv6-underlay device is converged.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment: [podnet.network.attributes]
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

- name: Vxlan | dual stack, IPv6 pods over flannel.1 and a second device over the IPv6 underlay
  podnet_vxlan:
    device:
      device: flannel.1
      vni: 1
      port: 8472
      local: 192.168.1.11
      vtep_ip: 10.244.1.0
      vtep_ip_ipv6: "fd00:10:244:1::"
      vtep_mac: 0a:58:0a:f4:01:00
      mtu: 1450
    fdb:
      - {mac: "0a:58:0a:f4:02:00", dst: 192.168.1.12}
    neighbors:
      - {ip: 10.244.2.0, mac: "0a:58:0a:f4:02:00"}
      - {ip: "fd00:10:244:2::", mac: "0a:58:0a:f4:02:00"}
    device_ipv6:
      device: flannel-v6.1
      vni: 1
      port: 8472
      local: "2001:db8:1::11"
      vtep_ip: null
      vtep_ip_ipv6: "fd00:10:244:1::"
      vtep_mac: 0e:58:0a:f4:01:00
      mtu: 1430
    fdb_ipv6:
      - {mac: "0e:58:0a:f4:03:00", dst: "2001:db8:2::13"}
    neighbors_ipv6:
      - {ip: "fd00:10:244:3::", mac: "0e:58:0a:f4:03:00"}

- name: Vxlan | remove podnet's VXLAN devices, batch files and boot step
  podnet_vxlan:
    state: absent
"""

RETURN = r"""
actions:
  description:
    - The commands run (or, in check mode, that would run), in order, followed by the
      file changes (C(write PATH), C(rm PATH), C(mkdir -p ...)).
  returned: always
  type: list
  elements: str
  sample: ["bridge fdb replace 0a:58:0a:f4:02:00 dev flannel.1 dst 192.168.1.12 self permanent"]
recreated:
  description: Whether the device was (or would be) deleted and created again.
  returned: always
  type: bool
before:
  description:
    - Podnet-owned live state read before any change (the IPv6-underlay device's under the key C(ipv6)).
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
owner_ipv6:
  description: Who O(device_ipv6)'s link belonged to before this run, as RV(owner); V(none) when none is declared.
  returned: always
  type: str
  sample: none
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

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils import podnet_concern_vxlan as concern


def __getattr__(name):
    # The read, plan and apply code lives in module_utils/podnet_concern_vxlan.py, shared
    # with the node agent; its names (the pure plan steps) read through this module too.
    return getattr(concern, name)


def main():
    concern.converge(AnsibleModule(argument_spec=concern.ARGUMENT_SPEC, supports_check_mode=True))


if __name__ == "__main__":
    main()
