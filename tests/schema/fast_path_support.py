"""The fast-path world and the tools its tests share: a small org seeded through the
public mutations (every relation a page prefetches, canaries where a row rule or a
HIDE must bite), selection sets of every field a role's schema offers, and a runner
that executes one document with the role's fast executor or with graphql-core's
ordinary one.

Not ``conftest.py``: pytest imports that file as the module ``conftest``, so helpers in
it could not be imported next to the root conftest's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from graphql import (
    ExecutionResult,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    execute,
    get_named_type,
    is_leaf_type,
    is_required_argument,
    parse,
    validate,
)
from sqlalchemy import func, select
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from conftest import GraphQL, make_token
from db import models
from db.engine import Database
from db.feed import next_positions
from db.ids import new_id
from graphql_support import (
    CREATE_CLIENT,
    CREATE_SUPPLIER,
    USER_ERRORS,
    line_input,
    mutate,
    order_input,
    payload_mutation,
)
from permissions.principal import Principal, Role
from schema.build import RoleSchema, schema_for
from schema.context import make_context
from schema.execute import run

# -- the canaries --------------------------------------------------------------------------

SUPPLIER_NAME = "FASTCANARY-SUPPLIER-3e8d"
SUPPLIER_EMAIL = "fastcanary-3e8d@supplier.example"
SUPPLIER_SUBJECT = "fastcanary-subject-supplier-61a0"
UNIT_PRICE = "24681.37"  # x 3 on the main order
LINE_TOTAL = "74044.11"
SECOND_UNIT_PRICE = "1357.93"  # x 2 on the main order
ORDER_TOTAL = "76759.97"
TERMS = "FASTCANARY-TERMS-0c4e"
INTERNAL_NOTE = "FASTCANARY-INTERNAL-9b17"  # Order.internalNote: the buyer's alone
INTERNAL_EVENT_NOTE = "FASTCANARY-INTERNAL-EVENT-5f02"  # a buyer's note shared with nobody
SUPPLIER_NOTE = "FASTCANARY-SUPNOTE-d7a3"
INVOICE_NUMBER = "FASTCANARY-INV-88e1"
COURIER_CARRIER = "FASTCANARY-COURIER-2b6f"  # a courier's name: a client may see it
OWN_DRIVER_CARRIER = "FASTCANARY-OWNDRIVER-a41c"  # the supplier's own van: never a client's
OWN_DRIVER_REFERENCE = "FASTCANARY-OWNREF-7d90"
OWN_DRIVER_URL = "https://fastcanary-ownvan-c3e5.example/runs/4"
MAIN_PART = "FASTCANARY-PART-5a2b"
CLIENT_NAME = "FASTCANARY-CLIENT-e9f4"
CLIENT_REFERENCE = "FASTCANARY-CREF-1d3c"
CLIENT_SUBJECT = "fastcanary-subject-client-04b8"
BUYER_CANCEL_REASON = "FASTCANARY-CANCEL-buyer-wrote-this-6c1d"  # no visibleTo: the buyer's
OTHER_SUPPLIER_NAME = "FASTCANARY-SUPPLIER-B-97d2"
OTHER_PART = "FASTCANARY-B-PART-40aa"
PROMISED = "2026-03-25"

# What a client must never receive, in any order it can see.
HIDDEN_FROM_CLIENT = {
    "supplier name": SUPPLIER_NAME,
    "supplier email": SUPPLIER_EMAIL,
    "supplier subject": SUPPLIER_SUBJECT,
    "unit price": UNIT_PRICE,
    "line total": LINE_TOTAL,
    "second unit price": SECOND_UNIT_PRICE,
    "order total": ORDER_TOTAL,
    "terms": TERMS,
    "internal note": INTERNAL_NOTE,
    "internal event note": INTERNAL_EVENT_NOTE,
    "cancel reason": BUYER_CANCEL_REASON,
    "supplier note": SUPPLIER_NOTE,
    "invoice number": INVOICE_NUMBER,
    "own driver carrier": OWN_DRIVER_CARRIER,
    "own driver reference": OWN_DRIVER_REFERENCE,
    "own driver url": OWN_DRIVER_URL,
    "other supplier": OTHER_SUPPLIER_NAME,
}

# -- GraphQL documents used to build the world ---------------------------------------------

ISSUE_ORDER = payload_mutation("issueOrder", "IssueOrderInput", "order { id }")
ACKNOWLEDGE_ORDER = payload_mutation("acknowledgeOrder", "AcknowledgeOrderInput", "order { id }")
START_PRODUCTION = payload_mutation("startProduction", "OrderActionInput", "order { id }")
ADD_MILESTONE = payload_mutation("addMilestone", "AddMilestoneInput", "order { id }")
DISPATCH_ORDER = payload_mutation("dispatchOrder", "DispatchOrderInput", "order { id }")
RECEIVE_DELIVERY = payload_mutation("receiveDelivery", "ReceiveDeliveryInput", "order { id }")
CANCEL_ORDER = payload_mutation("cancelOrder", "CancelOrderInput", "order { id }")
SUBMIT_INVOICE = f"""
mutation SubmitInvoice($input: SubmitInvoiceInput!) {{
  submitInvoice(input: $input) {{ invoice {{ id total }} {USER_ERRORS} }}
}}
"""


# -- the world -----------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    """Org A: supplier A (the canary supplier), supplier B, one client. Orders:
    main        A / client  DELIVERED: supplier notes, a COURIER and an OWN_DRIVER
                            shipment, a receipt, an invoice, a buyer-internal event
    cancelled   A / client  CANCELLED by the buyer (a buyer-written note)
    no_client   A / -       ISSUED, never acknowledged (an alert once the clock moves)
    other       B / client  ISSUED: not supplier A's
    """

    supplier_a: str
    supplier_b: str
    client_id: str
    orders: dict[str, str]

    def principal(self, role: Role) -> Principal:
        if role is Role.CLIENT:
            return Principal(role, "org-a", CLIENT_SUBJECT, client_id=self.client_id)
        if role is Role.SUPPLIER:
            return Principal(role, "org-a", SUPPLIER_SUBJECT, supplier_id=self.supplier_a)
        return Principal(role, "org-a", "buyer-user@org-a")

    def caller(self, http: httpx.AsyncClient, role: Role) -> GraphQL:
        p = self.principal(role)
        claims = {"client_id": p.client_id, "supplier_id": p.supplier_id}
        return GraphQL(http, make_token(role.value, subject=p.subject, **claims))

    def visible_orders(self, role: Role) -> set[str]:
        if role is Role.CLIENT:
            return {self.orders[k] for k in ("main", "cancelled", "other")}
        if role is Role.SUPPLIER:
            return {self.orders[k] for k in ("main", "cancelled", "no_client")}
        return set(self.orders.values())


async def seed_world(http: httpx.AsyncClient, db: Database, now: datetime) -> World:
    """About 20 mutations through the API, and one buyer's note event of a kind no
    mutation writes, shared with nobody."""
    buyer = GraphQL(http, make_token("buyer"))
    sa = (
        await mutate(
            buyer, CREATE_SUPPLIER, {"name": SUPPLIER_NAME, "contactEmail": SUPPLIER_EMAIL}
        )
    )["id"]
    sb = (await mutate(buyer, CREATE_SUPPLIER, {"name": OTHER_SUPPLIER_NAME}))["id"]
    client = (await mutate(buyer, CREATE_CLIENT, {"name": CLIENT_NAME}))["id"]
    sup_a = GraphQL(http, make_token("supplier", subject=SUPPLIER_SUBJECT, supplier_id=sa))

    async def issue(data: dict[str, Any]) -> str:
        return str((await mutate(buyer, ISSUE_ORDER, data))["id"])

    orders = {
        "main": await issue(
            order_input(
                sa,
                client,
                [
                    line_input(MAIN_PART, 3, UNIT_PRICE, "Bracket"),
                    line_input(f"{MAIN_PART}-2", 2, SECOND_UNIT_PRICE),
                ],
                clientReference=CLIENT_REFERENCE,
                terms=TERMS,
                leadTimeDays=21,
                internalNote=INTERNAL_NOTE,
            )
        ),
        "cancelled": await issue(order_input(sa, client, [line_input(MAIN_PART, 1, UNIT_PRICE)])),
        "no_client": await issue(
            order_input(sa, None, [line_input(f"{MAIN_PART}-3", 4, SECOND_UNIT_PRICE)], terms=TERMS)
        ),
        "other": await issue(order_input(sb, client, [line_input(OTHER_PART, 1, "10.00")])),
    }
    main = orders["main"]
    await mutate(
        sup_a, ACKNOWLEDGE_ORDER, {"orderId": main, "promisedDate": PROMISED, "note": SUPPLIER_NOTE}
    )
    await mutate(sup_a, START_PRODUCTION, {"orderId": main, "note": SUPPLIER_NOTE})
    await mutate(sup_a, ADD_MILESTONE, {"orderId": main, "note": SUPPLIER_NOTE})
    await mutate(
        sup_a,
        DISPATCH_ORDER,
        {
            "orderId": main,
            "method": "COURIER",
            "carrier": COURIER_CARRIER,
            "trackingReference": "TRK-2002",
            "trackingUrl": "https://track.example/TRK-2002",
            "lines": [{"lineNo": 1, "quantity": 3}],
        },
    )
    await mutate(
        sup_a,
        DISPATCH_ORDER,
        {
            "orderId": main,
            "method": "OWN_DRIVER",
            "carrier": OWN_DRIVER_CARRIER,
            "trackingReference": OWN_DRIVER_REFERENCE,
            "trackingUrl": OWN_DRIVER_URL,
        },
    )
    await mutate(
        buyer,
        RECEIVE_DELIVERY,
        {"orderId": main, "lines": [{"lineNo": 1, "quantity": 3}, {"lineNo": 2, "quantity": 2}]},
    )
    invoice = await mutate(
        sup_a,
        SUBMIT_INVOICE,
        {
            "orderId": main,
            "number": INVOICE_NUMBER,
            "lines": [
                {"lineNo": 1, "quantity": 3, "unitPrice": UNIT_PRICE},
                {"lineNo": 2, "quantity": 2, "unitPrice": SECOND_UNIT_PRICE},
            ],
        },
    )
    assert invoice["total"] == ORDER_TOTAL
    cancelled = orders["cancelled"]
    await mutate(sup_a, ACKNOWLEDGE_ORDER, {"orderId": cancelled, "promisedDate": PROMISED})
    await mutate(buyer, CANCEL_ORDER, {"orderId": cancelled, "reason": BUYER_CANCEL_REASON})
    await _add_internal_event(db, main, now)
    return World(supplier_a=sa, supplier_b=sb, client_id=client, orders=orders)


async def _add_internal_event(db: Database, order_id: str, now: datetime) -> None:
    async with db.write_session() as session, session.begin():
        order = await session.get_one(models.Order, order_id)
        last = await session.scalar(
            select(func.max(models.OrderEvent.seq)).where(models.OrderEvent.order_id == order_id)
        )
        session.add(
            models.OrderEvent(
                id=new_id("evt"),
                org=order.org,
                order_id=order_id,
                seq=(last or 0) + 1,
                at=now,
                stage=order.stage,
                kind="NOTE",
                actor_role="buyer",
                actor_subject="buyer-user@org-a",
                note=INTERNAL_EVENT_NOTE,
                promised_date=None,
                note_audience=frozenset(),
                position=await next_positions(session, order.org),
            )
        )


# -- selection sets ------------------------------------------------------------------------


def every_field(schema: GraphQLSchema, type_name: str, depth: int, page: int = 3) -> str:
    """``{ ... }`` selecting every field of ``type_name`` in ``schema``, inline, down to
    ``depth`` object levels (leaves only at the last). Fields with required arguments
    are left out; connections below take ``first: page``."""
    gql_type = schema.get_type(type_name)
    assert isinstance(gql_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType)
    if isinstance(gql_type, GraphQLUnionType):
        return "{ __typename }"
    parts = ["__typename"]
    for name, field in gql_type.fields.items():
        if any(is_required_argument(a) for a in field.args.values()):
            continue
        named = get_named_type(field.type)
        # Connections take small pages; a bounded list (Order.events) its largest.
        size = page if named.name.endswith("Connection") else 100
        args = f"(first: {size})" if "first" in field.args else ""
        if is_leaf_type(named):
            parts.append(name + args)
        elif depth > 1:
            parts.append(f"{name}{args} {every_field(schema, named.name, depth - 1, page)}")
    return "{ " + " ".join(parts) + " }"


def order_page_document(role: Role, first: int = 50, depth: int = 6) -> str:
    """``orders(first:)`` with every field the role's schema offers below it."""
    schema = schema_for(role)._schema
    return (
        f"query Orders {{ orders(first: {first}) {every_field(schema, 'OrderConnection', depth)} }}"
    )


# -- running a document both ways ----------------------------------------------------------


@dataclass(frozen=True)
class Runner:
    """Executes documents as one role, each run with a fresh request context."""

    db: Database
    now: datetime
    principal: Principal

    @property
    def schema(self) -> RoleSchema:
        return schema_for(self.principal.role)

    def _context(self, request_id: str) -> Any:
        return make_context(
            principal=self.principal, db=self.db, now=self.now, request_id=request_id
        )

    def _document(self, query: str) -> Any:
        document = parse(query)
        assert validate(self.schema._schema, document) == []
        return document

    async def fast(self, query: str, variables: dict[str, Any] | None = None) -> ExecutionResult:
        """The role schema's own executor, exactly as the endpoint runs it."""
        context = self._context("fast")
        return await run(
            self.schema,
            self._document(query),
            context=context,
            variables=variables,
            operation_name=None,
        )

    async def ordinary(
        self, query: str, variables: dict[str, Any] | None = None
    ) -> ExecutionResult:
        """graphql-core's ordinary path: Strawberry's execution context, no plain leaves."""
        result = execute(
            self.schema._schema,
            self._document(query),
            context_value=self._context("ordinary"),
            variable_values=variables,
            executor_class=StrawberryGraphQLCoreExecutionContext,
            hide_suggestions=True,
        )
        if not isinstance(result, ExecutionResult):
            result = await result
        return result


def as_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def leaked(value: Any, canaries: dict[str, str]) -> dict[str, str]:
    """The canaries found in the JSON of ``value``, case-insensitively."""
    text = as_json(value).lower()
    return {name: c for name, c in canaries.items() if c.lower() in text}
