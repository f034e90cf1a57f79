#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""A rolling apply's check between batches: this node's pod gateway reaches its peers'."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: podnet_probe
short_description: Probe peers' pod gateways from this node's own, failing on no answer
description:
  - Sends ICMP echo requests from this node's pod gateway (its bridge's address) to each
    target's pod gateway, all at once over one raw socket, again each second for the
    targets that have not answered, until every target answered or O(timeout) passed.
  - Leaving from the pod gateway, an echo and its reply take the pod routes both ways
    (the peer answers this node's pod subnet), through whatever carries them (host-gw,
    VXLAN, WireGuard, BGP) and both nodes' firewalls.
  - Fails naming every target that did not answer, so that a rolling apply
    (C(podnet_rolling)) stops with the batch whose pod network does not work.
  - IPv4 only. Needs root (a raw socket).
options:
  source:
    description: This node's pod gateway, the address the echoes leave from.
    type: str
    required: true
  targets:
    description:
      - The peers to probe, each a dict with at least C(hostname) and C(gateway) (its pod
        gateway), such as a peer's C(podnet_node) fact; other keys are ignored.
    type: list
    elements: dict
    required: true
  timeout:
    description: Seconds to wait for every target to answer.
    type: int
    default: 10
extends_documentation_fragment: [podnet.network.attributes.read_only]
"""

EXAMPLES = r"""
- name: Roll | this node's pod gateway reaches two peers'
  podnet.network.podnet_probe:
    source: 10.244.1.1
    targets:
      - {hostname: node2, gateway: 10.244.2.1}
      - {hostname: node3, gateway: 10.244.3.1}
"""

RETURN = r"""
answered:
  description: The targets that answered, with the first answer's round trip in milliseconds.
  returned: always
  type: dict
  sample: {"node2": 0.21}
unanswered:
  description: The targets that did not answer within O(timeout).
  returned: always
  type: list
  elements: str
  sample: []
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils.podnet_agent import ping_all

ARGUMENT_SPEC = {
    "source": {"type": "str", "required": True},
    "targets": {"type": "list", "elements": "dict", "required": True},
    "timeout": {"type": "int", "default": 10},
}


def probe(source, targets, timeout, ping=ping_all, clock=time.monotonic, sleep=time.sleep):
    """({hostname: RTT ms}, [unanswered hostnames]) after echoing every target from SOURCE
    each second until all answered or TIMEOUT seconds passed."""
    address_of = dict((t["hostname"], t["gateway"]) for t in targets)
    answered = {}
    deadline = clock() + timeout
    while True:
        pending = sorted(set(address_of) - set(answered))
        if not pending:
            break
        started = clock()
        rtt = ping(sorted(set(address_of[h] for h in pending)), min(1.0, max(0.1, deadline - started)),
                   source)
        for host in pending:
            if rtt.get(address_of[host]) is not None:
                answered[host] = round(rtt[address_of[host]] * 1000, 3)
        if clock() >= deadline or len(answered) == len(address_of):
            break
        sleep(max(0.0, 1.0 - (clock() - started)))
    return answered, sorted(set(address_of) - set(answered))


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    targets = module.params["targets"]
    for target in targets:
        if not isinstance(target.get("hostname"), str) or not isinstance(target.get("gateway"), str):
            module.fail_json(msg="podnet_probe: each target needs hostname and gateway (its pod gateway), "
                                 "got %r" % (target,))
    if module.params["timeout"] < 1:
        module.fail_json(msg="podnet_probe: timeout must be at least 1 second, got %d" % module.params["timeout"])
    try:
        answered, unanswered = probe(module.params["source"], targets, module.params["timeout"])
    except OSError as exc:
        module.fail_json(msg="podnet_probe: cannot send ICMP echoes from %s (%s); this node's pod gateway "
                             "must be one of its addresses (is its bridge up?)" % (module.params["source"], exc))
    if unanswered:
        gateway_of = dict((t["hostname"], t["gateway"]) for t in targets)
        module.fail_json(
            msg="podnet_probe: no answer within %d s from the pod gateway of %s, probed from this node's "
                "pod gateway %s: the pod network between them does not work (routes, overlay or a "
                "firewall on either node). The roll stops here; fix it and run again" % (
                    module.params["timeout"],
                    ", ".join("%s (%s)" % (h, gateway_of[h]) for h in unanswered),
                    module.params["source"]),
            answered=answered, unanswered=unanswered)
    module.exit_json(changed=False, answered=answered, unanswered=[])


if __name__ == "__main__":
    main()
