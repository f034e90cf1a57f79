# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet_sysctl's pure steps without a host: the inputs' meaning (messages name the role
variables), the plan of live writes from values read in /proc/sys (neighbour keys may be
missing in a container, nothing else may), and the two /etc/sysctl.d files."""

import pytest
import yaml
from ansible_collections.podnet.network.tests.unit.role_modules import load_module

sysctl = load_module("podnet_sysctl")
GC = {"gc_thresh1": 128, "gc_thresh2": 512, "gc_thresh3": 1024}
WANTED = {
    "net.ipv4.ip_forward": "1",
    "net.ipv4.conf.all.rp_filter": "2",
    "net.ipv4.conf.default.rp_filter": "2",
    "net.ipv4.neigh.default.gc_thresh1": "128",
    "net.ipv4.neigh.default.gc_thresh2": "512",
    "net.ipv4.neigh.default.gc_thresh3": "1024",
}
# /proc/sys as read in a Debian 12 test container: the neighbour keys are absent there.
CONTAINER = {
    "net.ipv4.ip_forward": "0\n",
    "net.ipv4.conf.all.rp_filter": "2\n",
    "net.ipv4.conf.default.rp_filter": "1\n",
    "net.ipv4.neigh.default.gc_thresh1": None,
    "net.ipv4.neigh.default.gc_thresh2": None,
    "net.ipv4.neigh.default.gc_thresh3": None,
}


def test_good_inputs_give_every_key():
    assert sysctl.check_params(True, 2, GC) == ([], WANTED)
    errors, wanted = sysctl.check_params("false", "1", {"gc_thresh1": "1", "gc_thresh2": 1, "gc_thresh3": 1})
    assert errors == [] and wanted["net.ipv4.ip_forward"] == "0"
    assert wanted["net.ipv4.conf.default.rp_filter"] == "1"


@pytest.mark.parametrize("forward, rp, gc, variable", [
    (True, 3, GC, "podnet_sysctl_rp_filter=3"),
    (True, "loose", GC, "podnet_sysctl_rp_filter='loose'"),
    (True, True, GC, "podnet_sysctl_rp_filter=True"),
    ("maybe", 2, GC, "podnet_sysctl_ip_forward='maybe'"),
    (True, 2, {"gc_thresh1": 128, "gc_thresh2": 512}, "podnet_sysctl_neigh_gc_thresh="),
    (True, 2, dict(GC, gc_thresh4=1), "podnet_sysctl_neigh_gc_thresh="),
    (True, 2, dict(GC, gc_thresh1=600), "podnet_sysctl_neigh_gc_thresh="),
    (True, 2, dict(GC, gc_thresh1=0), "podnet_sysctl_neigh_gc_thresh="),
    (True, 2, dict(GC, gc_thresh2="many"), "podnet_sysctl_neigh_gc_thresh="),
    (True, 2, [128, 512, 1024], "podnet_sysctl_neigh_gc_thresh="),
])
def test_bad_inputs_are_refused_naming_the_role_variable(forward, rp, gc, variable):
    errors, wanted = sysctl.check_params(forward, rp, gc)
    assert wanted is None and len(errors) == 1 and errors[0].startswith(variable)


def test_every_bad_input_is_named_at_once():
    errors, dummy = sysctl.check_params("maybe", 7, {})
    assert [e.split("=")[0] for e in errors] == [
        "podnet_sysctl_ip_forward", "podnet_sysctl_rp_filter", "podnet_sysctl_neigh_gc_thresh"]


def test_in_a_container_only_differing_keys_are_written_and_neighbour_keys_reported():
    plan = sysctl.plan_live(WANTED, CONTAINER)
    assert plan["error"] is None
    assert plan["set"] == {
        "net.ipv4.ip_forward": {"before": "0", "after": "1"},
        "net.ipv4.conf.default.rp_filter": {"before": "1", "after": "2"},
    }
    assert plan["missing"] == list(sysctl.NEIGH_KEYS)
    warning = sysctl.missing_warning(plan["missing"])
    assert "net.ipv4.neigh.default.gc_thresh1" in warning and sysctl.NEIGH_FILE in warning


def test_a_converged_host_needs_nothing():
    live = {key: value + "\n" for key, value in WANTED.items()}
    assert sysctl.plan_live(WANTED, live) == {"set": {}, "missing": [], "error": None}


def test_a_missing_key_other_than_the_neighbour_ones_is_an_error():
    live = dict(CONTAINER, **{"net.ipv4.ip_forward": None})
    plan = sysctl.plan_live(WANTED, live)
    assert "net.ipv4.ip_forward does not exist" in plan["error"]


def test_files_are_deterministic_and_mark_neighbour_keys_optional():
    files = sysctl.file_contents(WANTED)
    assert files == sysctl.file_contents(dict(WANTED))
    assert sorted(files) == ["/etc/sysctl.d/60-podnet-neigh.conf", "/etc/sysctl.d/60-podnet.conf"]
    conf = [line for line in files[sysctl.CONF_FILE].splitlines() if not line.startswith("#")]
    assert conf == ["net.ipv4.ip_forward = 1", "net.ipv4.conf.all.rp_filter = 2",
                    "net.ipv4.conf.default.rp_filter = 2"]
    neigh = [line for line in files[sysctl.NEIGH_FILE].splitlines() if not line.startswith("#")]
    assert neigh == ["-net.ipv4.neigh.default.gc_thresh1 = 128",
                     "-net.ipv4.neigh.default.gc_thresh2 = 512",
                     "-net.ipv4.neigh.default.gc_thresh3 = 1024"]


def test_module_documents_every_option():
    doc = yaml.safe_load(sysctl.DOCUMENTATION)
    assert doc["module"] == "podnet_sysctl"
    assert set(doc["options"]) == {"ip_forward", "rp_filter", "neigh_gc_thresh", "state",
                                   "ipv6_forward", "ipv6_accept_ra_interfaces"}
    # check and diff mode: full, from the shared fragment
    assert doc["extends_documentation_fragment"] == ["podnet.network.attributes"]
    assert yaml.safe_load(sysctl.EXAMPLES) and yaml.safe_load(sysctl.RETURN)


# --- IPv6 (dual stack) -------------------------------------------------------------------
# /proc/sys on a Debian 12 test container on an IPv6 Docker network (read by hand):
# forwarding off, eth0 accepting router advertisements (1), no such link eth9.
CONTAINER_V6 = dict(CONTAINER, **{
    "net.ipv6.conf.all.forwarding": "0\n",
    "net.ipv6.conf.eth0.accept_ra": "1\n",
    "net/ipv6/conf/eth0.100/accept_ra": "1\n",
    "net.ipv6.conf.eth9.accept_ra": None,
})


def test_without_ipv6_nothing_about_ipv6_is_wanted_or_written():
    assert sysctl.check_ipv6(None, ["eth0"]) == ([], {})
    assert "ipv6" not in "".join(sysctl.file_contents(WANTED).values())


def test_ipv6_forwarding_brings_accept_ra_2_on_each_underlay_interface():
    errors, wanted6 = sysctl.check_ipv6(True, ["eth0", "eth0.100"])
    assert errors == [] and wanted6 == {
        "net.ipv6.conf.all.forwarding": "1",
        "net.ipv6.conf.eth0.accept_ra": "2",
        "net/ipv6/conf/eth0.100/accept_ra": "2",
    }
    assert sysctl.key_path("net/ipv6/conf/eth0.100/accept_ra") == "/proc/sys/net/ipv6/conf/eth0.100/accept_ra"
    # forwarding off: router advertisements work as the kernel's default says, left alone
    assert sysctl.check_ipv6("false", ["eth0"]) == ([], {"net.ipv6.conf.all.forwarding": "0"})


@pytest.mark.parametrize("forward, interfaces, variable", [
    ("maybe", [], "podnet_sysctl_ipv6_forward='maybe'"),
    (True, ["eth0 "], "podnet_sysctl_ipv6_accept_ra_interfaces="),
    (True, ["all"], "podnet_sysctl_ipv6_accept_ra_interfaces="),
    (True, ["a-much-too-long-name"], "podnet_sysctl_ipv6_accept_ra_interfaces="),
])
def test_bad_ipv6_inputs_are_refused_naming_the_role_variable(forward, interfaces, variable):
    errors, wanted6 = sysctl.check_ipv6(forward, interfaces)
    assert wanted6 is None and len(errors) == 1 and errors[0].startswith(variable)


def test_ipv6_keys_are_planned_from_proc_sys_like_the_ipv4_ones():
    wanted = dict(WANTED, **sysctl.check_ipv6(True, ["eth0", "eth0.100"])[1])
    plan = sysctl.plan_live(wanted, CONTAINER_V6)
    assert plan["error"] is None
    assert plan["set"] == {
        "net.ipv4.ip_forward": {"before": "0", "after": "1"},
        "net.ipv4.conf.default.rp_filter": {"before": "1", "after": "2"},
        "net.ipv6.conf.all.forwarding": {"before": "0", "after": "1"},
        "net.ipv6.conf.eth0.accept_ra": {"before": "1", "after": "2"},
        "net/ipv6/conf/eth0.100/accept_ra": {"before": "1", "after": "2"},
    }
    converged = {key: value + "\n" for key, value in wanted.items()}
    assert sysctl.plan_live(wanted, converged)["set"] == {}


def test_a_missing_underlay_interface_or_ipv6_disabled_is_named():
    wanted = dict(WANTED, **sysctl.check_ipv6(True, ["eth9"])[1])
    error = sysctl.plan_live(wanted, CONTAINER_V6)["error"]
    assert error.startswith("podnet_sysctl_ipv6_accept_ra_interfaces names eth9")
    no_ipv6 = dict(CONTAINER, **{"net.ipv6.conf.all.forwarding": None})
    error = sysctl.plan_live(dict(WANTED, **sysctl.check_ipv6(True, [])[1]), no_ipv6)["error"]
    assert "IPv6 is disabled" in error and "podnet_sysctl_ipv6_forward" in error


def test_ipv6_keys_are_persisted_after_the_ipv4_ones():
    wanted = dict(WANTED, **sysctl.check_ipv6(True, ["eth0.100", "eth0"])[1])
    conf = [line for line in sysctl.file_contents(wanted)[sysctl.CONF_FILE].splitlines()
            if not line.startswith("#")]
    assert conf == ["net.ipv4.ip_forward = 1", "net.ipv4.conf.all.rp_filter = 2",
                    "net.ipv4.conf.default.rp_filter = 2",
                    "net.ipv6.conf.all.forwarding = 1",
                    "net.ipv6.conf.eth0.accept_ra = 2",
                    "net/ipv6/conf/eth0.100/accept_ra = 2"]
