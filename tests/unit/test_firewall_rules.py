"""podnet_firewall's rendered ruleset: the VXLAN port guard.

The guard (only member nodes may send to the overlay's UDP port) depends on the port
alone, never on whether this node has VXLAN peers or a VXLAN device: a node whose
peers are all host-gw still runs an overlay listener in flannel mode (flanneld), and
podnet's device may appear on the next run. The template is rendered with Jinja as
Ansible's template module does (trim_blocks), then checked by ``nft -c`` when nft runs.
"""

import os
import shutil
import subprocess

import jinja2
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATES = os.path.join(ROOT, "roles", "podnet_firewall", "templates")
NODES = ["172.30.31.11", "172.30.31.12", "172.30.32.11"]


def render(port, nodes=NODES, masquerade=True):
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), trim_blocks=True,
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    env.filters["comment"] = lambda text: "#\n# %s\n#" % text
    return env.get_template("etc/podnet/firewall.nft.j2").render(
        ansible_managed="Ansible managed",
        podnet_firewall_cluster_cidr="10.244.0.0/16",
        podnet_firewall_pod_cidr="10.244.1.0/24",
        podnet_firewall_node_addresses=nodes,
        podnet_firewall_masquerade=masquerade,
        podnet_firewall_vxlan_port=port,
        __podnet_firewall_digest="0" * 40,
    )


def guard(text):
    return [line.strip() for line in text.splitlines() if "udp dport" in line]


@pytest.mark.parametrize("port", [8472, "8472", 4789])
def test_the_guard_depends_on_the_port_only(port):
    # No input of the role says whether the node has VXLAN peers or a device.
    text = render(port)
    assert guard(text) == [
        "udp dport %d ip saddr @nodes accept" % int(port),
        "udp dport %d counter name vxlan_rejected drop" % int(port),
    ]
    assert "counter vxlan_rejected" in text
    assert "elements = { %s }" % ", ".join(sorted(NODES)) in text


def test_members_are_every_node_address():
    text = render(8472, nodes=NODES + ["172.30.31.11"])
    assert "elements = { 172.30.31.11, 172.30.31.12, 172.30.32.11 }" in text


def test_no_guard_only_without_an_overlay_port():
    text = render(None)
    assert guard(text) == [] and "vxlan_rejected" not in text


@pytest.mark.parametrize("port", [8472, None])
def test_the_ruleset_is_valid_nftables(port, tmp_path):
    nft = shutil.which("nft")
    if nft is None:
        pytest.skip("nft is not installed")
    path = tmp_path / "firewall.nft"
    path.write_text(render(port))
    done = subprocess.run([nft, "-c", "-f", str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0 and "Operation not permitted" in done.stderr:
        pytest.skip("nft -c needs CAP_NET_ADMIN here")
    assert done.returncode == 0, done.stderr
