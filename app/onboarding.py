"""Onboarding a real organisation from the command line, without the demo:
``handoff org create``, ``handoff supplier create|list``, ``handoff client create|list``.

Suppliers and clients are created by the same domain commands the GraphQL mutations
use (``db.commands``), acting as the org's buyer, so the rules are the same. Each
command prints one JSON object; errors name the flag to fix.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.clock import system_clock
from db.commands.context import Call
from db.commands.orgs import create_org, org_is_known
from db.commands.parties import create_client, create_supplier
from db.engine import Database
from db.errors import DomainErrors
from db.models import Client, Supplier
from db.scope import Scope
from permissions.principal import Principal, Role

FLAGS = {"org": "--org", "name": "--name", "contact_email": "--email"}
CLI_SUBJECT = "cli:handoff"


class UsageError(Exception):
    """A problem the operator fixes by changing a flag; the message names it."""


def _flag_errors(errors: DomainErrors) -> UsageError:
    said = []
    for error in errors.errors:
        flag = FLAGS.get(str((error.field or ("?",))[-1]), "an option")
        said.append(f"{flag} {error.message}")
    return UsageError("; ".join(said))


async def _as_buyer(
    db: Database, org: str, act: Callable[[AsyncSession, Scope], Awaitable[Any]]
) -> Any:
    scope = Principal(role=Role.BUYER, org=org, subject=CLI_SUBJECT).scope
    async with db.write_session() as session, session.begin():
        if not await org_is_known(session=session, org=org):
            raise UsageError(
                f"--org {org!r} is not registered: run `handoff org create --org {org}` first "
                "(or check the spelling; it must equal the tokens' org claim)"
            )
        try:
            return await act(session, scope)
        except DomainErrors as errors:
            raise _flag_errors(errors) from None


async def org_create(db: Database, args: argparse.Namespace) -> dict[str, Any]:
    async with db.write_session() as session, session.begin():
        try:
            created = await create_org(session=session, org=args.org, now=system_clock())
        except DomainErrors as errors:
            raise _flag_errors(errors) from None
    return {"org": args.org, "created": created}


async def supplier_create(db: Database, args: argparse.Namespace) -> dict[str, Any]:
    async def act(session: AsyncSession, scope: Scope) -> Supplier:
        return await create_supplier(
            Call(session, scope, system_clock()), name=args.name, contact_email=args.email
        )

    supplier: Supplier = await _as_buyer(db, args.org, act)
    return {"org": args.org, "id": supplier.id, "name": supplier.name}


async def client_create(db: Database, args: argparse.Namespace) -> dict[str, Any]:
    async def act(session: AsyncSession, scope: Scope) -> Client:
        return await create_client(Call(session, scope, system_clock()), name=args.name)

    client: Client = await _as_buyer(db, args.org, act)
    return {"org": args.org, "id": client.id, "name": client.name}


async def supplier_list(db: Database, args: argparse.Namespace) -> dict[str, Any]:
    async with db.read_session() as session:
        rows = await session.execute(
            select(Supplier.id, Supplier.name, Supplier.contact_email)
            .where(Supplier.org == args.org)
            .order_by(Supplier.name, Supplier.id)
        )
    return {
        "org": args.org,
        "suppliers": [{"id": i, "name": n, "contactEmail": e} for i, n, e in rows],
    }


async def client_list(db: Database, args: argparse.Namespace) -> dict[str, Any]:
    async with db.read_session() as session:
        rows = await session.execute(
            select(Client.id, Client.name)
            .where(Client.org == args.org)
            .order_by(Client.name, Client.id)
        )
    return {"org": args.org, "clients": [{"id": i, "name": n} for i, n in rows]}


def add_parsers(sub: Any, org_help: str) -> None:
    """``org``, ``supplier`` and ``client`` command groups on the ``handoff`` parser."""
    org = sub.add_parser("org", help="register an organisation (a tenant)")
    org_sub = org.add_subparsers(dest="action", required=True, metavar="create")
    create = org_sub.add_parser("create", help="register ORG with default settings")
    create.add_argument("--org", required=True, help=org_help)
    create.set_defaults(run=org_create)

    for noun, make, listing in (
        ("supplier", supplier_create, supplier_list),
        ("client", client_create, client_list),
    ):
        group = sub.add_parser(noun, help=f"create or list the org's {noun}s")
        actions = group.add_subparsers(dest="action", required=True, metavar="{create,list}")
        made = actions.add_parser("create", help=f"create a {noun}; prints its id")
        made.add_argument("--org", required=True, help=org_help)
        made.add_argument("--name", required=True, help=f"the {noun}'s name")
        if noun == "supplier":
            made.add_argument("--email", help="where new purchase orders go")
        made.set_defaults(run=make)
        listed = actions.add_parser("list", help=f"the org's {noun}s with their ids")
        listed.add_argument("--org", required=True, help=org_help)
        listed.set_defaults(run=listing)
