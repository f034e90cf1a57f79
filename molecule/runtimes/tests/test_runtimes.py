# SPDX-License-Identifier: GPL-3.0-or-later
"""runtimes scenario: real containers of Docker and CNI on the pod network.

node1 and node2 run Docker on its own docker0 (bip = the node's gateway); node3 runs
podnet's cbr0 with Docker attached to it (upper half of the subnet) and the CNI network
(lower half); node4 is a cbr0 node whose own Docker podnet does not manage. Every node
started with a daemon.json of its own (prepare.yml; a copy of its bytes is in /root).
Tests run in file order: steady state under a FORWARD DROP policy, CNI ADD/DEL, check
mode, restart, reset.
"""

import ipaddress
import json

import pytest
from podnet_containers import CNI_IPAM_DIR, CniPod, Container
from podnet_testlib import assert_run_ok, host, listen, restart, run_playbook, sh
from podnet_fixtures import subnets  # noqa: F401 (fixtures: pytest finds them here)

DOCKER0_NODES = ["podnet-rt-node1", "podnet-rt-node2"]
CBR0_NODE = "podnet-rt-node3"
NODES = DOCKER0_NODES + [CBR0_NODE]
PLAIN_NODE = "podnet-rt-node4"     # podnet without Docker: its Docker is the user's alone
ADDRESSES = {"podnet-rt-node1": "172.30.41.11", "podnet-rt-node2": "172.30.41.12",
             CBR0_NODE: "172.30.41.13"}
DAEMON_JSON = "/etc/docker/daemon.json"
PREPARED = "/root/podnet-test-daemon.json"     # the bytes prepare.yml wrote to DAEMON_JSON
RECORD = "/etc/podnet/docker-daemon.orig.json"
PODNET_KEYS = {"bip", "bridge", "fixed-cidr", "mtu", "ip-masq", "iptables", "storage-driver"}
OUTSIDE = ("podnet-rt-outside", "198.51.100.74")


def sha256(node, path: str) -> str:
    return sh(node, f"sha256sum {path}").split()[0]


def dockerd_run(node) -> str:
    """What changes whenever dockerd restarts: its main PID and when it became active."""
    return sh(node, "systemctl show -p MainPID -p ActiveEnterTimestamp docker.service")


def inside(address: str, cidr: str) -> bool:
    return ipaddress.ip_address(address) in ipaddress.ip_network(cidr)


def upper_half(cidr: str) -> str:
    return str(list(ipaddress.ip_network(cidr).subnets(1))[1])


@pytest.fixture(scope="module")
def forward_drop():
    """Docker's FORWARD DROP policy (kubernetes#40182, flannel#609) on every node, and
    dockerd restarted so its chains are inserted again above podnet's accepts."""
    for name in NODES:
        sh(host(name), "iptables -w -P FORWARD DROP && systemctl restart docker.service")
    yield
    for name in NODES:
        host(name).run("iptables -w -P FORWARD ACCEPT")


@pytest.fixture(scope="module")
def containers(forward_drop):
    made = {name: Container(name, f"podnet-rt-web-{name[-1]}").start() for name in NODES}
    yield made
    for container in made.values():
        container.delete()


def test_each_node_has_its_own_subnet(subnets):
    assert sorted(subnets) == NODES + [PLAIN_NODE]
    assert len(set(subnets.values())) == len(NODES) + 1


def test_docker0_holds_the_gateway_and_no_cbr0(subnets):
    for name in DOCKER0_NODES:
        node = host(name)
        gateway = subnets[name].replace(".0/24", ".1/24")
        # only the gateway: the 172.17.0.1/16 Docker had before podnet came is gone
        assert sh(node, "ip -4 -o addr show dev docker0").split()[3:4] == [gateway]
        assert len(sh(node, "ip -4 -o addr show dev docker0").splitlines()) == 1
        assert node.run("ip link show cbr0").rc != 0
        daemon = json.loads(sh(node, "cat /etc/docker/daemon.json"))
        assert daemon["bip"] == gateway and daemon["ip-masq"] is False
        assert daemon["iptables"] is True and "bridge" not in daemon


def test_daemon_json_keeps_the_users_keys_with_podnets_merged():
    node = host("podnet-rt-node1")
    daemon = json.loads(sh(node, f"cat {DAEMON_JSON}"))
    # the user's keys first, in the user's order, values as the user wrote them
    assert list(daemon)[:2] == ["log-level", "storage-driver"]
    assert daemon["log-level"] == "warn" and daemon["storage-driver"] == "vfs"
    assert set(daemon) - PODNET_KEYS == {"log-level"}
    assert daemon["ip-masq"] is False and "mtu" in daemon and "bip" in daemon
    record = json.loads(sh(node, f"cat {RECORD}"))
    assert record["original_mode"] == "0644"
    assert record["written_sha256"] == sha256(node, DAEMON_JSON)
    assert sh(node, f"stat -c %a {RECORD}").strip() == "600"


def test_daemon_json_of_a_node_without_podnets_docker_is_untouched():
    node = host(PLAIN_NODE)
    assert sha256(node, DAEMON_JSON) == sha256(node, PREPARED)
    assert node.run(f"test -e {RECORD}").rc != 0
    assert sh(node, "systemctl is-active docker.service").strip() == "active"


def test_docker_on_cbr0_shares_the_subnet_with_cni(subnets):
    node = host(CBR0_NODE)
    cidr = subnets[CBR0_NODE]
    assert node.run("ip link show docker0").rc != 0, "a stale docker0 was left behind"
    assert cidr.replace(".0/24", ".1/24") in sh(node, "ip -4 -o addr show dev cbr0")
    network = json.loads(sh(node, "docker network inspect bridge"))[0]
    assert network["Options"]["com.docker.network.bridge.name"] == "cbr0"
    assert network["IPAM"]["Config"][0]["IPRange"] == upper_half(cidr)
    conf = json.loads(sh(node, "cat /etc/cni/net.d/10-podnet.conflist"))
    bridge, portmap = conf["plugins"]
    assert (bridge["type"], bridge["bridge"], portmap["type"]) == ("bridge", "cbr0", "portmap")
    assert bridge["isGateway"] is True and bridge["ipMasq"] is False and bridge["hairpinMode"]
    ipam = bridge["ipam"]["ranges"][0][0]
    assert ipam["subnet"] == cidr and ipam["gateway"] == cidr.replace(".0/24", ".1")
    assert not inside(ipam["rangeEnd"], upper_half(cidr))


def test_podnet_accepts_survive_dockers_chains(forward_drop, subnets):
    for name in NODES:
        rules = sh(host(name), "iptables -w -S FORWARD")
        assert "-P FORWARD DROP" in rules
        assert "-A FORWARD -j DOCKER-USER" in rules
        assert "-s 10.244.0.0/16 -m comment --comment podnet -j ACCEPT" in rules
        assert "-d 10.244.0.0/16 -m comment --comment podnet -j ACCEPT" in rules


def test_containers_take_addresses_from_their_nodes_subnet(containers, subnets):
    for name in DOCKER0_NODES:
        assert inside(containers[name].address, subnets[name])
    assert inside(containers[CBR0_NODE].address, upper_half(subnets[CBR0_NODE]))


@pytest.mark.parametrize("src", NODES)
@pytest.mark.parametrize("dst", NODES)
def test_container_to_container_keeps_the_source_address(containers, src, dst):
    if src == dst:
        pytest.skip("same container")
    assert containers[src].source_seen_by(containers[dst].address) == containers[src].address


def test_container_to_outside_is_masqueraded_by_podnet_only(containers):
    listen(host(OUTSIDE[0]))
    for name in NODES:
        assert containers[name].source_seen_by_echo(OUTSIDE[1]) == ADDRESSES[name]
        # Docker's own masquerade is off: the only one is podnet's nftables rule
        assert "MASQUERADE" not in sh(host(name), "iptables -w -t nat -S POSTROUTING")


def test_an_operators_docker_user_drop_still_drops(containers):
    """podnet's FORWARD accepts sit below Docker's jump to DOCKER-USER, so the operator's
    rules there still decide. They used to be inserted at position 1 whenever podnet
    (re)added them on a node whose Docker was already running: above the jump."""
    node, peer = DOCKER0_NODES
    target = host(node)
    for rule in ("-s", "-d"):
        sh(target, f"iptables -w -D FORWARD {rule} 10.244.0.0/16 -m comment --comment podnet -j ACCEPT")
    assert_run_ok(run_playbook("site.yml"))
    rules = [line for line in sh(target, "iptables -w -S FORWARD").splitlines() if line.startswith("-A")]
    assert rules[0] == "-A FORWARD -j DOCKER-USER", rules
    drop = f"DOCKER-USER -s {containers[peer].address} -d {containers[node].address} -j DROP"
    sh(target, f"iptables -w -I {drop}")
    try:
        assert not containers[peer].source_seen_by(containers[node].address).startswith("10."), \
            "the operator's DOCKER-USER drop did not drop"
    finally:
        sh(target, f"iptables -w -D {drop}")
    assert containers[peer].source_seen_by(containers[node].address) == containers[peer].address


def test_cni_pod_reaches_docker_containers_and_del_releases_its_address(containers, subnets):
    pod = CniPod(CBR0_NODE).add()
    try:
        cidr = subnets[CBR0_NODE]
        assert inside(pod.address, cidr) and not inside(pod.address, upper_half(cidr))
        assert pod.result["ips"][0]["gateway"] == cidr.replace(".0/24", ".1")
        assert host(CBR0_NODE).run(f"test -f {CNI_IPAM_DIR}/{pod.address}").rc == 0
        for name in NODES:
            assert pod.source_seen_by(containers[name].address) == pod.address, name
        listen(pod.host, pod.name)
        for name in NODES:
            assert containers[name].source_seen_by_echo(pod.address) == \
                containers[name].address, name
    finally:
        pod.delete()
    assert host(CBR0_NODE).run(f"test -e {CNI_IPAM_DIR}/{pod.address}").rc != 0
    assert host(CBR0_NODE).run(f"ip netns exec {pod.name} true").rc != 0


def test_check_mode_on_a_converged_fleet_changes_nothing():
    assert_run_ok(run_playbook("site.yml", "--check"), changed=0)


def test_restart_brings_docker_back_on_cbr0(containers, subnets):
    restart(CBR0_NODE)
    node = host(CBR0_NODE)
    for dummy in range(30):
        if node.run("docker info >/dev/null 2>&1").rc == 0:
            break
        sh(node, "sleep 1")
    assert node.run("ip link show docker0").rc != 0
    network = json.loads(sh(node, "docker network inspect bridge"))[0]
    assert network["Options"]["com.docker.network.bridge.name"] == "cbr0"
    fresh = Container(CBR0_NODE, "podnet-rt-web-fresh").start()
    try:
        assert inside(fresh.address, upper_half(subnets[CBR0_NODE]))
        other = containers["podnet-rt-node1"]
        assert other.source_seen_by(fresh.address) == other.address
        assert fresh.source_seen_by(other.address) == fresh.address
    finally:
        fresh.delete()


@pytest.fixture(scope="module")
def reset():
    """The one reset run. Before it: node2's user adds a key of their own to the
    daemon.json podnet wrote, and node4's dockerd run is noted."""
    edit = ("import json; p = '%s'; d = json.load(open(p)); d['max-concurrent-downloads'] = 2; "
            "open(p, 'w').write(json.dumps(d))" % DAEMON_JSON)
    sh(host("podnet-rt-node2"), f'python3 -c "{edit}"')
    plain_before = dockerd_run(host(PLAIN_NODE))
    result = run_playbook("reset.yml")
    assert_run_ok(result)
    return {"result": result, "plain_dockerd": plain_before}


def test_reset_removes_podnet_from_docker_and_cni(reset):
    for name in NODES:
        node = host(name)
        assert node.run(f"test -e {RECORD}").rc != 0, name
        assert node.run("test -e /etc/cni/net.d/10-podnet.conflist").rc != 0, name
        assert node.run("ip link show cbr0").rc != 0, name
        assert sh(node, "systemctl is-active docker.service").strip() == "active", name
        # what the runtime roles wrote (the other roles' reset is host-gw's to prove)
        leftovers = node.run("find /etc/docker /etc/systemd/system/docker.service.d /etc/cni "
                             "/var/lib/cni -name '*podnet*' 2>/dev/null")
        assert leftovers.stdout.strip() == "", f"{name}: {leftovers.stdout}"
    # The emptied configuration directory stays: containerd watches it, and stops
    # reloading CNI configuration when it is removed (reset used to remove it).
    assert host(CBR0_NODE).run("test -d /etc/cni/net.d").rc == 0


@pytest.mark.parametrize("name", ["podnet-rt-node1", CBR0_NODE])
def test_reset_gives_daemon_json_back_byte_for_byte(reset, name):
    node = host(name)
    assert sha256(node, DAEMON_JSON) == sha256(node, PREPARED)
    assert sh(node, f"stat -c %a {DAEMON_JSON}").strip() == "644"


def test_reset_keeps_what_the_user_changed_since_podnet_wrote(reset):
    daemon = json.loads(sh(host("podnet-rt-node2"), f"cat {DAEMON_JSON}"))
    assert daemon == {"storage-driver": "vfs", "max-concurrent-downloads": 2}


def test_reset_leaves_docker_alone_where_podnet_never_managed_it(reset):
    node = host(PLAIN_NODE)
    assert sha256(node, DAEMON_JSON) == sha256(node, PREPARED)
    assert dockerd_run(node) == reset["plain_dockerd"], "reset restarted dockerd"
    assert sh(node, "systemctl is-active docker.service").strip() == "active"
