# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_registry_read: what the etcd registry holds.

A thin entry over ``podnet_planner.registry_read`` (plain Python, unit-tested without Ansible):
its ``PlanError`` becomes ``AnsibleFilterError``, message unchanged.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: podnet_registry_read
short_description: The ledger and leases that podnet's etcd registry holds
description:
  - Turns what was read under O(prefix) into the ledger document for the planner (C({}) when
    the registry is empty; built from flannel's config when podnet's own document is missing,
    so the network is never renumbered) and the leases.
  - Leases without a config are an error (restore the config or delete the leases).
positional: _input, prefix
options:
  _input:
    description: "What was read under the prefix, C({key: {value, lease}}) or C({key: value})."
    type: dict
    required: true
  prefix:
    description: The registry's etcd key prefix (flannel's C(-etcd-prefix)).
    type: str
    default: /coreos.com/network
requirements:
  - podnet_planner (this repository's planner package; scripts/setup.sh installs it into .venv)
  - netaddr (Python library, on the controller)
author: podnet
"""

EXAMPLES = r"""
- name: Registry | what it holds
  ansible.builtin.set_fact:
    podnet_registry_content: "{{ read.kvs | podnet_registry_read('/coreos.com/network') }}"
"""

RETURN = r"""
_value:
  description: "C({ledger, leases}), C(leases) C({PublicIP: pod_cidr})."
  type: dict
"""

try:
    import podnet_planner
except ImportError as imp_exc:  # the planner package, or the netaddr it needs, is missing
    PLANNER_IMPORT_ERROR = imp_exc
else:
    PLANNER_IMPORT_ERROR = None


def podnet_registry_read(kvs, prefix="/coreos.com/network"):
    """The ledger and leases that podnet's etcd registry holds (``podnet_planner.registry_read``)."""
    if PLANNER_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            "podnet_registry_read needs podnet's planner and netaddr in the Python that runs Ansible; "
            "run scripts/setup.sh (%s)" % PLANNER_IMPORT_ERROR) from PLANNER_IMPORT_ERROR
    try:
        return podnet_planner.registry_read(kvs, prefix)
    except podnet_planner.PlanError as exc:
        raise AnsibleFilterError("podnet_registry_read: %s" % exc) from exc


class FilterModule:
    """podnet_registry_read."""

    def filters(self):
        return {"podnet_registry_read": podnet_registry_read}
