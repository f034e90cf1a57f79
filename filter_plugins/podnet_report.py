# -*- coding: utf-8 -*-
"""Turn playbooks/verify.yml's probe results into a verdict and a matrix for humans."""

from __future__ import annotations

DOCUMENTATION = r"""
name: podnet_verify_report
short_description: Judge podnet's connectivity probes and draw the host matrix
description:
  - C(podnet_verify_report(results, plan, probe_addresses)) takes C({source host: {target
    host: {ok, source_seen, ms, backend}}}) from the probes and the plan. A pair passes
    when the connection succeeded and the target saw the source pod's own address (no NAT
    on the way).
  - Returns C({failures: [str], lines: [str]}); C(lines) is a matrix, one row per source
    host, one column per target, each cell the backend the pair uses (C(hg) host-gw, C(vx)
    VXLAN) or C(FAIL).
positional: _input, plan, probe_addresses
options:
  _input:
    description: Probe results per source host.
    type: dict
    required: true
  plan:
    description: The plan (C(podnet_plan) output).
    type: dict
    required: true
  probe_addresses:
    description: C({host: probe pod address}).
    type: dict
    required: true
author: podnet
"""

EXAMPLES = r"""
- name: Verify | report
  ansible.builtin.debug:
    msg: "{{ (results | podnet_verify_report(plan, probes)).lines }}"
"""

RETURN = r"""
_value:
  description: C({failures, lines}).
  type: dict
"""


def verify_report(results, plan, probe_addresses) -> dict:
    """See DOCUMENTATION."""
    hosts = sorted(plan["nodes"])
    failures = []
    short = {"host-gw": "hg", "vxlan": "vx"}
    width = max(len(h) for h in hosts)
    lines = [" " * width + "  " + "  ".join(h.ljust(width) for h in hosts)]
    for src in hosts:
        cells = []
        for dst in hosts:
            if src == dst:
                cells.append("-".ljust(width))
                continue
            result = (results.get(src) or {}).get(dst)
            if result is None:
                failures.append(f"{src} -> {dst}: not probed (host unreachable?)")
                cells.append("??".ljust(width))
            elif not result.get("ok"):
                failures.append(f"{src} -> {dst}: {result.get('error')}")
                cells.append("FAIL".ljust(width))
            elif result.get("source_seen") != probe_addresses.get(src):
                failures.append(f"{src} -> {dst}: source rewritten to {result['source_seen']} "
                                f"(expected {probe_addresses.get(src)}): pod traffic is NATed")
                cells.append("NAT".ljust(width))
            else:
                label = short.get(result.get("backend"), "ok")
                cells.append(f"{label} {result.get('ms', '')}ms".ljust(width))
        lines.append(src.ljust(width) + "  " + "  ".join(cells))
    return {"failures": failures, "lines": lines}


class FilterModule:
    """Verify report filter."""

    def filters(self):
        return {"podnet_verify_report": verify_report}
