# -*- coding: utf-8 -*-
# Copyright: podnet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters of podnet's ledger: the allocation lifecycle between runs, and the preview.
Each is documented in the YAML file of its name beside this one."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.podnet.network.plugins.plugin_utils.filter_entries import filter_entries


class FilterModule:
    """The ledger filters."""

    def filters(self):
        return filter_entries(
            "podnet_ledger",
            "podnet_ledger_inputs",
            "podnet_ledger_mark_reset",
            "podnet_ledger_network",
            "podnet_merge_nodes",
            "podnet_preview",
        )
