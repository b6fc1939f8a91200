"""Walk every (role, field) of the policy table on real rows: what a client or supplier
reads of an order graph is exactly the buyer's view of the same rows, projected
through the table. ALLOW: the buyer's value. NULL: the buyer's value or null, as the
row rule decides. HIDE: never selectable (the document is built from the role's own
schema). Row-scoped lists (a client never sees invoice events) are the buyer's minus
the rows the data layer withholds."""

from __future__ import annotations

import re
from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest

from permissions.policy import ROW_CONTENT, Access, RowRule, access, entry_for
from permissions.principal import Principal, Role
from redaction_support import MaximalSelection
from worlds.canary import BUYER_A, CLIENT_A, SUPPLIER_A, World

CLIENT_READS = ROW_CONTENT[Role.CLIENT]

VIEWERS = {CLIENT_A: Role.CLIENT, SUPPLIER_A: Role.SUPPLIER}


def _row(item: dict[str, Any]) -> SimpleNamespace:
    """A JSON object as the attribute bag a row rule reads (snake_case)."""
    snake = {re.sub(r"(?<!^)(?=[A-Z])", "_", k).lower(): v for k, v in item.items()}
    return SimpleNamespace(**snake)


def _with_audiences(document: str) -> str:
    """The same document for the buyer, who also reads whom each note was shared with:
    the note rules decide from it (extra fields in the buyer's answer are not compared)."""
    noted = r"(fragment \w+ on (?:OrderEvent|Receipt|Revision) \{ )"
    return re.sub(noted, r"\1visibleTo ", document)


class Projection:
    def __init__(self, role: Role) -> None:
        self.role = role
        self.principal = Principal(
            role=role,
            org="org-a",
            subject="walker",
            client_id="cli_x" if role is Role.CLIENT else None,
            supplier_id="sup_x" if role is Role.SUPPLIER else None,
        )
        self.seen: Counter[tuple[str, str, str]] = Counter()

    def check(self, mine: Any, buyers: Any, path: str) -> None:
        if isinstance(mine, dict):
            assert isinstance(buyers, dict), path
            type_name = mine["__typename"]
            assert buyers["__typename"] == type_name, path
            for field, value in mine.items():
                if field == "__typename":
                    continue
                rule = access(self.role, type_name, field)
                where = f"{path}.{field}"
                assert rule is not Access.HIDE, f"{where} is hidden from {self.role}"
                if rule is Access.NULL:
                    # The table's own rule, applied to the row as the buyer sees it.
                    entry = entry_for(self.role, type_name, field)
                    assert isinstance(entry, RowRule)
                    if not entry.visible(_row(buyers), self.principal):
                        assert value is None, f"{where} must read null"
                        self.seen[(type_name, field, "null")] += 1
                        continue
                self.seen[(type_name, field, "value")] += 1
                self.check(value, buyers[field], where)
        elif isinstance(mine, list):
            assert isinstance(buyers, list), path
            if self.role is Role.CLIENT and path.endswith(".events"):
                buyers = [
                    e
                    for e in buyers
                    if CLIENT_READS.reads_event(e["kind"], frozenset(e.get("visibleTo") or ()))
                ]
            assert len(mine) == len(buyers), path
            for i, (a, b) in enumerate(zip(mine, buyers, strict=True)):
                self.check(a, b, f"{path}[{i}]")
        else:
            assert mine == buyers, path


@pytest.mark.parametrize("viewer", list(VIEWERS))
@pytest.mark.parametrize("order", ["main", "cancelled", "twin_a"])
async def test_each_role_reads_the_buyers_values_projected_through_the_policy(
    world: World, viewer: str, order: str
) -> None:
    # given: the role's whole visible graph of one order, and the buyer's of the same
    role = VIEWERS[viewer]
    selection = MaximalSelection(role, depth=5)
    document = selection.document(
        f"query One($id: ID!) {{ order(id: $id) {selection.of('Order')} }}"
    )
    order_id = world.orders[order].id

    # when
    mine = await world.caller(viewer)(document, {"id": order_id})
    buyers = await world.caller(BUYER_A)(_with_audiences(document), {"id": order_id})

    # then
    assert "errors" not in mine
    assert "errors" not in buyers
    projection = Projection(role)
    projection.check(mine["data"]["order"], buyers["data"]["order"], "order")
    # The walk really covered the graph: every type of the order's journey was read.
    types = {t for t, _, _ in projection.seen}
    assert {"Order", "OrderLine", "OrderEvent"} <= types
    if order == "main":
        assert {"Shipment", "ShipmentLine"} <= types
        assert ("Shipment", "carrier", "value") in projection.seen
        if role is Role.CLIENT:  # the OWN_DRIVER shipment's carrier reads null
            assert ("Shipment", "carrier", "null") in projection.seen
        else:
            assert {"Receipt", "Invoice", "Supplier"} <= types
