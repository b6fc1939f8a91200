"""Each row rule's SQL form (what the compiled path puts in its statement) agrees with
its Python predicate (what the permission class applies on the ordinary path) on every
row of the canary world: one definition, two spellings, held together here."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import case, false, select, true

import schema.build  # noqa: F401  (imports every type, registering the relations)
from conftest import FixedClock
from db import models
from db.engine import Database
from db.notes import NoteAudience
from db.seed import seed
from permissions.policy import POLICY, RowRule
from permissions.principal import Principal, Role
from schema.relations import get
from worlds.canary import World, seed_world
from worlds.journey import add_buyer_notes

# The table behind each type whose fields have row rules, and how a row becomes the
# object the permission class sees.
TABLES: dict[str, tuple[Any, Any]] = {
    "OrderEvent": (models.OrderEvent, get("Order", "events").wrap),
    "Shipment": (models.Shipment, get("Order", "shipments").wrap),
}


def _rules() -> list[tuple[str, Role, RowRule]]:
    found = []
    for key, row in POLICY.items():
        for role in Role:
            entry = row.for_role(role)
            if isinstance(entry, RowRule) and entry.sql is not None:
                found.append((key, role, entry))
    return found


@pytest.fixture
async def world(client: httpx.AsyncClient, db: Database, clock: FixedClock) -> World:
    found = await seed_world(client)
    await seed(db=db, org="org-a", orders=30, suppliers=3, clients=2, seed=5, now=clock.now)
    # Buyer notes for every audience, next to the world's own.
    audiences: list[frozenset[NoteAudience]] = [
        frozenset(),
        frozenset({NoteAudience.CLIENT}),
        frozenset({NoteAudience.SUPPLIER}),
        frozenset({NoteAudience.CLIENT, NoteAudience.SUPPLIER}),
    ]
    notes = [(f"note for {sorted(audience)}", audience) for audience in audiences]
    await add_buyer_notes(db, found.orders["main"].id, clock.now, notes)
    return found


def test_every_rule_with_a_sql_form_is_on_a_table_this_test_reads() -> None:
    rules = _rules()
    assert rules, "no row rule has a SQL form"
    assert {key.split(".")[0] for key, _, _ in rules} <= set(TABLES)


@pytest.mark.parametrize(
    ("key", "role", "rule"), _rules(), ids=[f"{k}-{r.value}" for k, r, _ in _rules()]
)
async def test_a_row_rules_sql_form_agrees_with_its_predicate_on_every_row(
    key: str, role: Role, rule: RowRule, world: World, db: Database
) -> None:
    # given
    model, wrap = TABLES[key.split(".")[0]]
    principal = Principal(
        role=role,
        org="org-a",
        subject="someone",
        client_id=world.client_a if role is Role.CLIENT else None,
        supplier_id=world.supplier_a if role is Role.SUPPLIER else None,
    )
    assert rule.sql is not None
    condition = case((rule.sql(model), true()), else_=false())

    # when
    async with db.read_session() as session:
        rows = list(await session.scalars(select(model)))
        in_sql = {i: bool(v) for i, v in await session.execute(select(model.id, condition))}

    # then
    in_python = {row.id: rule.visible(wrap(row), principal) for row in rows}
    assert in_sql == in_python
    assert len(set(in_python.values())) == 2, "the world must have rows on both sides"
