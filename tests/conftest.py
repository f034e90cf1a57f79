# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared pytest setup.

The planner is imported by its collection path (scripts/setup.sh puts the collection into
.venv in editable mode): tests import it like any library, with no path edits. This
file's directory, tests/, holds the suites; tests/unit/role_modules.py loads plugins.
"""
