#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Converge podnet's nftables table (inet podnet), its iptables FORWARD accepts and
their boot step in one call: read -> pure plan -> apply."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: podnet_firewall
short_description: Converge podnet's nftables table, iptables FORWARD accepts and boot step
description:
  - Internal to the role C(podnet_firewall); its messages name the role's variables
    (C(podnet_firewall_*)).
  - Renders one podnet-owned table, C(table inet podnet), from the inputs (in Python,
    deterministic). Only member nodes may send to the VXLAN port (O(vxlan_port)),
    forwarded cluster traffic is accepted, and pod traffic leaving the cluster CIDR (to
    anything that is neither in O(cluster_cidr) nor a member node) is masqueraded.
  - Reads the live table with C(nft -s list table inet podnet) (stateless, without counter
    values) and compares it with the wanted table, whitespace and the order of set
    elements aside. When the table is missing or differs (a rule deleted, the table
    flushed by hand, older inputs) the ruleset is loaded with C(nft -f) in ONE
    transaction that creates, deletes and defines the table anew. Nothing outside
    C(table inet podnet) is ever touched.
  - The table carries podnet's mark, a comment that starts with C(podnet). A
    C(table inet podnet) without it is someone else's. O(state=present) stops naming it
    before changing anything, and O(state=absent) leaves it and says so (RV(left_alone)).
  - Forwarding towards the cluster is scoped to podnet's paths, whatever the interface
    (bridge, overlay, WireGuard or underlay). Sources inside O(cluster_cidr) (pods, VTEPs)
    and member nodes may reach pods, as may replies to the pods' own connections and
    ports the node publishes (DNAT). Anything else routed through the node towards a pod
    subnet is dropped and counted (counter C(forward_rejected)).
  - Where an C(iptables) command exists, keeps two ACCEPT rules tagged with the comment
    V(podnet) (C(-s) and C(-d) O(cluster_cidr)) in the filter FORWARD chain, because an
    accept in an nftables table cannot override the DROP policy that Docker sets there.
    They sit right after Docker's jump to C(DOCKER-USER) (the operator's rules decide
    first), at the top where there is none, and only let through what the table's forward
    chain accepts (a drop there is final). They are kept whatever the policy is now
    (Docker may set it later); tagged rules that are no longer wanted, or that sit above
    the jump to C(DOCKER-USER), are deleted (and put back below it).
  - Persists the ruleset in O(persist_path) and a boot step (order 50, concern
    V(firewall)) that podnet.service replays at boot and whenever nftables.service is
    restarted (podnet.service is part of it). The step loads the file and re-adds the
    iptables accepts. podnet.service is started when it is not active yet (systemd
    passes an nftables restart on only to an active unit); starting it replays every
    boot step once.
  - Retires what older podnet versions used, without stopping anything, i.e. the unit
    podnet-firewall.service (its ExecStop would delete the table) and its fingerprint
    file /run/podnet-firewall.sha1.
  - Dual stack (IPv6) with O(cluster_cidr_ipv6) and O(pod_cidr_ipv6), the same table also
    holds the IPv6 forward rules (C(ip6 saddr)/C(ip6 daddr) O(cluster_cidr_ipv6), member
    nodes from the set C(nodes6)) and, per O(masquerade_ipv6), the masquerade of IPv6 pods
    leaving O(cluster_cidr_ipv6). IPv6 addresses in O(node_addresses) go into the set
    C(nodes6), which the VXLAN and WireGuard port guards accept as well. Without IPv6
    inputs the table is exactly the IPv4 one.
  - The iptables FORWARD accepts stay IPv4 only (no ip6tables rules); Debian's Docker
    20.10 does not touch ip6tables unless its C(ip6tables) option is on.
  - The input checks run before anything is changed.
options:
  state:
    description:
      - V(present) loads the table, keeps the iptables accepts, writes O(persist_path) and
        the boot step.
      - V(absent) deletes the table, the tagged iptables accepts, O(persist_path), the boot
        step and the retired unit; nothing else (other tables and rules stay).
    type: str
    choices: [present, absent]
    default: present
  cluster_cidr:
    description:
      - The cluster CIDR (IPv4 network), e.g. V(10.244.0.0/16). Required with
        O(state=present).
    type: str
    default: ""
  pod_cidr:
    description:
      - This node's pod subnet inside O(cluster_cidr) (named in the table's comment).
        Required with O(state=present).
    type: str
    default: ""
  node_addresses:
    description:
      - Underlay addresses of all member nodes, this one included. Required
        (non-empty) with O(state=present).
      - IPv4 addresses go into the set C(nodes), IPv6 ones (dual-stack or IPv6-only
        underlays) into the set C(nodes6); a node with both gives both.
    type: list
    elements: str
    default: []
  masquerade:
    description: Masquerade pod traffic leaving the cluster (chain C(postrouting)).
    type: bool
    default: true
  vxlan_port:
    description:
      - UDP port of the network's VXLAN overlay; only member nodes may send to it, other
        packets are dropped and counted (counter C(vxlan_rejected)).
      - Null when the network has no overlay (no C(input) chain then).
    type: int
  wireguard_port:
    description:
      - UDP port of the network's WireGuard tunnels (51820 in flannel's layout); only member
        nodes may send to it, other packets are dropped and counted (counter
        C(wireguard_rejected)). WireGuard authenticates every packet anyway; this keeps
        strangers from even reaching its handshake code.
      - Null when no pair of the network uses WireGuard.
    type: int
  iptables_forward_accept:
    description:
      - Keep the tagged cluster-CIDR ACCEPT rules in iptables' filter FORWARD chain where
        the iptables command exists. V(false) deletes them.
    type: bool
    default: true
  cluster_cidr_ipv6:
    description:
      - The IPv6 cluster CIDR of a dual-stack network, e.g. V(fd00:10:244::/48), written
        as Python and nft write it (lower case, zeros compressed). Given together with
        O(pod_cidr_ipv6); V(null) (the default) for an IPv4-only network.
    type: str
  pod_cidr_ipv6:
    description:
      - This node's IPv6 pod subnet inside O(cluster_cidr_ipv6) (named in the table's
        comment). Given together with O(cluster_cidr_ipv6).
    type: str
  masquerade_ipv6:
    description:
      - Masquerade IPv6 pod traffic leaving O(cluster_cidr_ipv6) (to anything neither in
        it nor a member node) to the node's address.
      - V(null) (the default) decides by the prefix, as Kubernetes does by default. A
        unique local O(cluster_cidr_ipv6) (inside C(fd00::/8)) is masqueraded, since ULA
        is not routed on the internet. A global one is not, so pods keep their
        addresses and the operator routes the prefix to the nodes.
      - V(true) or V(false) overrides that choice. V(true) without
        O(cluster_cidr_ipv6) is an error.
    type: bool
  persist_path:
    description: The ruleset file that the boot step loads (root:root 0644).
    type: path
    default: /etc/podnet/firewall.nft
extends_documentation_fragment: [podnet.network.attributes]
requirements:
  - nft (Debian package nftables); iptables is optional.
"""

EXAMPLES = r"""
- name: Firewall | converge table inet podnet, iptables accepts and boot step
  podnet_firewall:
    cluster_cidr: 10.244.0.0/16
    pod_cidr: 10.244.1.0/24
    node_addresses: [172.30.31.11, 172.30.31.12, 172.30.32.11]
    vxlan_port: 8472

- name: Firewall | dual stack, a ULA IPv6 cluster CIDR (masqueraded by default)
  podnet_firewall:
    cluster_cidr: 10.244.0.0/16
    pod_cidr: 10.244.1.0/24
    cluster_cidr_ipv6: "fd00:10:244::/48"
    pod_cidr_ipv6: "fd00:10:244:1::/64"
    node_addresses: [172.30.31.11, 172.30.31.12, "2001:db8:1::13"]
    vxlan_port: 8472

- name: Firewall | remove podnet's table, accepts and files
  podnet_firewall:
    state: absent
"""

RETURN = r"""
actions:
  description:
    - The commands run (or, in check mode, that would run), in order, and the file
      changes (C(write PATH), C(rm PATH)).
  returned: always
  type: list
  elements: str
  sample:
    - nft -f /etc/podnet/firewall.nft
    - iptables -w -I FORWARD 2 -s 10.244.0.0/16 -m comment --comment podnet -j ACCEPT
table:
  description:
    - What happened to C(table inet podnet). V(loaded) (it was missing), V(reloaded) (it
      differed from the wanted table), V(unchanged), V(deleted) or V(absent) (nothing to
      delete). In check mode, what would happen.
  returned: always
  type: str
  sample: reloaded
ruleset:
  description: The wanted table as C(nft -f) reads it (empty with O(state=absent)).
  returned: always
  type: str
forward_policy:
  description: Policy of iptables' filter FORWARD chain (null without iptables).
  returned: always
  type: str
  sample: DROP
left_alone:
  description: What podnet found under its names but did not make, and left as it was.
  returned: always
  type: list
  elements: str
iptables_accepts:
  description: The tagged FORWARD accepts kept (the rule after C(-A FORWARD)).
  returned: always
  type: list
  elements: str
  sample: ["-s 10.244.0.0/16 -m comment --comment podnet -j ACCEPT"]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils import podnet_concern_firewall as concern


def __getattr__(name):
    # The read, plan and apply code lives in module_utils/podnet_concern_firewall.py, shared
    # with the node agent; its names (the pure plan steps) read through this module too.
    return getattr(concern, name)


def main():
    concern.converge(AnsibleModule(argument_spec=concern.ARGUMENT_SPEC, supports_check_mode=True))


if __name__ == "__main__":
    main()
