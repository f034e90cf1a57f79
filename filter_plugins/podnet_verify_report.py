# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_verify_report: the verdict on the probes.

A thin entry over ``podnet_planner.verify_report`` (plain Python, unit-tested without Ansible):
its ``PlanError`` becomes ``AnsibleFilterError``, message unchanged.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

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
    description: The plan, the output of C(podnet_plan).
    type: dict
    required: true
  probe_addresses:
    description: "C({host: probe pod address})."
    type: dict
    required: true
requirements:
  - podnet_planner (this repository's planner package; scripts/setup.sh installs it into .venv)
  - netaddr (Python library, on the controller)
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

try:
    import podnet_planner
except ImportError as imp_exc:  # the planner package, or the netaddr it needs, is missing
    PLANNER_IMPORT_ERROR = imp_exc
else:
    PLANNER_IMPORT_ERROR = None


def podnet_verify_report(results, plan, probe_addresses):
    """Judge podnet's connectivity probes and draw the host matrix (``podnet_planner.verify_report``)."""
    if PLANNER_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            "podnet_verify_report needs podnet's planner and netaddr in the Python that runs Ansible; "
            "run scripts/setup.sh (%s)" % PLANNER_IMPORT_ERROR) from PLANNER_IMPORT_ERROR
    try:
        return podnet_planner.verify_report(results, plan, probe_addresses)
    except podnet_planner.PlanError as exc:
        raise AnsibleFilterError("podnet_verify_report: %s" % exc) from exc


class FilterModule:
    """podnet_verify_report."""

    def filters(self):
        return {"podnet_verify_report": podnet_verify_report}
