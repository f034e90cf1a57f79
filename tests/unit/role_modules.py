# SPDX-License-Identifier: GPL-3.0-or-later
"""Load podnet's Ansible plugins as plain Python for unit tests of their pure steps.

The checkout is the collection podnet.network: modules live in plugins/modules/, the code
they share in plugins/module_utils/, filters in plugins/filter/. scripts/setup.sh puts the
collection on .venv's Python path by its FQCN (a link under .cache/collections), so tests
import exactly the files Ansible ships to hosts, by the names Ansible imports them with.
"""

import importlib
import importlib.util
import sys
from pathlib import Path

import pytest

COLLECTION = "ansible_collections.podnet.network.plugins"


def _import(name):
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no __pycache__ in the tree
    try:
        return importlib.import_module(name)
    finally:
        sys.dont_write_bytecode = saved


def load_module(name):
    """The module object of plugins/modules/<name>.py."""
    return _import("%s.modules.%s" % (COLLECTION, name))


def load_module_utils(name):
    """plugins/module_utils/<name>.py, imported as the modules import it."""
    return _import("%s.module_utils.%s" % (COLLECTION, name))


def load_filter(name):
    """The entry of filter NAME, from the filter file of plugins/filter that exports it."""
    for group in ("plan", "ledger", "registry", "report"):
        filters = _import("%s.filter.%s" % (COLLECTION, group)).FilterModule().filters()
        if name in filters:
            return filters[name]
    raise KeyError("no filter %s in plugins/filter" % name)


def run_module(name, args, check_mode=True, path_first=None):
    """Run plugins/modules/<name>.py as Ansible runs it on a host (a Python process that
    reads its arguments as JSON) and return its result; check mode unless told otherwise.
    PATH_FIRST: a directory searched before PATH (stand-in commands)."""
    import json  # pylint: disable=import-outside-toplevel
    import os  # pylint: disable=import-outside-toplevel
    import subprocess  # pylint: disable=import-outside-toplevel
    # The same import path as this test's (ansible-test units puts the collection on it
    # without telling the environment).
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    if path_first:
        env["PATH"] = str(path_first) + os.pathsep + env.get("PATH", "")
    payload = dict(args, _ansible_check_mode=check_mode, _ansible_diff=True,
                   _ansible_tmpdir=None, _ansible_remote_tmp="/tmp")
    done = subprocess.run([sys.executable, "-B", "-m", "%s.modules.%s" % (COLLECTION, name)],
                          input=json.dumps({"ANSIBLE_MODULE_ARGS": payload}), capture_output=True,
                          text=True, timeout=60, check=False, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise AssertionError("%s printed no result: %s %s" % (name, done.stdout, done.stderr))
    return json.loads(lines[-1])


def load_benchmark(name):
    """benchmarks/<name>.py as a module, for tests of its pure parts; the test module is
    skipped where there is none (the built collection, which ansible-test units run, ships
    no benchmarks: only `make unit` has them). Call it at module level."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / ("%s.py" % name)
    if not path.exists():
        pytest.skip("benchmarks/ is not part of the built collection", allow_module_level=True)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
