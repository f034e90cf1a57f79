# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared pytest setup.

The planner is the installed package ``podnet_planner`` (scripts/setup.sh puts it into
.venv in editable mode): tests import it like any library, with no path edits. This
file's directory, tests/, is where pytest looks for helpers such as role_modules.py.
"""
