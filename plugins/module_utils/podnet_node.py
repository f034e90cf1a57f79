# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""A node's five host concerns in one module call (module podnet_node).

Each concern runs its own ``podnet_concern_<concern>.converge``, the code its module and
the node agent run, through the agent's stand-in (`podnet_agent.NodeModule`, whose
exit/fail are raised as ModuleExit/ModuleFail) bound to the running AnsibleModule: its
run_command, tool paths, file attributes, check mode and diff mode. The concerns' modules
validate their arguments with AnsibleModule; here the same argument specs go through
Ansible's own ArgumentSpecValidator, so a concern gets exactly what its module would.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

# Imported by name (not importlib, as the agent does): Ansible ships a module only the
# module_utils it imports statically.
from ansible_collections.podnet.network.plugins.module_utils import (
    podnet_concern_bridge,
    podnet_concern_firewall,
    podnet_concern_routes,
    podnet_concern_sysctl,
    podnet_concern_vxlan,
)
from ansible_collections.podnet.network.plugins.module_utils.podnet_agent import ModuleExit, ModuleFail, NodeModule
# The node's IPv6 underlay interfaces: looked up by the node agent too (standard library).
from ansible_collections.podnet.network.plugins.module_utils.podnet_slice import (  # noqa: F401 pylint: disable=unused-import
    interfaces_holding, underlay_interfaces_ipv6)

# The order site.yml converges them: the bridge before the overlay before the routes
# before the firewall (the agent's CONCERNS).
CODE = (
    ("sysctl", podnet_concern_sysctl),
    ("bridge", podnet_concern_bridge),
    ("vxlan", podnet_concern_vxlan),
    ("routes", podnet_concern_routes),
    ("firewall", podnet_concern_firewall),
)
ORDER = tuple(name for name, dummy in CODE)


class ConcernModule(NodeModule):
    """One concern's module surface inside the running AnsibleModule HOST: its own
    PARAMS, HOST's commands, paths, file attributes, check and diff mode; exit and fail
    raise (ModuleExit, ModuleFail) so the next concern can run or the call stop."""

    def __init__(self, host, params):
        NodeModule.__init__(self, params, host.check_mode)
        self._host = host
        self._diff = host._diff

    def run_command(self, argv, data=None, environ_update=None):
        return self._host.run_command(argv, data=data, environ_update=environ_update)

    def get_bin_path(self, tool, required=False):
        path = self._host.get_bin_path(tool, required=False)
        if path is None and required:
            self.fail_json(msg="%s is not installed (not found on this node's PATH)" % tool)
        return path

    def load_file_common_arguments(self, params):
        return self._host.load_file_common_arguments(params)

    def set_fs_attributes_if_different(self, args, changed):
        return self._host.set_fs_attributes_if_different(args, changed)


def validate(spec, arguments):
    """(params, error): ARGUMENTS checked and converted against a concern's argument SPEC
    as AnsibleModule would (types, choices, defaults)."""
    checked = ArgumentSpecValidator(spec).validate(dict(arguments or {}))
    if checked.error_messages:
        return None, "; ".join(checked.error_messages)
    return checked.validated_parameters, None


def converge_node(host, concerns, make=ConcernModule, check=validate):
    """Converge CONCERNS ({concern: its module's arguments}; the ones absent are not run)
    in ORDER through module HOST. Returns (result, failure): result = {"changed", "concerns":
    {concern: {"changed", "actions"}}, "diff": [...] (diff mode), "warnings": [...]};
    failure = None, or the message of the first concern that failed (the concerns after
    it did not run)."""
    unknown = sorted(set(concerns) - set(ORDER))
    result = {"changed": False, "concerns": {}, "diff": [], "warnings": []}
    if unknown:
        return result, "unknown concern %s (podnet_node converges %s)" % (", ".join(unknown), ", ".join(ORDER))
    for name, code in CODE:
        if name not in concerns:
            continue
        params, error = check(code.ARGUMENT_SPEC, concerns[name])
        if error:
            return result, "%s: %s (nothing of %s was changed)" % (name, error, name)
        module = make(host, params)
        try:
            code.converge(module)
        except ModuleExit as done:
            outcome, failed = done.result, None
        except ModuleFail as refused:
            outcome, failed = refused.result, refused.msg
        else:
            outcome, failed = {}, "converge returned without a result"
        actions = list(outcome.get("actions") or [])
        entry = {"changed": bool(actions), "actions": actions}
        result["concerns"][name] = entry
        result["changed"] = result["changed"] or entry["changed"]
        result["warnings"].extend("%s: %s" % (name, warning) for warning in module.warnings)
        for diff in outcome.get("diff") or []:
            diff = dict(diff)
            for header in ("before_header", "after_header"):
                if header in diff:
                    diff[header] = "%s: %s" % (name, diff[header])
            result["diff"].append(diff)
        if failed:
            entry["failed"] = True
            return result, "%s: %s" % (name, failed)
    return result, None
