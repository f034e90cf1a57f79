# SPDX-License-Identifier: GPL-3.0-or-later
"""The node agent's alert rules: `promtool check rules` accepts them and `promtool test
rules` proves each alert fires when it should (and not before). promtool is Debian's
prometheus package, installed by scripts/setup.sh."""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "roles" / "podnet_agent" / "files" / "podnet-agent-alerts.yml"
TESTS = Path(__file__).resolve().parent / "agent_alerts_test.yml"
# A missing promtool fails the tests (scripts/setup.sh installs it), never skips them.
PROMTOOL = shutil.which("promtool") or "promtool"


def test_promtool_checks_the_rules():
    out = subprocess.run([PROMTOOL, "check", "rules", str(RULES)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS: 7 rules found" in out.stdout


def test_promtool_unit_tests_pass(tmp_path):
    # promtool resolves rule_files beside the test file: both go into one directory.
    shutil.copy(RULES, tmp_path / RULES.name)
    shutil.copy(TESTS, tmp_path / TESTS.name)
    out = subprocess.run([PROMTOOL, "test", "rules", str(tmp_path / TESTS.name)],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout
