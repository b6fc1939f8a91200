"""`make bench` in miniature: the harness runs end to end on the suite's database, its
floor returns exactly the dashboard's data, and the supplier cycle is clean. No timing
is asserted; the point is that the harness cannot rot unnoticed, and that the fast path
answers the dashboard exactly like hand-written Core queries do."""

from __future__ import annotations

from bench.run import measure, parser


async def test_the_bench_runs_end_to_end_and_its_floor_matches_the_dashboard(
    database_url: str,
) -> None:
    # given
    args = parser().parse_args(
        [
            "--database-url", database_url,
            "--orders", "120",
            "--baseline-orders", "60",
            "--rounds", "3",
            "--warmup", "1",
            "--cycle-orders", "1",
            "--no-http",
        ]
    )  # fmt: skip

    # when: measure() exits if the floor and the dashboard disagree
    figures = await measure(args)

    # then
    dashboard = figures["in_process"]["dashboard"]
    assert dashboard["n"] == 3
    assert max(dashboard["statements"]) <= 8
    assert figures["in_process"]["floor"]["statements"] == [7]
    cycle = figures["supplier_cycle"]
    assert cycle["suppliers"] == 20
    assert cycle["completed"] == 20
    assert cycle["expected_conflicts"] == 20
    assert cycle["unexpected_errors"] == {}
    assert cycle["db_locked_in_logs"] == 0
    assert figures["supplier_cycle_alone"]["completed"] == 1
