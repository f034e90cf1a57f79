# SPDX-License-Identifier: GPL-3.0-or-later
"""The ledger reader: the whole document is checked where it is read (the ledger file by
the podnet_plan_ledger action, the etcd key by role podnet_registry), before any filter
or the planner sees it, and every error names the file, the key path and the fix."""

import json

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.podnet.network.plugins.plugin_utils.planner import (
    PlanError, ledger_network, plan, preview)
from ansible_collections.podnet.network.plugins.plugin_utils.planner.ledger_reader import (
    check_ledger, ledger_registry_read, read_ledger_text)
from ansible_collections.podnet.network.tests.unit.ledger_samples import (
    VALID, VALID_TEXT, changed)

PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PATH = "/srv/inv/.podnet-ledger.prod.yml"


def refused(document, where=PATH):
    with pytest.raises(PlanError) as info:
        check_ledger(document, where)
    return " ".join(str(info.value).split())


# --- the whole document ---------------------------------------------------------------------

@pytest.mark.parametrize("path, value, fragment", [
    (("podnet_ledger",), ..., "is not a podnet ledger (no 'podnet_ledger: <version>'"),
    (("podnet_ledger",), 3, "podnet_ledger: 3 is not a ledger format this podnet reads"),
    (("podnet_ledger",), True, "is not a podnet ledger"),
    (("cluster_cidr",), ..., "cluster_cidr: missing"),
    (("cluster_cidr",), "10.244.0.1/16", "cluster_cidr: '10.244.0.1/16' has host bits set"),
    (("node_prefix",), "24", "node_prefix: '24' is not a prefix length"),
    (("node_prefix",), 16, "node_prefix: /16 must be longer than the cluster CIDR's /16"),
    (("zone_prefix",), 25, "zone_prefix: /25 must lie between the cluster CIDR's /16 and node_prefix /24"),
    (("zones", "a"), 7, "zones.a: 7 is not an IPv4 CIDR"),
    (("zones", "b"), "10.244.0.0/20", "zones.b: 10.244.0.0/20 overlaps zones.a 10.244.0.0/20"),
    (("zones", "b"), "10.9.0.0/20", "zones.b: 10.9.0.0/20 lies outside cluster_cidr 10.244.0.0/16"),
    (("nodes", "a1"), "10.244.1.0/24", "nodes.a1: expected a mapping of the node's fields, got a str"),
    (("nodes", "a1", "zone"), ..., "nodes.a1.zone: missing"),
    (("nodes", "a1", "zone"), "", "nodes.a1.zone: '' is not a zone name"),
    (("nodes", "a1", "zone"), "c", "nodes.a1.zone: 'c' has no block in zones"),
    (("zone_prefix",), ..., "zone_prefix: missing (podnet writes every key of a version 2 ledger"),
    (("zones",), ..., "zones: missing (podnet writes every key of a version 2 ledger"),
    (("nodes", "a1", "pod_cidr"), ..., "nodes.a1.pod_cidr: missing"),
    (("nodes", "a1", "pod_cidr"), "10.244.0.0/23", "nodes.a1.pod_cidr: 10.244.0.0/23 is not a /24"),
    (("nodes", "a1", "pod_cidr"), "10.9.0.0/24", "nodes.a1.pod_cidr: 10.9.0.0/24 lies outside cluster_cidr"),
    (("nodes", "b1", "pod_cidr"), "10.244.0.0/24", "nodes.b1.pod_cidr: 10.244.0.0/24 lies outside its zone b's block"),
    (("nodes", "a2", "pod_cidr"), "10.244.0.0/24", "nodes.a2.pod_cidr: 10.244.0.0/24 is also held by nodes.a1"),
    (("nodes", "a1", "address"), "192.0.2.300", "nodes.a1.address: '192.0.2.300' is not a valid IPv4 address"),
    (("nodes", "a1", "prefix"), 33, "nodes.a1.prefix: 33 is not a prefix length"),
    (("nodes", "a1", "state"), "lost", "nodes.a1.state: 'lost' is not a state podnet knows (allocated, released-pending)"),
    (("nodes", "a1", "reset"), "yes", "nodes.a1.reset: 'yes' is not true or false"),
    (("nodes", "a1", "wireguard_key"), 5, "nodes.a1.wireguard_key: 5 is not a WireGuard public key"),
    (("nodes", "a1", "podcidr"), "10.244.9.0/24", "nodes.a1.podcidr: unknown field (a node record holds"),
    (("colour",), "blue", "colour: unknown key (a ledger holds"),
    (("routing", "underlay_mtu"), "1500", "routing.underlay_mtu: '1500' is not a number"),
    (("routing", "vxlan"), [1], "routing.vxlan: expected a mapping, got a list"),
    (("routing", "zone_backends"), {"a": 1}, "routing.zone_backends.a: 1 is not a backend name"),
    (("routing", "speed"), 1, "routing.speed: unknown key"),
])
def test_every_wrong_value_is_named_by_its_key_path(path, value, fragment):
    message = refused(changed(path, value))
    assert message.startswith(PATH + ": ") or message.startswith(PATH + " is not a podnet ledger"), message
    assert fragment in message, message
    assert "restore it from version control" in message, message


def test_a_version_1_ledger_and_optional_fields_are_read():
    v1 = {"podnet_ledger": 1, "cluster_cidr": "10.244.0.0/16", "node_prefix": 24, "zone_prefix": 20,
          "zones": {"a": "10.244.0.0/20"},
          "nodes": {"a1": {"zone": "a", "address": "192.0.2.1", "pod_cidr": "10.244.5.0/24"}}}
    assert check_ledger(v1, PATH) == v1
    sparse = {"podnet_ledger": 2, "cluster_cidr": "10.244.0.0/16", "node_prefix": 24,
              "zone_prefix": None, "zones": None, "nodes": None, "routing": None}
    assert check_ledger(sparse, PATH) == sparse
    # Ledgers written before podnet recorded the routing settings have none.
    without_routing = {key: value for key, value in VALID.items() if key != "routing"}
    assert check_ledger(without_routing, PATH) == without_routing
    blocks = {zone: {"block": block} for zone, block in VALID["zones"].items()}
    assert check_ledger(dict(VALID, zones=blocks), PATH)


def test_a_key_written_twice_is_refused_naming_the_line(tmp_path):
    text = VALID_TEXT.replace("nodes:\n", "nodes:\n  a1: {zone: a, pod_cidr: 10.244.9.0/24}\n", 1)
    with pytest.raises(PlanError) as info:
        read_ledger_text(text, PATH)
    message = " ".join(str(info.value).split())
    assert message.startswith(PATH + ": line ") and "key 'a1' appears twice" in message, message


def test_text_that_is_not_utf8_or_not_yaml_names_the_file():
    for raw, fragment in ((b"\xff\xfe podnet", "is not UTF-8 text"),
                          ("nodes: [unclosed\n", "is not valid YAML"),
                          ("when: 2024-13-45\n", "is not valid YAML")):
        with pytest.raises(PlanError) as info:
            read_ledger_text(raw, PATH)
        assert str(info.value).startswith(PATH) and fragment in str(info.value), info.value


# --- properties: whatever the file holds, a podnet error naming the file, never a crash -------

def _reads_or_names_the_file(text):
    try:
        read_ledger_text(text, PATH)
    except PlanError as exc:
        assert str(exc).startswith(PATH), exc


@PROPS
@given(st.text(max_size=400))
def test_any_text_is_a_ledger_or_a_podnet_error_naming_the_file(text):
    _reads_or_names_the_file(text)


@PROPS
@given(st.binary(max_size=200))
def test_any_bytes_are_a_ledger_or_a_podnet_error_naming_the_file(raw):
    _reads_or_names_the_file(raw)


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2, 2 ** 33), st.floats(allow_nan=False),
                    st.text(max_size=20), st.sampled_from(["10.244.0.0/24", "192.0.2.1", "a", "allocated"]))
DOCUMENTS = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=20)


@PROPS
@given(DOCUMENTS)
def test_any_yaml_document_is_a_ledger_or_a_podnet_error_naming_the_file(document):
    _reads_or_names_the_file(yaml.safe_dump(document))


@PROPS
@given(st.integers(0, len(VALID_TEXT)))
def test_any_truncation_of_a_valid_ledger_is_refused_naming_the_file_or_reads_whole(cut):
    # Never a shorter ledger taken for the whole: that would free the lost nodes' subnets.
    try:
        assert read_ledger_text(VALID_TEXT[:cut], PATH) == VALID
    except PlanError as exc:
        assert str(exc).startswith(PATH), exc


def test_every_line_boundary_of_a_valid_ledger_is_checked():
    lines = VALID_TEXT.splitlines(keepends=True)
    for count in range(len(lines)):
        with pytest.raises(PlanError) as info:
            read_ledger_text("".join(lines[:count]), PATH)
        assert str(info.value).startswith(PATH)


def _key_paths(document, prefix=()):
    yield prefix
    if isinstance(document, dict):
        for key, value in document.items():
            yield from _key_paths(value, prefix + (key,))


KEY_PATHS = [path for path in _key_paths(VALID) if path]
WRONG = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10),
                  st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
                  st.dates(), st.binary(max_size=3))


@PROPS
@given(st.sampled_from(KEY_PATHS), WRONG)
def test_any_value_at_any_key_is_a_ledger_or_a_podnet_error_naming_the_file(path, value):
    document = changed(path, value)
    try:
        check_ledger(document, PATH)
    except PlanError as exc:
        assert str(exc).startswith(PATH), exc
    _reads_or_names_the_file(yaml.safe_dump(document))


# --- etcd mode: the registry's ledger through the same reader, naming the etcd key ------------

def test_the_registry_ledger_is_checked_naming_the_etcd_key():
    prefix = "/coreos.com/network"
    bad = dict(VALID, nodes=["a1"])
    with pytest.raises(PlanError) as info:
        ledger_registry_read({prefix + "/podnet/ledger": json.dumps(bad)}, prefix)
    message = " ".join(str(info.value).split())
    assert message.startswith("etcd key /coreos.com/network/podnet/ledger: nodes: expected a mapping"), message
    assert "etcdctl put" in message, message
    good = ledger_registry_read({prefix + "/podnet/ledger": json.dumps(VALID)}, prefix)
    assert good["ledger"] == VALID
    assert ledger_registry_read({}, prefix)["ledger"] == {}


@pytest.mark.parametrize("key", ["zones", "routing"])
def test_the_filters_own_guard_gives_a_podnet_error_too(key):
    # Plain Python callers of the planner may skip the reader: still a PlanError.
    bad = dict(VALID, **{key: ["a"]})
    with pytest.raises(PlanError, match="'%s' must map" % key):
        ledger_network({"cluster_cidr": "10.244.0.0/16"}, bad)
    with pytest.raises(PlanError, match="'%s' must map" % key):
        preview(bad, plan({}, {"cluster_cidr": "10.244.0.0/16"}))
