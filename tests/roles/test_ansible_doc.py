# SPDX-License-Identifier: GPL-3.0-or-later
"""`ansible-doc -t role` renders every role from its meta/argument_specs.yml.

Two subprocesses (the list, then every role at once): the roles' entry points are what
users read before composing them, so a spec ansible-doc cannot render is a defect even
when the role runs.
"""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = sorted(os.listdir(os.path.join(ROOT, "roles")))
ANSIBLE_DOC = os.path.join(os.path.dirname(sys.executable), "ansible-doc")


def _doc(*args):
    done = subprocess.run([ANSIBLE_DOC, "-t", "role", "-r", "roles", "-j", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_role_is_listed_with_its_main_entry_point():
    listed = _doc("-l")
    for role in ROLES:
        assert role in listed, f"ansible-doc -t role -l does not list {role}"
        assert listed[role]["entry_points"].get("main"), f"{role}: no short_description for main"


def test_every_role_renders():
    docs = _doc(*ROLES)
    for role in ROLES:
        main = docs[role]["entry_points"]["main"]
        assert main.get("description") and main.get("options") is not None, role
