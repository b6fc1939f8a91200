"""The ``handoff`` command line (also ``python -m app``), configured from the
environment or ``.env`` (see ``.env.example``).

commands:
  demo            migrate, seed a demo org if it is empty, print who each token is,
                  GraphiQL links, headers and a walkthrough (what `make run` shows)
  serve           migrate the database to head, then serve on HOST:PORT
  worker          deliver webhooks (and e-mail) without serving HTTP
  email           an org's e-mail switches: handoff email --org ORG --buyer-email A
  migrate         apply the database migrations
  seed            bulk demo data for an org; prints one JSON object
  token           print a signed development token (HS256; never in production)
  export-schema   print a role's GraphQL SDL
  org             register an organisation:        handoff org create --org ORG
  supplier        create or list suppliers:        handoff supplier create --org ORG --name N
  client          create or list clients:          handoff client create --org ORG --name N

`handoff COMMAND --help` lists a command's options and their defaults.

Long because each command keeps its parser and its handler side by side; the
onboarding and demo commands live in ``app.onboarding`` and ``app.demo``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict
from typing import Any, TypeVar

import orjson

from app.database_url import explain, problem_with
from app.onboarding import UsageError, add_parsers
from app.settings import Settings
from db.engine import Database

T = TypeVar("T")
ROLES = ["buyer", "client", "supplier"]
ORG_HELP = "the organisation key: the `org` claim of its tokens"


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        sys.exit(f"handoff: invalid configuration: {error}")


def _with_database(
    settings: Settings, work: Callable[[Database], Awaitable[T]], *, migrate: bool = True
) -> T:
    """Run ``work`` on the configured database (migrated first). A database that
    cannot be reached ends the command with one line saying what to set."""
    from db.engine import connect
    from db.migrate import upgrade

    url = settings.database_url
    problem = problem_with(url)
    if problem:
        sys.exit(f"handoff: {problem}")

    async def run() -> T:
        if migrate:
            await upgrade(url)
        db = connect(url)
        try:
            return await work(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    except UsageError as error:
        sys.exit(f"handoff: {error}")
    except Exception as error:
        line = explain(url, error)
        if line is None:
            raise
        sys.exit(f"handoff: {line}")


async def _nothing(db: Database) -> None:
    return None


def _print_json(value: Any) -> None:
    print(orjson.dumps(value).decode())


def cmd_migrate(args: argparse.Namespace) -> int:
    _with_database(_settings(), _nothing)
    print("database is at the head migration", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app import logs

    settings = _settings()
    try:
        settings.token_config()
    except ValueError as error:
        sys.exit(f"handoff: invalid token configuration: {error}")
    _with_database(settings, _nothing)  # before logging: a bad URL is one line, not a log
    logs.configure(settings.log_level)
    made = _prepare_metrics_dir(settings, args.workers)
    try:
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=args.workers,
            log_config=None,
            access_log=False,
            proxy_headers=False,
            ws_per_message_deflate=settings.ws_compression,
            # Frames beyond this are refused before they are buffered whole; the app
            # closes any message over MAX_BODY_BYTES (1009) as HTTP answers 413.
            ws_max_size=max(settings.max_body_bytes * 2, 1 << 20),
            # Tracking pages' event streams never end by themselves: on shutdown they
            # are cut after this long (browsers reconnect, to another worker or host).
            timeout_graceful_shutdown=10,
        )
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """A delivery worker of its own: as many as wanted may run on one PostgreSQL."""
    from app import logs
    from app.main import delivery_worker, mailer
    from db.clock import system_clock

    settings = _settings()
    logs.configure(settings.log_level)

    if settings.webhook_key() is None:
        sys.exit("handoff: set WEBHOOK_SECRET_KEY (32+ random characters) to deliver webhooks")

    async def work(db: Database) -> None:
        worker = delivery_worker(settings, db, system_clock)
        assert worker is not None
        mail = mailer(settings, db, system_clock)
        await worker.start()
        if mail is not None:
            await mail.start()
        try:
            await asyncio.Event().wait()  # until interrupted
        finally:
            await worker.stop()
            if mail is not None:
                await mail.stop()

    with contextlib.suppress(KeyboardInterrupt):
        _with_database(settings, work)
    return 0


def cmd_email(args: argparse.Namespace) -> int:
    """An org's e-mail switches; prints them as JSON."""
    from db import email_outbox

    def flag(value: str | None) -> bool | None:
        return None if value is None else value == "on"

    async def work(db: Database) -> dict[str, object]:
        async with db.write_session() as session, session.begin():
            found = await email_outbox.configure(
                session,
                org=args.org,
                enabled=flag(args.mail),
                purchase_orders=flag(args.purchase_orders),
                alerts=flag(args.alerts),
                dispatches=flag(args.dispatches),
                buyer_email=args.buyer_email,
            )
            return {
                "org": found.org,
                "enabled": found.enabled,
                "purchaseOrders": found.purchase_orders,
                "alerts": found.alerts,
                "dispatches": found.dispatches,
                "buyerEmail": found.buyer_email,
            }

    _print_json(_with_database(_settings(), work))
    return 0


def _prepare_metrics_dir(settings: Settings, workers: int) -> str | None:
    """Workers share /metrics through a directory: a fresh temporary one for N > 1
    workers unless METRICS_DIR names one, which is emptied of a previous run's files.
    The workers read METRICS_DIR from the environment they inherit. Returns the
    temporary directory made, if any."""
    import os
    import tempfile
    from pathlib import Path

    if settings.metrics_dir:
        folder = Path(settings.metrics_dir)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.json"):
            stale.unlink()
    elif workers > 1:
        made = tempfile.mkdtemp(prefix="handoff-metrics-")
        os.environ["METRICS_DIR"] = made
        return made
    return None


def cmd_seed(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from db.clock import system_clock
    from db.models import Order
    from db.seed import seed

    async def work(db: Database) -> dict[str, object]:
        if args.if_empty:
            async with db.read_session() as s:
                count = await s.scalar(select(func.count()).select_from(Order))
            if count:
                skipped = "database not empty"
                return {
                    "org": args.org,
                    "orders": 0,
                    "suppliers": [],
                    "clients": [],
                    "skipped": skipped,
                }
        result = await seed(
            db=db,
            org=args.org,
            orders=args.orders,
            suppliers=args.suppliers,
            clients=args.clients,
            seed=args.seed,
            now=system_clock(),
        )
        return asdict(result)

    _print_json(_with_database(_settings(), work))
    return 0


def _check_party_flags(role: str, client_id: str | None, supplier_id: str | None) -> None:
    own = {"client": ("--client-id", client_id), "supplier": ("--supplier-id", supplier_id)}
    for party, (flag, value) in own.items():
        if party == role and not value:
            sys.exit(
                f"handoff: --role {role} needs {flag} (the {party}'s id, e.g. from "
                f"`handoff {party} list --org ORG`)"
            )
        if party != role and value:
            sys.exit(f"handoff: {flag} is only for --role {party}, not --role {role}")


def _dev_token_settings() -> Settings:
    settings = _settings()
    if settings.environment == "production":
        sys.exit("handoff: refusing to mint dev tokens in production (ENVIRONMENT=production)")
    if settings.jwt_algorithm != "HS256":
        sys.exit(
            "handoff: dev tokens are HS256; JWT_ALGORITHM is "
            f"{settings.jwt_algorithm}: your identity provider issues the tokens"
        )
    from permissions.claims import ClaimMapping

    if settings.claim_mapping() != ClaimMapping():
        sys.exit(
            "handoff: dev tokens carry the default claims (role, org, client_id, supplier_id); "
            "unset JWT_ROLE_CLAIM, JWT_ORG_CLAIM, JWT_CLIENT_ID_CLAIM, JWT_SUPPLIER_ID_CLAIM "
            "and JWT_ROLE_MAP to use them"
        )
    return settings


def cmd_token(args: argparse.Namespace) -> int:
    from permissions.tokens import issue_token

    settings = _dev_token_settings()
    _check_party_flags(args.role, args.client_id, args.supplier_id)
    if args.ttl <= 0:
        sys.exit("handoff: --ttl must be a positive number of seconds")
    try:
        token = issue_token(
            secret=settings.jwt_secret,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            org=args.org,
            role=args.role,
            subject=args.subject or f"{args.role}@{args.org}",
            client_id=args.client_id,
            supplier_id=args.supplier_id,
            ttl_seconds=args.ttl,
        )
    except ValueError as error:
        sys.exit(f"handoff: {error}")
    print(f"Authorization: Bearer {token}" if args.header else token)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Migrate, seed the demo org if it is empty, print what a newcomer needs."""
    from datetime import UTC, datetime

    from app.demo import demo_org, summary
    from db.clock import system_clock
    from permissions.tokens import issue_token

    settings = _dev_token_settings()
    world = _with_database(
        settings, lambda db: demo_org(db, org=args.org, orders=args.orders, now=system_clock())
    )
    if world.seeded:
        print(f"seeded demo org {args.org!r} with {args.orders} orders", file=sys.stderr)
    ids: dict[str, tuple[str | None, str | None]] = {"buyer": (None, None)}
    if world.client is not None:
        ids["client"] = (world.client.id, None)
    if world.supplier is not None:
        ids["supplier"] = (None, world.supplier.id)
    tokens = {
        role: issue_token(
            secret=settings.jwt_secret,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            org=args.org,
            role=role,
            subject=f"demo-{role}",
            ttl_seconds=args.ttl,
            client_id=client_id,
            supplier_id=supplier_id,
        )
        for role, (client_id, supplier_id) in ids.items()
    }
    print(
        summary(
            world=world,
            base_url=f"http://{settings.host}:{settings.port}",
            tokens=tokens,
            ttl_hours=args.ttl / 3600,
            graphiql=settings.graphiql_enabled,
            today=datetime.now(UTC).date(),
        )
    )
    return 0


def cmd_export_schema(args: argparse.Namespace) -> int:
    from permissions.principal import Role
    from schema.build import sdl_for

    sys.stdout.write(sdl_for(Role(args.role)))
    return 0


def cmd_onboarding(args: argparse.Namespace) -> int:
    _print_json(_with_database(_settings(), lambda db: args.run(db, args)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    defaults = argparse.ArgumentDefaultsHelpFormatter
    parser = argparse.ArgumentParser(
        prog="handoff",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, func: Callable[[argparse.Namespace], int]) -> Any:
        found = sub.add_parser(name, help=help, description=help, formatter_class=defaults)
        found.set_defaults(func=func)
        return found

    demo = command(
        "demo", "migrate, seed a demo org if empty, print tokens and a walkthrough", cmd_demo
    )
    demo.add_argument("--org", default="demo", help=ORG_HELP)
    demo.add_argument(
        "--orders", type=int, default=500, help="orders to seed when the org is empty"
    )
    demo.add_argument("--ttl", type=int, default=12 * 3600, help="token lifetime in seconds")

    serve = command("serve", "migrate the database to head, then serve on HOST:PORT", cmd_serve)
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes (use PostgreSQL for more than 1)"
    )

    command("worker", "deliver webhooks and e-mail without serving HTTP", cmd_worker)
    mail = command("email", "an org's e-mail switches (SMTP_URL sends them)", cmd_email)
    mail.add_argument("--org", required=True, help=ORG_HELP)
    on_off = {"choices": ["on", "off"], "default": None}
    mail.add_argument("--mail", help="all of the org's e-mail", **on_off)
    mail.add_argument("--purchase-orders", help="POs to suppliers' contacts", **on_off)
    mail.add_argument("--alerts", help="alerts to --buyer-email, batched", **on_off)
    mail.add_argument("--dispatches", help="dispatches to clients' contacts", **on_off)
    mail.add_argument("--buyer-email", help="where the buyer's alerts go ('' = nowhere)")
    command("migrate", "apply the database migrations", cmd_migrate)

    seed = command("seed", "bulk demo data for an org; prints one JSON object", cmd_seed)
    seed.add_argument("--org", required=True, help=ORG_HELP)
    seed.add_argument("--orders", type=int, default=200, help="orders to add")
    seed.add_argument(
        "--suppliers", type=int, default=5, help="suppliers (existing ones are reused)"
    )
    seed.add_argument("--clients", type=int, default=4, help="clients (existing ones are reused)")
    seed.add_argument("--seed", type=int, default=42, help="random seed, for reproducible data")
    seed.add_argument(
        "--if-empty", action="store_true", help="do nothing when the database already has orders"
    )

    token = command(
        "token", "print a signed development token (HS256; not in production)", cmd_token
    )
    token.add_argument("--org", required=True, help=ORG_HELP)
    token.add_argument("--role", required=True, choices=ROLES, help="whose token")
    token.add_argument("--client-id", help="the Client.id a client token stands for")
    token.add_argument("--supplier-id", help="the Supplier.id a supplier token stands for")
    token.add_argument("--subject", help="the `sub` claim (default: ROLE@ORG)")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    token.add_argument(
        "--header", action="store_true", help="print `Authorization: Bearer <token>`"
    )

    export = command("export-schema", "print a role's GraphQL SDL", cmd_export_schema)
    export.add_argument("--role", default="buyer", choices=ROLES, help="whose schema")

    add_parsers(sub, ORG_HELP)
    for name in ("org", "supplier", "client"):
        sub.choices[name].set_defaults(func=cmd_onboarding)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
