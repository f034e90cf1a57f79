#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Converge podnet's WireGuard device (flannel's layout), its peers and the routes over it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: podnet_wireguard
short_description: Converge podnet's WireGuard device, its peers, routes and boot step
description:
  - One call converges the node's WireGuard device (flannel's layout, C(flannel-wg) by
    default), every peer and the route to each peer's pod subnet over the device, whatever
    the number of peers; read -> pure plan -> apply.
  - The device is the kernel's (C(ip link add type wireguard)) where the kernel has the
    module, else Debian's userspace C(wireguard-go) over C(/dev/net/tun), run as the
    transient systemd unit C(podnet-wireguard-go-DEVICE) (O(implementation)).
  - "Peers: added, updated in place (endpoint, allowed IPs, keepalive, preshared key) and
    removed when the plan no longer holds them; unchanged peers keep their sessions. A peer
    whose public key the plan does not know is skipped with a warning (it has not made its
    key yet: only in check mode on a new node, or when the node was unreachable on its
    first run)."
  - "Dual stack: with C(config.address_ipv6) (or O(address_ipv6)) the device also holds that
    IPv6 address, added with C(nodad) after its own C(disable_ipv6) is set to 0 (a new link
    takes the host's default). Peers' allowed IPs may hold IPv6 prefixes beside IPv4 ones
    and an endpoint may be C([IPv6]:port); IPv6 routes are read and written with
    C(ip -6 route) at the kernel's default IPv6 metric 1024."
  - Routes to the peers' allowed IPs go over the device, tagged with route protocol
    O(protocol); podnet routes of O(routes_protocol) (role podnet_routes) to the same
    destinations are replaced (a pair that switched backend); a route of any other protocol
    there is a conflict and fails the module before anything changes.
  - "Persists C(/etc/podnet/wireguard/DEVICE.conf) (root:root 0600; the peers, for
    C(wg setconf); never shown in a diff when it holds a preshared key) and the boot step
    C(/etc/podnet/boot.d/35-wireguard.sh), replayed by C(podnet.service) at boot."
  - The private key is never read into the result; the device takes it from O(key_path)
    (module podnet_wireguard_key keeps it there).
  - A link of that name that podnet did not create (no C(podnet-owned) alias) fails the
    module naming the role variable, and is never touched.
  - O(config) null (no peer over WireGuard) removes the device (its routes go with it),
    the transient unit, the files and the boot step, and keeps the key. O(state=absent)
    (reset) removes all that and the private key and its fact file too.
options:
  state:
    description: V(present) converges O(config); V(absent) removes everything of this module.
    type: str
    choices: [present, absent]
    default: present
  config:
    description:
      - The host view's C(wireguard) (filter podnet_host_view), C({device, port, address,
        address_ipv6, mtu, persistent_keepalive, public_key, peers [{hostname, public_key,
        endpoint, allowed_ips}]}); null means this node has no wireguard peer (like
        O(state=absent)).
      - C(address_ipv6) (optional, dual stack) is the device's IPv6 address, the network
        address of the node's IPv6 pod prefix as C(/128); C(endpoint) is C(A.B.C.D:port) or
        C([IPv6]:port); C(allowed_ips) are IPv4 and IPv6 prefixes with no host bits set.
    type: dict
  key_path:
    description: The node's private key file (module podnet_wireguard_key keeps it).
    type: path
    default: /etc/podnet/wireguard/private.key
  fact_path:
    description: The local fact file reporting the public key (removed with O(state=absent)).
    type: path
    default: /etc/ansible/facts.d/podnet_wireguard.fact
  preshared_key:
    description:
      - Optional preshared key (C(wg genpsk)) added to every peer, the same on every node
        (keep it in a vault). Never logged, never in a diff.
    type: str
  preshared_key_from_node:
    description:
      - V(true) with no O(preshared_key) uses the preshared key the last run persisted in
        the peers file (C(/etc/podnet/wireguard/DEVICE.conf), root 0600), none when it holds
        none; the node agent checks with it, so its slice never holds the key.
    type: bool
    default: false
  implementation:
    description:
      - V(auto) uses the kernel module where the kernel has it (C(/sys/module/wireguard), or
        C(modprobe -n wireguard) finds it), else V(userspace) (C(wireguard-go)).
    type: str
    choices: [auto, kernel, userspace]
    default: auto
  protocol:
    description:
      - Route protocol number that marks the routes over the device (5-255). Every route
        of it off the device is deleted, so a number that the host's C(rt_protos) names for
        another protocol (bird 12, bgp 186, ...) is refused.
    type: int
    default: 193
  routes_protocol:
    description: Route protocol of podnet's other routes (role podnet_routes), replaced when a pair moves to wireguard.
    type: int
    default: 191
  address_ipv6:
    description:
      - The device's IPv6 address (C(<IPv6>/128)) when O(config) holds no C(address_ipv6);
        one that differs from O(config)'s fails the module. Null keeps what O(config) says.
    type: str
extends_documentation_fragment: [podnet.network.attributes]
requirements: [iproute2, wireguard-tools (wg), wireguard-go where the kernel lacks WireGuard]
"""

EXAMPLES = r"""
- name: WireGuard | device, peers and routes
  podnet_wireguard:
    state: present
    config: "{{ podnet_host.wireguard }}"
"""

RETURN = r"""
actions:
  description: The commands run (or that would run in check mode) and file changes, in order.
  returned: always
  type: list
  elements: str
  sample: ["ip link add dev flannel-wg type wireguard", "wg set flannel-wg peer KEY endpoint 192.0.2.7:51820 allowed-ips 10.244.16.0/24"]
implementation:
  description: C(kernel) or C(userspace), what runs (or would run) the device; null when absent.
  returned: always
  type: str
peers:
  description: "The peers as converged, C({hostname: {public_key, endpoint, allowed_ips}})."
  returned: always
  type: dict
pending:
  description: Hostnames of peers skipped because their public key is not known yet.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils import podnet_concern_wireguard as concern


def __getattr__(name):
    # The read, plan and apply code lives in module_utils/podnet_concern_wireguard.py, shared
    # with the node agent; its names (the pure plan steps) read through this module too.
    return getattr(concern, name)


def main():
    concern.converge(AnsibleModule(argument_spec=concern.ARGUMENT_SPEC, supports_check_mode=True))


if __name__ == "__main__":
    main()
