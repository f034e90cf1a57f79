# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_report_html: the fleet report for people.

A thin entry over ``podnet_planner.report_html`` (plain Python, unit-tested without Ansible):
its ``PlanError`` becomes ``AnsibleFilterError``, message unchanged.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: podnet_report_html
short_description: podnet's fleet report as one self-contained HTML page
description:
  - Renders the output of C(podnet_report_document) as one page - inline SVG and CSS, no script,
    nothing fetched - zones as regions, nodes, edges coloured by path, failed pairs red with
    their error, and the pair matrix.
positional: _input
options:
  _input:
    description: The output of C(podnet_report_document).
    type: dict
    required: true
requirements:
  - podnet_planner (this repository's planner package; scripts/setup.sh installs it into .venv)
  - netaddr (Python library, on the controller)
author: podnet
"""

EXAMPLES = r"""
- name: Verify | write index.html
  ansible.builtin.copy:
    content: "{{ document | podnet_report_html }}"
    dest: .podnet-report/index.html
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The HTML page.
  type: str
"""

try:
    import podnet_planner
except ImportError as imp_exc:  # the planner package, or the netaddr it needs, is missing
    PLANNER_IMPORT_ERROR = imp_exc
else:
    PLANNER_IMPORT_ERROR = None


def podnet_report_html(document):
    """podnet's fleet report as one self-contained HTML page (``podnet_planner.report_html``)."""
    if PLANNER_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            "podnet_report_html needs podnet's planner and netaddr in the Python that runs Ansible; "
            "run scripts/setup.sh (%s)" % PLANNER_IMPORT_ERROR) from PLANNER_IMPORT_ERROR
    try:
        return podnet_planner.report_html(document)
    except podnet_planner.PlanError as exc:
        raise AnsibleFilterError("podnet_report_html: %s" % exc) from exc


class FilterModule:
    """podnet_report_html."""

    def filters(self):
        return {"podnet_report_html": podnet_report_html}
