#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet's connectivity probe (installed by playbooks/verify.yml, removed after).

  podnet-probe up POD_CIDR BRIDGE MTU [POD_CIDR_IPV6]
                                       create the probe pod (netns podnet-probe) on the
                                        bridge at the last usable address of POD_CIDR (dual
                                        stack: also at the last but one of POD_CIDR_IPV6)
                                        and start its echo server (answers each TCP
                                        connection with the source address it saw); print
                                        the pod's address(es), one line each
  podnet-probe check JSON              from inside the probe pod, connect to the probe
                                        pod of each peer ([{hostname, pod_cidr, backend}],
                                        a host view's "peers"; a peer with pod_cidr_ipv6
                                        and backend_ipv6 over IPv6 too); print JSON results
  podnet-probe down                    remove the probe pod
Standard library only: it runs on any host that Ansible can manage.
"""

import ipaddress
import json
import os
import selectors
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
    """The probe pod's address in POD_CIDR (the last usable one; an IPv6 prefix has no
    broadcast address, its last but one alike), the prefix length and the node's bridge
    address (the subnet's first)."""
    net = ipaddress.ip_network(pod_cidr)
    return str(net.broadcast_address - 1), net.prefixlen, str(net.network_address + 1)


def up(pod_cidr, bridge, mtu, pod_cidr_ipv6=None):
    address, prefix, gateway = probe_address(pod_cidr)
    down()
    run("ip", "netns", "add", NETNS)
    run("ip", "link", "add", VETH, "mtu", mtu, "type", "veth", "peer", "name", "eth0",
        "netns", NETNS)
    run("ip", "link", "set", VETH, "master", bridge, "up")
    for cmd in (("link", "set", "lo", "up"), ("addr", "add", f"{address}/{prefix}", "dev", "eth0"),
                ("link", "set", "eth0", "up"), ("route", "add", "default", "via", gateway)):
        run("ip", "-n", NETNS, *cmd)
    serve_args = ["serve"]
    if pod_cidr_ipv6:
        address6, prefix6, gateway6 = probe_address(pod_cidr_ipv6)
        # nodad: usable at once (the address is the probe's alone in the node's prefix).
        for cmd in (("addr", "add", f"{address6}/{prefix6}", "dev", "eth0", "nodad"),
                    ("-6", "route", "add", "default", "via", gateway6)):
            run("ip", "-n", NETNS, *cmd)
        serve_args.append("ipv6")
    run("systemd-run", "--quiet", "--collect", f"--unit={UNIT}", "ip", "netns", "exec", NETNS,
        sys.executable, __file__, *serve_args)
    print(address)
    if pod_cidr_ipv6:
        print(address6)


def serve(ipv6=False):
    servers = [socket.create_server(("0.0.0.0", PORT), reuse_port=True)]
    if ipv6:
        servers.append(socket.create_server(("::", PORT), family=socket.AF_INET6, reuse_port=True))
    with selectors.DefaultSelector() as ready:
        for server in servers:
            ready.register(server, selectors.EVENT_READ)
        while True:
            for key, dummy in ready.select():
                conn, peer = key.fileobj.accept()
                with conn:
                    conn.sendall(peer[0].encode() + b"\n")


def connect(address, backend):
    """One connection to the probe pod at ADDRESS: {ok, source_seen, backend, ms} or {ok, error, backend}."""
    started = time.monotonic()
    try:
        with socket.create_connection((address, PORT), timeout=3) as conn:
            seen = conn.makefile().readline().strip()
        return {"ok": True, "source_seen": seen, "backend": backend,
                "ms": round((time.monotonic() - started) * 1000, 2)}
    except OSError as err:
        return {"ok": False, "error": f"{address}: {err}", "backend": backend}


def check(peers):
    results = {}
    for peer in json.loads(peers):
        name = peer["hostname"]
        results[name] = connect(probe_address(peer["pod_cidr"])[0], peer["backend"])
        if peer.get("pod_cidr_ipv6"):  # dual stack: the IPv6 pods' own path
            results[name]["ipv6"] = connect(probe_address(peer["pod_cidr_ipv6"])[0], peer.get("backend_ipv6"))
    print(json.dumps(results))


def down():
    run("systemctl", "stop", UNIT, check=False)
    run("ip", "netns", "del", NETNS, check=False)
    run("ip", "link", "del", VETH, check=False)


if __name__ == "__main__":
    if sys.argv[1] == "up":
        up(*sys.argv[2:6])
    elif sys.argv[1] == "serve":
        serve(ipv6="ipv6" in sys.argv[2:])
    elif sys.argv[1] == "check":
        if "--in-pod" not in sys.argv:  # re-run itself inside the probe pod
            os.execvp("ip", ["ip", "netns", "exec", NETNS, sys.executable, __file__, "check",
                             sys.argv[2], "--in-pod"])
        check(sys.argv[2])
    elif sys.argv[1] == "down":
        down()
