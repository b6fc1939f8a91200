"""`make bench ARGS=--delivery` in miniature: the workload runs end to end through a
real worker process on the suite's database and loses and duplicates nothing. No
timing is asserted."""

from __future__ import annotations

from bench import delivery
from db.engine import Database


async def test_the_delivery_workload_runs_end_to_end(database_url: str, db: Database) -> None:
    args = delivery.parse(
        ["--database-url", database_url, "--events", "60", "--endpoints", "6", "--timeout", "60"]
    )
    result = await delivery.run(args)
    assert result["events"] == 60
    assert result["lost_per_10000"] == 0
    assert result["duplicates_per_10000"] == 0
    assert "load average" in delivery.report(result)
