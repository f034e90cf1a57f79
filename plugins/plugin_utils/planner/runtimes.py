# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Address ranges of the container runtimes on one node's pod subnet.

When Docker and CNI share podnet's cbr0 they must not hand out the same addresses:
CNI's host-local IPAM takes the lower half of the node's pod subnet, Docker's
`fixed-cidr` the upper half. Computed here so the playbook holds no address arithmetic.
"""

import ipaddress

from .errors import PlanError


def runtime_ranges(pod_cidr, shared) -> dict:
    """``{docker_fixed_cidr, cni_range_end}``: Docker the upper half, CNI the lower; empty when not shared."""
    if not shared:
        return {"docker_fixed_cidr": "", "cni_range_end": ""}
    try:
        net = ipaddress.IPv4Network(str(pod_cidr))
    except ValueError as err:
        raise PlanError(f"pod subnet {pod_cidr!r}: {err}") from err
    if net.prefixlen > 28:
        raise PlanError(
            f"pod subnet {pod_cidr} is too small to share between "
            "Docker and CNI: use a node_prefix of /28 or shorter, or run one runtime per node")
    lower, upper = net.subnets(prefixlen_diff=1)
    return {"docker_fixed_cidr": str(upper), "cni_range_end": str(lower.broadcast_address - 1)}
