# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet's node agent: between two runs, check every concern of the node against the
slice the last run applied, probe the peers' pod networks, write Prometheus metrics for
node-exporter's textfile collector and, when repair is on, re-apply a drifted concern.

Standard library only: it runs on the node without Ansible (role podnet_agent installs
podnet's module_utils under /usr/lib/podnet-agent and runs
``python3 -m ansible_collections.podnet.network.plugins.module_utils.podnet_agent``).
Each concern is checked and repaired by the very code podnet's module runs
(``podnet_concern_<concern>.converge``): in check mode its actions are the drift, run
for real they are the repair. `NodeModule` gives that code the few methods of
AnsibleModule it calls. The agent never plans: the slice is the controller's.

The slice file (/etc/podnet/agent/slice.json, written by the module podnet_agent_slice):
``{"generation": int, "digest": sha1 of "slice", "settings": {...}, "slice": {
"hostname", "zone", "concerns": {concern: the module's arguments}, "peers": [{"hostname",
"zone", "pod_cidr", "gateway"}]}}``. A dual-stack node's slice also names its IPv6
underlay address (``address_ipv6``): the agent gives the sysctl concern the interfaces
holding it (``ipv6_accept_ra_interfaces``), looked up on the node by podnet_node's own code,
as the run's podnet_node did (`on_this_node`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import importlib
import json
import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import time

from ansible_collections.podnet.network.plugins.module_utils.podnet_host import as_bool, finish, replace_file, sync_boot_unit
from ansible_collections.podnet.network.plugins.module_utils import podnet_agent_watch
from ansible_collections.podnet.network.plugins.module_utils.podnet_slice import SliceError, underlay_interfaces_ipv6

SLICE_PATH = "/etc/podnet/agent/slice.json"
METRICS_FILE = "podnet_agent.prom"
# The concerns in the order site.yml converges them (a repair follows the same order:
# the bridge before the overlay before the routes before the firewall; WireGuard and BGP,
# whose plays run before the node play, before the routes), then the boot unit every
# concern's boot step needs.
CONCERNS = ("sysctl", "bridge", "vxlan", "wireguard", "bgp", "routes", "firewall")
BOOT = "boot"
PACKAGE = "ansible_collections.podnet.network.plugins.module_utils"
# What the agent runs with when the slice file has no settings (role podnet_agent's defaults).
DEFAULT_SETTINGS = {"interval": 30, "repair": False, "probe_sample": 16, "probe_timeout": 1.0,
                    "metrics_dir": "/var/lib/prometheus/node-exporter"}
SEARCH_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


class ModuleExit(Exception):
    """module.exit_json: the concern's code finished; RESULT holds its actions."""

    def __init__(self, result):
        super(ModuleExit, self).__init__("exit")
        self.result = result


class ModuleFail(Exception):
    """module.fail_json: the concern's code refused or failed (MSG names why)."""

    def __init__(self, msg, result):
        super(ModuleFail, self).__init__(msg)
        self.msg = msg
        self.result = result


class NodeModule:
    """The part of AnsibleModule that podnet's concern code calls, on a node without
    Ansible: run_command (C locale), get_bin_path, check mode, warn, exit/fail (raised
    as ModuleExit/ModuleFail) and the root-owned file attributes persist_file keeps."""

    def __init__(self, params, check_mode):
        self.params = params
        self.check_mode = check_mode
        self._diff = False
        self.warnings = []
        # Secrets the concern code read on the node (the WireGuard keys): masked in what
        # the agent logs or exports, as Ansible masks them in a module's result.
        self.no_log_values = set()

    def run_command(self, argv, data=None, environ_update=None):
        env = dict(os.environ)
        env.update(environ_update or {})
        proc = subprocess.run(argv, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, env=env, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    def get_bin_path(self, tool, required=False):
        path = shutil.which(tool, path=os.pathsep.join(SEARCH_PATH))
        if path is None and required:
            self.fail_json(msg="%s is not installed (searched %s)" % (tool, ", ".join(SEARCH_PATH)))
        return path

    def warn(self, msg):
        self.warnings.append(msg)

    def exit_json(self, **result):
        raise ModuleExit(result)

    def fail_json(self, msg, **result):
        raise ModuleFail(msg, result)

    @staticmethod
    def load_file_common_arguments(params):
        return dict(params)

    def set_fs_attributes_if_different(self, args, changed):
        """root:root and the mode podnet gives its files and directories; True when they
        differed (and, outside check mode, were set)."""
        try:
            status = os.lstat(args["path"])
        except OSError:
            return changed
        mode = int(args["mode"], 8)
        if status.st_mode & 0o7777 == mode and status.st_uid == 0 and status.st_gid == 0:
            return changed
        if not self.check_mode:
            os.chown(args["path"], 0, 0)
            os.chmod(args["path"], mode)
        return True


# --- the slice ---------------------------------------------------------------------------

def slice_digest(slice_):
    """sha1 of the slice's canonical JSON: what tells a new slice from the same one."""
    return hashlib.sha1(json.dumps(slice_, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def plan_slice_file(current_text, slice_, settings, generation):
    """Pure: the slice file's new text, or None when CURRENT_TEXT needs no change. The
    generation moves to GENERATION only when the slice itself changed (and never
    backwards); settings alone keep it."""
    try:
        current = json.loads(current_text) if current_text else None
    except ValueError:
        current = None
    digest = slice_digest(slice_)
    old_generation = current.get("generation") if isinstance(current, dict) else None
    if isinstance(old_generation, int) and current.get("digest") == digest:
        generation = old_generation
    elif isinstance(old_generation, int):
        generation = max(int(generation), old_generation + 1)
    document = {"generation": int(generation), "digest": digest, "settings": settings, "slice": slice_}
    text = json.dumps(document, indent=1, sort_keys=True) + "\n"
    return None if text == current_text else text


def read_slice(path=SLICE_PATH):
    """The slice document, or raise ValueError naming what is wrong with the file."""
    with open(path) as handle:
        document = json.load(handle)
    if not isinstance(document, dict) or not isinstance(document.get("slice"), dict):
        raise ValueError("%s holds no slice (expected a JSON object with 'slice')" % path)
    return document


def settings_of(document):
    settings = dict(DEFAULT_SETTINGS)
    settings.update(document.get("settings") or {})
    settings["repair"] = bool(as_bool(settings["repair"]))
    return settings


def fill_params(spec, given):
    """The concern module's arguments as AnsibleModule would hand them over: the
    slice's values converted to their spec's type, the spec's defaults for the rest."""
    unknown = sorted(set(given or {}) - set(spec))
    if unknown:
        raise ValueError("arguments the module does not take: %s" % ", ".join(unknown))
    params = {}
    for key, option in spec.items():
        value = (given or {}).get(key, option.get("default"))
        kind = option.get("type", "str")
        if value is not None:
            if kind == "bool":
                converted = as_bool(value)
                if converted is None:
                    raise ValueError("%s=%r is not a boolean" % (key, value))
                value = converted
            elif kind == "int":
                value = int(value)
            elif kind in ("str", "path"):
                value = str(value)
            elif kind == "list" and not isinstance(value, list):
                raise ValueError("%s=%r is not a list" % (key, value))
            elif kind == "dict" and not isinstance(value, dict):
                raise ValueError("%s=%r is not a dict" % (key, value))
        params[key] = value
    return params


# --- checking and repairing one concern ----------------------------------------------------

def _converge_boot(module):
    """The boot unit alone: podnet.service installed, enabled and active while a boot
    step exists (podnet_host.sync_boot_unit, which every concern's module calls)."""
    actions = []
    sync_boot_unit(module, actions, [])
    finish(module, actions, [])


def run_concern(concern, arguments, check_mode):
    """Run CONCERN's converge code (check mode: only find what differs). Returns
    {"actions": [...], "error": message or None, "warnings": [...]}."""
    try:
        if concern == BOOT:
            module = NodeModule({}, check_mode)
            converge = _converge_boot
        else:
            code = importlib.import_module("%s.podnet_concern_%s" % (PACKAGE, concern))
            module = NodeModule(fill_params(code.ARGUMENT_SPEC, arguments), check_mode)
            converge = code.converge
    except (ImportError, ValueError) as exc:
        return {"actions": [], "error": "%s: %s" % (concern, exc), "warnings": []}
    try:
        return _masked(_converged(converge, module), module.no_log_values)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return _masked({"actions": [], "error": "%s: %s" % (type(exc).__name__, exc),
                        "warnings": module.warnings}, module.no_log_values)


def _masked(result, secrets):
    """RESULT with every secret the concern code read replaced by ********."""
    def mask(text):
        for secret in secrets:
            if secret and text:
                text = text.replace(secret, "********")
        return text
    return {"actions": [mask(a) for a in result["actions"]], "error": mask(result["error"]),
            "warnings": [mask(w) for w in result["warnings"]]}


def _converged(converge, module):
    """Run CONVERGE(MODULE) to its exit or failure: {"actions", "error", "warnings"}."""
    try:
        converge(module)
    except ModuleExit as done:
        return {"actions": list(done.result.get("actions") or []), "error": None, "warnings": module.warnings}
    except ModuleFail as failed:
        return {"actions": list(failed.result.get("actions") or []), "error": failed.msg,
                "warnings": module.warnings}
    return {"actions": [], "error": "converge returned without a result", "warnings": []}


def concerns_of(slice_):
    """[(concern, arguments)] in converge order: the slice's concerns, then the boot unit."""
    given = slice_.get("concerns") or {}
    return [(name, given[name]) for name in CONCERNS if name in given and checked(name, given[name])] + [(BOOT, {})]


def checked(concern, arguments):
    """Whether the agent checks CONCERN with these arguments: WireGuard and BGP only where
    the last run converged them (a config, state present); never a removal it would redo."""
    if concern in ("wireguard", "bgp"):
        return bool((arguments or {}).get("config")) and (arguments or {}).get("state", "present") == "present"
    return True


def on_this_node(slice_, concern, arguments, interfaces=None):
    """CONCERN's arguments on this node: the slice's, which the controller made, plus what
    only the node knows. A dual-stack node with an IPv6 underlay address (the slice's
    ``address_ipv6``) gives its sysctl concern ``ipv6_accept_ra_interfaces``: the interfaces
    holding that address, looked up now with the code podnet_node runs in site.yml
    (``podnet_slice.underlay_interfaces_ipv6``: ``ip -json -6 addr show``). INTERFACES: that
    lookup (address -> names), by default on this node. Raises SliceError when no interface
    holds the address, ModuleFail when ip is missing."""
    address = slice_.get("address_ipv6")
    if concern != "sysctl" or not address:
        return arguments
    find = interfaces or underlay_interfaces_ipv6(NodeModule({}, True))
    return dict(arguments, ipv6_accept_ra_interfaces=sorted(find(address)))


def check_and_repair(slice_, repair, log, run=run_concern, interfaces=None):
    """Check every concern; with REPAIR, converge a drifted one for real and check it
    again. INTERFACES: on_this_node's lookup (None: this node's). Returns {concern:
    {"drift": bool, "error": msg or None, "repaired": [...]}}."""
    results = {}
    for concern, arguments in concerns_of(slice_):
        try:
            arguments = on_this_node(slice_, concern, arguments, interfaces)
        except (SliceError, ModuleFail) as exc:
            entry = {"drift": False, "error": "%s: %s" % (concern, exc), "repaired": [], "actions": []}
            log("podnet-agent: %s cannot be checked: %s" % (concern, entry["error"]))
            results[concern] = entry
            continue
        found = run(concern, arguments, True)
        entry = {"drift": bool(found["actions"]), "error": found["error"], "repaired": [],
                 "actions": found["actions"]}
        if found["error"]:
            log("podnet-agent: %s cannot be checked: %s" % (concern, found["error"]))
        elif found["actions"]:
            log("podnet-agent: %s drifted from the slice: %s" % (concern, "; ".join(found["actions"])))
            if repair:
                done = run(concern, arguments, False)
                entry["repaired"] = done["actions"]
                if done["error"]:
                    entry["error"] = done["error"]
                    log("podnet-agent: %s repair failed: %s (done: %s)"
                        % (concern, done["error"], "; ".join(done["actions"]) or "nothing"))
                else:
                    log("podnet-agent: %s repaired: %s" % (concern, "; ".join(done["actions"])))
                    again = run(concern, arguments, True)
                    entry["drift"] = bool(again["actions"])
                    entry["actions"] = again["actions"]
        results[concern] = entry
    return results


# --- probes ------------------------------------------------------------------------------

def gateway_of(peer):
    """A peer's pod gateway: the slice names it, or the first address of its pod subnet."""
    if peer.get("gateway"):
        return peer["gateway"]
    network = peer["pod_cidr"].split("/")[0]
    return socket.inet_ntoa(struct.pack("!I", struct.unpack("!I", socket.inet_aton(network))[0] + 1))


def probe_targets(peers, zone, sample, turn):
    """Pure: the peers to probe on check number TURN: every peer of ZONE, and SAMPLE peers
    of the other zones, rotating so that every peer is reached in turn."""
    own = [p for p in peers if p.get("zone") == zone]
    others = [p for p in peers if p.get("zone") != zone]
    if not others or sample <= 0:
        return own
    if sample >= len(others):
        return own + others
    start = (turn * sample) % len(others)
    picked = (others + others)[start:start + sample]
    return own + picked


def with_retries(targets, peers, unanswered, limit):
    """Pure: TARGETS plus up to LIMIT peers of UNANSWERED (hostnames whose last probe got no
    answer) that the rotating sample left out: a peer of another zone that did not answer
    is probed again on every check until it answers (or leaves the slice), so its
    unreachable-since time means what it means for the own zone's peers."""
    chosen = set(p["hostname"] for p in targets)
    again = [p for p in peers if p["hostname"] in set(unanswered) and p["hostname"] not in chosen]
    return list(targets) + again[:max(0, limit)]


def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def _echo_request(ident, seq):
    header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    payload = b"podnet-agent"
    return struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, seq) + payload


def ping_all(addresses, timeout, source=None):
    """ICMP echo to every address at once over one raw socket (root); {address: RTT in
    seconds, or None when no reply came within TIMEOUT}. SOURCE: the local address the
    echoes leave from (the kernel's choice when None)."""
    rtt = dict((address, None) for address in addresses)
    if not addresses:
        return rtt
    ident = os.getpid() & 0xFFFF
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    try:
        if source:
            sock.bind((source, 0))
        sent = {}
        for seq, address in enumerate(sorted(rtt), 1):
            try:
                sock.sendto(_echo_request(ident, seq), (address, 0))
                sent[address] = (seq, time.monotonic())
            except OSError:
                continue  # no route: unreachable
        by_seq = dict((seq, address) for address, (seq, dummy) in sent.items())
        deadline = time.monotonic() + timeout
        while by_seq:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([sock], [], [], left)[0]:
                break
            packet, source = sock.recvfrom(2048)
            offset = (packet[0] & 0x0F) * 4
            kind, dummy, dummy, r_ident, r_seq = struct.unpack("!BBHHH", packet[offset:offset + 8])
            if kind == 0 and r_ident == ident and by_seq.get(r_seq) == source[0]:
                address = by_seq.pop(r_seq)
                rtt[address] = time.monotonic() - sent[address][1]
    finally:
        sock.close()
    return rtt


# --- since when each problem holds -----------------------------------------------------

def problems_of(results, probes):
    """Pure: the problems one check found, as keys ("drift", concern), ("check_error",
    concern) and ("peer", hostname) (a probed peer that did not answer)."""
    found = set()
    for concern, entry in results.items():
        if entry["drift"]:
            found.add(("drift", concern))
        if entry["error"]:
            found.add(("check_error", concern))
    found.update(("peer", peer["hostname"]) for peer, rtt in probes if rtt is None)
    return found


def track_since(since, problems, now, unknown=()):
    """Pure: {problem: first-seen Unix time} after a check at NOW that found PROBLEMS. A
    problem keeps the time it was first seen while it holds, gets NOW when it is new, and
    goes when a check finds it cleared. UNKNOWN: problems this check could not see either
    way (the peers of other zones that the rotating sample left out): they keep their time
    until a probe answers."""
    kept = dict((key, when) for key, when in since.items() if key in problems or key in unknown)
    for key in problems:
        kept.setdefault(key, now)
    return kept


def unprobed_peers(peers, probes):
    """The ("peer", hostname) keys of the slice's peers this check did not probe."""
    probed = set(peer["hostname"] for peer, dummy in probes)
    return set(("peer", p["hostname"]) for p in peers if p["hostname"] not in probed)


def since_samples(since, peers):
    """Pure: the since metrics' samples: {metric: [(labels, first-seen time)]}."""
    zones = dict((p["hostname"], p.get("zone")) for p in peers)
    out = {"podnet_agent_drift_since_timestamp_seconds": [],
           "podnet_agent_check_error_since_timestamp_seconds": [],
           "podnet_agent_peer_unreachable_since_timestamp_seconds": []}
    for (kind, name), when in sorted(since.items()):
        if kind == "peer":
            out["podnet_agent_peer_unreachable_since_timestamp_seconds"].append(
                ((("peer", name), ("zone", zones.get(name))), when))
        else:
            out["podnet_agent_%s_since_timestamp_seconds" % kind].append(((("concern", name),), when))
    return out


# --- metrics -----------------------------------------------------------------------------

def _label(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render_metrics(document, results, probes, repairs, now, duration, settings, since=None):
    """Pure: the Prometheus text exposition of one check. PROBES: [(peer, rtt or None)];
    REPAIRS: {concern: repairs done since the agent started}; SINCE: track_since's
    {problem: first-seen time}."""
    slice_ = document["slice"]
    lines = []

    def metric(name, kind, helptext, samples):
        lines.append("# HELP %s %s" % (name, helptext))
        lines.append("# TYPE %s %s" % (name, kind))
        for labels, value in samples:
            text = ",".join('%s="%s"' % (k, _label(v)) for k, v in labels)
            lines.append("%s%s %s" % (name, "{%s}" % text if text else "", _number(value)))

    metric("podnet_agent_drift", "gauge",
           "1 when the concern differs from the slice the last run applied (after any repair).",
           [((("concern", c),), int(r["drift"])) for c, r in sorted(results.items())])
    metric("podnet_agent_check_error", "gauge",
           "1 when the concern could not be checked or repaired (the journal says why).",
           [((("concern", c),), int(bool(r["error"]))) for c, r in sorted(results.items())])
    metric("podnet_agent_repairs_total", "counter",
           "Repairs the agent made of the concern since it started.",
           [((("concern", c),), repairs.get(c, 0)) for c in sorted(results)])
    metric("podnet_agent_repair_enabled", "gauge", "1 when repair is on (podnet_agent_repair).",
           [((), int(settings["repair"]))])
    metric("podnet_agent_slice_generation", "gauge",
           "Generation of the slice the agent checks against (the run that last changed it).",
           [((), document.get("generation", 0))])
    metric("podnet_agent_last_check_timestamp_seconds", "gauge", "When the last check finished (Unix time).",
           [((), now)])
    metric("podnet_agent_check_duration_seconds", "gauge", "How long the last check took.", [((), duration)])
    metric("podnet_agent_interval_seconds", "gauge", "Seconds between two checks.", [((), settings["interval"])])

    zone = slice_.get("zone")
    metric("podnet_agent_peer_up", "gauge",
           "1 when the peer's pod gateway answered this check's probe (peers of the own zone every "
           "check, other zones' in a rotating sample).",
           [((("peer", p["hostname"]), ("zone", p.get("zone"))), int(rtt is not None)) for p, rtt in probes])
    metric("podnet_agent_peer_rtt_seconds", "gauge", "Round-trip time of the peer's probe.",
           [((("peer", p["hostname"]), ("zone", p.get("zone"))), rtt) for p, rtt in probes if rtt is not None])
    zones = {}
    for peer, rtt in probes:
        zones.setdefault(peer.get("zone"), []).append(rtt)
    metric("podnet_agent_zone_peers_probed", "gauge", "Peers of the zone probed by this check.",
           [((("zone", zone), ("peer_zone", z)), len(v)) for z, v in sorted(zones.items())])
    metric("podnet_agent_zone_peers_reachable", "gauge", "Peers of the zone that answered this check.",
           [((("zone", zone), ("peer_zone", z)), len([r for r in v if r is not None])) for z, v in sorted(zones.items())])
    metric("podnet_agent_zone_rtt_seconds", "gauge", "Mean round-trip time to the zone's answering peers.",
           [((("zone", zone), ("peer_zone", z)), sum(r for r in v if r is not None) / len([r for r in v if r is not None]))
            for z, v in sorted(zones.items()) if any(r is not None for r in v)])
    since_help = {
        "podnet_agent_drift_since_timestamp_seconds":
            "Since when (Unix time, first check that saw it) the concern has drifted without a break.",
        "podnet_agent_check_error_since_timestamp_seconds":
            "Since when (Unix time) the concern has failed to be checked or repaired without a break.",
        "podnet_agent_peer_unreachable_since_timestamp_seconds":
            "Since when (Unix time) the peer has not answered: its first failed probe, kept until a "
            "probe answers (a peer of another zone is probed only when the rotating sample reaches it).",
    }
    for name, samples in sorted(since_samples(since or {}, slice_.get("peers") or []).items()):
        metric(name, "gauge", since_help[name], samples)
    return "\n".join(lines) + "\n"


def _number(value):
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def write_metrics(directory, text):
    """Write the metrics file atomically (a temporary file beside it, renamed): the
    textfile collector never reads half a file."""
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    replace_file(os.path.join(directory, METRICS_FILE), text, 0o644)


# --- the loop ----------------------------------------------------------------------------

def log_line(message):
    """One line to the journal (the service's standard output)."""
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def check_once(turn, repairs, slice_path=SLICE_PATH, log=log_line, ping=ping_all, since=None):
    """One check: read the slice, check (and repair) every concern, probe, write the
    metrics. Returns the settings in force (the next interval). SINCE ({problem:
    first-seen time}, kept by the caller from check to check) is updated in place."""
    started = time.monotonic()
    document = read_slice(slice_path)
    settings = settings_of(document)
    results = check_and_repair(document["slice"], settings["repair"], log)
    for concern, entry in results.items():
        if entry["repaired"]:
            repairs[concern] = repairs.get(concern, 0) + 1
    targets = probe_targets(document["slice"].get("peers") or [], document["slice"].get("zone"),
                            int(settings["probe_sample"]), turn)
    targets = with_retries(targets, document["slice"].get("peers") or [],
                           [name for kind, name in (since or {}) if kind == "peer"], int(settings["probe_sample"]))
    rtts = ping([gateway_of(p) for p in targets], float(settings["probe_timeout"]))
    probes = [(p, rtts.get(gateway_of(p))) for p in targets]
    for peer, rtt in probes:
        if rtt is None:
            log("podnet-agent: peer %s (zone %s) did not answer at %s"
                % (peer["hostname"], peer.get("zone"), gateway_of(peer)))
    now = time.time()
    if since is None:
        since = {}
    peers = document["slice"].get("peers") or []
    since_now = track_since(since, problems_of(results, probes), now, unprobed_peers(peers, probes))
    since.clear()
    since.update(since_now)
    text = render_metrics(document, results, probes, repairs, now, time.monotonic() - started, settings, since)
    write_metrics(settings["metrics_dir"], text)
    return settings


def main(argv=None):
    """podnet-agent [--once] [SLICE]: check every interval (or once) against SLICE."""
    argv = list(sys.argv[1:] if argv is None else argv)
    once = "--once" in argv
    paths = [a for a in argv if not a.startswith("--")]
    slice_path = paths[0] if paths else SLICE_PATH
    repairs, turn, since = {}, 0, {}
    # etcd mode (settings.etcd): a thread watches the node's slice key (podnet_agent_watch).
    watch = None if once else podnet_agent_watch.start(slice_path, log_line)
    while True:
        if watch is not None:
            # A newer slice from etcd is the controller's plan: converge it, repair on or off.
            watch.converge_new(lambda document: check_and_repair(document["slice"], True, log_line))
        began = time.monotonic()
        try:
            settings = check_once(turn, repairs, slice_path, since=since)
        except (OSError, ValueError) as exc:
            log_line("podnet-agent: no check: %s" % exc)
            settings = dict(DEFAULT_SETTINGS)
            if once:
                return 1
        if once:
            return 0
        turn += 1
        (watch.wait if watch is not None else time.sleep)(
            max(1.0, float(settings["interval"]) - (time.monotonic() - began)))


if __name__ == "__main__":
    raise SystemExit(main())
