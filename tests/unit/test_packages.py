# SPDX-License-Identifier: GPL-3.0-or-later
"""podnet_packages (library/) without a host: which packages its dpkg-query answer leaves
missing. The install itself is proven by every molecule scenario on fresh test hosts."""

import pytest
from ansible_collections.podnet.network.tests.unit.role_modules import load_module

packages = load_module("podnet_packages")

# Recorded: dpkg-query -W -f '${Package}\t${db:Status-Abbrev}\n' iproute2 nftables
# docker.io ethtool wireguard-tools nosuchpkg (rc 1: nosuchpkg is unknown to dpkg).
DPKG = "iproute2\tii \nnftables\tii \ndocker.io\trc \nethtool\tiU \nwireguard-tools\tun \n"


def test_only_installed_packages_count_as_present():
    error, missing = packages.plan_packages(
        ["iproute2", "nftables", "docker.io", "ethtool", "wireguard-tools", "nosuchpkg"], DPKG)
    # removed-with-config (rc), unpacked (iU), not installed (un) and unknown are all missing
    assert error is None
    assert missing == ["docker.io", "ethtool", "nosuchpkg", "wireguard-tools"]


def test_a_node_that_has_everything_needs_nothing():
    assert packages.plan_packages(["iproute2", "nftables", "iproute2"], DPKG) == (None, [])


def test_an_architecture_qualified_name_matches_its_package():
    assert packages.plan_packages(["iproute2:amd64"], "iproute2:amd64\tii \n") == (None, [])


def test_duplicates_are_asked_once():
    assert packages.plan_packages(["nftables", "nftables"], "") == (None, ["nftables"])


@pytest.mark.parametrize("name", ["", "-o=evil", "Iproute2", "ip route", None])
def test_a_name_that_is_no_package_name_is_refused_naming_it(name):
    error, missing = packages.plan_packages(["iproute2", name], DPKG)
    assert repr(name) in error and missing == []


def test_without_a_proxy_apt_keeps_its_own_configuration():
    assert packages.apt_options(120, None) == ["-o", "DPkg::Lock::Timeout=120"]


def test_a_proxy_is_given_to_apt_for_this_call_only():
    assert packages.apt_options(30, "http://172.30.21.254:3142") == [
        "-o", "DPkg::Lock::Timeout=30", "-o", "Acquire::http::Proxy=http://172.30.21.254:3142"]


@pytest.mark.parametrize("proxy", ["http://apt-cache.example:3142", "https://[2001:db8::1]:3142/",
                                   "http://10.0.0.1"])
def test_proxy_urls_are_accepted(proxy):
    assert packages.PROXY.match(proxy)


@pytest.mark.parametrize("proxy", ["apt-cache.example:3142", "ftp://x", "http://a b",
                                   "http://x;rm -rf /"])
def test_a_proxy_that_is_no_http_url_is_refused(proxy):
    assert not packages.PROXY.match(proxy)


def test_only_the_named_packages_and_their_dependencies_install_never_recommends():
    """wireguard-tools recommends wireguard-modules, which every Debian kernel image
    provides: with recommends, a bare node got a kernel image and an initramfs rebuild
    (137 s of the lab's first WireGuard run) to get `wg`."""
    argv = packages.install_command("/usr/bin/apt-get", packages.apt_options(120, None),
                                    ["wireguard-tools"])
    assert argv[:2] == ["/usr/bin/apt-get", "install"] and argv[-1] == "wireguard-tools"
    assert "--no-install-recommends" in argv
