# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet's planner: pure functions on netaddr, JSON in and out, nothing from Ansible.

Installed into the controller's Python by ``scripts/setup.sh`` (editable); imported by
the thin filter entries in ``filter_plugins/``, by the tests and by the benchmarks.
Every error is a ``PlanError`` whose message names the culprit and the fix.

Names are imported from their module on first use (PEP 562): Ansible loads every filter
file in each forked worker that templates any filter, once per host and task, so
``from podnet_planner import host_view`` must cost only the module that holds it.
"""

import importlib
import sys
import types

# name -> the module of this package that defines it
_EXPORTS = {
    "PlanError": "errors",
    "agent_slice": "agent_slices",
    "agent_slice_keys": "agent_slices",
    "bgp_nodes": "bgp", "bgp_router_config": "bgp",
    "flannel_config": "flannel", "flannel_leases": "flannel", "flannel_leases_parse": "flannel",
    "fleet_table": "host_view", "host_view": "host_view",
    "PlanWarning": "names", "role_inputs": "names", "systemd_quote": "names",
    "allocation_table": "inventory", "inventory_nodes": "inventory", "reported_subnets": "inventory",
    "wireguard_nodes": "inventory",
    "forget_list": "ledger", "ledger": "ledger", "ledger_inputs": "ledger", "ledger_network": "ledger",
    "mark_reset": "ledger", "merge_nodes": "ledger", "released_nodes": "ledger",
    "plan": "plan", "preflight": "plan",
    "preview": "preview",
    "registry_hold": "registry", "registry_keys": "registry", "registry_pins": "registry", "registry_read": "registry",
    "registry_access": "registry_access",
    "report_document": "report", "report_html": "report", "verify_report": "report",
    "agent_problems": "report",
    "runtime_ranges": "runtimes",
    "roll_probes": "ledger_commit",
}

__all__ = sorted(_EXPORTS)


class _Package(types.ModuleType):
    """The package's module type. Python binds each submodule on its package once loaded
    (``planner.ledger = <module ledger>``); four submodules carry the name of the function
    they export (plan, ledger, preview, host_view), so loading one (``from .ledger import
    ...`` in another submodule) would turn ``planner.ledger`` into a module and make the
    filter ``podnet_ledger`` call a module. Such a binding is not made: the name stays the
    function's (``from .ledger import x`` finds the submodule in sys.modules regardless)."""

    def __setattr__(self, name, value):
        if name in _EXPORTS and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError("module 'podnet_planner' has no attribute %r" % name)
    value = getattr(importlib.import_module("." + module, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
