# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet_flannel_env on a dual-stack node (issue 24): flanneld's IPv6 lines
(flannel-io/flannel, pkg/subnet/subnet.go, WriteSubnetFile: FLANNEL_IPV6_NETWORK and
FLANNEL_IPV6_SUBNET after FLANNEL_SUBNET, before FLANNEL_MTU), the IPv4-only file byte for
byte the one before, and the pair's errors naming the role variables."""

import pytest
from ansible_collections.podnet.network.tests.unit.role_modules import load_module, run_module

env = load_module("podnet_flannel_env")
PATH = "/run/flannel/subnet.env"
HEADER = ("#\n# Ansible managed: written by podnet's podnet_flannel_env module from the declared state;\n"
          "# edits by hand are detected and overwritten on the next run.\n#\n"
          "# podnet: this node's slice of the pod network, in flannel's format (role podnet_flannel_env).\n")
# Written by the module before it knew IPv6 (commit 54b47ae), for these inputs.
IPV4_FILE = HEADER + "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n"
IPV4_TMPFILES = (
    "#\n# Ansible managed: written by podnet's podnet_flannel_env module from the declared state;\n"
    "# edits by hand are detected and overwritten on the next run.\n#\n"
    "# podnet: recreate /run/flannel/subnet.env at boot (/run is a tmpfs); role podnet_flannel_env.\n"
    "d /run/flannel 0755 root root -\n"
    "f+ /run/flannel/subnet.env 0644 root root - #\\n# Ansible managed: written by podnet's "
    "podnet_flannel_env module from the declared state;\\n# edits by hand are detected and overwritten "
    "on the next run.\\n#\\n# podnet: this node's slice of the pod network, in flannel's format (role "
    "podnet_flannel_env).\\nFLANNEL_NETWORK=10.244.0.0/16\\nFLANNEL_SUBNET=10.244.1.1/24\\n"
    "FLANNEL_MTU=1450\\nFLANNEL_IPMASQ=false\\n\n")


@pytest.mark.parametrize("absent", [(), (None, None), ("", "")])
def test_without_the_ipv6_pair_the_file_is_the_ipv4_one_byte_for_byte(absent):
    errors, values = env.check_params("10.244.0.0/16", "10.244.1.1/24", 1450, PATH, *absent)
    assert errors == [] and values == {"network": "10.244.0.0/16", "subnet": "10.244.1.1/24", "mtu": 1450}
    assert env.subnet_env(values, False) == IPV4_FILE
    assert env.tmpfiles_entry(PATH, IPV4_FILE) == IPV4_TMPFILES


def test_a_dual_stack_file_has_flanneld_s_ipv6_lines_in_its_order():
    errors, values = env.check_params("10.244.0.0/16", "10.244.1.1/24", 1450, PATH,
                                      "fd00:10:244::/56", "fd00:10:244:1::1/64")
    assert errors == []
    assert env.subnet_env(values, False) == HEADER + (
        "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\n"
        "FLANNEL_IPV6_NETWORK=fd00:10:244::/56\nFLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64\n"
        "FLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n")


@pytest.mark.parametrize("network, subnet, written", [
    # Go's net.IP.String (RFC 5952), as flanneld prints them: lower case, no leading zeros,
    # the longest run of zero groups as "::", the first of two equal runs, a single zero
    # group kept.
    ("FD00:0010:0244:0000::/56", "FD00:10:244:0001:0:0:0:1/64",
     ("fd00:10:244::/56", "fd00:10:244:1::1/64")),
    ("2001:db8::/32", "2001:db8:0:0:1:0:0:1/64", ("2001:db8::/32", "2001:db8::1:0:0:1/64")),
    ("fd00:0:244::/48", "fd00:0:244:7::1/64", ("fd00:0:244::/48", "fd00:0:244:7::1/64")),
])
def test_ipv6_values_are_written_in_flanneld_s_text_form(network, subnet, written):
    errors, values = env.check_params("10.244.0.0/16", "10.244.1.1/24", 1450, PATH, network, subnet)
    assert errors == [] and (values["network_ipv6"], values["subnet_ipv6"]) == written


def test_the_tmpfiles_entry_recreates_the_dual_stack_file():
    errors, values = env.check_params("10.244.0.0/16", "10.244.1.1/24", 1450, PATH,
                                      "fd00:10:244::/56", "fd00:10:244:1::1/64")
    content = env.subnet_env(values, False)
    lines = [line for line in env.tmpfiles_entry(PATH, content).splitlines() if not line.startswith("#")]
    prefix = "f+ %s 0644 root root - " % PATH
    assert lines[1].startswith(prefix) and len(lines) == 2
    # systemd-tmpfiles resolves C escapes and %% in the argument
    assert lines[1][len(prefix):].replace("%%", "%").encode().decode("unicode_escape") == content


@pytest.mark.parametrize("network6, subnet6, variable", [
    ("fd00:10:244::/56", None, "podnet_flannel_env_subnet_ipv6 is not set but podnet_flannel_env_network_ipv6"),
    ("fd00:10:244::/56", "", "podnet_flannel_env_subnet_ipv6 is not set"),
    (None, "fd00:10:244:1::1/64", "podnet_flannel_env_network_ipv6 is not set but podnet_flannel_env_subnet_ipv6"),
    ("fd00:10:244::1/56", "fd00:10:244:1::1/64", "podnet_flannel_env_network_ipv6='fd00:10:244::1/56'"),
    ("fd00:10:244::", "fd00:10:244:1::1/64", "podnet_flannel_env_network_ipv6='fd00:10:244::'"),
    ("10.245.0.0/16", "fd00:10:244:1::1/64", "podnet_flannel_env_network_ipv6='10.245.0.0/16'"),
    ("fe80::/56", "fe80::1/64", "podnet_flannel_env_network_ipv6=fe80::/56 is neither a ULA"),
    ("::ffff:0:0/96", "::ffff:a00:1/120", "podnet_flannel_env_network_ipv6=::ffff:0:0/96 is neither"),
    ("fd00:10:244::/56", "fd00:10:244:1::/64", "podnet_flannel_env_subnet_ipv6='fd00:10:244:1::/64'"),
    ("fd00:10:244::/56", "fd00:10:244:1::1", "podnet_flannel_env_subnet_ipv6='fd00:10:244:1::1'"),
    ("fd00:10:244::/56", "fd00:10:244:1::1%eth0/64", "podnet_flannel_env_subnet_ipv6='fd00:10:244:1::1%eth0/64'"),
    ("fd00:10:244::/56", "10.244.1.1/24", "podnet_flannel_env_subnet_ipv6='10.244.1.1/24'"),
    ("fd00:10:244::/56", "fd00:10:245:1::1/64", "podnet_flannel_env_subnet_ipv6=fd00:10:245:1::1/64 lies outside "
                                                "podnet_flannel_env_network_ipv6=fd00:10:244::/56"),
    ("fd00:10:244::/56", "fd00:10:200::1/40", "podnet_flannel_env_subnet_ipv6=fd00:10:200::1/40 lies outside"),
])
def test_a_bad_ipv6_pair_is_refused_naming_the_role_variable_and_the_fix(network6, subnet6, variable):
    errors, values = env.check_params("10.244.0.0/16", "10.244.1.1/24", 1450, PATH, network6, subnet6)
    assert values is None and len(errors) == 1 and errors[0].startswith(variable), errors
    assert "cluster_cidr_ipv6" in errors[0] or "bridge_address_ipv6" in errors[0] or "same plan" in errors[0]


def test_ipv4_and_ipv6_errors_are_reported_together():
    errors, values = env.check_params("10.244.0.1/16", "10.244.1.1/24", 1450, PATH,
                                      "fd00:10:244::/56", "fd00:10:244:1::/64")
    assert values is None and [e.split("=")[0] for e in errors] == [
        "podnet_flannel_env_network", "podnet_flannel_env_subnet_ipv6"]


def test_the_module_refuses_half_a_pair_before_writing_anything(tmp_path):
    path = tmp_path / "flannel" / "subnet.env"
    result = run_module("podnet_flannel_env", dict(path=str(path), network="10.244.0.0/16",
                                                   subnet="10.244.1.1/24", network_ipv6="fd00:10:244::/56"),
                        check_mode=False)
    assert result["failed"] and result["actions"] == []
    assert result["msg"].startswith("podnet_flannel_env_subnet_ipv6 is not set")
    assert not path.parent.exists()


def test_the_module_plans_the_dual_stack_file_in_check_mode(tmp_path):
    path = tmp_path / "subnet.env"
    result = run_module("podnet_flannel_env", dict(path=str(path), network="10.244.0.0/16", subnet="10.244.1.1/24",
                                                   network_ipv6="fd00:10:244::/56",
                                                   subnet_ipv6="fd00:10:244:1::1/64", mtu=1450))
    assert not result.get("failed"), result
    assert "write %s" % path in result["actions"] and not path.exists()
    written = [d["after"] for d in result["diff"] if d["after_header"] == str(path)]
    assert written == [HEADER + "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\n"
                                "FLANNEL_IPV6_NETWORK=fd00:10:244::/56\nFLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64\n"
                                "FLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n"]
