#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What an etcd member holds of podnet's cluster, read before a run changes anything."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: podnet_etcd_local
short_description: Read what a host holds of podnet's etcd cluster; refuse a data directory change
description:
  - Reads, on one host, whether O(data_dir) holds an etcd member (C(<data_dir>/member)), the SHA-1
    of the CA certificate the member trusts (O(ca_path)), and the data directory podnet's
    systemd drop-in (O(dropin)) gives etcd now. Only reads; check mode is a real run.
  - Fails, naming both directories and how to move the data, when O(data_dir) differs from the
    deployed one while the member's data is in the deployed one and O(data_dir) holds none (the
    member is recognised by its drop-in, not only by its data directory, so a changed
    C(podnet_etcd_data_dir) never turns running members into new, empty ones).
options:
  data_dir:
    description: The data directory the run wants (podnet_etcd_data_dir).
    type: path
    required: true
  ca_path:
    description: The member's copy of the CA certificate.
    type: path
    required: true
  dropin:
    description: podnet's systemd drop-in for etcd.service.
    type: path
    required: true
  name:
    description: The member's inventory hostname (named in the failure message).
    type: str
    default: ""
extends_documentation_fragment: [podnet.network.attributes.read_only]
"""

EXAMPLES = r"""
- name: Etcd | read what this member holds
  podnet.network.podnet_etcd_local:
    data_dir: /var/lib/etcd/podnet
    ca_path: /etc/etcd/podnet-pki/ca.crt
    dropin: /etc/systemd/system/etcd.service.d/podnet.conf
  register: local
"""

RETURN = r"""
data:
  description: Whether O(data_dir) holds an etcd member.
  returned: always
  type: bool
ca_checksum:
  description: SHA-1 of the member's CA certificate; empty when it has none.
  returned: always
  type: str
deployed_data_dir:
  description: The data directory podnet's drop-in gives etcd now; empty without a drop-in.
  returned: always
  type: str
"""

import hashlib
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils.podnet_etcd import data_dir_change, dropin_setting
from ansible_collections.podnet.network.plugins.module_utils.podnet_host import read_bytes, read_text


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            data_dir=dict(type="path", required=True),
            ca_path=dict(type="path", required=True),
            dropin=dict(type="path", required=True),
            name=dict(type="str", default=""),
        ),
        supports_check_mode=True,
    )
    data_dir = module.params["data_dir"]
    ca, dummy = read_bytes(module, module.params["ca_path"])
    deployed = dropin_setting(read_text(module, module.params["dropin"]), "ETCD_DATA_DIR") or ""
    result = dict(changed=False, data=os.path.isdir(os.path.join(data_dir, "member")),
                  ca_checksum=hashlib.sha1(ca).hexdigest() if ca is not None else "",
                  deployed_data_dir=deployed)
    refusal = data_dir_change(module.params.get("name") or os.uname()[1], data_dir, deployed, result["data"],
                              bool(deployed) and os.path.isdir(os.path.join(deployed, "member")))
    if refusal:
        module.fail_json(msg=refusal, **result)
    module.exit_json(**result)


def main():
    run_module()


if __name__ == "__main__":
    main()
