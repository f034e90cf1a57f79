# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet_bgp's pure steps without a host: BIRD's configuration from the host view's bgp
(export exactly the own subnet, import only other pod subnets of the zone's block), the
steps (configure only on change, enable, start), `birdc show protocols` parsing and the
ownership of /etc/bird/bird.conf."""

import pytest
from ansible_collections.podnet.network.plugins.plugin_utils.planner import host_view, plan
from ansible_collections.podnet.network.tests.unit.role_modules import load_module, run_module

bgp = load_module("podnet_bgp")

NET = {"cluster_cidr": "10.244.0.0/16", "zone_backends": {"dc1": "bgp"},
       "bgp": {"routers": {"dc1": [{"name": "tor-1", "asn": 4260000000,
                                    "address": ["172.30.81.254", "172.30.82.254"]}]}}}
NODES = {"a1": {"zone": "dc1", "address": "172.30.81.11", "prefix": 24},
         "b1": {"zone": "dc1", "address": "172.30.82.11", "prefix": 24}}
CONFIG = host_view(plan(NODES, NET), "a1")["bgp"]


def test_the_config_exports_exactly_the_own_subnet_and_imports_only_pod_subnets():
    text = bgp.render(CONFIG)
    assert bgp.check_config(CONFIG) is None
    pod = CONFIG["pod_cidr"]
    assert "filter podnet_export {\n  if net = %s then accept;\n  reject;\n}" % pod in text
    assert "  if net = %s then reject;\n  if net ~ [ 10.244.0.0/20{24,24} ] then accept;\n  reject;" % pod in text
    assert "route %s unreachable;" % pod in text
    # only BGP routes reach the kernel, tagged by BIRD's protocol, metric 32
    assert "export filter { if source = RTS_BGP then accept; reject; };" in text and "metric 32;" in text
    assert "local as %d;" % CONFIG["asn"] in text and "router id 172.30.81.11;" in text
    assert ("protocol bgp podnet_tor_1_0 from podnet_router {\n  description \"router tor-1\";\n"
            "  neighbor 172.30.81.254 as 4260000000;\n}") in text
    assert "172.30.82.254" not in text  # the other rack's leg is not this node's router
    assert "bfd on;" in text and "min rx interval 100 ms;" in text and "graceful restart on;" in text
    assert text.startswith("#\n# Ansible managed: written by podnet's podnet_bgp module")
    assert bgp.render(CONFIG) == text
    plain = bgp.render(dict(CONFIG, bfd=None, graceful_restart=False))
    assert "bfd" not in plain and "graceful" not in plain


@pytest.mark.parametrize("change, fragment", [
    ({"asn": "x"}, "podnet_bgp_config.asn='x' is not an ASN"),
    ({"pod_cidr": "10.244.0.1/24"}, "podnet_bgp_config.pod_cidr='10.244.0.1/24'"),
    ({"neighbors": []}, "podnet_bgp_config.neighbors lists no router"),
    ({"import_prefixes": ["10.244.0.0/20"]}, "is not NETWORK{LEN,LEN}"),
    ({"router_id": "x"}, "podnet_bgp_config.router_id='x'"),
])
def test_bad_slices_are_refused_naming_the_variable(change, fragment):
    assert fragment in bgp.check_config(dict(CONFIG, **change))
    assert "podnet_bgp_config is required" in bgp.check_config(None)


ACTIVE = {"LoadState": "loaded", "UnitFileState": "enabled", "ActiveState": "active"}


def test_birdc_configure_runs_only_when_the_config_changed():
    text = bgp.render(CONFIG)
    assert bgp.plan("present", text, text, True, ACTIVE) == []
    assert bgp.plan("present", "old", text, True, ACTIVE) == ["write", "configure"]
    # a fresh node (the package's own config, not started yet / not enabled)
    fresh = {"LoadState": "loaded", "UnitFileState": "disabled", "ActiveState": "inactive"}
    assert bgp.plan("present", "stock", text, True, fresh) == ["write", "enable", "start"]
    # started but not enabled: enabled so it survives a reboot, no reload without change
    assert bgp.plan("present", text, text, True, dict(ACTIVE, UnitFileState="disabled")) == ["enable"]
    assert bgp.plan("absent", text, None, True, ACTIVE) == ["stop", "disable", "remove"]
    assert bgp.plan("absent", None, None, True, ACTIVE) == []
    assert bgp.plan("absent", "theirs", None, False, ACTIVE) == []


def test_sessions_are_read_from_birdc_show_protocols():
    out = ("BIRD 2.0.12 ready.\n"
           "Name       Proto      Table      State  Since         Info\n"
           "device1    Device     ---        up     10:00:00.000  \n"
           "podnet_pod Static     master4    up     10:00:00.000  \n"
           "podnet_tor_1_0 BGP        ---        up     10:00:01.000  Established   \n"
           "podnet_tor_1_1 BGP        ---        start  10:00:01.000  Active        Socket: Connection refused\n")
    assert bgp.parse_protocols(out) == [
        {"name": "podnet_tor_1_0", "state": "up", "since": "10:00:01.000", "info": "Established"},
        {"name": "podnet_tor_1_1", "state": "start", "since": "10:00:01.000",
         "info": "Active        Socket: Connection refused"}]


def test_the_packages_own_config_is_taken_over_and_any_other_is_not():
    stock = "# stock bird.conf\nprotocol device {}\n"
    assert bgp.stock_config(stock, stock)
    assert not bgp.stock_config(stock, stock + "# mine\n")
    assert not bgp.stock_config(stock, None) and not bgp.stock_config(None, stock)


def _systemctl(tmp_path):
    """A stand-in systemctl: bird.service installed, disabled, inactive."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    tool = bindir / "systemctl"
    tool.write_text("#!/bin/sh\nprintf 'LoadState=loaded\\nUnitFileState=disabled\\nActiveState=inactive\\n'\n")
    tool.chmod(0o755)
    return bindir


def test_an_operators_own_bird_conf_stops_the_run_and_is_never_written(tmp_path):
    bindir = _systemctl(tmp_path)
    path = tmp_path / "bird.conf"
    theirs = "router id 1.2.3.4;\nprotocol device {}\n"
    path.write_text(theirs)
    result = run_module("podnet_bgp", dict(state="present", config=CONFIG, path=str(path),
                                           fact_path=str(tmp_path / "podnet_bgp.fact")), path_first=bindir)
    assert result.get("failed") and "podnet does not overwrite it" in result["msg"], result
    assert str(path) in result["msg"]
    absent = run_module("podnet_bgp", dict(state="absent", path=str(path),
                                           fact_path=str(tmp_path / "podnet_bgp.fact")), path_first=bindir)
    assert not absent.get("failed") and absent["left_alone"] and not absent["actions"], absent
    assert path.read_text() == theirs


def test_check_mode_on_a_fresh_node_reports_the_write_and_changes_nothing(tmp_path):
    path = tmp_path / "bird.conf"
    fact = tmp_path / "podnet_bgp.fact"
    result = run_module("podnet_bgp", dict(state="present", config=CONFIG, path=str(path), fact_path=str(fact)),
                        path_first=_systemctl(tmp_path))
    assert not result.get("failed"), result
    assert "write %s" % path in result["actions"] and result["changed"]
    assert "systemctl enable bird.service" in result["actions"]
    assert "systemctl start bird.service" in result["actions"]
    assert result["diff"][0]["after"] == bgp.render(CONFIG)
    assert not path.exists() and not fact.exists()


def test_reset_leaves_a_bird_podnet_never_configured_running(tmp_path):
    """absent on a host whose BIRD runs the package's own config: podnet never stops it."""
    bindir = _systemctl(tmp_path)
    (bindir / "systemctl").write_text(
        "#!/bin/sh\nprintf 'LoadState=loaded\\nUnitFileState=enabled\\nActiveState=active\\n'\n")
    stock = tmp_path / "stock.conf"
    stock.write_text("# stock\n")
    path = tmp_path / "bird.conf"
    path.write_text("# stock\n")
    result = run_module("podnet_bgp", dict(state="absent", path=str(path), stock_path=str(stock),
                                           fact_path=str(tmp_path / "podnet_bgp.fact")), path_first=bindir)
    assert not result.get("failed") and result["actions"] == [], result
    podnets = tmp_path / "podnets.conf"
    podnets.write_text(bgp.render(CONFIG))
    result = run_module("podnet_bgp", dict(state="absent", path=str(podnets), stock_path=str(stock),
                                           fact_path=str(tmp_path / "podnet_bgp.fact")), path_first=bindir)
    assert result["actions"] == ["systemctl stop bird.service", "systemctl disable bird.service",
                                 "rm %s" % podnets], result
