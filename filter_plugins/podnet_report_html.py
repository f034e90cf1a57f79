# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter podnet_report_html: the fleet report for people.

A thin entry over ``podnet_planner.report_html``.
"""

from ansible.errors import AnsibleFilterError

try:
    import podnet_planner  # its modules load when a filter is called, not with this file
    from podnet_planner.errors import PlanError
except ImportError as imp_exc:  # scripts/setup.sh installs the planner and its netaddr
    raise ImportError("podnet_report_html: podnet's planner is not in Ansible's Python; run "
                      "scripts/setup.sh (%s)" % imp_exc) from imp_exc

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
requirements: [podnet_planner (the repository's planner; scripts/setup.sh installs it)]
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


def podnet_report_html(document):
    """podnet's fleet report as one self-contained HTML page."""
    try:
        return podnet_planner.report_html(document)
    except PlanError as exc:
        raise AnsibleFilterError("podnet_report_html: %s" % exc) from exc


class FilterModule:
    """The podnet_report_html filter."""

    def filters(self):
        return {"podnet_report_html": podnet_report_html}
