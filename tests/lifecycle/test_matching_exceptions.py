"""Three-way matching when the order did not go to plan: rejected goods were never
received (and count as dispatched again only when re-sent); a short-close cancels what
did not come. Invoices for what was accepted match; anything more does not.
The pure rules first, then the same over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from exceptions_support import CLOSE_ORDER
from hypothesis import given, settings
from hypothesis import strategies as st
from lifecycle_support import (
    DISPATCH_ORDER,
    RECEIVE_DELIVERY,
    SUBMIT_INVOICE,
    World,
    make_world,
    ok,
    snapshot,
    walk_to,
)

from conftest import GraphQL
from db.matching import InvoicedLine, MatchResult, MatchStatus, OrderedLine, Tolerance, match
from db.models import OrderStage

S = MatchStatus
TEN = Decimal("10.00")

# -- the pure rules -----------------------------------------------------------------------


def test_an_invoice_for_what_was_accepted_matches_though_some_was_rejected() -> None:
    # 10 shipped, 8 accepted, 2 rejected: dispatched is 8 until the 2 are sent again
    line = {1: OrderedLine(1, 10, TEN, dispatched=8, received=8)}

    assert match(line, [InvoicedLine(1, 8, TEN)]) == MatchResult(S.MATCHED, [])
    assert match(line, [InvoicedLine(1, 10, TEN)]) == MatchResult(
        S.QUANTITY_MISMATCH, ["line 1: invoiced 10 but dispatched 8"]
    )


def test_after_a_short_close_what_came_matches_and_more_never_will() -> None:
    # 10 ordered and shipped, 7 received, the order closed: 3 cancelled
    line = {1: OrderedLine(1, 10, TEN, dispatched=10, received=7, cancelled=3)}

    assert match(line, [InvoicedLine(1, 7, TEN)]) == MatchResult(S.MATCHED, [])
    assert match(line, [InvoicedLine(1, 9, TEN)]) == MatchResult(
        S.QUANTITY_MISMATCH, ["line 1: invoiced 9 but kept after the short-close 7"]
    )
    # without the close the same 9 would only be waiting for its receipt
    open_line = {1: OrderedLine(1, 10, TEN, dispatched=10, received=7)}
    assert match(open_line, [InvoicedLine(1, 9, TEN)]).status is S.AWAITING_RECEIPT


def test_the_quantity_tolerance_applies_to_what_a_short_close_kept() -> None:
    line = {1: OrderedLine(1, 10, TEN, dispatched=10, received=7, cancelled=3)}

    assert match(line, [InvoicedLine(1, 8, TEN)], Tolerance(quantity=1)).status is S.MATCHED
    assert match(line, [InvoicedLine(1, 9, TEN)], Tolerance(quantity=1)).status is (
        S.QUANTITY_MISMATCH
    )


@settings(max_examples=200, deadline=None)
@given(
    ordered=st.integers(1, 50),
    data=st.data(),
    closed=st.booleans(),
)
def test_invoicing_exactly_what_was_accepted_always_matches(
    ordered: int, data: st.DataObject, closed: bool
) -> None:
    shipped = data.draw(st.integers(0, ordered), label="shipped")
    rejected = data.draw(st.integers(0, shipped), label="rejected")
    accepted = data.draw(st.integers(0, shipped - rejected), label="accepted")
    cancelled = ordered - accepted if closed else 0
    line = {1: OrderedLine(1, ordered, TEN, shipped - rejected, accepted, cancelled)}

    assert match(line, [InvoicedLine(1, accepted, TEN)]) == MatchResult(S.MATCHED, [])
    if closed:  # once closed, one more unit than was accepted can never match
        assert match(line, [InvoicedLine(1, accepted + 1, TEN)]).status is S.QUANTITY_MISMATCH


# -- over HTTP ------------------------------------------------------------------------------


@pytest.fixture
async def world(as_role: Callable[..., GraphQL]) -> World:
    return await make_world(as_role)


async def _invoice(
    world: World, order_id: str, number: str, quantity: int, line_no: int = 1, price: str = "10.00"
) -> dict[str, Any]:
    payload = await ok(
        world.supplier,
        SUBMIT_INVOICE,
        {
            "input": {
                "orderId": order_id,
                "number": number,
                "lines": [{"lineNo": line_no, "quantity": quantity, "unitPrice": price}],
            }
        },
    )
    invoice: dict[str, Any] = payload["invoice"]
    return invoice


async def test_rejected_goods_are_invoiceable_only_once_sent_again_and_accepted(
    world: World,
) -> None:
    # given 3 of line 1 shipped, 2 accepted and 1 rejected
    order_id = await walk_to(world, OrderStage.DISPATCHED)
    receipt = {
        "orderId": order_id,
        "lines": [{"lineNo": 1, "quantity": 2, "rejectedQuantity": 1, "rejectReason": "bent"}],
    }
    await ok(world.buyer, RECEIVE_DELIVERY, {"input": receipt})

    # when the supplier invoices the 2 accepted, then the 1 rejected
    accepted = await _invoice(world, order_id, "INV-1", 2)
    early = await _invoice(world, order_id, "INV-2", 1)

    # then the first matches; the second is more than is on its way
    assert (accepted["match"], accepted["discrepancies"]) == ("MATCHED", [])
    assert (early["match"], early["discrepancies"]) == (
        "QUANTITY_MISMATCH",
        ["line 1: invoiced 3 but dispatched 2"],
    )
    # ... sent again it awaits its receipt, accepted it matches
    await ok(
        world.supplier,
        DISPATCH_ORDER,
        {
            "input": {
                "orderId": order_id,
                "method": "OWN_DRIVER",
                "lines": [{"lineNo": 1, "quantity": 1}],
            }
        },
    )
    assert (await snapshot(world, order_id))["match"] == "AWAITING_RECEIPT"
    await ok(
        world.buyer,
        RECEIVE_DELIVERY,
        {"input": {"orderId": order_id, "lines": [{"lineNo": 1, "quantity": 1}]}},
    )
    assert (await snapshot(world, order_id))["match"] == "MATCHED"


async def test_a_short_closed_order_invoiced_for_what_came_is_matched(world: World) -> None:
    # given line 1 received in full, line 2 never dispatched, the order closed
    order_id = await walk_to(world, OrderStage.DISPATCHED)
    await ok(
        world.buyer,
        RECEIVE_DELIVERY,
        {"input": {"orderId": order_id, "lines": [{"lineNo": 1, "quantity": 3}]}},
    )
    await ok(world.buyer, CLOSE_ORDER, {"input": {"orderId": order_id, "reason": "enough"}})

    # when the supplier invoices what came
    invoice = await _invoice(world, order_id, "INV-CLOSED-1", 3)

    # then
    assert (invoice["match"], invoice["discrepancies"]) == ("MATCHED", [])
    order = await snapshot(world, order_id)
    assert (order["stage"], order["match"]) == ("CLOSED", "MATCHED")

    # and an invoice for the line that never came can never match
    extra = await _invoice(world, order_id, "INV-CLOSED-2", 1, line_no=2, price="2.50")
    assert (extra["match"], extra["discrepancies"]) == (
        "QUANTITY_MISMATCH",
        ["line 2: invoiced 1 but kept after the short-close 0"],
    )
