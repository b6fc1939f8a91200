"""PO numbers count nothing (issue 17, finding 4): what a supplier or a client sees of
its orders is the same whether the buyer placed 3 or 300 other orders."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from conftest import T0, GraphQL, make_token
from db.engine import Database
from db.seed import seed
from graphql_support import CREATE_CLIENT, CREATE_SUPPLIER, line_input, mutate, order_input

ISSUE_ORDER = """mutation($input: IssueOrderInput!) {
  issueOrder(input: $input) { order { id number } userErrors { code message field } } }"""
SUPPLIER_VIEW = """{ orders { totalCount edges { cursor node {
  id number stage needBy issuedAt total currency lines { lineNo partNumber quantity unitPrice }
  events { id kind at stage } } } } }"""
CLIENT_VIEW = """{ orders { totalCount edges { cursor node {
  id number stage needBy issuedAt lines { lineNo partNumber quantity }
  events { id kind at stage } } } } }"""
BY_NUMBER = "query($n: String!) { orderByNumber(number: $n) { number } }"
IDS = re.compile(r"\b(?:evt|shp|ord|trk|cli|sup|inv|rcp)_[a-z2-7]{20}\b")


def _normalised(body: Any) -> str:
    # Ids and cursors are random in any two worlds, identical or not.
    text = IDS.sub("<id>", repr(body))
    return re.sub(r"'cursor': '[^']*'", "'cursor': <c>", text)


async def _world(
    http: httpx.AsyncClient, db: Database, monkeypatch: pytest.MonkeyPatch, org: str, others: int
) -> tuple[str, str]:
    """``others`` orders to another supplier, then one to ours: (supplier view, client view)."""
    await seed(db=db, org=org, orders=others, suppliers=1, clients=1, seed=1, now=T0)
    buyer = GraphQL(http, make_token("buyer", org=org))
    supplier_id = (await mutate(buyer, CREATE_SUPPLIER, {"name": "Northwind"}))["id"]
    client_id = (await mutate(buyer, CREATE_CLIENT, {"name": "Contoso"}))["id"]
    with monkeypatch.context() as patch:
        # The random part of the number is the same in both worlds, so whatever else
        # differs between them would show.
        patch.setattr("db.ids.secrets.randbelow", lambda n: 7 % n)
        body = await buyer(
            ISSUE_ORDER,
            {"input": order_input(supplier_id, client_id, [line_input("BRKT-1", 3, "9.50")])},
        )
    assert body["data"]["issueOrder"]["userErrors"] == []
    number = body["data"]["issueOrder"]["order"]["number"]
    supplier = GraphQL(http, make_token("supplier", org=org, supplier_id=supplier_id))
    client = GraphQL(http, make_token("client", org=org, client_id=client_id))
    for party in (supplier, client):
        found = await party(BY_NUMBER, {"n": number})
        assert found == {"data": {"orderByNumber": {"number": number}}}
    return _normalised(await supplier(SUPPLIER_VIEW)), _normalised(await client(CLIENT_VIEW))


async def test_a_suppliers_and_a_clients_view_do_not_depend_on_the_buyers_volume(
    client: httpx.AsyncClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given / when
    few = await _world(client, db, monkeypatch, "org-few", 3)
    many = await _world(client, db, monkeypatch, "org-many", 300)

    # then
    assert few == many


async def test_po_numbers_are_the_issue_day_and_random_characters(
    client: httpx.AsyncClient,
) -> None:
    buyer = GraphQL(client, make_token("buyer"))
    supplier_id = (await mutate(buyer, CREATE_SUPPLIER, {"name": "Northwind"}))["id"]
    numbers = []
    for _ in range(5):
        lines = [line_input("P-1", 1, "1.00")]
        body = await buyer(ISSUE_ORDER, {"input": order_input(supplier_id, None, lines)})
        numbers.append(body["data"]["issueOrder"]["order"]["number"])
    assert all(re.fullmatch(r"PO-260302-[2-9A-HJKMNP-TV-Z]{6}", n) for n in numbers), numbers
    assert len(set(numbers)) == 5
