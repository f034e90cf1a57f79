# SPDX-License-Identifier: GPL-3.0-or-later
"""Module podnet_probe (a rolling apply's check between batches): echoes from this node's
pod gateway, again each second for the silent targets, until all answered or the time is up."""

import os

import pytest
from ansible_collections.podnet.network.tests.unit.role_modules import load_module, load_module_utils, run_module

probe_module = load_module("podnet_probe")
agent = load_module_utils("podnet_agent")

TARGETS = [{"hostname": "b1", "gateway": "10.244.2.1", "address": "192.0.2.2"}, {"hostname": "b2", "gateway": "10.244.3.1", "address": "192.0.2.3"}]


class Clock:
    """A clock that moves only when the probe sleeps or pings."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def pinger(clock, answers_from_round):
    """A ping that answers ADDRESS from round answers_from_round[ADDRESS] on (never if absent)."""
    rounds = []

    def ping(addresses, timeout, source):
        rounds.append((list(addresses), source))
        clock.now += 0.01
        return {a: (0.0002 if len(rounds) >= answers_from_round.get(a, 10 ** 9) else None) for a in addresses}
    return ping, rounds


def test_every_target_answers_at_once():
    clock = Clock()
    ping, rounds = pinger(clock, {"10.244.2.1": 1, "10.244.3.1": 1})
    answered, unanswered = probe_module.probe("10.244.1.1", TARGETS, 10, ping, clock, clock.sleep)
    assert answered == {"b1": 0.2, "b2": 0.2} and unanswered == []
    assert rounds == [(["10.244.2.1", "10.244.3.1"], "10.244.1.1")]


def test_a_silent_target_is_probed_again_each_second_and_only_it():
    clock = Clock()
    ping, rounds = pinger(clock, {"10.244.2.1": 1, "10.244.3.1": 3})
    answered, unanswered = probe_module.probe("10.244.1.1", TARGETS, 10, ping, clock, clock.sleep)
    assert sorted(answered) == ["b1", "b2"] and unanswered == []
    assert [r[0] for r in rounds] == [["10.244.2.1", "10.244.3.1"], ["10.244.3.1"], ["10.244.3.1"]]
    assert 2.0 <= clock.now < 3.0


def test_a_target_that_never_answers_is_named_after_the_timeout():
    clock = Clock()
    ping, rounds = pinger(clock, {"10.244.2.1": 1})
    answered, unanswered = probe_module.probe("10.244.1.1", TARGETS, 5, ping, clock, clock.sleep)
    assert sorted(answered) == ["b1"] and unanswered == ["b2"]
    assert 5.0 <= clock.now < 6.1 and len(rounds) in (5, 6)


@pytest.mark.skipif(os.geteuid() != 0, reason="a raw ICMP socket needs root")
def test_echoes_leave_from_the_source_address_given():
    assert agent.ping_all(["127.0.0.1"], 0.5, "127.0.0.2")["127.0.0.1"] is not None
    # an address that is not this host's cannot be a source: the module names the cause
    with pytest.raises(OSError):
        agent.ping_all(["127.0.0.1"], 0.5, "192.0.2.77")


@pytest.mark.skipif(os.geteuid() != 0, reason="a raw ICMP socket needs root")
def test_the_module_names_each_silent_peer_and_its_gateway():
    # 240.0.0.1 (reserved) cannot be sent to: it never answers; loopback does.
    result = run_module("podnet_probe", {"source": "127.0.0.1", "timeout": 1, "targets": [
        {"hostname": "near", "gateway": "127.0.0.1"}, {"hostname": "far", "gateway": "240.0.0.1"}]})
    assert result.get("failed") and result["unanswered"] == ["far"] and list(result["answered"]) == ["near"]
    assert "no answer within 1 s from the pod gateway of far (240.0.0.1)" in result["msg"], result["msg"]
