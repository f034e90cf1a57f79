# SPDX-License-Identifier: GPL-3.0-or-later
"""bgp scenario: one routed zone, two racks (L3 subnets) behind a top-of-rack router that
runs BIRD 2 with the neighbour blocks podnet generated; every node speaks eBGP to it.

The tests run in file order: sessions, routes learned (BIRD's protocol, never podnet's),
pods across racks with their sources kept and no overlay on the wire, path MTU 1500 with DF,
verify.yml's sessions, a lost node withdrawn within the BFD interval, a rogue announcement
refused, restart and a re-run changing nothing. Later tests rely on earlier ones.
"""

import ipaddress
import re
import subprocess
import time
from pathlib import Path

from podnet_testlib import INVENTORY, Pod, assert_run_ok, host, ledger, restart, run_playbook, sh
from podnet_fixtures import pods, subnets  # noqa: F401 (fixtures: pytest finds them here)

RACKS = {"podnet-bg-a1": 1, "podnet-bg-a2": 1, "podnet-bg-b1": 2}
NODES = sorted(RACKS)
ADDRESSES = {"podnet-bg-a1": "172.30.81.11", "podnet-bg-a2": "172.30.81.12", "podnet-bg-b1": "172.30.82.11"}
ROUTER = "podnet-bg-router"
ROUTER_LEGS = {1: "172.30.81.254", 2: "172.30.82.254"}
ROUTER_ASN = 4260000000
ASN_BASE = 4200000000         # podnet_plan_bgp_asn_base's default
BIRD_PROTOCOL = "bird"        # BIRD's kernel route protocol (12)
BFD_WINDOW = 0.6              # podnet_plan_bgp_bfd_interval_ms (200, molecule.yml) x bfd_multiplier (3)


def birdc(name: str, command: str) -> str:
    return sh(host(name), f"birdc {command}")


def bgp_sessions(name: str) -> dict:
    """{protocol: (state, info)} of the BGP protocols `birdc show protocols` lists."""
    sessions = {}
    for line in birdc(name, "show protocols").splitlines():
        words = line.split(None, 5)
        if len(words) >= 4 and words[1] == "BGP":
            sessions[words[0]] = (words[3], words[5].strip() if len(words) > 5 else "")
    return sessions


def wait_for(check, timeout: float, what: str, step: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        time.sleep(step)


def established(name: str, count: int) -> bool:
    sessions = bgp_sessions(name)
    return len(sessions) == count and all(s == ("up", "Established") for s in sessions.values())


def kernel_routes(name: str, protocol: str = BIRD_PROTOCOL) -> dict:
    """{destination: gateway} of the node's routes of PROTOCOL."""
    routes = {}
    for line in sh(host(name), f"ip -4 route show proto {protocol}").splitlines():
        words = line.split()
        if words:
            routes[words[0]] = words[words.index("via") + 1] if "via" in words else None
    return routes


def test_every_node_has_one_established_session_to_its_racks_router():
    for name in NODES:
        wait_for(lambda n=name: established(n, 1), 60, f"{name}'s session")
        text = sh(host(name), "cat /etc/bird/bird.conf")
        assert f"neighbor {ROUTER_LEGS[RACKS[name]]} as {ROUTER_ASN};" in text
        assert "min rx interval 200 ms;" in text  # the inventory's BFD interval reached BIRD
    # the router has exactly one session per node, from podnet's generated blocks
    wait_for(lambda: established(ROUTER, 3), 60, "the router's sessions")
    assert sorted(bgp_sessions(ROUTER)) == ["podnet_node_" + n.replace("-", "_") for n in NODES]
    assert sh(host("podnet-bg-a1"), "systemctl is-enabled bird").strip() == "enabled"


def test_asns_are_one_private_asn_per_node_from_its_pod_subnet(subnets):
    for name in NODES:
        index = (int(ipaddress.ip_network(subnets[name]).network_address)
                 - int(ipaddress.ip_network("10.244.0.0/16").network_address)) >> 8
        assert f"local as {ASN_BASE + index};" in sh(host(name), "cat /etc/bird/bird.conf")


def test_routes_are_learned_by_bird_and_none_are_podnets(subnets):
    for name in NODES:
        others = {subnets[n] for n in NODES if n != name}
        routes = wait_for(lambda n=name, o=others: (lambda r: r if set(r) == o else None)(kernel_routes(n)),
                          30, f"{name}'s BGP routes")
        # the other rack is reached through the router; nothing podnet-tagged, no overlay
        for other in NODES:
            if other != name and RACKS[other] != RACKS[name]:
                assert routes[subnets[other]] == ROUTER_LEGS[RACKS[name]]
        assert kernel_routes(name, "191") == {}
        links = sh(host(name), "ip -o link show").split("\n")
        assert not [line for line in links if "flannel" in line or "vxlan" in line or "wg" in line.split(":")[1]]
    router = kernel_routes(ROUTER)
    assert router == {subnets[n]: ADDRESSES[n] for n in NODES}


def test_pods_reach_pods_across_racks_with_their_source_and_no_overlay_on_the_wire(pods):
    router = host(ROUTER)
    capture = subprocess.Popen(  # pylint: disable=consider-using-with
        ["docker", "exec", ROUTER, "timeout", "20", "tcpdump", "-l", "-n", "-i", "any", "-c", "400",
         "udp port 8472 or udp port 51820 or tcp port 7777"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        time.sleep(1.5)
        for src in NODES:
            for dst in NODES:
                if src != dst:
                    seen = pods[src].source_seen_by(pods[dst].address)
                    assert seen == pods[src].address, f"{src} -> {dst}: {seen}"
    finally:
        time.sleep(1)
        router.run("pkill -INT -x tcpdump")
        out = capture.communicate(timeout=30)[0]
    lines = out.splitlines()
    assert not [line for line in lines if ".8472" in line or ".51820" in line], "\n".join(lines[:20])
    # the pods' own addresses crossed the router, unencapsulated
    crossing = [line for line in lines if pods["podnet-bg-a1"].address in line and pods["podnet-bg-b1"].address in line]
    assert crossing, "\n".join(lines[:20])


def test_pod_to_pod_path_mtu_is_1500_with_dont_fragment(pods):
    a1, b1 = pods["podnet-bg-a1"], pods["podnet-bg-b1"]
    assert sh(host("podnet-bg-a1"), "cat /sys/class/net/cbr0/mtu").strip() == "1500"
    assert a1.ping(b1.address, count=2, size=1472, dont_fragment=True)   # 1500 bytes on the wire
    assert not a1.ping(b1.address, count=1, size=1473, dont_fragment=True)


def test_frr_parses_the_generated_frr_blocks():
    """The FRR 8.4 snippet site.yml wrote beside the ledger passes FRR's own parser
    (vtysh --dryrun: every line through FRR's command tree, arguments' ranges included, no
    daemon needed), and a copy with one unknown command does not (the check can fail; a
    shortened keyword would not do: FRR accepts unambiguous abbreviations)."""
    snippet = Path(INVENTORY).parent / ".podnet-bgp" / "tor.frr.conf"
    text = snippet.read_text()
    assert "router bgp %d" % ROUTER_ASN in text and text.count("maximum-prefix 1") == len(NODES)
    mangled = text.replace(" maximum-prefix 1", " maximum-prefixes 1")
    assert mangled != text
    router = host(ROUTER)
    for name, content in (("good", text), ("mangled", mangled)):
        subprocess.run(["docker", "exec", "-i", ROUTER, "sh", "-c", f"cat > /tmp/podnet-{name}.frr.conf"],
                       input=content, text=True, check=True, timeout=30)
    good = router.run("vtysh --dryrun -f /tmp/podnet-good.frr.conf")
    assert good.rc == 0 and "Unknown" not in good.stdout + good.stderr, good.stdout + good.stderr
    bad = router.run("vtysh --dryrun -f /tmp/podnet-mangled.frr.conf")
    assert bad.rc != 0 and "Unknown command" in bad.stdout + bad.stderr, (bad.rc, bad.stdout + bad.stderr)
    assert "maximum-prefixes 1" in bad.stdout + bad.stderr


def router_journal() -> str:
    """The router's BIRD log: every session's state changes (debug protocols { states })."""
    return host(ROUTER).run("journalctl -u bird --no-pager -n 40").stdout


def test_verify_shows_every_session_and_passes():
    result = run_playbook("verify.yml")
    assert result["rc"] == 0, router_journal()
    assert_run_ok(result)
    for name in NODES:
        assert re.search(rf"BGP {name} podnet_tor_0: up Established", result["output"]), result["output"][-3000:]


def test_a_lost_node_is_withdrawn_by_the_router_within_the_bfd_interval(subnets, capsys):
    lost = "podnet-bg-b1"
    subnet = subnets[lost]
    watcher = subprocess.Popen(  # pylint: disable=consider-using-with
        ["docker", "exec", ROUTER, "sh", "-c",
         f"while [ -n \"$(ip -4 route show {subnet})\" ]; do :; done; date +%s%N"],
        stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    started = time.time_ns()
    subprocess.run(["docker", "pause", lost], check=True)
    try:
        out = watcher.communicate(timeout=15)[0]
    except subprocess.TimeoutExpired:
        watcher.kill()
        raise
    elapsed = (int(out.strip()) - started) / 1e9
    with capsys.disabled():  # shown in the run's output, pass or fail
        print(f"\nrouter withdrew {subnet} of {lost} {elapsed * 1000:.0f} ms after the node was lost "
              f"(BFD {BFD_WINDOW * 1000:.0f} ms)")
    assert elapsed < BFD_WINDOW + 0.5, f"withdrawn after {elapsed:.2f} s"
    # ... and the other nodes lose it with it
    wait_for(lambda: subnet not in kernel_routes("podnet-bg-a1"), 5, "a1 forgetting the lost subnet", 0.1)


def test_a_rogue_node_announcing_anothers_subnet_is_not_installed(subnets):
    rogue, victim = "podnet-bg-a2", "podnet-bg-b1"
    subnet = subnets[victim]
    target = host(rogue)
    sh(target, "cp /etc/bird/bird.conf /root/bird.conf.podnet")
    try:
        # the rogue exports everything and originates the (lost) victim's subnet
        sh(target, "sed -i 's/^  if net = [0-9./]* then accept;$/  accept;/' /etc/bird/bird.conf && "
                   f"printf 'protocol static rogue {{ ipv4; route {subnet} unreachable; }}\\n' >> /etc/bird/bird.conf && "
                   "birdc configure")
        announced = birdc(rogue, "show route protocol rogue")
        assert subnet in announced and "unreachable" in announced, announced
        time.sleep(3)
        assert sh(host(ROUTER), f"ip -4 route show {subnet}").strip() == ""
        # not in the router's BIRD either (birdc: "Network not found")
        assert "podnet_node_podnet_bg_a2" not in host(ROUTER).run(f"birdc show route for {subnet} all").stdout
        assert subnet not in kernel_routes("podnet-bg-a1")
        # the rogue's own session and subnet stay
        assert bgp_sessions(ROUTER)["podnet_node_podnet_bg_a2"] == ("up", "Established")
        assert kernel_routes(ROUTER)[subnets[rogue]] == ADDRESSES[rogue]
    finally:
        sh(target, "cp /root/bird.conf.podnet /etc/bird/bird.conf && birdc configure")
        subprocess.run(["docker", "unpause", victim], check=True)
    wait_for(lambda: established(ROUTER, 3), 60, "the router's sessions after the node came back")
    wait_for(lambda: kernel_routes(ROUTER).get(subnet) == ADDRESSES[victim], 30, "the victim's route back")


def test_a_restarted_node_comes_back_and_check_mode_and_a_rerun_change_nothing(subnets):
    name = "podnet-bg-b1"
    restart(name)
    wait_for(lambda: established(name, 1), 60, "b1's session after its restart")
    wait_for(lambda: kernel_routes(ROUTER).get(subnets[name]) == ADDRESSES[name], 30, "b1's route at the router")
    pod_a, pod_b = Pod("podnet-bg-a1", subnets["podnet-bg-a1"], 20).create(), Pod(name, subnets[name], 20).create()
    try:
        pod_b.listen()
        assert pod_a.source_seen_by(pod_b.address) == pod_a.address
    finally:
        pod_a.delete()
        pod_b.delete()
    result = run_playbook("site.yml", "--check", "--diff")
    assert_run_ok(result, changed=0)
    result = run_playbook("site.yml")
    assert_run_ok(result, changed=0)
    assert ledger()["nodes"][name]["pod_cidr"] == subnets[name]
