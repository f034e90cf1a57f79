# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet's planner: pure functions on netaddr, JSON in and out, nothing from Ansible.

Installed into the controller's Python by ``scripts/setup.sh`` (editable); imported by
the thin filter entries in ``filter_plugins/``, by the tests and by the benchmarks.
Every error is a ``PlanError`` whose message names the culprit and the fix.
"""

from .errors import PlanError
from .flannel import flannel_config, flannel_leases, flannel_leases_parse
from .host_view import host_view
from .inventory import allocation_table, inventory_nodes, reported_subnets
from .ledger import (forget_list, ledger, ledger_inputs, ledger_network, mark_reset, merge_nodes,
                     released_nodes)
from .plan import plan, preflight
from .preview import preview
from .registry import registry_keys, registry_pins, registry_read
from .report import report_document, report_html, verify_report
from .runtimes import runtime_ranges

__all__ = [
    "PlanError", "plan", "preflight", "host_view", "merge_nodes", "ledger", "ledger_network",
    "ledger_inputs", "released_nodes", "mark_reset", "forget_list", "preview",
    "flannel_config", "flannel_leases", "flannel_leases_parse",
    "registry_keys", "registry_read", "registry_pins",
    "inventory_nodes", "reported_subnets", "allocation_table",
    "runtime_ranges", "verify_report", "report_document", "report_html",
]
