# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The controller's side of podnet_node: this node's slice of the plan, made when its task
runs and dropped when the module has returned.

The plan is read once per task from localhost's variables as they are stored
(``hostvars.raw_get``): ``hostvars['localhost'].podnet_plan_result`` would run the whole
O(n) plan through Ansible's templating for every node. The slice (O(n): a route, FDB and
neighbour entry per peer) becomes the module's arguments (`payload`) and lives as long
as this task; the host keeps only the fact ``podnet_node`` (O(1): what the tasks after
it need). Documentation: ../modules/podnet_node.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible_collections.podnet.network.plugins.plugin_utils.planner.errors import PlanError
from ansible_collections.podnet.network.plugins.plugin_utils.planner.host_view import (
    concern_arguments, host_view, node_view)

PLAN_VAR = "podnet_plan_result"


def payload(plan, hostname, settings, wireguard):
    """(module arguments, O(1) node view) for HOSTNAME: exactly what the task ships to the
    node and what it keeps. Raises PlanError naming the culprit.

    The concerns' arguments go as one JSON text (the module's dict option `concerns` reads
    it back; AnsibleModule turns a JSON object string into a dict): Ansible's module
    encoder walks every list and dict of an argument in Python, which for a slice of a
    5,000-node fleet (a route, FDB and neighbour entry per peer) costs about four times
    what the C encoder takes for the same text (benchmarks/fleet_bench.py --deliver)."""
    view = host_view(plan, hostname, peers=False)
    concerns = concern_arguments(view, plan["network"], settings, wireguard)
    del view
    return {"concerns": json.dumps(concerns, separators=(",", ":"))}, node_view(plan, hostname)


def plan_of(task_vars):
    """localhost's plan, untemplated when it is stored as data (a fact of the plan play)."""
    hostvars = task_vars.get("hostvars")
    if hostvars is None:
        raise AnsibleActionFail("podnet_node: no hostvars (run it from a play, after the plan play)")
    raw = hostvars.raw_get("localhost") if hasattr(hostvars, "raw_get") else None
    plan = raw.get(PLAN_VAR) if isinstance(raw, Mapping) else None
    if not (isinstance(plan, Mapping) and "nodes" in plan and "network" in plan):
        # Not plain data (e.g. a template given as a variable): let Ansible render it.
        try:
            plan = hostvars["localhost"][PLAN_VAR]
        except KeyError:
            raise AnsibleActionFail("podnet_node: localhost has no %s: run the plan play first "
                                    "(playbooks/site.yml or playbooks/plan.yml)" % PLAN_VAR) from None
    return plan


class ActionModule(ActionBase):
    """Make the node's slice, run the module podnet_node with it, keep the O(1) view."""

    _VALID_ARGS = frozenset(("settings", "wireguard"))
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = self._task.args
        hostname = task_vars.get("inventory_hostname")
        try:
            module_args, node = payload(plan_of(task_vars), hostname, args.get("settings"),
                                        boolean(args.get("wireguard", False), strict=True))
        except (PlanError, TypeError) as exc:
            raise AnsibleActionFail("podnet_node: %s (nothing was changed on %s)" % (exc, hostname)) from None
        result.update(self._execute_module(module_name="podnet.network.podnet_node", module_args=module_args,
                                           task_vars=task_vars))
        del module_args
        result.setdefault("ansible_facts", {})["podnet_node"] = node
        return result
