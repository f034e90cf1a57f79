# -*- coding: utf-8 -*-
# Copyright: podnet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters of podnet's plan: validation, allocation and each node's slice.
Each is documented in the YAML file of its name beside this one."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.podnet.network.plugins.plugin_utils.filter_entries import filter_entries


class FilterModule:
    """The plan filters."""

    def filters(self):
        return filter_entries(
            "podnet_plan",
            "podnet_preflight",
            "podnet_host_view",
            "podnet_fleet_table",
            "podnet_agent_slice",
            "podnet_runtime_ranges",
            "podnet_roll_probes",
            "podnet_wireguard_nodes",
            "podnet_bgp_nodes",
            "podnet_bgp_router_config",
            "podnet_inventory_nodes",
            "podnet_reported_subnets",
            "podnet_allocation_table",
            "podnet_role_inputs",
            "podnet_systemd_quote",
        )
