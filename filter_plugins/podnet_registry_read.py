# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_registry_read: what the etcd registry holds.

A thin entry over ``podnet_planner.registry_read``.
"""

from ansible.errors import AnsibleFilterError

try:
    import podnet_planner  # its modules load when a filter is called, not with this file
    from podnet_planner.errors import PlanError
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_registry_read: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

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
    description: The registry's etcd key prefix (flannel's C(-etcd-prefix)),
      that was read.
    type: str
    default: /coreos.com/network
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
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


def podnet_registry_read(kvs, prefix="/coreos.com/network"):
    """The ledger and leases that podnet's etcd registry holds."""
    try:
        return podnet_planner.registry_read(kvs, prefix)
    except PlanError as exc:
        raise AnsibleFilterError("podnet_registry_read: %s" % exc) from exc


class FilterModule:
    """The podnet_registry_read filter."""

    def filters(self):
        return {"podnet_registry_read": podnet_registry_read}
