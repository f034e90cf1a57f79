# -*- coding: utf-8 -*-
# Copyright: podnet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters of podnet's etcd registry in flannel's schema.
Each is documented in the YAML file of its name beside this one."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.podnet.network.plugins.plugin_utils.filter_entries import filter_entries


class FilterModule:
    """The registry filters."""

    def filters(self):
        return filter_entries(
            "podnet_agent_slice_keys",
            "podnet_flannel_config",
            "podnet_flannel_leases",
            "podnet_flannel_leases_parse",
            "podnet_registry_access",
            "podnet_registry_hold",
            "podnet_registry_keys",
            "podnet_registry_pins",
            "podnet_registry_read",
        )
