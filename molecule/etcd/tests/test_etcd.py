"""etcd scenario: podnet's registry is a TLS etcd cluster, in flannel's schema.

The tests run in file order and walk the cluster's life: steady state, check mode, a
member down (quorum), its return, a new member, a member reinstalled without its data.
"""

import base64
import json
import subprocess
import time
from pathlib import Path

import pytest
from podnet_testlib import Pod, assert_run_ok, host, run_playbook, sh

NODES = ["podnet-et-node1", "podnet-et-node2", "podnet-et-node3"]
SPARE = "podnet-et-node4"
ADDRESSES = {"podnet-et-node1": "172.30.51.11", "podnet-et-node2": "172.30.51.12",
             "podnet-et-node3": "172.30.51.13", SPARE: "172.30.51.14"}
PREFIX = "/coreos.com/network"
PKI = "/etc/etcd/podnet-pki"
CTL = "set -a; . /etc/etcd/podnet-etcdctl.env; set +a; etcdctl"
SPARE_INVENTORY = Path(__file__).resolve().parent / "spare-inventory.yml"


def etcdctl(name, args, check=True):
    command = f"{CTL} {args}"
    return sh(host(name), command) if check else host(name).run(command)


def registry(name="podnet-et-node1"):
    """{key: (value, lease)} under the prefix, read with the client certificate."""
    answer = json.loads(etcdctl(name, f"get --prefix {PREFIX}/ -w json"))
    return {base64.b64decode(kv["key"]).decode(): (json.loads(base64.b64decode(kv["value"])),
                                                    int(kv.get("lease", 0)))
            for kv in answer.get("kvs", [])}


def leases(name="podnet-et-node1"):
    """{PublicIP: pod_cidr} of the flannel leases."""
    return {value["PublicIP"]: key.rsplit("/", 1)[1].replace("-", "/")
            for key, (value, _) in registry(name).items() if key.startswith(f"{PREFIX}/subnets/")}


def members(name="podnet-et-node1"):
    return sorted(m.get("name", "") for m in
                  json.loads(etcdctl(name, "member list -w json"))["members"])


def wait_healthy(name, count, timeout=90):
    deadline = time.monotonic() + timeout
    result = None
    while time.monotonic() < deadline:
        result = etcdctl(name, "endpoint health --cluster -w json", check=False)
        if result.rc == 0 and sum(e["health"] for e in json.loads(result.stdout)) == count:
            return
        time.sleep(2)
    raise AssertionError(f"cluster not healthy with {count} members: {result.stdout} {result.stderr}")


def fact(name):
    return json.loads(sh(host(name), "cat /etc/ansible/facts.d/podnet.fact"))


@pytest.fixture(scope="module")
def subnets():
    return {name: fact(name)["pod_cidr"] for name in NODES}


def test_cluster_is_healthy():
    assert members() == NODES
    wait_healthy("podnet-et-node1", 3)
    for name in NODES:
        assert sh(host(name), "systemctl is-enabled etcd").strip() == "enabled"


def test_anonymous_client_is_refused():
    node = host("podnet-et-node1")
    base = f"ETCDCTL_API=3 etcdctl --dial-timeout=3s --command-timeout=5s --endpoints=https://{ADDRESSES['podnet-et-node1']}:2379"
    anonymous = node.run(f"{base} --cacert={PKI}/ca.crt get --prefix /")
    assert anonymous.rc != 0
    assert "bad certificate" in anonymous.stderr or "certificate required" in anonymous.stderr \
        or "deadline" in anonymous.stderr, anonymous.stderr
    plain = node.run(f"ETCDCTL_API=3 etcdctl --dial-timeout=3s --command-timeout=5s "
                     f"--endpoints=http://{ADDRESSES['podnet-et-node1']}:2379 get --prefix /")
    assert plain.rc != 0
    # the same call with the client certificate succeeds
    assert node.run(f"{base} --cacert={PKI}/ca.crt --cert={PKI}/client.crt "
                    f"--key={PKI}/client.key get --prefix / --keys-only").rc == 0


def test_private_keys_are_private():
    for name in NODES:
        node = host(name)
        for key, owner in (("peer.key", "etcd"), ("server.key", "etcd"), ("client.key", "root")):
            f = node.file(f"{PKI}/{key}")
            assert f.mode == 0o600 and f.user == owner, f"{name} {key}"


def test_leases_are_flannels_and_equal_the_plan(subnets):
    kv = registry()
    config = kv[f"{PREFIX}/config"][0]
    assert config["Network"] == "10.244.0.0/16" and config["SubnetLen"] == 24
    assert config["Backend"]["Type"] == "vxlan" and config["Backend"]["VNI"] == 1
    held = {k: v for k, v in kv.items() if k.startswith(f"{PREFIX}/subnets/")}
    assert len(held) == len(NODES)
    for key, (value, lease) in held.items():
        assert lease == 0, f"{key} carries a TTL lease"
        assert value["BackendType"] == "vxlan"
        assert value["BackendData"]["VNI"] == 1
        assert value["BackendData"]["VtepMAC"].startswith("0a:")
    assert leases() == {ADDRESSES[n]: subnets[n] for n in NODES}
    assert len(set(subnets.values())) == len(NODES)
    ledger = kv[f"{PREFIX}/podnet/ledger"][0]
    assert {h: n["pod_cidr"] for h, n in ledger["nodes"].items()} == subnets
    # every member sees the same registry
    assert all(leases(n) == leases() for n in NODES[1:])


def test_subnet_env_is_flannels(subnets):
    for name in NODES:
        text = sh(host(name), "cat /run/flannel/subnet.env")
        env = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
        assert env == {"FLANNEL_NETWORK": "10.244.0.0/16",
                       "FLANNEL_SUBNET": subnets[name].replace(".0/24", ".1/24"),
                       "FLANNEL_MTU": "1500", "FLANNEL_IPMASQ": "false"}, name
        assert host(name).file("/etc/tmpfiles.d/podnet-flannel-env.conf").exists


@pytest.mark.parametrize("src,dst", [("podnet-et-node1", "podnet-et-node2"),
                                     ("podnet-et-node2", "podnet-et-node3"),
                                     ("podnet-et-node3", "podnet-et-node1")])
def test_pod_to_pod_across_hosts(subnets, src, dst):
    server = Pod(dst, subnets[dst], index=10).create()
    server.listen()
    client = Pod(src, subnets[src], index=11).create()
    try:
        assert client.source_seen_by(server.address) == client.address
    finally:
        client.delete()
        server.delete()


def test_check_mode_on_a_converged_fleet_changes_nothing():
    assert_run_ok(run_playbook("site.yml", "--check"), changed=0)


def test_a_member_down_keeps_quorum_and_site_still_runs(subnets):
    before = leases()
    subprocess.run(["docker", "stop", "-t", "5", "podnet-et-node3"], check=True, capture_output=True)
    etcdctl("podnet-et-node1", "put /podnet-test/quorum yes")
    assert etcdctl("podnet-et-node2", "get /podnet-test/quorum --print-value-only").strip() == "yes"
    result = run_playbook("site.yml")
    recap = result["recap"]
    tail = "\n".join(result["output"].splitlines()[-40:])
    # docker exec into a stopped container reports the host failed (SSH: unreachable)
    assert recap["podnet-et-node3"]["unreachable"] + recap["podnet-et-node3"]["failed"] >= 1, tail
    for name in ("localhost", "podnet-et-node1", "podnet-et-node2"):
        assert recap[name]["failed"] == 0 and recap[name]["unreachable"] == 0, tail
    assert leases() == before  # the absent host keeps its subnet


def test_the_member_rejoins_after_a_restart(subnets):
    subprocess.run(["docker", "start", "podnet-et-node3"], check=True, capture_output=True)
    node = host("podnet-et-node3")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if node.run("systemctl is-system-running").stdout.strip() in ("running", "degraded"):
            break
        time.sleep(1)
    wait_healthy("podnet-et-node1", 3)
    assert etcdctl("podnet-et-node3", "get /podnet-test/quorum --print-value-only").strip() == "yes"
    # /run is a tmpfs: tmpfiles.d recreated the subnet file at boot
    assert subnets["podnet-et-node3"].replace(".0/24", ".1/24") in sh(node, "cat /run/flannel/subnet.env")


def test_adding_a_member_and_node(subnets):
    assert_run_ok(run_playbook("site.yml", inventories=(SPARE_INVENTORY,)))
    assert members() == NODES + [SPARE]
    wait_healthy("podnet-et-node1", 4)
    held = leases()
    assert {ADDRESSES[n]: subnets[n] for n in NODES}.items() <= held.items()
    assert held[ADDRESSES[SPARE]] not in subnets.values()
    assert etcdctl(SPARE, "get /podnet-test/quorum --print-value-only").strip() == "yes"


def test_a_reinstalled_member_keeps_the_clusters_data():
    spare = host(SPARE)
    sh(spare, "systemctl stop etcd && rm -rf /var/lib/etcd/podnet")
    assert_run_ok(run_playbook("site.yml", inventories=(SPARE_INVENTORY,)))
    wait_healthy("podnet-et-node1", 4)
    assert members() == NODES + [SPARE]
    assert etcdctl(SPARE, "get /podnet-test/quorum --print-value-only").strip() == "yes"
    assert ADDRESSES[SPARE] in leases(SPARE)


def test_removing_the_node_deletes_its_lease():
    # the spare stays an etcd member, but is no podnet node any more
    spare_lease = leases()[ADDRESSES[SPARE]]
    inventory = Path(__file__).resolve().parent / "spare-member-only.yml"
    assert_run_ok(run_playbook("site.yml", inventories=(inventory,)))
    held = leases()
    assert ADDRESSES[SPARE] not in held and spare_lease not in held.values()
    etcdctl("podnet-et-node1", "del /podnet-test/quorum")
