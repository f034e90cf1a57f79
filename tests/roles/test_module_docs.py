# SPDX-License-Identifier: GPL-3.0-or-later
"""Every module's DOCUMENTATION, EXAMPLES and RETURN parse as YAML (what ansible-doc reads):
a description line holding ': ' once made podnet_packages undocumented."""

import ast
import glob
import os

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = sorted(glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")))


@pytest.mark.parametrize("path", MODULES, ids=os.path.basename)
def test_documentation_parses(path):
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    texts = {node.targets[0].id: node.value.value for node in tree.body
             if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
             and node.targets[0].id in ("DOCUMENTATION", "EXAMPLES", "RETURN")}
    assert sorted(texts) == ["DOCUMENTATION", "EXAMPLES", "RETURN"]
    doc = yaml.safe_load(texts["DOCUMENTATION"])
    assert doc["module"] == os.path.basename(path)[:-3] and doc["short_description"]
    assert yaml.safe_load(texts["EXAMPLES"]) and yaml.safe_load(texts["RETURN"]) is not None
