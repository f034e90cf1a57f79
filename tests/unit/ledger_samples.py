# SPDX-License-Identifier: GPL-3.0-or-later
"""A valid ledger and the ways the ledger tests write and damage it (test_ledger_file,
test_ledger_reader)."""

import copy
import importlib

# From their modules: importing a planner module rebinds its name on the package.
from ansible_collections.podnet.network.plugins.plugin_utils.planner.ledger import ledger
from ansible_collections.podnet.network.plugins.plugin_utils.planner.plan import plan

ACTION = importlib.import_module("ansible_collections.podnet.network.plugins.action.podnet_plan_ledger")


def valid_document():
    """A ledger as podnet writes it: two zones, three allocated nodes, one released-pending."""
    nodes = {"a1": {"zone": "a", "address": "192.0.2.1", "prefix": 24, "wireguard_key": "k" * 43 + "="},
             "a2": {"zone": "a", "address": "192.0.2.2", "prefix": 24},
             "b1": {"zone": "b", "address": "198.51.100.1"}}
    released = {"gone": {"zone": "a", "address": "192.0.2.9", "prefix": 24,
                         "pod_cidr": "10.244.5.0/24"}}
    network = {"cluster_cidr": "10.244.0.0/16", "node_prefix": 24, "released": released}
    return ledger(plan(nodes, network))


VALID = valid_document()
VALID_TEXT = ACTION.render_ledger(VALID)


def written(tmp_path, text):
    path = tmp_path / ".podnet-ledger.hosts.yml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


def changed(path, value):
    """VALID with the key at PATH (a tuple of keys) set to VALUE (or removed: value ...)."""
    document = copy.deepcopy(VALID)
    here = document
    for key in path[:-1]:
        here = here[key]
    if value is Ellipsis:
        del here[path[-1]]
    else:
        here[path[-1]] = value
    return document
