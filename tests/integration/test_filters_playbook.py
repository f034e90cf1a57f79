# SPDX-License-Identifier: GPL-3.0-or-later
"""Run filters.yml with the venv's ansible-playbook, as a play would use the filters."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


def test_filters_playbook_passes_without_plugin_warnings(tmp_path):
    config = tmp_path / "ansible.cfg"
    config.write_text("[defaults]\n")
    env = dict(os.environ)
    env.update({
        "ANSIBLE_FILTER_PLUGINS": os.path.join(ROOT, "filter_plugins"),
        # Keep the run independent of any ansible.cfg in the tree or the home directory.
        "ANSIBLE_CONFIG": str(config),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "1",
    })
    proc = subprocess.run(
        [ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local", os.path.join(HERE, "filters.yml")],
        cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "[WARNING]" not in output, output
    assert "[DEPRECATION WARNING]" not in output, output
    assert "failed=0" in output and "rescued=2" in output, output
