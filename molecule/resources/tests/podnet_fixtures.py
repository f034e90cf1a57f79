# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures every scenario's verifier shares; a test module imports the ones it uses
(`from podnet_fixtures import pods, subnets`), and pytest finds them in its namespace.

`pods` puts one listening pod on each node the test module lists in its `NODES`."""

import pytest
from podnet_testlib import Pod, ledger


@pytest.fixture(scope="module")
def subnets():
    """{node: pod subnet} as the scenario's ledger records it."""
    return {name: node["pod_cidr"] for name, node in ledger()["nodes"].items()}


@pytest.fixture(scope="module")
def pods(request, subnets):  # pylint: disable=redefined-outer-name
    """A pod with an echo listener on every node of the module's NODES; removed afterwards."""
    made = {}
    try:
        for name in request.module.NODES:
            made[name] = Pod(name, subnets[name]).create()
            made[name].listen()
        yield made
    finally:
        for pod in made.values():
            pod.delete()
