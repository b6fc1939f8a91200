"""``make bench``: seed an org, then measure every workload side by side in one run.

    python -m bench [--orders 10000] [--database-url URL] [--json FILE] [--no-http]

In-process (the real ASGI app, no socket), interleaved round-robin so that machine
noise hits every workload alike:

1. buyer dashboard: ``orders(first: 50)`` with lines, supplier, client, shipments,
   events, alerts and outlook;
2. client portal: ``orders(first: 20)`` with stage, dates, outlook, shipments, lines,
   at ``--orders`` and at ``--baseline-orders`` (a database of its own);
3. supplier cycle: acknowledge, start, dispatch on fresh orders, all suppliers at once;
4. the floor: (1)'s data by hand-written SQLAlchemy Core plus orjson (``bench.floor``).

Then an HTTP load run (``bench.load``): uvicorn with 1 and 2 workers on loopback.
Only ratios within one run are meaningful on a shared machine; ``--json`` keeps the
figures for comparison across commits.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select

from app.main import create_app, warm_up
from app.settings import Settings
from bench import documents, floor
from bench.cycle import CycleResult, issue_fresh_orders, supplier_cycle
from bench.driver import InProcess, Post
from db.engine import Database, connect, is_sqlite, start_counting
from db.migrate import upgrade
from db.models import Client, Order, Supplier
from db.seed import seed
from permissions.tokens import issue_token

SECRET = "bench-only-secret-0123456789abcdef-0123456789"
AUDIENCE = "handoff"
ISSUER = "handoff-bench"
DATA_DIR = Path(__file__).resolve().parent / ".data"
CYCLE_ORG = "bench-cycle"

# Issue 15 (the compiled path): statements (wire round trips) per dashboard, the
# dashboard's median over the floor's, the portal's at --orders over at 1,000.
MAX_DASHBOARD_STATEMENTS = 4
MAX_FLOOR_RATIO = 1.3
MAX_SCALE_RATIO = 1.2
MAX_RSS_MB = 250.0


@dataclass(frozen=True)
class Now:
    """One instant for the whole run: the app's clock and the floor agree exactly."""

    at: datetime

    def __call__(self) -> datetime:
        return self.at


@dataclass
class Samples:
    ms: list[float] = field(default_factory=list)
    statements: set[int] = field(default_factory=set)

    def summary(self) -> dict[str, Any]:
        return {
            "n": len(self.ms),
            "median_ms": round(statistics.median(self.ms), 3),
            "p95_ms": round(percentile(self.ms, 95), 3),
            "statements": sorted(self.statements),
        }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def token(
    org: str,
    role: str,
    subject: str,
    *,
    client_id: str | None = None,
    supplier_id: str | None = None,
) -> str:
    return issue_token(
        secret=SECRET,
        audience=AUDIENCE,
        issuer=ISSUER,
        org=org,
        role=role,
        subject=subject,
        client_id=client_id,
        supplier_id=supplier_id,
        ttl_seconds=6 * 3600,
    )


def server_env(url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "JWT_SECRET": SECRET,
        "JWT_AUDIENCE": AUDIENCE,
        "JWT_ISSUER": ISSUER,
        "LOG_LEVEL": "WARNING",
    }


def settings_for(url: str) -> Settings:
    return Settings(
        database_url=url,
        jwt_secret=SECRET,
        jwt_audience=AUDIENCE,
        jwt_issuer=ISSUER,
        log_level="WARNING",
    )


def sqlite_url(orders: int) -> str:
    DATA_DIR.mkdir(exist_ok=True)
    return f"sqlite+aiosqlite:///{DATA_DIR / f'orders-{orders}.sqlite'}"


@dataclass
class Org:
    name: str
    suppliers: list[str]
    busiest_client: str


async def prepare(
    db: Database, org: str, orders: int, now: datetime, *, clients: int, exact: bool = True
) -> Org:
    """Seed ``org`` once; later runs reuse it (``exact``: it must hold ``orders`` orders)."""
    async with db.read_session() as s:
        have = await s.scalar(select(func.count()).select_from(Order).where(Order.org == org))
        seeded = await s.scalar(
            select(func.count()).select_from(Supplier).where(Supplier.org == org)
        )
    if not seeded:
        t0 = time.perf_counter()
        await seed(
            db=db,
            org=org,
            orders=orders,
            suppliers=20,
            clients=clients,
            seed=1,
            now=now - timedelta(days=1),
        )
        print(f"  seeded {org}: {orders} orders in {time.perf_counter() - t0:.1f} s", flush=True)
    elif exact and have != orders:
        raise SystemExit(f"{org} holds {have} orders, not {orders}; use a fresh database")
    async with db.read_session() as s:
        suppliers = list(
            await s.scalars(select(Supplier.id).where(Supplier.org == org).order_by(Supplier.id))
        )
        busiest = await s.scalar(
            select(Order.client_id)
            .where(Order.org == org, Order.client_id.is_not(None))
            .group_by(Order.client_id)
            .order_by(func.count().desc(), Order.client_id)
            .limit(1)
        )
        if busiest is None:
            busiest = await s.scalar(select(Client.id).where(Client.org == org).limit(1))
    return Org(org, suppliers, busiest or "")


Call = Callable[[], Awaitable[tuple[bytes, int]]]


def graphql_call(app: InProcess, bearer: str, query: str, variables: dict[str, Any]) -> Call:
    async def call() -> tuple[bytes, int]:
        status, body, statements = await app.counted(bearer, query, variables)
        if status != 200 or b'"errors"' in body:
            raise RuntimeError(f"request failed ({status}): {body[:300]!r}")
        return body, statements

    return call


def floor_call(db: Database, org: str, now: datetime) -> Call:
    async def call() -> tuple[bytes, int]:
        counter = start_counting()
        body = await floor.dashboard(db, org, documents.DASHBOARD_PAGE, now)
        return body, counter.count

    return call


async def interleaved(calls: dict[str, Call], rounds: int, warmup: int) -> dict[str, Samples]:
    """Every workload once per round, in turn; each request timed on its own."""
    for _ in range(warmup):
        for call in calls.values():
            await call()
    samples = {name: Samples() for name in calls}
    gc.collect()
    for _ in range(rounds):
        for name, call in calls.items():
            t0 = time.perf_counter()
            _, statements = await call()
            samples[name].ms.append((time.perf_counter() - t0) * 1000)
            samples[name].statements.add(statements)
    return samples


def same_data(a: bytes, b: bytes) -> bool:
    return bool(orjson.loads(a) == orjson.loads(b))


async def cycle_for(
    post: Post, org: Org, now: datetime, per_supplier: int, suppliers: list[str]
) -> CycleResult:
    """Fresh orders for ``suppliers`` (issued by the buyer), then their cycle, all at once;
    over any transport (in-process or HTTP)."""
    buyer = token(org.name, "buyer", "bench-buyer")
    made = await issue_fresh_orders(
        post, buyer, suppliers, per_supplier, (now + timedelta(days=60)).date()
    )
    tokens = {s: token(org.name, "supplier", f"bench-{s}", supplier_id=s) for s in suppliers}
    return await supplier_cycle(post, tokens, made, (now + timedelta(days=30)).date())


def cycle_summary(result: CycleResult, suppliers: int) -> dict[str, Any]:
    steps = {
        step: {
            "n": len(ms),
            "median_ms": round(statistics.median(ms), 3),
            "p95_ms": round(percentile(ms, 95), 3),
        }
        for step, ms in result.latencies_ms.items()
    }
    return {
        "suppliers": suppliers,
        "completed": result.completed,
        "expected_conflicts": result.expected_conflicts,
        "unexpected_errors": dict(result.unexpected),
        "steps": steps,
    }


class LockedWatch(logging.Handler):
    """Counts log records that mention a locked database (the app logs every failure)."""

    def __init__(self) -> None:
        super().__init__()
        self.locked = 0
        self.errors = 0

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage() + (str(record.exc_info[1]) if record.exc_info else "")
        if record.levelno >= logging.ERROR:
            self.errors += 1
        if "database is locked" in text:
            self.locked += 1


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def row(name: str, s: dict[str, Any], extra: str = "") -> str:
    statements = ",".join(str(n) for n in s["statements"])
    return (
        f"  {name:<34}{s['n']:>6}{s['median_ms']:>12.2f}{s['p95_ms']:>10.2f}"
        f"{statements:>12}  {extra}"
    )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    now = Now(datetime.now(UTC).replace(microsecond=0))
    pg = args.database_url is not None and not is_sqlite(args.database_url)
    main_url = args.database_url or sqlite_url(args.orders)
    base_url = args.database_url or sqlite_url(args.baseline_orders)
    main_org_name = f"bench-{args.orders}"
    base_org_name = f"bench-{args.baseline_orders}"
    print(f"database: {'PostgreSQL' if pg else 'SQLite'}", flush=True)

    for url in {main_url, base_url}:
        await upgrade(url)
    main_db = connect(main_url)
    base_db = main_db if base_url == main_url else connect(base_url)
    try:
        main_org = await prepare(main_db, main_org_name, args.orders, now.at, clients=10)
        base_org = await prepare(base_db, base_org_name, args.baseline_orders, now.at, clients=10)
        cycle_org = await prepare(main_db, CYCLE_ORG, 0, now.at, clients=1, exact=False)

        main_app = InProcess(create_app(settings_for(main_url), db=main_db, clock=now))
        base_app = InProcess(create_app(settings_for(base_url), db=base_db, clock=now))
        warm_up()  # what the server's lifespan does at start-up
        buyer = token(main_org.name, "buyer", "bench-buyer")
        client = token(main_org.name, "client", "bench-client", client_id=main_org.busiest_client)
        base_client = token(
            base_org.name, "client", "bench-client", client_id=base_org.busiest_client
        )
        dash_vars = {"first": documents.DASHBOARD_PAGE}
        portal_vars = {"first": documents.PORTAL_PAGE}
        calls: dict[str, Call] = {
            "dashboard": graphql_call(main_app, buyer, documents.DASHBOARD, dash_vars),
            "floor": floor_call(main_db, main_org.name, now.at),
            "portal": graphql_call(main_app, client, documents.PORTAL, portal_vars),
            "portal_baseline": graphql_call(base_app, base_client, documents.PORTAL, portal_vars),
        }
        graph, _ = await calls["dashboard"]()
        hand, _ = await calls["floor"]()
        if not same_data(graph, hand):
            raise SystemExit("the floor and the dashboard disagree: the comparison is void")
        print(f"measuring {args.rounds} rounds (after {args.warmup} warm-up) ...", flush=True)
        samples = await interleaved(calls, args.rounds, args.warmup)
        results = {name: s.summary() for name, s in samples.items()}

        watch = LockedWatch()
        logging.getLogger().addHandler(watch)
        try:
            # One supplier alone (service time), then all of them at once (contention).
            alone = await cycle_for(
                main_app, cycle_org, now.at, args.cycle_orders, cycle_org.suppliers[:1]
            )
            cycle = await cycle_for(
                main_app, cycle_org, now.at, args.cycle_orders, cycle_org.suppliers
            )
        finally:
            logging.getLogger().removeHandler(watch)
        alone_figures = cycle_summary(alone, 1)
        cycle_figures = cycle_summary(cycle, len(cycle_org.suppliers))
        cycle_figures["db_locked_in_logs"] = watch.locked
        cycle_figures["errors_logged"] = watch.errors
    finally:
        gc.unfreeze()  # warm_up froze this process's objects, as the server's start-up does
        await main_db.dispose()
        if base_db is not main_db:
            await base_db.dispose()

    return {
        "commit": commit(),
        "at": now.at.isoformat(),
        "database": "postgresql" if pg else "sqlite",
        "orders": args.orders,
        "baseline_orders": args.baseline_orders,
        "rounds": args.rounds,
        "in_process": results,
        "ratios": {
            "dashboard_to_floor_median": round(
                results["dashboard"]["median_ms"] / results["floor"]["median_ms"], 2
            ),
            "dashboard_to_floor_p95": round(
                results["dashboard"]["p95_ms"] / results["floor"]["p95_ms"], 2
            ),
            "portal_scale_median": round(
                results["portal"]["median_ms"] / results["portal_baseline"]["median_ms"], 2
            ),
        },
        "supplier_cycle_alone": alone_figures,
        "supplier_cycle": cycle_figures,
        "urls": {"main": main_url, "cycle_org": CYCLE_ORG},
        "_orgs": {"main": main_org, "cycle": cycle_org},
    }


def report(figures: dict[str, Any]) -> str:
    r = figures["in_process"]
    ratios = figures["ratios"]
    cycle = figures["supplier_cycle"]
    lines = [
        "",
        f"Handoff bench @ {figures['commit']}  {figures['database']}, "
        f"{figures['orders']} orders (baseline {figures['baseline_orders']})",
        "",
        f"  {'in-process workload':<34}{'n':>6}{'median ms':>12}{'p95 ms':>10}{'statements':>12}",
        row("1. buyer dashboard (first: 50)", r["dashboard"]),
        row("4. floor: Core + orjson", r["floor"]),
        row(f"2. client portal @ {figures['orders']}", r["portal"]),
        row(f"2. client portal @ {figures['baseline_orders']}", r["portal_baseline"]),
    ]
    for label, figures_of in (
        ("alone", figures["supplier_cycle_alone"]),
        (f"{cycle['suppliers']} at once", cycle),
    ):
        for step, s in figures_of["steps"].items():
            name = f"3. supplier {step}, {label}"
            lines.append(f"  {name:<34}{s['n']:>6}{s['median_ms']:>12.2f}{s['p95_ms']:>10.2f}")
    dash_statements = max(r["dashboard"]["statements"])
    unexpected = sum(cycle["unexpected_errors"].values()) + sum(
        figures["supplier_cycle_alone"]["unexpected_errors"].values()
    )
    lines += [
        "",
        "  targets",
        f"  {verdict(dash_statements <= MAX_DASHBOARD_STATEMENTS)}  dashboard statements "
        f"{dash_statements} (<= {MAX_DASHBOARD_STATEMENTS}, constant in page size: "
        "tests/api/test_no_n_plus_one.py, tests/compiler/test_statements.py)",
        f"  {verdict(ratios['dashboard_to_floor_median'] <= MAX_FLOOR_RATIO)}  dashboard / floor "
        f"median {ratios['dashboard_to_floor_median']}x, p95 {ratios['dashboard_to_floor_p95']}x "
        f"(<= {MAX_FLOOR_RATIO}x)",
        f"  {verdict(ratios['portal_scale_median'] <= MAX_SCALE_RATIO)}  client portal "
        f"{figures['orders']} / {figures['baseline_orders']} median "
        f"{ratios['portal_scale_median']}x (<= {MAX_SCALE_RATIO}x)",
        f"  {verdict(unexpected == 0 and cycle['db_locked_in_logs'] == 0)}  supplier cycle: "
        f"{cycle['suppliers']} suppliers at once, {cycle['completed']} orders dispatched, "
        f"{cycle['expected_conflicts']} expected conflicts, {unexpected} unexpected errors, "
        f"{cycle['db_locked_in_logs']} 'database is locked'",
    ]
    for message, n in cycle["unexpected_errors"].items():
        lines.append(f"        {n} x {message}")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--baseline-orders", type=int, default=1_000)
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL URL (default: SQLite files in bench/.data)"
    )
    parser.add_argument("--rounds", type=int, default=200, help="timed requests per workload")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--cycle-orders", type=int, default=5, help="fresh orders per supplier")
    parser.add_argument("--no-http", action="store_true", help="skip the uvicorn load run")
    parser.add_argument("--http-seconds", type=float, default=10.0)
    parser.add_argument("--http-connections", type=int, default=16)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument(
        "--fanout",
        action="store_true",
        help="also the push fan-out (PostgreSQL; see python -m bench.fanout --help)",
    )
    parser.add_argument("--fanout-only", action="store_true", help="only the push fan-out workload")
    parser.add_argument(
        "--delivery",
        action="store_true",
        help="only the webhook delivery workload (see python -m bench.delivery --help)",
    )
    parser.add_argument(
        "--soak",
        type=float,
        default=0,
        metavar="SECONDS",
        help="only the soak: mixed reads and writes from 3 roles against a real server",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.soak:
        from bench import soak

        return soak.run(args.soak, args.database_url, args.json)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if args.fanout_only:
        return fanout_run(args, {})
    if args.delivery:
        return delivery_run(args)

    figures = asyncio.run(measure(args))
    orgs = figures.pop("_orgs")
    print(report(figures), flush=True)

    if not args.no_http:
        figures["http"] = http_run(args, figures, orgs)
    if args.fanout:
        fanout_run(args, figures)
    if args.json is not None:
        args.json.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2))
        print(f"\nfigures written to {args.json}")
    return 0


def delivery_run(args: argparse.Namespace) -> int:
    """Webhook delivery (``bench.delivery``) with its defaults: 10,000 events to 100
    endpoints through a ``handoff worker`` process, on the bench's database."""
    from bench import delivery

    delivery_args = ["--json", str(args.json)] if args.json else []
    if args.database_url:
        delivery_args += ["--database-url", args.database_url]
    print("webhook delivery (real worker process, local receiver) ...", flush=True)
    result = asyncio.run(delivery.run(delivery.parse(delivery_args)))
    print(delivery.report(result))
    if args.json is not None:
        args.json.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    return 0


def fanout_run(args: argparse.Namespace, figures: dict[str, Any]) -> int:
    """The push fan-out (``bench.fanout``) with its defaults, on PostgreSQL."""
    from bench import fanout

    fanout_args = ["--json", str(args.json)] if args.fanout_only and args.json else []
    if args.database_url and not is_sqlite(args.database_url):
        fanout_args += ["--database-url", args.database_url.rsplit("/", 1)[0] + "/handoff_fanout"]
    print("\npush fan-out (PostgreSQL, real server processes) ...", flush=True)
    result = asyncio.run(fanout.run(fanout.parse(fanout_args)))
    print(fanout.report(result))
    figures["fanout"] = result
    return 0


def http_run(args: argparse.Namespace, figures: dict[str, Any], orgs: dict[str, Org]) -> Any:
    from bench.load import Target, format_http_table, run_http_load

    main_org, cycle_org = orgs["main"], orgs["cycle"]
    now = datetime.now(UTC)
    targets = [
        Target(
            "buyer dashboard",
            token(main_org.name, "buyer", "bench-buyer"),
            documents.DASHBOARD,
            {"first": documents.DASHBOARD_PAGE},
        ),
        Target(
            "client portal",
            token(main_org.name, "client", "bench-client", client_id=main_org.busiest_client),
            documents.PORTAL,
            {"first": documents.PORTAL_PAGE},
        ),
    ]

    async def cycle(post: Post) -> dict[str, Any]:
        result = await cycle_for(post, cycle_org, now, args.cycle_orders, cycle_org.suppliers)
        return cycle_summary(result, len(cycle_org.suppliers))

    print("\nHTTP load run (uvicorn on loopback) ...", flush=True)
    rows = run_http_load(
        env=server_env(figures["urls"]["main"]) | {"PYTHONPATH": os.getcwd()},
        targets=targets,
        workers=(1, 2),
        seconds=args.http_seconds,
        connections=args.http_connections,
        cycle=cycle,
    )
    print(format_http_table(rows))
    for r in rows:
        if r["target"] == "supplier cycle":
            bad = sum(r["unexpected_errors"].values())
            print(
                f"\n  {verdict(bad == 0 and r['db_locked_in_logs'] == 0)}  supplier cycle over "
                f"HTTP, {r['workers']} workers: {r['suppliers']} suppliers at once, "
                f"{r['completed']} orders dispatched, {r['expected_conflicts']} expected "
                f"conflicts, {bad} unexpected errors"
            )
            for message, n in r["unexpected_errors"].items():
                print(f"        {n} x {message}")
    loads = [r for r in rows if r["target"] != "supplier cycle"]
    failed = sum(r["non_2xx"] + r["graphql_errors"] + r["socket_errors"] for r in loads)
    print(
        f"\n  {verdict(failed == 0)}  load run answers: "
        f"{sum(r['requests'] for r in loads)} requests, {failed} non-2xx, GraphQL or socket errors"
    )
    rss = max(float(r.get("peak_rss_mb", 0.0)) for r in rows)
    locked = sum(
        int(r.get("db_locked_in_logs", 0)) for r in rows if r["target"] == "supplier cycle"
    )
    print(
        f"\n  {verdict(rss <= MAX_RSS_MB)}  peak RSS of one server process {rss:.0f} MB "
        f"(<= {MAX_RSS_MB:.0f} MB); 'database is locked' in server logs: {locked}"
    )
    return rows
