"""Fan-out: many subscribers on several server processes, a steady stream of events.

    python -m bench.fanout --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/handoff_fanout
        [--subscribers 1000] [--servers 2] [--rate 50] [--seconds 30] [--json FILE]

Seeds an org (10 suppliers, 10 clients, open orders) once, starts ``--servers``
``handoff serve`` processes on the database, and spreads ``--subscribers`` WebSocket
subscribers over them (a tenth buyers, the rest split between the suppliers' and the
clients' tokens), held by two client processes. It then commits ``--rate`` supplier
milestones per second for ``--seconds`` seconds directly through the domain commands,
noting each commit's time, and reports:

* commit-to-delivery latency p50/p95/p99 over every (subscriber, event) delivery;
* events lost (a subscriber missing an event it may see) and duplicates;
* per server: feed reads and projections per event (one projection is one execution of
  the subscription document, whose ``order { ... }`` costs one read), against the
  number of distinct audiences (role and party) it serves;
* each server's resident memory (VmRSS) and peak (VmHWM).

Every figure comes from one run on one machine: the servers, PostgreSQL, the writer and
the subscriber processes share its cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import select

from bench.cli import run_and_report
from bench.commands import add_milestone, ensure_database
from db.clock import system_clock
from db.engine import Database, connect
from db.migrate import upgrade
from db.models import Order, OrderStage
from db.seed import seed
from permissions.tokens import issue_token

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-only-secret-0123456789abcdef-0123456789"
AUDIENCE, ISSUER = "handoff", "handoff-bench"
ORG = "fanout"
TARGET_P99_MS = 250.0


@dataclass
class Server:
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def metric(self, name: str) -> float:
        found = re.search(
            rf"^{name}\{{[^}}]*\}} ([0-9.e+]+)", httpx.get(f"{self.http}/metrics").text, re.M
        )
        return float(found.group(1)) if found else 0.0

    def memory_mb(self) -> tuple[float, float]:
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        values = {
            line.split(":")[0]: int(line.split()[1])
            for line in status.splitlines()
            if line.startswith(("VmRSS", "VmHWM"))
        }
        return values["VmRSS"] / 1024, values["VmHWM"] / 1024


@dataclass
class Written:
    commits: dict[str, int] = field(default_factory=dict)  # event id -> commit time ns
    parties: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # -> (sup, cli)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _world(db: Database) -> tuple[list[str], list[str], list[Order]]:
    """The org's suppliers, clients and the orders a supplier may add milestones to."""
    async with db.read_session() as session:
        have = await session.scalar(select(Order.id).where(Order.org == ORG).limit(1))
    if have is None:
        await seed(
            db=db, org=ORG, orders=3000, suppliers=10, clients=10, seed=11, now=system_clock()
        )
    async with db.read_session() as session:
        orders = list(
            await session.scalars(
                select(Order).where(
                    Order.org == ORG,
                    Order.stage.in_([OrderStage.ACKNOWLEDGED, OrderStage.IN_PRODUCTION]),
                    Order.client_id.is_not(None),
                )
            )
        )
    suppliers = sorted({o.supplier_id for o in orders})
    clients = sorted({o.client_id for o in orders if o.client_id is not None})
    return suppliers, clients, orders


def _token(role: str, **claims: str) -> str:
    return issue_token(
        secret=SECRET,
        audience=AUDIENCE,
        issuer=ISSUER,
        org=ORG,
        role=role,
        subject=f"fanout-{role}",
        ttl_seconds=3600,
        **claims,  # type: ignore[arg-type]
    )


def _audiences(count: int, suppliers: list[str], clients: list[str]) -> list[tuple[str, str]]:
    """(name, token) per subscriber: a tenth buyers, the rest over suppliers and clients."""
    buyers = max(1, count // 10)
    rest = count - buyers
    found = [(f"buyer#{i}", _token("buyer")) for i in range(buyers)]
    tokens = {s: _token("supplier", supplier_id=s) for s in suppliers} | {
        c: _token("client", client_id=c) for c in clients
    }
    parties = [("supplier", s) for s in suppliers] + [("client", c) for c in clients]
    for i in range(rest):
        kind, party = parties[i % len(parties)]
        found.append((f"{kind}:{party}#{i}", tokens[party]))
    return found


async def _write(
    db: Database, orders: list[Order], rate: float, seconds: float, writers: int = 4
) -> Written:
    """``rate`` milestones per second for ``seconds``, from ``writers`` concurrent writers
    (one alone cannot keep the pace when the machine is busy)."""
    written = Written()
    await asyncio.gather(
        *(
            _writer(db, orders, rate / writers, seconds, written, random.Random(i))
            for i in range(writers)
        )
    )
    return written


async def _writer(
    db: Database,
    orders: list[Order],
    rate: float,
    seconds: float,
    written: Written,
    rng: random.Random,
) -> None:
    interval, deadline = 1.0 / rate, time.monotonic() + seconds
    next_at = time.monotonic()
    while time.monotonic() < deadline:
        order = rng.choice(orders)
        commits = await add_milestone(db, order, org=ORG, subject="fanout-writer", note="fan-out")
        written.commits.update(commits)
        for event_id in commits:
            written.parties[event_id] = (order.supplier_id, order.client_id)
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))


def _expected(name: str, written: Written) -> set[str]:
    kind, _, rest = name.partition(":")
    party = rest.split("#")[0]
    if name.startswith("buyer"):
        return set(written.commits)
    index = 0 if kind == "supplier" else 1
    return {e for e, parties in written.parties.items() if parties[index] == party}


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    await ensure_database(args.database_url)
    await upgrade(args.database_url)
    db = connect(args.database_url)
    suppliers, clients, orders = await _world(db)
    logs = Path(args.log_dir)
    servers = [Server(_free_port(), logs / f"server-{i}.log") for i in range(args.servers)]
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "JWT_SECRET": SECRET,
        "JWT_AUDIENCE": AUDIENCE,
        "JWT_ISSUER": ISSUER,
        "ENVIRONMENT": "development",
        "LOG_LEVEL": "WARNING",
        "ALERT_SCAN_SECONDS": "0",
    }
    swarm: list[subprocess.Popen[str]] = []
    try:
        _start_servers(servers, env)
        for server in servers:
            await _healthy(server)
        subscribers = _audiences(args.subscribers, suppliers, clients)
        entries = [
            {
                "url": f"ws://127.0.0.1:{servers[i % len(servers)].port}/graphql",
                "token": t,
                "name": n,
            }
            for i, (n, t) in enumerate(subscribers)
        ]
        swarm = _start_swarm(entries, args.client_processes)
        for process in swarm:
            assert process.stdout is not None
            line = await asyncio.to_thread(process.stdout.readline)
            if not line.startswith("ready"):
                raise RuntimeError(f"a subscriber process failed: {line!r}")
        await _all_listening(servers, len(entries))
        await _write(db, orders, rate=10, seconds=2)  # warm-up, not measured
        await asyncio.sleep(2)
        before = {
            s.port: (
                s.metric("handoff_feed_reads_total"),
                s.metric("handoff_live_projections_total"),
            )
            for s in servers
        }
        started = time.monotonic()
        written = await _write(db, orders, rate=args.rate, seconds=args.seconds)
        elapsed = time.monotonic() - started
        await asyncio.sleep(args.drain)
        after = {
            s.port: (
                s.metric("handoff_feed_reads_total"),
                s.metric("handoff_live_projections_total"),
            )
            for s in servers
        }
        memory = {s.port: s.memory_mb() for s in servers}
        records: dict[str, list[list[Any]]] = {}
        for process in swarm:
            assert process.stdin is not None
            assert process.stdout is not None
            process.stdin.close()
            records |= orjson.loads(await asyncio.to_thread(process.stdout.read))
    finally:
        for process in swarm:
            if process.poll() is None:
                process.kill()
        for server in servers:
            if server.process is not None and server.process.poll() is None:
                server.process.terminate()
                server.process.wait(15)
        await db.dispose()

    latencies: list[float] = []
    lost = duplicates = errors = 0
    for name, seen in records.items():
        ids = [event for event, _ in seen if event in written.commits]
        errors += sum(1 for event, _ in seen if event.startswith("error:"))
        duplicates += len(ids) - len(set(ids))
        lost += len(_expected(name, written) - set(ids))
        latencies += [
            (at - written.commits[event]) / 1e6 for event, at in seen if event in written.commits
        ]
    events = len(written.commits)
    per_server = []
    for server in servers:
        reads = after[server.port][0] - before[server.port][0]
        projections = after[server.port][1] - before[server.port][1]
        rss, peak = memory[server.port]
        per_server.append(
            {
                "port": server.port,
                "feed_reads_per_event": reads / events if events else 0.0,
                "projections_per_event": projections / events if events else 0.0,
                "audiences": 1 + len(suppliers) + len(clients),
                "rss_mb": rss,
                "peak_rss_mb": peak,
            }
        )
    return {
        "subscribers": len(records),
        "servers": len(servers),
        "events": events,
        "events_per_second": events / elapsed if elapsed else 0.0,
        "deliveries": len(latencies),
        "p50_ms": statistics.median(latencies) if latencies else None,
        "p95_ms": _percentile(latencies, 95) if latencies else None,
        "p99_ms": _percentile(latencies, 99) if latencies else None,
        "lost": lost,
        "duplicates": duplicates,
        "errors": errors,
        "per_server": per_server,
    }


def _start_servers(servers: list[Server], env: dict[str, str]) -> None:
    for server in servers:
        server.log.parent.mkdir(parents=True, exist_ok=True)
        with server.log.open("wb") as out:
            server.process = subprocess.Popen(
                [sys.executable, "-m", "app", "serve"],
                cwd=ROOT,
                env={**env, "PORT": str(server.port)},
                stdout=out,
                stderr=subprocess.STDOUT,
            )


def _start_swarm(entries: list[dict[str, str]], processes: int) -> list[subprocess.Popen[str]]:
    swarm = []
    for part in range(processes):
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.fanout_client"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdin is not None
        process.stdin.write(orjson.dumps(entries[part::processes]).decode() + "\n")
        process.stdin.flush()
        swarm.append(process)
    return swarm


async def _healthy(server: Server) -> None:
    async with asyncio.timeout(90):
        while True:
            try:
                async with httpx.AsyncClient() as http:
                    if (await http.get(f"{server.http}/healthz")).status_code == 200:
                        return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)


async def _all_listening(servers: list[Server], count: int) -> None:
    async with asyncio.timeout(120):
        while sum(s.metric("handoff_live_listeners") for s in servers) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.5)


def report(result: dict[str, Any]) -> str:
    lines = [
        f"fan-out: {result['subscribers']} subscribers on {result['servers']} servers, "
        f"{result['events']} events at {result['events_per_second']:.1f}/s, "
        f"{result['deliveries']} deliveries",
        f"  commit-to-delivery  p50 {result['p50_ms']:.1f} ms  p95 {result['p95_ms']:.1f} ms  "
        f"p99 {result['p99_ms']:.1f} ms",
        f"  lost {result['lost']}  duplicates {result['duplicates']}  errors {result['errors']}",
    ]
    for s in result["per_server"]:
        lines.append(
            f"  server :{s['port']}: feed reads/event {s['feed_reads_per_event']:.2f}, "
            f"projections/event {s['projections_per_event']:.2f} "
            f"(audiences {s['audiences']}), RSS {s['rss_mb']:.0f} MB (peak {s['peak_rss_mb']:.0f})"
        )
    ok = (
        result["p99_ms"] is not None
        and result["p99_ms"] < TARGET_P99_MS
        and result["lost"] == 0
        and all(
            s["feed_reads_per_event"] + s["projections_per_event"] <= s["audiences"]
            for s in result["per_server"]
        )
    )
    verdict = "PASS" if ok else "FAIL"
    lines.append(f"  {verdict}: p99 < {TARGET_P99_MS:.0f} ms, 0 lost, reads/event <= audiences")
    return "\n".join(lines)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__)
    parser.add_argument(
        "--database-url",
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/handoff_fanout",
        help="a PostgreSQL database (created and seeded if missing)",
    )
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--rate", type=float, default=50.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--drain", type=float, default=5.0, help="seconds to wait after writing")
    parser.add_argument("--log-dir", default=str(ROOT / "bench" / ".data" / "fanout"))
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return run_and_report(parse(argv), run, report)


if __name__ == "__main__":
    raise SystemExit(main())
