"""``make bench ARGS="--soak 600"``: sustained mixed load against a real server.

One ``handoff serve`` process on a seeded database (a fresh SQLite file, or
``--database-url``), driven over loopback for ``--soak`` seconds by bounded request
loops of the three roles at once — the buyer reads its dashboard and issues orders
(with idempotency keys), each supplier acknowledges, starts, adds a milestone to and
dispatches its fresh orders, the client polls its portal — while a buyer subscription
on the WebSocket hears every event. At the end:

* server errors: HTTP 5xx (a 503 shed included) and masked "Unexpected error." bodies;
* lost events: events committed during the run that the subscriber never received, and
  duplicates it received twice;
* the server's RSS sampled every few seconds, and its slope (least squares over the
  second half of the run, after warm-up) in KiB per minute.

Exit status 1 when a server error occurred or an event was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from websockets.asyncio.client import connect as ws_connect

from bench import documents
from bench.run import DATA_DIR, server_env, token
from db.engine import connect, is_sqlite
from db.migrate import upgrade
from db.models import OrderEvent
from db.seed import seed

ROOT = Path(__file__).resolve().parent.parent
SOAK_ORG = "bench-soak"
LOOPS = {"buyer": 2, "supplier": 4, "client": 2}  # bounded loops: capacity, not a flood
RSS_EVERY_SECONDS = 5.0

EVENTS = "subscription { orderEvents { id kind } }"
ACK = """mutation($o: ID!) { acknowledgeOrder(input: {orderId: $o, promisedDate: "2099-01-01"})
  { order { version } userErrors { code } } }"""
START = """mutation($o: ID!) { startProduction(input: {orderId: $o})
  { order { version } userErrors { code } } }"""
MILESTONE = """mutation($o: ID!) { addMilestone(input: {orderId: $o, note: "parts cut"})
  { order { version } userErrors { code } } }"""
DISPATCH = """mutation($o: ID!) { dispatchOrder(input: {orderId: $o, method: COURIER,
  carrier: "DHL", trackingReference: "JD1"}) { order { version } userErrors { code } } }"""


@dataclass
class Tally:
    """What the load saw: responses by kind, latencies, event ids."""

    kinds: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    received: list[str] = field(default_factory=list)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def slope_kib_per_minute(samples: list[tuple[float, int]]) -> float:
    """Least-squares slope of RSS over time, in KiB per minute (0 with < 2 samples)."""
    if len(samples) < 2:
        return 0.0
    xs = [t for t, _ in samples]
    ys = [float(r) for _, r in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    if var == 0:
        return 0.0
    return 60 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var


class _Load:
    def __init__(self, base: str, tokens: dict[str, str], suppliers: list[str]) -> None:
        self.http = httpx.AsyncClient(base_url=base, timeout=60)
        self.tokens = tokens
        self.suppliers = suppliers
        self.tally = Tally()
        self.fresh: asyncio.Queue[tuple[str, str]] = asyncio.Queue()  # (supplier, order)

    async def post(self, role_token: str, query: str, **variables: Any) -> dict[str, Any] | None:
        started = time.perf_counter()
        try:
            response = await self.http.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {role_token}"},
            )
        except httpx.HTTPError as error:
            self.tally.kinds["transport_error"] += 1
            self.tally.server_errors.append(f"transport: {type(error).__name__}")
            return None
        self.tally.latencies_ms.append((time.perf_counter() - started) * 1000)
        if response.status_code >= 500 or b"Unexpected error." in response.content:
            self.tally.kinds[f"http_{response.status_code}"] += 1
            self.tally.server_errors.append(response.text[:300])
            return None
        body: dict[str, Any] = response.json()
        if "errors" in body:
            self.tally.kinds["graphql_error"] += 1
            return None
        self.tally.kinds["ok"] += 1
        return body["data"]  # type: ignore[no-any-return]

    async def buyer(self, n: int, until: float) -> None:
        while time.monotonic() < until:
            await self.post(self.tokens["buyer"], documents.DASHBOARD, first=20)
            supplier = self.suppliers[n % len(self.suppliers)]
            variables = {
                "input": {
                    "supplierId": supplier,
                    "needBy": (date.today() + timedelta(days=30)).isoformat(),
                    "currency": "EUR",
                    "idempotencyKey": uuid.uuid4().hex,
                    "lines": [{"partNumber": "SOAK-1", "quantity": 5, "unitPrice": "12.50"}],
                }
            }
            data = await self.post(self.tokens["buyer"], documents.ISSUE, **variables)
            order = ((data or {}).get("issueOrder") or {}).get("order")
            if order:
                await self.fresh.put((supplier, order["id"]))

    async def supplier(self, until: float) -> None:
        while time.monotonic() < until:
            try:
                supplier, order = await asyncio.wait_for(self.fresh.get(), 1.0)
            except TimeoutError:
                continue
            bearer = self.tokens[supplier]
            for step in (ACK, START, MILESTONE, DISPATCH):
                data = await self.post(bearer, step, o=order)
                payload = next(iter(data.values())) if data else None
                if payload is None or payload["userErrors"]:
                    self.tally.kinds["user_error"] += payload is not None
                    break

    async def client(self, until: float) -> None:
        while time.monotonic() < until:
            await self.post(self.tokens["client"], documents.PORTAL, first=20)

    async def listen(self, ws_url: str, ready: asyncio.Event, stop: asyncio.Event) -> None:
        async with ws_connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            init = {"Authorization": f"Bearer {self.tokens['buyer']}"}
            await ws.send(json.dumps({"type": "connection_init", "payload": init}))
            await ws.recv()
            sub = {"id": "soak", "type": "subscribe", "payload": {"query": EVENTS}}
            await ws.send(json.dumps(sub))
            ready.set()
            while not stop.is_set():
                try:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                except TimeoutError:
                    continue
                if message.get("type") == "next":
                    self.tally.received.append(message["payload"]["data"]["orderEvents"]["id"])
                elif message.get("type") == "error":
                    self.tally.server_errors.append(f"subscription: {message}")


def _start_server(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "app", "serve"], cwd=ROOT, env=env, stdout=log, stderr=log
        )


async def _prepare(url: str) -> tuple[list[str], str, int]:
    """Migrate, seed the soak org; its suppliers, a client, the feed's event count."""
    await upgrade(url)
    db = connect(url)
    try:
        seeded = await seed(
            db=db,
            org=SOAK_ORG,
            orders=2000,
            suppliers=4,
            clients=2,
            seed=1,
            now=datetime.now(UTC) - timedelta(days=1),
        )
    finally:
        await db.dispose()
    return seeded.suppliers, seeded.clients[0], seeded.orders


async def _events_since(url: str, before: set[str]) -> set[str]:
    db = connect(url)
    try:
        async with db.read_session() as session:
            ids = set(
                await session.scalars(select(OrderEvent.id).where(OrderEvent.org == SOAK_ORG))
            )
    finally:
        await db.dispose()
    return ids - before


async def _soak(url: str, seconds: float) -> dict[str, Any]:
    suppliers, client, _ = await _prepare(url)
    before = await _events_since(url, set())
    tokens = {
        "buyer": token(SOAK_ORG, "buyer", "soak-buyer"),
        "client": token(SOAK_ORG, "client", "soak-client", client_id=client),
    }
    tokens |= {s: token(SOAK_ORG, "supplier", f"soak-{s}", supplier_id=s) for s in suppliers}
    port = _free_port()
    env = {**os.environ, **server_env(url), "HOST": "127.0.0.1", "PORT": str(port)}
    log_path = DATA_DIR / "soak-server.log"
    server = _start_server(env, log_path)
    base = f"http://127.0.0.1:{port}"
    load = _Load(base, tokens, suppliers)
    rss: list[tuple[float, int]] = []
    try:
        async with asyncio.timeout(60):
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await load.http.get("/readyz")).status_code == 200:
                        break
                if server.poll() is not None:
                    raise SystemExit(f"server exited; see {log_path}")
                await asyncio.sleep(0.2)
        ready, stop = asyncio.Event(), asyncio.Event()
        listener = asyncio.create_task(load.listen(f"ws://127.0.0.1:{port}/graphql", ready, stop))
        await asyncio.wait_for(ready.wait(), 10)
        started = time.monotonic()
        until = started + seconds
        loops = [asyncio.create_task(load.buyer(n, until)) for n in range(LOOPS["buyer"])]
        loops += [asyncio.create_task(load.supplier(until)) for _ in range(LOOPS["supplier"])]
        loops += [asyncio.create_task(load.client(until)) for _ in range(LOOPS["client"])]
        while time.monotonic() < until:
            rss.append((time.monotonic() - started, _rss_kib(server.pid)))
            await asyncio.sleep(min(RSS_EVERY_SECONDS, max(until - time.monotonic(), 0.01)))
        await asyncio.gather(*loops)
        # every committed event reaches the subscriber within a few seconds
        committed = await _events_since(url, before)
        async with asyncio.timeout(30):
            while not committed <= set(load.tally.received):  # noqa: ASYNC110 (another task)
                await asyncio.sleep(0.2)
        stop.set()
        await listener
    except TimeoutError:
        committed = await _events_since(url, before)
    finally:
        await load.http.aclose()
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
    received = load.tally.received
    second_half = [(t, r) for t, r in rss if t >= seconds / 2]
    latencies = sorted(load.tally.latencies_ms) or [0.0]
    return {
        "seconds": seconds,
        "database": "sqlite" if is_sqlite(url) else "postgresql",
        "loops": LOOPS,
        "responses": dict(load.tally.kinds),
        "requests_per_second": round(sum(load.tally.kinds.values()) / seconds, 1),
        "p50_ms": round(latencies[len(latencies) // 2], 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95)], 1),
        "server_errors": len(load.tally.server_errors),
        "server_error_samples": load.tally.server_errors[:5],
        "events_committed": len(committed),
        "events_received": len(received),
        "events_lost": len(committed - set(received)),
        "events_duplicated": len(received) - len(set(received)),
        "rss_kib_first": rss[0][1] if rss else 0,
        "rss_kib_last": rss[-1][1] if rss else 0,
        "rss_slope_kib_per_min": round(slope_kib_per_minute(second_half), 1),
    }


def run(seconds: float, database_url: str | None, json_path: Path | None) -> int:
    """The soak run; prints the figures (and writes them to ``json_path``)."""
    DATA_DIR.mkdir(exist_ok=True)
    url = database_url
    if url is None:
        path = DATA_DIR / "soak.db"
        path.unlink(missing_ok=True)
        url = f"sqlite+aiosqlite:///{path}"
    print(f"soak: {seconds:.0f} s of mixed load from 3 roles, {url}", flush=True)
    figures = asyncio.run(_soak(url, seconds))
    figures["uptime"] = subprocess.run(
        ["uptime"], capture_output=True, text=True, check=False
    ).stdout.strip()
    for key, value in figures.items():
        print(f"  {key}: {value}")
    if json_path is not None:
        json_path.write_text(json.dumps(figures, indent=2))
    ok = figures["server_errors"] == 0 and figures["events_lost"] == 0
    print("soak: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1
