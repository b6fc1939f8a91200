"""Mutation root: typed payloads with ``userErrors``; one transaction per mutation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import strawberry
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db import commands, idempotency
from db.errors import DomainError, DomainErrors
from db.errors import ErrorCode as DbErrorCode
from schema.context import Info
from schema.types import Client, Order, Supplier

T = TypeVar("T")

ErrorCode = strawberry.enum(DbErrorCode, name="ErrorCode")


@strawberry.type(description="Something the caller got wrong; nothing was changed.")
class UserError:
    code: ErrorCode  # type: ignore[valid-type]
    message: str
    field: list[str] | None

    @classmethod
    def from_domain(cls, error: DomainError) -> UserError:
        return cls(code=error.code, message=error.message, field=error.field)


@strawberry.type
class OrderPayload:
    order: Order | None
    user_errors: list[UserError]


@strawberry.type
class SupplierPayload:
    supplier: Supplier | None
    user_errors: list[UserError]


@strawberry.type
class ClientPayload:
    client: Client | None
    user_errors: list[UserError]


@strawberry.input
class CreateSupplierInput:
    name: str
    contact_email: str | None = None
    idempotency_key: str | None = None


@strawberry.input
class CreateClientInput:
    name: str
    idempotency_key: str | None = None


@strawberry.input
class OrderLineInput:
    part_number: str
    quantity: int
    unit_price: Decimal
    description: str | None = None


@strawberry.input
class IssueOrderInput:
    supplier_id: strawberry.ID
    need_by: date
    currency: str
    lines: list[OrderLineInput]
    client_id: strawberry.ID | None = None
    client_reference: str | None = None
    terms: str | None = None
    lead_time_days: int | None = None
    internal_note: str | None = None
    idempotency_key: str | None = None


async def run_command(
    info: Info,
    *,
    operation: str,
    idempotency_key: str | None,
    command: Callable[[AsyncSession], Awaitable[Any]],
    load: Callable[[AsyncSession, str], Awaitable[T | None]],
) -> tuple[T | None, list[UserError]]:
    """Run ``command`` in one write transaction, with idempotent replay.

    Returns the (re)loaded result or the user errors; on any error nothing is
    written. A race on the same idempotency key (PostgreSQL) is settled by the
    primary key: the loser retries once and replays the winner's result.
    """
    ctx = info.context
    for attempt in range(2):
        try:
            async with ctx.db.write_session() as session, session.begin():
                if idempotency_key is not None:
                    record = await idempotency.replay(
                        session=session,
                        scope=ctx.scope,
                        key=idempotency_key,
                        operation=operation,
                    )
                    if record is not None:
                        found = await load(session, record.result_id) if record.result_id else None
                        return found, []
                result = await command(session)
                if idempotency_key is not None:
                    idempotency.remember(
                        session=session,
                        scope=ctx.scope,
                        key=idempotency_key,
                        operation=operation,
                        result_id=result.id,
                        now=ctx.now,
                    )
                    await session.flush()
                return await load(session, result.id), []
        except DomainErrors as errors:
            return None, [UserError.from_domain(e) for e in errors.errors]
        except DomainError as error:
            return None, [UserError.from_domain(error)]
        except IntegrityError:
            if attempt == 1 or idempotency_key is None:
                raise
    raise AssertionError("unreachable")


async def _load_supplier(session: AsyncSession, id_: str) -> Supplier | None:
    from db import models

    row = await session.get(models.Supplier, id_)
    return Supplier.from_row(row) if row is not None else None


async def _load_client(session: AsyncSession, id_: str) -> Client | None:
    from db import models

    row = await session.get(models.Client, id_)
    return Client.from_row(row) if row is not None else None


async def _load_order(session: AsyncSession, id_: str) -> Order | None:
    from db import models

    row = await session.get(models.Order, id_)
    return Order.from_row(row) if row is not None else None


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Add a supplier to the organisation.")
    async def create_supplier(self, info: Info, input: CreateSupplierInput) -> SupplierPayload:
        ctx = info.context
        supplier, errors = await run_command(
            info,
            operation="createSupplier",
            idempotency_key=input.idempotency_key,
            command=lambda s: commands.create_supplier(
                session=s,
                scope=ctx.scope,
                now=ctx.now,
                name=input.name,
                contact_email=input.contact_email,
            ),
            load=_load_supplier,
        )
        return SupplierPayload(supplier=supplier, user_errors=errors)

    @strawberry.mutation(description="Add a client (the buyer's own customer).")
    async def create_client(self, info: Info, input: CreateClientInput) -> ClientPayload:
        ctx = info.context
        client, errors = await run_command(
            info,
            operation="createClient",
            idempotency_key=input.idempotency_key,
            command=lambda s: commands.create_client(
                session=s, scope=ctx.scope, now=ctx.now, name=input.name
            ),
            load=_load_client,
        )
        return ClientPayload(client=client, user_errors=errors)

    @strawberry.mutation(description="Issue a purchase order to a supplier (stage ISSUED).")
    async def issue_order(self, info: Info, input: IssueOrderInput) -> OrderPayload:
        ctx = info.context
        data = commands.IssueOrderInput(
            supplier_id=str(input.supplier_id),
            client_id=str(input.client_id) if input.client_id is not None else None,
            need_by=input.need_by,
            currency=input.currency,
            client_reference=input.client_reference,
            terms=input.terms,
            lead_time_days=input.lead_time_days,
            internal_note=input.internal_note,
            lines=[
                commands.LineInput(
                    part_number=line.part_number,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    description=line.description,
                )
                for line in input.lines
            ],
        )
        order, errors = await run_command(
            info,
            operation="issueOrder",
            idempotency_key=input.idempotency_key,
            command=lambda s: commands.issue_order(
                session=s, scope=ctx.scope, now=ctx.now, data=data
            ),
            load=_load_order,
        )
        return OrderPayload(order=order, user_errors=errors)
