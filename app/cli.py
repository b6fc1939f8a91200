"""The ``handoff`` command line: serve, migrate, seed, token, export-schema."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import asdict

import orjson

from app.settings import Settings


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        sys.exit(f"handoff: invalid configuration: {error}")


def cmd_migrate(args: argparse.Namespace) -> int:
    from db.migrate import upgrade

    asyncio.run(upgrade(_settings().database_url))
    print("database is at the head migration", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app import logs
    from db.migrate import upgrade

    settings = _settings()
    logs.configure(settings.log_level)
    asyncio.run(upgrade(settings.database_url))
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from db.clock import system_clock
    from db.engine import connect
    from db.migrate import upgrade
    from db.seed import seed

    settings = _settings()

    async def run() -> dict[str, object]:
        await upgrade(settings.database_url)
        db = connect(settings.database_url)
        try:
            if args.if_empty:
                from sqlalchemy import func, select

                from db.models import Order

                async with db.read_session() as s:
                    count = await s.scalar(select(func.count()).select_from(Order))
                if count:
                    return {
                        "org": args.org,
                        "orders": 0,
                        "suppliers": [],
                        "clients": [],
                        "skipped": "database not empty",
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
        finally:
            await db.dispose()

    print(orjson.dumps(asyncio.run(run())).decode())
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from permissions.tokens import issue_token

    settings = _settings()
    if settings.environment == "production":
        sys.exit("handoff: refusing to mint dev tokens in production")
    if settings.jwt_algorithm != "HS256":
        sys.exit("handoff: dev tokens are HS256; JWT_ALGORITHM is " + settings.jwt_algorithm)
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
    print(token)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Migrate, seed the demo org if the database is empty, print one header per role."""
    from sqlalchemy import func, select

    from db.clock import system_clock
    from db.engine import connect
    from db.migrate import upgrade
    from db.models import Client, Order, Supplier
    from db.seed import seed
    from permissions.tokens import issue_token

    settings = _settings()
    if settings.environment == "production":
        sys.exit("handoff: no demo in production")

    async def run() -> tuple[str | None, str | None]:
        await upgrade(settings.database_url)
        db = connect(settings.database_url)
        try:
            async with db.read_session() as s:
                empty = not await s.scalar(select(func.count()).select_from(Order))
            if empty:
                await seed(
                    db=db,
                    org=args.org,
                    orders=args.orders,
                    suppliers=5,
                    clients=4,
                    seed=42,
                    now=system_clock(),
                )
                print(f"seeded demo org {args.org!r} with {args.orders} orders", file=sys.stderr)
            async with db.read_session() as s:
                supplier = await s.scalar(
                    select(Supplier.id)
                    .where(Supplier.org == args.org)
                    .order_by(Supplier.name)
                    .limit(1)
                )
                client = await s.scalar(
                    select(Client.id).where(Client.org == args.org).order_by(Client.name).limit(1)
                )
            return supplier, client
        finally:
            await db.dispose()

    supplier_id, client_id = asyncio.run(run())
    claims: list[tuple[str, dict[str, str | None]]] = [
        ("buyer", {}),
        ("client", {"client_id": client_id}),
        ("supplier", {"supplier_id": supplier_id}),
    ]
    print(f"\nGraphiQL: http://{settings.host}:{settings.port}/graphql\n")
    for role, extra in claims:
        if None in extra.values():
            continue
        token = issue_token(
            secret=settings.jwt_secret,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            org=args.org,
            role=role,
            subject=f"demo-{role}",
            ttl_seconds=args.ttl,
            client_id=extra.get("client_id"),
            supplier_id=extra.get("supplier_id"),
        )
        print(f"{role:>8}: Authorization: Bearer {token}")
    print()
    return 0


def cmd_export_schema(args: argparse.Namespace) -> int:
    from permissions.principal import Role
    from schema.build import sdl_for

    sys.stdout.write(sdl_for(Role(args.role)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="handoff", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate the database to head, then serve")
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply migrations").set_defaults(func=cmd_migrate)

    seed = sub.add_parser("seed", help="bulk demo data; prints one JSON object")
    seed.add_argument("--org", required=True)
    seed.add_argument("--orders", type=int, default=200)
    seed.add_argument("--suppliers", type=int, default=5)
    seed.add_argument("--clients", type=int, default=4)
    seed.add_argument("--seed", type=int, default=42)
    seed.add_argument(
        "--if-empty", action="store_true", help="do nothing when the database already has orders"
    )
    seed.set_defaults(func=cmd_seed)

    token = sub.add_parser("token", help="print a signed dev token (HS256; not in production)")
    token.add_argument("--org", required=True)
    token.add_argument("--role", required=True, choices=["buyer", "client", "supplier"])
    token.add_argument("--client-id")
    token.add_argument("--supplier-id")
    token.add_argument("--subject")
    token.add_argument("--ttl", type=int, default=3600)
    token.set_defaults(func=cmd_token)

    demo = sub.add_parser("demo", help="migrate, seed a demo org if empty, print role headers")
    demo.add_argument("--org", default="demo")
    demo.add_argument("--orders", type=int, default=500)
    demo.add_argument("--ttl", type=int, default=12 * 3600)
    demo.set_defaults(func=cmd_demo)

    export = sub.add_parser("export-schema", help="print a role's SDL")
    export.add_argument("--role", default="buyer", choices=["buyer", "client", "supplier"])
    export.set_defaults(func=cmd_export_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
