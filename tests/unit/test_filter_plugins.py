# SPDX-License-Identifier: GPL-3.0-or-later
"""plugins/filter/: podnet's filters, a few FilterModule files by concern, each filter
documented in a YAML file of its own name beside them (as ansible-core's own filters are).

Every entry is made by plugins/plugin_utils/filter_entries.py: it calls the planner's
function and turns its ``PlanError`` into an ``AnsibleFilterError`` named after the filter.
"""

import glob
import json
import os
import subprocess
import sys

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.podnet.network.tests.unit.role_modules import load_filter as load

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FILTERS = os.path.join(ROOT, "plugins", "filter")
NAMES = sorted(os.path.basename(path)[:-4] for path in glob.glob(os.path.join(FILTERS, "*.yml")))
GROUPS = sorted(os.path.basename(path)[:-3] for path in glob.glob(os.path.join(FILTERS, "*.py")))
COLLECTION = "ansible_collections.podnet.network.plugins"
# Every filter the playbooks and roles use; renaming one breaks them.
USED = {"podnet_plan", "podnet_host_view", "podnet_merge_nodes", "podnet_ledger_network",
        "podnet_agent_slice", "podnet_roll_probes",
        "podnet_ledger", "podnet_preflight", "podnet_ledger_inputs", "podnet_ledger_mark_reset",
        "podnet_preview", "podnet_flannel_config", "podnet_flannel_leases",
        "podnet_flannel_leases_parse", "podnet_registry_keys", "podnet_registry_read",
        "podnet_registry_pins", "podnet_inventory_nodes", "podnet_reported_subnets",
        "podnet_allocation_table", "podnet_runtime_ranges", "podnet_verify_report",
        "podnet_report_document", "podnet_report_html", "podnet_wireguard_nodes",
        "podnet_role_inputs", "podnet_systemd_quote",
        "podnet_fleet_table",
        # for playbooks/plan.yml (its etcd-mode inputs; see docs/etcd-pki.md, stray leases)
        "podnet_registry_hold",
        # for roles/podnet_registry (etcd auth; the agents' slices in etcd mode)
        "podnet_registry_access", "podnet_agent_slice_keys",
        # for playbooks/site.yml's BGP plays (docs/bgp.md)
        "podnet_bgp_nodes", "podnet_bgp_router_config",
        # for playbooks/lab/agent-check.yml (the agents' problems with since when, docs/agent.md)
        "podnet_agent_problems"}


def python(code, check=True):
    """Run CODE in a fresh interpreter that imports as this one does (the checkout's
    collection link, or ansible-test's copy of the collection)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=check)


def docs(name):
    with open(os.path.join(FILTERS, name + ".yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def exported():
    """{filter name: the filter file that exports it}, from every FilterModule."""
    found = {}
    for group in GROUPS:
        code = ("import importlib, json; m = importlib.import_module(%r); "
                "print(json.dumps(sorted(m.FilterModule().filters())))" % f"{COLLECTION}.filter.{group}")
        done = python(code)
        for name in json.loads(done.stdout):
            assert name not in found, f"{name} exported by {found[name]} and {group}"
            found[name] = group
    return found


def test_every_used_filter_is_exported_once_and_documented():
    assert set(exported()) == USED == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_each_filter_has_its_own_documentation(name):
    texts = docs(name)
    assert sorted(texts) == ["DOCUMENTATION", "EXAMPLES", "RETURN"]
    assert texts["DOCUMENTATION"]["name"] == name
    assert texts["DOCUMENTATION"]["short_description"] and texts["DOCUMENTATION"]["description"]
    assert "_input" in texts["DOCUMENTATION"]["options"]
    # Examples call the filter by its FQCN, as a collection's filters must be called.
    assert f"podnet.network.{name}" in texts["EXAMPLES"]
    assert "_value" in texts["RETURN"]


def test_a_plan_error_becomes_an_ansible_filter_error_named_after_the_filter():
    podnet_plan = load("podnet_plan")
    with pytest.raises(AnsibleFilterError, match="podnet_plan: network.backend: unknown backend 'x'"):
        podnet_plan({}, {"cluster_cidr": "10.0.0.0/8", "backend": "x"})
    plan = podnet_plan({"a": {"zone": "z", "address": "192.0.2.1"}}, {"cluster_cidr": "10.0.0.0/8"})
    assert plan["nodes"]["a"]["pod_cidr"] == "10.0.0.0/24"
    with pytest.raises(AnsibleFilterError, match="podnet_host_view: host ghost is not in the plan"):
        load("podnet_host_view")(plan, "ghost")
    with pytest.raises(AnsibleFilterError, match="podnet_inventory_nodes: host 'a1' has no zone"):
        load("podnet_inventory_nodes")(["a1"], {"a1": {}})


def test_a_planner_that_cannot_be_imported_is_named_with_the_fix():
    """A planner that cannot be imported: the filter files still load (ansible-doc and
    ansible-test's import check need that), and a call says what to install."""
    code = ("import sys; sys.modules['%s.plugin_utils.planner'] = None\n"
            "from %s.filter.plan import FilterModule\n"
            "try:\n"
            "    FilterModule().filters()['podnet_plan']({}, {})\n"
            "except Exception as exc:\n"
            "    print(type(exc).__name__, exc)\n" % (COLLECTION, COLLECTION))
    done = python(code)
    assert "podnet_plan: podnet's planner cannot be imported" in done.stdout
    assert "install netaddr" in done.stdout


def test_loading_every_filter_file_imports_no_planner_module_and_no_netaddr():
    """Ansible loads every filter file in each forked worker that templates any filter
    (even ``| bool``), once per host and task: the files must not import the planner's
    modules or netaddr until one of their filters is called (measured: a task using
    ``| bool`` cost 1.0 s on 17 nodes with eager imports, 0.5 s without)."""
    code = (
        "import importlib, sys\n"
        "for group in %r:\n"
        "    importlib.import_module('%s.filter.' + group).FilterModule().filters()\n"
        "loaded = sorted(m for m in sys.modules if '.planner.' in m or m.startswith('netaddr'))\n"
        "print(','.join(loaded))\n" % (GROUPS, COLLECTION))
    done = python(code)
    assert done.stdout.strip() == f"{COLLECTION}.plugin_utils.planner.errors"


def test_a_filter_call_loads_what_it_needs():
    with pytest.raises(AnsibleFilterError, match="podnet_host_view"):
        load("podnet_host_view")({"nodes": {}}, "nobody")


def test_a_loaded_submodule_never_hides_the_function_of_its_name():
    # Before: loading the registry submodule (it imports .ledger) bound planner.ledger to the
    # submodule, and filter podnet_ledger then called a module in that process.
    out = python(
        "from ansible_collections.podnet.network.plugins.plugin_utils.planner import registry, report\n"
        "from ansible_collections.podnet.network.plugins.plugin_utils import planner\n"
        "print(sorted(n for n in planner.__all__ if not callable(getattr(planner, n))))\n").stdout
    assert out.strip() == "[]"
