#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: podnet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the podnet_plan_ledger action (the work is in action_plugins/)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: podnet_plan_ledger
short_description: Locate, lock, read or write podnet's ledger file (controller only)
description:
  - The ledger keeps every node's pod subnet between runs. This action runs on the
    controller only (an action plugin); nothing is sent to a managed host.
  - "Location: O(path) when given; else one ledger per inventory source: C(<dir>/.podnet-ledger.yml)
    for a directory source, C(<dir>/.podnet-ledger.<name>.yml) for a file source
    C(<dir>/<name>.<ext>). With several sources the first is the fleet's own. A shared
    C(.podnet-ledger.yml) next to a file source (written by an earlier podnet) stops the run
    with the command that claims it."
  - "Lock: an exclusive flock on C(<ledger>.lock), held by a helper process until the
    ansible-playbook run that took it exits; a second run fails naming the holder."
  - Without O(content) it reads the ledger; a missing file is an empty ledger; an unreadable
    or malformed file stops the run naming the file. With O(content) it writes the ledger
    atomically, only when it differs, honouring check mode and diff mode.
  - "Reading checks the whole document before anything uses it: the types of C(nodes),
    C(zones) and C(routing), every node record's fields and state, pod subnets held twice,
    keys written twice. Errors name the file, the key path (C(nodes.a1.pod_cidr)) and the
    fix. An existing but empty file (0 bytes, or only comments) stops the run: a run from it
    would hand out the subnets of the nodes it cannot reach."
  - With O(registry_kvs) (etcd mode) it neither locates nor locks a file; it reads what the
    etcd registry holds through the same checks, errors naming the etcd key.
  - "Committed plan: with O(content) and O(plan) it also writes the plan beside the ledger,
    C(<ledger without .yml>.plan.json), with what the inventory declared for it (each node's
    C(podnet_zone), C(podnet_address), C(podnet_underlay_prefix), C(podnet_pod_cidr) of
    O(hosts), and O(network)) and the ledger's SHA-256."
  - "With O(apply) (apply-only runs) it neither locks nor writes: it reads the committed plan,
    checks that the ledger and the inventory are still what it was made from (a node added,
    removed, in another zone, with another address or pin, a changed setting stop the run
    naming it and saying to run plan.yml first), and returns the plan as facts
    (C(podnet_plan_result), C(podnet_plan_apply_only), and C(podnet_plan_roll) with O(rolling))."
  - With O(reported) it checks what the nodes reported holding against the committed plan
    (C(hostvars.localhost.podnet_plan_result)).
options:
  path:
    description: The ledger file; null derives it from O(sources).
    type: path
  sources:
    description: The run's inventory sources (C(ansible_inventory_sources)).
    type: list
    elements: str
    default: []
  content:
    description: The ledger document to write (from the C(podnet_ledger) filter).
    type: dict
  lock:
    description: Take the run's lock on the ledger first.
    type: bool
    default: true
  registry_kvs:
    description:
      - What was read under the etcd registry's prefix (the C(kvs) of podnet_etcd_kv); the
        ledger in it is checked as a ledger file is, and returned as RV(content).
    type: dict
  registry_prefix:
    description: The etcd registry's key prefix (with O(registry_kvs)).
    type: str
    default: /coreos.com/network
  plan:
    description: The plan to commit beside the ledger (with O(content)).
    type: dict
  hosts:
    description: The inventory's podnet nodes (with O(plan) or O(apply)).
    type: list
    elements: str
    default: []
  network:
    description: The network settings the plan is made from (with O(plan) or O(apply)).
    type: dict
  apply:
    description: Read the committed plan for an apply-only run (no lock, nothing written).
    type: bool
    default: false
  sliced:
    description: With O(apply), the inventory holds only a slice of the fleet (AWX job slicing).
    type: bool
    default: false
  rolling:
    description: With O(apply), the batches of a rolling run (C(zone), a number or a percentage).
    type: raw
  max_fail_percentage:
    description: With O(rolling), the failed nodes a batch may have before the roll stops (percent).
    type: int
    default: 0
  reported:
    description: What each node reported holding (C(podnet_reported_subnets)), checked against the plan.
    type: dict
extends_documentation_fragment: [podnet.network.attributes]
"""

EXAMPLES = r"""
- name: Plan | read the ledger
  podnet_plan_ledger:
    path: "{{ podnet_plan_ledger_path }}"
    sources: "{{ ansible_inventory_sources }}"
  register: __podnet_plan_ledger_read

- name: Registry | check the ledger the etcd registry holds
  podnet_plan_ledger:
    registry_kvs: "{{ __podnet_registry_read.kvs }}"
    registry_prefix: /coreos.com/network
  register: __podnet_registry_checked
"""

RETURN = r"""
path:
  description: The ledger file.
  type: str
  returned: always
lock:
  description: The lock file held for this run.
  type: str
  returned: when O(lock) is true
ledger:
  description: The parsed and checked ledger ({} when it does not exist yet).
  type: dict
  returned: when reading the file
plan_path:
  description: The committed plan file.
  type: str
  returned: with O(plan) or O(apply)
content:
  description: What the etcd registry holds, C({ledger, leases}), its ledger checked.
  type: dict
  returned: with O(registry_kvs)
"""
