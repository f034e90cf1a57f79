#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""CPU and memory of one podnet-agent check with a 1,000-peer slice (probes sampled).

Runs the agent's real check on this machine in check mode (each concern's read and plan
through the modules' own code; nothing is changed) against a synthetic slice of PEERS
peers in ZONES zones (routes, fdb and neighbours for every peer), probes the agent's
sample of them over its raw ICMP socket (every gateway is a loopback address, so no
probe leaves the machine) and writes the metrics into a temporary directory, removed at
the end, also when interrupted. Needs root (raw socket, ip/nft reads).

  sudo .venv/bin/python benchmarks/agent_bench.py [--peers 1000] [--zones 20] [--checks 5]
"""

import argparse
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
import tracemalloc

sys.dont_write_bytecode = True  # no __pycache__ in the checkout (the agent role copies module_utils)

from ansible_collections.podnet.network.plugins.module_utils import podnet_agent as agent  # noqa: E402 pylint: disable=wrong-import-position


def synthetic_slice(peers, zones):
    routes, fdb, neighbors, peer_list = [], [], [], []
    for index in range(peers):
        subnet = "10.%d.%d.0/24" % (100 + index // 256, index % 256)
        address = "172.31.%d.%d" % (index // 250, 1 + index % 250)
        zone = "z%d" % (index % zones)
        peer_list.append({"hostname": "peer%04d" % index, "zone": zone, "address": address,
                          "pod_cidr": subnet, "backend": "host-gw",
                          "gateway": "127.0.%d.%d" % (index // 250, 1 + index % 250)})
        routes.append({"dest": subnet, "via": address, "dev": "underlay", "onlink": False})
    return {
        "hostname": "bench", "zone": "z0", "peers": peer_list,
        "concerns": {
            "sysctl": {"ip_forward": True, "rp_filter": 2,
                       "neigh_gc_thresh": {"gc_thresh1": 2048, "gc_thresh2": 4096, "gc_thresh3": 8192}},
            "bridge": {"name": "cbr0", "address": "10.99.0.1/24", "mtu": 1500},
            "vxlan": {"device": None, "fdb": fdb, "neighbors": neighbors},
            "routes": {"routes": routes, "vxlan_device": "flannel.1"},
            "firewall": {"cluster_cidr": "10.0.0.0/8", "pod_cidr": "10.99.0.0/24",
                         "node_addresses": [p["address"] for p in peer_list], "vxlan_port": 8472},
        },
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--peers", type=int, default=1000)
    parser.add_argument("--zones", type=int, default=20)
    parser.add_argument("--checks", type=int, default=5, help="checks measured (at most 20)")
    parser.add_argument("--sample", type=int, default=16)
    args = parser.parse_args()
    checks = max(1, min(args.checks, 20))
    # A SIGTERM (a timeout, CI's stop) ends the run through the cleanup below too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    workdir = tempfile.mkdtemp(prefix="podnet-agent-bench.")
    try:
        slice_path = os.path.join(workdir, "slice.json")
        settings = {"interval": 30, "repair": False, "probe_sample": args.sample, "probe_timeout": 0.5,
                    "metrics_dir": os.path.join(workdir, "metrics")}
        with open(slice_path, "w") as handle:
            handle.write(agent.plan_slice_file(None, synthetic_slice(args.peers, args.zones), settings, 1))
        repairs, figures = {}, []
        for turn in range(checks):
            cpu0, wall0 = time.process_time(), time.monotonic()
            children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            agent.check_once(turn, repairs, slice_path, log=lambda line: None)
            children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            child_cpu = (children1.ru_utime + children1.ru_stime) - (children0.ru_utime + children0.ru_stime)
            figures.append((time.monotonic() - wall0, time.process_time() - cpu0, child_cpu))
        # One more check under tracemalloc (which slows Python down) for the peak memory.
        tracemalloc.start()
        agent.check_once(checks, repairs, slice_path, log=lambda line: None)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        with open(os.path.join(settings["metrics_dir"], agent.METRICS_FILE)) as handle:
            metrics = handle.read()
        probed = sum(1 for line in metrics.splitlines() if line.startswith("podnet_agent_peer_up{"))
        best = min(figures)
        print(json.dumps({
            "peers": args.peers, "zones": args.zones, "checks": checks, "probed_per_check": probed,
            "wall_s_min": round(best[0], 3), "wall_s_max": round(max(f[0] for f in figures), 3),
            "agent_cpu_s_min": round(min(f[1] for f in figures), 3),
            "commands_cpu_s_min": round(min(f[2] for f in figures), 3),
            "python_peak_mib": round(peak / 2 ** 20, 1),
            "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "metrics_bytes": len(metrics),
        }, indent=1))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
