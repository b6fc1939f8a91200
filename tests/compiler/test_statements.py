"""The compiled path costs one statement per page, whatever the page size; the ordinary
path's count for the same document is what the compiled one replaces."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from bench.documents import DASHBOARD, PORTAL
from conftest import FixedClock, GraphQL
from db.engine import Database
from db.seed import SeedResult
from worlds.busy import busy_org


@pytest.fixture
async def seeded(db: Database, clock: FixedClock) -> SeedResult:
    return await busy_org(db, clock.now)


async def _cost(
    gql: GraphQL, caplog: pytest.LogCaptureFixture, document: str, first: int
) -> tuple[int, str, Any]:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="handoff.http"):
        response = await gql.raw(document, {"first": first})
    body = response.json()
    assert "errors" not in body, body
    [record] = [r for r in caplog.records if r.getMessage() == "graphql request"]
    return record.sql_statements, response.headers["x-execution-path"], body  # type: ignore[attr-defined]


@pytest.mark.parametrize(("role", "document"), [("buyer", DASHBOARD), ("client", PORTAL)])
async def test_a_compiled_page_is_one_statement_for_5_or_50_orders(
    role: str,
    document: str,
    seeded: SeedResult,
    as_role: Callable[..., GraphQL],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given
    claims = {"client_id": seeded.clients[0]} if role == "client" else {}
    gql = as_role(role, **claims)

    # when
    small = await _cost(gql, caplog, document, 5)
    large = await _cost(gql, caplog, document, 50)

    # then
    assert (small[0], small[1]) == (1, "compiled")
    assert (large[0], large[1]) == (1, "compiled")
    assert len(small[2]["data"]["orders"]["edges"]) == 5
    assert len(large[2]["data"]["orders"]["edges"]) > 5
