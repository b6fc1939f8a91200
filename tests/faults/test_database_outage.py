"""The database goes away under load and comes back (issue 17, faults), with a real
server process and a real PostgreSQL behind a TCP proxy the test cuts: requests fail
fast with 503 SERVICE_UNAVAILABLE and Retry-After (never a 500 or a masked error),
/readyz turns unready, and the same process recovers by itself — no restart, no pool
wedged on dead connections — when the database is back."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fault_support import Proxy, proxy_to
from sqlalchemy import text

from conftest import PG_URL, make_token
from db.engine import Database
from live_support import WAIT, Server

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="PostgreSQL only: an SQLite file has no connection to lose"
)

QUERY = "{ orders(first: 20) { totalCount edges { node { id number stage } } } }"
MUTATION = (
    'mutation { createSupplier(input: {name: "Acme"}) { supplier { id } userErrors { code } } }'
)


@contextlib.asynccontextmanager
async def _server_behind(
    database_url: str, tmp_path: Path, **env: str
) -> AsyncIterator[tuple[Server, Proxy]]:
    async with proxy_to(database_url) as proxy:
        server = Server(proxy.url_for(database_url), tmp_path / "server.log", env=env)
        # start() blocks while it polls /healthz: off the loop, which runs the proxy
        await asyncio.to_thread(server.start)
        try:
            yield server, proxy
        finally:
            await asyncio.to_thread(server.stop)


async def _post(http: httpx.AsyncClient, token: str, query: str) -> httpx.Response:
    return await http.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )


def _kind(response: httpx.Response) -> str:
    """ok, or the 503's reason; anything else fails the test where it is seen."""
    body: dict[str, Any] = response.json()
    if response.status_code == 200:
        assert "errors" not in body, body
        return "ok"
    assert response.status_code == 503, (response.status_code, body)
    assert response.headers["retry-after"].isdigit()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE", body
    return str(error["extensions"]["reason"])


async def _until(http: httpx.AsyncClient, path: str, status: int) -> None:
    async with asyncio.timeout(WAIT):
        while (await http.get(path)).status_code != status:  # noqa: ASYNC110 (another process)
            await asyncio.sleep(0.1)


async def _wait_for(predicate: Callable[[], bool]) -> None:
    async with asyncio.timeout(WAIT):
        while not predicate():  # noqa: ASYNC110 (counts kept by the load's own tasks)
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def _under_load(http: httpx.AsyncClient, token: str) -> AsyncIterator[Counter[str]]:
    """Four clients posting queries and (one in three) mutations until the block ends;
    yields the count of answers by kind (``_kind``)."""
    seen: Counter[str] = Counter()
    stop = asyncio.Event()

    async def load(worker: int) -> None:
        n = 0
        while not stop.is_set():
            query = MUTATION if (n + worker) % 3 == 0 else QUERY
            seen[_kind(await _post(http, token, query))] += 1
            n += 1

    workers = [asyncio.create_task(load(i)) for i in range(4)]
    try:
        yield seen
    finally:
        stop.set()
        await asyncio.gather(*workers)


async def test_requests_fail_fast_while_the_database_is_away_and_recover_by_themselves(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    buyer = make_token("buyer")
    async with (
        _server_behind(database_url, tmp_path, REQUEST_TIMEOUT_SECONDS="20") as (server, proxy),
        httpx.AsyncClient(base_url=server.http, timeout=WAIT) as http,
    ):
        # given: load from four clients, served
        async with _under_load(http, buyer) as seen:
            await _wait_for(lambda: seen["ok"] >= 20)

            # when: the database goes away mid-load
            proxy.cut()
            await _wait_for(lambda: seen["database"] >= 20)
            await _until(http, "/readyz", 503)
            # failing fast: on the lost connection, not on the 20-second request timeout
            assert seen["timeout"] == 0

            # then: the database returns, and the same process serves again by itself
            proxy.restore()
            await _until(http, "/readyz", 200)
            served_before = seen["ok"]
            await _wait_for(lambda: seen["ok"] >= served_before + 20)

        assert server.process is not None
        assert server.process.poll() is None  # never restarted
        assert set(seen) <= {"ok", "database"}, seen
        # after recovery every request succeeds again: no wedged pool
        results = [_kind(await _post(http, buyer, q)) for q in (QUERY, MUTATION) * 10]
        assert results == ["ok"] * 20
    # the requests' log lines — and the background work's (alert scheduler, feed relay and
    # its LISTEN, webhook and e-mail workers) — name the failure's kind, never SQL or a
    # stack trace
    requests = [
        json.loads(line)
        for line in (tmp_path / "server.log").read_text().splitlines()
        if any(
            f'"logger":"handoff.{name}"' in line
            for name in ("http", "graphql", "scheduler", "relay", "delivery", "email")
        )
    ]
    lost = [r for r in requests if r["message"] == "database unavailable"]
    assert lost
    assert all("traceback" not in r for r in requests)
    assert not any("SELECT" in json.dumps(r).upper() for r in requests)


TERMINATE = text(
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


async def test_terminated_backends_cost_at_most_a_503_and_never_wedge_the_pool(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    buyer = make_token("buyer")
    server = await asyncio.to_thread(Server(database_url, tmp_path / "server.log").start)
    try:
        async with httpx.AsyncClient(base_url=server.http, timeout=WAIT) as http:
            async with _under_load(http, buyer) as seen:
                await _wait_for(lambda: seen["ok"] >= 20)
                # when: every backend of the database is terminated, five times over
                killed = 0
                for _ in range(5):
                    async with db.engine.connect() as conn:
                        killed += (await conn.execute(TERMINATE)).scalar_one()
                    served = seen["ok"]
                    await _wait_for(lambda: seen["ok"] >= served + 10)
            assert killed > 0

            # then: a request caught on a dying connection was a 503, never a 500 or a
            # masked error; and the process serves on, its pool renewed by itself
            assert set(seen) <= {"ok", "database"}, seen
            assert (await http.get("/readyz")).status_code == 200
            results = [_kind(await _post(http, buyer, q)) for q in (QUERY, MUTATION) * 5]
            assert results == ["ok"] * 10
            assert server.process is not None
            assert server.process.poll() is None
    finally:
        await asyncio.to_thread(server.stop)
