# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The planner's own error class.

Every message names the culprit (host, CIDR or zone) and says what to change.
The filter entries in filter_plugins/ turn it into ``AnsibleFilterError``; plain Python
callers (tests, benchmarks) catch it directly.
"""


class PlanError(ValueError):
    """Invalid planner input, or an allocation that cannot be satisfied."""
