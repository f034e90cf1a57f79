# SPDX-License-Identifier: GPL-3.0-or-later
"""House-style checks for every role under roles/ (prefixes, documented defaults, specs).

Each check is parametrised over the roles found on disk, so a role someone adds
tomorrow is checked without touching this file:

- meta/argument_specs.yml (entry point ``main``) declares exactly the variables of
  defaults/main.yml, with equal defaults (the spec's defaults are documentation
  only; the real default comes from defaults/main.yml, so the two must agree);
- every variable in defaults/main.yml is prefixed with the role's name;
- every variable in defaults/main.yml has a comment line right above it;
- a node role (one that site.yml applies to every node) costs one task on a normal run:
  tasks/main.yml only imports install.yml (at most one package task) and converge.yml
  (exactly one task: the role's module, present or absent dispatched inside it);
- the other roles' tasks/main.yml only includes preflight.yml, install.yml and configure.yml;
- meta/main.yml declares ``dependencies: []`` (roles are composed by playbooks).

Pure file checks (no Ansible run): they take well under a second.
"""

import os
import re

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES_DIR = os.path.join(ROOT, "roles")

ALLOWED_TASK_FILES = ("preflight.yml", "install.yml", "configure.yml")
NODE_TASK_FILES = ("install.yml", "converge.yml")
# Roles site.yml applies to every node: each must cost one task on a no-op run, since
# Ansible pays per task per host (docs/architecture.md, "Speed").
NODE_ROLES = ("podnet_sysctl", "podnet_bridge", "podnet_vxlan", "podnet_routes", "podnet_wireguard",
              "podnet_bgp",
              "podnet_firewall",
              "podnet_docker", "podnet_cni", "podnet_flannel_env", "podnet_facts")
INCLUDE_MODULES = {
    "include_tasks",
    "import_tasks",
    "ansible.builtin.include_tasks",
    "ansible.builtin.import_tasks",
    "ansible.legacy.include_tasks",
    "ansible.legacy.import_tasks",
}
# Keywords an include/import may carry besides the module itself.
INCLUDE_KEYWORDS = {"name", "when", "tags", "vars", "apply"}
TOP_LEVEL_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:(\s|$)")


class _AnsibleYamlLoader(yaml.SafeLoader):
    """SafeLoader that also reads Ansible's tags (!unsafe, !vault) as plain values."""


def _construct_tagged(loader, _tag_suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


_AnsibleYamlLoader.add_multi_constructor("!", _construct_tagged)


def _roles():
    if not os.path.isdir(ROLES_DIR):
        return []
    return sorted(
        name
        for name in os.listdir(ROLES_DIR)
        if os.path.isdir(os.path.join(ROLES_DIR, name, "tasks"))
    )


ROLES = _roles()


def _path(role, *parts):
    return os.path.join(ROLES_DIR, role, *parts)


def _load(role, *parts, default=None):
    path = _path(role, *parts)
    if not os.path.exists(path):
        return default
    with open(path, encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=_AnsibleYamlLoader)  # noqa: S506 (safe subclass)
    return default if data is None else data


def _defaults(role):
    data = _load(role, "defaults", "main.yml", default={})
    assert isinstance(data, dict), f"{role}: defaults/main.yml must be a mapping"
    return data


def _spec_options(role):
    specs = _load(role, "meta", "argument_specs.yml")
    assert specs is not None, (
        f"{role}: meta/argument_specs.yml is missing; declare every variable of "
        "defaults/main.yml under argument_specs.main.options"
    )
    main = (specs.get("argument_specs") or {}).get("main")
    assert isinstance(main, dict), (
        f"{role}: meta/argument_specs.yml has no argument_specs.main entry point"
    )
    return main.get("options") or {}


def test_roles_found():
    assert ROLES, f"no role with a tasks/ directory under {ROLES_DIR}"


@pytest.mark.parametrize("role", ROLES)
def test_argument_specs_match_defaults(role):
    defaults = _defaults(role)
    options = _spec_options(role)
    only_defaults = sorted(set(defaults) - set(options))
    only_spec = sorted(set(options) - set(defaults))
    assert not only_defaults, (
        f"{role}: in defaults/main.yml but not in meta/argument_specs.yml: {only_defaults}"
    )
    assert not only_spec, (
        f"{role}: in meta/argument_specs.yml but not in defaults/main.yml: {only_spec}"
    )
    differ = {
        name: {"defaults/main.yml": defaults[name], "argument_specs": spec.get("default")}
        for name, spec in options.items()
        if (spec or {}).get("default") != defaults[name]
    }
    assert not differ, f"{role}: defaults differ between the two files: {differ}"


@pytest.mark.parametrize("role", ROLES)
def test_defaults_are_prefixed_with_role_name(role):
    bad = sorted(
        name
        for name in _defaults(role)
        if not (name.startswith(role + "_") or name.startswith("__" + role + "_"))
    )
    assert not bad, f"{role}: variables not prefixed with '{role}_': {bad}"


def _has_comment_above(lines, index):
    """True when a comment line stands above line ``index`` with no blank line between.

    Variables documented together (one comment, then several keys on consecutive
    lines, e.g. a range's start and end) count as documented; a blank line ends the
    block, so a key after a blank line needs its own comment.
    """
    for text in reversed(lines[:index]):
        stripped = text.strip()
        if not stripped or stripped == "---":
            return False
        if stripped.startswith("#"):
            return True
    return False


@pytest.mark.parametrize("role", ROLES)
def test_defaults_are_documented(role):
    path = _path(role, "defaults", "main.yml")
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    seen, undocumented = set(), []
    for index, line in enumerate(lines):
        match = TOP_LEVEL_KEY.match(line)
        if not match:
            continue
        seen.add(match.group(1))
        if not _has_comment_above(lines, index):
            undocumented.append(match.group(1))
    assert seen == set(_defaults(role)), (
        f"{role}: could not find every variable of defaults/main.yml as a top-level "
        f"line (found {sorted(seen)})"
    )
    assert not undocumented, (
        f"{role}: defaults with no comment line above them (a blank line ends "
        f"a documented block): {undocumented}"
    )


def _task_list(role, name):
    tasks = _load(role, "tasks", name) if os.path.exists(_path(role, "tasks", name)) else None
    assert isinstance(tasks, list), f"{role}: tasks/{name} must be a task list"
    return tasks


@pytest.mark.parametrize("role", NODE_ROLES)
def test_node_role_costs_one_task(role):
    imports = []
    for task in _task_list(role, "main.yml"):
        modules = [key for key in task if key not in INCLUDE_KEYWORDS]
        assert modules in (["import_tasks"], ["ansible.builtin.import_tasks"]), (
            f"{role}: tasks/main.yml may only import (statically: no task of its own) task files")
        imports.append(task[modules[0]])
    assert tuple(imports) == NODE_TASK_FILES, f"{role}: tasks/main.yml must import {NODE_TASK_FILES}"
    assert len(_task_list(role, "install.yml")) <= 1, f"{role}: install.yml installs in one task"
    converge = _task_list(role, "converge.yml")
    assert len(converge) == 1, f"{role}: converge.yml must be exactly one task (the role's module)"
    assert not [key for key in ("block", "include_tasks", "ansible.builtin.include_tasks",
                                "import_tasks", "ansible.builtin.import_tasks") if key in converge[0]]
    assert not os.path.exists(_path(role, "tasks", "preflight.yml")), (
        f"{role}: no preflight.yml: argument_specs checks types, the module checks meaning")
    assert not os.path.exists(_path(role, "handlers", "main.yml")), f"{role}: the module applies live"


@pytest.mark.parametrize("role", [r for r in ROLES if r not in NODE_ROLES])
def test_tasks_main_only_includes_the_three_files(role):
    tasks = _load(role, "tasks", "main.yml")
    assert isinstance(tasks, list) and tasks, f"{role}: tasks/main.yml must be a task list"
    included = []
    for task in tasks:
        assert isinstance(task, dict), f"{role}: tasks/main.yml holds a non-task: {task!r}"
        modules = [key for key in task if key not in INCLUDE_KEYWORDS]
        assert len(modules) == 1 and modules[0] in INCLUDE_MODULES, (
            f"{role}: tasks/main.yml may only include/import task files, found "
            f"{modules or sorted(task)} in {task.get('name', task)!r}"
        )
        target = task[modules[0]]
        if isinstance(target, dict):
            target = target.get("file")
        assert target in ALLOWED_TASK_FILES, (
            f"{role}: tasks/main.yml includes {target!r}; only {ALLOWED_TASK_FILES}"
        )
        assert os.path.exists(_path(role, "tasks", target)), (
            f"{role}: tasks/main.yml includes {target} which does not exist"
        )
        included.append(target)
    assert len(included) == len(set(included)), f"{role}: a file is included twice"
    order = [name for name in ALLOWED_TASK_FILES if name in included]
    assert included == order, (
        f"{role}: include order must be preflight, install, configure (is {included})"
    )


@pytest.mark.parametrize("role", ROLES)
def test_meta_has_no_dependencies(role):
    meta = _load(role, "meta", "main.yml")
    assert isinstance(meta, dict), f"{role}: meta/main.yml is missing"
    assert meta.get("dependencies", None) == [], (
        f"{role}: meta/main.yml must say `dependencies: []`; compose roles in playbooks"
    )


@pytest.mark.parametrize("role", ROLES)
def test_meta_names_the_one_licence_author_and_tested_ansible(role):
    info = _load(role, "meta", "main.yml")["galaxy_info"]
    # One LICENSE at the root (GPL-3.0-or-later: the filters and action plugins run inside
    # ansible-core, which is GPLv3+); the pinned, tested ansible-core is 2.19.
    assert info["license"] == "GPL-3.0-or-later", role
    assert info["author"] == "podnet contributors", role
    assert str(info["min_ansible_version"]) == "2.19", role


def test_every_python_file_names_the_licence():
    """One LICENSE at the root; each Python file says which (SPDX), as ansible-core's do."""
    import subprocess  # pylint: disable=import-outside-toplevel

    files = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    missing = [f for f in files
               if "SPDX-License-Identifier: GPL-3.0-or-later" not in open(os.path.join(ROOT, f), encoding="utf-8").read()]
    assert files and not missing, f"no SPDX-License-Identifier line: {missing}"
