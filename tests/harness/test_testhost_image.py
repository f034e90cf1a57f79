# SPDX-License-Identifier: GPL-3.0-or-later
"""The test-host image stays as bare as a stock Debian server.

Whatever a role installs, or a module runs, must come from podnet's own run: if the image
(scripts/build-testhost-image.sh) carried it, no test would ever see the install path fail.
Both sides are read from the tree: the image's package list from its recipe, the roles'
packages from their defaults, the executables from every module's source."""

import glob
import os
import re

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECIPE = os.path.join(ROOT, "scripts", "build-testhost-image.sh")
MODULE_SOURCES = (glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py"))
                  + glob.glob(os.path.join(ROOT, "plugins", "module_utils", "*.py")))
# An executable a module runs, by any of the ways podnet's modules name one.
RUNS = re.compile(r'(?:get_bin_path|\.bin|\.read|\.change)\(\s*"([a-zA-Z0-9_.-]+)"')

# Which Debian package gives each executable podnet's modules run. A new executable must
# be added here, so its package is checked too.
PACKAGE_OF = {
    "ip": "iproute2", "bridge": "iproute2", "nft": "nftables", "ethtool": "ethtool",
    "iptables": "iptables", "wg": "wireguard-tools", "wireguard-go": "wireguard-go",
    "etcdctl": "etcd-client", "systemctl": "systemd", "systemd-run": "systemd",
    "modprobe": "kmod", "apt-get": "apt", "dpkg-query": "dpkg", "bird": "bird2", "birdc": "bird2",
}
# Executables a module uses only when the node has them, and works without: iptables where
# Docker's FORWARD chain exists, modprobe to find a WireGuard kernel module.
OPTIONAL = {"iptables", "modprobe"}
# What podnet asks of every node, as Ansible asks for python3: the image must have them
# (docs/testing.md, "What a node must have"). apt and dpkg come with every Debian.
PREREQUISITES = {"python3", "iproute2", "systemd"}
ESSENTIAL = {"apt", "dpkg"}


def image_packages(recipe=RECIPE):
    text = open(recipe, encoding="utf-8").read()
    body = re.search(r"^packages=\((.*?)^\)", text, re.M | re.S).group(1)
    lines = [line.split("#", 1)[0] for line in body.splitlines()]
    return set(" ".join(lines).split())


def role_packages():
    found = {}
    for path in glob.glob(os.path.join(ROOT, "roles", "*", "defaults", "main.yml")):
        defaults = yaml.safe_load(open(path, encoding="utf-8")) or {}
        for name, value in defaults.items():
            if re.match(r"^podnet_[a-z0-9_]+_packages$", name):
                for package in value or []:
                    found.setdefault(package, []).append(name)
    return found


def executables():
    found = {}
    for path in MODULE_SOURCES:
        for tool in RUNS.findall(open(path, encoding="utf-8").read()):
            found.setdefault(tool, set()).add(os.path.relpath(path, ROOT))
    return found


def test_the_recipe_and_the_roles_are_read():
    """Guards the readers below: an empty read would make every other test pass."""
    assert {"systemd", "openssh-server", "python3"} <= image_packages()
    assert {"nftables", "wireguard-tools", "docker.io", "etcd-server"} <= set(role_packages())
    assert {"ip", "nft", "wg", "etcdctl"} <= set(executables())


def test_the_image_holds_no_package_a_role_installs():
    baked = {p: v for p, v in role_packages().items() if p in image_packages()}
    assert not baked, (
        f"scripts/build-testhost-image.sh bakes {sorted(baked)} into the test-host image, "
        f"which roles install themselves ({baked}): remove them from the image's list, or no "
        "test sees the install path")


def test_every_executable_a_module_runs_is_known():
    unknown = {tool: sorted(paths) for tool, paths in executables().items() if tool not in PACKAGE_OF}
    assert not unknown, f"add the Debian package of {unknown} to PACKAGE_OF"


@pytest.mark.parametrize("tool", sorted(PACKAGE_OF))
def test_each_executable_comes_from_a_role_or_is_a_prerequisite(tool):
    package, image, roles = PACKAGE_OF[tool], image_packages(), role_packages()
    if tool in OPTIONAL and package not in roles:
        return
    if package in roles:
        assert package not in image, f"{package} ({tool}) is a role's: keep it out of the image"
    else:
        assert package in PREREQUISITES | ESSENTIAL and (package in image or package in ESSENTIAL), (
            f"{tool} comes from {package}, which no role installs and no node is required to "
            "have: add it to a role's podnet_<role>_packages")


def test_the_image_has_what_podnet_asks_of_every_node():
    assert PREREQUISITES <= image_packages()


def test_test_tools_never_come_with_the_image():
    lists = yaml.safe_load(open(os.path.join(ROOT, "playbooks", "lab", "vars", "test-tools.yml"),
                                encoding="utf-8"))
    tools = lists["podnet_lab_test_tools"] + lists["podnet_lab_scenario_tools"]
    assert {"frr", "prometheus"} <= set(tools) and not set(tools) & image_packages()


def test_the_wireguard_key_step_installs_wg_before_it_runs_it():
    """plan.yml's key step runs `wg genkey` before any other play: on a fresh node it must
    install wireguard-tools itself first (the first run on a bare host failed without)."""
    tasks = yaml.safe_load(open(os.path.join(ROOT, "roles", "podnet_wireguard", "tasks", "key.yml"),
                                encoding="utf-8"))
    steps = [next(key for key in task if key not in ("name", "when", "vars")) for task in tasks]
    installs = [i for i, task in enumerate(tasks)
                if task.get("ansible.builtin.import_tasks") == "install.yml"]
    assert installs and steps.index("podnet.network.podnet_wireguard_key") > installs[0], steps
    defaults = yaml.safe_load(open(os.path.join(ROOT, "roles", "podnet_wireguard", "defaults",
                                                "main.yml"), encoding="utf-8"))
    assert "wireguard-tools" in defaults["podnet_wireguard_packages"]
