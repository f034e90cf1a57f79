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


def check_params(network, subnet, mtu, path):
    """Pure check of the inputs' meaning. Returns (errors, {network, subnet, mtu}) with
    the values normalised. Every error names the role variable, what it holds and the fix."""
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
    if errors:
        return errors, None
    return [], {"network": str(net), "subnet": "%s/%d" % (iface.ip, iface.network.prefixlen), "mtu": number}


def subnet_env(values, ipmasq):
    """The subnet file, in flanneld's format (deterministic)."""
    return managed_header("podnet_flannel_env") + (
        "# podnet: this node's slice of the pod network, in flannel's format (role podnet_flannel_env).\n"
        "FLANNEL_NETWORK={network}\n"
        "FLANNEL_SUBNET={subnet}\n"
        "FLANNEL_MTU={mtu}\n"
        "FLANNEL_IPMASQ={ipmasq}\n"
    ).format(ipmasq="true" if ipmasq else "false", **values)


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
    errors, values = check_params(p["network"], p["subnet"], p["mtu"], p["path"])
    if errors:
        module.fail_json(msg="; ".join(errors), actions=[])
    content = subnet_env(values, p["ipmasq"])
    if not left_alone:
        persist_file(module, p["path"], content, actions, diffs)
        persist_file(module, TMPFILES, tmpfiles_entry(p["path"], content), actions, diffs)
    finish(module, actions, diffs, left_alone=left_alone)


if __name__ == "__main__":
    main()
