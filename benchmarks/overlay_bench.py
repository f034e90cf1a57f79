#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Round-trip time and TCP throughput across the lab's three paths, in one run.

  node -> node           (underlay, no podnet involved: the baseline)
  pod -> pod, same zone  (host-gw: plain routes)
  pod -> pod, other zone (flannel-layout VXLAN through the lab router)

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
PAIRS = {  # label: (source host, target host)
    "node -> node (underlay)": ("podnet-lab-a1", "podnet-lab-b1"),
    "pod -> pod same zone (host-gw)": ("podnet-lab-a1", "podnet-lab-a2"),
    "pod -> pod across zones (vxlan)": ("podnet-lab-a1", "podnet-lab-b1"),
}
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
                    f"pkill -f 'iperf3 -s -B' ; ip netns del {NETNS}; ip link del {VETH}"],
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="iperf3 duration (max 10)")
    args = parser.parse_args()
    seconds = max(1, min(args.seconds, 10))
    ledger = yaml.safe_load(LEDGER.read_text())["nodes"]
    hosts = sorted({h for pair in PAIRS.values() for h in pair})
    results = {}
    try:
        pods = {h: make_pod(h, ledger[h]["pod_cidr"]) for h in hosts}
        for label, (src, dst) in PAIRS.items():
            in_pod = label.startswith("pod")
            address = pods[dst] if in_pod else ledger[dst]["address"]
            results[label] = measure(src, dst, address, in_pod, seconds)
    finally:
        for h in hosts:
            remove_pod(h)
    base = results["node -> node (underlay)"]
    print(f"{'path':34} {'rtt ms':>8} {'x base':>7} {'Mbit/s':>9} {'x base':>7}")
    for label, r in results.items():
        print(f"{label:34} {r['rtt_ms']:8.3f} {r['rtt_ms'] / base['rtt_ms']:7.2f} "
              f"{r['mbps']:9.0f} {r['mbps'] / base['mbps']:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
