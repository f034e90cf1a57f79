# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers for podnet's molecule verifiers: real pods, real listeners, real runs.

A "pod" is a network namespace on a test host, attached to the node's bridge by a veth
pair, addressed from the node's pod subnet exactly as a CNI bridge plugin would do it.
A listener in a pod (or on any host) answers every TCP connection with the source
address it saw, so a client learns whether its address survived the trip (no NAT) or
was masqueraded.
"""

from __future__ import annotations

import ipaddress
import os
import re
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import testinfra
import yaml

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).parents[3]))
INVENTORY = os.environ.get("MOLECULE_INVENTORY_FILE", "")
ARTIFACTS = PROJECT / ".artifacts"   # screenshots the tests keep (gitignored)
ROUTE_PROTOCOL = 191          # podnet's route protocol (roles/podnet_routes default)
ECHO_PORT = 7777
ECHO_SCRIPT = "/usr/local/sbin/podnet-test-echo"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
RECAP = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
    r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)", re.M)


def host(name: str):
    """A testinfra host for a test container (docker exec, independent of Ansible)."""
    return testinfra.get_host(f"docker://{name}")


def sh(target, command: str) -> str:
    """Run a command that must succeed and return its stdout."""
    return target.check_output(command)


# --- Ansible runs, exactly as users run them -------------------------------------------------
def run_playbook(playbook: str, *args: str, inventories: tuple = ()) -> dict:
    """Run playbooks/<playbook> against the scenario's inventory; return the recap.

    Returns {"rc": int, "output": str, "recap": {host: {"ok", "changed", ...}}}.
    """
    env = dict(os.environ)
    env.update({
        "ANSIBLE_ROLES_PATH": str(PROJECT / "roles"),
        # podnet.network from this checkout, by FQCN (scripts/setup.sh links it there).
        "ANSIBLE_COLLECTIONS_PATH": str(PROJECT / ".cache" / "collections"),
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_FORKS": "20",
        "ANSIBLE_INTERPRETER_PYTHON": "auto_silent",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    })
    # The inventory directory, as molecule's own converge passes it: the same ledger.
    sources = ["-i", str(Path(INVENTORY).parent)]
    for extra in inventories:
        sources += ["-i", str(extra)]
    command = [str(Path(sys.executable).with_name("ansible-playbook")), *sources,
               str(PROJECT / "playbooks" / playbook), *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1200,
                          check=False)
    output = ANSI.sub("", done.stdout + done.stderr)
    recap = {m["host"]: {k: int(v) for k, v in m.groupdict().items() if k != "host"}
             for m in RECAP.finditer(ANSI.sub("", done.stdout))}
    return {"rc": done.returncode, "output": output, "recap": recap}


def assert_run_ok(result: dict, changed: int | None = None) -> None:
    """Fail with the run's tail unless it succeeded (and changed exactly `changed`)."""
    tail = "\n".join(result["output"].splitlines()[-60:])
    assert result["rc"] == 0, f"ansible-playbook failed:\n{tail}"
    assert result["recap"], f"no PLAY RECAP found in the output:\n{tail}"
    if changed is not None:
        totals = {h: r["changed"] for h, r in result["recap"].items()}
        assert all(c == changed for c in totals.values()), f"changed per host {totals}\n{tail}"


def ledger() -> dict:
    """The ledger the plan play wrote in the scenario's inventory directory."""
    path = Path(INVENTORY).parent / ".podnet-ledger.yml"
    return yaml.safe_load(path.read_text())


# --- pods and listeners -----------------------------------------------------------------
class Pod:
    """A network namespace attached to a node's bridge, addressed from its pod subnet."""

    def __init__(self, node: str, pod_cidr: str, index: int = 10, bridge: str = "cbr0",
                 pod_cidr_ipv6: str | None = None):
        net = ipaddress.ip_network(pod_cidr)
        # Dual stack: the pod's IPv6 address and gateway from its node's IPv6 prefix.
        self.address6 = self.gateway6 = None
        if pod_cidr_ipv6:
            net6 = ipaddress.ip_network(pod_cidr_ipv6)
            self.address6, self.prefix6 = str(net6.network_address + index), net6.prefixlen
            self.gateway6 = str(net6.network_address + 1)
        self.node = node
        self.host = host(node)
        self.name = f"podnet-t{index}"
        self.address = str(net.network_address + index)
        self.prefix = net.prefixlen
        self.gateway = str(net.network_address + 1)
        self.bridge = bridge
        self.veth = f"pnt{index}"

    def create(self) -> "Pod":
        self.delete()
        mtu = sh(self.host, f"cat /sys/class/net/{self.bridge}/mtu").strip()
        sh(self.host, " && ".join([
            f"ip netns add {self.name}",
            f"ip link add {self.veth} mtu {mtu} type veth peer name eth0 netns {self.name}",
            f"ip link set {self.veth} master {self.bridge} up",
            f"ip -n {self.name} link set lo up",
            f"ip -n {self.name} addr add {self.address}/{self.prefix} dev eth0",
            f"ip -n {self.name} link set eth0 up",
            f"ip -n {self.name} route add default via {self.gateway}",
        ] + ([
            f"ip -n {self.name} addr add {self.address6}/{self.prefix6} dev eth0 nodad",
            f"ip -n {self.name} route add default via {self.gateway6}",
        ] if self.address6 else [])))
        return self

    def delete(self) -> None:
        self.host.run(f"systemctl stop podnet-test-echo-{self.name} podnet-test-echo6-{self.name} 2>/dev/null; "
                      f"ip netns del {self.name} 2>/dev/null; ip link del {self.veth} 2>/dev/null")

    def run(self, command: str):
        return self.host.run(f"ip netns exec {self.name} {command}")

    def ping(self, address: str, count: int = 2, size: int | None = None,
             dont_fragment: bool = False) -> bool:
        opts = f"-c {count} -W 2 -i 0.2"
        if size is not None:
            opts += f" -s {size}"
        if dont_fragment:
            opts += " -M do"
        return self.run(f"ping -q {opts} {address}").rc == 0

    def listen(self) -> None:
        listen(self.host, self.name)
        if self.address6:
            listen(self.host, self.name, ipv6=True)

    def source_seen_by(self, address: str) -> str:
        """Connect to an echo listener at `address`; return the source address it saw."""
        return connect(self.host, address, netns=self.name)


def _install_echo(target) -> None:
    target.run(f"test -x {ECHO_SCRIPT} || "
               f"printf '#!/bin/sh\\necho \"$SOCAT_PEERADDR\"\\n' > {ECHO_SCRIPT} && "
               f"chmod 0755 {ECHO_SCRIPT}")


def listen(target, netns: str | None = None, ipv6: bool = False) -> None:
    """Start a TCP echo-the-peer-address listener (a transient systemd unit); IPV6: its
    IPv6 twin on the same port (IPv6 only, so each family has its own listener)."""
    _install_echo(target)
    unit = f"podnet-test-echo{'6' if ipv6 else ''}-{netns or 'host'}"
    prefix = f"ip netns exec {netns} " if netns else ""
    address = f"TCP6-LISTEN:{ECHO_PORT},ipv6only=1" if ipv6 else f"TCP-LISTEN:{ECHO_PORT}"
    target.run(f"systemctl stop {unit} 2>/dev/null; systemctl reset-failed {unit} 2>/dev/null")
    sh(target, f"systemd-run --quiet --collect --unit={unit} {prefix}"
               f"socat {address},fork,reuseaddr EXEC:{ECHO_SCRIPT}")
    family = "-6" if ipv6 else "-4"
    for dummy in range(50):
        if target.run(f"{prefix}ss {family} -ltn 'sport = :{ECHO_PORT}' | grep -q LISTEN").rc == 0:
            return
        time.sleep(0.1)
    raise AssertionError(f"echo listener did not start on {target.backend.name} {netns or ''}")


def connect(target, address: str, netns: str | None = None) -> str:
    # connect-timeout bounds an unreachable peer; -T (idle) waits for the answer, which a
    # loaded host forks and execs slowly: at 3 s an established connection once returned
    # nothing on a machine at load 40, so the answer gets 15 s (a success ends at once).
    prefix = f"ip netns exec {netns} " if netns else ""
    peer = f"TCP6:[{address}]" if ":" in address else f"TCP:{address}"
    result = target.run(f"{prefix}socat -T 15 - {peer}:{ECHO_PORT},connect-timeout=3 "
                        "</dev/null")
    if result.rc != 0:
        return f"<no answer: {result.stderr.strip()}>"
    seen = result.stdout.strip()
    if seen.startswith("["):  # socat names an IPv6 peer in brackets, every group in full
        seen = str(ipaddress.ip_address(seen.strip("[]")))
    return seen


def podnet_routes(target) -> dict:
    """{destination: gateway} of the routes carrying podnet's protocol."""
    out = sh(target, f"ip -4 route show proto {ROUTE_PROTOCOL}")
    routes = {}
    for line in out.splitlines():
        words = line.split()
        if words:
            routes[words[0]] = words[words.index("via") + 1] if "via" in words else None
    return routes


def restart(name: str, timeout: float = 90, action: str = "restart") -> None:
    """Restart (or start) a test host like a reboot; wait until systemd has finished booting."""
    subprocess.run(["docker", action, *(["-t", "5"] if action == "restart" else []), name],
                   check=True, capture_output=True)
    target = host(name)
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        state = target.run("systemctl is-system-running").stdout.strip()
        if state in ("running", "degraded"):
            return
        time.sleep(1)
    raise AssertionError(f"{name} did not finish booting: {state}")


# --- what a person sees ---------------------------------------------------------------
def render_page(page: Path, screenshot: Path, size: str = "1400,1100") -> str:
    """Open a local page in headless Chromium: keep a screenshot, return the DOM it built."""
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    base = ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
            "--allow-file-access-from-files", f"--window-size={size}"]
    url = page.resolve().as_uri()
    subprocess.run([*base, f"--screenshot={screenshot}", url], check=True, capture_output=True,
                   timeout=120)
    return subprocess.run([*base, "--dump-dom", url], check=True, capture_output=True, text=True,
                          timeout=120).stdout


def png_colours(path: Path) -> dict:
    """{(r, g, b): pixel count} of an 8-bit RGB/RGBA PNG (what Chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, colour_type, dummy, dummy, interlace = header
    assert depth == 8 and colour_type in (2, 6) and not interlace, f"unexpected PNG {header}"
    step = 3 if colour_type == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * step
    previous = bytearray(stride)
    counts: dict = {}
    for row in range(height):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up = previous[i]
            corner = previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                guess = left + up - corner
                best = min((abs(guess - left), 0, left), (abs(guess - up), 1, up),
                           (abs(guess - corner), 2, corner))[2]
                line[i] = (line[i] + best) & 255
        for i in range(0, stride, step):
            pixel = (line[i], line[i + 1], line[i + 2])
            counts[pixel] = counts.get(pixel, 0) + 1
        previous = line
    return counts
