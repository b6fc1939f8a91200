"""GraphQL building blocks shared by the suites' world builders: mutation documents that
ask for ``userErrors``, a must-succeed ``mutate``, and order and line inputs."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLSchema
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from strawberry.schema.config import StrawberryConfig

from conftest import GraphQL
from schema.mutations import Mutation
from schema.query import Query
from schema.scalars import SCALAR_OVERRIDES
from schema.subscription import Subscription

USER_ERRORS = "userErrors { code message field }"

# A month after the fixed clock's date (2026-03-02).
NEED_BY = "2026-04-01"

CREATE_SUPPLIER = f"""
mutation CreateSupplier($input: CreateSupplierInput!) {{
  createSupplier(input: $input) {{ supplier {{ id }} {USER_ERRORS} }}
}}
"""

CREATE_CLIENT = f"""
mutation CreateClient($input: CreateClientInput!) {{
  createClient(input: $input) {{ client {{ id }} {USER_ERRORS} }}
}}
"""


def payload_mutation(name: str, input_type: str, selection: str) -> str:
    """``name(input: $input) { <selection> userErrors {...} }`` as a named operation."""
    return (
        f"mutation {name[0].upper()}{name[1:]}($input: {input_type}!) {{\n"
        f"  {name}(input: $input) {{ {selection} {USER_ERRORS} }}\n}}\n"
    )


# The order's journey, each asking for what the world builders keep (ids, numbers, the
# shipments and receipts a step creates).
ORDER_REF = "order { id number }"
ISSUE_ORDER = payload_mutation("issueOrder", "IssueOrderInput", ORDER_REF)
ACKNOWLEDGE_ORDER = payload_mutation("acknowledgeOrder", "AcknowledgeOrderInput", ORDER_REF)
START_PRODUCTION = payload_mutation("startProduction", "OrderActionInput", ORDER_REF)
UPDATE_PROMISED_DATE = payload_mutation("updatePromisedDate", "UpdatePromisedDateInput", ORDER_REF)
ADD_MILESTONE = payload_mutation("addMilestone", "AddMilestoneInput", ORDER_REF)
DISPATCH_ORDER = payload_mutation(
    "dispatchOrder", "DispatchOrderInput", "order { id shipments { id method } }"
)
RECEIVE_DELIVERY = payload_mutation(
    "receiveDelivery", "ReceiveDeliveryInput", "order { id receipts { id } }"
)
CANCEL_ORDER = payload_mutation("cancelOrder", "CancelOrderInput", ORDER_REF)
PROPOSE_CHANGES = payload_mutation("proposeChanges", "ProposeChangesInput", ORDER_REF)
RESPOND_TO_PROPOSAL = payload_mutation("respondToProposal", "RespondToProposalInput", ORDER_REF)
AMEND_ORDER = payload_mutation("amendOrder", "AmendOrderInput", ORDER_REF)
CLOSE_ORDER = payload_mutation("closeOrder", "CloseOrderInput", ORDER_REF)
UPDATE_SHIPMENT = payload_mutation("updateShipment", "UpdateShipmentInput", ORDER_REF)
CREATE_TRACKING_LINK = payload_mutation(
    "createTrackingLink", "CreateTrackingLinkInput", "trackingLink { id url }"
)
SUBMIT_INVOICE = payload_mutation(
    "submitInvoice", "SubmitInvoiceInput", "invoice { id number total }"
)


async def mutate(gql: GraphQL, document: str, data: dict[str, Any]) -> dict[str, Any]:
    """Run a mutation that must succeed; the payload's object (order, supplier, ...)."""
    body = await gql(document, {"input": data})
    assert "errors" not in body, body
    [payload] = body["data"].values()
    assert payload["userErrors"] == [], payload
    [result] = [v for k, v in payload.items() if k != "userErrors"]
    assert result is not None
    return dict(result)


def line_input(
    part: str, quantity: int, price: str, description: str | None = None
) -> dict[str, Any]:
    return {
        "partNumber": part,
        "quantity": quantity,
        "unitPrice": price,
        "description": description,
    }


def order_input(
    supplier: str, client: str | None, lines: list[dict[str, Any]], **more: Any
) -> dict[str, Any]:
    return {
        "supplierId": supplier,
        "clientId": client,
        "needBy": NEED_BY,
        "currency": "EUR",
        "lines": lines,
        **more,
    }


@cache
def full_schema() -> GraphQLSchema:
    """Every member, unfiltered by role: the universe the policy walks cover. Never served."""
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(auto_camel_case=True),
        scalar_overrides=SCALAR_OVERRIDES,
    )._schema


def generated_documents(
    strategy: st.SearchStrategy[str],
    count: int,
    *,
    suppress: Sequence[HealthCheck] = tuple(HealthCheck),
) -> list[str]:
    """Up to ``count`` documents drawn from ``strategy`` (hypothesis-graphql), the same ones
    every run (derandomized, no example database, generation only)."""
    documents: list[str] = []

    @settings(
        max_examples=count,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(suppress),
    )
    @given(document=strategy)
    def collect(document: str) -> None:
        documents.append(document)

    collect()
    return documents
