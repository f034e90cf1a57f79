#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""A node's five host concerns (sysctl, bridge, VXLAN, routes, firewall) in one call, each
by its own module's code."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: podnet_node
short_description: Converge a node's sysctls, bridge, VXLAN overlay, routes and firewall in one task
description:
  - One task for what the roles C(podnet_sysctl), C(podnet_bridge), C(podnet_vxlan),
    C(podnet_routes) and C(podnet_firewall) converge one task each, in that order. Each
    concern runs the very code of its own module (M(podnet.network.podnet_sysctl),
    M(podnet.network.podnet_bridge), M(podnet.network.podnet_vxlan),
    M(podnet.network.podnet_routes), M(podnet.network.podnet_firewall)) with the same
    arguments, checked against the same argument specification.
  - Its action plugin (same name, on the controller) ships the plan's fleet table (made
    once per run by the plan step, C(hostvars['localhost'].podnet_plan_table)), the node's
    name, O(settings) and O(wireguard); this module derives the node's slice of the plan
    (a route, FDB and neighbour entry per peer) and each concern's arguments from the
    table with the planner's own code (C(podnet_host_view)). The controller makes no
    node's slice - its work per node does not grow with the fleet.
  - Stops at the first concern that fails, naming it; the concerns after it do not run.
  - The result holds what each concern did (RV(concerns)), not the arguments it was given
    (a slice holds a route, FDB and neighbour entry per peer).
    RV(invocation.module_args) shows only the size of each concern's arguments.
  - Sets the host fact C(podnet_node) (in C(ansible_facts)) to the node's few values that
    do not grow with the fleet - hostname, zone, address, pod_cidr, gateway,
    bridge_address, mtu, cluster_cidr and the plan's registry, and on a dual-stack plan
    pod_cidr_ipv6, gateway_ipv6, bridge_address_ipv6 and cluster_cidr_ipv6 - for the tasks after it.
  - Dual stack (the plan's C(cluster_cidr_ipv6), not planner-only) - each concern also
    gets its IPv6 arguments (IPv6 forwarding and accept_ra 2 on the interfaces holding the
    node's IPv6 underlay address, read on the node; the bridge's IPv6 address; host-gw
    routes to the peers' IPv6 pod prefixes; the firewall's IPv6 rules). The node's IPv6
    underlay address must be on one of its interfaces.
options:
  settings:
    description:
      - The concerns' settings that are role variables, not the plan's - C(sysctl) (C(ip_forward), C(rp_filter), C(state)), C(bridge)
        (C(name), C(adopt), C(state)), C(vxlan) (C(tx_checksum_offload), C(adopt),
        C(state)), C(routes) (C(protocol), C(state)) and C(firewall) (C(masquerade),
        C(iptables_forward_accept), C(state)), exactly these, and optionally C(firewall)'s
        C(masquerade_ipv6) (used on a dual-stack plan only).
      - C(playbooks/vars/podnet_concerns.yml) gives each its role variable or the role's default.
    type: dict
  wireguard:
    description:
      - Whether some pair of the network may use WireGuard (its port is guarded by the
        firewall then).
    type: bool
    default: false
  masquerade_ipv6:
    description:
      - Dual stack only (ignored on an IPv4-only or planner-only plan) - the firewall's
        C(masquerade_ipv6) for egress of IPv6 pods. Null (the default) masquerades a ULA
        (fd00::/8) IPv6 cluster CIDR and not a global one, which the operator routes;
        true or false forces it.
      - C(playbooks/site.yml) passes the site variable C(podnet_masquerade_ipv6).
    type: bool
  table:
    description:
      - Set by the action plugin - the plan's fleet table (filter
        C(podnet.network.podnet_fleet_table)), from which the module derives O(hostname)'s
        slice and, with O(settings), each concern's arguments. A table of another version,
        or one without O(hostname), fails naming it before anything is changed.
      - Not logged (its size grows with the fleet).
    type: str
  hostname:
    description:
      - Set by the action plugin - the node's inventory hostname, its name in O(table).
    type: str
  concerns:
    description:
      - Each concern's module arguments, keyed by concern; concerns left out are not run.
      - Instead of O(table) - given directly they are converged as they are.
    type: dict
extends_documentation_fragment: [podnet.network.attributes]
"""

EXAMPLES = r"""
- name: Podnet | the node's sysctls, bridge, VXLAN overlay, routes and firewall
  podnet.network.podnet_node:
    settings: "{{ __podnet_site_concern_settings }}"
    wireguard: "{{ hostvars['localhost'].podnet_plan_wireguard | bool }}"
"""

RETURN = r"""
concerns:
  description:
    - Per concern that ran, in order - C(changed) and its C(actions) (the commands run and
      files written or, in check mode, that would be), as its own module returns them;
      C(failed) on the one that stopped the call.
  returned: always
  type: dict
  sample: {"sysctl": {"changed": false, "actions": []},
           "routes": {"changed": true, "actions": ["ip route replace 10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink proto 191"]}}
invocation:
  description: The arguments, with each concern's shown as its size only.
  returned: always
  type: dict
  contains:
    module_args:
      description: Per concern, how many arguments and list entries it was given.
      returned: always
      type: dict
      sample: {"concerns": {"routes": "4 arguments, 1021 list entries (not echoed back)"}}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.podnet.network.plugins.module_utils.podnet_node import converge_node, underlay_interfaces_ipv6
from ansible_collections.podnet.network.plugins.module_utils.podnet_slice import SliceError, concerns_from_table


def summary(concerns):
    """What the result shows of the arguments: each concern's size, not its entries."""
    shown = {}
    for name, arguments in sorted((concerns or {}).items()):
        arguments = arguments if isinstance(arguments, dict) else {}
        entries = sum(len(value) for value in arguments.values() if isinstance(value, list))
        shown[name] = "%d arguments, %d list entries (not echoed back)" % (len(arguments), entries)
    return {"module_args": {"concerns": shown}}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            settings=dict(type="dict"),
            wireguard=dict(type="bool", default=False),
            # no_log: a fleet-sized text has no place in the node's log.
            table=dict(type="str", no_log=True),
            hostname=dict(type="str"),
            concerns=dict(type="dict"),
            masquerade_ipv6=dict(type="bool"),
        ),
        mutually_exclusive=[("table", "concerns")],
        required_by={"table": ("hostname", "settings")},
        supports_check_mode=True,
    )
    params = module.params
    concerns = params["concerns"]
    if params["table"] is not None:
        settings = params["settings"]
        if params["masquerade_ipv6"] is not None and isinstance(settings, dict) \
                and isinstance(settings.get("firewall"), dict):
            settings = dict(settings, firewall=dict(settings["firewall"], masquerade_ipv6=params["masquerade_ipv6"]))
        try:
            concerns = concerns_from_table(params["table"], params["hostname"], settings,
                                           params["wireguard"], underlay_interfaces_ipv6(module))
        except SliceError as exc:
            module.fail_json(msg="podnet_node: %s (nothing was changed on %s)" % (exc, params["hostname"]),
                             invocation=summary(None))
    invocation = summary(concerns)
    if concerns is None:
        module.fail_json(msg="podnet_node: no concerns given (the action plugin podnet.network.podnet_node "
                             "makes them from the plan and settings)", invocation=invocation)
    result, failure = converge_node(module, concerns)
    for warning in result.pop("warnings"):
        module.warn(warning)
    if not module._diff or not result["diff"]:
        result.pop("diff")
    if failure:
        module.fail_json(msg="podnet_node: %s" % failure, invocation=invocation, **result)
    module.exit_json(invocation=invocation, **result)


if __name__ == "__main__":
    main()
