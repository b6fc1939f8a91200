"""NUL characters in any input (issue 17, finding 2): PostgreSQL text cannot hold them,
so every transport refuses them before any resolver or SQL runs, with one typed
VALIDATION error — the same answer on SQLite and PostgreSQL, and no SQL in the log."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from lifecycle_support import World, issue_order, make_world

from conftest import GraphQL, make_token
from db.ids import new_id
from graphql_support import USER_ERRORS

NUL_ID = "ord_\x00aaaaaaaaaaaaaaaaaaa"


def _mutation(name: str, input_type: str) -> str:
    return (
        f"mutation($input: {input_type}!) {{ {name}(input: $input) "
        f"{{ order {{ id }} {USER_ERRORS} }} }}"
    )


# (role, document, input with a NUL somewhere, the variable path named in the error)
SUPPLIER_ORDER_MUTATIONS = [
    ("acknowledgeOrder", "AcknowledgeOrderInput", {"promisedDate": "2026-03-20"}),
    ("declineOrder", "DeclineOrderInput", {"reason": "full"}),
    ("startProduction", "OrderActionInput", {}),
    ("addMilestone", "AddMilestoneInput", {"note": "parts cut"}),
    (
        "updatePromisedDate",
        "UpdatePromisedDateInput",
        {"promisedDate": "2026-03-20", "reason": "-"},
    ),
    ("dispatchOrder", "DispatchOrderInput", {"method": "OWN_DRIVER"}),
]
BUYER_ORDER_MUTATIONS = [
    ("cancelOrder", "CancelOrderInput", {"reason": "gone"}),
    ("closeOrder", "CloseOrderInput", {"reason": "short"}),
    ("receiveDelivery", "ReceiveDeliveryInput", {"lines": [{"lineNo": 1, "quantity": 1}]}),
    ("respondToProposal", "RespondToProposalInput", {"accept": True}),
    ("amendOrder", "AmendOrderInput", {"reason": "more"}),
]

SUBMIT_INVOICE = (
    "mutation($input: SubmitInvoiceInput!) { submitInvoice(input: $input) "
    f"{{ invoice {{ id }} {USER_ERRORS} }} }}"
)
ISSUE_ORDER = _mutation("issueOrder", "IssueOrderInput")
ORDERS = "query($f: OrderFilter) { orders(filter: $f) { totalCount } }"
ORDER_LITERAL = '{ order(id: "ord_\\u0000") { id } }'
NODE = "query($id: ID!) { node(id: $id) { id } }"


def _refused(body: dict[str, Any], where: str) -> None:
    assert body == {
        "errors": [
            {
                "message": f"{where} must not contain NUL characters (\\u0000).",
                "extensions": {"code": "VALIDATION"},
            }
        ]
    }


def _no_sql_logged(caplog: pytest.LogCaptureFixture) -> None:
    text = caplog.text.upper()
    for word in ("SELECT", "INSERT", "UPDATE ", "\\X00", "UNEXPECTED ERROR"):
        assert word not in text, caplog.text


@pytest.fixture
async def world(as_role: Callable[..., GraphQL]) -> World:
    return await make_world(as_role)


@pytest.mark.parametrize(("name", "input_type", "rest"), SUPPLIER_ORDER_MUTATIONS)
async def test_a_nul_order_id_in_a_supplier_mutation_is_a_validation_error(
    world: World, caplog: pytest.LogCaptureFixture, name: str, input_type: str, rest: dict[str, Any]
) -> None:
    caplog.set_level(logging.DEBUG)
    body = await world.supplier(_mutation(name, input_type), {"input": {"orderId": NUL_ID, **rest}})
    _refused(body, "Variable '$input.orderId'")
    _no_sql_logged(caplog)


@pytest.mark.parametrize(("name", "input_type", "rest"), BUYER_ORDER_MUTATIONS)
async def test_a_nul_order_id_in_a_buyer_mutation_is_a_validation_error(
    world: World, caplog: pytest.LogCaptureFixture, name: str, input_type: str, rest: dict[str, Any]
) -> None:
    caplog.set_level(logging.DEBUG)
    body = await world.buyer(_mutation(name, input_type), {"input": {"orderId": NUL_ID, **rest}})
    _refused(body, "Variable '$input.orderId'")
    _no_sql_logged(caplog)


@pytest.mark.parametrize("field", ["supplierId", "clientId"])
async def test_a_nul_party_id_in_issue_order_is_a_validation_error(
    world: World, caplog: pytest.LogCaptureFixture, field: str
) -> None:
    caplog.set_level(logging.DEBUG)
    order = {
        "supplierId": world.supplier_id,
        "needBy": "2026-04-01",
        "currency": "EUR",
        "lines": [{"partNumber": "P-1", "quantity": 1, "unitPrice": "1.00"}],
    }
    order[field] = "cli_\x00" if field == "clientId" else "sup_\x00"
    body = await world.buyer(ISSUE_ORDER, {"input": order})
    _refused(body, f"Variable '$input.{field}'")
    _no_sql_logged(caplog)


@pytest.mark.parametrize("field", ["supplierId", "clientId"])
async def test_a_nul_party_id_in_the_orders_filter_is_a_validation_error(
    world: World, caplog: pytest.LogCaptureFixture, field: str
) -> None:
    caplog.set_level(logging.DEBUG)
    body = await world.buyer(ORDERS, {"f": {field: "x\x00"}})
    _refused(body, f"Variable '$f.{field}'")
    _no_sql_logged(caplog)


async def test_a_nul_invoice_number_is_a_validation_error(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    order_id = await issue_order(world)
    caplog.set_level(logging.DEBUG)
    body = await world.supplier(
        SUBMIT_INVOICE,
        {
            "input": {
                "orderId": order_id,
                "number": "INV-\x00",
                "lines": [{"lineNo": 1, "quantity": 1, "unitPrice": "10.00"}],
            }
        },
    )
    _refused(body, "Variable '$input.number'")
    _no_sql_logged(caplog)


async def test_a_nul_in_a_string_literal_or_a_node_id_is_a_validation_error(
    world: World, as_role: Callable[..., GraphQL], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    literal = await world.buyer(ORDER_LITERAL)
    assert literal["errors"][0]["message"] == (
        "A string in the query must not contain NUL characters (\\u0000)."
    )
    assert literal["errors"][0]["extensions"] == {"code": "VALIDATION"}
    assert "data" not in literal
    client_view = as_role("client", client_id=new_id("cli"))
    _refused(await client_view(NODE, {"id": "cli_\x00"}), "Variable '$id'")
    _no_sql_logged(caplog)


@pytest.mark.parametrize("role", ["client", "supplier"])
async def test_a_token_whose_party_id_holds_nul_is_refused(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, role: str
) -> None:
    caplog.set_level(logging.DEBUG)
    ids = {f"{role}_id": new_id("cli" if role == "client" else "sup")[:6] + "\x00"}
    token = make_token(role, **ids)
    response = await client.post(
        "/graphql",
        json={"query": "{ orders { totalCount } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    _no_sql_logged(caplog)
