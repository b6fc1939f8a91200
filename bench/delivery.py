"""Webhook delivery: many events to many endpoints, through real worker processes.

    python -m bench.delivery [--database-url URL] [--events 10000] [--endpoints 100]
        [--workers 1] [--writers 4] [--json FILE]

Seeds an org with ``--endpoints`` suppliers, registers one endpoint per supplier (its
events reach its endpoint only, so every event is one delivery) on a local receiver,
starts ``--workers`` ``handoff worker`` processes, and commits ``--events`` supplier
milestones through the domain commands as fast as ``--writers`` writers can, noting
each commit's time. It reports deliveries per second (first commit to last delivery),
commit-to-delivery latency p50/p95/p99, and lost and duplicate deliveries per 10,000.

Every figure comes from one run on one machine (writers, receiver, workers and the
database share its cores); ``uptime`` is printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from sqlalchemy import select

from bench.cli import run_and_report
from bench.commands import add_milestone, ensure_database, run_as
from db.clock import system_clock
from db.commands.context import Call
from db.commands.webhooks import create_endpoint
from db.engine import Database, connect
from db.migrate import upgrade
from db.models import Order, OrderStage, WebhookEvent
from db.seed import seed
from db.webhook_secrets import SecretBox
from permissions.principal import Principal, Role

ROOT = Path(__file__).resolve().parent.parent
KEY = "bench-only-webhook-key-0123456789abcdef"


@dataclass
class Seen:
    commits: dict[str, int] = field(default_factory=dict)  # event id -> commit (ns)
    received: list[tuple[str, str, int]] = field(default_factory=list)  # (webhook-id, event, ns)


class Receiver:
    def __init__(self, seen: Seen) -> None:
        self.seen = seen
        self.port = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        at = time.time_ns()
        headers = dict(scope["headers"])
        event = orjson.loads(body)["data"]["id"]
        self.seen.received.append((headers[b"webhook-id"].decode(), event, at))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@contextlib.asynccontextmanager
async def _receiving(seen: Seen) -> Any:
    receiver = Receiver(seen)
    server = uvicorn.Server(
        uvicorn.Config(
            receiver, host="127.0.0.1", port=0, log_config=None, lifespan="off", backlog=4096
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.01)
    receiver.port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def _world(db: Database, org: str, endpoints: int) -> dict[str, list[Order]]:
    """Per supplier, the orders it may add milestones to."""
    await seed(
        db=db,
        org=org,
        orders=endpoints * 20,  # enough that every supplier has orders in production
        suppliers=endpoints,
        clients=10,
        seed=7,
        now=system_clock(),
    )
    async with db.read_session() as session:
        orders = await session.scalars(
            select(Order).where(
                Order.org == org,
                Order.stage.in_([OrderStage.ACKNOWLEDGED, OrderStage.IN_PRODUCTION]),
            )
        )
        by_supplier: dict[str, list[Order]] = {}
        for order in orders:
            by_supplier.setdefault(order.supplier_id, []).append(order)
    return by_supplier


async def _register(db: Database, org: str, suppliers: list[str], base: str) -> None:
    box = SecretBox(KEY)
    for supplier in suppliers:
        principal = Principal(Role.SUPPLIER, org, f"bench-{supplier}", supplier_id=supplier)

        async def make(session: Any, p: Principal = principal, s: str = supplier) -> Any:
            return await create_endpoint(
                Call(session, p.scope, system_clock()),
                url=f"{base}/{s}",
                events=[WebhookEvent.ORDER_EVENT],
                description="bench",
                allowed=frozenset({WebhookEvent.ORDER_EVENT}),
                box=box,
            )

        await run_as(db, principal, "createWebhookEndpoint", make)


async def _writer(
    db: Database, org: str, orders: list[Order], count: int, seen: Seen, rng: random.Random
) -> None:
    for _ in range(count):
        order = rng.choice(orders)
        seen.commits.update(
            await add_milestone(db, order, org=org, subject="bench-writer", note="bench")
        )


def _workers(url: str, count: int, logs: Path) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "WEBHOOK_SECRET_KEY": KEY,
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "WEBHOOK_POLL_SECONDS": "0.05",
        "LOG_LEVEL": "WARNING",
    }
    started = []
    for i in range(count):
        with (logs / f"delivery-worker-{i}.log").open("ab") as out:
            started.append(
                subprocess.Popen(
                    [sys.executable, "-m", "app", "worker"],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    return started


def _fresh(path: Path) -> None:
    """A new SQLite database each run (the file and its WAL)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    data = ROOT / "bench" / ".data"
    data.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite+aiosqlite:///{data / 'delivery.db'}"
    if args.database_url is None:
        _fresh(data / "delivery.db")
    await ensure_database(url)
    await upgrade(url)
    db = connect(url)
    org = f"delivery-{uuid.uuid4().hex[:8]}"
    seen = Seen()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        by_supplier = await _world(db, org, args.endpoints)
        suppliers = sorted(by_supplier)[: args.endpoints]
        orders = [o for s in suppliers for o in by_supplier[s]]
        async with _receiving(seen) as receiver:
            await _register(db, org, suppliers, f"http://127.0.0.1:{receiver.port}")
            processes = _workers(url, args.workers, data)
            await asyncio.sleep(2.0)  # the workers start (imports, migrations checked)
            before = _uptime()
            started = time.time_ns()
            per_writer = [args.events // args.writers] * args.writers
            per_writer[0] += args.events - sum(per_writer)
            await asyncio.gather(
                *(
                    _writer(db, org, orders, n, seen, random.Random(i))
                    for i, n in enumerate(per_writer)
                )
            )
            written = time.time_ns()
            deadline = time.monotonic() + args.timeout
            while len({e for _, e, _ in seen.received}) < len(seen.commits):
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # a duplicate would arrive meanwhile
            after = _uptime()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(10)
        await db.dispose()
    ids = [w for w, _, _ in seen.received]
    events = {e for _, e, _ in seen.received}
    latencies = sorted(
        (at - seen.commits[e]) / 1e6 for _, e, at in seen.received if e in seen.commits
    )
    last = max((at for _, _, at in seen.received), default=written)
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    per_10k = 10_000 / max(1, len(seen.commits))
    return {
        "database": "postgresql" if "postgresql" in url else "sqlite",
        "events": len(seen.commits),
        "endpoints": len(suppliers),
        "workers": args.workers,
        "received": len(ids),
        "lost_per_10000": (len(seen.commits) - len(events & set(seen.commits))) * per_10k,
        "duplicates_per_10000": (len(ids) - len(set(ids))) * per_10k,
        "commits_per_s": len(seen.commits) / ((written - started) / 1e9),
        "deliveries_per_s": len(set(ids)) / max(1e-9, (last - started) / 1e9),
        "latency_ms": {
            "p50": quantiles[49],
            "p95": quantiles[94],
            "p99": quantiles[98],
            "max": latencies[-1] if latencies else 0.0,
        },
        "uptime_before": before,
        "uptime_after": after,
    }


def report(result: dict[str, Any]) -> str:
    latency = result["latency_ms"]
    return "\n".join(
        [
            f"webhook delivery ({result['database']}, {result['workers']} worker process(es), "
            f"{result['endpoints']} endpoints, {result['events']} events)",
            f"  uptime before: {result['uptime_before']}",
            f"  uptime after:  {result['uptime_after']}",
            f"  commits/s {result['commits_per_s']:.0f}   deliveries/s "
            f"{result['deliveries_per_s']:.0f}   (delivered/committed "
            f"{result['received'] / max(1, result['events']):.3f})",
            f"  commit-to-delivery ms: p50 {latency['p50']:.0f}  p95 {latency['p95']:.0f}  "
            f"p99 {latency['p99']:.0f}  max {latency['max']:.0f}",
            f"  lost per 10,000: {result['lost_per_10000']:.1f}   duplicates per 10,000: "
            f"{result['duplicates_per_10000']:.1f}",
        ]
    )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.delivery", description=__doc__)
    parser.add_argument("--database-url", default=None, help="default: bench/.data/delivery.db")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--endpoints", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1, help="handoff worker processes")
    parser.add_argument("--writers", type=int, default=4, help="concurrent committers")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for all")
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return run_and_report(parse(argv), run, report)


if __name__ == "__main__":
    raise SystemExit(main())
