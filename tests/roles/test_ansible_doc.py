# SPDX-License-Identifier: GPL-3.0-or-later
"""ansible-doc renders every role, module and filter of podnet.network by its FQCN, as
users read them from the installed collection.

One subprocess per plugin type (the list, then every plugin at once): what users read
before composing podnet is part of the product, so a spec or document ansible-doc cannot
render is a defect even when the plugin runs.
"""

import glob
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = sorted(os.listdir(os.path.join(ROOT, "roles")))
MODULES = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")))
FILTERS = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(ROOT, "plugins", "filter", "*.yml")))
ANSIBLE_DOC = os.path.join(os.path.dirname(sys.executable), "ansible-doc")
ENV = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".cache", "collections"),
           ANSIBLE_NOCOLOR="1", PYTHONWARNINGS="ignore")


def _doc(kind, *args):
    done = subprocess.run([ANSIBLE_DOC, "-t", kind, "-j", *args], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and "WARNING" not in done.stderr, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_every_role_is_listed_with_its_main_entry_point():
    listed = _doc("role", "-l", "podnet.network")
    for role in ROLES:
        fqcn = f"podnet.network.{role}"
        assert fqcn in listed, f"ansible-doc -t role -l does not list {fqcn}"
        assert listed[fqcn]["entry_points"].get("main"), f"{role}: no short_description for main"


def test_every_role_renders():
    docs = _doc("role", *(f"podnet.network.{role}" for role in ROLES))
    for role in ROLES:
        main = docs[f"podnet.network.{role}"]["entry_points"]["main"]
        assert main.get("description") and main.get("options") is not None, role


def test_every_module_renders_with_examples_and_return_values():
    assert sorted(_doc("module", "-l", "podnet.network")) == [f"podnet.network.{m}" for m in MODULES]
    docs = _doc("module", *(f"podnet.network.{m}" for m in MODULES))
    for module in MODULES:
        doc = docs[f"podnet.network.{module}"]
        assert doc["doc"]["short_description"] and doc["doc"]["description"], module
        assert set(doc["doc"]["attributes"]) >= {"check_mode", "diff_mode"}, module
        assert doc["examples"].strip() and doc["return"] is not None, module


def test_every_filter_is_listed_and_shows_its_own_text():
    listed = _doc("filter", "-l", "podnet.network")
    assert sorted(listed) == [f"podnet.network.{name}" for name in FILTERS]
    shown = _doc("filter", *(f"podnet.network.{name}" for name in FILTERS))
    for name in FILTERS:
        doc = shown[f"podnet.network.{name}"]
        assert doc["doc"]["name"] == name and listed[f"podnet.network.{name}"] == doc["doc"]["short_description"]
        assert doc["examples"].strip() and doc["return"]["_value"]["description"]
