# SPDX-License-Identifier: GPL-3.0-or-later
"""Containers of real runtimes for podnet's molecule verifiers (scenario `runtimes`).

A `Container` is started with plain `docker run` by the nested Docker engine of a test
host, from a busybox image imported on first use from Debian's busybox-static (there is no
registry; the lab installs busybox-static as a test tool); its busybox httpd answers
/cgi-bin/peer with the client's address. A `CniPod` is a network namespace set up by the
node's CNI conflist, invoking the plugins exactly as a container runtime does for kubelet
(ADD in order, each plugin given the previous result; DEL in reverse order).
"""

from __future__ import annotations

import json
import shlex

from podnet_testlib import ECHO_PORT, host, sh

BUSYBOX_IMAGE = "podnet-busybox:latest"
# Builds BUSYBOX_IMAGE from the host's /bin/busybox once (no module builds an image from a
# directory tree): every applet linked, and a CGI script that answers the client's address.
_IMPORT_BUSYBOX = r"""
set -eu
docker image inspect podnet-busybox:latest >/dev/null 2>&1 && exit 0
root=$(mktemp -d /var/tmp/podnet-busybox.XXXXXX)
mkdir -p "$root/bin" "$root/www/cgi-bin" "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list | grep -vx busybox); do ln -s busybox "$root/bin/$applet"; done
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n%%s\\n" "$REMOTE_ADDR"\n' \
  > "$root/www/cgi-bin/peer"
chmod 0755 "$root/www/cgi-bin/peer"
tar -C "$root" -c . | docker import -c 'CMD ["/bin/sh"]' - podnet-busybox:latest >/dev/null
rm -rf "$root"
"""
CNI_CONFLIST = "/etc/cni/net.d/10-podnet.conflist"
CNI_PATH = "/usr/lib/cni"
CNI_IPAM_DIR = "/var/lib/cni/networks/podnet"

# libcni's conflist execution in a few lines: runs on the test host with python3.
_CNI_EXEC = r"""
import json, os, subprocess, sys
command, netns, cid, conflist, path = sys.argv[1:6]
conf = json.load(open(conflist))
plugins = conf["plugins"] if command == "ADD" else conf["plugins"][::-1]
cache = "/run/podnet-test-cni-%s.json" % cid
prev = json.load(open(cache)) if command == "DEL" and os.path.exists(cache) else None
for plugin in plugins:
    net = dict(plugin, name=conf["name"], cniVersion=conf["cniVersion"])
    if prev is not None:
        net["prevResult"] = prev
    env = dict(os.environ, CNI_COMMAND=command, CNI_CONTAINERID=cid, CNI_NETNS=netns,
               CNI_IFNAME="eth0", CNI_PATH=path)
    done = subprocess.run([os.path.join(path, plugin["type"])], input=json.dumps(net),
                          env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit("%s %s: %s%s" % (plugin["type"], command, done.stdout, done.stderr))
    if command == "ADD":
        prev = json.loads(done.stdout)
if command == "ADD":
    json.dump(prev, open(cache, "w"))
    print(json.dumps(prev))
elif os.path.exists(cache):
    os.remove(cache)
"""


def http_peer(target, address: str, prefix: str = "") -> str:
    """GET /cgi-bin/peer from a container's httpd; the address it saw (or <no answer>).

    busybox's nc sends the request (busybox wget crashed here); httpd reports IPv4 peers
    in IPv6-mapped form ([::ffff:10.244.1.2]), returned as plain IPv4.
    """
    request = shlex.quote(f"printf 'GET /cgi-bin/peer HTTP/1.0\\r\\n\\r\\n' | "
                          f"busybox nc -w 3 {address} {ECHO_PORT}")
    result = target.run(f"{prefix}sh -c {request}")
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    if result.rc != 0 or not lines or not lines[0].startswith("HTTP/1.") or " 200 " not in lines[0]:
        return f"<no answer: rc={result.rc} {result.stdout.strip()} {result.stderr.strip()}>"
    return lines[-1].strip("[]").removeprefix("::ffff:")


class Container:
    """A busybox container started with plain `docker run` on a test host."""

    def __init__(self, node: str, name: str):
        self.node = node
        self.host = host(node)
        self.name = name
        self.address = ""

    def start(self) -> "Container":
        self.delete()
        sh(self.host, f"sh -c {shlex.quote(_IMPORT_BUSYBOX)}")
        sh(self.host, f"docker run -d --name {self.name} {BUSYBOX_IMAGE} "
                      f"httpd -f -p {ECHO_PORT} -h /www")
        self.address = sh(self.host, "docker inspect -f "
                                     "'{{.NetworkSettings.IPAddress}}' " + self.name).strip()
        return self

    def delete(self) -> None:
        self.host.run(f"docker rm -f {self.name} >/dev/null 2>&1")

    def exec(self, command: str):
        return self.host.run(f"docker exec {self.name} {command}")

    def source_seen_by(self, address: str) -> str:
        """Ask another container's httpd at `address` which source address it saw."""
        return http_peer(self.host, address, prefix=f"docker exec {self.name} ")

    def source_seen_by_echo(self, address: str) -> str:
        """Connect to a podnet_testlib echo listener (socat) at `address`."""
        result = self.exec(f"nc -w 3 {address} {ECHO_PORT}")
        return result.stdout.strip() if result.rc == 0 else f"<no answer: {result.stderr.strip()}>"


class CniPod:
    """A pod made by the node's CNI conflist in a fresh network namespace, as kubelet would."""

    def __init__(self, node: str, name: str = "podnet-cni1"):
        self.node = node
        self.host = host(node)
        self.name = name
        self.netns = f"/run/netns/{name}"
        self.address = ""
        self.result: dict = {}

    def _cni(self, command: str):
        args = " ".join(shlex.quote(a) for a in
                        (command, self.netns, self.name, CNI_CONFLIST, CNI_PATH))
        return self.host.run(f"python3 -c {shlex.quote(_CNI_EXEC)} {args}")

    def add(self) -> "CniPod":
        sh(self.host, f"ip netns add {self.name}")
        done = self._cni("ADD")
        assert done.rc == 0, f"CNI ADD failed on {self.node}: {done.stderr}"
        self.result = json.loads(done.stdout)
        self.address = self.result["ips"][0]["address"].split("/")[0]
        return self

    def delete(self) -> None:
        done = self._cni("DEL")
        assert done.rc == 0, f"CNI DEL failed on {self.node}: {done.stderr}"
        self.host.run(f"systemctl stop podnet-test-echo-{self.name} 2>/dev/null; "
                      f"ip netns del {self.name}")

    def run(self, command: str):
        return self.host.run(f"ip netns exec {self.name} {command}")

    def source_seen_by(self, address: str) -> str:
        return http_peer(self.host, address, prefix=f"ip netns exec {self.name} ")
