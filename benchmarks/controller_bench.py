#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller benchmark: the real playbooks/site.yml in check mode on N hosts that are all
this machine, next to Ansible's floor on the same hosts (issue 26, item 2).

For each fleet size it writes its own inventory in a temporary directory (N hosts in 10
zones, each host `ansible_connection: local` with this venv's python, its own underlay
address in 198.18.0.0/15, the benchmarking range of RFC 2544, and its zone's prefix, so the
plan is a real multi-zone plan: host-gw inside a zone, VXLAN across), then runs, bounded
in time:

  floor        benchmarks/floor.yml (one trivial task, ping) on the N hosts
  site --check playbooks/site.yml --check on the same N hosts
  (--mitogen)  both again under mitogen_linear (requirements-bench.txt; measured only)

and prints wall time, the controller's peak RSS, tasks evaluated per node (ok + skipped,
from the play recap), the ratio run/floor and the per-host cost (wall time / N).

Peak RSS is the `ru_maxrss` that os.wait4() returns for the ansible-playbook process: the
same figure `/usr/bin/time -v` prints as "Maximum resident set size" (GNU time reads it
from wait4 too): the largest RSS of the controller process and of every descendant it
waited for (its forked workers, which carry the controller's memory, and the module
processes they run here). Unlike resource.getrusage(RUSAGE_CHILDREN) it belongs to one run,
so the floor, the site run and the next size each get their own figure.

Nothing may change on this machine: the run is in check mode, and the inventory, the ledger
and its lock live in the temporary directory (removed at the end, also on Ctrl-C/SIGTERM).
A guard records the machine's links and addresses, routes of every table (IPv4 and IPv6),
policy rules, the nft ruleset (counters dropped), the sysctls podnet sets and the files
podnet writes before each size and compares them after it: any difference fails the
benchmark, naming it. Other engineers' Docker test networks on a shared machine come and go
meanwhile; objects podnet never makes are ignored and counted (links named veth*, br-*,
docker0 and podnet-* (the test networks' bridges), their routes, nft rules naming them or
Docker's chains); podnet's own devices are cbr0, flannel.1 and flannel-wg.

Usage: make bench-controller N=100,1000
       .venv/bin/python benchmarks/controller_bench.py --nodes 100,1000 [--forks 20] [--mitogen]
"""

from __future__ import annotations

import argparse
import hashlib
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
# The checkout whose playbooks run: this one, or (--ref) a `git archive` of a commit.
TREE = {"root": ROOT, "env": {}}
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)")
UNDERLAY = ipaddress.ip_network("198.18.0.0/15")  # RFC 2544, benchmarking
ZONE_PREFIX = 20  # 4094 hosts per zone, 32 zones in the /15
CLUSTER_CIDR = "10.0.0.0/8"  # /24 per node: room for far more than 5,000 nodes
# The sysctls podnet_sysctl converges (and IPv6 forwarding, for dual-stack fleets).
SYSCTLS = ("net/ipv4/ip_forward", "net/ipv4/conf/all/rp_filter", "net/ipv4/conf/default/rp_filter",
           "net/ipv4/neigh/default/gc_thresh1", "net/ipv4/neigh/default/gc_thresh2",
           "net/ipv4/neigh/default/gc_thresh3", "net/ipv6/conf/all/forwarding")
# What podnet's modules write on a host (module_utils): each file's digest is compared.
PODNET_PATHS = ("/etc/podnet", "/etc/sysctl.d", "/etc/ansible/facts.d", "/etc/iproute2/rt_protos.d",
                "/etc/systemd/system", "/etc/systemd/network", "/etc/docker/daemon.json",
                "/etc/cni/net.d", "/run/flannel", "/run/podnet-firewall.sha1", "/etc/wireguard")
# Objects podnet never creates, which Docker makes for other test runs on a shared machine.
FOREIGN_LINK = re.compile(r"^(veth|br-|docker0$|podnet-)")
FOREIGN_TEXT = re.compile(r"DOCKER|\"(veth|br-|docker0\"|podnet-)")


class BenchFailed(RuntimeError):
    """The benchmark cannot go on (a run failed or timed out, or the machine changed)."""


# ---------------------------------------------------------------- pure parts (unit-tested)

def zone_names(count: int) -> list[str]:
    return ["z%02d" % index for index in range(count)]


def inventory(nodes: int, python: str, zones: int = 10) -> dict:
    """The inventory of NODES local hosts in ZONES zones (fewer when there are fewer
    nodes): zone i is 198.18.0.0/15's i-th /20, its hosts numbered from .1 in turn."""
    if nodes < 1:
        raise ValueError("controller bench: --nodes must be at least 1")
    zones = min(zones, nodes)
    per_zone = -(-nodes // zones)
    if zones > 2 ** (ZONE_PREFIX - UNDERLAY.prefixlen) or per_zone > 2 ** (32 - ZONE_PREFIX) - 2:
        raise ValueError("controller bench: %d nodes do not fit %s in /%d zones"
                         % (nodes, UNDERLAY, ZONE_PREFIX))
    subnets = list(UNDERLAY.subnets(new_prefix=ZONE_PREFIX))
    groups = {}
    for index in range(nodes):
        zone = index % zones
        seat = index // zones + 1
        name = zone_names(zones)[zone]
        group = groups.setdefault("zone_" + name, {"vars": {"podnet_zone": name}, "hosts": {}})
        group["hosts"]["node-%05d" % index] = {
            "podnet_address": str(subnets[zone].network_address + seat),
            "podnet_underlay_prefix": ZONE_PREFIX,
        }
    return {"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": python,
                 "podnet_plan_cluster_cidr": CLUSTER_CIDR},
        "children": {"podnet_nodes": {"children": groups}},
    }}


def recap(output: str) -> dict:
    """{host: (ok, changed, unreachable, failed, skipped)} summed over the PLAY RECAP lines."""
    hosts: dict = {}
    for line in output.splitlines():
        match = RECAP.match(line.strip())
        if match:
            figures = tuple(int(match.group(i)) for i in range(2, 7))
            before = hosts.get(match.group(1), (0, 0, 0, 0, 0))
            hosts[match.group(1)] = tuple(a + b for a, b in zip(before, figures))
    return hosts


def tasks_per_node(hosts: dict, nodes: list[str]) -> tuple[int, int]:
    """(min, max) over NODES of ok + skipped: the tasks each node evaluated."""
    counts = [hosts[name][0] + hosts[name][4] for name in nodes if name in hosts]
    if len(counts) != len(nodes):
        missing = sorted(set(nodes) - set(hosts))
        raise BenchFailed("controller bench: no recap line for %d nodes (%s ...)"
                          % (len(missing), ", ".join(missing[:3])))
    return min(counts), max(counts)


def nft_entries(ruleset: str) -> list[str]:
    """`nft list ruleset` as one line per rule/element, each prefixed with its table and
    chain (or set), packet and byte counters dropped (they move on their own)."""
    entries, scope = [], []
    for raw in ruleset.splitlines():
        line = re.sub(r"counter packets \d+ bytes \d+", "counter", raw.strip())
        line = re.sub(r"\s+# handle \d+$", "", line)
        if not line or line.startswith("#"):
            continue
        if line.endswith("{"):
            scope.append(line[:-1].strip())
            entries.append(" / ".join(scope))
        elif line == "}":
            if scope:
                scope.pop()
        else:
            entries.append(" / ".join(scope + [line]))
    return entries


def foreign(entry: str) -> bool:
    """An entry of the snapshot that belongs to Docker's test networks, never podnet's."""
    kind, _, text = entry.partition(" ")
    if kind in ("link", "address"):
        return bool(FOREIGN_LINK.match(text.split(" ", 1)[0]))
    if kind in ("route", "route6"):
        dev = re.search(r'"dev": "([^"]+)"', text)
        return bool(dev and FOREIGN_LINK.match(dev.group(1)))
    if kind == "nft":
        return bool(FOREIGN_TEXT.search(text))
    return False


def compare(before: list[str], after: list[str]) -> tuple[list[str], list[str]]:
    """(differences podnet could have made, foreign differences): each '- entry' or
    '+ entry', entries compared as multisets."""
    old, new = Counter(before), Counter(after)
    changes = ["- " + entry for entry in sorted((old - new).elements())]
    changes += ["+ " + entry for entry in sorted((new - old).elements())]
    mine = [change for change in changes if not foreign(change[2:])]
    return mine, [change for change in changes if foreign(change[2:])]


def links(link_json: list, addr_json: list) -> list[str]:
    """Snapshot entries of `ip -d -j link` and `ip -j addr`: what a podnet module could
    change (name, kind, mtu, MAC, master, admin state, addresses), not the carrier."""
    entries = []
    for link in link_json:
        flags = [flag for flag in link.get("flags", []) if flag in ("UP", "NOARP", "PROMISC")]
        entries.append("link %s kind=%s mtu=%s mac=%s master=%s flags=%s" % (
            link.get("ifname"), (link.get("linkinfo") or {}).get("info_kind", "-"), link.get("mtu"),
            link.get("address"), link.get("master", "-"), ",".join(flags)))
    for link in addr_json:
        for info in link.get("addr_info", []):
            entries.append("address %s %s/%s" % (link.get("ifname"), info.get("local"), info.get("prefixlen")))
    return entries


def routes(kind: str, route_json: list) -> list[str]:
    """Snapshot entries of `ip -j route show table all`, without what the kernel varies."""
    entries = []
    for route in route_json:
        route = {key: value for key, value in route.items() if key not in ("expires", "cache")}
        if "flags" in route:
            route["flags"] = [flag for flag in route["flags"] if flag != "linkdown"]
        entries.append("%s %s" % (kind, json.dumps(route, sort_keys=True)))
    return entries


# ---------------------------------------------------------------- the machine

def _read(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise BenchFailed("controller bench: the guard cannot read %s: %s"
                          % (" ".join(command), done.stderr.strip()))
    return done.stdout


def _files(path: Path) -> list[str]:
    if path.is_symlink():
        return ["file %s -> %s" % (path, os.readlink(path))]
    if path.is_file():
        return ["file %s sha256=%s" % (path, hashlib.sha256(path.read_bytes()).hexdigest())]
    if path.is_dir():
        found = ["file %s/" % path]
        for child in sorted(path.iterdir()):
            found += _files(child)
        return found
    return []


def snapshot() -> list[str]:
    """What the guard compares: links, addresses, routes (all tables, both families),
    rules, the nft ruleset, podnet's sysctls and files."""
    entries = links(json.loads(_read(["ip", "-d", "-j", "link", "show"])),
                    json.loads(_read(["ip", "-j", "addr", "show"])))
    entries += routes("route", json.loads(_read(["ip", "-4", "-j", "route", "show", "table", "all"])))
    entries += routes("route6", json.loads(_read(["ip", "-6", "-j", "route", "show", "table", "all"])))
    entries += ["rule " + json.dumps(rule, sort_keys=True)
                for rule in json.loads(_read(["ip", "-j", "rule", "show"]))]
    entries += ["nft " + entry for entry in nft_entries(_read(["nft", "list", "ruleset"]))]
    for name in SYSCTLS:
        entries.append("sysctl %s=%s" % (name, Path("/proc/sys", name).read_text(encoding="ascii").strip()))
    for path in PODNET_PATHS:
        entries += _files(Path(path))
    return entries


def guard(before: list[str], label: str) -> int:
    """Compare the machine with BEFORE; raise naming every difference podnet could have made.
    Returns the number of foreign differences ignored."""
    mine, others = compare(before, snapshot())
    if mine:
        raise BenchFailed("controller bench: THE MACHINE CHANGED during %s (check mode must change "
                          "nothing):\n  %s" % (label, "\n  ".join(mine[:60])))
    if others:
        print("controller bench: guard: %d changes of Docker's test networks ignored, e.g. %s"
              % (len(others), others[0][:160]), flush=True)
    return len(others)


def _session_processes(session: int) -> list[int]:
    """PIDs of the processes still in SESSION (the session each run is started in)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) == session and fields[0] != "Z" and int(entry) != os.getpid():
            found.append(int(entry))
    return found


def _holders(workdir: str) -> list[int]:
    """PIDs of processes naming WORKDIR on their command line: the ledger's lock holder
    (podnet_plan_ledger starts it in a session of its own; it leaves when its run ends)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                if workdir.encode() in Path("/proc", entry, "cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                continue
    return found


def _kill_session(session: int) -> None:
    """Stop what the run started (its own session, by its leader's id), TERM then KILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in _session_processes(session):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while _session_processes(session) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not _session_processes(session):
            return


RUNNING: list[int] = []  # the session of the run under way, for the signal handler


def playbook(args: list[str], log: Path, timeout: float, env: dict | None = None) -> dict:
    """Run ansible-playbook ARGS, output to LOG; {seconds, maxrss_mb, output}. Fails loudly
    (rc, timeout); prints progress every 30 s; leaves no process behind."""
    full_env = dict(os.environ, ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_STDOUT_CALLBACK="default",
                    ANSIBLE_INVENTORY_UNPARSED_WARNING="False", ANSIBLE_FORCE_COLOR="0",
                    ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="False")
    full_env.update(TREE["env"])
    full_env.update(env or {})
    start = time.monotonic()
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen([str(VENV_BIN / "ansible-playbook"), *args], cwd=TREE["root"], env=full_env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    RUNNING.append(proc.pid)
    status, usage, shown, timed_out = None, None, start, False
    try:
        while status is None:
            pid, status_code, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                status, usage = status_code, rusage
                proc.returncode = os.waitstatus_to_exitcode(status_code)
                break
            now = time.monotonic()
            if now - start > timeout:
                timed_out = True
                _kill_session(proc.pid)
                continue
            if now - shown >= 30:
                shown = now
                print("  ... %4.0f s, %s" % (now - start, _current_task(log)), flush=True)
            time.sleep(0.5)
    finally:
        if proc.returncode is None:
            _kill_session(proc.pid)
            proc.wait()
        RUNNING.remove(proc.pid)
    seconds = time.monotonic() - start
    # The ledger's lock holder leaves when the run ends; wait for it, then stop stragglers.
    workdir = str(log.parent.parent)
    deadline = time.monotonic() + 10
    while (_session_processes(proc.pid) or _holders(workdir)) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = _session_processes(proc.pid) + _holders(workdir)
    if left:
        _kill_session(proc.pid)
        for pid in _holders(workdir):
            os.kill(pid, signal.SIGKILL)
        print("controller bench: stopped %d processes the run left behind: %s" % (len(left), left), flush=True)
    output = log.read_text(encoding="utf-8", errors="replace")
    if timed_out:
        raise BenchFailed("controller bench: ansible-playbook %s exceeded its %d s and was stopped"
                          % (" ".join(args), timeout))
    if proc.returncode != 0:
        sys.stderr.write(output[-8000:])
        kept = Path(tempfile.gettempdir()) / "podnet-controller-bench-failed.log"
        shutil.copyfile(log, kept)
        raise BenchFailed("controller bench: ansible-playbook %s failed (rc %d); its output: %s"
                          % (" ".join(args), proc.returncode, kept))
    return {"seconds": seconds, "maxrss_mb": usage.ru_maxrss / 1024,
            "cpu": usage.ru_utime + usage.ru_stime, "load": os.getloadavg()[0], "output": output}


def _current_task(log: Path) -> str:
    try:
        with open(log, "rb") as handle:
            handle.seek(max(0, log.stat().st_size - 20000))
            tail = handle.read().decode("utf-8", "replace")
    except OSError:
        return "starting"
    tasks = re.findall(r"^(?:TASK|PLAY|RUNNING HANDLER) \[([^\]]*)\]", tail, re.M)
    return tasks[-1] if tasks else "starting"


# ---------------------------------------------------------------- the benchmark

def measure(size: int, args, workdir: Path) -> list[dict]:
    """The runs of one fleet size; a row per run."""
    inv_dir = workdir / ("n%d" % size)
    inv_dir.mkdir()
    document = inventory(size, str(VENV_BIN / "python"), zones=args.zones)
    (inv_dir / "hosts.yml").write_text(yaml.safe_dump(document, sort_keys=True), encoding="utf-8")
    nodes = sorted(host for zone in document["all"]["children"]["podnet_nodes"]["children"].values()
                   for host in zone["hosts"])
    common = ["-i", str(inv_dir), "--forks", str(args.forks)]
    base = {} if args.parallel_nft else {"PATH": "%s:%s" % (workdir / "bin", os.environ.get("PATH", ""))}
    variants = [("", base)]
    if args.mitogen:
        import ansible_mitogen  # pylint: disable=import-outside-toplevel

        strategies = Path(ansible_mitogen.__file__).parent / "plugins" / "strategy"
        variants.append((", mitogen", dict(base, ANSIBLE_STRATEGY_PLUGINS=str(strategies),
                                           ANSIBLE_STRATEGY="mitogen_linear")))
    before = snapshot()
    rows, ignored = [], 0
    floor_book = TREE["root"] / "benchmarks" / "floor.yml"
    site_book = TREE["root"] / "playbooks" / "site.yml"
    for suffix, env in variants:
        # The floor before and after the site run (their mean is the floor): the load of a
        # shared machine drifts, and one floor would flatter or blame the run between.
        runs = {}
        for key, label, book, extra in (("floor1", "floor" + suffix, floor_book, []),
                                        ("site", "site --check" + suffix, site_book, ["--check"]),
                                        ("floor2", "floor again" + suffix, floor_book, [])):
            print("controller bench: %d hosts: %s ..." % (size, label), flush=True)
            log = inv_dir / (re.sub(r"\W+", "-", label) + ".log")
            run = playbook(common + extra + [str(book)], log, args.timeout, env)
            hosts = recap(run["output"])
            run["tasks"] = tasks_per_node(hosts, nodes)
            run["changed"] = sum(1 for name in nodes if hosts[name][1])
            run["label"] = label
            runs[key] = run
            print("controller bench: %d hosts: %s: %.1f s (CPU %.0f s), peak RSS %.0f MB, %s tasks per node"
                  % (size, label, run["seconds"], run["cpu"], run["maxrss_mb"], _tasks(run["tasks"])),
                  flush=True)
            ignored += guard(before, "%s on %d hosts" % (label, size))
        floor = {key: (runs["floor1"][key] + runs["floor2"][key]) / 2 for key in ("seconds", "cpu")}
        for key in ("floor1", "site", "floor2"):
            run = runs[key]
            rows.append({"nodes": size, "run": run["label"], "seconds": run["seconds"], "cpu": run["cpu"],
                         "maxrss_mb": run["maxrss_mb"], "tasks": run["tasks"], "changed": run["changed"],
                         "x_floor": run["seconds"] / floor["seconds"], "x_floor_cpu": run["cpu"] / floor["cpu"],
                         "per_host": run["seconds"] / size, "load": run["load"]})
        print("controller bench: %d hosts: site --check%s = %.2f x floor (%.2f x in CPU time)"
              % (size, suffix, rows[-2]["x_floor"], rows[-2]["x_floor_cpu"]), flush=True)
    written = sorted(path.name for path in inv_dir.iterdir()
                     if path.name != "hosts.yml" and not path.name.endswith(".log"))
    print("controller bench: %d hosts: the runs wrote beside the inventory: %s"
          % (size, ", ".join(written) or "nothing"), flush=True)
    print("controller bench: %d hosts: guard passed (links, routes, rules, nft, sysctls, podnet's "
          "files unchanged%s)" % (size, "; %d foreign changes ignored" % ignored if ignored else ""),
          flush=True)
    return rows


def nft_lock(workdir: Path) -> None:
    """WORKDIR/bin/nft: the real nft under one lock for all the benchmark's hosts.

    Every host here shares this machine's kernel. podnet_firewall's check mode validates
    its ruleset with `nft -c -f`, and while that runs, another module's `nft list table
    inet podnet` on the same kernel can see an empty table inet podnet (the file's first
    command), which podnet takes for a table someone else made: that host fails. Separate
    machines never see each other's nft calls; serialising them (the modules find the
    wrapper first on PATH, which local connections inherit) restores that."""
    real = shutil.which("nft")
    (workdir / "bin").mkdir()
    wrapper = workdir / "bin" / "nft"
    wrapper.write_text('#!/bin/sh\nexec %s %s %s "$@"\n' % (shutil.which("flock") or "/usr/bin/flock",
                                                            workdir / "nft.lock", real))
    wrapper.chmod(0o755)


def export(ref: str, workdir: Path) -> None:
    """Run the playbooks, roles, modules and planner of commit REF: a `git archive` of it in
    WORKDIR/tree, the collection podnet.network linked to it as scripts/setup.sh links this
    checkout, and put first on the controller's Python path (the venv's .pth names this
    checkout). The working tree, which others may be editing, is not read."""
    tree = workdir / "tree"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", ref],
                             capture_output=True, timeout=120, check=False)
    if archive.returncode != 0:
        raise BenchFailed("controller bench: git archive %s failed: %s" % (ref, archive.stderr.decode().strip()))
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, timeout=120, check=True)
    link = tree / ".cache" / "collections" / "ansible_collections" / "podnet" / "network"
    link.parent.mkdir(parents=True)
    link.symlink_to(tree)
    TREE["root"] = tree
    TREE["env"] = {"PYTHONPATH": "%s:%s" % (tree, tree / ".cache" / "collections")}
    print("controller bench: running the playbooks of %s (%s)" % (ref, subprocess.run(
        ["git", "-C", str(ROOT), "log", "-1", "--format=%h %s", ref], capture_output=True, text=True,
        timeout=30, check=False).stdout.strip()[:100]), flush=True)


def _tasks(span: tuple[int, int]) -> str:
    return str(span[0]) if span[0] == span[1] else "%d-%d" % span


def table(rows: list[dict], forks: int) -> str:
    """The figures; x floor is against the mean of the floor before and after each run."""
    lines = ["%6s %-24s %8s %8s %8s %6s %8s %8s %10s %8s %5s" % (
        "nodes", "run", "seconds", "CPU s", "RSS MB", "tasks", "x floor", "x CPU", "s per host",
        "changed", "load")]
    for row in rows:
        lines.append("%6d %-24s %8.1f %8.1f %8.0f %6s %8.2f %8.2f %10.3f %8d %5.1f" % (
            row["nodes"], row["run"], row["seconds"], row["cpu"], row["maxrss_mb"], _tasks(row["tasks"]),
            row["x_floor"], row["x_floor_cpu"], row["per_host"], row["changed"], row["load"]))
    sizes = sorted({row["nodes"] for row in rows})
    if len(sizes) > 1:
        for label in sorted({row["run"] for row in rows if row["run"].startswith("site")}):
            cost = {row["nodes"]: row for row in rows if row["run"] == label}
            if sizes[0] in cost and sizes[-1] in cost:
                big, small = cost[sizes[-1]], cost[sizes[0]]
                lines.append("%s: per-host cost at %d / at %d = %.2f (CPU time per host: %.2f)" % (
                    label, sizes[-1], sizes[0], big["per_host"] / small["per_host"],
                    (big["cpu"] / sizes[-1]) / (small["cpu"] / sizes[0])))
    for size in sizes:
        site = {row["run"]: row for row in rows if row["nodes"] == size and row["run"].startswith("site")}
        if "site --check" in site and "site --check, mitogen" in site:
            plain, mitogen = site["site --check"], site["site --check, mitogen"]
            lines.append("%d hosts: site under mitogen / without = %.2f in wall time, %.2f in CPU time"
                         % (size, mitogen["seconds"] / plain["seconds"], mitogen["cpu"] / plain["cpu"]))
    lines.append("forks %d, every host this machine (local connection), %d CPUs; load = 1-min load "
                 "average at the end of each run; x floor against the mean of the floor before and "
                 "after; RSS = peak of ansible-playbook and its descendants (wait4)" % (forks, os.cpu_count()))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", default="20", help="comma-separated fleet sizes, e.g. 100,1000 (default 20)")
    parser.add_argument("--forks", type=int, default=20, help="Ansible forks (default 20, as issue 26 measured)")
    parser.add_argument("--zones", type=int, default=10, help="zones of the generated fleet (default 10)")
    parser.add_argument("--mitogen", action="store_true", help="also run floor and site under mitogen_linear")
    parser.add_argument("--parallel-nft", action="store_true",
                        help="let the hosts' nft calls overlap (shows the check-mode race, see nft_lock)")
    parser.add_argument("--ref", help="run the playbooks of this commit (git archive), not the working tree")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per run (default 3600)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.nodes.split(",")]
    for size in sizes:
        inventory(size, "python", zones=args.zones)  # bad sizes fail before anything runs
    if shutil.which("nft") is None or shutil.which("ip") is None:
        raise SystemExit("controller bench: the guard needs ip and nft on this machine")
    if os.geteuid() != 0:
        raise SystemExit("controller bench: run as root (the guard reads the nft ruleset; podnet's "
                         "modules read it in check mode too)")

    def interrupted(*_signal):
        raise SystemExit(130)  # unwinds to the `finally` blocks: kills the run, removes the files

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    workdir = Path(tempfile.mkdtemp(prefix="podnet-controller-bench-"))
    rows = []
    try:
        nft_lock(workdir)
        if args.ref:
            export(args.ref, workdir)
        for size in sizes:
            rows += measure(size, args, workdir)
        print()
        print(table(rows, args.forks))
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for session in list(RUNNING):
            _kill_session(session)
        deadline = time.monotonic() + 5
        while _holders(str(workdir)) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in _holders(str(workdir)):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(workdir, ignore_errors=True)
        print("controller bench: removed %s" % workdir, flush=True)


if __name__ == "__main__":
    try:
        main()
    except BenchFailed as failure:
        raise SystemExit(str(failure)) from None
