# SPDX-License-Identifier: GPL-3.0-or-later
"""Dual stack in etcd mode (issue 24 item 5): flannel's IPv6 keys, in flannel's own schema.

The expected key names and JSON fields are flannel's (flannel-io/flannel, read at cdf7605):
pkg/subnet/subnet.go MakeSubnetKey / ParseSubnetKey (the key of a dual-stack lease),
pkg/subnet/config.go Config (the network config), pkg/lease/lease.go LeaseAttrs (a lease's
value), pkg/backend/vxlan/vxlan.go and pkg/backend/wireguard/wireguard.go newSubnetAttrs
(BackendV6Data). ``flannel_parse_subnet_key`` below is ParseSubnetKey's regexp, so a key
podnet writes is checked against what a stock flanneld reads, not against podnet's reader.

The round trips run the filters roles/podnet_plan/tasks/plan.yml chains and podnet_etcd_kv's
write plan against a simulated etcd, as tests/unit/test_registry_hold.py does.
"""

import ipaddress
import json
import re

import pytest

from ansible_collections.podnet.network.plugins.plugin_utils.planner import (
    PlanError, flannel_config, flannel_leases, flannel_leases_parse, plan, registry_access,
    registry_hold, registry_keys, registry_pins, registry_read)
from ansible_collections.podnet.network.plugins.plugin_utils.planner.ledger_reader import ledger_registry_read
from ansible_collections.podnet.network.tests.unit.role_modules import load_filter, load_module

kv = load_module("podnet_etcd_kv")
P = "/coreos.com/network"
V4 = {"cluster_cidr": "10.244.0.0/16", "registry": "etcd", "registry_members": ["etcd1"]}
DUAL = dict(V4, cluster_cidr_ipv6="fd00:10:244::/56")
# flannel's ParseSubnetKey (pkg/subnet/subnet.go), verbatim.
SUBNET_RE = re.compile(r"(\d+\.\d+.\d+.\d+)-(\d+)(?:&([a-f\d:]+)-(\d+))?$")


def flannel_parse_subnet_key(key):
    """(IPv4 net, IPv6 net or None) as flannel reads a key, or None when it skips it."""
    match = SUBNET_RE.search(key)
    if not match:
        return None
    four = ipaddress.ip_network("%s/%s" % match.group(1, 2))
    six = ipaddress.ip_network("%s/%s" % match.group(3, 4)) if match.group(3) else None
    return four, six


def node(index, v6=True, v4=True, **extra):
    spec = {"zone": "z"}
    if v4:
        spec.update(address="192.0.2.%d" % index, prefix=24)
    if v6:
        spec.update(address_ipv6="2001:db8::%d" % index, prefix_ipv6=64)
    spec.update(extra)
    return spec


NODES = {"a": node(1), "b": node(2)}
PLAN = plan(NODES, DUAL)


def test_config_gains_flannels_ipv6_fields_and_keeps_the_ipv4_ones():
    assert flannel_config(PLAN) == {
        "Network": "10.244.0.0/16", "SubnetLen": 24, "SubnetMin": "10.244.0.0",
        "SubnetMax": "10.244.255.0",
        "EnableIPv4": True, "EnableIPv6": True, "IPv6Network": "fd00:10:244::/56",
        "IPv6SubnetLen": 64, "IPv6SubnetMin": "fd00:10:244::", "IPv6SubnetMax": "fd00:10:244:ff::",
        "Backend": {"Type": "vxlan", "VNI": 1, "Port": 8472, "DirectRouting": True},
    }


def test_ipv4_only_config_and_leases_are_as_before():
    v4 = plan({"a": node(1, v6=False)}, V4)
    assert json.dumps(flannel_config(v4), sort_keys=True) == (
        '{"Backend": {"DirectRouting": true, "Port": 8472, "Type": "vxlan", "VNI": 1}, '
        '"Network": "10.244.0.0/16", "SubnetLen": 24, "SubnetMax": "10.244.255.0", '
        '"SubnetMin": "10.244.0.0"}')
    assert {k: json.dumps(v, sort_keys=True) for k, v in flannel_leases(v4).items()} == {
        P + "/subnets/10.244.0.0-24": '{"BackendData": {"VNI": 1, "VtepMAC": "0a:58:0a:f4:00:00"}, '
                                      '"BackendType": "vxlan", "PublicIP": "192.0.2.1"}'}


def test_dual_stack_lease_keys_and_values_are_flannels():
    leases = flannel_leases(PLAN)
    assert leases == {
        P + "/subnets/10.244.0.0-24&fd00:10:244::-64": {
            "PublicIP": "192.0.2.1", "PublicIPv6": "2001:db8::1", "BackendType": "vxlan",
            "BackendData": {"VNI": 1, "VtepMAC": "0a:58:0a:f4:00:00"},
            "BackendV6Data": {"VNI": 1, "VtepMAC": "0e:58:0a:f4:00:00"}},
        P + "/subnets/10.244.1.0-24&fd00:10:244:1::-64": {
            "PublicIP": "192.0.2.2", "PublicIPv6": "2001:db8::2", "BackendType": "vxlan",
            "BackendData": {"VNI": 1, "VtepMAC": "0a:58:0a:f4:01:00"},
            "BackendV6Data": {"VNI": 1, "VtepMAC": "0e:58:0a:f4:01:00"}},
    }
    for key, value in leases.items():  # what a stock flanneld reads from the key
        four, six = flannel_parse_subnet_key(key)
        holder = [n for n in PLAN["nodes"].values() if n["address"] == value["PublicIP"]][0]
        assert (str(four), str(six)) == (holder["pod_cidr"], holder["pod_cidr_ipv6"])


def test_the_ipv6_part_of_a_key_is_gos_canonical_text():
    # Go's net.IP.String(): lower case, the longest run of zero groups shortened, a single
    # zero group kept (RFC 5952), the text flannel's ParseSubnetKey regexp expects.
    dual = plan({"a": node(1, pod_cidr_ipv6="fd00:10:244:0:1::/80")},
                dict(DUAL, node_prefix_ipv6=80, zone_prefix_ipv6=64))
    key = list(flannel_leases(dual))[0]
    assert key.endswith("&fd00:10:244:0:1::-80")
    assert str(flannel_parse_subnet_key(key)[1]) == "fd00:10:244:0:1::/80"


def test_a_node_without_an_ipv6_underlay_has_no_public_ipv6_nor_v6_backend_data():
    # flannel's vxlan newSubnetAttrs sets PublicIPv6 and BackendV6Data only with an IPv6
    # underlay (its flannel-v6.<vni> device); the key still holds both subnets.
    mixed = plan({"a": node(1), "c": node(3, v6=False)}, dict(DUAL, ipv6_planner_only=True))
    leases = flannel_leases(mixed)
    value = leases[P + "/subnets/10.244.1.0-24&fd00:10:244:1::-64"]
    assert value == {"PublicIP": "192.0.2.3", "BackendType": "vxlan",
                     "BackendData": {"VNI": 1, "VtepMAC": "0a:58:0a:f4:01:00"}}


def test_a_node_with_only_an_ipv6_underlay_is_named_by_its_public_ipv6():
    only6 = plan({"a": node(1), "c": node(3, v4=False)}, dict(DUAL, ipv6_planner_only=True))
    leases = flannel_leases(only6)
    value = leases[P + "/subnets/10.244.1.0-24&fd00:10:244:1::-64"]
    assert value["PublicIP"] == "0.0.0.0" and value["PublicIPv6"] == "2001:db8::3"
    assert flannel_leases_parse(leases)["2001:db8::3"] == "10.244.1.0/24"
    read = registry_read(as_read(registry_keys(only6)), P)
    pinned = registry_pins({"c": node(3, v4=False)}, read["leases"], read["leases_ipv6"])
    assert pinned["c"]["pod_cidr"] == "10.244.1.0/24"
    assert pinned["c"]["pod_cidr_ipv6"] == "fd00:10:244:1::/64"


def test_wireguard_dual_stack_is_flannels_mode_auto_on_one_port():
    wg = plan({"a": node(1, wireguard_key="A" * 43 + "=")}, dict(DUAL, backend="wireguard"))
    backend = flannel_config(wg)["Backend"]
    assert backend == {"Type": "wireguard", "ListenPort": 51820, "Mode": "auto", "ListenPortV6": 51820}
    (value,) = flannel_leases(wg).values()
    assert value["BackendV6Data"] == value["BackendData"] == {"Port": 51820, "PublicKey": "A" * 43 + "="}
    assert value["PublicIPv6"] == "2001:db8::1"


def test_flanneld_may_write_its_dual_stack_key():
    access = registry_access(PLAN, P, ["a"])
    assert {"key": P + "/subnets/10.244.0.0-24&fd00:10:244::-64", "prefix": False,
            "permission": "readwrite"} in access["roles"]["flanneld-a"]


def as_read(keys, leased=()):
    """What podnet_etcd_kv returns after reading ``keys`` back."""
    return {k: {"value": json.dumps(v), "lease": 7 if k in leased else 0} for k, v in keys.items()}


def test_round_trip_reads_both_subnets_back():
    read = registry_read(as_read(registry_keys(PLAN)), P)
    assert read["leases"] == {"192.0.2.1": "10.244.0.0/24", "192.0.2.2": "10.244.1.0/24"}
    assert read["leases_ipv6"] == {"192.0.2.1": "fd00:10:244::/64", "192.0.2.2": "fd00:10:244:1::/64"}
    assert read["ledger"]["nodes"]["b"]["pod_cidr_ipv6"] == "fd00:10:244:1::/64"
    # IPv4-only reads keep their shape
    assert set(registry_read(as_read(registry_keys(plan({"a": node(1, v6=False)}, V4))), P)) == {"ledger", "leases", "leased"}


def test_a_bad_ipv6_part_of_a_key_names_the_key():
    with pytest.raises(PlanError, match=r"flannel lease key .*10\.244\.1\.0-24&fd00::zz-64"):
        flannel_leases_parse({P + "/subnets/10.244.1.0-24&fd00::zz-64": {"PublicIP": "192.0.2.1"}})
    with pytest.raises(PlanError, match="<ipv6>-<len>"):
        flannel_leases_parse({P + "/subnets/10.244.1.0-24&fd00::": {"PublicIP": "192.0.2.1"}})


def test_one_host_with_its_old_ipv4_key_beside_its_dual_stack_one_holds_one_subnet():
    leases = {P + "/subnets/10.244.1.0-24": {"PublicIP": "192.0.2.1"},
              P + "/subnets/10.244.1.0-24&fd00:10:244:1::-64": {"PublicIP": "192.0.2.1"}}
    read = registry_read(as_read(dict(leases, **{P + "/config": flannel_config(PLAN)})), P)
    assert read["leases"] == {"192.0.2.1": "10.244.1.0/24"}
    assert read["leases_ipv6"] == {"192.0.2.1": "fd00:10:244:1::/64"}
    leases[P + "/subnets/10.244.1.0-24&fd00:10:244:2::-64"] = {"PublicIP": "192.0.2.1"}
    with pytest.raises(PlanError, match="host 192.0.2.1 holds both fd00:10:244:1::/64 and fd00:10:244:2::/64"):
        flannel_leases_parse(leases)


def test_a_live_dual_stack_lease_is_held_under_its_own_key():
    keys = registry_keys(PLAN)
    stray = P + "/subnets/10.244.7.0-24&fd00:10:244:7::-64"
    keys[stray] = {"PublicIP": "192.0.2.99", "PublicIPv6": "2001:db8::99", "BackendType": "vxlan"}
    content = ledger_registry_read(as_read(keys, leased=[stray]), P)
    assert content["leased"] == {"10.244.7.0/24": "192.0.2.99"}
    assert content["leased_ipv6"] == {"10.244.7.0/24": "fd00:10:244:7::/64"}
    held = registry_hold({"nodes": {}, "network": dict(DUAL)}, content)["network"]["leased"]
    assert held == {"10.244.7.0/24": {"address": "192.0.2.99", "key": stray, "pod_cidr_ipv6": "fd00:10:244:7::/64"}}


# The filters of plan.yml's inputs, in its order (test_registry_hold checks plan.yml chains them).
F = {name: load_filter(name) for name in (
    "podnet_inventory_nodes", "podnet_registry_pins", "podnet_ledger_inputs", "podnet_reported_subnets",
    "podnet_registry_hold", "podnet_plan", "podnet_registry_keys")}


class Registry:
    """A simulated etcd under P, written and read as site.yml's etcd mode does."""

    def __init__(self, kvs=None):
        self.kvs, self.revision = {}, 0
        for key, value in (kvs or {}).items():
            self.put(key, json.dumps(value))

    def put(self, key, value, lease=0):
        self.revision += 1
        self.kvs[key] = {"value": value, "lease": lease, "mod": self.revision}

    def run(self, hostvars, network):
        """plan.yml's chain on what the registry holds, then role podnet_registry's write.
        Returns (plan, the write's actions)."""
        hosts = sorted(hostvars)
        content = ledger_registry_read(self.kvs, P)
        document = content["ledger"]
        inputs = F["podnet_registry_hold"](F["podnet_ledger_inputs"](
            F["podnet_registry_pins"](F["podnet_inventory_nodes"](hosts, hostvars, document),
                                      content["leases"], content.get("leases_ipv6")),
            document, F["podnet_reported_subnets"](hosts, hostvars), network, []), content)
        result = F["podnet_plan"](inputs["nodes"], inputs["network"])
        actions = kv.plan(self.kvs, kv.encode(F["podnet_registry_keys"](result, P)),
                          purge=[P + "/subnets/"], expect=kv.snapshot(self.kvs, self.revision))
        for key, value in actions["put"].items():
            self.put(key, value)
        for key in actions["delete"]:
            del self.kvs[key]
        return result, actions

    def subnets(self):
        return sorted(key[len(P + "/subnets/"):] for key in self.kvs if key.startswith(P + "/subnets/"))


def hostvars(count, v6=True):
    result = {}
    for i in range(1, count + 1):
        result["n%d" % i] = {"podnet_zone": "z", "podnet_address": "192.0.2.%d" % i,
                             "podnet_underlay_prefix": 24, "ansible_facts": {"ansible_local": {"podnet": {}}}}
        if v6:
            result["n%d" % i].update(podnet_address_ipv6="2001:db8::%d" % i, podnet_underlay_prefix_ipv6=64)
    return result


def test_an_ipv4_only_registry_gains_ipv6_prefixes_without_moving_an_ipv4_subnet():
    registry, hosts = Registry(), hostvars(3)
    before, dummy = registry.run(hostvars(3, v6=False), V4)
    assert registry.subnets() == ["10.244.0.0-24", "10.244.1.0-24", "10.244.2.0-24"]
    after, actions = registry.run(hosts, DUAL)
    for host in hosts:
        assert after["nodes"][host]["pod_cidr"] == before["nodes"][host]["pod_cidr"]
    assert registry.subnets() == ["10.244.0.0-24&fd00:10:244::-64", "10.244.1.0-24&fd00:10:244:1::-64",
                                  "10.244.2.0-24&fd00:10:244:2::-64"]
    assert sorted(actions["delete"]) == [P + "/subnets/10.244.%d.0-24" % i for i in range(3)]
    config = json.loads(registry.kvs[P + "/config"]["value"])
    assert config["EnableIPv6"] is True and config["IPv6Network"] == "fd00:10:244::/56"
    # the next run reads both back and writes nothing
    again, actions = registry.run(hosts, DUAL)
    assert again == after and actions == {"put": {}, "delete": [], "kept": []}


def test_ipv6_prefixes_held_in_etcd_are_honoured_without_podnets_ledger():
    # A registry a stock dual-stack flanneld filled (flannel picks prefixes at random): only
    # its config and leases, no ledger of podnet's. Every node keeps both of its subnets.
    config = flannel_config(plan(NODES, DUAL))
    leases = {P + "/subnets/10.244.5.0-24&fd00:10:244:9::-64": {"PublicIP": "192.0.2.1"},
              P + "/subnets/10.244.3.0-24&fd00:10:244:4::-64": {"PublicIP": "192.0.2.2"}}
    registry = Registry(dict(leases, **{P + "/config": config}))
    result, dummy = registry.run(hostvars(3), DUAL)
    assert {h: (n["pod_cidr"], n["pod_cidr_ipv6"]) for h, n in result["nodes"].items()} == {
        "n1": ("10.244.5.0/24", "fd00:10:244:9::/64"), "n2": ("10.244.3.0/24", "fd00:10:244:4::/64"),
        "n3": ("10.244.0.0/24", "fd00:10:244::/64")}
    assert "10.244.5.0-24&fd00:10:244:9::-64" in registry.subnets()


def test_the_network_of_a_dual_stack_config_is_never_renumbered():
    registry = Registry({P + "/config": flannel_config(PLAN)})
    with pytest.raises(Exception, match="cluster_cidr_ipv6: fd00:10:245::/56 differs from the ledger.s fd00:10:244::/56"):
        registry.run(hostvars(1), dict(DUAL, cluster_cidr_ipv6="fd00:10:245::/56"))


def test_registry_pins_keeps_an_inventory_pin_and_pins_ipv6_by_address():
    nodes = {"a": node(1), "b": node(2, pod_cidr_ipv6="fd00:10:244:8::/64")}
    pinned = registry_pins(nodes, {"192.0.2.1": "10.244.5.0/24"},
                           {"192.0.2.1": "fd00:10:244:5::/64", "192.0.2.2": "fd00:10:244:6::/64"})
    assert pinned["a"]["pod_cidr_ipv6"] == "fd00:10:244:5::/64"
    assert pinned["b"]["pod_cidr_ipv6"] == "fd00:10:244:8::/64"
    assert registry_pins(nodes, {}) == nodes


def test_a_live_dual_stack_lease_outside_the_plan_keeps_its_ipv6_prefix_from_every_node():
    # A flanneld podnet does not know holds 10.244.0.0/24 and fd00:10:244::/64 with a TTL:
    # no node gets either, for this run (issue 22's hold, both families).
    registry = Registry({P + "/config": flannel_config(PLAN)})
    stray = P + "/subnets/10.244.0.0-24&fd00:10:244::-64"
    registry.put(stray, json.dumps({"PublicIP": "192.0.2.99", "PublicIPv6": "2001:db8::99",
                                    "BackendType": "vxlan"}), lease=7)
    result, actions = registry.run(hostvars(2), DUAL)
    assert {h: (n["pod_cidr"], n["pod_cidr_ipv6"]) for h, n in result["nodes"].items()} == {
        "n1": ("10.244.1.0/24", "fd00:10:244:1::/64"), "n2": ("10.244.2.0/24", "fd00:10:244:2::/64")}
    assert result["network"]["leased"]["10.244.0.0/24"]["pod_cidr_ipv6"] == "fd00:10:244::/64"
    assert stray in registry.kvs and stray not in actions["delete"]


def test_a_node_kept_on_the_ipv6_prefix_of_a_live_lease_stops_the_plan_naming_both():
    nodes = {"a": node(1, pod_cidr="10.244.1.0/24", pod_cidr_ipv6="fd00:10:244:7::/64")}
    leased = {"10.244.7.0/24": {"address": "192.0.2.99", "pod_cidr_ipv6": "fd00:10:244:7::/64",
                                "key": P + "/subnets/10.244.7.0-24&fd00:10:244:7::-64"}}
    with pytest.raises(PlanError, match=r"10\.244\.7\.0-24&fd00:10:244:7::-64 is leased .* 192\.0\.2\.99.*"
                                        r"fd00:10:244:7::/64 for host a"):
        plan(nodes, dict(DUAL, leased=leased))
    leased["10.244.7.0/24"]["pod_cidr_ipv6"] = "fd00:99::/64"
    with pytest.raises(PlanError, match=r"IPv6 prefix fd00:99::/64 that is not a /64 of the IPv6 cluster"):
        plan(nodes, dict(DUAL, leased=leased))
