"""Every party registers endpoints for itself only: another party's endpoint (the
buyer's, another supplier's, another org's) is as absent as an unknown id — not
listed, null by node(id:), NOT_FOUND to delete, rotate or redeliver. A client cannot
subscribe to alerts (its schema has no alertRaised). The secret is shown once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from webhook_support import (
    CREATE_ENDPOINT,
    DELETE_ENDPOINT,
    NODE,
    REDELIVER,
    ROTATE_SECRET,
    create_endpoint,
    deliveries,
    receiving,
    settings,
    worker,
)

from conftest import FixedClock, GraphQL
from db.engine import Database
from graphql_support import CREATE_CLIENT, CREATE_SUPPLIER, mutate
from permissions.principal import Role
from schema.build import schema_for

__all__ = ["settings"]

URL = "https://hooks.example.com/handoff"
ISSUE = """
mutation Issue($input: IssueOrderInput!) {
  issueOrder(input: $input) { order { id } userErrors { code message field } }
}
"""


@pytest.fixture
async def parties(buyer: GraphQL, as_role: Callable[..., GraphQL]) -> dict[str, GraphQL]:
    supplier_a = (await mutate(buyer, CREATE_SUPPLIER, {"name": "A"}))["id"]
    supplier_b = (await mutate(buyer, CREATE_SUPPLIER, {"name": "B"}))["id"]
    client_a = (await mutate(buyer, CREATE_CLIENT, {"name": "CA"}))["id"]
    client_b = (await mutate(buyer, CREATE_CLIENT, {"name": "CB"}))["id"]
    return {
        "buyer": buyer,
        "supplier A": as_role("supplier", supplier_id=supplier_a),
        "supplier B": as_role("supplier", supplier_id=supplier_b),
        "client A": as_role("client", client_id=client_a),
        "client B": as_role("client", client_id=client_b),
        "buyer of org B": as_role("buyer", org="org-b"),
        "supplier_a": supplier_a,  # type: ignore[dict-item]
    }


def _errors(body: dict[str, Any], field: str) -> list[dict[str, Any]]:
    assert "errors" not in body, body
    payload = body["data"][field]
    assert payload["webhookEndpoint"] is None
    errors: list[dict[str, Any]] = payload["userErrors"]
    return errors


OWNERS = ["buyer", "supplier A", "client A"]
OTHERS = ["buyer", "supplier A", "supplier B", "client A", "client B", "buyer of org B"]


@pytest.mark.parametrize("owner", OWNERS)
async def test_no_one_else_reaches_a_partys_endpoint(
    parties: dict[str, GraphQL], owner: str
) -> None:
    endpoint_id, _ = await create_endpoint(parties[owner], URL, ["ORDER_EVENT"])
    for other in OTHERS:
        gql = parties[other]
        if other == owner:
            listed = await gql("{ webhookEndpoints { totalCount edges { node { id } } } }")
            assert listed["data"]["webhookEndpoints"]["totalCount"] == 1
            continue
        listed = await gql("{ webhookEndpoints { totalCount edges { node { id } } } }")
        assert listed["data"]["webhookEndpoints"] == {"totalCount": 0, "edges": []}, other
        assert (await gql(NODE, {"id": endpoint_id}))["data"]["node"] is None, other
        for document, field in (
            (DELETE_ENDPOINT, "deleteWebhookEndpoint"),
            (ROTATE_SECRET, "rotateWebhookSecret"),
        ):
            body = await gql(document, {"input": {"endpointId": endpoint_id}})
            assert [e["code"] for e in _errors(body, field)] == ["NOT_FOUND"], (other, field)
    # the owner's endpoint is untouched
    listed = await parties[owner]("{ webhookEndpoints { edges { node { id enabled } } } }")
    assert listed["data"]["webhookEndpoints"]["edges"] == [
        {"node": {"id": endpoint_id, "enabled": True}}
    ]


async def test_no_one_else_can_redeliver_or_read_a_buyers_delivery(
    parties: dict[str, GraphQL], db: Database, clock: FixedClock
) -> None:
    buyer = parties["buyer"]
    async with receiving() as receiver:
        await create_endpoint(buyer, receiver.url, ["ORDER_EVENT"])
        order = {
            "supplierId": parties["supplier_a"],
            "needBy": "2026-04-01",
            "currency": "EUR",
            "lines": [{"partNumber": "P", "quantity": 1, "unitPrice": "1.00"}],
        }
        await mutate(buyer, ISSUE, order)
        sender = worker(db, clock)
        try:
            await sender.run_once()
        finally:
            await sender.stop()
    [delivery] = await deliveries(buyer)
    for other in OTHERS[1:]:
        body = await parties[other](REDELIVER, {"input": {"deliveryId": delivery["id"]}})
        assert [e["code"] for e in _errors(body, "redeliverWebhook")] == ["NOT_FOUND"], other
        assert await deliveries(parties[other]) == []
    assert receiver.started == 1


async def test_a_client_cannot_subscribe_to_alerts(parties: dict[str, GraphQL]) -> None:
    body = await parties["client A"](
        CREATE_ENDPOINT, {"input": {"url": URL, "events": ["ORDER_EVENT", "ALERT_RAISED"]}}
    )
    # ALERT_RAISED does not exist in a client's schema: refused like any unknown value,
    # without a suggestion, so the client does not learn that alerts exist
    assert body.get("data") is None
    [error] = body["errors"]
    assert "ALERT_RAISED" in error["message"]
    assert "Did you mean" not in error["message"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/x",
        "file:///etc/passwd",
        "https://user:pw@hooks.example.com/x",
        "not a url",
        "http://[::1/x",
        "http://host:99999/x",
        "http://host/a b",
        "https://" + "a" * 2100 + ".example.com/",
        "http://" + "ü" * 64 + ".example/hook",  # no IDNA label: it could never be looked up
        "http://hooks.example.com/\x01x",
        "http://hooks.example.com/\rx",
    ],
)
async def test_only_http_urls_without_credentials_are_taken(buyer: GraphQL, url: str) -> None:
    body = await buyer(CREATE_ENDPOINT, {"input": {"url": url, "events": ["ORDER_EVENT"]}})
    [error] = _errors(body, "createWebhookEndpoint")
    assert (error["code"], error["field"]) == ("VALIDATION", ["input", "url"])


async def test_the_secret_is_shown_once(buyer: GraphQL) -> None:
    variables = {"input": {"url": URL, "events": ["ORDER_EVENT"], "idempotencyKey": "k-1"}}
    first = (await buyer(CREATE_ENDPOINT, variables))["data"]["createWebhookEndpoint"]
    again = (await buyer(CREATE_ENDPOINT, variables))["data"]["createWebhookEndpoint"]
    assert first["secret"].startswith("whsec_")
    assert again["webhookEndpoint"]["id"] == first["webhookEndpoint"]["id"]
    assert again["secret"] is None  # a replay does not show it again
    for role in Role:
        fields = schema_for(role)._schema.type_map["WebhookEndpoint"].fields  # type: ignore[attr-defined]
        assert "secret" not in fields


async def test_an_endpoint_lists_its_delivery_log_by_page(buyer: GraphQL) -> None:
    await create_endpoint(buyer, URL, ["ORDER_EVENT", "ALERT_RAISED"])
    body = await buyer(
        "{ webhookEndpoints(first: 1) { pageInfo { hasNextPage } edges { node { events "
        "deliveries(first: 5) { totalCount pageInfo { hasNextPage } } } } } }"
    )
    node = body["data"]["webhookEndpoints"]["edges"][0]["node"]
    assert node["events"] == ["ALERT_RAISED", "ORDER_EVENT"]
    assert node["deliveries"] == {"totalCount": 0, "pageInfo": {"hasNextPage": False}}
