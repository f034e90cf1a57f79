# SPDX-License-Identifier: GPL-3.0-or-later
"""benchmarks/fleet_bench.py's pure parts: the fleet sizes it accepts, the time bound of a
run, and the per-node costs it prints for one size and between sizes."""

import pytest
from ansible_collections.podnet.network.tests.unit.role_modules import load_benchmark

bench = load_benchmark("fleet_bench")

# (label, seconds, tasks per node, nodes changed, nodes in the run, controller CPU seconds)
ROWS_16 = [("floor (1 trivial task)", 4.0, 1, 0, 16, 3.2), ("cold converge", 40.0, 7, 16, 16, 24.0),
           ("no-op re-run", 32.0, 7, 0, 16, 16.0), ("add one node", 34.0, 7, 1, 17, 17.0)]
ROWS_48 = [("floor (1 trivial task)", 10.0, 1, 0, 48, 9.6), ("cold converge", 150.0, 7, 48, 48, 96.0),
           ("no-op re-run", 120.0, 7, 0, 48, 48.0), ("add one node", 98.0, 7, 1, 49, 49.0)]


def test_sizes_one_or_several_even_within_the_labs_limit():
    assert bench.parse_sizes("16") == [16]
    assert bench.parse_sizes("16,48") == [16, 48]
    for bad in ("15", "0", "80", "16,47", "x", ""):
        with pytest.raises(SystemExit, match="even sizes, 2..78"):
            bench.parse_sizes(bad)


def test_a_runs_time_bound_grows_with_the_fleet_past_the_floor_of_30_minutes():
    assert bench.run_timeout(18) == 1800
    assert bench.run_timeout(50) == 2000
    assert bench.run_timeout(80) == 3200


def test_per_node_is_seconds_over_the_nodes_of_that_run_and_the_floor_ratio():
    costs = bench.per_node(ROWS_16)
    assert costs["no-op re-run"] == {"seconds": 32.0, "per_node": 2.0, "x_floor": 8.0, "cpu_per_node": 1.0}
    assert costs["add one node"]["per_node"] == pytest.approx(2.0)  # 34 s on 17 nodes
    assert costs["floor (1 trivial task)"]["x_floor"] == 1.0


def test_table_prints_seconds_per_node_and_the_floor_ratio():
    lines = bench.table(ROWS_16)
    assert "s per node" in lines[0] and "controller CPU s" in lines[0]
    assert lines[3].split() == ["no-op", "re-run", "32.0", "2.00", "7", "0", "8.00", "16.0"]


def test_comparison_is_each_runs_cost_per_node_over_the_first_sizes():
    lines = bench.comparison({16: ROWS_16, 48: ROWS_48})
    assert lines[0].split()[-4:] == ["16", "nodes", "48", "nodes"]
    cold = lines[2]
    # 40 s / 16 = 2.50 per node; 150 s / 48 = 3.12 per node, 1.25x.
    assert cold.split() == ["cold", "converge", "2.50", "(1.00x)", "3.12", "(1.25x)"]
    floor = lines[1]
    assert floor.split()[-2:] == ["0.21", "(0.83x)"]  # 10 s / 48 against 4 s / 16
    assert lines[4].split()[-2:] == ["2.00", "(1.00x)"]  # 98 s / 49 against 34 s / 17
    # The same in the controller's CPU time: 96 s / 48 against 24 s / 16.
    assert lines[5].startswith("CPU s per node")
    assert lines[7].split()[-4:] == ["1.50", "(1.00x)", "2.00", "(1.33x)"]


def test_a_runs_log_is_named_by_size_and_label():
    assert bench.log_name(48, "no-op re-run") == "48-no-op-re-run.log"
    assert bench.log_name(16, "floor (1 trivial task)") == "16-floor-1-trivial-task.log"


def test_a_zone_of_more_than_16_nodes_is_planned_in_a_block_that_holds_them():
    # The planner's default /20 of /24s holds 16 node subnets: --nodes 30 (15 + a spare a
    # zone) keeps it; --nodes 48 (25 a zone) needs a /19, --nodes 78 (40) a /18.
    assert bench.zone_prefix(9) is None
    assert bench.zone_prefix(16) is None
    assert bench.zone_prefix(17) == 19
    assert bench.zone_prefix(25) == 19
    assert bench.zone_prefix(32) == 19
    assert bench.zone_prefix(40) == 18
    for per_zone in range(1, 41):
        prefix = bench.zone_prefix(per_zone)
        assert 2 ** (24 - (20 if prefix is None else prefix)) >= per_zone
