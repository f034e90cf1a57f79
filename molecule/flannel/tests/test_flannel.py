# SPDX-License-Identifier: GPL-3.0-or-later
"""flannel scenario: a stock flanneld adopts the leases podnet wrote into etcd."""

import json

from podnet_testlib import Pod, host, sh

NODES = {"podnet-et-fl1": "172.30.51.21", "podnet-et-fl2": "172.30.51.22"}
CTL = "set -a; . /etc/etcd/podnet-etcdctl.env; set +a; etcdctl"


def planned():
    ledger = json.loads(sh(host("podnet-et-fl1"), f"{CTL} get /coreos.com/network/podnet/ledger --print-value-only"))
    return {name: node["pod_cidr"] for name, node in ledger["nodes"].items()}


def test_flanneld_runs_and_adopts_podnets_subnet():
    subnets = planned()
    for name in NODES:
        node = host(name)
        assert node.service("podnet-flanneld").is_running
        env = sh(node, "cat /run/flannel/subnet.env")
        assert f"FLANNEL_SUBNET={subnets[name].replace('.0/24', '.1/24')}" in env
        assert "FLANNEL_IPMASQ=false" in env
        assert node.run("ip -d link show flannel.1").rc == 0


def test_pod_to_pod_over_flannel():
    subnets = planned()
    server = Pod("podnet-et-fl2", subnets["podnet-et-fl2"], index=10, bridge="cbr0")
    client = Pod("podnet-et-fl1", subnets["podnet-et-fl1"], index=11, bridge="cbr0")
    server.create().listen()
    client.create()
    try:
        assert client.source_seen_by(server.address) == client.address
    finally:
        client.delete()
        server.delete()
