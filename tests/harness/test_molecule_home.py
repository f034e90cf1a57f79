# SPDX-License-Identifier: GPL-3.0-or-later
"""Molecule leaves the user's ~/.ansible alone.

Molecule's "prerun" builds the collection it finds at the project root and installs it
into ~/.ansible/collections. The scenarios never use that copy (they read the checkout
through ANSIBLE_COLLECTIONS_PATH), and two scenarios starting together race to create the
same directory: one of them dies with "FileExistsError: ... podnet/network".
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_a_scenario_run_installs_nothing_into_the_home_directory(tmp_path):
    env = dict(os.environ, HOME=str(tmp_path))
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    # syntax needs no test hosts; whether Docker answers does not matter here, the prerun
    # comes before it.
    run = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "molecule"), "syntax", "-s", "host-gw"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    installed = tmp_path / ".ansible" / "collections" / "ansible_collections" / "podnet"
    assert not installed.exists(), (
        "molecule installed podnet.network into %s (set `prerun: false` in "
        ".config/molecule/config.yml):\n%s" % (installed, run.stderr[-2000:]))
