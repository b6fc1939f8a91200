"""/metrics is true with several workers: every worker's series, each labelled with its
process id, from whichever worker answers the scrape."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.metrics import Metrics
from conftest import AUDIENCE, ISSUER, SECRET, make_token

TOTAL = re.compile(r'^handoff_requests_total\{.*worker="(\d+)"\} (\d+)$', re.M)


def totals(text: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for worker, n in TOTAL.findall(text):
        found[worker] = found.get(worker, 0) + int(n)
    return found


def test_each_worker_renders_every_workers_series_under_its_own_label(tmp_path: Path) -> None:
    # given two workers sharing a directory, each having served requests
    first, second = (Metrics(worker=w, directory=tmp_path) for w in ("101", "102"))
    for _ in range(3):
        first.observe("Dashboard", "ok", 0.02)
    second.observe("Dashboard", "ok", 0.3)
    second.observe(None, "unauthorized", 0.001)

    # when the second shares its counts and the first answers a scrape
    second.flush()
    text = first.render()

    # then both are there, apart
    assert 'handoff_requests_total{operation="Dashboard",outcome="ok",worker="101"} 3' in text
    assert 'handoff_requests_total{operation="Dashboard",outcome="ok",worker="102"} 1' in text
    assert 'operation="anonymous",outcome="unauthorized",worker="102"} 1' in text
    assert 'handoff_request_duration_seconds_count{operation="Dashboard",worker="101"} 3' in text
    assert (
        'handoff_request_duration_seconds_bucket{operation="Dashboard",worker="102",le="0.5"} 1'
        in text
    )
    assert text.count("# TYPE handoff_requests_total counter") == 1


def test_a_worker_renders_its_live_counts_not_its_last_flush(tmp_path: Path) -> None:
    metrics = Metrics(worker="7", directory=tmp_path)
    metrics.observe("A", "ok", 0.01)
    metrics.flush()
    metrics.observe("A", "ok", 0.01)
    assert totals(metrics.render()) == {"7": 2}


def test_without_a_directory_a_process_renders_only_itself() -> None:
    metrics = Metrics()
    metrics.observe("A", "ok", 0.01)
    assert totals(metrics.render()) == {str(os.getpid()): 1}


def test_an_unreadable_snapshot_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "999.json").write_text("{not json")
    metrics = Metrics(worker="1", directory=tmp_path)
    metrics.observe("A", "ok", 0.01)
    assert totals(metrics.render()) == {"1": 1}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def two_workers(database_url: str, tmp_path: Path) -> Iterator[str]:
    """`handoff serve --workers 2` as a real process group on a free port."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "JWT_SECRET": SECRET,
        "JWT_AUDIENCE": AUDIENCE,
        "JWT_ISSUER": ISSUER,
        "LOG_LEVEL": "WARNING",
        "METRICS_DIR": "",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--workers", "2"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, "handoff serve exited"
            assert time.monotonic() < deadline, "handoff serve did not start"
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)


def test_a_scrape_of_any_worker_counts_the_requests_of_all(two_workers: str) -> None:
    # given 30 requests, each on a new connection (so both workers may take some)
    headers = {"Authorization": f"Bearer {make_token('buyer')}"}
    for _ in range(30):
        response = httpx.post(
            f"{two_workers}/graphql", json={"query": "{ viewer { role } }"}, headers=headers
        )
        assert response.status_code == 200

    # then within a few flushes (each worker shares its counts every second) ten scrapes
    # in a row, whichever worker answers each, say 30
    deadline = time.monotonic() + 30
    agreeing = 0
    while agreeing < 10:
        seen = totals(httpx.get(f"{two_workers}/metrics").text)
        assert 1 <= len(seen) <= 2, seen
        agreeing = agreeing + 1 if sum(seen.values()) == 30 else 0
        assert time.monotonic() < deadline, seen
        time.sleep(0.1)
