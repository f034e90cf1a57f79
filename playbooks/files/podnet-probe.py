#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet's connectivity probe (installed by playbooks/verify.yml, removed after).

  podnet-probe up POD_CIDR BRIDGE MTU   create the probe pod (netns podnet-probe) on the
                                        bridge at the last usable address of POD_CIDR and
                                        start its echo server (answers each TCP connection
                                        with the source address it saw)
  podnet-probe check JSON              from inside the probe pod, connect to the probe
                                        pod of each peer ([{hostname, pod_cidr, backend}],
                                        a host view's "peers"); print JSON results
  podnet-probe down                    remove the probe pod
Standard library only: it runs on any host that Ansible can manage.
"""

import ipaddress
import json
import os
import socket
import subprocess
import sys
import time

NETNS = "podnet-probe"
VETH = "pnprobe0"
PORT = 7778
UNIT = "podnet-probe-echo"


def run(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True)


def probe_address(pod_cidr):
    net = ipaddress.ip_network(pod_cidr)
    return str(net.broadcast_address - 1), net.prefixlen, str(net.network_address + 1)


def up(pod_cidr, bridge, mtu):
    address, prefix, gateway = probe_address(pod_cidr)
    down()
    run("ip", "netns", "add", NETNS)
    run("ip", "link", "add", VETH, "mtu", mtu, "type", "veth", "peer", "name", "eth0",
        "netns", NETNS)
    run("ip", "link", "set", VETH, "master", bridge, "up")
    for cmd in (("link", "set", "lo", "up"), ("addr", "add", f"{address}/{prefix}", "dev", "eth0"),
                ("link", "set", "eth0", "up"), ("route", "add", "default", "via", gateway)):
        run("ip", "-n", NETNS, *cmd)
    run("systemd-run", "--quiet", "--collect", f"--unit={UNIT}", "ip", "netns", "exec", NETNS,
        sys.executable, __file__, "serve")
    print(address)


def serve():
    server = socket.create_server(("0.0.0.0", PORT), reuse_port=True)
    while True:
        conn, peer = server.accept()
        with conn:
            conn.sendall(peer[0].encode() + b"\n")


def check(peers):
    results = {}
    for peer in json.loads(peers):
        name, address = peer["hostname"], probe_address(peer["pod_cidr"])[0]
        started = time.monotonic()
        try:
            with socket.create_connection((address, PORT), timeout=3) as conn:
                seen = conn.makefile().readline().strip()
            results[name] = {"ok": True, "source_seen": seen, "backend": peer["backend"],
                             "ms": round((time.monotonic() - started) * 1000, 2)}
        except OSError as err:
            results[name] = {"ok": False, "error": f"{address}: {err}", "backend": peer["backend"]}
    print(json.dumps(results))


def down():
    run("systemctl", "stop", UNIT, check=False)
    run("ip", "netns", "del", NETNS, check=False)
    run("ip", "link", "del", VETH, check=False)


if __name__ == "__main__":
    if sys.argv[1] == "up":
        up(*sys.argv[2:5])
    elif sys.argv[1] == "serve":
        serve()
    elif sys.argv[1] == "check":
        if "--in-pod" not in sys.argv:  # re-run itself inside the probe pod
            os.execvp("ip", ["ip", "netns", "exec", NETNS, sys.executable, __file__, "check",
                             sys.argv[2], "--in-pod"])
        check(sys.argv[2])
    elif sys.argv[1] == "down":
        down()
