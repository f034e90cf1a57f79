# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The committed plan: plan once, apply in slices.

A run that plans (playbooks/plan.yml, or a whole site.yml) writes the ledger and, beside
it, the plan it made (``<ledger>.plan.json``) together with what the inventory declared for
it: every node's zone, address, underlay prefix and pin, and the network settings. An
apply-only run (site.yml with ``--limit``, ``-e podnet_apply_only=true`` or a rolling run)
then reads that plan instead of planning: it takes no lock and writes nothing on the
controller, so several of them can run at once on different hosts. Before any host is
contacted it checks that the inventory still declares what the plan was made from, and
stops naming the node (or the setting) and saying to plan first when it does not:

    document = committed(plan, declared(hosts, host_vars, network), ledger_text)
    plan     = check_committed(document, declared(...), ledger_text, plan_path, ledger_path)
"""

import hashlib

from .errors import PlanError
from .validate import backends_use_wireguard

COMMIT_VERSION = 1
# What the inventory declares of a node (host variable -> key in the record).
DECLARED = (("podnet_zone", "zone"), ("podnet_address", "address"),
            ("podnet_underlay_prefix", "prefix"), ("podnet_pod_cidr", "pod_cidr"))


def plan_path(ledger_path):
    """The committed plan file of a ledger file: beside it, ``<ledger minus .yml>.plan.json``."""
    stem = ledger_path[:-4] if ledger_path.endswith((".yml", ".yaml")) else ledger_path
    stem = stem[:-1] if stem.endswith(".") else stem
    return stem + ".plan.json"


def plain(value):
    """Plain dicts, lists and scalars of the built-in types (Ansible hands over its own tagged
    subclasses, which yaml.safe_dump refuses)."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def _text(value):
    """Plain values with every scalar as text: -e underlay_mtu=1500 declares what 1500 does."""
    if isinstance(value, dict):
        return {str(key): _text(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_text(item) for item in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def declared(hosts, host_vars, network):
    """What the inventory declares for a plan: ``{"nodes": {host: {zone, address?, prefix?,
    pod_cidr?}}, "network": {...}}``; only what the operator set (never facts), as strings."""
    nodes = {}
    for host in sorted(hosts):
        hvars = host_vars.get(host) or {}
        nodes[str(host)] = {key: str(hvars[name]) for name, key in DECLARED
                            if hvars.get(name) not in (None, "")}
    return {"nodes": nodes, "network": _text(network or {})}


def digest(text):
    """The SHA-256 of a ledger file's bytes (or text)."""
    if isinstance(text, str):
        text = text.encode("utf-8")
    return hashlib.sha256(text or b"").hexdigest()


def committed(plan, inputs, ledger_text):
    """The document to write beside the ledger: the plan, what it was made from, and the
    digest of the ledger written with it."""
    return {"podnet_plan": COMMIT_VERSION, "ledger_sha256": digest(ledger_text),
            "declared": plain(inputs), "plan": plain(plan)}


def _first_difference(mine, theirs, prefix=""):
    """The first key path (sorted) where two plain values differ, or None."""
    if isinstance(mine, dict) and isinstance(theirs, dict):
        for key in sorted(set(mine) | set(theirs)):
            found = _first_difference(mine.get(key), theirs.get(key), prefix + "." + key if prefix else key)
            if found:
                return found
        return None
    return None if mine == theirs else (prefix or "(all)", mine, theirs)


def check_committed(document, inputs, ledger_text, path, ledger_path, sliced=False):
    """The committed plan, if this inventory (``inputs``, from ``declared``) and the ledger
    are still what it was made from; else a PlanError naming the node or setting.

    ``sliced``: the inventory holds only a slice of the fleet (AWX job slicing), so nodes of
    the plan that it lacks are not taken as removed.
    """
    again = ("Nothing was changed. Plan first (ansible-playbook playbooks/plan.yml, or "
             "site.yml without --limit), then apply again")
    if not isinstance(document, dict) or document.get("podnet_plan") != COMMIT_VERSION \
            or not isinstance(document.get("plan"), dict) or not isinstance(document.get("declared"), dict):
        raise PlanError("%s is not a committed podnet plan (expected podnet_plan: %d); restore it "
                        "from version control or plan again. %s" % (path, COMMIT_VERSION, again))
    if ledger_text is None:
        raise PlanError("the plan %s was committed with the ledger %s, which does not exist; "
                        "restore it from version control. %s" % (path, ledger_path, again))
    if document.get("ledger_sha256") != digest(ledger_text):
        raise PlanError("the ledger %s changed after the plan %s was committed (edited, restored, "
                        "or written by a run that did not commit a plan): the plan may no "
                        "longer be the ledger's. %s" % (ledger_path, path, again))
    before = document["declared"]
    planned = before.get("nodes") or {}
    now = inputs.get("nodes") or {}
    for host in sorted(now):
        if host not in planned:
            raise PlanError("node %s is in the inventory but not in the committed plan %s (added "
                            "after the plan was made): it has no pod subnet yet. %s" % (host, path, again))
        if now[host] != planned[host]:
            key, mine, theirs = _first_difference(now[host], planned[host])
            raise PlanError("node %s: the inventory gives %s %s but the committed plan %s was made "
                            "with %s (podnet_%s). %s" % (
                                host, key, "unset" if mine is None else repr(mine), path,
                                "it unset" if theirs is None else repr(theirs),
                                {"zone": "zone", "address": "address", "prefix": "underlay_prefix",
                                 "pod_cidr": "pod_cidr"}.get(key, key), again))
    if not sliced:
        for host in sorted(planned):
            if host not in now:
                raise PlanError("node %s is in the committed plan %s but no longer in the "
                                "inventory (removed after the plan was made; an inventory that "
                                "holds only a slice of the fleet, as in AWX job slicing, sets "
                                "podnet_apply_sliced: true). %s" % (host, path, again))
    found = _first_difference(inputs.get("network") or {}, before.get("network") or {})
    if found:
        key, mine, theirs = found
        raise PlanError("network setting %s is %s in the inventory but the committed plan %s was "
                        "made with %s (role podnet_plan: podnet_plan_%s). %s" % (
                            key, mine, path, theirs, key.split(".")[0], again))
    return document["plan"]


def wireguard_used(plan):
    """Whether some pair of the plan may use WireGuard (the nodes keep their keys)."""
    network = plan.get("network") or {}
    return backends_use_wireguard(network.get("backend"), network.get("zone_backends"),
                                  network.get("cross_zone_backend") or "vxlan")


def check_reported(plan, reported):
    """Nothing, when every node that answered holds the pod subnet the committed plan gives
    it or none yet; else a PlanError naming the node (a host never moves by itself)."""
    nodes = plan.get("nodes") or {}
    for host in sorted(reported or {}):
        held = reported[host]
        if held and host in nodes and str(held) != str(nodes[host]["pod_cidr"]):
            raise PlanError("node %s holds pod subnet %s but the committed plan gives it %s: the "
                            "plan is older than the node's state (or the node was moved by hand). "
                            "Nothing was changed. Plan again (ansible-playbook playbooks/plan.yml), "
                            "which stops naming the stale side, then apply" % (
                                host, held, nodes[host]["pod_cidr"]))


def _count(value, name, least, meaning):
    """VALUE as an integer >= LEAST, or a PlanError naming the variable NAME."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = least - 1
    if number < least or isinstance(value, bool):
        raise PlanError("%s: %r is not %s" % (name, value, meaning))
    return number


def roll(plan, hosts, rolling, max_fail_percentage=0, probe_peers=3, probe_timeout=10):
    """The order and batches of a rolling apply over ``hosts`` (the nodes of this run).

    ``rolling``: ``zone`` (one zone per batch, zones in sorted order), a number of nodes per
    batch, or a percentage (``"25%"``); batches follow zone order either way, so a zone is
    finished before the next one starts. Returns ``{"hosts": [...], "serial": [...],
    "max_fail_percentage": n, "probe_peers": n, "probe_timeout": s}`` for the node play
    (``serial``, ``max_fail_percentage``, and what each node probes after its batch:
    ``roll_probes``), checked here, before any host is contacted.
    """
    probe = {
        "probe_peers": _count(probe_peers, "podnet_rolling_probe_peers", 0,
                              "a number of peers; give how many peers each node probes after its "
                              "batch (0 probes none)"),
        "probe_timeout": _count(probe_timeout, "podnet_rolling_probe_timeout", 1,
                                "a number of seconds (at least 1) to wait for the probed peers"),
    }
    nodes = plan.get("nodes") or {}
    ordered = sorted((h for h in hosts if h in nodes), key=lambda h: (nodes[h]["zone"], h))
    if not ordered:
        return dict(probe, hosts=[], serial=[0], max_fail_percentage=100)
    text = str(rolling).strip()
    if text == "zone":
        serial = []
        for zone in sorted({nodes[h]["zone"] for h in ordered}):
            serial.append(sum(1 for h in ordered if nodes[h]["zone"] == zone))
    elif text.endswith("%") and text[:-1].isdigit() and 0 < int(text[:-1]) <= 100:
        serial = [text]
    elif text.isdigit() and int(text) > 0:
        serial = [int(text)]
    else:
        raise PlanError("podnet_rolling: %r is not a batch size; use zone (one zone per batch), "
                        "a number of nodes (e.g. 10) or a percentage (e.g. 25%%)" % (rolling,))
    try:
        fail = int(str(max_fail_percentage).strip().rstrip("%"))
    except ValueError:
        fail = -1
    if not 0 <= fail <= 100:
        raise PlanError("podnet_rolling_max_fail_percentage: %r is not a percentage between 0 and "
                        "100 (0 stops the roll at the first failed node)" % (max_fail_percentage,))
    return dict(probe, hosts=ordered, serial=serial, max_fail_percentage=fail)


def _batches(hosts, serial):
    """HOSTS cut into the batches Ansible's ``serial`` list makes of them (its last entry
    repeats; a percentage is of all the hosts, rounded down, at least one)."""
    batches, start, turn = [], 0, 0
    while start < len(hosts):
        size = serial[min(turn, len(serial) - 1)]
        text = str(size)
        if text.endswith("%"):
            size = max(1, int(len(hosts) * int(text[:-1]) / 100))
        size = int(size) or len(hosts)
        batches.append(hosts[start:start + size])
        start += size
        turn += 1
    return batches


def roll_probes(roll, host, sample=None):
    """The peers HOST probes when its batch of the rolling apply ROLL (``roll``'s output)
    is converged: up to SAMPLE (by default the roll's probe_peers) others of its own batch, the ones after it in the roll's
    order (wrapping round), and up to SAMPLE of the batches before (already converged),
    rotating with HOST's place in its batch, so that the batch's probes spread over the
    earlier nodes (all of them when batch size x SAMPLE reaches their number). Not the
    later batches: they are not converged yet. A list of hostnames; [] when HOST is not in
    the roll or SAMPLE is 0."""
    if sample is None:
        sample = (roll or {}).get("probe_peers", 3)
    sample = _count(sample, "podnet_rolling_probe_peers", 0,
                    "a number of peers; give how many peers each node probes after its batch "
                    "(0 probes none)")
    hosts = list((roll or {}).get("hosts") or [])
    if host not in hosts or sample == 0:
        return []
    earlier = []
    for batch in _batches(hosts, (roll or {}).get("serial") or [0]):
        if host in batch:
            place = batch.index(host)
            own = batch[place + 1:] + batch[:place]
            picked = own[:sample]
            if earlier:
                start = (place * sample) % len(earlier)
                picked += (earlier + earlier)[start:start + min(sample, len(earlier))]
            return picked
        earlier.extend(batch)
    return []


__all__ = ["plan_path", "declared", "digest", "committed", "check_committed", "wireguard_used",
           "check_reported", "roll", "roll_probes"]
