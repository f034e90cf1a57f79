# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet_firewall's plan step, without a host: the ruleset rendered from the inputs,
drift found in recorded `nft -s list table inet podnet` listings, the iptables FORWARD
accepts planned from recorded `iptables -S FORWARD` output, the meaning checks.

The VXLAN port guard (only member nodes may send to the overlay's UDP port) depends on
the port alone, never on whether this node has VXLAN peers or a VXLAN device: a node
whose peers are all host-gw still runs an overlay listener in flannel mode (flanneld),
and podnet's device may appear on the next run.
"""

import shutil
import subprocess

import pytest

from ansible_collections.podnet.network.tests.unit.role_modules import load_module, load_module_utils

fw = load_module("podnet_firewall")
host = load_module_utils("podnet_host")

NODES = ["172.30.31.12", "172.30.32.11", "172.30.31.11"]
PARAMS = dict(state="present", cluster_cidr="10.244.0.0/16", pod_cidr="10.244.1.0/24",
              node_addresses=NODES, masquerade=True, vxlan_port=8472,
              iptables_forward_accept=True, persist_path="/etc/podnet/firewall.nft")

# `nft -s list table inet podnet` (nftables 1.0.6) right after loading PARAMS' ruleset:
# nft orders and wraps the set elements its own way.
LOADED = """\
table inet podnet {
\tcomment "podnet: pod subnet 10.244.1.0/24 in cluster 10.244.0.0/16"
\tcounter forward_rejected {
\t}

\tcounter vxlan_rejected {
\t}

\tset nodes {
\t\ttype ipv4_addr
\t\telements = { 172.30.31.11, 172.30.31.12,
\t\t\t     172.30.32.11 }
\t}

\tchain input {
\t\ttype filter hook input priority filter; policy accept;
\t\tudp dport 8472 ip saddr @nodes accept
\t\tudp dport 8472 counter name "vxlan_rejected" drop
\t}

\tchain forward {
\t\ttype filter hook forward priority filter; policy accept;
\t\tip saddr 10.244.0.0/16 accept
\t\tip daddr 10.244.0.0/16 ip saddr @nodes accept
\t\tip daddr 10.244.0.0/16 ct state established,related accept
\t\tip daddr 10.244.0.0/16 ct status dnat accept
\t\tip daddr 10.244.0.0/16 counter name "forward_rejected" drop
\t}

\tchain postrouting {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\tip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 ip daddr != @nodes masquerade
\t}
}
"""

# The same table after `nft flush table inet podnet` by hand, as nft 1.0.6 lists it:
# every chain keeps its base-chain line and loses its rules; the rest is unchanged.
RULES = ("\t\tudp dport", "\t\tip saddr", "\t\tip daddr")
FLUSHED = "".join(line for line in LOADED.splitlines(True) if not line.startswith(RULES))

# `iptables -S FORWARD` on a Docker host (Docker 20.10 sets the DROP policy).
DOCKER_FORWARD = """\
-P FORWARD DROP
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
"""
ACCEPTS = """\
-A FORWARD -d 10.244.0.0/16 -m comment --comment podnet -j ACCEPT
-A FORWARD -s 10.244.0.0/16 -m comment --comment podnet -j ACCEPT
"""
S_RULE = ["-s", "10.244.0.0/16", "-m", "comment", "--comment", "podnet", "-j", "ACCEPT"]
D_RULE = ["-d", "10.244.0.0/16", "-m", "comment", "--comment", "podnet", "-j", "ACCEPT"]


# Where podnet keeps them: right after Docker's jump to DOCKER-USER.
DOCKER_WITH_ACCEPTS = DOCKER_FORWARD.replace("-A FORWARD -j DOCKER-USER\n",
                                             "-A FORWARD -j DOCKER-USER\n" + ACCEPTS)


def live(table=LOADED, forward=DOCKER_WITH_ACCEPTS, nft=True, iptables=True):
    return dict(nft=nft, iptables=iptables, table=table, forward=forward if iptables else None)


def params(**changes):
    return dict(PARAMS, **changes)


def table(**changes):
    p = params(**changes)
    return fw.render_table(p["cluster_cidr"], p["pod_cidr"], p["node_addresses"],
                           p["masquerade"], p["vxlan_port"])


def guard(text):
    return [line.strip() for line in text.splitlines() if "udp dport" in line]


# ---------------------------------------------------------------- rendering

@pytest.mark.parametrize("port", [8472, 4789])
def test_the_guard_depends_on_the_port_only(port):
    # No input of the module says whether the node has VXLAN peers or a device.
    text = table(vxlan_port=port)
    assert guard(text) == [
        "udp dport %d ip saddr @nodes accept" % port,
        'udp dport %d counter name "vxlan_rejected" drop' % port,
    ]
    assert "counter vxlan_rejected {" in text


def test_members_are_every_node_address_once_in_numeric_order():
    text = table(node_addresses=NODES + ["172.30.31.11", "172.30.31.9"])
    assert "elements = { 172.30.31.9, 172.30.31.11, 172.30.31.12, 172.30.32.11 }" in text


def test_no_guard_only_without_an_overlay_port():
    text = table(vxlan_port=None)
    assert guard(text) == [] and "vxlan_rejected" not in text and "chain input" not in text


def test_only_pod_traffic_leaving_the_cluster_is_masqueraded():
    text = table()
    masquerades = [line.strip() for line in text.splitlines() if "masquerade" in line]
    assert masquerades == [
        "ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 ip daddr != @nodes masquerade"]
    assert "type nat hook postrouting priority srcnat; policy accept;" in text
    assert "masquerade" not in table(masquerade=False)


def forward_chain(text):
    lines = text.split("\tchain forward {\n", 1)[1].split("\t}\n", 1)[0].splitlines()
    return [line.strip() for line in lines[1:]]


def test_forwarding_towards_pods_is_scoped_to_podnets_paths():
    # The chain used to accept `ip daddr <cluster>` from anywhere: a neighbour that routed
    # through a node towards a pod subnet reached the pods (issue: own only what is yours).
    assert forward_chain(table()) == [
        "ip saddr 10.244.0.0/16 accept",
        "ip daddr 10.244.0.0/16 ip saddr @nodes accept",
        "ip daddr 10.244.0.0/16 ct state established,related accept",
        "ip daddr 10.244.0.0/16 ct status dnat accept",
        'ip daddr 10.244.0.0/16 counter name "forward_rejected" drop',
    ]
    assert "\tcounter forward_rejected {\n" in table(vxlan_port=None)


def test_rendering_is_deterministic_whatever_the_input_order():
    assert table() == table(node_addresses=list(reversed(NODES)))


def test_the_file_replaces_only_podnets_table_in_one_transaction():
    text = fw.plan(PARAMS, live(table=None))["file"]
    commands = [line for line in text.splitlines() if line and not line.startswith(("#", "\t"))]
    assert commands[:3] == ["table inet podnet {", "}", "delete table inet podnet"]
    assert commands[3] == "table inet podnet {"
    assert text.endswith(table())
    # Nothing but podnet's table: no `flush ruleset`, no other table.
    assert [c for c in commands if c != "}"] == [
        "table inet podnet {", "delete table inet podnet", "table inet podnet {"]


@pytest.mark.parametrize("port", [8472, None])
@pytest.mark.parametrize("masquerade", [True, False])
def test_the_ruleset_is_valid_nftables(port, masquerade, tmp_path):
    nft = shutil.which("nft")
    if nft is None:
        pytest.skip("nft is not installed")
    path = tmp_path / "firewall.nft"
    planned = fw.plan(params(vxlan_port=port, masquerade=masquerade), live(table=None))
    for text in (planned["file"], fw.check_file(planned["file"])):
        path.write_text(text)
        done = subprocess.run([nft, "-c", "-f", str(path)], capture_output=True, text=True, check=False)
        if done.returncode != 0 and "Operation not permitted" in done.stderr:
            pytest.skip("nft -c needs CAP_NET_ADMIN here")
        assert done.returncode == 0, done.stderr


def test_check_mode_validates_under_a_name_no_reader_looks_for():
    # `nft -c -f` of the real file showed 42 of 547 concurrent `nft list table inet podnet`
    # a table that did not exist (300 checks): another host's module, or the agent, took
    # it for a table podnet did not make
    text = fw.plan(PARAMS, live(table=None))["file"]
    checked = fw.check_file(text)
    commands = [line for line in checked.splitlines() if line and not line.startswith(("#", "\t"))]
    assert [c for c in commands if c != "}"] == [
        "table inet podnet_check {", "delete table inet podnet_check", "table inet podnet_check {"]
    # the same ruleset otherwise
    assert checked.replace("podnet_check", "podnet") == text


# ---------------------------------------------------------------- drift

def test_the_loaded_table_is_no_drift():
    # nft's listing wraps and orders the elements its own way: no reload for that.
    planned = fw.plan(PARAMS, live())
    assert (planned["load"], planned["table"]) == (False, "unchanged")


def test_counter_values_are_no_drift():
    listing = LOADED.replace("\tcounter vxlan_rejected {\n\t}",
                             "\tcounter vxlan_rejected {\n\t\tpackets 12 bytes 1104\n\t}")
    assert fw.plan(PARAMS, live(table=listing))["load"] is False


def test_a_missing_table_is_loaded():
    planned = fw.plan(PARAMS, live(table=None))
    assert (planned["load"], planned["table"]) == (True, "loaded")


def test_a_flushed_table_is_reloaded():
    planned = fw.plan(PARAMS, live(table=FLUSHED))
    assert (planned["load"], planned["table"]) == (True, "reloaded")
    diff = fw.pretty(FLUSHED), fw.pretty(planned["ruleset"])
    assert "masquerade" not in diff[0] and "masquerade" in diff[1]


def test_one_deleted_rule_is_drift():
    listing = LOADED.replace('\t\tip daddr 10.244.0.0/16 counter name "forward_rejected" drop\n', "")
    assert fw.plan(PARAMS, live(table=listing))["table"] == "reloaded"


@pytest.mark.parametrize("change", [
    dict(vxlan_port=4789), dict(vxlan_port=None), dict(masquerade=False),
    dict(node_addresses=NODES + ["172.30.32.12"]), dict(node_addresses=NODES[:2]),
    dict(cluster_cidr="10.0.0.0/8"), dict(pod_cidr="10.244.2.0/24"),
])
def test_other_inputs_are_drift(change):
    assert fw.plan(params(**change), live())["table"] == "reloaded"


def test_a_foreign_chain_in_podnets_table_is_drift():
    listing = LOADED[:-2] + "\n\tchain extra {\n\t}\n}\n"
    assert fw.plan(PARAMS, live(table=listing))["load"] is True


def test_canonical_ignores_layout_and_element_order_only():
    assert fw.canonical(LOADED) == fw.canonical(table())
    assert fw.canonical(FLUSHED) != fw.canonical(table())
    assert fw.canonical(None) is None
    assert fw.pretty(LOADED) == fw.pretty(table())


# ---------------------------------------------------------------- iptables

def test_accepts_in_place_are_left_alone_and_the_policy_reported():
    planned = fw.plan(PARAMS, live())
    assert (planned["ipt_delete"], planned["ipt_add"]) == ([], [])
    assert planned["policy"] == "DROP"
    assert planned["ipt_after"] == [S_RULE, D_RULE]


def test_missing_accepts_are_added_whatever_the_policy():
    # Docker may set its DROP policy after podnet ran: the accepts are kept anyway.
    for forward in (DOCKER_FORWARD, "-P FORWARD ACCEPT\n"):
        planned = fw.plan(PARAMS, live(forward=forward))
        assert (planned["ipt_delete"], planned["ipt_add"]) == ([], [S_RULE, D_RULE])


def test_one_accept_deleted_by_hand_is_added_again():
    forward = DOCKER_FORWARD + ACCEPTS.splitlines()[1] + "\n"
    planned = fw.plan(PARAMS, live(forward=forward))
    assert (planned["ipt_delete"], planned["ipt_add"]) == ([], [D_RULE])


def test_stale_and_duplicate_accepts_are_deleted():
    forward = DOCKER_WITH_ACCEPTS + ACCEPTS.splitlines()[0] + "\n" + \
        "-A FORWARD -s 10.99.0.0/16 -m comment --comment podnet -j ACCEPT\n"
    planned = fw.plan(PARAMS, live(forward=forward))
    assert planned["ipt_add"] == []
    assert planned["ipt_delete"] == [
        D_RULE, ["-s", "10.99.0.0/16", "-m", "comment", "--comment", "podnet", "-j", "ACCEPT"]]


def test_accepts_go_below_the_operators_docker_user_chain():
    # They used to be inserted at position 1, above Docker's jump to DOCKER-USER: an
    # operator's DROP there no longer applied to cluster traffic.
    planned = fw.plan(PARAMS, live(forward=DOCKER_FORWARD))
    assert (planned["ipt_add"], planned["ipt_position"]) == ([S_RULE, D_RULE], 2)
    # Accepts an older podnet put above the jump move below it.
    planned = fw.plan(PARAMS, live(forward=ACCEPTS + DOCKER_FORWARD))
    assert planned["ipt_delete"] == [D_RULE, S_RULE]
    assert (planned["ipt_add"], planned["ipt_position"]) == ([S_RULE, D_RULE], 2)
    # No Docker: at the top (Docker, starting later, puts its jump above them).
    planned = fw.plan(PARAMS, live(forward="-P FORWARD ACCEPT\n"))
    assert planned["ipt_position"] == 1


def test_rules_of_others_are_never_podnets():
    forward = (DOCKER_FORWARD
               + "-A FORWARD -s 10.244.0.0/16 -m comment --comment podnet-lab -j ACCEPT\n"
               + '-A FORWARD -s 10.244.0.0/16 -m comment --comment "not podnet" -j ACCEPT\n'
               + "-A FORWARD -s 10.244.0.0/16 -m comment --comment podnet -j DROP\n")
    assert fw.parse_forward(forward) == ("DROP", [])
    assert fw.plan(dict(PARAMS, state="absent"), live(forward=forward))["ipt_delete"] == []


def test_the_knob_off_deletes_the_accepts():
    planned = fw.plan(params(iptables_forward_accept=False), live())
    assert (planned["ipt_delete"], planned["ipt_add"]) == ([D_RULE, S_RULE], [])
    assert "iptables" not in planned["boot"]


def test_without_iptables_nothing_is_planned_there():
    planned = fw.plan(PARAMS, live(iptables=False))
    assert (planned["ipt_delete"], planned["ipt_add"], planned["policy"]) == ([], [], None)


# ---------------------------------------------------------------- boot step, absent

def test_the_boot_step_loads_the_file_then_ensures_each_accept():
    boot = fw.plan(PARAMS, live())["boot"].splitlines()
    assert "nft -f /etc/podnet/firewall.nft" in boot
    checks = [line.strip() for line in boot if "iptables -w -C" in line]
    assert checks == [
        'iptables -w -C FORWARD %s 2>/dev/null || iptables -w -I FORWARD "${pos:-1}" %s'
        % (" ".join(rule), " ".join(rule)) for rule in (S_RULE, D_RULE)]
    # Where iptables appears only later (Docker installs it), the boot step adds them then.
    assert "if command -v iptables >/dev/null 2>&1; then" in boot


def test_absent_deletes_the_table_the_accepts_the_file_and_the_step():
    planned = fw.plan(dict(state="absent"), live())
    assert (planned["delete_table"], planned["table"], planned["load"]) == (True, "deleted", False)
    assert planned["ipt_delete"] == [D_RULE, S_RULE] and planned["ipt_add"] == []
    assert (planned["file"], planned["boot"], planned["ruleset"]) == (None, None, "")


def test_absent_on_a_clean_host_does_nothing():
    planned = fw.plan(dict(state="absent"), live(table=None, forward=DOCKER_FORWARD))
    assert (planned["delete_table"], planned["table"]) == (False, "absent")
    assert planned["ipt_delete"] == []


# ---------------------------------------------------------------- meaning checks

@pytest.mark.parametrize("change, words", [
    (dict(cluster_cidr=""), ["podnet_firewall_cluster_cidr=''", "network.cluster_cidr"]),
    (dict(cluster_cidr="10.244.0.1/16"), ["podnet_firewall_cluster_cidr='10.244.0.1/16'",
                                          "host bits", "10.244.0.0/16"]),
    (dict(cluster_cidr="10.244.0.0"), ["podnet_firewall_cluster_cidr='10.244.0.0'", "CIDR"]),
    (dict(pod_cidr="fd00::/64"), ["podnet_firewall_pod_cidr='fd00::/64'", "IPv4"]),
    (dict(pod_cidr="10.245.1.0/24"), ["podnet_firewall_pod_cidr=10.245.1.0/24 is not inside "
                                      "podnet_firewall_cluster_cidr=10.244.0.0/16"]),
    (dict(node_addresses=[]), ["podnet_firewall_node_addresses=[]", "non-empty"]),
    (dict(node_addresses=["172.30.31.11", "node-b"]), ["not addresses: ['node-b']"]),
    (dict(vxlan_port=0), ["podnet_firewall_vxlan_port=0", "1-65535"]),
    (dict(vxlan_port=70000), ["podnet_firewall_vxlan_port=70000", "null"]),
])
def test_meaning_errors_name_the_role_variable_and_the_fix(change, words):
    planned = fw.plan(params(**change), live())
    assert len(planned["errors"]) == 1, planned["errors"]
    for word in words:
        assert word in planned["errors"][0]
    # Nothing is planned when an input is wrong.
    assert (planned["load"], planned["file"], planned["boot"], planned["ipt_add"]) == (
        False, None, None, [])


def test_every_error_is_reported_at_once():
    planned = fw.plan(params(cluster_cidr="x", pod_cidr="y", node_addresses=[], vxlan_port=0),
                      live())
    assert len(planned["errors"]) == 4


def test_absent_needs_no_inputs():
    assert fw.plan(dict(state="absent", cluster_cidr="nonsense"), live())["errors"] == []


def test_a_large_set_wrapped_over_many_lines_is_no_drift():
    # nft 1.0.6 wraps 16 members two per line (recorded); the rendering keeps one line.
    nodes = ["172.30.3%d.%d" % (zone, host) for zone in (1, 2) for host in range(11, 19)]
    wrapped = ",\n\t\t\t     ".join(", ".join(nodes[i:i + 2]) for i in range(0, 16, 2))
    listing = LOADED.replace("172.30.31.11, 172.30.31.12,\n\t\t\t     172.30.32.11", wrapped)
    planned = fw.plan(params(node_addresses=list(reversed(nodes))), live(table=listing))
    assert planned["load"] is False


# ---------------------------------------------------------------- WireGuard port

def test_wireguard_port_is_guarded_like_the_vxlan_port():
    p = params()
    text = fw.render_table(p["cluster_cidr"], p["pod_cidr"], p["node_addresses"], True, 8472, 51820)
    assert guard(text) == [
        "udp dport 8472 ip saddr @nodes accept",
        'udp dport 8472 counter name "vxlan_rejected" drop',
        "udp dport 51820 ip saddr @nodes accept",
        'udp dport 51820 counter name "wireguard_rejected" drop',
    ]
    assert text.index("counter vxlan_rejected {") < text.index("counter wireguard_rejected {")
    only = fw.render_table(p["cluster_cidr"], p["pod_cidr"], p["node_addresses"], True, None, 51820)
    assert guard(only) == ["udp dport 51820 ip saddr @nodes accept",
                           'udp dport 51820 counter name "wireguard_rejected" drop']
    assert "vxlan_rejected" not in only


@pytest.mark.parametrize("port", [0, 70000, 8472])
def test_bad_wireguard_port_names_the_role_variable(port):
    errors = fw.check_inputs(params(wireguard_port=port))
    assert any("podnet_firewall_wireguard_port=%r" % port in e for e in errors), errors


@pytest.mark.parametrize("forward, position", [
    (DOCKER_FORWARD, "2"), ("-P FORWARD ACCEPT\n", "1"),
    ("-P FORWARD DROP\n-A FORWARD -j OPERATOR\n-A FORWARD -j DOCKER-USER\n", "3"),
])
def test_the_boot_step_finds_the_same_position(forward, position):
    # The boot step's own shell computes where the accepts go (Docker may be up or not).
    line = [line for line in fw.plan(PARAMS, live())["boot"].splitlines() if "pos=$(" in line][0]
    script = "iptables() { printf '%%s' '%s'; }\n%s\nprintf '%%s' \"${pos:-1}\"\n" % (forward, line.strip())
    assert subprocess.run(["sh", "-c", script], capture_output=True, text=True,
                          check=True).stdout == position


# ---------------------------------------------------------------- ownership

FOREIGN = LOADED.replace('\tcomment "podnet: pod subnet 10.244.1.0/24 in cluster 10.244.0.0/16"\n', "")


def test_a_table_podnet_did_not_make_stops_the_run_before_any_change():
    # It used to be replaced (and, with state absent, deleted) without a look.
    planned = fw.plan(PARAMS, live(table=FOREIGN))
    assert not planned["load"] and not planned["ipt_add"]
    assert any("table inet podnet exists that podnet did not make" in e for e in planned["errors"])


def test_reset_leaves_a_table_podnet_did_not_make_and_says_so():
    planned = fw.plan(dict(state="absent"), live(table=FOREIGN))
    assert (planned["delete_table"], planned["table"]) == (False, "foreign")
    assert planned["left_alone"] and "did not make it" in planned["left_alone"][0]


def test_tables_of_older_podnet_versions_are_podnets():
    older = LOADED.replace('comment "podnet: pod subnet 10.244.1.0/24 in cluster 10.244.0.0/16"',
                           'comment "podnet 5f0c2a"')
    assert host.owns_nft_table(older) and host.owns_nft_table(LOADED) and not host.owns_nft_table(FOREIGN)
    assert fw.plan(PARAMS, live(table=older))["table"] == "reloaded"
    assert not host.owns_nft_table(LOADED.replace('"podnet:', '"podnetx:'))


# ---------------------------------------------------------------- IPv6 (dual stack)

NODES6 = NODES + ["fd42:24:3::12", "fd42:24:3::11", "2001:db8:5::11"]
PARAMS6 = dict(PARAMS, node_addresses=NODES6, wireguard_port=51820,
               cluster_cidr_ipv6="fd00:10:244::/48", pod_cidr_ipv6="fd00:10:244:1::/64")
# `nft -s list table inet podnet` (nftables 1.0.6, Debian 12 test host) right after
# loading PARAMS6's ruleset.
LOADED6 = """\
table inet podnet {
\tcomment "podnet: pod subnet 10.244.1.0/24 in cluster 10.244.0.0/16, IPv6 pod subnet fd00:10:244:1::/64 in cluster fd00:10:244::/48"
\tcounter forward_rejected {
\t}

\tcounter vxlan_rejected {
\t}

\tcounter wireguard_rejected {
\t}

\tset nodes {
\t\ttype ipv4_addr
\t\telements = { 172.30.31.11, 172.30.31.12,
\t\t\t     172.30.32.11 }
\t}

\tset nodes6 {
\t\ttype ipv6_addr
\t\telements = { 2001:db8:5::11,
\t\t\t     fd42:24:3::11,
\t\t\t     fd42:24:3::12 }
\t}

\tchain input {
\t\ttype filter hook input priority filter; policy accept;
\t\tudp dport 8472 ip saddr @nodes accept
\t\tudp dport 8472 ip6 saddr @nodes6 accept
\t\tudp dport 8472 counter name "vxlan_rejected" drop
\t\tudp dport 51820 ip saddr @nodes accept
\t\tudp dport 51820 ip6 saddr @nodes6 accept
\t\tudp dport 51820 counter name "wireguard_rejected" drop
\t}

\tchain forward {
\t\ttype filter hook forward priority filter; policy accept;
\t\tip saddr 10.244.0.0/16 accept
\t\tip daddr 10.244.0.0/16 ip saddr @nodes accept
\t\tip daddr 10.244.0.0/16 ct state established,related accept
\t\tip daddr 10.244.0.0/16 ct status dnat accept
\t\tip daddr 10.244.0.0/16 counter name "forward_rejected" drop
\t\tip6 saddr fd00:10:244::/48 accept
\t\tip6 daddr fd00:10:244::/48 ip6 saddr @nodes6 accept
\t\tip6 daddr fd00:10:244::/48 ct state established,related accept
\t\tip6 daddr fd00:10:244::/48 ct status dnat accept
\t\tip6 daddr fd00:10:244::/48 counter name "forward_rejected" drop
\t}

\tchain postrouting {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\tip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 ip daddr != @nodes masquerade
\t\tip6 saddr fd00:10:244::/48 ip6 daddr != fd00:10:244::/48 ip6 daddr != @nodes6 masquerade
\t}
}
"""


def test_without_ipv6_inputs_the_table_is_the_ipv4_one():
    assert fw.plan(dict(PARAMS, cluster_cidr_ipv6=None, pod_cidr_ipv6=None, masquerade_ipv6=None),
                   live(table=LOADED))["load"] is False
    assert "ip6" not in table() and "nodes6" not in table()


def test_the_dual_stack_table_is_what_nft_lists_after_loading_it():
    planned = fw.plan(PARAMS6, live(table=LOADED6))
    assert planned["errors"] == [] and planned["load"] is False and planned["table"] == "unchanged"
    # the same inputs without IPv6 differ from it: drift, reloaded
    assert fw.plan(PARAMS, live(table=LOADED6))["load"] is True


def test_ipv6_members_pass_the_port_guards_and_reach_pods():
    text = fw.plan(PARAMS6, live(table=None))["ruleset"]
    assert guard(text) == [
        "udp dport 8472 ip saddr @nodes accept",
        "udp dport 8472 ip6 saddr @nodes6 accept",
        'udp dport 8472 counter name "vxlan_rejected" drop',
        "udp dport 51820 ip saddr @nodes accept",
        "udp dport 51820 ip6 saddr @nodes6 accept",
        'udp dport 51820 counter name "wireguard_rejected" drop',
    ]
    assert forward_chain(text)[5:] == [
        "ip6 saddr fd00:10:244::/48 accept",
        "ip6 daddr fd00:10:244::/48 ip6 saddr @nodes6 accept",
        "ip6 daddr fd00:10:244::/48 ct state established,related accept",
        "ip6 daddr fd00:10:244::/48 ct status dnat accept",
        'ip6 daddr fd00:10:244::/48 counter name "forward_rejected" drop',
    ]


def masquerades(text):
    return [line.strip() for line in text.splitlines() if "masquerade" in line]


@pytest.mark.parametrize("cluster6, pod6, chosen, masqueraded", [
    ("fd00:10:244::/48", "fd00:10:244:1::/64", None, True),      # ULA: masquerade by default
    ("2001:db8:244::/48", "2001:db8:244:1::/64", None, False),   # global: routed as it is
    ("fd00:10:244::/48", "fd00:10:244:1::/64", False, False),
    ("2001:db8:244::/48", "2001:db8:244:1::/64", True, True),
])
def test_ipv6_egress_masquerades_ula_by_default_and_follows_the_option(cluster6, pod6, chosen, masqueraded):
    p = dict(PARAMS6, cluster_cidr_ipv6=cluster6, pod_cidr_ipv6=pod6, masquerade_ipv6=chosen)
    text = fw.plan(p, live(table=None))["ruleset"]
    rule = "ip6 saddr %s ip6 daddr != %s ip6 daddr != @nodes6 masquerade" % (cluster6, cluster6)
    assert masquerades(text) == ["ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 ip daddr != @nodes masquerade"] \
        + ([rule] if masqueraded else [])
    # IPv6 egress alone: IPv4 masquerade off
    only6 = fw.plan(dict(p, masquerade=False), live(table=None))["ruleset"]
    assert masquerades(only6) == ([rule] if masqueraded else [])
    assert ("chain postrouting" in only6) == masqueraded


def test_an_ipv6_only_underlay_leaves_the_ipv4_member_set_empty():
    text = fw.plan(dict(PARAMS6, node_addresses=["fd42:24:3::11", "fd42:24:3::12"]), live(table=None))["ruleset"]
    assert "\tset nodes {\n\t\ttype ipv4_addr\n\t}\n" in text
    assert "\t\telements = { fd42:24:3::11, fd42:24:3::12 }\n" in text


@pytest.mark.parametrize("masquerade6", [None, False])
def test_the_dual_stack_ruleset_is_valid_nftables(masquerade6, tmp_path):
    nft = shutil.which("nft")
    if nft is None:
        pytest.skip("nft is not installed")
    path = tmp_path / "firewall.nft"
    path.write_text(fw.check_file(fw.plan(dict(PARAMS6, masquerade_ipv6=masquerade6), live(table=None))["file"]))
    done = subprocess.run([nft, "-c", "-f", str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0 and "Operation not permitted" in done.stderr:
        pytest.skip("nft -c needs CAP_NET_ADMIN here")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("change, words", [
    (dict(pod_cidr_ipv6=None), ["podnet_firewall_pod_cidr_ipv6=None", "null for both"]),
    (dict(cluster_cidr_ipv6=None), ["podnet_firewall_cluster_cidr_ipv6=None"]),
    (dict(cluster_cidr_ipv6="fd00:10:244::1/48"), ["podnet_firewall_cluster_cidr_ipv6=", "host bits",
                                                   "fd00:10:244::/48"]),
    (dict(cluster_cidr_ipv6="10.244.0.0/16"), ["is not an IPv6 network"]),
    (dict(pod_cidr_ipv6="fd00:10:245:1::/64"), ["podnet_firewall_pod_cidr_ipv6=fd00:10:245:1::/64 is not "
                                                "inside podnet_firewall_cluster_cidr_ipv6=fd00:10:244::/48"]),
    (dict(node_addresses=["fd42:24:3::11", "fd42::zz"]), ["not addresses: ['fd42::zz']"]),
    (dict(cluster_cidr_ipv6=None, pod_cidr_ipv6=None, masquerade_ipv6=True),
     ["podnet_firewall_masquerade_ipv6=true needs podnet_firewall_cluster_cidr_ipv6"]),
])
def test_ipv6_meaning_errors_name_the_role_variable_and_the_fix(change, words):
    planned = fw.plan(dict(PARAMS6, **change), live())
    assert len(planned["errors"]) == 1, planned["errors"]
    for word in words:
        assert word in planned["errors"][0]
    assert (planned["load"], planned["file"]) == (False, None)
