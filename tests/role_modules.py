"""Load a role's Ansible module (roles/<role>/library/<name>.py) as plain Python.

library/ directories are no packages, so the unit tests of the modules' pure plan steps
import them by path, without leaving a __pycache__ in the role.
"""

import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_role_module(role, name):
    """The module object of roles/<role>/library/<name>.py."""
    path = os.path.join(ROOT, "roles", role, "library", name + ".py")
    spec = importlib.util.spec_from_file_location("podnet_test_" + name, path)
    module = importlib.util.module_from_spec(spec)
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = saved
    return module
