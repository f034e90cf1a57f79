#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Converge podnet's pod bridge (cbr0): live, in its batch file and in its boot step."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: podnet_bridge
short_description: Converge podnet's pod bridge (link, IPv4 address, MTU, up), persisted for boot
description:
  - Reads the live link with C(ip -json -details link show) and its IPv4 addresses
    with C(ip -json -4 addr show), then adds what is missing, changes what differs and
    removes IPv4 addresses that are not declared. Nothing else is touched.
  - With O(address_ipv6) (dual stack), or when podnet's batch file records an IPv6
    address, it also reads C(ip -json -6 addr show) and converges that one address.
  - Persists the bridge in O(persist_path) (an C(ip -force -batch) file) and in its boot
    step C(/etc/podnet/boot.d/20-bridge.sh), which C(podnet.service) replays at boot. The
    step creates the bridge, marked, when it is missing, refuses a link of that name
    without podnet's mark, then applies the batch file. The per-concern unit of older
    podnet versions (C(podnet-bridge.service)) is removed.
  - Podnet marks the bridge it creates with the link alias (C(ifalias)) V(podnet-owned),
    live and in the batch file, so the mark survives a reboot.
  - A link named O(name) that carries no mark is not podnet's and is never modified. With
    O(state=present) the module fails before changing anything, naming the link and the
    fix (remove it, give podnet's bridge another O(name), or set O(adopt)). With
    O(state=absent) it is left alone and reported in RV(left_alone).
  - A bridge made by a podnet version older than the mark is recognised by podnet's own
    batch file (O(persist_path)). When the file records exactly the one IPv4 address the
    unmarked bridge carries, the bridge is podnet's, and it is marked (or deleted) like
    any podnet bridge. A bridge that merely carries the planned address is not enough;
    use O(adopt) for it.
  - Checks the meaning of its inputs before changing anything and names the role
    variable (C(podnet_bridge_*)) in its message.
  - Uses iproute2 only (no pyroute2).
options:
  name:
    description: Name of the bridge link (1-15 characters from C(A-Z a-z 0-9 _ . -)).
    type: str
    default: cbr0
  address:
    description:
      - The one IPv4 address of the bridge, in C(host/prefix) form (e.g. V(10.244.1.1/24)),
        not the subnet's network or broadcast address.
      - Required when O(state=present).
    type: str
  mtu:
    description: MTU of the bridge, an integer from 68 to 65535 (a string of digits is accepted).
    type: raw
    default: 1500
  adopt:
    description:
      - With O(state=present), take over an existing bridge named O(name) that podnet
        did not create (no mark). Podnet reconfigures it and marks it as its own, so a
        later O(state=absent) deletes it.
      - V(false) refuses such a bridge. Ignored with O(state=absent), which deletes only
        podnet's own bridge.
    type: bool
    default: false
  persist_path:
    description:
      - Batch file that persists the bridge for C(ip -force -batch) at boot.
      - Written atomically (root:root 0644, its directory created 0755) from the declared
        state, only when its content differs. A file edited by hand is rewritten. With
        O(state=absent) the file is removed.
    type: path
    default: /etc/podnet/bridge.batch
  address_ipv6:
    description:
      - The bridge's IPv6 address for a dual-stack node, host/prefix (the plan's
        C(gateway_ipv6) with the IPv6 pod subnet's prefix length), such as
        V(fd00:10:244:1::1/64). V(null) (the default) keeps the bridge IPv4 only, as before.
      - Added with C(nodad) (no duplicate address detection delay, so pods can use the
        gateway at once; the subnet belongs to this node alone) and persisted as a line of
        the batch file.
      - IPv6 is switched on on the bridge itself first (its own C(disable_ipv6) set to 0,
        live and in the boot step), as a new link takes the host's default, which disables
        IPv6 on new links in some places (a Docker container, a host with
        a default C(disable_ipv6) of 1). No other link's setting is touched.
      - Only the IPv6 address podnet's batch file records is podnet's. When the address
        changes or the option goes away, that one address is removed; other IPv6
        addresses on the bridge (and the kernel's link-local one) are never touched.
    type: str
  state:
    description:
      - V(present) converges the bridge live and persists it (batch file and boot step).
      - V(absent) deletes podnet's bridge, its batch file and its boot step (and the unit
        of older podnet versions), then the batch file's directory when nothing is left in
        it; a bridge podnet did not create is left alone.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment: [podnet.network.attributes]
"""

EXAMPLES = r"""
- name: Bridge | converge cbr0 live, in its batch file and its boot step
  podnet_bridge:
    name: cbr0
    address: 10.244.1.1/24
    mtu: 1450
    state: present

- name: Bridge | dual stack, cbr0 with an IPv6 gateway address too
  podnet_bridge:
    name: cbr0
    address: 10.244.1.1/24
    address_ipv6: fd00:10:244:1::1/64
    mtu: 1450

- name: Bridge | delete podnet's cbr0, its batch file and its boot step
  podnet_bridge:
    name: cbr0
    state: absent
"""

RETURN = r"""
actions:
  description:
    - The commands run (or, in check mode, that would run), in order, followed by the file
      changes (C(write PATH), C(rm PATH), C(mkdir -p -m 0755 DIR), ...).
  returned: always
  type: list
  elements: str
  sample: ["ip link add cbr0 type bridge forward_delay 0", "ip link set dev cbr0 alias podnet-owned"]
before:
  description: Live state read before any change (null when the link did not exist).
  returned: always
  type: dict
  sample: {"kind": "bridge", "mtu": 1500, "up": true, "forward_delay": 0, "addresses": ["10.244.1.1/24"], "alias": "podnet-owned"}
owner:
  description:
    - Who the link O(name) belonged to before this run. V(none) (no such link), V(podnet)
      (marked), V(legacy) (made by an older podnet, proven by its batch file), V(adopted)
      (taken over through O(adopt)) or V(foreign) (not podnet's, left unmodified).
  returned: always
  type: str
  sample: podnet
left_alone:
  description: Links with podnet's name that are not podnet's and were left unmodified.
  returned: always
  type: list
  elements: str
  sample: ["cbr0"]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils import podnet_concern_bridge as concern


def __getattr__(name):
    # The read, plan and apply code lives in module_utils/podnet_concern_bridge.py, shared
    # with the node agent; its names (the pure plan steps) read through this module too.
    return getattr(concern, name)


def main():
    concern.converge(AnsibleModule(argument_spec=concern.ARGUMENT_SPEC, supports_check_mode=True))


if __name__ == "__main__":
    main()
