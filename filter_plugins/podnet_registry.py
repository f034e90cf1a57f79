# -*- coding: utf-8 -*-
"""Filters between podnet's plan and its etcd registry (flannel's schema + podnet's ledger).

The registry holds, under one prefix (flannel's default ``/coreos.com/network``):

- ``<prefix>/config``: flannel's network config;
- ``<prefix>/subnets/<a.b.c.d>-<len>``: one lease per host, without TTL;
- ``<prefix>/podnet/ledger``: podnet's ledger document (zones, hostnames), which
  flanneld never reads (it only looks at ``config`` and ``subnets/``).
"""

from __future__ import annotations

import json
import os
import sys

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: podnet_registry_keys
short_description: Translate between podnet's plan and its etcd registry
description:
  - C(podnet_registry_keys(plan, prefix)) returns C({key: value}) for every key podnet writes
    under O(prefix) -- flannel's C(config), one C(subnets/<net>-<len>) lease per node and
    podnet's ledger document at C(podnet/ledger).
  - C(podnet_registry_read(kvs, prefix)) turns what was read under the prefix
    (C({key: {value, lease}}) or C({key: value})) into C({ledger, leases}) -- the ledger
    document for the planner (C({}) when the registry is empty; built from flannel's config
    when podnet's own document is missing) and C({PublicIP: pod_cidr}) of every lease.
  - C(podnet_registry_pins(nodes, leases)) gives every node of C(podnet_inventory_nodes) that
    has no C(pod_cidr) yet the subnet a lease holds for its address, so a host keeps a subnet
    it holds in etcd (even one a stock flanneld acquired).
positional: _input, prefix
options:
  _input:
    description: The plan, what was read from etcd, or the inventory nodes.
    type: dict
    required: true
  prefix:
    description: The registry's etcd key prefix.
    type: str
    default: /coreos.com/network
author: podnet
"""

EXAMPLES = r"""
- name: Registry | what podnet writes
  ansible.builtin.set_fact:
    keys: "{{ podnet_plan_result | podnet_registry_keys('/coreos.com/network') }}"
"""

RETURN = r"""
_value:
  description: See the description of each filter.
  type: dict
"""

DEFAULT_PREFIX = "/coreos.com/network"
LEDGER_KEY = "podnet/ledger"

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


def _planner(name):
    if NETADDR_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            "%s requires the Python netaddr library on the controller" % name) from NETADDR_IMPORT_ERROR
    return podnet_planner


def _prefix(prefix):
    if not isinstance(prefix, str) or not prefix.startswith("/"):
        raise AnsibleFilterError("podnet registry prefix %r must be an absolute etcd key prefix "
                                 "such as %r" % (prefix, DEFAULT_PREFIX))
    return prefix.rstrip("/")


def registry_keys(plan, prefix=DEFAULT_PREFIX):
    """Every key podnet writes for ``plan``, with its value."""
    planner = _planner("podnet_registry_keys")
    prefix = _prefix(prefix)
    try:
        keys = dict(planner.flannel_leases(plan, prefix))
        keys["%s/config" % prefix] = planner.flannel_config(plan)
        keys["%s/%s" % (prefix, LEDGER_KEY)] = planner.ledger(plan)
    except planner.PlanError as exc:
        raise AnsibleFilterError("podnet_registry_keys: %s" % exc) from exc
    return dict(sorted(keys.items()))


def _value(raw, key):
    value = raw.get("value") if isinstance(raw, dict) and "value" in raw else raw
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise AnsibleFilterError("podnet registry: %s does not hold JSON: %r" % (key, value)) from None
    return value


def registry_read(kvs, prefix=DEFAULT_PREFIX):
    """``{"ledger": document or {}, "leases": {PublicIP: pod_cidr}}`` from a registry read."""
    planner = _planner("podnet_registry_read")
    prefix = _prefix(prefix)
    kvs = kvs or {}
    if not isinstance(kvs, dict):
        raise AnsibleFilterError("podnet_registry_read: expected {key: value}, got %r" % type(kvs).__name__)
    subnets = {key: _value(raw, key) for key, raw in kvs.items() if key.startswith(prefix + "/subnets/")}
    try:
        leases = planner.flannel_leases_parse(subnets, prefix)
    except planner.PlanError as exc:
        raise AnsibleFilterError("podnet_registry_read: %s" % exc) from exc
    ledger_key, config_key = "%s/%s" % (prefix, LEDGER_KEY), "%s/config" % prefix
    ledger = _value(kvs[ledger_key], ledger_key) if ledger_key in kvs else {}
    if not ledger and config_key in kvs:
        # flannel's config without podnet's document: still never renumber the network.
        config = _value(kvs[config_key], config_key) or {}
        ledger = {"podnet_ledger": 1, "cluster_cidr": config.get("Network"),
                  "node_prefix": config.get("SubnetLen"), "zones": {}, "nodes": {}}
    elif not ledger and leases:
        raise AnsibleFilterError("podnet_registry_read: %s holds leases but no config; restore "
                                 "%s or delete the leases" % (prefix, config_key))
    return {"ledger": ledger, "leases": leases}


def registry_pins(nodes, leases):
    """``nodes`` with ``pod_cidr`` taken from a lease for its address where it has none."""
    if not isinstance(nodes, dict) or not isinstance(leases or {}, dict):
        raise AnsibleFilterError("podnet_registry_pins: expected nodes and {PublicIP: pod_cidr}")
    leases = leases or {}
    result = {}
    for host, node in nodes.items():
        node = dict(node)
        if not node.get("pod_cidr") and node.get("address") in leases:
            node["pod_cidr"] = leases[node["address"]]
        result[host] = node
    return result


class FilterModule:
    """podnet registry filters."""

    def filters(self):
        return {
            "podnet_registry_keys": registry_keys,
            "podnet_registry_read": registry_read,
            "podnet_registry_pins": registry_pins,
        }
