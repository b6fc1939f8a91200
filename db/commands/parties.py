"""The parties a buyer deals with: its suppliers and its clients."""

from __future__ import annotations

from typing import TypeVar

from db import validation as v
from db.commands.context import Call
from db.errors import raise_if
from db.ids import new_id
from db.models import Client, Supplier

Party = TypeVar("Party", Supplier, Client)


async def create_supplier(call: Call, *, name: str, contact_email: str | None) -> Supplier:
    return await _create(call, Supplier, "sup", name, contact_email)


async def create_client(call: Call, *, name: str, contact_email: str | None = None) -> Client:
    return await _create(call, Client, "cli", name, contact_email)


async def _create(
    call: Call, model: type[Party], id_prefix: str, name: str, contact_email: str | None
) -> Party:
    """A new party in the caller's org: a name, and whom to write to there (optional)."""
    raise_if(
        [
            v.required_text(name, ("name",), max_len=200),
            v.email(contact_email, ("contact_email",)),
        ]
    )
    return await call.insert(
        model(
            id=new_id(id_prefix),
            org=call.scope.org,
            name=name.strip(),
            contact_email=contact_email,
            created_at=call.now,
        )
    )
