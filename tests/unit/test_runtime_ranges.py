# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet_runtime_ranges: Docker and CNI never hand out the same address."""

import ipaddress

import pytest

from ansible_collections.podnet.network.plugins.plugin_utils.planner import (
    PlanError, runtime_ranges)


def test_not_shared_leaves_both_runtimes_the_whole_subnet():
    assert runtime_ranges("10.244.1.0/24", False) == {"docker_fixed_cidr": "", "cni_range_end": ""}


@pytest.mark.parametrize("cidr", ["10.244.1.0/24", "10.244.8.0/21", "10.244.1.16/28"])
def test_shared_halves_are_disjoint_and_cover_the_subnet(cidr):
    ranges = runtime_ranges(cidr, True)
    net = ipaddress.ip_network(cidr)
    docker = ipaddress.ip_network(ranges["docker_fixed_cidr"])
    cni_end = ipaddress.ip_address(ranges["cni_range_end"])
    assert docker.subnet_of(net) and docker.prefixlen == net.prefixlen + 1
    assert docker.network_address == net.network_address + net.num_addresses // 2
    assert cni_end < docker.network_address


def test_too_small_a_subnet_names_it():
    with pytest.raises(PlanError, match="10.244.1.0/29"):
        runtime_ranges("10.244.1.0/29", True)
