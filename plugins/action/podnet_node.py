# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The controller's side of podnet_node: the fleet table, this node's name and the
settings go to the node, which derives its own slice of the plan from the table.

The plan step encodes the fleet table once per run (``podnet_plan_table``, a fact of
localhost beside ``podnet_plan_result``; module_utils/podnet_slice.py): what every node's
slice reads of the plan, O(n). Per node this plugin does O(1) work: it reads the plan and
the table from localhost's variables as they are stored (``hostvars.raw_get``;
``hostvars['localhost'].podnet_plan_result`` would run the whole O(n) plan through
Ansible's templating for every node), checks the settings and that the node is in the
plan, and ships the table as it is (one string: Ansible's module encoder copies it in C).
The node's module computes its routes, FDB and neighbour entries (a slice is O(n), every
node's O(n^2)) from it with the planner's own code. The host keeps only the fact
``podnet_node`` (O(1): what the tasks after it need). Documentation: ../modules/podnet_node.py.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible_collections.podnet.network.plugins.module_utils.podnet_slice import (
    TABLE_NAME, SliceError, check_settings)
from ansible_collections.podnet.network.plugins.plugin_utils.planner.errors import PlanError
from ansible_collections.podnet.network.plugins.plugin_utils.planner.host_view import fleet_table, node_view

PLAN_VAR = "podnet_plan_result"
TABLE_VAR = "podnet_plan_table"


def payload(plan, table, hostname, settings, wireguard):
    """(module arguments, O(1) node view) for HOSTNAME: exactly what the task ships to the
    node and what it keeps. TABLE: the plan's fleet table (fleet_table(plan)), shipped as
    it is. Raises PlanError naming the culprit (bad settings, a host not in the plan)
    before anything is shipped."""
    try:
        check_settings(settings)
    except SliceError as exc:
        raise PlanError(str(exc)) from None
    node = node_view(plan, hostname)
    return {"table": table, "hostname": hostname, "settings": settings, "wireguard": wireguard}, node


def _localhost(task_vars):
    hostvars = task_vars.get("hostvars")
    if hostvars is None:
        raise AnsibleActionFail("podnet_node: no hostvars (run it from a play, after the plan play)")
    raw = hostvars.raw_get("localhost") if hasattr(hostvars, "raw_get") else None
    return hostvars, raw if isinstance(raw, Mapping) else {}


def plan_and_table(task_vars):
    """(localhost's plan, its fleet table). The plan untemplated when it is stored as data
    (a fact of the plan play), and then the table the plan step made with it; without one
    (a plan given as a template, or by a play that made no table) the table is made here,
    from the plan this task reads (O(n) for each node that does so)."""
    hostvars, raw = _localhost(task_vars)
    plan = raw.get(PLAN_VAR)
    if isinstance(plan, Mapping) and "nodes" in plan and "network" in plan:
        table = raw.get(TABLE_VAR)
        if isinstance(table, str) and table.startswith(TABLE_NAME + " "):
            return plan, str(table)
        return plan, fleet_table(plan)
    # Not plain data (e.g. a template given as a variable): let Ansible render it.
    try:
        plan = hostvars["localhost"][PLAN_VAR]
    except KeyError:
        raise AnsibleActionFail("podnet_node: localhost has no %s: run the plan play first "
                                "(playbooks/site.yml or playbooks/plan.yml)" % PLAN_VAR) from None
    return plan, fleet_table(plan)


class ActionModule(ActionBase):
    """Ship the fleet table to the module podnet_node, keep the node's O(1) view."""

    _VALID_ARGS = frozenset(("settings", "wireguard", "masquerade_ipv6"))
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = self._task.args
        hostname = task_vars.get("inventory_hostname")
        try:
            plan, table = plan_and_table(task_vars)
            module_args, node = payload(plan, table, hostname, args.get("settings"),
                                        boolean(args.get("wireguard", False), strict=True))
            # Dual stack's egress setting, shipped only when the task gives one.
            if args.get("masquerade_ipv6") is not None:
                module_args["masquerade_ipv6"] = boolean(args["masquerade_ipv6"], strict=True)
        except (PlanError, TypeError) as exc:
            raise AnsibleActionFail("podnet_node: %s (nothing was changed on %s)" % (exc, hostname)) from None
        result.update(self._execute_module(module_name="podnet.network.podnet_node", module_args=module_args,
                                           task_vars=task_vars))
        del module_args, table
        result.setdefault("ansible_facts", {})["podnet_node"] = node
        return result
