# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet's agent problems with since when each holds (filter podnet_agent_problems):
from a recorded Prometheus /api/v1/query answer to its query of the since-time metrics."""

from ansible_collections.podnet.network.plugins.filter.report import FilterModule
from ansible_collections.podnet.network.plugins.plugin_utils.planner import report

# Recorded shape of Prometheus 2.42's answer (data.result) to report.AGENT_SINCE_QUERY.
ANSWER = [
    {"metric": {"__name__": "podnet_agent_peer_unreachable_since_timestamp_seconds", "instance": "b1",
                "job": "node", "peer": "a2", "zone": "a"}, "value": [1765100400.5, "1765100100"]},
    {"metric": {"__name__": "podnet_agent_drift_since_timestamp_seconds", "instance": "a1",
                "job": "node", "concern": "routes"}, "value": [1765100400.5, "1765096700.25"]},
    {"metric": {"__name__": "podnet_agent_check_error_since_timestamp_seconds", "instance": "a1",
                "job": "node", "concern": "firewall"}, "value": [1765100400.5, "1765100390"]},
    {"metric": {"__name__": "node_load1", "instance": "a1"}, "value": [1765100400.5, "0.5"]},
]


def test_each_problem_with_its_start_oldest_first():
    out = report.agent_problems(ANSWER, 1765100400.0)
    assert out["lines"] == [
        "a1: drift routes since 2025-12-07T08:38:20Z (1h01m)",
        "b1: peer unreachable a2 (zone a) since 2025-12-07T09:35:00Z (5m00s)",
        "a1: check error firewall since 2025-12-07T09:39:50Z (10s)",
    ]
    first = out["problems"][0]
    assert first == {"node": "a1", "problem": "drift", "subject": "routes", "zone": None,
                     "since": "2025-12-07T08:38:20Z", "since_unix": 1765096700.25, "for_seconds": 3699.8}


def test_durations_read_at_a_glance():
    assert [report._duration(s) for s in (0, 59, 61, 3600, 90061)] == ["0s", "59s", "1m01s", "1h00m", "1d01h"]


def test_no_problem_says_so():
    assert report.agent_problems([], 1.0) == {"problems": [], "lines": ["no agent reports a problem"]}


def test_the_query_reads_every_since_metric_and_the_filter_is_exported():
    for name in report.AGENT_SINCE_METRICS:
        assert name in report.AGENT_SINCE_QUERY
    assert FilterModule().filters()["podnet_agent_problems"](ANSWER[:1], 1765100400)["problems"][0]["node"] == "b1"
