#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check the controller's etcd CA and say which certificates to re-issue, and until when."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: podnet_etcd_pki
short_description: Check podnet's etcd CA and the days left of every certificate it issued
description:
  - Runs on the controller (delegated to localhost) on role podnet_etcd's PKI directory; reads
    only, so check mode is a real run.
  - Fails when C(ca.key) is not the key of C(ca.crt) (a swapped or restored-from-elsewhere key),
    before anything is issued.
  - For each certificate of O(certificates) (C(<name>.crt) in O(path)) returns the days it has
    left and whether it must be re-issued - less than O(renew_days) left (and a new one would
    end later), ending after the CA, or not issued by the CA - and the end date a new one gets
    (RV(certificates)), which is O(cert_days) less a stable per-name stagger of up to
    O(stagger_days) days, and never after the CA's end.
  - Warns when the CA has less than O(ca_warn_days) left (docs/etcd-pki.md, rotating the CA).
options:
  path:
    description: The PKI directory (C(ca.key), C(ca.crt), C(<name>.crt)).
    type: path
    required: true
  certificates:
    description: Names of the certificates the CA issues (C(client), C(flanneld-<host>), C(<member>-peer), ...).
    type: list
    elements: str
    default: []
  cert_days:
    description: Lifetime of a certificate issued now, in days (before the stagger and the CA's bound).
    type: int
    default: 1825
  ca_days:
    description: Lifetime of a CA created in this run (bounds the certificates issued with it).
    type: int
    default: 3650
  renew_days:
    description: Re-issue a certificate when fewer days than this are left.
    type: int
    default: 30
  stagger_days:
    description: Up to this many days are taken off each certificate's lifetime (stable per name).
    type: int
    default: 30
  ca_warn_days:
    description: Warn when the CA has fewer days than this left.
    type: int
    default: 180
extends_documentation_fragment: [podnet.network.attributes.read_only]
requirements: [cryptography]
"""

EXAMPLES = r"""
- name: Etcd | check the CA and every certificate's days left
  podnet.network.podnet_etcd_pki:
    path: "{{ inventory_dir }}/.podnet-pki"
    certificates: [client, flanneld-node1, node1-peer, node1-server]
  delegate_to: localhost
  run_once: true
  register: pki
"""

RETURN = r"""
ca:
  description: "C({present, days_left, not_after, near_end}) of the CA (not_after as ASN.1 TIME, e.g. 20361231235959Z)."
  returned: always
  type: dict
certificates:
  description: >-
    C({name: {present, days_left, not_after, renew, reason, issue_not_after}}): C(renew) says the next
    issue must replace it (C(reason) why); C(issue_not_after) is the end a certificate issued now gets.
  returned: always
  type: dict
renew:
  description: Names of the certificates to re-issue.
  returned: always
  type: list
lines:
  description: One line per certificate with its days left (for reports).
  returned: always
  type: list
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.podnet.network.plugins.module_utils import podnet_etcd_pki as pki


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            certificates=dict(type="list", elements="str", default=[]),
            cert_days=dict(type="int", default=1825),
            ca_days=dict(type="int", default=3650),
            renew_days=dict(type="int", default=30),
            stagger_days=dict(type="int", default=30),
            ca_warn_days=dict(type="int", default=180),
        ),
        supports_check_mode=True,
    )
    if not pki.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"))
    params = module.params
    for key in ("cert_days", "ca_days", "renew_days", "stagger_days", "ca_warn_days"):
        if params[key] < 0:
            module.fail_json(msg="%s must not be negative (got %d)" % (key, params[key]))
    if params["renew_days"] + params["stagger_days"] >= params["cert_days"]:
        module.fail_json(msg="cert_days (%d) must exceed renew_days + stagger_days (%d + %d), or every run "
                             "would re-issue" % (params["cert_days"], params["renew_days"], params["stagger_days"]))
    try:
        result = pki.inspect(params["path"], params["certificates"], params["cert_days"], params["ca_days"],
                             params["renew_days"], params["stagger_days"], params["ca_warn_days"])
    except pki.PKIError as exc:
        module.fail_json(msg=str(exc))
    if result["ca"]["near_end"]:
        module.warn("the etcd CA %s/ca.crt ends in %d days: rotate it (docs/etcd-pki.md, 'Rotating the CA')"
                    % (params["path"], result["ca"]["days_left"]))
    module.exit_json(changed=False, **result)


def main():
    run_module()


if __name__ == "__main__":
    main()
