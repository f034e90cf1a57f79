"""The Ansible wrapper: names, error conversion, no logic of its own."""

import pytest
from ansible.errors import AnsibleFilterError

import podnet

FILTERS = {"podnet_plan", "podnet_host_view", "podnet_merge_nodes", "podnet_ledger_network",
           "podnet_ledger", "podnet_flannel_config", "podnet_flannel_leases",
           "podnet_flannel_leases_parse", "podnet_preflight", "podnet_ledger_inputs",
           "podnet_ledger_mark_reset", "podnet_preview"}


def test_filter_map():
    assert set(podnet.FilterModule().filters()) == FILTERS


def test_plan_through_the_wrapper():
    result = podnet.podnet_plan({"a": {"zone": "z", "address": "192.0.2.1"}}, {"cluster_cidr": "10.0.0.0/8"})
    assert result["nodes"]["a"]["pod_cidr"] == "10.0.0.0/24"


def test_plan_error_becomes_ansible_filter_error():
    with pytest.raises(AnsibleFilterError, match="podnet_plan: network.backend: unknown backend 'x'"):
        podnet.podnet_plan({}, {"cluster_cidr": "10.0.0.0/8", "backend": "x"})


def test_host_view_error_names_the_host():
    with pytest.raises(AnsibleFilterError, match="host ghost is not in the plan"):
        podnet.podnet_host_view(podnet.podnet_plan({}, {"cluster_cidr": "10.0.0.0/8"}), "ghost")


def test_docs_are_valid_yaml():
    import yaml
    for text in (podnet.DOCUMENTATION, podnet.EXAMPLES, podnet.RETURN):
        assert yaml.safe_load(text)
