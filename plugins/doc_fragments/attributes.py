# -*- coding: utf-8 -*-
# Copyright: podnet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Documentation podnet modules share: the attributes of a module that converges a concern
(DOCUMENTATION), and of one that only reads (READ_ONLY)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    """extends_documentation_fragment: [podnet.network.attributes] (or
    [podnet.network.attributes.read_only])"""

    # Modules read the node's state, plan purely, then apply: check mode runs the same
    # read and plan, and applies nothing.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Reads the node's state and plans exactly as a real run, reports every command and
        file change it would make, and makes none.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Shows podnet's state before and after, and every file it would change.
author: podnet contributors (@podnet)
"""

    # Modules that only read (the facts step, the etcd checks): check mode is a real run.
    READ_ONLY = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Only reads; never reports a change.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
author: podnet contributors (@podnet)
"""
