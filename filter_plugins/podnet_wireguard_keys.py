# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_wireguard_keys: the WireGuard public keys the nodes report in this run.

A thin entry over ``podnet_planner.wireguard_keys``.
"""

from ansible.errors import AnsibleFilterError

try:
    from podnet_planner import PlanError
    from podnet_planner.inventory import wireguard_keys
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_wireguard_keys: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

DOCUMENTATION = r"""
name: podnet_wireguard_keys
short_description: The WireGuard public key each podnet node reports
description:
  - "Returns C({host: public key}) for the hosts that report one: the key their
    C(podnet_wireguard) key step returned in this run (fact C(podnet_wireguard)), else their
    local fact C(podnet_wireguard) gathered by the facts step. Hosts reporting none are left
    out."
  - Role podnet_wireguard gives these to its module, so a node made (or rotated) its key in
    this very run and its peers use the new key at once, before any plan recorded it.
positional: _input, hostvars
options:
  _input:
    description: Inventory hostnames to look at (e.g. C(ansible_play_hosts_all)).
    type: list
    elements: str
    required: true
  hostvars:
    description: Ansible's C(hostvars).
    type: dict
    required: true
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
author: podnet
"""

EXAMPLES = r"""
- name: WireGuard | the keys of this run
  ansible.builtin.debug:
    msg: "{{ ansible_play_hosts_all | podnet_wireguard_keys(hostvars) }}"
"""

RETURN = r"""
_value:
  description: "C({host: public key}) of the hosts that report a key."
  type: dict
"""


def podnet_wireguard_keys(hosts, hostvars):
    """The WireGuard public key each podnet node reports."""
    try:
        return wireguard_keys(hosts, hostvars)
    except PlanError as exc:
        raise AnsibleFilterError("podnet_wireguard_keys: %s" % exc) from exc


class FilterModule:
    """The podnet_wireguard_keys filter."""

    def filters(self):
        return {"podnet_wireguard_keys": podnet_wireguard_keys}
