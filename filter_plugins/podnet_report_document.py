# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_report_document: the fleet report for machines.

A thin entry over ``podnet_planner.report_document``.
"""

from ansible.errors import AnsibleFilterError

try:
    import podnet_planner  # its modules load when a filter is called, not with this file
    from podnet_planner.errors import PlanError
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_report_document: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

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
    description: The plan the report describes (C(podnet_plan) output).
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
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
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


def podnet_report_document(report, plan, generated, ledger="", bridges=None):
    """podnet's fleet report for machines (report.json)."""
    try:
        return podnet_planner.report_document(report, plan, generated, ledger, bridges)
    except PlanError as exc:
        raise AnsibleFilterError("podnet_report_document: %s" % exc) from exc


class FilterModule:
    """The podnet_report_document filter."""

    def filters(self):
        return {"podnet_report_document": podnet_report_document}
