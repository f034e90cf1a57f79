"""Shared pytest setup: make the planner importable as plain Python.

``filter_plugins/podnet.py`` is the Ansible filter wrapper; the planner itself
is the ``podnet_planner`` package in ``filter_plugins/.lib`` (a dot directory,
so ansible-core's plugin loader does not scan it -- see its __init__).
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILTER_PLUGINS = os.path.join(ROOT, "filter_plugins")
PLANNER_LIB = os.path.join(FILTER_PLUGINS, ".lib")

for path in (PLANNER_LIB, FILTER_PLUGINS):
    if path not in sys.path:
        sys.path.insert(0, path)
