"""The parties a buyer deals with: its suppliers and its clients."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db import validation as v
from db.errors import raise_if
from db.ids import new_id
from db.models import Client, Supplier
from db.scope import Scope


async def create_supplier(
    *, session: AsyncSession, scope: Scope, now: datetime, name: str, contact_email: str | None
) -> Supplier:
    raise_if(
        [
            v.required_text(name, ("name",), max_len=200),
            v.email(contact_email, ("contact_email",)),
        ]
    )
    supplier = Supplier(
        id=new_id("sup"),
        org=scope.org,
        name=name.strip(),
        contact_email=contact_email,
        created_at=now,
    )
    session.add(supplier)
    await session.flush()
    return supplier


async def create_client(
    *,
    session: AsyncSession,
    scope: Scope,
    now: datetime,
    name: str,
    contact_email: str | None = None,
) -> Client:
    raise_if(
        [
            v.required_text(name, ("name",), max_len=200),
            v.email(contact_email, ("contact_email",)),
        ]
    )
    client = Client(
        id=new_id("cli"),
        org=scope.org,
        name=name.strip(),
        created_at=now,
        contact_email=contact_email,
    )
    session.add(client)
    await session.flush()
    return client
