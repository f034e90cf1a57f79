# -*- coding: utf-8 -*-
# Copyright: podnet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters of verify.yml's verdict, fleet document and HTML page, and the agents' problems.
Each is documented in the YAML file of its name beside this one."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.podnet.network.plugins.plugin_utils.filter_entries import filter_entries


class FilterModule:
    """The report filters."""

    def filters(self):
        return filter_entries(
            "podnet_agent_problems",
            "podnet_report_document",
            "podnet_report_html",
            "podnet_verify_report",
        )
