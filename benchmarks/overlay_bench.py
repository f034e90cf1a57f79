#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Round-trip time and TCP throughput of every path the lab's pods take, in one run.

For three pairs of lab nodes (two in zone a, two in zone b, one across the zones), each
pod -> pod path is measured next to node -> node on the same pair (the underlay, no
podnet involved). The path a pair takes is read from the node's routes, so one run shows:

  host-gw    plain routes inside a zone
  vxlan      flannel-layout VXLAN (across zones by default; inside zone b in a
             `make lab LAB_CROSS_ZONE=wireguard` lab)
  wireguard  WireGuard across zones (`make lab LAB_CROSS_ZONE=wireguard`), encrypted,
             run by wireguard-go in user space: this kernel has no WireGuard module
  bgp        zone a routed by BGP (`make lab LAB_BGP=1`): routes BIRD learned from the lab
             router (BIRD 2 as zone a's top-of-rack router), no tunnel

Needs the lab (`make lab`). Pods are network namespaces on each node's cbr0, made and
removed by this script. Every measurement is bounded: ping -c 50 at 20 ms intervals,
iperf3 -t 5 with a 15 s client timeout; traffic stays on the lab's internal networks.
Usage: .venv/bin/python benchmarks/overlay_bench.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

LEDGER = Path(__file__).resolve().parents[1] / "inventories" / "lab" / ".podnet-ledger.yml"
PAIRS = [("podnet-lab-a1", "podnet-lab-a2"),   # zone a (BGP with LAB_BGP=1)
         ("podnet-lab-b1", "podnet-lab-b2"),   # zone b
         ("podnet-lab-a1", "podnet-lab-b1")]   # across the zones, through the lab router
DEVICES = {"flannel-wg": "wireguard", "flannel.1": "vxlan"}
NETNS, VETH, INDEX = "podnet-bench", "pnbench0", 200


def sh(host: str, command: str, timeout: float = 60) -> str:
    done = subprocess.run(["docker", "exec", host, "sh", "-c", command], capture_output=True,
                          text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{host}: {command}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def make_pod(host: str, pod_cidr: str) -> str:
    net = ipaddress.ip_network(pod_cidr)
    address, gateway = net.network_address + INDEX, net.network_address + 1
    remove_pod(host)
    mtu = sh(host, "cat /sys/class/net/cbr0/mtu").strip()
    sh(host, " && ".join([
        f"ip netns add {NETNS}",
        f"ip link add {VETH} mtu {mtu} type veth peer name eth0 netns {NETNS}",
        f"ip link set {VETH} master cbr0 up",
        f"ip -n {NETNS} link set lo up",
        f"ip -n {NETNS} addr add {address}/{net.prefixlen} dev eth0",
        f"ip -n {NETNS} link set eth0 up",
        f"ip -n {NETNS} route add default via {gateway}"]))
    return str(address)


def remove_pod(host: str) -> None:
    subprocess.run(["docker", "exec", host, "sh", "-c",
                    # Anchored: an unanchored pattern also matches this very shell and kills it.
                    f"pkill -f '^iperf3 -s -B' ; ip netns del {NETNS}; ip link del {VETH}"],
                   capture_output=True, check=False)


def measure(src: str, dst: str, address: str, in_pod: bool, seconds: int) -> dict:
    prefix = f"ip netns exec {NETNS} " if in_pod else ""
    ping = sh(src, f"{prefix}ping -q -c 50 -i 0.02 -W 2 {address}", timeout=30)
    rtt = float(re.search(r"= [\d.]+/([\d.]+)/", ping).group(1))
    sh(dst, f"{prefix}iperf3 -s -B {address} -1 -D")
    out = json.loads(sh(src, f"timeout 15 {prefix}iperf3 -J -t {seconds} -c {address}",
                        timeout=30))
    mbps = out["end"]["sum_received"]["bits_per_second"] / 1e6
    return {"rtt_ms": rtt, "mbps": mbps}


def backend(src: str, address: str) -> str:
    """The path src's routes give to a pod address: host-gw, vxlan, wireguard or bgp (a
    route BIRD installed: proto bird)."""
    route = sh(src, f"ip -4 route get {address}").split()
    dev = route[route.index("dev") + 1]
    if dev in DEVICES:
        return DEVICES[dev]
    bird = sh(src, "ip -4 route show proto bird").split("\n")
    learned = [ipaddress.ip_network(line.split()[0]) for line in bird if line.strip()]
    return "bgp" if any(ipaddress.ip_address(address) in net for net in learned) else "host-gw"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="iperf3 duration (max 10)")
    args = parser.parse_args()
    seconds = max(1, min(args.seconds, 10))
    ledger = yaml.safe_load(LEDGER.read_text())["nodes"]
    hosts = sorted({h for pair in PAIRS for h in pair})
    rows = []
    try:
        pods = {h: make_pod(h, ledger[h]["pod_cidr"]) for h in hosts}
        for src, dst in PAIRS:
            path = backend(src, pods[dst])
            under = measure(src, dst, ledger[dst]["address"], False, seconds)
            pod = measure(src, dst, pods[dst], True, seconds)
            rows.append((f"{src[-2:]} -> {dst[-2:]}", path, under, pod))
    finally:
        for h in hosts:
            remove_pod(h)
    print(f"{'pair':9} {'pod path':10} {'underlay ms':>11} {'pod ms':>8} {'x':>5} "
          f"{'underlay Mbit/s':>15} {'pod Mbit/s':>10} {'x':>5}")
    for pair, path, under, pod in rows:
        print(f"{pair:9} {path:10} {under['rtt_ms']:11.3f} {pod['rtt_ms']:8.3f} "
              f"{pod['rtt_ms'] / under['rtt_ms']:5.2f} {under['mbps']:15.0f} {pod['mbps']:10.0f} "
              f"{pod['mbps'] / under['mbps']:5.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
