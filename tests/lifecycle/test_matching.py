"""Three-way matching: ``db.matching.match`` as a pure function (ordered vs received vs
invoiced, per line), then once over HTTP with the buyer's tolerances."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifecycle_support import (
    ORDER,
    RECEIVE_DELIVERY,
    SET_MATCHING_TOLERANCES,
    SUBMIT_INVOICE,
    make_world,
    ok,
    walk_to,
)

from conftest import FixedClock, GraphQL
from db.matching import InvoicedLine, MatchResult, MatchStatus, OrderedLine, Tolerance, match
from db.models import OrderStage

S = MatchStatus
TEN = Decimal("10.00")


def ordered(
    line_no: int = 1,
    quantity: int = 10,
    unit_price: Decimal = TEN,
    dispatched: int | None = None,
    received: int | None = None,
) -> dict[int, OrderedLine]:
    dispatched = quantity if dispatched is None else dispatched
    received = dispatched if received is None else received
    return {line_no: OrderedLine(line_no, quantity, unit_price, dispatched, received)}


def invoiced(quantity: int = 10, unit_price: Decimal = TEN, line_no: int = 1) -> InvoicedLine:
    return InvoicedLine(line_no, quantity, unit_price)


# -- the pure rules -----------------------------------------------------------------------


def test_an_invoice_of_exactly_what_was_ordered_and_received_matches() -> None:
    assert match(ordered(), [invoiced()]) == MatchResult(S.MATCHED, [])


def test_invoicing_part_of_what_was_received_matches() -> None:
    assert match(ordered(received=10), [invoiced(quantity=4)]) == MatchResult(S.MATCHED, [])


def test_invoicing_goods_dispatched_but_not_yet_received_awaits_receipt() -> None:
    result = match(ordered(dispatched=10, received=6), [invoiced()])

    assert result == MatchResult(S.AWAITING_RECEIPT, ["line 1: invoiced 10 but received 6 so far"])


def test_invoicing_more_than_was_dispatched_is_a_quantity_mismatch() -> None:
    result = match(ordered(dispatched=7, received=7), [invoiced()])

    assert result == MatchResult(S.QUANTITY_MISMATCH, ["line 1: invoiced 10 but dispatched 7"])


def test_invoicing_more_than_was_ordered_is_a_quantity_mismatch() -> None:
    result = match(ordered(), [invoiced(quantity=11)])

    assert result == MatchResult(S.QUANTITY_MISMATCH, ["line 1: invoiced 11 but ordered 10"])


def test_quantities_add_up_over_several_invoices() -> None:
    result = match(ordered(), [invoiced(quantity=6), invoiced(quantity=6)])

    assert result == MatchResult(S.QUANTITY_MISMATCH, ["line 1: invoiced 12 but ordered 10"])


def test_the_quantity_tolerance_allows_that_many_units_over() -> None:
    tolerance = Tolerance(quantity=2)

    assert match(ordered(), [invoiced(quantity=12)], tolerance).status is S.MATCHED
    assert match(ordered(), [invoiced(quantity=13)], tolerance).status is S.QUANTITY_MISMATCH


@pytest.mark.parametrize(
    ("price", "status"),
    [
        ("10.40", S.MATCHED),  # 4 % off
        ("9.50", S.MATCHED),  # 5 % under: exactly at the tolerance
        ("10.50", S.MATCHED),  # 5 % over: exactly at the tolerance
        ("10.51", S.PRICE_MISMATCH),
        ("9.49", S.PRICE_MISMATCH),
    ],
)
def test_a_price_within_the_tolerance_matches_and_beyond_it_does_not(
    price: str, status: MatchStatus
) -> None:
    result = match(ordered(), [invoiced(unit_price=Decimal(price))], Tolerance(Decimal(5)))

    assert result.status is status
    assert (result.discrepancies == []) is (status is S.MATCHED)


def test_a_price_mismatch_names_the_line_and_both_prices_but_not_the_tolerance() -> None:
    lines = ordered() | ordered(line_no=2, unit_price=Decimal("2.50"))
    result = match(lines, [invoiced(), invoiced(unit_price=Decimal("2.75"), line_no=2)])

    assert result == MatchResult(
        S.PRICE_MISMATCH,
        ["line 2: invoiced unit price 2.75 differs from ordered 2.50 by 10.00%"],
    )


def test_without_a_tolerance_any_price_difference_is_a_mismatch() -> None:
    result = match(ordered(), [invoiced(unit_price=Decimal("10.01"))])

    assert result.status is S.PRICE_MISMATCH


def test_a_free_line_invoiced_at_a_price_is_a_price_mismatch() -> None:
    result = match(ordered(unit_price=Decimal(0)), [invoiced(unit_price=Decimal("0.01"))])

    assert result.status is S.PRICE_MISMATCH
    assert match(ordered(unit_price=Decimal(0)), [invoiced(unit_price=Decimal(0))]).status is (
        S.MATCHED
    )


def test_the_worst_finding_wins_and_every_finding_is_listed_worst_first() -> None:
    # line 1 awaits receipt, line 2 is over-invoiced, line 3 has the wrong price
    lines = (
        ordered(1, dispatched=10, received=5)
        | ordered(2, quantity=4)
        | ordered(3, unit_price=Decimal("1.00"))
    )
    invoice = [invoiced(10, line_no=1), invoiced(5, line_no=2), invoiced(10, Decimal(2), 3)]

    result = match(lines, invoice)

    assert result == MatchResult(
        S.PRICE_MISMATCH,
        [
            "line 3: invoiced unit price 2.00 differs from ordered 1.00 by 100.00%",
            "line 2: invoiced 5 but ordered 4",
            "line 1: invoiced 10 but received 5 so far",
        ],
    )
    assert match(lines, invoice[:2]).status is S.QUANTITY_MISMATCH
    assert match(lines, invoice[:1]).status is S.AWAITING_RECEIPT


# -- properties over many orders ----------------------------------------------------------

prices = st.decimals(min_value=0, max_value=10_000, places=2)


@st.composite
def order_lines(draw: st.DrawFn) -> dict[int, OrderedLine]:
    count = draw(st.integers(1, 4))
    lines = {}
    for n in range(1, count + 1):
        quantity = draw(st.integers(1, 50))
        dispatched = draw(st.integers(0, quantity))
        received = draw(st.integers(0, dispatched))
        lines[n] = OrderedLine(n, quantity, draw(prices), dispatched, received)
    return lines


@settings(max_examples=100, deadline=None, database=None)
@given(lines=order_lines(), data=st.data())
def test_invoicing_at_most_what_was_received_at_the_ordered_price_always_matches(
    lines: dict[int, OrderedLine], data: st.DataObject
) -> None:
    invoice = [
        InvoicedLine(n, data.draw(st.integers(1, line.received)), line.unit_price)
        for n, line in lines.items()
        if line.received > 0
    ]

    assert match(lines, invoice) == MatchResult(S.MATCHED, [])


@settings(max_examples=120, deadline=None, database=None)
@given(
    lines=order_lines(),
    data=st.data(),
    percent=st.decimals(min_value=0, max_value=50, places=1),
    quantity_tolerance=st.integers(0, 3),
)
def test_the_status_is_the_worst_finding_and_only_matched_has_no_discrepancies(
    lines: dict[int, OrderedLine],
    data: st.DataObject,
    percent: Decimal,
    quantity_tolerance: int,
) -> None:
    invoice = data.draw(
        st.lists(
            st.builds(
                InvoicedLine,
                st.sampled_from(sorted(lines)),
                st.integers(1, 60),
                prices,
            ),
            min_size=1,
            max_size=6,
        )
    )
    tolerance = Tolerance(percent, quantity_tolerance)

    result = match(lines, invoice, tolerance)

    # an independent reading of the docstring's rules
    totals: dict[int, int] = {}
    for item in invoice:
        totals[item.line_no] = totals.get(item.line_no, 0) + item.quantity
    price_off = any(
        (item.unit_price != 0)
        if lines[item.line_no].unit_price == 0
        else abs(item.unit_price - lines[item.line_no].unit_price)
        > lines[item.line_no].unit_price * percent / 100
        for item in invoice
    )
    over = any(
        qty > min(lines[n].quantity, lines[n].dispatched) + quantity_tolerance
        for n, qty in totals.items()
    )
    waiting = any(
        min(lines[n].quantity, lines[n].dispatched) + quantity_tolerance
        >= qty
        > lines[n].received + quantity_tolerance
        for n, qty in totals.items()
    )
    expected = (
        S.PRICE_MISMATCH
        if price_off
        else S.QUANTITY_MISMATCH
        if over
        else S.AWAITING_RECEIPT
        if waiting
        else S.MATCHED
    )
    assert result.status is expected
    assert (result.discrepancies == []) is (expected is S.MATCHED)
    assert all(d.startswith("line ") for d in result.discrepancies)


# -- over HTTP ----------------------------------------------------------------------------

ORDER_MATCH = """
query OrderMatch($id: ID!) {
  order(id: $id) { match invoices { number match discrepancies } }
}
"""


async def test_the_buyer_sees_each_invoice_matched_under_its_own_tolerances(
    as_role: Callable[..., GraphQL], clock: FixedClock
) -> None:
    # given a 5 % price tolerance, and an order whose line 1 (3 x 10.00) is dispatched
    world = await make_world(as_role)
    tolerances = await ok(
        world.buyer, SET_MATCHING_TOLERANCES, {"input": {"priceTolerancePercent": "5"}}
    )
    assert tolerances["tolerances"]["priceTolerancePercent"] in ("5", "5.00")
    order_id = await walk_to(world, OrderStage.DISPATCHED)

    def invoice(number: str, quantity: int, price: str) -> dict[str, object]:
        line = {"lineNo": 1, "quantity": quantity, "unitPrice": price}
        return {"input": {"orderId": order_id, "number": number, "lines": [line]}}

    # when the supplier invoices 2 units at 10.40 before anything is received
    first = await ok(world.supplier, SUBMIT_INVOICE, invoice("INV-1", 2, "10.40"))

    # then it awaits the receipt
    assert (first["invoice"]["match"], first["invoice"]["discrepancies"]) == (
        "AWAITING_RECEIPT",
        ["line 1: invoiced 2 but received 0 so far"],
    )

    # when the buyer receives line 1
    await ok(
        world.buyer,
        RECEIVE_DELIVERY,
        {"input": {"orderId": order_id, "lines": [{"lineNo": 1, "quantity": 3}]}},
    )

    # then the same invoice now matches (within 5 %), for the buyer on Invoice and Order
    body = await world.buyer(ORDER_MATCH, {"id": order_id})
    assert body["data"]["order"] == {
        "match": "MATCHED",
        "invoices": [{"number": "INV-1", "match": "MATCHED", "discrepancies": []}],
    }

    # when, a day later, a second invoice bills the last unit 6 % over the ordered price
    clock.advance(days=1)
    second = await ok(world.supplier, SUBMIT_INVOICE, invoice("INV-2", 1, "10.60"))

    # then it is a price mismatch naming the line, and so is the order
    mismatch = ["line 1: invoiced unit price 10.60 differs from ordered 10.00 by 6.00%"]
    assert (second["invoice"]["match"], second["invoice"]["discrepancies"]) == (
        "PRICE_MISMATCH",
        mismatch,
    )
    body = await world.buyer(ORDER_MATCH, {"id": order_id})
    assert body["data"]["order"] == {
        "match": "PRICE_MISMATCH",
        "invoices": [
            {"number": "INV-1", "match": "MATCHED", "discrepancies": []},
            {"number": "INV-2", "match": "PRICE_MISMATCH", "discrepancies": mismatch},
        ],
    }
    full = await world.buyer(ORDER, {"id": order_id})
    assert full["data"]["order"]["match"] == "PRICE_MISMATCH"
