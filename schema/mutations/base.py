"""The adapter every mutation shares: run a domain command as one unit of work, turn
domain errors into ``userErrors``, and reload the result through the caller's scope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.commands.context import Call, OrderRef
from db.commands.lines import LineChange, LineQuantity
from db.unit_of_work import Committed, HasId, run_command, run_settings
from schema import relations
from schema.context import Info
from schema.mutations.inputs import LineChangeInput, LineQuantityInput, OrderCommandInput
from schema.mutations.payloads import OrderPayload, UserError
from schema.types.order import Order

T = TypeVar("T")
R = TypeVar("R")


async def command(
    info: Info,
    *,
    operation: str,
    idempotency_key: str | None,
    run: Callable[[Call], Awaitable[HasId]],
    result: relations.Relation,
) -> tuple[Any, list[UserError]]:
    """Run ``run`` as one unit of work, called as the caller, now; its result is looked
    up by id through ``result`` (a by-id relation) in the caller's scope, in the same
    transaction."""
    ctx = info.context
    # Serial mutations in one document must not read the previous one's cached rows.
    ctx.refresh_loaders()
    lookup = result

    async def load(session: AsyncSession, id_: str) -> Any:
        return lookup.value((await lookup.fetch(session, ctx.scope, [id_])).get(id_))

    outcome = await run_command(
        db=ctx.db,
        scope=ctx.scope,
        now=ctx.now,
        operation=operation,
        idempotency_key=idempotency_key,
        command=lambda session: run(Call(session, ctx.scope, ctx.now)),
        load=load,
        on_commit=lambda events: ctx.committed(ctx.scope.org) if events else None,
    )
    if isinstance(outcome, Committed):
        return outcome.value, []
    return None, [UserError.from_domain(e) for e in outcome.errors]


async def order_command(
    info: Info,
    operation: str,
    input: OrderCommandInput,
    run: Callable[..., Awaitable[models.Order]],
    **fields: Any,
) -> OrderPayload:
    """A lifecycle command on ``input.orderId`` with the fields every one of them takes."""
    target = OrderRef(str(input.order_id), input.expected_version)
    order, errors = await command(
        info,
        # The key stands for this operation on this order: reusing it elsewhere is refused.
        operation=f"{operation}:{input.order_id}"[:60],
        idempotency_key=input.idempotency_key,
        run=lambda call: run(call, target, **fields),
        result=relations.get("Node", "Order"),
    )
    found: Order | None = order
    return OrderPayload(order=found, user_errors=errors)


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


def quantities(lines: list[LineQuantityInput] | None) -> list[LineQuantity] | None:
    if lines is None:
        return None
    return [LineQuantity(line_no=ln.line_no, quantity=ln.quantity) for ln in lines]


def line_changes(lines: list[LineChangeInput] | None) -> list[LineChange]:
    return [
        LineChange(line_no=ln.line_no, quantity=ln.quantity, unit_price=ln.unit_price)
        for ln in lines or ()
    ]
