# SPDX-License-Identifier: GPL-3.0-or-later
"""Playbooks compose roles through their public variables and outputs only.

A playbook that reads a role's internal variable (``__podnet_<role>_...``) breaks when
the role changes inside; one that repeats a role's default (a port, a path) silently
disagrees with it once the user changes that default. Internal names a playbook defines
itself (``vars:`` of its own plays, a ``register:`` or ``loop_var:`` of its own tasks, or the
playbook's own ``vars_files:``) are fine.
"""

import glob
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOKS = sorted(glob.glob(os.path.join(ROOT, "playbooks", "*.yml")))
INTERNAL = re.compile(r"\b(__podnet_\w+)")
VARS_FILE = re.compile(r"^\s*vars_files:\s*\n((?:\s+-\s*\S+\s*\n)+)", re.M)


def own_vars_files(path, text):
    """The top-level names of the vars files the playbook loads itself (vars_files:)."""
    names = set()
    for block in VARS_FILE.findall(text):
        for entry in re.findall(r"-\s*(\S+)", block):
            with open(os.path.join(os.path.dirname(path), entry), encoding="utf-8") as handle:
                names.update(re.findall(r"^(__podnet_\w+):", handle.read(), re.M))
    return names


@pytest.mark.parametrize("path", PLAYBOOKS, ids=os.path.basename)
def test_playbook_reads_no_role_internals(path):
    text = open(path, encoding="utf-8").read()
    defined = set(re.findall(r"^\s*(?:register:\s*|loop_var:\s*)?(__podnet_\w+)\s*:?", text, re.M))
    defined |= own_vars_files(path, text)
    foreign = sorted(set(INTERNAL.findall(text)) - defined)
    assert not foreign, f"{os.path.basename(path)} reads role internals {foreign}: use the role's published output"


def test_flannel_playbook_takes_etcd_endpoints_and_pki_from_the_etcd_role():
    text = open(os.path.join(ROOT, "playbooks", "flannel.yml"), encoding="utf-8").read()
    assert "2379" not in text and ".podnet-pki" not in text, "flannel.yml repeats podnet_etcd's defaults"
    assert "podnet_etcd_member_info" in text
