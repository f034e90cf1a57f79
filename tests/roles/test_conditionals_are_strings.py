# SPDX-License-Identifier: GPL-3.0-or-later
"""Every assert `that:` item and every `when:` in the roles and playbooks is a string.

A plain YAML scalar such as ``- ({'key': value} | filter) is mapping`` reads as a mapping
(``"({'key'": "value} | ...``), and ansible-core 2.19 then fails the task with "Conditional
expressions must be strings" (it stopped site.yml in etcd mode). A folded scalar (``- >-``)
keeps it a string.
"""

import glob
import os

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FILES = sorted(glob.glob(os.path.join(ROOT, "roles", "*", "tasks", "*.yml"))
               + glob.glob(os.path.join(ROOT, "roles", "*", "handlers", "*.yml"))
               + glob.glob(os.path.join(ROOT, "playbooks", "*.yml")))


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads Ansible's tags (!unsafe, !vault) as plain values."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node)
                              if isinstance(node, yaml.ScalarNode) else None)


def _conditions(node):
    if isinstance(node, list):
        for item in node:
            yield from _conditions(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "when" or key == "that" or key.endswith("_when"):
                yield from (value if isinstance(value, list) else [value])
            else:
                yield from _conditions(value)


@pytest.mark.parametrize("path", FILES, ids=lambda p: os.path.relpath(p, ROOT))
def test_every_condition_is_a_string(path):
    with open(path, encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=_Loader)
    bad = [c for c in _conditions(document) if not isinstance(c, (str, bool))]
    assert not bad, "%s: conditions that YAML reads as %s: %r" % (
        os.path.relpath(path, ROOT), sorted({type(c).__name__ for c in bad}), bad)
