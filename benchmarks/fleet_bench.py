#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fleet benchmark: what a site.yml run costs on a lab fleet, next to Ansible's floor.

Builds the benchmark's own lab (`playbooks/lab/up.yml -e podnet_lab_name=fb`: 2 zones,
containers running sshd, reached over real SSH; its names, networks and inventory never
touch `make lab`'s), then times, in one run and on the same hosts:

  floor        one trivial task (ping) on every node: what any play costs here
  cold         playbooks/site.yml on fresh nodes
  no-op        site.yml again (nothing to change)
  add one      site.yml after one more node joined the inventory
  no-op mitogen  (with --mitogen) the no-op run under mitogen_linear

and prints seconds, seconds per node (the run's seconds over the nodes it ran on), tasks
evaluated per node (ok + skipped, from the play recap), hosts changed, and each run as a
ratio to the floor. The lab is removed at the end, also when interrupted (Ctrl-C,
SIGTERM); `--keep` leaves it for a look.

`--nodes 16,48` measures each size in turn (its own lab, built and removed before the next
one), then prints every run's cost per node at each size as a ratio to the first size's:
1.0 is a per-node cost flat in the fleet size (the run's total linear in n).

`--render-only 1000,5000` needs no hosts: it plans fleets of that size on the controller
and computes nodes' slices of the plan (what site.yml ships to each node; timed on 100
nodes spread over the fleet), printing the time per node: a node's slice holds a route
per peer, so it grows linearly with the fleet, and the controller's total is that times n.

`--deliver 5000` is the controller's side of a site.yml run at that size, measured whole:
plan the fleet, encode its fleet table once (the plan step's podnet_fleet_table), then for
every node, one at a time, do what the action plugin podnet.network.podnet_node does (read
the plan and the table from localhost's stored variables, check the settings, make the
node's O(1) view and its module arguments) and serialise the arguments as Ansible ships
them (its module encoder, then the repr into the module's wrapper), and drop them. It
prints the plan's, the table's and the payloads' CPU time, the payload's size and the
process's peak RSS (run it under `/usr/bin/time -v` for the whole process's figures, as
`make bench-fleet` does), beside two earlier designs measured on a sample of nodes and
scaled to the fleet: podnet_node shipping each node's own slice (made on the controller,
O(n) per node), and the node play before podnet_node (each node's slice kept as a host
fact, five concern tasks each shipping its arguments through Ansible's encoder). Apart,
it prints what each node spends deriving its slice and concerns' arguments from the table
(node CPU, not the controller's; sampled).

Usage: make bench-fleet [N=16]   or   .venv/bin/python benchmarks/fleet_bench.py --nodes 16[,48]
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
INVENTORY_DIR = ROOT / "inventories" / "fb"
HOSTS_FILE = INVENTORY_DIR / "hosts.yml"
FLOOR_PLAYBOOK = ROOT / "benchmarks" / "floor.yml"
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)")
# Every run is bounded: a hung host fails the benchmark instead of holding the machine.
# 30 minutes, or 40 s per node for larger fleets (a run's work grows with the fleet).
RUN_TIMEOUT = 1800
RUN_TIMEOUT_PER_NODE = 40
MAX_NODES = 78  # 2 zones of at most 40 lab hosts (playbooks/lab), one of each a spare


def run_timeout(nodes: int) -> float:
    """The time bound of one ansible-playbook run on a fleet of NODES."""
    return max(RUN_TIMEOUT, RUN_TIMEOUT_PER_NODE * nodes)


def parse_sizes(text: str) -> list[int]:
    """`--nodes`: one fleet size or several, comma-separated; each even, 2..MAX_NODES."""
    try:
        sizes = [int(part) for part in str(text).split(",") if part.strip()]
    except ValueError:
        sizes = []
    if not sizes or any(size < 2 or size % 2 or size > MAX_NODES for size in sizes):
        raise SystemExit(f"fleet bench: --nodes {text!r}: give even sizes, 2..{MAX_NODES} "
                         "(2 zones), comma-separated (e.g. --nodes 16,48)")
    return sizes


def ansible_forks() -> int:
    """The forks the runs use: ANSIBLE_FORKS, else ansible.cfg's, else Ansible's default 5."""
    if os.environ.get("ANSIBLE_FORKS"):
        return int(os.environ["ANSIBLE_FORKS"])
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "ansible.cfg")
    return config.getint("defaults", "forks", fallback=5)


def per_node(rows: list[tuple]) -> dict:
    """Each run's seconds per node it ran on and its ratio to the floor (the first row).
    ROWS: (label, seconds, tasks per node, nodes changed, nodes in the run, controller CPU
    seconds)."""
    floor = rows[0][1]
    return {label: {"seconds": secs, "per_node": secs / hosts, "x_floor": secs / floor,
                    "cpu_per_node": cpu / hosts}
            for label, secs, _tasks, _changed, hosts, cpu in rows}


def table(rows: list[tuple]) -> list[str]:
    """The lines of one fleet size's table."""
    costs = per_node(rows)
    lines = ["%-26s %9s %11s %15s %14s %9s %18s" % ("run", "seconds", "s per node", "tasks per node",
                                                    "nodes changed", "x floor", "controller CPU s")]
    for label, secs, tasks, changed, _hosts, cpu in rows:
        lines.append("%-26s %9.1f %11.2f %15d %14d %9.2f %18.1f" % (
            label, secs, costs[label]["per_node"], tasks, changed, costs[label]["x_floor"], cpu))
    return lines


def comparison(results: dict) -> list[str]:
    """RESULTS: fleet size -> its rows. Each run's seconds per node at every size and its
    ratio to the first size's, in wall time and in the controller's CPU time (a shared
    machine's load moves the first much more); 1.0 is a per-node cost flat in n."""
    sizes = list(results)
    base = per_node(results[sizes[0]])
    costs = {size: per_node(rows) for size, rows in results.items()}
    lines = []
    for key, title in (("per_node", "s per node (x first size)"),
                       ("cpu_per_node", "CPU s per node (x first)")):
        header = "%-26s" % title
        for size in sizes:
            header += " %16s" % f"{size} nodes"
        lines.append(header)
        for label in base:
            line = "%-26s" % label
            for size in sizes:
                cost = costs[size].get(label)
                if cost is None or not base[label][key]:
                    line += " %16s" % "-"
                else:
                    line += " %16s" % ("%.2f (%.2fx)" % (cost[key], cost[key] / base[label][key]))
            lines.append(line)
    return lines


class RunFailed(RuntimeError):
    """An ansible-playbook run of the benchmark failed (its output is printed)."""


def playbook(args: list[str], env: dict | None = None, timeout: float = RUN_TIMEOUT) -> tuple[float, str, float]:
    """Run ansible-playbook from the repository root; (seconds, output, CPU seconds of the
    controller: ansible-playbook, its workers and the processes they waited for, not the
    nodes' side). Fails loudly."""
    full_env = dict(os.environ, ANSIBLE_LOCALHOST_WARNING="False",
                    ANSIBLE_INVENTORY_UNPARSED_WARNING="False", ANSIBLE_STDOUT_CALLBACK="default",
                    ANSIBLE_FORCE_COLOR="0", **(env or {}))
    start, used = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([str(VENV_BIN / "ansible-playbook"), *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    seconds, after = time.monotonic() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - used.ru_utime + after.ru_stime - used.ru_stime
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-6000:] + done.stderr[-3000:])
        raise RunFailed(f"fleet bench: ansible-playbook {' '.join(args)} failed (rc {done.returncode})")
    return seconds, done.stdout, cpu


def recap(output: str, nodes: list[str]) -> dict:
    """Tasks evaluated per node (max over nodes of ok + skipped) and nodes changed."""
    per_node, changed = {}, 0
    for line in output.splitlines():
        match = RECAP.match(line.strip())
        if match and match.group(1) in nodes:
            ok, chg, skipped = int(match.group(2)), int(match.group(3)), int(match.group(6))
            per_node[match.group(1)] = per_node.get(match.group(1), 0) + ok + skipped
            changed += chg > 0
    return {"tasks": max(per_node.values()) if per_node else 0, "changed": changed}


def node_names(inventory: dict) -> list[str]:
    zones = inventory["all"]["children"]["podnet_nodes"]["children"]
    return sorted(host for zone in zones.values() for host in zone["hosts"])


def hold_back(inventory: dict) -> tuple[dict, dict]:
    """Move the last node of every zone out of podnet_nodes into group lab_spare (still
    given its underlay by the lab playbook), to be added to the fleet later."""
    spares, spare_group = {}, {}
    for group, zone in inventory["all"]["children"]["podnet_nodes"]["children"].items():
        last = sorted(zone["hosts"])[-1]
        spares[last] = group
        spare_group[last] = zone["hosts"].pop(last)
    inventory["all"]["children"]["lab_spare"] = {"hosts": spare_group}
    return inventory, spares


def zone_prefix(per_zone: int, node_prefix: int = 24, default_prefix: int = 20) -> int | None:
    """The zone block the benchmark plans with for PER_ZONE nodes a zone (its spare
    included): None (the planner's default, a /20 of /24s: 16 nodes) while that holds them,
    else the longest prefix that does (--nodes 48: 25 a zone, /19). Planning a new lab with
    it changes no node's routes, only how many node subnets a zone's block holds."""
    bits = max(per_zone - 1, 0).bit_length()
    return None if node_prefix - default_prefix >= bits else node_prefix - bits


def write_inventory(inventory: dict) -> None:
    HOSTS_FILE.write_text(yaml.safe_dump(inventory, sort_keys=True))


def render_only(sizes: list[int], sample: int = 100) -> None:
    """Plan fleets of SIZES nodes and compute nodes' slices (what site.yml keeps for each
    node: no peers list) on the controller, no hosts. Slices are timed on SAMPLE nodes
    spread over the fleet; the fleet's total is that mean times the fleet size (each slice
    is independent), and so is what the controller holds at once (site.yml keeps every
    node's slice as a host fact for its node play)."""
    from podnet_planner import host_view, plan  # pylint: disable=import-outside-toplevel

    print("%8s %6s %10s %16s %18s %11s %16s" % ("nodes", "zones", "plan (s)", "slice (ms/node)",
                                                "all slices (s, est.)", "slice (KB)",
                                                "held at once (MB)"))
    for size in sizes:
        zones = max(2, size // 100)
        per_zone = -(-size // zones)
        nodes = {"node-%05d" % i: {"zone": "zone-%03d" % (i // per_zone),
                                   "address": "172.%d.%d.%d" % (16 + (i // per_zone) // 256,
                                                               (i // per_zone) % 256, i % per_zone + 1),
                                   "prefix": 24}
                 for i in range(size)}
        start = time.perf_counter()
        result = plan(nodes, {"cluster_cidr": "10.0.0.0/8", "backend": "auto"})
        planned = time.perf_counter() - start
        names = sorted(result["nodes"])[::max(1, size // sample)]
        start, total_bytes = time.perf_counter(), 0
        for name in names:
            total_bytes += len(json.dumps(host_view(result, name, peers=False)))
        per_node = (time.perf_counter() - start) / len(names)
        slice_kb = total_bytes / len(names) / 1024
        print("%8d %6d %10.2f %16.2f %18.1f %11.0f %16.0f" % (
            size, zones, planned, per_node * 1000, per_node * size, slice_kb, slice_kb * size / 1024))


def _fleet(size: int) -> dict:
    """The render-only fleet of SIZE nodes: 100 per zone, one /24 underlay per zone."""
    zones = max(2, size // 100)
    per_zone = -(-size // zones)
    return {"node-%05d" % i: {"zone": "zone-%03d" % (i // per_zone),
                              "address": "172.%d.%d.%d" % (16 + (i // per_zone) // 256,
                                                          (i // per_zone) % 256, i % per_zone + 1),
                              "prefix": 24}
            for i in range(size)}


def deliver(sizes: list[int], sample: int = 20) -> None:
    """Plan each fleet of SIZES nodes, encode its fleet table once and make every node's
    podnet_node payload, one at a time, serialised as Ansible ships it; print CPU, sizes
    and peak RSS, beside the earlier designs (sampled, scaled to the fleet) and the node's
    own cost of deriving its concerns from the table (sampled)."""
    import resource  # pylint: disable=import-outside-toplevel

    sys.path.insert(0, str(ROOT / ".cache" / "collections"))
    # pylint: disable=import-outside-toplevel
    from ansible._internal._templating._engine import TemplateEngine
    from ansible.module_utils.common.json import Direction, get_module_encoder
    from ansible_collections.podnet.network.plugins.action.podnet_node import payload, plan_and_table
    from ansible_collections.podnet.network.plugins.module_utils.podnet_slice import concerns_from_table
    from ansible_collections.podnet.network.plugins.plugin_utils.planner import host_view, plan
    from ansible_collections.podnet.network.plugins.plugin_utils.planner.agent_slices import concern_settings
    from ansible_collections.podnet.network.plugins.plugin_utils.planner.host_view import (
        concern_arguments, fleet_table)

    # The concerns' settings as the node play gives them when the inventory sets none.
    default_settings = concern_settings()

    encoder = get_module_encoder("legacy", Direction.CONTROLLER_TO_MODULE)

    def ship(module_args):
        """What Ansible makes of module arguments on the controller: the module encoder's
        JSON, then its repr inside the module's wrapper. Returns the bytes shipped."""
        encoded = json.dumps({"ANSIBLE_MODULE_ARGS": module_args}, cls=encoder)
        return len(repr(encoded))

    class HostVars(dict):
        """hostvars as the action plugin reads them (raw_get: the stored variables)."""

        def raw_get(self, host):
            return self[host]

    for size in sizes:
        cpu = time.process_time
        start = cpu()
        result = plan(_fleet(size), {"cluster_cidr": "10.0.0.0/8", "backend": "auto"})
        planned = cpu() - start
        start = cpu()
        table = fleet_table(result)
        encoded = cpu() - start
        names = sorted(result["nodes"])
        picked = names[::max(1, size // sample)]

        # Before podnet_node: per node the slice as a host fact (kept), then five tasks whose
        # arguments go through the encoder one concern at a time.
        start, kept = cpu(), 0
        for name in picked:
            view = host_view(result, name, peers=False)
            kept += len(json.dumps(view))
            for arguments in concern_arguments(view, result["network"], default_settings).values():
                ship(arguments)
        oldest = (cpu() - start) / len(picked)
        # podnet_node before the fleet table: the node's slice made on the controller and
        # shipped as one JSON text of its concerns' arguments.
        start, slice_bytes = cpu(), 0
        for name in picked:
            view = host_view(result, name, peers=False)
            concerns = concern_arguments(view, result["network"], default_settings, False)
            slice_bytes += ship({"concerns": json.dumps(concerns, separators=(",", ":"))})
            del view, concerns
        sliced = (cpu() - start) / len(picked)
        # What hostvars['localhost'].podnet_plan_result costs each time a task templates it
        # (the action plugin reads the stored plan instead).
        start = cpu()
        TemplateEngine(variables={"podnet_plan_result": result}).template(result)
        templated = cpu() - start

        # Now: every node, one at a time, as the action plugin does it; nothing of a node is
        # kept but its O(1) view.
        task_vars = {"hostvars": HostVars(localhost={"podnet_plan_result": result, "podnet_plan_table": table})}
        start, shipped, largest, kept_after = cpu(), 0, 0, 0
        for done, name in enumerate(names, 1):
            plan_read, table_read = plan_and_table(task_vars)
            module_args, node = payload(plan_read, table_read, name, default_settings, False)
            size_out = ship(module_args)
            shipped += size_out
            largest = max(largest, size_out)
            kept_after += len(json.dumps(node))
            del module_args
            if done % 1000 == 0 and done < size:
                print(f"  ... {done} of {size} nodes: {cpu() - start:.1f} s CPU, peak RSS "
                      f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB", flush=True)
        after = cpu() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        # On the node (not the controller): the module derives its concerns from the table.
        start = cpu()
        for name in picked:
            concerns_from_table(table, name, default_settings, False)
        derive = (cpu() - start) / len(picked)

        print(f"{size} nodes, {max(2, size // 100)} zones, backend auto: plan {planned:.2f} s CPU; "
              f"fleet table {encoded * 1000:.0f} ms CPU, {len(table) / 1024:.0f} KB; templating the whole "
              f"plan once {templated * 1000:.0f} ms")
        print(f"  before podnet_node (sampled on {len(picked)} nodes, scaled): {oldest * 1000:.1f} ms per node, "
              f"{oldest * size:.0f} s for the fleet; slices held at once {kept / len(picked) * size / 2**20:.0f} MB")
        print(f"  podnet_node shipping each node's slice (sampled on {len(picked)} nodes, scaled): "
              f"{sliced * 1000:.1f} ms per node, {sliced * size:.0f} s for the fleet; payload "
              f"{slice_bytes / len(picked) / 1024:.0f} KB per node")
        print(f"  now, the fleet table (every node, measured): {after / size * 1000:.2f} ms per node, {after:.1f} s "
              f"for the fleet, plan + table + payloads {planned + encoded + after:.1f} s CPU; payload "
              f"{shipped / size / 1024:.0f} KB per node (largest {largest / 1024:.0f} KB); kept per node "
              f"{kept_after / size:.0f} B; peak RSS {peak:.0f} MB")
        print(f"  on each node (not the controller; sampled on {len(picked)} nodes): deriving its concerns "
              f"from the table {derive * 1000:.1f} ms CPU", flush=True)


def log_name(size: int, label: str) -> str:
    """The file a run's whole output goes to under --log-dir: 48-no-op-re-run.log."""
    return "%d-%s.log" % (size, re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-"))


def fleet(size: int, mitogen: bool, keep: bool, log_dir: Path | None = None) -> list[tuple]:
    """Build the benchmark lab of SIZE nodes (+2 spares), time the runs on it, print its
    table and remove the lab (also when interrupted). Returns the rows. With LOG_DIR, each
    timed run's output (with profile_tasks' time per task) is kept there."""
    timeout = run_timeout(size + 2)
    rows = []
    try:
        per_zone = size // 2 + 1  # one spare per zone, to add later
        seconds, _output, _cpu = playbook(["playbooks/lab/up.yml", "-e", "podnet_lab_name=fb",
                                           "-e", f"podnet_lab_nodes_per_zone={per_zone}"], timeout=timeout)
        print(f"fleet bench: lab of {size} nodes (+2 spares) up in {seconds:.0f} s", flush=True)
        inventory, spares = hold_back(yaml.safe_load(HOSTS_FILE.read_text()))
        if zone_prefix(per_zone) is not None:
            inventory["all"]["vars"]["podnet_plan_zone_prefix"] = zone_prefix(per_zone)
        write_inventory(inventory)
        inv = ["-i", str(INVENTORY_DIR)]
        playbook(inv + ["playbooks/lab/prepare.yml"], timeout=timeout)
        nodes = node_names(inventory)

        def run(label, playbook_path, env=None, optional=False):
            hosts = len(node_names(inventory))
            try:
                secs, out, cpu = playbook(inv + [playbook_path], env=env, timeout=timeout)
            except RunFailed as exc:
                if not optional:
                    raise
                print(f"{exc} (reported, not fatal)", flush=True)
                rows.append((label + " FAILED", float("nan"), 0, 0, hosts, float("nan")))
                return
            if log_dir:
                (log_dir / log_name(size, label)).write_text(out)
            figures = recap(out, node_names(inventory))
            rows.append((label, secs, figures["tasks"], figures["changed"], hosts, cpu))
            print(f"fleet bench: {label}: {secs:.1f} s", flush=True)

        run("floor (1 trivial task)", str(FLOOR_PLAYBOOK))
        run("cold converge", "playbooks/site.yml")
        run("no-op re-run", "playbooks/site.yml")
        spare, group = sorted(spares.items())[0]
        hostvars = inventory["all"]["children"]["lab_spare"]["hosts"].pop(spare)
        inventory["all"]["children"]["podnet_nodes"]["children"][group]["hosts"][spare] = hostvars
        write_inventory(inventory)
        run("add one node", "playbooks/site.yml")
        if mitogen:
            import ansible_mitogen  # pylint: disable=import-outside-toplevel

            strategies = Path(ansible_mitogen.__file__).parent / "plugins" / "strategy"
            run("no-op, mitogen_linear", "playbooks/site.yml",
                env={"ANSIBLE_STRATEGY_PLUGINS": str(strategies), "ANSIBLE_STRATEGY": "mitogen_linear"},
                optional=True)
        print()
        print(f"{len(nodes)} nodes in 2 zones over SSH, forks {ansible_forks()}; load average "
              "%.1f %.1f %.1f on %d CPUs" % (os.getloadavg() + (os.cpu_count(),)))
        print("\n".join(table(rows)), flush=True)
    finally:
        # Nothing interrupts the removal; the handlers come back for the next size.
        handlers = signal.signal(signal.SIGINT, signal.SIG_IGN), signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if not keep:
            print("fleet bench: removing the benchmark lab", flush=True)
            playbook(["playbooks/lab/down.yml", "-e", "podnet_lab_name=fb"], timeout=timeout)
        signal.signal(signal.SIGINT, handlers[0])
        signal.signal(signal.SIGTERM, handlers[1])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", default="16",
                        help=f"fleet size (even: 2 zones, 2..{MAX_NODES}), or sizes measured one after "
                             "the other and compared per node (16,48); default 16")
    parser.add_argument("--mitogen", action="store_true", help="also time the no-op run under mitogen_linear")
    parser.add_argument("--keep", action="store_true", help="leave the benchmark lab up afterwards")
    parser.add_argument("--log-dir", type=Path, help="keep each timed run's output (profile_tasks' "
                                                     "time per task) in this directory")
    parser.add_argument("--render-only", help="comma-separated fleet sizes to plan without hosts")
    parser.add_argument("--deliver", help="comma-separated fleet sizes: plan, encode the fleet table and "
                                          "make every node's podnet_node payload, one at a time (no hosts)")
    args = parser.parse_args()
    if args.deliver:
        deliver([int(size) for size in args.deliver.split(",")])
        return
    if args.render_only:
        render_only([int(size) for size in args.render_only.split(",")])
        return
    sizes = parse_sizes(args.nodes)
    if args.log_dir:
        args.log_dir.mkdir(parents=True, exist_ok=True)
    if args.keep and len(sizes) > 1:
        raise SystemExit("fleet bench: --keep takes one size (each size's lab replaces the last one's)")

    def interrupted(*_signal):
        # Unwinds through subprocess.run, which kills the running ansible-playbook, to the
        # `finally` in fleet() that removes the lab (signals are ignored while it does).
        raise SystemExit(130)

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    results = {}
    for size in sizes:
        results[size] = fleet(size, args.mitogen, args.keep, args.log_dir)
        print(flush=True)
    if len(results) > 1:
        print("\n".join(comparison(results)), flush=True)


if __name__ == "__main__":
    try:
        main()
    except RunFailed as failure:
        raise SystemExit(str(failure)) from None
