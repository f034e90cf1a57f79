"""podnet's planner: pure functions on netaddr, JSON in and out.

Lives in ``filter_plugins/.lib`` (a dot directory) because ansible-core's
plugin loader loads every ``*.py`` in filter_plugins/ and in its first two
levels of sub-directories as a filter plugin, and warns about each module
without a ``FilterModule``.  Dot directories are skipped by its glob.
"""

from .errors import PlanError
from .flannel import flannel_config, flannel_leases, flannel_leases_parse
from .host_view import host_view
from .ledger import (forget_list, ledger, ledger_inputs, ledger_network, mark_reset, merge_nodes,
                     released_nodes)
from .plan import plan, preflight
from .preview import preview

__all__ = [
    "PlanError", "plan", "preflight", "host_view", "merge_nodes", "ledger", "ledger_network",
    "ledger_inputs", "released_nodes", "mark_reset", "forget_list", "preview",
    "flannel_config", "flannel_leases", "flannel_leases_parse",
]
