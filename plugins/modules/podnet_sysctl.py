#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kernel settings a podnet host needs: live through /proc/sys, persisted in
/etc/sysctl.d (systemd-sysctl replays them at boot), in one call."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: podnet_sysctl
short_description: Converge podnet's kernel settings live and in /etc/sysctl.d
description:
  - Converges C(net.ipv4.ip_forward), C(net.ipv4.conf.all.rp_filter),
    C(net.ipv4.conf.default.rp_filter) and C(net.ipv4.neigh.default.gc_thresh1/2/3), and
    for a dual-stack node C(net.ipv6.conf.all.forwarding) and the underlay's
    C(net.ipv6.conf.<interface>.accept_ra).
  - Reads every key from C(/proc/sys) and writes only the ones whose value differs, so
    drift is repaired and a converged host reports no change.
  - Persists the values in C(/etc/sysctl.d/60-podnet.conf) and
    C(/etc/sysctl.d/60-podnet-neigh.conf) (atomically, only when their content differs),
    which systemd-sysctl applies at boot; podnet needs no boot step of its own for them.
  - The neighbour table keys exist only in the host's initial network namespace. Where
    they are missing (a container), they are persisted (the file marks them optional for
    systemd-sysctl), not applied live, returned in RV(missing) and named in a warning.
  - Checks the meaning of its inputs before changing anything and names the role
    variable (C(podnet_sysctl_*)) in its message.
  - With O(state=absent), removes podnet's two files; live values stay until the next
    boot (podnet cannot know what they were before it came).
options:
  ip_forward:
    description: Value of C(net.ipv4.ip_forward), a boolean.
    type: raw
    default: true
  rp_filter:
    description:
      - Value of C(net.ipv4.conf.all.rp_filter) and C(net.ipv4.conf.default.rp_filter)
        (0 off, 1 strict, 2 loose). Podnet's asymmetric paths need 2.
    type: raw
    default: 2
  neigh_gc_thresh:
    description:
      - C(net.ipv4.neigh.default.gc_thresh1/2/3) as a dict of exactly C(gc_thresh1),
        C(gc_thresh2), C(gc_thresh3), positive integers with
        C(gc_thresh1 <= gc_thresh2 <= gc_thresh3) (checked by the module, whose message
        names the role variable).
    type: raw
    default: {gc_thresh1: 128, gc_thresh2: 512, gc_thresh3: 1024}
  ipv6_forward:
    description:
      - Value of C(net.ipv6.conf.all.forwarding), a boolean, for a node that routes IPv6
        pod traffic (dual stack).
      - V(null) (the default) leaves IPv6 forwarding alone and writes nothing about IPv6.
      - Set live and persisted in C(/etc/sysctl.d/60-podnet.conf) after the IPv4 keys.
        Back to V(null), the IPv6 lines leave the file; the live values stay until the
        next boot, as with O(state=absent).
    type: raw
  ipv6_accept_ra_interfaces:
    description:
      - The underlay interfaces that get C(net.ipv6.conf.<interface>.accept_ra = 2) when
        O(ipv6_forward) is true. With forwarding on, the kernel ignores router
        advertisements on an interface whose C(accept_ra) is 1, so a host that learns its
        default route from them would lose it; 2 keeps it.
      - Ignored unless O(ipv6_forward) is true. An interface this host lacks fails the
        module naming it. A name with a dot (a VLAN such as C(eth0.100)) is written in
        sysctl's slash form.
      - Persisted in the same file; udev replays a file's per-interface keys (through
        systemd-sysctl) when the interface appears after boot.
    type: list
    elements: str
    default: []
  state:
    description:
      - V(present) applies the values live and persists them.
      - V(absent) removes podnet's files from C(/etc/sysctl.d); nothing live changes.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment: [podnet.network.attributes]
"""

EXAMPLES = r"""
- name: Sysctl | converge forwarding, rp_filter and the neighbour table size
  podnet_sysctl:
    ip_forward: true
    rp_filter: 2
    neigh_gc_thresh: {gc_thresh1: 1024, gc_thresh2: 4096, gc_thresh3: 8192}
    state: present

- name: Sysctl | dual stack, with router advertisements kept on the underlay eth0
  podnet_sysctl:
    ipv6_forward: true
    ipv6_accept_ra_interfaces: [eth0]

- name: Sysctl | remove podnet's sysctl.d files
  podnet_sysctl:
    state: absent
"""

RETURN = r"""
actions:
  description: The changes made (or, in check mode, that would be made), in order.
  returned: always
  type: list
  elements: str
  sample: ["sysctl -w net.ipv4.ip_forward=1", "write /etc/sysctl.d/60-podnet.conf"]
changed_keys:
  description: Keys whose live value differed, with the value before and the value set.
  returned: always
  type: dict
  sample: {"net.ipv4.ip_forward": {"before": "0", "after": "1"}}
missing:
  description: Neighbour table keys this kernel or network namespace does not have (not applied live).
  returned: always
  type: list
  elements: str
  sample: ["net.ipv4.neigh.default.gc_thresh1"]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils import podnet_concern_sysctl as concern


def __getattr__(name):
    # The read, plan and apply code lives in module_utils/podnet_concern_sysctl.py, shared
    # with the node agent; its names (the pure plan steps) read through this module too.
    return getattr(concern, name)


def main():
    concern.converge(AnsibleModule(argument_spec=concern.ARGUMENT_SPEC, supports_check_mode=True))


if __name__ == "__main__":
    main()
