#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""flannel's subnet file (/run/flannel/subnet.env) from the node's slice of the plan."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: podnet_flannel_env
short_description: Keep flannel's subnet file from podnet's plan, now and at every boot
description:
  - Writes O(path) (C(FLANNEL_NETWORK), C(FLANNEL_SUBNET), C(FLANNEL_MTU),
    C(FLANNEL_IPMASQ)) exactly as flanneld would, so runtimes that read it work unchanged.
  - Dual stack (O(network_ipv6) and O(subnet_ipv6) given) - C(FLANNEL_IPV6_NETWORK) and
    C(FLANNEL_IPV6_SUBNET) follow C(FLANNEL_SUBNET), in flanneld's order; without them the
    file has no IPv6 line.
  - O(path) lives on a tmpfs (C(/run)), so a tmpfiles.d entry
    (C(/etc/tmpfiles.d/podnet-flannel-env.conf)) recreates it with the same content at
    every boot (systemd-tmpfiles-setup), so no boot step of podnet's is needed.
  - Both files are written atomically and only when they differ.
  - Checks the inputs' meaning before writing anything and names the role variable
    (C(podnet_flannel_env_*)) in its message.
  - With O(state=absent), removes both files and the subnet file's directory when it is
    left empty.
  - A file at O(path) without podnet's comment (a running flanneld's own) is neither
    rewritten nor removed, in either state; the module warns and returns it in
    RV(left_alone).
options:
  network:
    description: C(FLANNEL_NETWORK), the cluster CIDR (network/prefix). Required when O(state=present).
    type: str
  subnet:
    description:
      - C(FLANNEL_SUBNET), the node's gateway address with the pod subnet's prefix length
        (e.g. V(10.244.1.1/24)), inside O(network). Required when O(state=present).
    type: str
  network_ipv6:
    description:
      - Dual stack - C(FLANNEL_IPV6_NETWORK), the IPv6 cluster CIDR (network/prefix, a ULA
        or global unicast prefix, e.g. V(fd00:10:244::/56)). Give it with O(subnet_ipv6),
        or neither (null, the default - no IPv6 line).
    type: str
  subnet_ipv6:
    description:
      - Dual stack - C(FLANNEL_IPV6_SUBNET), the node's IPv6 gateway address with the IPv6 pod
        prefix's length (e.g. V(fd00:10:244:1::1/64)), inside O(network_ipv6). Give it with
        O(network_ipv6), or neither.
    type: str
  mtu:
    description: C(FLANNEL_MTU), the pods' MTU, 576 to 65535.
    type: raw
    default: 1500
  ipmasq:
    description: C(FLANNEL_IPMASQ); podnet masquerades itself, keep V(false).
    type: bool
    default: false
  path:
    description: Path of the subnet file (flanneld's C(-subnet-file) default).
    type: path
    default: /run/flannel/subnet.env
  state:
    description:
      - V(present) writes the subnet file and its tmpfiles.d entry.
      - V(absent) removes both.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment: [podnet.network.attributes]
"""

EXAMPLES = r"""
- name: Flannel env | keep /run/flannel/subnet.env
  podnet_flannel_env:
    network: 10.244.0.0/16
    subnet: 10.244.1.1/24
    mtu: 1450
    state: present

- name: Flannel env | a dual-stack node's subnet file
  podnet_flannel_env:
    network: 10.244.0.0/16
    subnet: 10.244.1.1/24
    network_ipv6: fd00:10:244::/56
    subnet_ipv6: fd00:10:244:1::1/64
    mtu: 1450
"""

RETURN = r"""
actions:
  description: The changes made (or, in check mode, that would be made), in order.
  returned: always
  type: list
  elements: str
  sample: ["mkdir -p -m 0755 /run/flannel", "write /run/flannel/subnet.env"]
left_alone:
  description: What podnet found at its paths but did not write, and left as it was.
  returned: always
  type: list
  elements: str
"""

import ipaddress
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils.podnet_host import (
    as_int, finish, managed_header, persist_file, podnet_wrote, read_text, remove_emptied_directory,
)

TMPFILES = "/etc/tmpfiles.d/podnet-flannel-env.conf"


# flanneld's own IPv6 lines (flannel-io/flannel, pkg/subnet/subnet.go, func WriteSubnetFile):
# with EnableIPv6 it writes "FLANNEL_IPV6_NETWORK=%s\nFLANNEL_IPV6_SUBNET=%s\n" after
# FLANNEL_NETWORK/FLANNEL_SUBNET and before FLANNEL_MTU/FLANNEL_IPMASQ: config.IPv6Network
# (the IPv6 network as network/prefix) and the lease's IPv6 subnet after ipv6sn.IncrementIP()
# (its first address with the prefix's length, e.g. fd00:10:244:1::1/64), as FLANNEL_SUBNET
# is the IPv4 lease's 10.244.1.1/24. Both print through IP6Net.String (pkg/ip/ip6net.go:
# "%s/%d" of Go's net.IP.String, RFC 5952's form: lower case, the first longest run of two
# or more zero groups as "::"), which is Python's compressed form, except that Go prints
# IPv4-mapped and IPv4-compatible addresses as dotted IPv4: so, as podnet's plan, only ULA
# (fc00::/7) and global unicast (2000::/3) prefixes are taken.
IPV6_RANGES = (ipaddress.IPv6Network("fc00::/7"), ipaddress.IPv6Network("2000::/3"))


def given(value):
    """Whether an optional text option holds something (null and "" do not)."""
    return value is not None and str(value).strip() != ""


def check_ipv6(network_ipv6, subnet_ipv6):
    """Pure check of the dual-stack pair: (errors, None) or ([], (network, subnet)) normalised,
    or ([], None) when neither is given (an IPv4-only file)."""
    if not given(network_ipv6) and not given(subnet_ipv6):
        return [], None
    for name, value, other, hint in (
            ("subnet_ipv6", subnet_ipv6, "network_ipv6", "the host view's bridge_address_ipv6"),
            ("network_ipv6", network_ipv6, "subnet_ipv6", "the plan's cluster_cidr_ipv6")):
        if not given(value):
            return ["podnet_flannel_env_%s is not set but podnet_flannel_env_%s is: a dual-stack "
                    "subnet file needs both; set it (%s) or unset both for an IPv4-only file"
                    % (name, other, hint)], None
    errors = []
    net = iface = None
    try:
        text = str(network_ipv6).strip()
        if "/" not in text or "%" in text:
            raise ValueError("no prefix, or a scope")
        net = ipaddress.IPv6Network(text, strict=True)
    except ValueError:
        errors.append("podnet_flannel_env_network_ipv6=%r must be the IPv6 cluster CIDR as "
                      "network/prefix such as fd00:10:244::/56 (the plan's cluster_cidr_ipv6)" % (network_ipv6,))
    if net is not None and not any(net.subnet_of(whole) for whole in IPV6_RANGES):
        errors.append("podnet_flannel_env_network_ipv6=%s is neither a ULA (fc00::/7) nor a global "
                      "unicast (2000::/3) prefix: pass the plan's cluster_cidr_ipv6 (e.g. "
                      "fd00:10:244::/56)" % (net,))
        net = None
    try:
        text = str(subnet_ipv6).strip()
        if "/" not in text or "%" in text:
            raise ValueError("no prefix, or a scope")
        iface = ipaddress.IPv6Interface(text)
        if iface.network.prefixlen < 127 and iface.ip == iface.network.network_address:
            raise ValueError("not a host address")
    except ValueError:
        iface = None
        errors.append("podnet_flannel_env_subnet_ipv6=%r must be the node's IPv6 gateway address with "
                      "the IPv6 pod prefix's length such as fd00:10:244:1::1/64 (the host view's "
                      "bridge_address_ipv6)" % (subnet_ipv6,))
    if net is not None and iface is not None and not iface.network.subnet_of(net):
        errors.append("podnet_flannel_env_subnet_ipv6=%s lies outside podnet_flannel_env_network_ipv6=%s: "
                      "pass both from the same plan" % (subnet_ipv6, network_ipv6))
    if errors:
        return errors, None
    return [], (str(net), "%s/%d" % (iface.ip, iface.network.prefixlen))


def check_params(network, subnet, mtu, path, network_ipv6=None, subnet_ipv6=None):
    """Pure check of the inputs' meaning. Returns (errors, {network, subnet, mtu}, plus
    network_ipv6 and subnet_ipv6 on a dual-stack node) with the values normalised. Every
    error names the role variable, what it holds and the fix."""
    errors = []
    if not os.path.isabs(path or "") or os.path.normpath(path) in ("/", "/run"):
        errors.append("podnet_flannel_env_path=%r must be an absolute file path such as "
                      "/run/flannel/subnet.env" % (path,))
    net = iface = None
    try:
        if "/" not in str(network or ""):
            raise ValueError("no prefix")
        net = ipaddress.IPv4Network(str(network).strip(), strict=True)
    except ValueError:
        errors.append("podnet_flannel_env_network=%r must be the cluster CIDR as network/prefix "
                      "such as 10.244.0.0/16 (the plan's cluster_cidr)" % (network,))
    try:
        if "/" not in str(subnet or ""):
            raise ValueError("no prefix")
        iface = ipaddress.IPv4Interface(str(subnet).strip())
        own = iface.network
        if own.prefixlen < 31 and iface.ip in (own.network_address, own.broadcast_address):
            raise ValueError("not a host address")
    except ValueError:
        iface = None
        errors.append("podnet_flannel_env_subnet=%r must be the node's gateway address with the pod "
                      "subnet's prefix length such as 10.244.1.1/24 (the plan's bridge_address)" % (subnet,))
    if net is not None and iface is not None and not iface.network.subnet_of(net):
        errors.append("podnet_flannel_env_subnet=%s lies outside podnet_flannel_env_network=%s: pass "
                      "both from the same plan" % (subnet, network))
    number = as_int(mtu)
    if number is None or not 576 <= number <= 65535:
        errors.append("podnet_flannel_env_mtu=%r must be an integer between 576 and 65535 (the plan's "
                      "mtu for this node)" % (mtu,))
    errors6, pair6 = check_ipv6(network_ipv6, subnet_ipv6)
    errors.extend(errors6)
    if errors:
        return errors, None
    values = {"network": str(net), "subnet": "%s/%d" % (iface.ip, iface.network.prefixlen), "mtu": number}
    if pair6 is not None:
        values.update(network_ipv6=pair6[0], subnet_ipv6=pair6[1])
    return [], values


def subnet_env(values, ipmasq):
    """The subnet file, in flanneld's format and order (deterministic); the IPv6 lines
    only when VALUES has network_ipv6 (see IPV6_RANGES' comment)."""
    ipv6 = ""
    if "network_ipv6" in values:
        ipv6 = "FLANNEL_IPV6_NETWORK={network_ipv6}\nFLANNEL_IPV6_SUBNET={subnet_ipv6}\n".format(**values)
    return managed_header("podnet_flannel_env") + (
        "# podnet: this node's slice of the pod network, in flannel's format (role podnet_flannel_env).\n"
        "FLANNEL_NETWORK={network}\n"
        "FLANNEL_SUBNET={subnet}\n"
        "{ipv6}"
        "FLANNEL_MTU={mtu}\n"
        "FLANNEL_IPMASQ={ipmasq}\n"
    ).format(ipmasq="true" if ipmasq else "false", ipv6=ipv6, **values)


def tmpfiles_entry(path, content):
    """A tmpfiles.d entry that recreates PATH (and its directory) with CONTENT at boot.
    The argument is one line: backslashes and newlines are C-escaped, % (a specifier) doubled."""
    argument = content.replace("\\", "\\\\").replace("%", "%%").replace("\n", "\\n")
    return managed_header("podnet_flannel_env") + (
        "# podnet: recreate {p} at boot (/run is a tmpfs); role podnet_flannel_env.\n"
        "d {d} 0755 root root -\n"
        "f+ {p} 0644 root root - {a}\n"
    ).format(p=path, d=os.path.dirname(path), a=argument)


def foreign_subnet_env(current, path):
    """What podnet leaves alone at PATH: a subnet file it did not write (a running
    flanneld's own, without podnet's comment) is neither rewritten nor removed."""
    if current is None or podnet_wrote(current):
        return []
    return ["%s was not written by podnet (no podnet comment in it: flanneld's own?), so it is "
            "left as it is; stop its writer and delete it for podnet to keep it" % path]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            network=dict(type="str"),
            subnet=dict(type="str"),
            network_ipv6=dict(type="str"),
            subnet_ipv6=dict(type="str"),
            # Checked by check_params, whose message names the role variable.
            mtu=dict(type="raw", default=1500),
            ipmasq=dict(type="bool", default=False),
            path=dict(type="path", default="/run/flannel/subnet.env"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    actions, diffs = [], []
    left_alone = foreign_subnet_env(read_text(module, p["path"]), p["path"])
    for what in left_alone:
        module.warn("podnet_flannel_env: " + what)
    if p["state"] == "absent":
        gone = set([TMPFILES])
        persist_file(module, TMPFILES, None, actions, diffs)
        if not left_alone:
            gone.add(p["path"])
            persist_file(module, p["path"], None, actions, diffs)
        remove_emptied_directory(module, os.path.dirname(p["path"]), actions, gone)
        finish(module, actions, diffs, left_alone=left_alone)
    errors, values = check_params(p["network"], p["subnet"], p["mtu"], p["path"],
                                  p["network_ipv6"], p["subnet_ipv6"])
    if errors:
        module.fail_json(msg="; ".join(errors), actions=[])
    content = subnet_env(values, p["ipmasq"])
    if not left_alone:
        persist_file(module, p["path"], content, actions, diffs)
        persist_file(module, TMPFILES, tmpfiles_entry(p["path"], content), actions, diffs)
    finish(module, actions, diffs, left_alone=left_alone)


if __name__ == "__main__":
    main()
