"""``handoff demo``: a demo org, who each token is, GraphiQL links, and a walkthrough.

Everything printed is computed now: real ids from the database and dates relative to
today, so the examples never expire. The walkthrough is a shell script (curl, sed,
grep) that takes one order from PO to invoice as the three parties would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.graphiql import graphiql_link
from db.engine import Database
from db.models import Client, Order, Supplier
from db.seed import seed


@dataclass(frozen=True)
class Party:
    id: str
    name: str


@dataclass(frozen=True)
class DemoOrg:
    org: str
    supplier: Party | None
    client: Party | None
    orders: int
    seeded: bool


async def _first_by_name(s: AsyncSession, party: type[Supplier | Client], org: str) -> Any:
    """The org's alphabetically first supplier or client as (id, name), or None."""
    stmt = select(party.id, party.name).where(party.org == org).order_by(party.name).limit(1)
    return (await s.execute(stmt)).first()


async def demo_org(db: Database, *, org: str, orders: int, now: datetime) -> DemoOrg:
    """The demo org, seeded first if it has no suppliers yet; its first supplier and
    client by name are the ones the demo tokens stand for."""
    async with db.read_session() as s:
        has_suppliers = await s.scalar(select(func.count()).where(Supplier.org == org))
    if not has_suppliers:
        await seed(db=db, org=org, orders=orders, suppliers=5, clients=4, seed=42, now=now)
    async with db.read_session() as s:
        supplier = await _first_by_name(s, Supplier, org)
        client = await _first_by_name(s, Client, org)
        count = await s.scalar(select(func.count()).where(Order.org == org)) or 0
    return DemoOrg(
        org=org,
        supplier=Party(*supplier) if supplier else None,
        client=Party(*client) if client else None,
        orders=count,
        seeded=not has_suppliers,
    )


WALKTHROUGH_BEGIN = "# ---- walkthrough: paste into bash or zsh while `handoff serve` runs ----"
WALKTHROUGH_END = "# ---- end of walkthrough ----"

ORDER = "order { stage version } userErrors { code message field }"
PARTIES = (
    "query Parties { suppliers(first: 10) { edges { node { id name } } } "
    "clients(first: 10) { edges { node { id name } } } }"
)
ISSUE = (
    "mutation Issue($input: IssueOrderInput!) { issueOrder(input: $input) "
    "{ order { id number stage version needBy } userErrors { code message field } } }"
)
STEPS: list[tuple[str, str, str, dict[str, Any]]] = [
    # (comment, token variable, document, variables); ORDER_ID is filled in by `gql`.
    (
        "The supplier acknowledges with a promised date (expectedVersion: a stale write "
        "is a CONFLICT)",
        "SUPPLIER",
        "mutation Acknowledge($input: AcknowledgeOrderInput!) { acknowledgeOrder(input: $input) "
        "{ order { stage version promisedDate } userErrors { code message field } } }",
        {"input": {"orderId": "ORDER_ID", "promisedDate": "PROMISED", "expectedVersion": 1}},
    ),
    (
        "... starts production",
        "SUPPLIER",
        "mutation Start($input: OrderActionInput!) { startProduction(input: $input) { "
        + ORDER
        + " } }",
        {"input": {"orderId": "ORDER_ID"}},
    ),
    (
        "... reports a milestone",
        "SUPPLIER",
        "mutation Milestone($input: AddMilestoneInput!) { addMilestone(input: $input) { "
        + ORDER
        + " } }",
        {"input": {"orderId": "ORDER_ID", "note": "material ordered"}},
    ),
    (
        "... moves the date (a reason is required; the buyer sees a PROMISE_SLIPPED alert)",
        "SUPPLIER",
        "mutation Move($input: UpdatePromisedDateInput!) { updatePromisedDate(input: $input) "
        "{ order { promisedDate alerts { kind message } } userErrors { code message field } } }",
        {"input": {"orderId": "ORDER_ID", "promisedDate": "MOVED", "reason": "late steel"}},
    ),
    (
        "... ships line 1 by courier (the same idempotencyKey again ships nothing twice)",
        "SUPPLIER",
        "mutation Ship($input: DispatchOrderInput!) { dispatchOrder(input: $input) { order { stage "
        "shipments { carrier trackingReference lines { lineNo quantity } } } "
        "userErrors { code message field } } }",
        {
            "input": {
                "orderId": "ORDER_ID",
                "method": "COURIER",
                "carrier": "DHL",
                "trackingReference": "JD0146",
                "trackingUrl": "https://track.example/JD0146",
                "lines": [{"lineNo": 1, "quantity": 50}],
                "idempotencyKey": "ship-1-ORDER_ID",
            }
        },
    ),
    (
        "... and the rest with its own driver",
        "SUPPLIER",
        "mutation Ship($input: DispatchOrderInput!) { dispatchOrder(input: $input) { order { stage "
        "lines { lineNo quantity dispatchedQuantity } } userErrors { code message field } } }",
        {
            "input": {
                "orderId": "ORDER_ID",
                "method": "OWN_DRIVER",
                "idempotencyKey": "ship-2-ORDER_ID",
            }
        },
    ),
    (
        "The client follows its order: no supplier, no prices (no carrier for its own driver)",
        "CLIENT",
        "query Track($id: ID!) { order(id: $id) { number stage needBy promisedDate outlook "
        "shipments { method carrier trackingReference trackingUrl } "
        "lines { partNumber quantity dispatchedQuantity receivedQuantity } } }",
        {"id": "ORDER_ID"},
    ),
    (
        "The buyer checks the goods in: the last receipt makes the order DELIVERED",
        "BUYER",
        "mutation Receive($input: ReceiveDeliveryInput!) { receiveDelivery(input: $input) { "
        "order { stage deliveredAt lines { lineNo receivedQuantity } } "
        "userErrors { code message field } } }",
        {
            "input": {
                "orderId": "ORDER_ID",
                "lines": [{"lineNo": 1, "quantity": 50}, {"lineNo": 2, "quantity": 200}],
                "note": "all good",
            }
        },
    ),
    (
        "The supplier invoices; the match is three-way (ordered, received, invoiced)",
        "SUPPLIER",
        "mutation Invoice($input: SubmitInvoiceInput!) { submitInvoice(input: $input) { invoice "
        "{ number total match discrepancies } userErrors { code message field } } }",
        {
            "input": {
                "orderId": "ORDER_ID",
                "number": "INV-ORDER_ID",
                "lines": [
                    {"lineNo": 1, "quantity": 50, "unitPrice": "12.50"},
                    {"lineNo": 2, "quantity": 200, "unitPrice": "0.0125"},
                ],
            }
        },
    ),
    (
        "The buyer's view of the whole story",
        "BUYER",
        "query Story($id: ID!) { order(id: $id) { number stage total match "
        "events { kind stage actorRole at note } } }",
        {"id": "ORDER_ID"},
    ),
]


def _body(document: str, variables: dict[str, Any], dates: dict[str, str]) -> str:
    text = json.dumps({"query": document, "variables": variables})
    for name, value in dates.items():
        text = text.replace(f'"{name}"', f'"{value}"')
    return text


def _step(comment: str, who: str, body: str) -> list[str]:
    return ["", f"# {comment}", f"gql \"${who}\" <<'JSON'", body, "JSON"]


def walkthrough(
    *, url: str, tokens: dict[str, str], supplier: Party, client: Party | None, today: date
) -> str:
    """A shell script: the buyer issues a PO, the supplier takes it to the door, the
    client watches, the buyer receives, the supplier invoices."""
    dates = {
        "NEED_BY": (today + timedelta(days=28)).isoformat(),
        "PROMISED": (today + timedelta(days=21)).isoformat(),
        "MOVED": (today + timedelta(days=25)).isoformat(),
    }
    issue: dict[str, Any] = {
        "supplierId": supplier.id,
        "needBy": "NEED_BY",
        "currency": "EUR",
        "lines": [
            {"partNumber": "BRKT-1001", "quantity": 50, "unitPrice": "12.50"},
            {"partNumber": "PIN-2002", "quantity": 200, "unitPrice": "0.0125"},
        ],
    }
    if client is not None:
        issue |= {"clientId": client.id, "clientReference": "DEMO-1"}
    lines = [
        WALKTHROUGH_BEGIN,
        f"HANDOFF={url}",
        *(f"{role.upper()}='Authorization: Bearer {token}'" for role, token in tokens.items()),
        'gql() { sed "s/ORDER_ID/${ORDER:-}/g" | curl -s "$HANDOFF" -H "$1" '
        "-H 'Content-Type: application/json' --data-binary @-; echo; }",
        *_step(
            "The buyer's suppliers and clients, with the ids that tokens and orders use",
            "BUYER",
            _body(PARTIES, {}, dates),
        ),
        "",
        f"# The buyer issues a PO to {supplier.name}"
        + (f" for {client.name}" if client else "")
        + f", needed by {dates['NEED_BY']}; keep its id",
        "PO=$(gql \"$BUYER\" <<'JSON'",
        _body(ISSUE, {"input": issue}, dates),
        "JSON",
        '); echo "$PO"',
        "ORDER=$(echo \"$PO\" | grep -o 'ord_[a-z2-7]*' | head -n 1)",
    ]
    for comment, who, document, variables in STEPS:
        if who.lower() in tokens:
            lines += _step(comment, who, _body(document, variables, dates))
    lines.append(WALKTHROUGH_END)
    return "\n".join(lines)


ROLE_SCOPE = {
    "buyer": "sees everything in the org",
    "client": "its own orders, never the supplier or a price",
    "supplier": "its own jobs, never the end client",
}


def summary(
    *,
    world: DemoOrg,
    base_url: str,
    tokens: dict[str, str],
    ttl_hours: float,
    graphiql: bool,
    today: date,
) -> str:
    """What ``handoff demo`` prints: who each token is, GraphiQL links, headers, and
    the walkthrough."""
    who = {
        "buyer": f"the procurement team of org {world.org!r}",
        "client": f"{world.client.name} ({world.client.id})" if world.client else "",
        "supplier": f"{world.supplier.name} ({world.supplier.id})" if world.supplier else "",
    }
    seeded = "seeded just now" if world.seeded else "already there"
    out = [
        "",
        f"Demo org {world.org!r}: {world.orders} orders ({seeded}). The tokens below last "
        f"{ttl_hours:g} h; run `.venv/bin/handoff demo` for fresh ones.",
        "",
        "Who each token is:",
        *(f"  {role:<9} {who[role]}: {ROLE_SCOPE[role]}" for role in tokens),
        "  (list suppliers and clients with their ids: the first query of the walkthrough)",
        "",
    ]
    if graphiql:
        out += [
            "GraphiQL with the Authorization header filled in (development only), per role:",
            *(f"  {role:<9} {graphiql_link(base_url, token)}" for role, token in tokens.items()),
            "",
        ]
    out += [
        "Headers for curl or any other client:",
        *(f"{role:>8}: Authorization: Bearer {token}" for role, token in tokens.items()),
        "",
    ]
    if world.supplier is not None:
        out += [
            walkthrough(
                url=f"{base_url}/graphql",
                tokens=tokens,
                supplier=world.supplier,
                client=world.client,
                today=today,
            ),
            "",
        ]
    return "\n".join(out)
