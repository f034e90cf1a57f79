# -*- coding: utf-8 -*-
"""podnet's planner filters: thin Ansible wrappers around ``podnet_planner``.

The work is done by plain functions in ``filter_plugins/.lib/podnet_planner``
(importable by the unit tests); this file only validates that netaddr is
present, calls them, and turns ``PlanError`` into ``AnsibleFilterError``.
"""

from __future__ import annotations

import os
import sys

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: podnet_plan
short_description: Plan podnet's flat pod network (and its companion filters)
description:
  - C(podnet_plan(nodes, network)) validates the inventory and allocates one pod subnet per host
    inside a per-zone block of the cluster CIDR. Pure and deterministic, O(n) in the number of nodes.
  - C(podnet_host_view(plan, hostname)) returns one host's slice of the plan (routes, fdb,
    neighbours, vxlan device, MTU, peers), O(n) per host.
  - C(podnet_merge_nodes(inventory_nodes, ledger, reported)) builds the C(nodes) input from the
    inventory, the ledger file and what reachable hosts report they hold.
  - C(podnet_ledger_network(network, ledger)) pins the ledger's zone blocks (and zone_prefix)
    into C(network); C(podnet_ledger(plan)) returns the ledger document to write (every node
    with zone, address, underlay prefix, pod subnet and state).
  - C(podnet_ledger_inputs(inventory_nodes, ledger, reported, network, forget)) returns
    C({nodes, network}) for C(podnet_plan) - C(podnet_merge_nodes) and C(podnet_ledger_network)
    plus C(network.released), the ledger's released-pending nodes (left the inventory, never
    reset, not forgotten), whose subnets no newcomer may take.
  - "C(podnet_preflight(nodes, network)) runs every check of C(podnet_plan) that needs no host
    (nodes may lack their address) and returns C({ask: [hosts only the host can describe]})."
  - "C(podnet_preview(ledger, plan)) says what applying C(plan) changes against the ledger it was
    made from - C({added, leaving, freed, moved, backend_changes, mtu_changes, lines}); C(moved)
    must always be empty."
  - "C(podnet_ledger_mark_reset(ledger, hosts)) marks nodes as reset (C(reset=true)); once they
    leave the inventory their subnets are free."
  - C(podnet_flannel_config(plan)), C(podnet_flannel_leases(plan, prefix)) and
    C(podnet_flannel_leases_parse(kv, prefix)) translate to and from flannel's etcd schema.
positional: _input, network
options:
  _input:
    description:
      - "C(nodes): C({hostname: {zone: str, address: IPv4, prefix: int (optional underlay prefix
        length), pod_cidr: CIDR (optional pin or previously held subnet)}})."
    type: dict
    required: true
  network:
    description:
      - "C(cluster_cidr) (required), C(node_prefix) (24), C(zone_prefix) (default: half-way between
        cluster and node prefix, stable), C(zones) ({zone: {block: CIDR}} pins, from the ledger),
        C(zone_backends) ({zone: auto|host-gw|vxlan}), C(service_cidr), C(reserved) (list),
        C(backend) (auto|host-gw|vxlan, default auto), C(underlay_mtu) (1500),
        C(vxlan) ({vni: 1, port: 8472, device: flannel.<vni>})."
    type: dict
    required: true
requirements:
  - netaddr (Python library, on the controller)
author: podnet
"""

EXAMPLES = r"""
- name: Plan | merge inventory, ledger and host reports
  ansible.builtin.set_fact:
    podnet_nodes: "{{ inventory_nodes | podnet_merge_nodes(ledger, reported) }}"
    podnet_network: "{{ network | podnet_ledger_network(ledger) }}"

- name: Plan | allocate
  ansible.builtin.set_fact:
    podnet_plan: "{{ podnet_nodes | podnet_plan(podnet_network) }}"

- name: Plan | this host's slice
  ansible.builtin.set_fact:
    podnet_host: "{{ podnet_plan | podnet_host_view(inventory_hostname) }}"

- name: Plan | ledger document to write (role podnet_plan writes it atomically, locked)
  ansible.builtin.set_fact:
    podnet_ledger_document: "{{ podnet_plan | podnet_ledger }}"
"""

RETURN = r"""
_value:
  description:
    - "podnet_plan: C({network: normalised network with every default filled and C(zones) set to
      the allocated blocks, zones: {zone: {block}}, nodes: {host: {zone, address, prefix,
      pod_cidr, gateway, vtep_ip, vtep_mac, mtu}}})."
    - "podnet_host_view: C({hostname, zone, address, pod_cidr, gateway, bridge_address, mtu,
      cluster_cidr, vxlan (null or {device, vni, port, local, vtep_ip, vtep_mac, mtu}), routes
      [{dest, via, dev: underlay|vxlan, onlink}], fdb [{mac, dst}], neighbors [{ip, mac}],
      members [address], peers [{hostname, zone, address, pod_cidr, backend}],
      neigh_gc_thresh {gc_thresh1, gc_thresh2, gc_thresh3}})."
  type: dict
"""

try:
    import netaddr  # noqa: F401  pylint: disable=unused-import
except ImportError as imp_exc:
    NETADDR_IMPORT_ERROR = imp_exc
else:
    NETADDR_IMPORT_ERROR = None

_LIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".lib")
if NETADDR_IMPORT_ERROR is None:
    if _LIB not in sys.path:
        sys.path.insert(0, _LIB)
    import podnet_planner  # noqa: E402  pylint: disable=wrong-import-position


def _call(name, function, *args):
    if NETADDR_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            "%s requires the Python netaddr library on the controller: install it into the "
            "Python that runs ansible (pip install netaddr / apt install python3-netaddr)" % name
        ) from NETADDR_IMPORT_ERROR
    try:
        return getattr(podnet_planner, function)(*args)
    except podnet_planner.PlanError as exc:
        raise AnsibleFilterError("%s: %s" % (name, exc)) from exc


def podnet_plan(nodes, network):
    """Validate and allocate the pod network."""
    return _call("podnet_plan", "plan", nodes, network)


def podnet_host_view(plan, hostname):
    """One host's slice of the plan."""
    return _call("podnet_host_view", "host_view", plan, hostname)


def podnet_merge_nodes(inventory_nodes, ledger=None, reported=None):
    """Planner nodes from inventory + ledger + host reports."""
    return _call("podnet_merge_nodes", "merge_nodes",
                 inventory_nodes, ledger, reported)


def podnet_ledger_network(network, ledger=None):
    """``network`` with the ledger's zone blocks and zone_prefix pinned."""
    return _call("podnet_ledger_network", "ledger_network", network, ledger)


def podnet_ledger(plan):
    """The ledger document for ``plan``."""
    return _call("podnet_ledger", "ledger", plan)


def podnet_preflight(nodes, network):
    """Validate what is known before any host is asked; {ask: [hosts]}."""
    return _call("podnet_preflight", "preflight", nodes, network)


def podnet_ledger_inputs(inventory_nodes, ledger=None, reported=None, network=None, forget=None):
    """{nodes, network} for podnet_plan: inventory + ledger lifecycle + reports."""
    return _call("podnet_ledger_inputs", "ledger_inputs",
                 inventory_nodes, ledger, reported, network, forget)


def podnet_ledger_mark_reset(ledger, hosts):
    """The ledger with ``reset: true`` on the nodes that reset.yml cleaned."""
    return _call("podnet_ledger_mark_reset", "mark_reset", ledger, hosts)


def podnet_preview(ledger, plan):
    """What applying ``plan`` changes against ``ledger``: adds, leaves, moves, paths."""
    return _call("podnet_preview", "preview", ledger, plan)


def podnet_flannel_config(plan):
    """flannel's ``<prefix>/config`` value."""
    return _call("podnet_flannel_config", "flannel_config", plan)


def podnet_flannel_leases(plan, prefix="/coreos.com/network"):
    """flannel subnet leases, one per node."""
    return _call("podnet_flannel_leases", "flannel_leases", plan, prefix)


def podnet_flannel_leases_parse(kv, prefix="/coreos.com/network"):
    """{PublicIP: pod_cidr} from flannel leases."""
    return _call("podnet_flannel_leases_parse", "flannel_leases_parse",
                 kv, prefix)


class FilterModule:
    """podnet planner filters."""

    def filters(self):
        return {
            "podnet_plan": podnet_plan,
            "podnet_host_view": podnet_host_view,
            "podnet_merge_nodes": podnet_merge_nodes,
            "podnet_ledger_network": podnet_ledger_network,
            "podnet_ledger": podnet_ledger,
            "podnet_preflight": podnet_preflight,
            "podnet_ledger_inputs": podnet_ledger_inputs,
            "podnet_ledger_mark_reset": podnet_ledger_mark_reset,
            "podnet_preview": podnet_preview,
            "podnet_flannel_config": podnet_flannel_config,
            "podnet_flannel_leases": podnet_flannel_leases,
            "podnet_flannel_leases_parse": podnet_flannel_leases_parse,
        }
