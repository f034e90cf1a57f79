# SPDX-License-Identifier: GPL-3.0-or-later
"""host-gw scenario: three nodes on one segment, proven from inside real pods.

The tests run in file order and walk the fleet's life: steady state, check mode,
restart, a node down during a run, scale out, scale in, reset. Each later test relies on
the earlier ones.
"""

from pathlib import Path

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig

import pytest
from podnet_testlib import (ARTIFACTS, INVENTORY, PROJECT, RECAP, Pod, assert_run_ok, connect, host,
                            ledger, listen, png_colours, podnet_routes, render_page, restart,
                            run_playbook, sh)
from podnet_fixtures import pods, subnets  # noqa: F401 (fixtures: pytest finds them here)

NODES = ["podnet-hg-node1", "podnet-hg-node2", "podnet-hg-node3"]
SPARE = "podnet-hg-node4"
ADDRESSES = {"podnet-hg-node1": "172.30.10.11", "podnet-hg-node2": "172.30.10.12",
             "podnet-hg-node3": "172.30.10.13", SPARE: "172.30.10.14"}
OUTSIDE = ("podnet-hg-outside", "198.51.100.10")
SPARE_INVENTORY = Path(__file__).resolve().parent / "spare-inventory.yml"


def test_ledger_gives_every_node_its_own_subnet(subnets):
    assert sorted(subnets) == NODES
    assert len(set(subnets.values())) == len(NODES)
    assert all(cidr.startswith("10.244.") and cidr.endswith("/24") for cidr in subnets.values())


def test_bridge_holds_the_gateway_address(subnets):
    for name in NODES:
        gateway = subnets[name].replace(".0/24", ".1/24")
        assert gateway in sh(host(name), "ip -4 -o addr show dev cbr0")


def test_routes_are_host_gw_and_tagged(subnets):
    for name in NODES:
        expected = {subnets[p]: ADDRESSES[p] for p in NODES if p != name}
        assert podnet_routes(host(name)) == expected


def test_the_vxlan_port_is_guarded_without_vxlan_peers():
    # host-gw only: no node has a VXLAN peer, yet a flanneld may listen on the port.
    for name in NODES:
        rules = sh(host(name), "nft list table inet podnet")
        assert 'udp dport 8472 counter name "vxlan_rejected" drop' in rules, name


@pytest.mark.parametrize("src", NODES)
@pytest.mark.parametrize("dst", NODES)
def test_pod_to_pod_keeps_the_source_address(pods, src, dst):
    if src == dst:
        pytest.skip("same pod")
    assert pods[src].source_seen_by(pods[dst].address) == pods[src].address


def test_node_to_pod(pods):
    for name in NODES:
        for other in NODES:
            if other != name:
                assert host(name).run(f"ping -q -c1 -W2 {pods[other].address}").rc == 0, \
                    f"{name} cannot reach the pod on {other}"


def test_pod_to_node_is_not_masqueraded(pods):
    listen(host("podnet-hg-node2"))
    assert pods["podnet-hg-node1"].source_seen_by(ADDRESSES["podnet-hg-node2"]) == \
        pods["podnet-hg-node1"].address


def test_pod_to_outside_is_masqueraded_to_the_node(pods):
    listen(host(OUTSIDE[0]))
    for name in NODES:
        assert pods[name].source_seen_by(OUTSIDE[1]) == ADDRESSES[name]


def forward_rejected(target) -> int:
    listing = sh(target, "nft list counter inet podnet forward_rejected")
    return int(re.search(r"packets (\d+)", listing).group(1))


def test_a_neighbour_cannot_route_through_a_node_to_its_pods(pods, subnets):
    """The cluster is no transit network: the router, a neighbour on the underlay, sends
    the outside host's traffic for node1's pod subnet to node1, which drops and counts it.
    The forward chain used to accept anything towards the cluster CIDR."""
    router, name = host("podnet-hg-router"), "podnet-hg-node1"
    route = f"{subnets[name]} via {ADDRESSES[name]}"
    # the path itself works: the outside host reaches node1 through the router
    assert host(OUTSIDE[0]).run(f"ping -q -c1 -W2 {ADDRESSES[name]}").rc == 0
    before = forward_rejected(host(name))
    sh(router, f"ip route replace {route}")
    try:
        assert host(OUTSIDE[0]).run(f"ping -q -c2 -W1 {pods[name].address}").rc != 0, \
            "the outside host reached a pod through node1"
    finally:
        sh(router, f"ip route del {route}")
    assert forward_rejected(host(name)) >= before + 2


def test_check_mode_on_a_converged_fleet_changes_nothing():
    assert_run_ok(run_playbook("site.yml", "--check"), changed=0)


def test_the_built_collection_installed_elsewhere_runs_the_fleet(tmp_path):
    """What Ansible users do: build podnet.network, install it with ansible-galaxy, and run
    its playbooks by FQCN from a directory that holds only their inventory (a copy of this
    scenario's, ledger included), nothing of the checkout on any path."""
    bindir = Path(sys.executable).parent
    dist, installed, inventory = tmp_path / "dist", tmp_path / "collections", tmp_path / "inventory"
    subprocess.run([str(bindir / "ansible-galaxy"), "collection", "build", "--output-path", str(dist),
                    str(PROJECT)], check=True, capture_output=True)
    tarball = next(dist.glob("podnet-network-*.tar.gz"))
    # --force: ansible-galaxy would see the checkout's copy (on this venv's path) and skip it.
    subprocess.run([str(bindir / "ansible-galaxy"), "collection", "install", "--force", "--no-deps", "-p",
                    str(installed), str(tarball)], check=True, capture_output=True)
    shutil.copytree(Path(INVENTORY).parent, inventory)
    # Collections from the install path and from the `ansible` package only: this venv's
    # Python path also leads to the checkout's collection (scripts/setup.sh), not scanned.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([str(installed), sysconfig.get_paths()["purelib"]]),
               ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="False", ANSIBLE_NOCOLOR="1", ANSIBLE_FORKS="20",
               ANSIBLE_PIPELINING="True", ANSIBLE_INTERPRETER_PYTHON="auto_silent")
    for playbook in ("podnet.network.site", "podnet.network.verify"):
        done = subprocess.run([str(bindir / "ansible-playbook"), "-vvv", "-i", str(inventory), playbook],
                              cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=900,
                              check=False)
        tail = "\n".join(done.stdout.splitlines()[-40:]) + done.stderr[-2000:]
        assert done.returncode == 0, tail
        # every podnet module came from the installed copy, none from the checkout
        used = set(re.findall(r"Using module file (\S+)", done.stdout))
        ours = {path for path in used if "/ansible_collections/podnet/network/" in path}
        assert ours and all(path.startswith(str(installed)) for path in ours), used
        if playbook.endswith("site"):
            recap = {m["host"]: int(m["changed"]) for m in RECAP.finditer(done.stdout)}
            assert recap and all(recap[name] == 0 for name in NODES), recap


def test_check_mode_reports_drift_without_repairing_it(subnets):
    node = host("podnet-hg-node3")
    peer = subnets["podnet-hg-node1"]
    sh(node, f"ip route del {peer}")
    result = run_playbook("site.yml", "--check", "--limit", "localhost,podnet-hg-node3")
    assert_run_ok(result)
    assert result["recap"]["podnet-hg-node3"]["changed"] >= 1
    assert peer not in podnet_routes(node)
    assert_run_ok(run_playbook("site.yml", "--limit", "localhost,podnet-hg-node3"))
    assert peer in podnet_routes(node)


REPORT = Path(INVENTORY).parent / ".podnet-report"
FAIL_RED = (0xD6, 0x28, 0x28)


def _red_pixels(colours):
    return sum(n for (r, g, b), n in colours.items()
               if abs(r - FAIL_RED[0]) < 24 and abs(g - FAIL_RED[1]) < 24 and abs(b - FAIL_RED[2]) < 24)


def _failed_edges(dom):
    edges = re.findall(r'<path class="edge ([a-z-]+)( fail)?" data-a="([^"]+)" data-b="([^"]+)"', dom)
    assert edges, "the report draws no edge"
    return {(a, b) for dummy, fail, a, b in edges if fail}


def test_verify_draws_the_fleet_and_turns_a_broken_pair_red(subnets):
    assert_run_ok(run_playbook("verify.yml"))
    document = json.loads((REPORT / "report.json").read_text())
    assert document["summary"] == {"nodes": 3, "pairs": 6, "failed": 0, "ok": True}
    dom = render_page(REPORT / "index.html", ARTIFACTS / "report-host-gw.png")
    for name in NODES:
        assert f'data-host="{name}"' in dom and subnets[name] in dom, name
    assert "zone lab" in dom and "all 3 nodes reach each other" in dom
    assert not _failed_edges(dom)
    colours = png_colours(ARTIFACTS / "report-host-gw.png")
    assert len(colours) > 50 and max(colours.values()) < 0.97 * sum(colours.values())  # not blank
    assert _red_pixels(colours) < 50
    broken = "podnet-hg-node3"
    sh(host(broken), "ip link set cbr0 down")
    try:
        result = run_playbook("verify.yml")
        assert result["rc"] != 0  # verify fails the run, and still writes the report
        dom = render_page(REPORT / "index.html", ARTIFACTS / "report-host-gw-broken.png")
    finally:
        sh(host(broken), "ip link set cbr0 up")
    assert _failed_edges(dom) == {tuple(sorted((broken, other))) for other in NODES if other != broken}
    assert "FAILED" in dom
    assert _red_pixels(png_colours(ARTIFACTS / "report-host-gw-broken.png")) > 200
    assert_run_ok(run_playbook("site.yml", "--limit", f"localhost,{broken}"), changed=0)


def test_restart_restores_everything(subnets):
    name = "podnet-hg-node2"
    restart(name)
    node = host(name)
    assert sh(node, "sysctl -n net.ipv4.ip_forward").strip() == "1"
    assert subnets[name].replace(".0/24", ".1/24") in sh(node, "ip -4 -o addr show dev cbr0")
    assert podnet_routes(node) == {subnets[p]: ADDRESSES[p] for p in NODES if p != name}
    assert node.run("nft list table inet podnet").rc == 0
    assert "podnet" not in sh(node, "systemctl --failed --no-legend")
    # pods do not survive a reboot; a new one on the restarted node is reachable again
    fresh = Pod(name, subnets[name], index=20).create()
    fresh.listen()
    try:
        other = Pod("podnet-hg-node1", subnets["podnet-hg-node1"], index=21).create()
        assert other.source_seen_by(fresh.address) == other.address
        assert fresh.source_seen_by(OUTSIDE[1]) == ADDRESSES[name]
        other.delete()
    finally:
        fresh.delete()


def test_a_node_down_during_a_run_changes_nothing_about_it(subnets):
    down = "podnet-hg-node3"
    before = ledger()["nodes"][down]
    routes = {name: podnet_routes(host(name)) for name in NODES if name != down}
    subprocess.run(["docker", "stop", "-t", "5", down], check=True, capture_output=True)
    try:
        result = run_playbook("site.yml")
        assert result["rc"] != 0  # the run says so: one node could not be configured
        for name, seen in routes.items():
            assert result["recap"][name]["failed"] == 0 and result["recap"][name]["changed"] == 0
            assert podnet_routes(host(name)) == seen, name
        assert ledger()["nodes"][down] == before
    finally:
        restart(down, action="start")
    assert podnet_routes(host(down)) == {subnets[p]: ADDRESSES[p] for p in NODES if p != down}


def test_adding_a_node_moves_nobody(subnets):
    assert_run_ok(run_playbook("site.yml", inventories=(SPARE_INVENTORY,)))
    after = {name: node["pod_cidr"] for name, node in ledger()["nodes"].items()}
    assert {n: after[n] for n in NODES} == subnets
    assert after[SPARE] not in subnets.values()
    for name in NODES:
        assert podnet_routes(host(name))[after[SPARE]] == ADDRESSES[SPARE]
    newcomer = Pod(SPARE, after[SPARE], index=30).create()
    newcomer.listen()
    try:
        veteran = Pod("podnet-hg-node1", subnets["podnet-hg-node1"], index=31).create()
        assert veteran.source_seen_by(newcomer.address) == veteran.address
        veteran.delete()
    finally:
        newcomer.delete()


def test_removing_a_node_purges_its_routes_everywhere(subnets):
    spare_subnet = ledger()["nodes"][SPARE]["pod_cidr"]
    assert_run_ok(run_playbook("site.yml"))
    for name in NODES:
        assert spare_subnet not in podnet_routes(host(name))
    # It was not reset: it still holds its subnet, which nobody else may take.
    entry = ledger()["nodes"][SPARE]
    assert entry["state"] == "released-pending" and entry["pod_cidr"] == spare_subnet
    assert_run_ok(run_playbook("reset.yml", "--limit", SPARE, inventories=(SPARE_INVENTORY,)))
    assert ledger()["nodes"][SPARE].get("reset") is True
    # Reset and out of the inventory: the next run frees its subnet.
    assert_run_ok(run_playbook("plan.yml"))
    assert SPARE not in ledger()["nodes"]


def test_reset_leaves_nothing_of_podnet():
    assert_run_ok(run_playbook("reset.yml"))
    for name in NODES + [SPARE]:
        node = host(name)
        assert node.run("ip link show cbr0").rc != 0, name
        assert podnet_routes(node) == {}, name
        assert node.run("nft list table inet podnet").rc != 0, name
        # A bare node has no iptables at all (podnet never installs it): nothing to find then.
        assert "podnet" not in node.run("iptables -S FORWARD 2>/dev/null").stdout, name
        leftovers = node.run(
            "find /etc /usr/local -name '*podnet*' ! -path '/usr/local/sbin/podnet-test-echo'")
        assert leftovers.stdout.strip() == "", f"{name}: {leftovers.stdout}"
