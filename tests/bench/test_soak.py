"""The soak harness itself (``bench.soak``): a few seconds of it find no server error and
no lost event, and the RSS slope is a least-squares fit."""

from __future__ import annotations

import json
from pathlib import Path

from bench import soak


def test_the_rss_slope_is_a_least_squares_fit_in_kib_per_minute() -> None:
    assert soak.slope_kib_per_minute([(0.0, 100), (30.0, 110), (60.0, 120)]) == 20.0
    assert soak.slope_kib_per_minute([(0.0, 100), (60.0, 100)]) == 0.0
    assert soak.slope_kib_per_minute([(0.0, 100)]) == 0.0


def test_a_short_soak_finds_no_server_error_and_loses_no_event(tmp_path: Path) -> None:
    figures = tmp_path / "soak.json"
    status = soak.run(3, f"sqlite+aiosqlite:///{tmp_path / 'soak.db'}", figures)
    found = json.loads(figures.read_text())
    assert status == 0, found
    assert found["server_errors"] == 0
    assert found["events_lost"] == 0
    assert found["events_committed"] > 0
    assert found["responses"]["ok"] > 0
