# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""IPv4's names of ``addresses`` (the family-aware module), under their old module name.

Nothing is defined here: the same functions, kept importable for the modules that still
import them from ``.ipv4`` (bgp, flannel, host_view, names). New code imports
``.addresses``; this module goes once those imports have moved.
"""

from .addresses import (  # noqa: F401  pylint: disable=unused-import
    MASK32, aton, cidr, fast_aton, fast_cidr, mask, ntoa, overlaps, parse_address, parse_cidr)
