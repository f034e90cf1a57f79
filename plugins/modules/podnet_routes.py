#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Converge podnet's routes (tagged with podnet's route protocol) in the main table, the
files that persist them and their boot step: read -> pure plan -> apply."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: podnet_routes
short_description: Converge the IPv4 routes tagged with podnet's route protocol, and their boot step
description:
  - The one task of the C(podnet_routes) role. One call converges all of a host's pod
    routes, whatever the number of peers, writes the files that persist them and the boot
    step that C(podnet.service) replays at boot.
  - Checks the meaning of its input before it changes anything and fails with a message
    naming the role variable (V(podnet_routes_routes), V(podnet_routes_protocol),
    V(podnet_routes_vxlan_device), V(podnet_routes_vxlan_device_ipv6)), the culprit and the fix.
  - Reads the main table once with C(ip -json -Numeric -4 route show table main); the
    routes whose protocol is O(protocol) are podnet's. Missing declared routes are added,
    podnet routes whose gateway, device or onlink flag differ are replaced, podnet routes
    that are not declared are deleted, unchanged ones are left alone.
  - IPv6 (dual stack) routes share the list; a destination's family decides. Wherever the
    kernel has IPv6 the module also reads C(ip -json -Numeric -6 route show table main),
    so podnet's stale IPv6 routes go even when no IPv6 route is declared any more. IPv6
    routes are changed with C(ip -6 route) and live at metric 1024 (what
    C(ip -6 route add) gives; IPv4 ones at 0). An IPv4-only declaration changes nothing
    IPv4 compared with before.
  - Routes of any other protocol are never touched. A declared destination already held
    by a route of another protocol (same metric, 0 or 1024 for IPv6) is a conflict and fails the module
    instead of overwriting it.
  - Persists C(/etc/podnet/routes.batch) (C(ip -force -batch)), names the protocol
    C(podnet) in C(/etc/iproute2/rt_protos.d/podnet.conf) (root:root 0644, written
    atomically and only when their content differs), and writes the boot step
    C(/etc/podnet/boot.d/40-routes.sh). The per-concern unit C(podnet-routes.service) of
    older podnet versions is removed.
  - O(state=absent) deletes every route of O(protocol) in the main table (both
    families), both files and the boot step.
options:
  routes:
    description:
      - The declared routes (the host view's C(routes)), each a dict with C(dest)
        (destination CIDR, a peer's pod subnet, IPv4 or IPv6), C(via) (gateway address of
        the destination's family), C(dev) and C(onlink).
      - A route's family is its C(dest)'s; C(via) must be of that family. C(dev) says the
        device whatever the family, so an IPv6 pod route may go over the IPv4-underlay
        device and an IPv4 one over the IPv6-underlay device.
      - C(dev=underlay) (default) lets the kernel resolve the device from C(via) (a peer on
        a connected underlay segment, host-gw; an IPv6 link-local via is refused, there is
        no device to scope it to). C(dev=vxlan) sends it over O(vxlan_device) (the VXLAN
        device over the IPv4 underlay) and C(dev=vxlan_ipv6) over O(vxlan_device_ipv6)
        (the one over the IPv6 underlay), with the peer's VTEP address of the route's
        family as C(via), onlink.
      - C(onlink) (default V(false)) is always set for C(vxlan) and C(vxlan_ipv6) routes
        and invalid for C(underlay) routes, which have no device to be onlink to.
    type: list
    elements: dict
    default: []
  vxlan_device:
    description: The VXLAN device (over the IPv4 underlay) that C(vxlan) routes use, whatever their family.
    type: str
    default: flannel.1
  vxlan_device_ipv6:
    description:
      - The VXLAN device over the IPv6 underlay (flannel's layout names it
        C(flannel-v6.<vni>)) that C(vxlan_ipv6) routes use, whatever their family.
      - Needed only when some route has C(dev=vxlan_ipv6); V(null) (the default) then
        fails naming it.
    type: str
  protocol:
    description:
      - Route protocol number that marks podnet's routes, from 5 to 255 (default 191).
      - 0-4 are the kernel's own (unspec, redirect, kernel, boot, static) and are
        refused, as is any number the host's C(rt_protos) files name for another
        protocol (bird 12, bgp 186, ...). Podnet deletes every route of its protocol
        that it did not declare, so the number must be podnet's alone.
    type: int
    default: 191
  state:
    description:
      - V(present) converges and persists the declared routes.
      - V(absent) deletes every route of O(protocol) in the main table, the batch file,
        the rt_protos.d name and the boot step.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment: [podnet.network.attributes]
"""

EXAMPLES = r"""
- name: Routes | converge pod routes
  podnet_routes:
    protocol: 191
    vxlan_device: flannel.1
    routes:
      - {dest: 10.244.2.0/24, via: 192.168.1.12, dev: underlay, onlink: false}
      - {dest: 10.244.3.0/24, via: 10.244.3.0, dev: vxlan, onlink: true}

- name: Routes | dual stack, IPv6 routes in the same list
  podnet_routes:
    routes:
      - {dest: 10.244.2.0/24, via: 192.168.1.12, dev: underlay}
      - {dest: "fd00:10:244:2::/64", via: "2001:db8:1::12", dev: underlay}
      - {dest: "fd00:10:244:3::/64", via: "fd00:10:244:3::", dev: vxlan, onlink: true}

- name: Routes | dual stack over tunnels, a peer reached over the IPv6 underlay
  podnet_routes:
    vxlan_device: flannel.1
    vxlan_device_ipv6: flannel-v6.1
    routes:
      - {dest: 10.244.4.0/24, via: 10.244.4.0, dev: vxlan_ipv6, onlink: true}
      - {dest: "fd00:10:244:4::/64", via: "fd00:10:244:4::", dev: vxlan_ipv6, onlink: true}

- name: Routes | remove podnet's routes, files and boot step
  podnet_routes:
    protocol: 191
    state: absent
"""

RETURN = r"""
actions:
  description:
    - The ip commands run (or, in check mode, that would run), in order, followed by the
      file changes (C(write PATH), C(rm PATH), C(mkdir -p ...)).
  returned: always
  type: list
  elements: str
  sample: ["ip route replace 10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink proto 191"]
before:
  description: Podnet's routes as found, keyed by destination.
  returned: always
  type: dict
  sample: {"10.244.2.0/24": [{"via": "192.168.1.12", "dev": "eth0", "onlink": false, "metric": 0}]}
summary:
  description: Counts of routes added, replaced and deleted.
  returned: always
  type: dict
  sample: {"add": 1, "replace": 0, "delete": 0}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils import podnet_concern_routes as concern


def __getattr__(name):
    # The read, plan and apply code lives in module_utils/podnet_concern_routes.py, shared
    # with the node agent; its names (the pure plan steps) read through this module too.
    return getattr(concern, name)


def main():
    concern.converge(AnsibleModule(argument_spec=concern.ARGUMENT_SPEC, supports_check_mode=True))


if __name__ == "__main__":
    main()
