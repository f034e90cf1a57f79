# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_verify_report: the verdict on the probes.

A thin entry over ``podnet_planner.verify_report``.
"""

from ansible.errors import AnsibleFilterError

try:
    import podnet_planner  # its modules load when a filter is called, not with this file
    from podnet_planner.errors import PlanError
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_verify_report: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

DOCUMENTATION = r"""
name: podnet_verify_report
short_description: Judge podnet's connectivity probes and draw the host matrix
description:
  - "Takes C({source host: {target host: {ok, source_seen, ms, backend}}}) from the probes of
    playbooks/verify.yml. A pair passes when the connection succeeded and the target saw the
    source pod's own address (no NAT on the way)."
  - C(lines) is a matrix, one row per source host, one column per target, each cell the path the
    pair uses (C(hg) host-gw, C(vx) VXLAN) with its connect time, or C(FAIL), C(NAT), C(??).
positional: _input, plan, probe_addresses
options:
  _input:
    description: Probe results per source host.
    type: dict
    required: true
  plan:
    description: The plan the probes tested (C(podnet_plan) output).
    type: dict
    required: true
  probe_addresses:
    description: "C({host: probe pod address})."
    type: dict
    required: true
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
author: podnet
"""

EXAMPLES = r"""
- name: Verify | report
  ansible.builtin.debug:
    msg: "{{ (results | podnet_verify_report(plan, probes)).lines }}"
"""

RETURN = r"""
_value:
  description: "C({failures: [str], lines: [str], pairs: [{src, dst, ok, backend, ms, error}]})."
  type: dict
"""


def podnet_verify_report(results, plan, probe_addresses):
    """Judge podnet's connectivity probes and draw the host matrix."""
    try:
        return podnet_planner.verify_report(results, plan, probe_addresses)
    except PlanError as exc:
        raise AnsibleFilterError("podnet_verify_report: %s" % exc) from exc


class FilterModule:
    """The podnet_verify_report filter."""

    def filters(self):
        return {"podnet_verify_report": podnet_verify_report}
