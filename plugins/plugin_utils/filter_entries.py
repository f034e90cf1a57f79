# -*- coding: utf-8 -*-
# Copyright: podnet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How podnet's filters call the planner: one entry per filter, made here, so the filter
files of plugins/filter hold only which filters they export (their documentation is the
YAML file beside them, one per filter).

Filter ``podnet_<name>`` calls the planner's function ``<name>`` with the filter's
arguments and turns its ``PlanError`` into an ``AnsibleFilterError`` prefixed with the
filter's name. Ansible loads every filter file in each forked worker that templates any
filter, once per host and task: the planner package exports its names lazily, so its
modules and netaddr load only when a filter is called.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import warnings

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

try:
    from ansible_collections.podnet.network.plugins.plugin_utils import planner
    from ansible_collections.podnet.network.plugins.plugin_utils.planner.errors import PlanError
except ImportError as imp_exc:  # netaddr missing from the controller's Python
    planner = None
    PLANNER_IMPORT_ERROR = imp_exc

    class PlanError(Exception):
        """Stands in while the planner cannot be imported."""
else:
    PLANNER_IMPORT_ERROR = None

# Filters whose planner function is not the filter's name without "podnet_".
FUNCTION_OF = {"podnet_ledger_mark_reset": "mark_reset"}


def _entry(name):
    function = FUNCTION_OF.get(name, name[len("podnet_"):])

    def entry(*args, **kwargs):
        if planner is None:
            raise AnsibleFilterError("%s: podnet's planner cannot be imported (%s); install "
                                     "netaddr into Ansible's Python" % (name, PLANNER_IMPORT_ERROR))
        # The planner's advice (PlanWarning) is shown as a warning of the run.
        with warnings.catch_warnings(record=True) as advice:
            warnings.simplefilter("always", planner.PlanWarning)
            try:
                return getattr(planner, function)(*args, **kwargs)
            except PlanError as exc:
                raise AnsibleFilterError("%s: %s" % (name, exc)) from exc
            finally:
                for item in advice:
                    if issubclass(item.category, planner.PlanWarning):
                        Display().warning("%s: %s" % (name, item.message))

    entry.__name__ = name
    return entry


def filter_entries(*names):
    """{filter name: entry} for a FilterModule's filters()."""
    return {name: _entry(name) for name in names}
