# SPDX-License-Identifier: GPL-3.0-or-later
"""filter_plugins/: one thin, documented entry per filter over the podnet_planner package.

Each file holds one filter with its own DOCUMENTATION/EXAMPLES/RETURN (what
``ansible-doc -t filter`` shows), a guarded import of the planner that says how to install
it, a thin entry that turns ``PlanError`` into ``AnsibleFilterError`` named after the
filter, and the FilterModule map.
"""

import ast
import json
import os
import subprocess
import sys

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from role_modules import load_filter_plugin as load

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FILTER_PLUGINS = os.path.join(ROOT, "filter_plugins")
ANSIBLE_DOC = os.path.join(os.path.dirname(sys.executable), "ansible-doc")
NAMES = sorted(name[:-3] for name in os.listdir(FILTER_PLUGINS) if name.endswith(".py"))
# Every filter the playbooks and roles use; renaming one breaks them.
USED = {"podnet_plan", "podnet_host_view", "podnet_merge_nodes", "podnet_ledger_network",
        "podnet_ledger", "podnet_preflight", "podnet_ledger_inputs", "podnet_ledger_mark_reset",
        "podnet_preview", "podnet_flannel_config", "podnet_flannel_leases",
        "podnet_flannel_leases_parse", "podnet_registry_keys", "podnet_registry_read",
        "podnet_registry_pins", "podnet_inventory_nodes", "podnet_reported_subnets",
        "podnet_allocation_table", "podnet_runtime_ranges", "podnet_verify_report",
        "podnet_report_document", "podnet_report_html", "podnet_wireguard_nodes"}


def docs(name):
    """The three documentation strings of a filter file, read as ansible-doc reads them."""
    with open(os.path.join(FILTER_PLUGINS, name + ".py"), encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    return {node.targets[0].id: yaml.safe_load(node.value.value) for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in ("DOCUMENTATION", "EXAMPLES", "RETURN")}


def test_one_file_per_filter_and_every_used_filter_is_there():
    assert set(NAMES) == USED


@pytest.mark.parametrize("name", NAMES)
def test_each_file_documents_and_maps_its_own_filter(name):
    texts = docs(name)
    assert sorted(texts) == ["DOCUMENTATION", "EXAMPLES", "RETURN"]
    assert texts["DOCUMENTATION"]["name"] == name
    assert texts["DOCUMENTATION"]["short_description"] and texts["DOCUMENTATION"]["description"]
    assert "_input" in texts["DOCUMENTATION"]["options"]
    assert name in json.dumps(texts["EXAMPLES"])
    assert "_value" in texts["RETURN"]
    module = load(name)
    assert module.FilterModule().filters() == {name: getattr(module, name)}


def test_a_plan_error_becomes_an_ansible_filter_error_named_after_the_filter():
    podnet_plan = load("podnet_plan").podnet_plan
    with pytest.raises(AnsibleFilterError, match="podnet_plan: network.backend: unknown backend 'x'"):
        podnet_plan({}, {"cluster_cidr": "10.0.0.0/8", "backend": "x"})
    plan = podnet_plan({"a": {"zone": "z", "address": "192.0.2.1"}}, {"cluster_cidr": "10.0.0.0/8"})
    assert plan["nodes"]["a"]["pod_cidr"] == "10.0.0.0/24"
    with pytest.raises(AnsibleFilterError, match="podnet_host_view: host ghost is not in the plan"):
        load("podnet_host_view").podnet_host_view(plan, "ghost")
    with pytest.raises(AnsibleFilterError, match="podnet_inventory_nodes: host 'a1' has no zone"):
        load("podnet_inventory_nodes").podnet_inventory_nodes(["a1"], {"a1": {}})


def test_a_missing_planner_is_named_with_the_fix(monkeypatch):
    # Ansible skips a plugin that cannot load and prints this message in its warning.
    monkeypatch.setitem(sys.modules, "podnet_planner", None)
    with pytest.raises(ImportError, match="podnet_plan: podnet's planner is not in Ansible's "
                                          "Python; run scripts/setup.sh"):
        load("podnet_plan")


def _ansible_doc(tmp_path, *args):
    config = tmp_path / "ansible.cfg"
    config.write_text("[defaults]\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(config), ANSIBLE_FILTER_PLUGINS=FILTER_PLUGINS,
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([ANSIBLE_DOC, "-t", "filter", "--json", *args], cwd=str(tmp_path),
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and "WARNING" not in proc.stderr, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def test_ansible_doc_lists_and_shows_every_filter_with_its_own_text(tmp_path):
    listed = {name.split(".")[-1]: text for name, text in _ansible_doc(tmp_path, "-l").items()
              if name.split(".")[-1].startswith("podnet_")}
    assert sorted(listed) == NAMES
    shown = _ansible_doc(tmp_path, *NAMES)
    for name in NAMES:
        doc = shown[name]
        own = docs(name)["DOCUMENTATION"]
        assert listed[name] == own["short_description"]
        assert doc["doc"]["name"] == name and doc["doc"]["short_description"] == own["short_description"]
        assert doc["examples"].strip() and doc["return"]["_value"]["description"]


def test_loading_every_filter_file_imports_no_planner_module_and_no_netaddr():
    """Ansible loads every filter file in each forked worker that templates any filter
    (even ``| bool``), once per host and task: the files must not import the planner's
    modules or netaddr until one of their filters is called (measured: a task using
    ``| bool`` cost 1.0 s on 17 nodes with eager imports, 0.5 s without)."""
    code = (
        "import importlib.util, os, sys\n"
        "for name in %r:\n"
        "    spec = importlib.util.spec_from_file_location('f_' + name, os.path.join(%r, name + '.py'))\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('podnet_planner.', 'netaddr')))\n"
        "print(','.join(loaded))\n" % (NAMES, FILTER_PLUGINS))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "podnet_planner.errors"


def test_a_filter_call_loads_what_it_needs():
    view = load("podnet_host_view").podnet_host_view
    with pytest.raises(AnsibleFilterError, match="podnet_host_view"):
        view({"nodes": {}}, "nobody")
