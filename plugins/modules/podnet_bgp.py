#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""BIRD 2's configuration from the node's slice of the plan: read -> pure plan -> apply."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: podnet_bgp
short_description: Keep BIRD 2 announcing this node's pod subnet to its rack's routers
description:
  - Renders BIRD 2's configuration (O(path)) from the node's slice of the plan (the host
    view's C(bgp)), with one eBGP session per router of the node's segment, and BFD and
    graceful restart where the plan asks for them.
  - The export filter announces exactly the node's own pod subnet; the import filter takes
    only pod subnets (the node prefix length) inside the blocks of the zones BGP carries, never
    the node's own. Learned routes go into the kernel's main table with BIRD's route protocol
    (C(bird), 12) and metric 32, so podnet's own routes (protocols 191 and 193), which podnet
    purges, never collide with them.
  - Read, pure plan, apply. The new text is parsed by C(bird -p) before it replaces the old
    one; C(birdc configure) runs only when the text changed and BIRD is running; BIRD is
    enabled (it survives a reboot) and started when it is not. A second run changes nothing.
  - A configuration at O(path) that podnet did not write and that is not the one Debian's
    bird2 package installed (O(stock_path)) stops the run naming the file; podnet never
    overwrites it. The file keeps the package's owner and mode (bird:bird 0640, its
    dpkg-statoverride); its directory is left as the package made it.
  - Returns the BGP sessions C(birdc show protocols) lists (RV(sessions)), also in check mode.
  - Keeps the local fact O(fact_path) (the node's ASN), so a later run knows the node still
    runs podnet's BIRD when its zone stops using BGP.
  - O(state=absent) stops and disables BIRD, removes podnet's configuration and the fact;
    BIRD removes the routes it installed when it stops. The package stays.
options:
  state:
    description: V(present) converges; V(absent) removes.
    type: str
    choices: [present, absent]
    default: present
  config:
    description:
      - The host view's C(bgp) (C(asn), C(router_id), C(pod_cidr), C(import_prefixes),
        C(neighbors), C(bfd), C(graceful_restart)). Required when O(state=present).
    type: dict
  path:
    description: BIRD's configuration file (Debian's bird2 reads this one).
    type: path
    default: /etc/bird/bird.conf
  stock_path:
    description: The configuration Debian's bird2 installs at O(path) (through ucf); podnet takes over that one only.
    type: path
    default: /usr/share/bird2/bird.conf
  fact_path:
    description: The local fact file that records that podnet configured BIRD here.
    type: path
    default: /etc/ansible/facts.d/podnet_bgp.fact
extends_documentation_fragment: [podnet.network.attributes]
"""

EXAMPLES = r"""
- name: BGP | converge BIRD from this node's slice
  podnet.network.podnet_bgp:
    config: "{{ (podnet_plan_result | podnet.network.podnet_host_view(inventory_hostname)).bgp }}"
"""

RETURN = r"""
actions:
  description: The changes made (or, in check mode, that would be made), in order.
  returned: always
  type: list
  elements: str
  sample: ["write /etc/bird/bird.conf", "birdc configure"]
sessions:
  description: The BGP protocols BIRD runs, as C(birdc show protocols) lists them.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "podnet_tor_0", "state": "up", "info": "Established", "since": "10:00:01.000"}]
left_alone:
  description: What podnet found at its paths but did not write, and left as it was.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils import podnet_concern_bgp as concern


def __getattr__(name):
    # The read, plan and apply code lives in module_utils/podnet_concern_bgp.py, shared
    # with the node agent; its names (the pure plan steps) read through this module too.
    return getattr(concern, name)


def main():
    concern.converge(AnsibleModule(argument_spec=concern.ARGUMENT_SPEC, supports_check_mode=True))


if __name__ == "__main__":
    main()
