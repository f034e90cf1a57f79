# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: podnet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The firewall concern of podnet: table inet podnet, the iptables accepts and the boot step.

Read -> pure plan -> apply, shared by the module podnet_firewall (which only declares its
arguments and calls `converge`) and the node agent (podnet_agent), which runs the same
`converge` in check mode to find drift and, when repair is on, for real. Standard
library only: the agent imports this file on a node without Ansible."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re
import shlex

from ansible_collections.podnet.network.plugins.module_utils.podnet_host import (
    C_LOCALE,
    CommandRunner,
    boot_step,
    finish,
    foreign_nft_table_error,
    live_diff,
    managed_header,
    owns_nft_table,
    persist_file,
    retire_unit,
)

FAMILY = "inet"
TABLE = "podnet"
# Check mode validates the ruleset under this name: `nft -c` makes the file's table for a
# moment, visible to any `nft list` on the host (the agent's, another run's), which would
# then see an empty `table inet podnet` that podnet did not make.
CHECK_TABLE = "podnet_check"
IPTABLES_COMMENT = "podnet"
# Docker's chain for the operator's own FORWARD rules (it keeps the jump to it first).
OPERATOR_CHAIN = "DOCKER-USER"
BOOT_ORDER = 50
CONCERN = "firewall"
# Packets routed through the node towards a pod subnet from outside podnet's paths.
FORWARD_COUNTER = "forward_rejected"
# What podnet versions before the one boot unit used: retired, never stopped.
OLD_UNIT = "podnet-firewall.service"
OLD_FINGERPRINT = "/run/podnet-firewall.sha1"


# ---------------------------------------------------------------- input (pure)

# Unique local addresses: an IPv6 cluster CIDR inside is masqueraded by default (as
# Kubernetes does for ULA pods), a global one is routed as it is.
ULA = ipaddress.IPv6Network("fd00::/8")


def _network(value, family=4):
    """The IPv4 (FAMILY 6: IPv6) network VALUE names exactly (host bits zero, written as
    Python writes it), or None."""
    text = str(value or "")
    if "/" not in text:
        return None
    try:
        net = (ipaddress.IPv4Network if family == 4 else ipaddress.IPv6Network)(text, strict=True)
    except ValueError:
        return None
    return net if str(net) == text else None


def _cidr_error(name, value, example, fix, family=4):
    """The message for a value of NAME that is not exactly an IPv4 (IPv6) network."""
    kind = ipaddress.IPv4Network if family == 4 else ipaddress.IPv6Network
    try:
        net = kind(str(value or ""), strict=False)
    except ValueError:
        net = None
    if net is not None and "/" in str(value) and str(net) != str(value):
        # an IPv6 network may also differ only in how it is written (FD00::/8, leading zeros)
        what = "has host bits set" if family == 4 else "has host bits set or is not written canonically"
        return "%s=%r %s: write the network %s (%s)" % (name, value, what, net, fix)
    return "%s=%r is not an IPv%d network in CIDR form such as %s: %s" % (name, value, family, example, fix)


def _node_address(text):
    """An IPv4 or IPv6 address, or None."""
    try:
        return ipaddress.ip_address(str(text))
    except ValueError:
        return None


def check_ipv6_inputs(params):
    """The meaning errors of the optional IPv6 (dual stack) inputs."""
    errors = []
    given = [params.get("cluster_cidr_ipv6"), params.get("pod_cidr_ipv6")]
    if given == [None, None]:
        if params.get("masquerade_ipv6"):
            errors.append("podnet_firewall_masquerade_ipv6=true needs podnet_firewall_cluster_cidr_ipv6: "
                          "pass the plan's IPv6 cluster CIDR, or leave masquerade_ipv6 null")
        return errors
    cluster = _network(given[0], 6)
    pod = _network(given[1], 6)
    if cluster is None:
        errors.append(_cidr_error("podnet_firewall_cluster_cidr_ipv6", given[0], "fd00:10:244::/48",
                                  "pass network.cluster_cidr_ipv6 from the plan, or null for both "
                                  "IPv6 inputs", 6))
    if pod is None:
        errors.append(_cidr_error("podnet_firewall_pod_cidr_ipv6", given[1], "fd00:10:244:1::/64",
                                  "pass this host's pod_cidr_ipv6 from the plan, or null for both "
                                  "IPv6 inputs", 6))
    if cluster is not None and pod is not None and not pod.subnet_of(cluster):
        errors.append(
            "podnet_firewall_pod_cidr_ipv6=%s is not inside podnet_firewall_cluster_cidr_ipv6=%s: "
            "pass both from the same plan" % (pod, cluster))
    return errors


def masquerade_ipv6(params):
    """Whether IPv6 pods leaving the IPv6 cluster CIDR are masqueraded: the option when it
    is set, else true for a ULA cluster CIDR (fd00::/8) and false for a global one."""
    cluster = _network(params.get("cluster_cidr_ipv6"), 6)
    if cluster is None:
        return False
    chosen = params.get("masquerade_ipv6")
    if chosen is None:
        return cluster.subnet_of(ULA)
    return bool(chosen)


def check_inputs(params):
    """Every meaning error of a present state, each naming the role variable, the value
    and the fix (empty list: all good). Types and choices are argument_specs' job."""
    errors = []
    cluster = _network(params.get("cluster_cidr"))
    pod = _network(params.get("pod_cidr"))
    if cluster is None:
        errors.append(_cidr_error("podnet_firewall_cluster_cidr", params.get("cluster_cidr"),
                                  "10.244.0.0/16", "pass network.cluster_cidr from the plan"))
    if pod is None:
        errors.append(_cidr_error("podnet_firewall_pod_cidr", params.get("pod_cidr"),
                                  "10.244.1.0/24", "pass this host's pod_cidr from the plan"))
    if cluster is not None and pod is not None and not pod.subnet_of(cluster):
        errors.append(
            "podnet_firewall_pod_cidr=%s is not inside podnet_firewall_cluster_cidr=%s: pass "
            "both from the same plan" % (pod, cluster))
    nodes = params.get("node_addresses") or []
    bad = [address for address in nodes if _node_address(address) is None]
    if not nodes or bad:
        errors.append(
            "podnet_firewall_node_addresses=%r must be a non-empty list of the IPv4 (or IPv6) "
            "underlay addresses of all member nodes, this one included%s: pass the plan's "
            "nodes[*].address (and address_ipv6)" % (list(nodes), " (not addresses: %r)" % bad if bad else ""))
    port = params.get("vxlan_port")
    if port is not None and not 1 <= int(port) <= 65535:
        errors.append(
            "podnet_firewall_vxlan_port=%r is not a UDP port 1-65535: pass the plan's "
            "network.vxlan.port (flannel uses 8472), or null when the network has no "
            "overlay" % (port,))
    wg_port = params.get("wireguard_port")
    if wg_port is not None and (not 1 <= int(wg_port) <= 65535 or wg_port == port):
        errors.append(
            "podnet_firewall_wireguard_port=%r is not a UDP port 1-65535 of its own (the VXLAN "
            "port is %r): pass the plan's network.wireguard.port (flannel uses 51820), or null "
            "when no pair uses WireGuard" % (wg_port, port))
    return errors + check_ipv6_inputs(params)


# ---------------------------------------------------------------- render (pure)

def forward_rules(cluster_cidr, family="ip", members="nodes"):
    """The forward chain's rules for one family's cluster CIDR (``ip`` and the member set
    ``nodes``, or ``ip6`` and ``nodes6``): what may be forwarded towards the cluster, in nft's
    listing form.

    Pods and VTEPs (sources inside the cluster: the bridge, the overlays and host-gw peers'
    pods) and member nodes may reach pods; so may replies to the pods' own connections and
    what the node publishes on purpose (DNAT, e.g. `docker run -p`). Anything else that a
    neighbour routes through this node towards a pod subnet is dropped and counted: the
    cluster is not a transit network. A drop in any base chain is final, so this also
    holds where iptables' FORWARD chain accepts cluster traffic (wanted_accepts)."""
    return [
        "%s saddr %s accept" % (family, cluster_cidr),
        "%s daddr %s %s saddr @%s accept" % (family, cluster_cidr, family, members),
        "%s daddr %s ct state established,related accept" % (family, cluster_cidr),
        "%s daddr %s ct status dnat accept" % (family, cluster_cidr),
        '%s daddr %s counter name "%s" drop' % (family, cluster_cidr, FORWARD_COUNTER),
    ]


def render_table(cluster_cidr, pod_cidr, node_addresses, masquerade=True, vxlan_port=None,
                 wireguard_port=None, cluster_cidr_ipv6=None, pod_cidr_ipv6=None,
                 masquerade_ipv6=False):
    """The wanted table, laid out as `nft -s list table inet podnet` prints it (so the
    diff against the live listing shows only real differences).

    IPv6 (dual stack): member addresses of either family (IPv6 ones in the set nodes6,
    which the port guards accept too), the forward rules for CLUSTER_CIDR_IPV6, and the
    masquerade of IPv6 pods leaving it when MASQUERADE_IPV6. Without any IPv6 input the
    table is exactly the IPv4 one."""
    addresses = set(ipaddress.ip_address(str(a)) for a in node_addresses)
    nodes = sorted(a for a in addresses if a.version == 4)
    nodes6 = sorted(a for a in addresses if a.version == 6)
    ipv6 = cluster_cidr_ipv6 is not None or bool(nodes6)
    comment = "podnet: pod subnet %s in cluster %s" % (pod_cidr, cluster_cidr)
    if cluster_cidr_ipv6 is not None:
        comment += ", IPv6 pod subnet %s in cluster %s" % (pod_cidr_ipv6, cluster_cidr_ipv6)
    lines = [
        "table %s %s {" % (FAMILY, TABLE),
        '\tcomment "%s"' % comment,
    ]
    guarded = [(port, name) for port, name in ((vxlan_port, "vxlan_rejected"),
                                               (wireguard_port, "wireguard_rejected"))
               if port is not None]
    for counter in [FORWARD_COUNTER] + [name for dummy, name in guarded]:
        lines += [
            "\tcounter %s {" % counter,
            "\t}",
            "",
        ]
    sets = [("nodes", "ipv4_addr", nodes)] + ([("nodes6", "ipv6_addr", nodes6)] if ipv6 else [])
    for position, (set_name, set_type, members) in enumerate(sets):
        lines += [""] if position else []
        lines += ["\tset %s {" % set_name, "\t\ttype %s" % set_type]
        # nft lists an empty set without an elements line
        lines += ["\t\telements = { %s }" % ", ".join(str(n) for n in members)] if members else []
        lines.append("\t}")
    if guarded:
        lines += ["", "\tchain input {", "\t\ttype filter hook input priority filter; policy accept;"]
        for port, counter in guarded:
            lines.append("\t\tudp dport %d ip saddr @nodes accept" % int(port))
            if ipv6:
                lines.append("\t\tudp dport %d ip6 saddr @nodes6 accept" % int(port))
            lines.append('\t\tudp dport %d counter name "%s" drop' % (int(port), counter))
        lines.append("\t}")
    rules = forward_rules(cluster_cidr)
    if cluster_cidr_ipv6 is not None:
        rules += forward_rules(cluster_cidr_ipv6, "ip6", "nodes6")
    lines += [
        "",
        "\tchain forward {",
        "\t\ttype filter hook forward priority filter; policy accept;",
    ] + ["\t\t%s" % rule for rule in rules] + ["\t}"]
    nat = []
    if masquerade:
        nat.append("\t\tip saddr %s ip daddr != %s ip daddr != @nodes masquerade"
                   % (cluster_cidr, cluster_cidr))
    if cluster_cidr_ipv6 is not None and masquerade_ipv6:
        nat.append("\t\tip6 saddr %s ip6 daddr != %s ip6 daddr != @nodes6 masquerade"
                   % (cluster_cidr_ipv6, cluster_cidr_ipv6))
    if nat:
        lines += [
            "",
            "\tchain postrouting {",
            "\t\ttype nat hook postrouting priority srcnat; policy accept;",
        ] + nat + ["\t}"]
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_file(table_text, persist_path):
    """The ruleset file: `nft -f` reads it as one transaction that creates the table when
    it is missing, deletes it and defines it anew; nothing else is touched."""
    return (
        managed_header("podnet_firewall")
        + "# podnet's nftables table, loaded by `nft -f %s`\n"
        "# (boot step %02d-%s of podnet.service). The first two commands make the load\n"
        "# replace the table in one transaction; nothing outside table %s %s is touched.\n"
        "#   set nodes: underlay addresses of every member node (this one included);\n"
        "#   chain input: only member nodes may send to the VXLAN port (VXLAN has no\n"
        "#     authentication), and to the WireGuard port; other packets to them are dropped\n"
        "#     and counted (vxlan_rejected, wireguard_rejected);\n"
        "#   chain forward: pods, VTEPs and member nodes may reach pods, and replies and\n"
        "#     published (DNAT) ports; anything else routed towards a pod subnet is dropped\n"
        "#     and counted (forward_rejected);\n"
        "#   chain postrouting: only pod traffic leaving the cluster is masqueraded (pod->pod\n"
        "#     and pod->node keep their source address).\n"
        "table %s %s {\n}\ndelete table %s %s\n\n"
        % (persist_path, BOOT_ORDER, CONCERN, FAMILY, TABLE, FAMILY, TABLE, FAMILY, TABLE)
        + table_text
    )


_TABLE_COMMAND = re.compile(r"^(table|delete table) %s %s\b" % (FAMILY, TABLE), re.M)


def check_file(file_text):
    """FILE_TEXT (render_file's) with every table command naming CHECK_TABLE instead of
    podnet's table: what check mode gives `nft -c`, the same ruleset under a name no
    reader looks for."""
    return _TABLE_COMMAND.sub(r"\1 %s %s" % (FAMILY, CHECK_TABLE), file_text)


_COMMENT = re.compile(r"^\s*#.*$", re.M)
_COUNTS = re.compile(r"\bpackets \d+ bytes \d+\b")
_ELEMENTS = re.compile(r"elements = \{([^}]*)\}")


def canonical(listing):
    """A listing (or a rendered table) reduced to what nft compares: no comments lines,
    no counter values, whitespace collapsed, blank lines dropped, set elements sorted
    (nft wraps and orders them its own way). None stays None."""
    if listing is None:
        return None
    text = _COUNTS.sub("", _COMMENT.sub("", listing))
    text = "\n".join(" ".join(line.split()) for line in text.splitlines())
    text = "\n".join(line for line in text.splitlines() if line)

    def _key(item):
        try:
            return (0, int(ipaddress.ip_address(item)), item)
        except ValueError:
            return (1, 0, item)

    def _sorted(match):
        items = sorted((item.strip() for item in match.group(1).split(",") if item.strip()),
                       key=_key)
        return "elements = { %s }" % ", ".join(items)

    return _ELEMENTS.sub(_sorted, text)


def pretty(listing):
    """The canonical form, indented by brace depth again: what --diff shows, so that
    only real differences appear (not nft's wrapping of set elements)."""
    if listing is None:
        return ""
    lines, depth = [], 0
    for line in canonical(listing).splitlines():
        if line.startswith("}"):
            depth = max(depth - 1, 0)
        lines.append("\t" * depth + line)
        if line.endswith("{"):
            depth += 1
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- iptables (pure)

def wanted_accepts(cluster_cidr):
    """The two tagged FORWARD accepts, as `iptables -S` prints them after `-A FORWARD`."""
    tag = ["-m", "comment", "--comment", IPTABLES_COMMENT, "-j", "ACCEPT"]
    return [["-s", cluster_cidr] + tag, ["-d", cluster_cidr] + tag]


def parse_forward(listing):
    """`iptables -S FORWARD` -> (policy, podnet's tagged accepts as argument lists)."""
    policy, rules = _forward_rules(listing)
    return policy, [rule for rule in rules if _tagged(rule)]


def _forward_rules(listing):
    """`iptables -S FORWARD` -> (policy, every rule as an argument list, in order)."""
    policy, rules = None, []
    for line in (listing or "").splitlines():
        words = shlex.split(line)
        if words[:2] == ["-P", "FORWARD"] and len(words) > 2:
            policy = words[2]
        elif words[:2] == ["-A", "FORWARD"]:
            rules.append(words[2:])
    return policy, rules


def _tagged(rule):
    comment = rule[rule.index("--comment") + 1] if "--comment" in rule[:-1] else None
    return comment == IPTABLES_COMMENT and rule[-2:] == ["-j", "ACCEPT"]


def _rule_text(rule):
    """An argument list as a shell would read it back."""
    return " ".join(shlex.quote(word) for word in rule)


def _after_operator_rules(rules):
    """Where podnet's accepts go (1-based): right after Docker's jump to DOCKER-USER,
    the chain where operators put their own FORWARD rules, so that those still decide
    first; at the top where there is none (Docker inserts its jump above them when it
    starts later)."""
    for index, rule in enumerate(rules):
        if rule == ["-j", OPERATOR_CHAIN]:
            return index + 2
    return 1


def plan_accepts(wanted, rules):
    """(to delete, to add, position) from RULES, the FORWARD chain's rules in order: tagged
    rules not wanted (extra copies, and any that sit above DOCKER-USER's jump) go; missing
    wanted ones are inserted at POSITION."""
    operator = _after_operator_rules(rules) - 1
    delete, seen = [], []
    for index, rule in enumerate(rules):
        if not _tagged(rule):
            continue
        if rule in wanted and rule not in seen and index >= operator:
            seen.append(rule)
        else:
            delete.append(rule)
    kept = list(rules)
    for rule in delete:
        kept.remove(rule)
    return delete, [rule for rule in wanted if rule not in seen], _after_operator_rules(kept)


def boot_script(persist_path, accepts):
    """The boot step: load the ruleset file, then (where iptables exists by then) make
    sure of each accept, below the operator's DOCKER-USER chain when Docker runs."""
    lines = [
        "# Table %s %s, replaced in one transaction (nothing else is touched)." % (FAMILY, TABLE),
        "nft -f %s" % shlex.quote(persist_path),
    ]
    if accepts:
        lines += [
            "# Cluster accepts in iptables' FORWARD chain (Docker may set a DROP policy), after",
            "# Docker's jump to %s so that operators' rules there decide first." % OPERATOR_CHAIN,
            "if command -v iptables >/dev/null 2>&1; then",
            "\tpos=$(iptables -w -S FORWARD | awk '/^-A FORWARD/ {n++} "
            "/^-A FORWARD -j %s$/ {print n + 1; exit}')" % OPERATOR_CHAIN,
        ]
        for rule in accepts:
            spec = _rule_text(rule)
            lines.append('\tiptables -w -C FORWARD %s 2>/dev/null || iptables -w -I FORWARD "${pos:-1}" %s'
                         % (spec, spec))
        lines.append("fi")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- plan (pure)

def plan(params, live):
    """What to do, from the inputs and the live state; no host needed.

    LIVE: {"nft": bool, "iptables": bool, "table": stateless listing or None,
    "forward": `iptables -S FORWARD` or None}. Returns {"errors", "table" (what happens to
    it), "load", "delete_table", "ruleset", "file", "boot", "ipt_delete", "ipt_add",
    "ipt_after", "ipt_position", "policy", "left_alone"}."""
    present = params.get("state", "present") == "present"
    policy, rules = _forward_rules(live.get("forward"))
    tagged = [rule for rule in rules if _tagged(rule)]
    result = dict(errors=[], load=False, delete_table=False, ruleset="", file=None, boot=None,
                  ipt_delete=[], ipt_add=[], ipt_after=[], ipt_position=1, policy=policy,
                  left_alone=[])
    foreign = live.get("table") is not None and not owns_nft_table(live["table"])
    if not present:
        if foreign:
            result["table"] = "foreign"
            result["left_alone"].append(
                "table %s %s: podnet did not make it (no comment \"podnet: ...\"), so it is "
                "left as it is" % (FAMILY, TABLE))
        result["delete_table"] = live.get("table") is not None and not foreign
        result["table"] = result.get("table") or ("deleted" if result["delete_table"] else "absent")
        result["ipt_delete"] = list(tagged)
        return result

    result["errors"] = check_inputs(params)
    if foreign:
        result["errors"].append(foreign_nft_table_error(live["table"]))
    if result["errors"]:
        result["table"] = "unchanged"
        return result
    cluster = str(_network(params["cluster_cidr"]))
    cluster6 = params.get("cluster_cidr_ipv6")
    table = render_table(cluster, str(_network(params["pod_cidr"])), params["node_addresses"],
                         params.get("masquerade", True), params.get("vxlan_port"),
                         params.get("wireguard_port"),
                         str(_network(cluster6, 6)) if cluster6 is not None else None,
                         str(_network(params.get("pod_cidr_ipv6"), 6)) if cluster6 is not None else None,
                         masquerade_ipv6(params))
    persist_path = params.get("persist_path") or "/etc/podnet/firewall.nft"
    result["ruleset"] = table
    result["file"] = render_file(table, persist_path)
    if live.get("table") is None:
        result["table"], result["load"] = "loaded", True
    elif canonical(live["table"]) != canonical(table):
        result["table"], result["load"] = "reloaded", True
    else:
        result["table"] = "unchanged"

    accepts = wanted_accepts(cluster) if params.get("iptables_forward_accept", True) else []
    if live.get("iptables"):
        result["ipt_delete"], result["ipt_add"], result["ipt_position"] = plan_accepts(
            accepts, rules)
        result["ipt_after"] = accepts
    result["boot"] = boot_script(persist_path, accepts)
    return result


# ---------------------------------------------------------------- read / apply

def read_live(runner):
    nft = runner.bin("nft", required=False)
    iptables = runner.bin("iptables", required=False)
    return dict(
        nft=bool(nft),
        iptables=bool(iptables),
        table=runner.read("nft", ["-s", "list", "table", FAMILY, TABLE]) if nft else None,
        forward=runner.read("iptables", ["-w", "-S", "FORWARD"]) if iptables else None,
    )


# The module's arguments (AnsibleModule's argument_spec; the agent fills defaults from it).
ARGUMENT_SPEC = dict(
    state=dict(type="str", choices=["present", "absent"], default="present"),
    cluster_cidr=dict(type="str", default=""),
    pod_cidr=dict(type="str", default=""),
    node_addresses=dict(type="list", elements="str", default=[]),
    masquerade=dict(type="bool", default=True),
    vxlan_port=dict(type="int"),
    wireguard_port=dict(type="int"),
    iptables_forward_accept=dict(type="bool", default=True),
    persist_path=dict(type="path", default="/etc/podnet/firewall.nft"),
    # Dual stack (None: IPv4 only, as before); masquerade_ipv6 None: masquerade a ULA
    # (fd00::/8) IPv6 cluster CIDR, not a global one.
    cluster_cidr_ipv6=dict(type="str"),
    pod_cidr_ipv6=dict(type="str"),
    masquerade_ipv6=dict(type="bool"),
)


def converge(module):
    """Read, plan (pure) and apply with MODULE (an AnsibleModule, or the agent's stand-in
    with the same surface); ends in module.exit_json (finish) or module.fail_json."""
    params = module.params
    actions, diffs = [], []
    runner = CommandRunner(module, actions)
    live = read_live(runner)
    wanted = plan(params, live)
    if wanted["errors"]:
        module.fail_json(msg="podnet_firewall: " + "; ".join(wanted["errors"]), actions=[])
    if params["state"] == "present" and not live["nft"] and not module.check_mode:
        module.fail_json(msg="podnet_firewall: the nft command is missing: install nftables "
                             "(podnet_firewall_packages) before converging", actions=[])

    if wanted["load"] or wanted["delete_table"]:
        diffs.append(dict(before_header="table %s %s (live)" % (FAMILY, TABLE),
                          after_header="table %s %s (wanted)" % (FAMILY, TABLE),
                          before=pretty(live["table"]), after=pretty(wanted["ruleset"] or None)))
    if wanted["load"]:
        if module.check_mode and live["nft"]:
            # Check mode is truthful about the syntax too: nft -c loads nothing (and checks
            # under a name of its own, see CHECK_TABLE).
            rc, _out, err = module.run_command([runner.bin("nft"), "-c", "-f", "/dev/stdin"],
                                               data=check_file(wanted["file"]), environ_update=C_LOCALE)
            if rc != 0:
                module.fail_json(msg="podnet_firewall: nft refuses the ruleset: %s" % err.strip())
        # Loaded from stdin first: a ruleset nft refuses never reaches the boot file.
        runner.change("nft", ["-f", "/dev/stdin"], data=wanted["file"],
                      shown="nft -f %s" % params["persist_path"])
    if wanted["delete_table"]:
        runner.change("nft", ["delete", "table", FAMILY, TABLE])
    for rule in wanted["ipt_delete"]:
        runner.change("iptables", ["-w", "-D", "FORWARD"] + rule,
                      shown="iptables -w -D FORWARD %s" % _rule_text(rule))
    for rule in wanted["ipt_add"]:
        position = str(wanted["ipt_position"])
        runner.change("iptables", ["-w", "-I", "FORWARD", position] + rule,
                      shown="iptables -w -I FORWARD %s %s" % (position, _rule_text(rule)))
    if wanted["ipt_delete"] or wanted["ipt_add"]:
        _policy, before = parse_forward(live["forward"])
        live_diff(diffs, "iptables FORWARD accepts tagged %s" % IPTABLES_COMMENT,
                  [_rule_text(r) for r in before], [_rule_text(r) for r in wanted["ipt_after"]])

    persist_file(module, params["persist_path"], wanted["file"], actions, diffs)
    # boot_step also starts podnet.service once: a restart of nftables.service (which
    # flushes the ruleset) reaches only an active unit, which then replays this table.
    boot_step(module, BOOT_ORDER, CONCERN, wanted["boot"], actions, diffs)
    retire_unit(module, OLD_UNIT, actions, diffs)
    persist_file(module, OLD_FINGERPRINT, None, actions, diffs)

    for what in wanted["left_alone"]:
        module.warn("podnet_firewall: " + what)
    finish(module, actions, diffs, table=wanted["table"], ruleset=wanted["ruleset"],
           left_alone=wanted["left_alone"],
           forward_policy=wanted["policy"],
           iptables_accepts=[_rule_text(r) for r in wanted["ipt_after"]])
