"""Mutation root: typed payloads with ``userErrors``; one transaction per mutation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import strawberry
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from db import commands, idempotency, models, queries
from db import order_commands as oc
from db.alerts import Thresholds
from db.errors import DomainError, DomainErrors
from db.errors import ErrorCode as DbErrorCode
from db.events import new_events
from db.models import ShipmentMethod as DbShipmentMethod
from db.scope import Scope
from schema.alerts import AlertThresholds
from schema.context import Info
from schema.types import Client, Invoice, Order, ShipmentMethod, Supplier

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


@strawberry.type
class InvoicePayload:
    invoice: Invoice | None
    user_errors: list[UserError]


@strawberry.type(description="How far an invoice may stray from the order and still match.")
class MatchingTolerances:
    price_tolerance_percent: Decimal
    quantity_tolerance: int


@strawberry.type
class MatchingTolerancesPayload:
    tolerances: MatchingTolerances | None
    user_errors: list[UserError]


@strawberry.input(description="A quantity of one order line.")
class LineQuantityInput:
    line_no: int
    quantity: int


@strawberry.input
class InvoiceLineInput:
    line_no: int
    quantity: int
    unit_price: Decimal


@strawberry.input
class CancelOrderInput:
    order_id: strawberry.ID
    reason: str
    expected_version: int | None = None
    idempotency_key: str | None = None


@strawberry.input
class ReceiveDeliveryInput:
    order_id: strawberry.ID
    lines: list[LineQuantityInput]
    note: str | None = None
    expected_version: int | None = None
    idempotency_key: str | None = None


@strawberry.input
class SetMatchingTolerancesInput:
    price_tolerance_percent: Decimal | None = None
    quantity_tolerance: int | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="Accepted for uniformity; setting values is idempotent."
    )


@strawberry.input
class AlertThresholdsInput:
    acknowledge_within_hours: float | None = None
    start_production_within_hours: float | None = None
    deliver_within_hours: float | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="Accepted for uniformity; setting values is idempotent."
    )


@strawberry.type
class AlertThresholdsPayload:
    thresholds: AlertThresholds | None
    user_errors: list[UserError]


@strawberry.input
class AcknowledgeOrderInput:
    order_id: strawberry.ID
    promised_date: date
    note: str | None = None
    expected_version: int | None = None
    idempotency_key: str | None = None


@strawberry.input
class DeclineOrderInput:
    order_id: strawberry.ID
    reason: str
    expected_version: int | None = None
    idempotency_key: str | None = None


@strawberry.input
class OrderActionInput:
    order_id: strawberry.ID
    note: str | None = None
    expected_version: int | None = None
    idempotency_key: str | None = None


@strawberry.input
class UpdatePromisedDateInput:
    order_id: strawberry.ID
    promised_date: date
    reason: str
    expected_version: int | None = None
    idempotency_key: str | None = None


@strawberry.input
class AddMilestoneInput:
    order_id: strawberry.ID
    note: str
    expected_version: int | None = None
    idempotency_key: str | None = None


@strawberry.input
class DispatchOrderInput:
    order_id: strawberry.ID
    method: ShipmentMethod  # type: ignore[valid-type]
    carrier: str | None = None
    tracking_reference: str | None = None
    tracking_url: str | None = None
    lines: list[LineQuantityInput] | None = strawberry.field(
        default=None, description="Lines and quantities shipped; omitted: all that remains."
    )
    expected_version: int | None = None
    idempotency_key: str | None = None


@strawberry.input
class SubmitInvoiceInput:
    order_id: strawberry.ID
    number: str
    lines: list[InvoiceLineInput]
    expected_version: int | None = None
    idempotency_key: str | None = None


def _quantities(lines: list[LineQuantityInput] | None) -> list[oc.LineQuantity] | None:
    if lines is None:
        return None
    return [oc.LineQuantity(line_no=ln.line_no, quantity=ln.quantity) for ln in lines]


async def _settings_command(
    info: Info, command: Callable[[AsyncSession], Awaitable[models.AlertThresholds]]
) -> tuple[models.AlertThresholds | None, list[UserError]]:
    """Org settings change: one transaction; naturally idempotent, so no key record."""
    info.context.refresh_loaders()
    try:
        async with info.context.db.write_session() as session, session.begin():
            return await command(session), []
    except DomainErrors as errors:
        return None, [UserError.from_domain(e) for e in errors.errors]


async def _order_mutation(
    info: Info,
    operation: str,
    input: Any,
    command: Callable[..., Awaitable[models.Order]],
    **fields: Any,
) -> OrderPayload:
    """A lifecycle command on ``input.orderId`` with the fields every one of them takes."""
    c = info.context
    order, errors = await run_command(
        info,
        # The key stands for this operation on this order: reusing it elsewhere is refused.
        operation=f"{operation}:{input.order_id}"[:60],
        idempotency_key=input.idempotency_key,
        command=lambda s: command(
            session=s,
            scope=c.scope,
            now=c.now,
            order_id=str(input.order_id),
            expected_version=input.expected_version,
            **fields,
        ),
        load=_load_order,
    )
    return OrderPayload(order=order, user_errors=errors)


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
    load: Callable[[AsyncSession, Scope, str], Awaitable[T | None]],
) -> tuple[T | None, list[UserError]]:
    """Run ``command`` in one write transaction, with idempotent replay.

    Returns the (re)loaded result or the user errors; on any error nothing is
    written. A lost compare-and-set on the order's version is a CONFLICT. A race
    on a unique key (PostgreSQL) is settled by the constraint: the loser retries
    once and then replays the winner's result or reports the duplicate. Results
    are reloaded through the caller's scope, like any query.
    """
    ctx = info.context
    # Serial mutations in one document must not read the previous one's cached rows.
    ctx.refresh_loaders()
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
                        found = (
                            await load(session, ctx.scope, record.result_id)
                            if record.result_id
                            else None
                        )
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
                loaded = await load(session, ctx.scope, result.id)
            # Committed: now subscribers may hear of it.
            ctx.bus.publish(ctx.scope.org, new_events(session))
            return loaded, []
        except DomainErrors as errors:
            return None, [UserError.from_domain(e) for e in errors.errors]
        except DomainError as error:
            return None, [UserError.from_domain(error)]
        except StaleDataError:
            return None, [
                UserError(
                    code=DbErrorCode.CONFLICT,
                    message="the order was changed at the same time; reload it and try again",
                    field=["input", "orderId"],
                )
            ]
        except IntegrityError:
            # A race lost to a concurrent writer (same idempotency key, same invoice
            # number): run once more, and the checks now see the winner's rows.
            if attempt == 1:
                raise
    raise AssertionError("unreachable")


async def _load_invoice(session: AsyncSession, scope: Scope, id_: str) -> Invoice | None:
    row = (await queries.invoices_by_ids(session=session, scope=scope, ids=[id_])).get(id_)
    return Invoice.from_row(row) if row is not None else None


async def _load_supplier(session: AsyncSession, scope: Scope, id_: str) -> Supplier | None:
    row = (await queries.suppliers_by_ids(session=session, scope=scope, ids=[id_])).get(id_)
    return Supplier.from_row(row) if row is not None else None


async def _load_client(session: AsyncSession, scope: Scope, id_: str) -> Client | None:
    row = (await queries.clients_by_ids(session=session, scope=scope, ids=[id_])).get(id_)
    return Client.from_row(row) if row is not None else None


async def _load_order(session: AsyncSession, scope: Scope, id_: str) -> Order | None:
    row = (await queries.orders_by_ids(session=session, scope=scope, ids=[id_])).get(id_)
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

    # --- buyer lifecycle ---

    @strawberry.mutation(description="Cancel an order before dispatch (reason required).")
    async def cancel_order(self, info: Info, input: CancelOrderInput) -> OrderPayload:
        return await _order_mutation(
            info,
            "cancelOrder",
            input,
            oc.cancel,
            reason=input.reason,
        )

    @strawberry.mutation(description="Check goods in against the order, per line.")
    async def receive_delivery(self, info: Info, input: ReceiveDeliveryInput) -> OrderPayload:
        return await _order_mutation(
            info,
            "receiveDelivery",
            input,
            oc.receive,
            lines=_quantities(input.lines) or [],
            note=input.note,
        )

    @strawberry.mutation(description="Price and quantity tolerance for invoice matching.")
    async def set_matching_tolerances(
        self, info: Info, input: SetMatchingTolerancesInput
    ) -> MatchingTolerancesPayload:
        c = info.context
        row, errors = await _settings_command(
            info,
            lambda s: oc.set_tolerances(
                session=s,
                scope=c.scope,
                now=c.now,
                price_tolerance_percent=input.price_tolerance_percent,
                quantity_tolerance=input.quantity_tolerance,
            ),
        )
        tolerances = (
            MatchingTolerances(
                price_tolerance_percent=row.price_tolerance_percent,
                quantity_tolerance=row.quantity_tolerance,
            )
            if row is not None
            else None
        )
        return MatchingTolerancesPayload(tolerances=tolerances, user_errors=errors)

    @strawberry.mutation(description="Alert thresholds in hours; omitted ones keep their value.")
    async def set_alert_thresholds(
        self, info: Info, input: AlertThresholdsInput
    ) -> AlertThresholdsPayload:
        c = info.context
        row, errors = await _settings_command(
            info,
            lambda s: oc.set_alert_thresholds(
                session=s,
                scope=c.scope,
                now=c.now,
                values={
                    "acknowledge_within_hours": input.acknowledge_within_hours,
                    "start_production_within_hours": input.start_production_within_hours,
                    "deliver_within_hours": input.deliver_within_hours,
                },
            ),
        )
        return AlertThresholdsPayload(
            thresholds=AlertThresholds.of(Thresholds.of(row)) if row is not None else None,
            user_errors=errors,
        )

    # --- supplier lifecycle ---

    @strawberry.mutation(description="Confirm the PO and commit to a date (ISSUED → ACKNOWLEDGED).")
    async def acknowledge_order(self, info: Info, input: AcknowledgeOrderInput) -> OrderPayload:
        return await _order_mutation(
            info,
            "acknowledgeOrder",
            input,
            oc.acknowledge,
            promised_date=input.promised_date,
            note=input.note,
        )

    @strawberry.mutation(description="Turn the PO down (reason required).")
    async def decline_order(self, info: Info, input: DeclineOrderInput) -> OrderPayload:
        return await _order_mutation(
            info,
            "declineOrder",
            input,
            oc.decline,
            reason=input.reason,
        )

    @strawberry.mutation(description="Production has started (ACKNOWLEDGED → IN_PRODUCTION).")
    async def start_production(self, info: Info, input: OrderActionInput) -> OrderPayload:
        return await _order_mutation(
            info,
            "startProduction",
            input,
            oc.start_production,
            note=input.note,
        )

    @strawberry.mutation(description="Move the promised date (reason required): a heartbeat.")
    async def update_promised_date(
        self, info: Info, input: UpdatePromisedDateInput
    ) -> OrderPayload:
        return await _order_mutation(
            info,
            "updatePromisedDate",
            input,
            oc.update_promised_date,
            promised_date=input.promised_date,
            reason=input.reason,
        )

    @strawberry.mutation(description='Record progress, e.g. "material ordered".')
    async def add_milestone(self, info: Info, input: AddMilestoneInput) -> OrderPayload:
        return await _order_mutation(
            info,
            "addMilestone",
            input,
            oc.add_milestone,
            note=input.note,
        )

    @strawberry.mutation(description="Ship all that remains, or the given lines (partial).")
    async def dispatch_order(self, info: Info, input: DispatchOrderInput) -> OrderPayload:
        return await _order_mutation(
            info,
            "dispatchOrder",
            input,
            oc.dispatch,
            method=DbShipmentMethod(input.method),
            carrier=input.carrier,
            tracking_reference=input.tracking_reference,
            tracking_url=input.tracking_url,
            lines=_quantities(input.lines),
        )

    @strawberry.mutation(description="Invoice the order (from DISPATCHED on).")
    async def submit_invoice(self, info: Info, input: SubmitInvoiceInput) -> InvoicePayload:
        c = info.context
        lines = [
            oc.InvoiceLineInput(line_no=ln.line_no, quantity=ln.quantity, unit_price=ln.unit_price)
            for ln in input.lines
        ]
        invoice, errors = await run_command(
            info,
            operation=f"submitInvoice:{input.order_id}"[:60],
            idempotency_key=input.idempotency_key,
            command=lambda s: oc.submit_invoice(
                session=s,
                scope=c.scope,
                now=c.now,
                order_id=str(input.order_id),
                number=input.number,
                lines=lines,
                expected_version=input.expected_version,
            ),
            load=_load_invoice,
        )
        return InvoicePayload(invoice=invoice, user_errors=errors)
