# SPDX-License-Identifier: GPL-3.0-or-later
"""One test per invalid input: each error names the culprit and the fix."""

import pytest

from ansible_collections.podnet.network.plugins.plugin_utils.planner import PlanError, plan

NET = {"cluster_cidr": "10.244.0.0/16"}


def ok_nodes():
    return {"a": {"zone": "z", "address": "192.0.2.1", "prefix": 24},
            "b": {"zone": "z", "address": "192.0.2.2", "prefix": 24}}


def fails(nodes, network, *fragments):
    with pytest.raises(PlanError) as info:
        plan(nodes, network)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


def with_node(**spec):
    nodes = ok_nodes()
    nodes["x"] = dict({"zone": "z", "address": "192.0.2.99"}, **spec)
    return nodes


def test_malformed_cluster_cidr():
    fails({}, {"cluster_cidr": "10.244.0.0/33"}, "network.cluster_cidr", "10.244.0.0/33", "e.g.")


def test_cluster_cidr_without_prefix():
    fails({}, {"cluster_cidr": "10.244.0.0"}, "network.cluster_cidr", "network/prefix")


def test_cluster_cidr_with_host_bits():
    fails({}, {"cluster_cidr": "10.244.1.0/16"}, "host bits", "did you mean '10.244.0.0/16'")


def test_missing_cluster_cidr():
    fails({}, {}, "network.cluster_cidr", "missing")


def test_ipv6_cluster_cidr():
    fails({}, {"cluster_cidr": "fd00::/48"}, "network.cluster_cidr", "IPv6")


def test_malformed_address():
    fails(with_node(address="192.0.2"), NET, "host x address", "'192.0.2'", "dotted quad")


def test_address_with_prefix():
    fails(with_node(address="192.0.2.9/24"), NET, "host x address", "'prefix' key")


def test_ipv6_address():
    fails(with_node(address="2001:db8::1"), NET, "host x address", "IPv6")


def test_node_prefix_not_longer_than_cluster_prefix():
    fails({}, dict(NET, node_prefix=16), "network.node_prefix", "/16", "10.244.0.0/16", "must be longer")


def test_node_prefix_too_long_for_pods():
    fails({}, dict(NET, node_prefix=31), "network.node_prefix", "/31", "/30 or shorter")


def test_zone_prefix_not_between_cluster_and_node_prefix():
    fails({}, dict(NET, zone_prefix=25), "network.zone_prefix", "/25", "between", "/16", "/24")


def test_cluster_overlaps_service_cidr():
    fails({}, dict(NET, service_cidr="10.244.128.0/20"), "network.service_cidr", "10.244.128.0/20",
          "overlaps", "disjoint")


def test_cluster_overlaps_reserved_range():
    fails({}, dict(NET, reserved=["10.0.0.0/8"]), "network.reserved", "10.0.0.0/8", "overlaps")


def test_reserved_must_be_a_list():
    fails({}, dict(NET, reserved="10.0.0.0/8"), "network.reserved", "list")


def test_cluster_overlaps_node_underlay_network():
    fails(with_node(address="10.244.200.5", prefix=24), NET, "host x", "10.244.200.0/24", "overlaps",
          "10.244.0.0/16")


def test_cluster_contains_node_address_without_prefix():
    fails(with_node(address="10.244.0.9"), NET, "host x", "10.244.0.9", "inside the cluster CIDR")


def test_wide_underlay_network_overlapping_cluster():
    fails(with_node(address="10.1.2.3", prefix=8), NET, "host x", "10.0.0.0/8", "overlaps")


def test_pin_of_wrong_size():
    fails(with_node(pod_cidr="10.244.4.0/23"), NET, "host x pod_cidr", "10.244.4.0/23", "/24")


def test_pin_not_aligned():
    fails(with_node(pod_cidr="10.244.4.128/24"), NET, "host x pod_cidr", "host bits", "'10.244.4.0/24'")


def test_pin_malformed():
    fails(with_node(pod_cidr="10.244.4/24"), NET, "host x pod_cidr", "not a valid IPv4 CIDR")


def test_pin_outside_cluster_cidr():
    fails(with_node(pod_cidr="10.245.4.0/24"), NET, "host x pod_cidr", "10.245.4.0/24", "outside the cluster")


def test_pin_outside_its_pinned_zone_block():
    net = dict(NET, zones={"z": {"block": "10.244.16.0/20"}})
    fails(with_node(pod_cidr="10.244.4.0/24"), net, "host x pod_cidr", "10.244.4.0/24", "zone 'z'",
          "10.244.16.0/20", "reset the host")


def test_pin_in_another_zones_block():
    nodes = {"a": {"zone": "alpha", "address": "192.0.2.1", "pod_cidr": "10.244.1.0/24"},
             "b": {"zone": "beta", "address": "192.0.2.2", "pod_cidr": "10.244.2.0/24"}}
    fails(nodes, NET, "host b pod_cidr", "10.244.2.0/24", "zone 'alpha'", "own zone 'beta'")


def test_pins_of_one_zone_span_two_blocks():
    nodes = {"a": {"zone": "z", "address": "192.0.2.1", "pod_cidr": "10.244.1.0/24"},
             "b": {"zone": "z", "address": "192.0.2.2", "pod_cidr": "10.244.17.0/24"}}
    fails(nodes, NET, "zone 'z'", "host a", "host b", "different /20 zone blocks")


def test_duplicate_pin():
    nodes = {"a": {"zone": "z", "address": "192.0.2.1", "pod_cidr": "10.244.1.0/24"},
             "b": {"zone": "z", "address": "192.0.2.2", "pod_cidr": "10.244.1.0/24"}}
    fails(nodes, NET, "host b pod_cidr", "10.244.1.0/24", "also pinned by host a")


def test_duplicate_address():
    fails(with_node(address="192.0.2.1"), NET, "host x", "192.0.2.1", "also the address of host a")


def test_zone_capacity_exhausted():
    nodes = {"h%02d" % i: {"zone": "big", "address": "192.0.2.%d" % (i + 1)} for i in range(17)}
    fails(nodes, NET, "zone 'big'", "needs 17 /24 node subnets", "10.244.0.0/20", "holds only 16",
          "new zone name")


def test_cluster_out_of_zone_blocks():
    nodes = {"h%d" % i: {"zone": "z%d" % i, "address": "192.0.2.%d" % (i + 1)} for i in range(3)}
    fails(nodes, dict(NET, zone_prefix=17), "zone 'z2'", "no free /17 zone block", "3 zones need blocks",
          "holds 2")


def test_unknown_backend():
    fails({}, dict(NET, backend="geneve"), "network.backend", "'geneve'", "auto, host-gw, vxlan")


def test_unknown_zone_backend():
    fails({}, dict(NET, zone_backends={"z": "ipsec"}), "network.zone_backends[z]", "'ipsec'")


def test_host_gw_across_segments():
    nodes = ok_nodes()
    nodes["c"] = {"zone": "y", "address": "198.51.100.7", "prefix": 24}
    fails(nodes, dict(NET, backend="host-gw"), "hosts a and c", "not on one segment", "'auto'", "'prefix'")


def test_host_gw_across_zones_needs_prefixes():
    nodes = {"a": {"zone": "e", "address": "192.0.2.1"}, "b": {"zone": "w", "address": "192.0.2.2"}}
    fails(nodes, dict(NET, backend="host-gw"), "hosts a and b", "no prefix given")


def test_zone_host_gw_inside_a_split_zone():
    nodes = {"a": {"zone": "z", "address": "192.0.2.1", "prefix": 24},
             "b": {"zone": "z", "address": "198.51.100.2", "prefix": 24}}
    fails(nodes, dict(NET, zone_backends={"z": "host-gw"}), "network.zone_backends[z]", "hosts a and b")


def test_missing_zone():
    fails(with_node(zone=""), NET, "host x", "missing zone")
    fails({"x": {"address": "192.0.2.9"}}, NET, "host x", "missing zone")


@pytest.mark.parametrize("vxlan, culprit", [
    ({"vni": 0}, "network.vxlan.vni"),
    ({"vni": 2 ** 24}, "network.vxlan.vni"),
    ({"port": 70000}, "network.vxlan.port"),
    ({"port": True}, "network.vxlan.port"),
    ({"device": "flannel 1"}, "network.vxlan.device"),
    ({"device": "a-very-long-device-name"}, "network.vxlan.device"),
    ({"vnid": 1}, "network.vxlan: unknown key"),
])
def test_bad_vxlan_settings(vxlan, culprit):
    fails({}, dict(NET, vxlan=vxlan), culprit)


@pytest.mark.parametrize("mtu", [100, 70000, "jumbo"])
def test_bad_underlay_mtu(mtu):
    fails({}, dict(NET, underlay_mtu=mtu), "network.underlay_mtu", repr(mtu))


def test_bad_underlay_prefix():
    fails(with_node(prefix=33), NET, "host x prefix", "33")


def test_unknown_network_key():
    fails({}, dict(NET, node_prefx=24), "network: unknown key", "'node_prefx'")


def test_bad_zone_pin_size():
    fails({}, dict(NET, zones={"z": {"block": "10.244.0.0/21"}}), "network.zones[z].block", "/21", "/20")


def test_zone_pin_outside_cluster():
    fails({}, dict(NET, zones={"z": {"block": "10.245.0.0/20"}}), "network.zones[z].block", "outside")


def test_two_zones_pinned_to_one_block():
    net = dict(NET, zones={"a": {"block": "10.244.0.0/20"}, "b": {"block": "10.244.0.0/20"}})
    fails({}, net, "network.zones[b].block", "also pinned for zone 'a'")


def test_nodes_not_a_dict():
    fails([], NET, "nodes: expected")
