"""A relation that cannot be loaded costs its own fields, never the whole page.

A page prefetches its relations in one go; if that fails (here: a real fault, the
suppliers table gone), the page falls back to loading each relation lazily, so the
orders still arrive and only the broken field is null with a masked error.
"""

from __future__ import annotations

from sqlalchemy import text

from conftest import FixedClock, GraphQL
from db.engine import Database
from db.seed import seed

PAGE = "{ orders(first: 3) { edges { node { number supplier { name } lines { lineNo } } } } }"


async def test_a_failing_relation_nulls_only_its_own_fields(
    db: Database, clock: FixedClock, buyer: GraphQL
) -> None:
    # given
    await seed(db=db, org="org-a", orders=5, suppliers=2, clients=1, seed=3, now=clock.now)
    await _rename(db, "suppliers", "suppliers_gone")

    # when
    try:
        body = await buyer(PAGE)
    finally:  # PostgreSQL: the database is shared by the session's tests
        await _rename(db, "suppliers_gone", "suppliers")

    # then: the orders and their lines are there; each supplier is null with a masked error
    edges = body["data"]["orders"]["edges"]
    assert len(edges) == 3
    assert all(edge["node"]["number"] and edge["node"]["lines"] for edge in edges)
    assert all(edge["node"]["supplier"] is None for edge in edges)
    paths = sorted(tuple(error["path"]) for error in body["errors"])
    assert paths == [("orders", "edges", i, "node", "supplier") for i in range(3)]
    for error in body["errors"]:
        assert error["message"] == "Unexpected error."
        assert "suppliers" not in str(error)


async def _rename(db: Database, old: str, new: str) -> None:
    async with db.write_session() as session, session.begin():
        await session.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))
