"""One order's journey to a client, built through the public mutations, and the
documents the tracking tests send: links made and revoked, shipments reported on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from conftest import GraphQL, make_token
from graphql_support import (
    CREATE_CLIENT,
    CREATE_SUPPLIER,
    line_input,
    mutate,
    order_input,
    payload_mutation,
)

LINK = "trackingLink { id url expiresAt revokedAt createdAt }"
CREATE_LINK = payload_mutation("createTrackingLink", "CreateTrackingLinkInput", LINK)
REVOKE_LINK = payload_mutation("revokeTrackingLink", "RevokeTrackingLinkInput", LINK)
UPDATE_SHIPMENT = payload_mutation(
    "updateShipment",
    "UpdateShipmentInput",
    "order { id version estimatedDelivery shipments { id method status estimatedArrival } "
    "events { kind actorRole note } }",
)
ISSUE = payload_mutation("issueOrder", "IssueOrderInput", "order { id number }")
ACKNOWLEDGE = payload_mutation("acknowledgeOrder", "AcknowledgeOrderInput", "order { id }")
START = payload_mutation("startProduction", "OrderActionInput", "order { id }")
DISPATCH = payload_mutation(
    "dispatchOrder", "DispatchOrderInput", "order { id shipments { id method } }"
)
RECEIVE = payload_mutation("receiveDelivery", "ReceiveDeliveryInput", "order { id stage }")
PROMISED = "2026-03-20"


@dataclass
class Journey:
    """A buyer, its supplier and client, and one order of theirs (two lines)."""

    http: httpx.AsyncClient
    buyer: GraphQL
    supplier: GraphQL
    client: GraphQL
    supplier_id: str
    client_id: str
    order_id: str
    number: str
    shipments: dict[str, str]  # by method: COURIER, OWN_DRIVER

    async def link(self, **more: Any) -> dict[str, Any]:
        """A new tracking link on the order (the payload's trackingLink)."""
        return await mutate(self.buyer, CREATE_LINK, {"orderId": self.order_id, **more})

    async def report(self, method: str, status: str, **more: Any) -> dict[str, Any]:
        """The supplier reports on its shipment sent by ``method``."""
        data = {"shipmentId": self.shipments[method], "status": status, **more}
        return await mutate(self.supplier, UPDATE_SHIPMENT, data)

    async def dispatch(self, method: str, **more: Any) -> None:
        data = {"orderId": self.order_id, "method": method, **more}
        found = await mutate(self.supplier, DISPATCH, data)
        new = [s for s in found["shipments"] if s["id"] not in self.shipments.values()]
        self.shipments[method] = new[0]["id"]


def path_of(url: str) -> str:
    """``/track/<token>`` of a link's URL."""
    return url[url.index("/track/") :]


def token_of(url: str) -> str:
    return path_of(url).removeprefix("/track/")


async def journey(
    http: httpx.AsyncClient,
    *,
    org: str = "org-a",
    stage: str = "IN_PRODUCTION",
    client: bool = True,
    reference: str | None = "CONTOSO-PO-88",
) -> Journey:
    """An order of two lines (5 brackets, 100 pins) taken to ``stage``: ISSUED,
    IN_PRODUCTION or DISPATCHED (brackets by courier, pins by the supplier's van)."""
    buyer = GraphQL(http, make_token("buyer", org=org))
    supplier_id = (await mutate(buyer, CREATE_SUPPLIER, {"name": "Apex Sheet Metal"}))["id"]
    client_id = (await mutate(buyer, CREATE_CLIENT, {"name": "Contoso Robotics"}))["id"]
    lines = [
        line_input("BRKT-1001", 5, "12.50", "Mounting bracket"),
        line_input("PIN-2002", 100, "0.0125"),
    ]
    order = await mutate(
        buyer,
        ISSUE,
        order_input(supplier_id, client_id if client else None, lines, clientReference=reference),
    )
    supplier = GraphQL(http, make_token("supplier", org=org, supplier_id=supplier_id))
    found = Journey(
        http=http,
        buyer=buyer,
        supplier=supplier,
        client=GraphQL(http, make_token("client", org=org, client_id=client_id)),
        supplier_id=supplier_id,
        client_id=client_id,
        order_id=order["id"],
        number=order["number"],
        shipments={},
    )
    if stage == "ISSUED":
        return found
    await mutate(supplier, ACKNOWLEDGE, {"orderId": found.order_id, "promisedDate": PROMISED})
    await mutate(supplier, START, {"orderId": found.order_id})
    if stage == "IN_PRODUCTION":
        return found
    await found.dispatch(
        "COURIER",
        carrier="DHL Express",
        trackingReference="JD014600006281",
        trackingUrl="https://track.example/JD014600006281",
        lines=[{"lineNo": 1, "quantity": 5}],
    )
    await found.dispatch("OWN_DRIVER", carrier="Van 3, Dave")
    assert stage == "DISPATCHED", stage
    return found


async def user_errors(gql: GraphQL, document: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The userErrors of a mutation that must be refused (and nothing else)."""
    body = await gql(document, {"input": data})
    assert "errors" not in body, body
    [payload] = body["data"].values()
    assert [v for k, v in payload.items() if k != "userErrors"] == [None], payload
    errors: list[dict[str, Any]] = payload["userErrors"]
    assert errors, payload
    return errors
