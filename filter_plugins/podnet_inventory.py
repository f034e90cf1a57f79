# -*- coding: utf-8 -*-
"""Filters that read podnet's inventory API (host variables and reported facts).

They turn Ansible's ``hostvars`` into the plain ``nodes`` / ``reported`` dicts that the
planner (``podnet.py``) takes, so the playbooks hold no logic in Jinja.
"""

from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: podnet_inventory_nodes
short_description: Build the planner's node records from podnet's host variables
description:
  - C(podnet_inventory_nodes(hosts, hostvars, ledger)) returns C({host: {zone, address, prefix?,
    pod_cidr?}}) for the hosts named in C(hosts). C(zone) comes from the host variable
    C(podnet_zone) (a string); C(address) from C(podnet_address), else the address the ledger
    recorded (a host that cannot be reached keeps it; set C(podnet_address) to change it on
    purpose), else the host's default IPv4 address (facts), else C(ansible_host) when it is an
    IPv4 address; C(prefix) from C(podnet_underlay_prefix), else the ledger's (for the same
    address), else the prefix of the default IPv4 interface when C(address) is that
    interface's address; C(pod_cidr) from the pin C(podnet_pod_cidr). With C(partial=true)
    (before any host was asked) a host nothing describes gets C(address=None).
  - C(podnet_reported_subnets(hosts, hostvars)) returns C({host: pod_cidr or None}), what each
    reachable host reports in its local fact C(podnet) (None when it holds nothing yet);
    unreachable hosts are left out.
  - C(podnet_allocation_table(plan)) returns one aligned line per node (host, zone, address,
    pod subnet, MTU) for humans.
positional: _input, hostvars, ledger, partial
options:
  _input:
    description: Inventory hostnames of the podnet nodes.
    type: list
    elements: str
    required: true
  hostvars:
    description: Ansible's C(hostvars).
    type: dict
    required: true
  ledger:
    description: The parsed ledger document, or an empty dict.
    type: dict
  partial:
    description: Allow hosts without a known address (the validation before the facts step).
    type: bool
    default: false
author: podnet
"""

EXAMPLES = r"""
- name: Plan | inventory records
  ansible.builtin.set_fact:
    nodes: "{{ groups['podnet_nodes'] | podnet_inventory_nodes(hostvars, ledger) }}"
    reported: "{{ groups['podnet_nodes'] | podnet_reported_subnets(hostvars) }}"
"""

RETURN = r"""
_value:
  description: See the description of each filter.
  type: dict
"""


def _is_ipv4(value) -> bool:
    try:
        return isinstance(ipaddress.ip_address(str(value)), ipaddress.IPv4Address)
    except ValueError:
        return False


def _facts(hvars) -> dict:
    facts = hvars.get("ansible_facts") or {}
    return facts if isinstance(facts, dict) else {}


def _prefix(host, value, source):
    """An underlay prefix length from the inventory or the ledger, or an error naming it."""
    if isinstance(value, bool):
        value = None
    elif isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not 0 <= value <= 32:
        raise AnsibleFilterError(
            f"podnet: host {host!r}: {source} is {value!r}, not a prefix length; give the "
            "underlay network's prefix length as a number between 0 and 32, e.g. 24")
    return value


def inventory_nodes(hosts, hostvars, ledger=None, partial=False) -> dict:
    """Return the planner's ``nodes`` input for ``hosts`` (see DOCUMENTATION).

    What the operator set wins, then what the ledger recorded, then what the host
    reports: a host that cannot be reached keeps its recorded address and prefix,
    whatever ``ansible_host`` says. With ``partial`` (before any host was asked) a
    host whose address only the host itself can tell gets ``address: None``.
    """
    ledger_nodes = ((ledger or {}).get("nodes") or {}) if isinstance(ledger, dict) else {}
    nodes = {}
    for host in hosts:
        hvars = hostvars[host]
        zone = hvars.get("podnet_zone")
        if not zone:
            raise AnsibleFilterError(
                f"podnet: host {host!r} has no zone: set podnet_zone for it (usually in the "
                "group_vars of its zone group)")
        if not isinstance(zone, str):
            raise AnsibleFilterError(
                f"podnet: host {host!r}: podnet_zone is {zone!r}, not a name; set it to one "
                "string, the name of the host's zone (datacenter), e.g. podnet_zone: ams1")
        default_ipv4 = _facts(hvars).get("default_ipv4") or {}
        recorded = ledger_nodes.get(host) if isinstance(ledger_nodes.get(host), dict) else {}
        record = {"zone": zone}
        address = (hvars.get("podnet_address") or recorded.get("address")
                   or default_ipv4.get("address"))
        # ansible_host only stands in for a host that did not answer: before the hosts are
        # asked (partial) it may be a tunnel's 127.0.0.1 while the facts tell the truth.
        if not address and not partial and _is_ipv4(hvars.get("ansible_host")):
            address = hvars.get("ansible_host")
        if not address and not partial:
            raise AnsibleFilterError(
                f"podnet: cannot tell the underlay address of host {host!r}: it was not "
                "reachable for facts and the ledger has no record of it; set podnet_address "
                "for it or make it reachable")
        record["address"] = str(address) if address else None
        prefix = hvars.get("podnet_underlay_prefix")
        source = "podnet_underlay_prefix"
        if prefix is None and recorded.get("prefix") is not None \
                and recorded.get("address") == record["address"]:
            prefix, source = recorded.get("prefix"), "its ledger entry's prefix"
        if prefix is None and address and default_ipv4.get("address") == record["address"]:
            prefix, source = default_ipv4.get("prefix"), "the prefix its facts report"
        if prefix is not None:
            record["prefix"] = _prefix(host, prefix, source)
        if hvars.get("podnet_pod_cidr"):
            record["pod_cidr"] = str(hvars.get("podnet_pod_cidr"))
        nodes[host] = record
    return nodes


def reported_subnets(hosts, hostvars) -> dict:
    """Return ``{host: pod_cidr or None}`` for the hosts that gathered facts."""
    reported = {}
    for host in hosts:
        facts = _facts(hostvars[host])
        if not facts:
            continue  # not reached this run: the ledger speaks for it
        local = (facts.get("ansible_local") or facts.get("local") or {}).get("podnet") or {}
        reported[host] = local.get("pod_cidr") or None
    return reported


def allocation_table(plan) -> list:
    """Return aligned human-readable lines: host, zone, address, pod subnet, MTU."""
    rows = [("HOST", "ZONE", "ADDRESS", "POD SUBNET", "MTU")]
    for host in sorted(plan["nodes"]):
        node = plan["nodes"][host]
        rows.append((host, node["zone"], node["address"], node["pod_cidr"], str(node["mtu"])))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
            for row in rows]


class FilterModule:
    """podnet inventory filters."""

    def filters(self):
        return {
            "podnet_inventory_nodes": inventory_nodes,
            "podnet_reported_subnets": reported_subnets,
            "podnet_allocation_table": allocation_table,
        }
