"""The adapter every mutation shares: run a domain command as one unit of work, turn
domain errors into ``userErrors``, and reload the result through the caller's scope.

The command is called with a ``Call`` built here, once (``db.commands.context``); a
lifecycle command also with the ``OrderRef`` its input names, and its own fields taken
from the input by name (``command_fields``), so a mutation says only which command."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.commands import lines, orders
from db.commands.context import Call, OrderRef, Revealed
from db.notes import audience
from db.unit_of_work import Committed, HasId, run_command, run_settings
from schema import relations
from schema.context import Info
from schema.mutations.inputs import (
    InvoiceLineInput,
    IssueOrderInput,
    LineChangeInput,
    LineQuantityInput,
    OrderCommandInput,
    OrderLineInput,
    ReceiptLineInput,
)
from schema.mutations.payloads import OrderPayload, UserError
from schema.types.order import Order

R = TypeVar("R")


async def command(
    info: Info,
    *,
    operation: str,
    idempotency_key: str | None,
    run: Callable[[Call], Awaitable[HasId]],
    result: relations.Relation,
) -> tuple[Any, list[UserError]]:
    """``unit_of_work`` with its result looked up by id through ``result`` (a by-id
    relation) in the caller's scope."""
    value, _, errors = await unit_of_work(
        info,
        operation=operation,
        idempotency_key=idempotency_key,
        run=run,
        load=by_id(info, result),
    )
    return value, errors


async def unit_of_work(
    info: Info,
    *,
    operation: str,
    idempotency_key: str | None,
    run: Callable[[Call], Awaitable[HasId]],
    load: Callable[[AsyncSession, str], Awaitable[Any]],
) -> tuple[Any, str | None, list[UserError]]:
    """Run ``run`` as one unit of work, called as the caller, now; ``load`` its result by
    id in the same transaction. Returns that, the secret a ``Revealed`` result carries
    (never on a replay: a secret is shown once), and the ``userErrors``."""
    ctx = info.context
    # Serial mutations in one document must not read the previous one's cached rows.
    ctx.refresh_loaders()
    made: list[str] = []

    async def attempt(session: AsyncSession) -> HasId:
        done = await run(Call(session, ctx.scope, ctx.now))
        if isinstance(done, Revealed):
            made.append(done.secret)
        return done

    outcome = await run_command(
        db=ctx.db,
        scope=ctx.scope,
        now=ctx.now,
        operation=operation,
        idempotency_key=idempotency_key,
        command=attempt,
        load=load,
        on_commit=lambda events: ctx.committed(ctx.scope.org) if events else None,
    )
    if isinstance(outcome, Committed):
        secret = made[-1] if made and not outcome.replayed else None
        return outcome.value, secret, []
    return None, None, [UserError.from_domain(e) for e in outcome.errors]


def by_id(
    info: Info, relation: relations.Relation
) -> Callable[[AsyncSession, str], Awaitable[Any]]:
    """Look one result up through ``relation`` (a by-id relation) in the caller's scope."""

    async def load(session: AsyncSession, id_: str) -> Any:
        found = await relation.fetch(session, info.context.scope, [id_])
        return relation.value(found.get(id_))

    return load


def order_mutation(run: Callable[..., Awaitable[models.Order]], input_type: type) -> Any:
    """A lifecycle mutation: ``input_type`` in, ``OrderPayload`` (the order) out, ``run``
    the domain command (``on_order``); the operation is the mutation's GraphQL name, its
    description is in ``schema.descriptions`` (``Mutation.<name>``)."""

    async def resolve(self: Any, info: Info, input: OrderCommandInput) -> OrderPayload:
        result = relations.get("Node", "Order")
        order, errors = await on_order(info, info.field_name, input, run, result)
        found: Order | None = order
        return OrderPayload(order=found, user_errors=errors)

    # Strawberry reads the argument's GraphQL type from the annotation.
    resolve.__annotations__ = {"info": Info, "input": input_type, "return": OrderPayload}
    return strawberry.mutation(resolver=resolve)


async def on_order(
    info: Info,
    operation: str,
    input: OrderCommandInput,
    run: Callable[..., Awaitable[HasId]],
    result: relations.Relation,
) -> tuple[Any, list[UserError]]:
    """``run(call, OrderRef(orderId, expectedVersion), **command_fields(input))``: every
    order command takes the same three fields, then its own (``command_fields``)."""
    target = OrderRef(str(input.order_id), input.expected_version)
    fields = command_fields(input)
    return await command(
        info,
        # The key stands for this operation on this order: reusing it elsewhere is refused.
        operation=f"{operation}:{input.order_id}"[:60],
        idempotency_key=input.idempotency_key,
        run=lambda call: run(call, target, **fields),
        result=result,
    )


async def settings_command(
    info: Info, run: Callable[[Call], Awaitable[R]]
) -> tuple[R | None, list[UserError]]:
    """An org settings change (naturally idempotent: no key record)."""
    ctx = info.context
    ctx.refresh_loaders()
    outcome = await run_settings(
        db=ctx.db, command=lambda session: run(Call(session, ctx.scope, ctx.now))
    )
    if isinstance(outcome, Committed):
        return outcome.value, []
    return None, [UserError.from_domain(e) for e in outcome.errors]


# Each input of the API that stands for a domain value, and that value, field for field.
DOMAIN_VALUES: dict[type, type] = {
    IssueOrderInput: orders.IssueOrderInput,
    LineQuantityInput: lines.LineQuantity,
    LineChangeInput: lines.LineChange,
    InvoiceLineInput: lines.InvoiceLineInput,
    ReceiptLineInput: lines.ReceiptLineInput,
    OrderLineInput: lines.LineInput,
}
ORDER_FIELDS = frozenset(f.name for f in dataclasses.fields(OrderCommandInput))


def command_fields(input: Any) -> dict[str, Any]:
    """A command's keyword arguments from its input, by the same names: every field but
    the three all order commands take (``OrderCommandInput``); ``visible_to`` as the
    note's ``audience``; inputs of domain values as those (``DOMAIN_VALUES``). A field
    left out (null) is left out of the call: the command's default says what that
    means."""
    fields: dict[str, Any] = {}
    for field in dataclasses.fields(input):
        value = getattr(input, field.name)
        if field.name in ORDER_FIELDS or value is None:
            continue
        if field.name == "visible_to":
            fields["audience"] = audience(value)
        else:
            fields[field.name] = domain_value(value)
    return fields


def domain_value(value: Any) -> Any:
    """An input value as the domain takes it: inputs of domain values (and lists of them)
    converted by ``DOMAIN_VALUES``, anything else as it is."""
    if isinstance(value, list):
        return [domain_value(item) for item in value]
    kind = DOMAIN_VALUES.get(type(value))
    if kind is None:
        return value
    return kind(**{f.name: domain_value(getattr(value, f.name)) for f in dataclasses.fields(kind)})
