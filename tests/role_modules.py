# SPDX-License-Identifier: GPL-3.0-or-later
"""Load podnet's Ansible modules as plain Python for unit tests of their pure steps.

Modules live in roles/<role>/library/ or library/ (no packages), and import the shared
host code as ``ansible.module_utils.podnet_host``, which Ansible finds through the
``module_utils`` path of ansible.cfg. Here the repository's module_utils/ directory is
added to that package's search path the same way, so tests import exactly the files
Ansible ships to hosts, and nothing leaves a __pycache__ in the tree.
"""

import importlib.util
import os
import sys

import ansible.module_utils

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULE_UTILS = os.path.join(ROOT, "module_utils")

if MODULE_UTILS not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(MODULE_UTILS)


def _load(path, name):
    spec = importlib.util.spec_from_file_location("podnet_test_" + name, path)
    module = importlib.util.module_from_spec(spec)
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = saved
    return module


def load_role_module(role, name):
    """The module object of roles/<role>/library/<name>.py."""
    return _load(os.path.join(ROOT, "roles", role, "library", name + ".py"), name)


def load_library_module(name):
    """The module object of library/<name>.py (modules shared by several roles)."""
    return _load(os.path.join(ROOT, "library", name + ".py"), name)


def load_module_utils(name):
    """module_utils/<name>.py, imported as Ansible imports it on a host."""
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        return importlib.import_module("ansible.module_utils." + name)
    finally:
        sys.dont_write_bytecode = saved


def load_filter_plugin(name):
    """filter_plugins/<name>.py (one filter), loaded from its file as Ansible's loader does."""
    return _load(os.path.join(ROOT, "filter_plugins", name + ".py"), "filter_" + name)
