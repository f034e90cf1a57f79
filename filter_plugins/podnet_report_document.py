# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_report_document: the fleet report for machines.

A thin entry over ``podnet_planner.report_document`` (plain Python, unit-tested without Ansible):
its ``PlanError`` becomes ``AnsibleFilterError``, message unchanged.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: podnet_report_document
short_description: podnet's fleet report for machines (report.json)
description:
  - Returns the fleet report - zones with their blocks, nodes with address, pod subnet, MTU and
    devices, every pair with its path, connect time or error, and a summary. The same data the
    page of C(podnet_report_html) draws.
positional: _input, plan, generated, ledger, bridges
options:
  _input:
    description: The output of C(podnet_verify_report).
    type: dict
    required: true
  plan:
    description: The plan, the output of C(podnet_plan).
    type: dict
    required: true
  generated:
    description: When the report was made (e.g. an ISO 8601 time).
    type: str
    required: true
  ledger:
    description: The ledger file the plan came from (empty in etcd mode).
    type: str
    default: ""
  bridges:
    description: "C({host: bridge}) where a node's pods use another bridge than C(cbr0)."
    type: dict
requirements:
  - podnet_planner (this repository's planner package; scripts/setup.sh installs it into .venv)
  - netaddr (Python library, on the controller)
author: podnet
"""

EXAMPLES = r"""
- name: Verify | write report.json
  ansible.builtin.copy:
    content: "{{ report | podnet_report_document(plan, now(utc=true).isoformat(), ledger_file) | to_nice_json }}"
    dest: .podnet-report/report.json
    mode: "0644"
"""

RETURN = r"""
_value:
  description:
    - "C({generated, ledger, cluster_cidr, zones: [{zone, block, nodes}], nodes: [{host, zone,
      address, pod_cidr, mtu, devices}], pairs, summary: {nodes, pairs, failed, ok}})."
  type: dict
"""

try:
    import podnet_planner
except ImportError as imp_exc:  # the planner package, or the netaddr it needs, is missing
    PLANNER_IMPORT_ERROR = imp_exc
else:
    PLANNER_IMPORT_ERROR = None


def podnet_report_document(report, plan, generated, ledger="", bridges=None):
    """podnet's fleet report for machines (report.json) (``podnet_planner.report_document``)."""
    if PLANNER_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            "podnet_report_document needs podnet's planner and netaddr in the Python that runs Ansible; "
            "run scripts/setup.sh (%s)" % PLANNER_IMPORT_ERROR) from PLANNER_IMPORT_ERROR
    try:
        return podnet_planner.report_document(report, plan, generated, ledger, bridges)
    except podnet_planner.PlanError as exc:
        raise AnsibleFilterError("podnet_report_document: %s" % exc) from exc


class FilterModule:
    """podnet_report_document."""

    def filters(self):
        return {"podnet_report_document": podnet_report_document}
