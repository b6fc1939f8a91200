"""Money crosses the API as exact decimal strings in plain notation only; dates as
YYYY-MM-DD, and a bad one says so."""

from decimal import Decimal

import pytest

from conftest import GraphQL
from schema.scalars import parse_date, parse_decimal, serialize_decimal


@pytest.mark.parametrize(
    ("text", "value"),
    [("12.50", Decimal("12.50")), ("0.0125", Decimal("0.0125")), ("-3", Decimal(-3)), (7, 7)],
)
def test_plain_decimals_parse_exactly(text: str | int, value: Decimal) -> None:
    assert parse_decimal(text) == value


@pytest.mark.parametrize(
    "bad", ["1e3", "1_000", " 10 ", "10.", ".5", "NaN", "Infinity", "", 1.5, True, "1" * 41]
)
def test_anything_else_is_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_decimal(bad)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1234.5000"), "1234.50"),
        (Decimal("0.0125"), "0.0125"),
        (Decimal(7), "7.00"),
        (Decimal("13377.3100"), "13377.31"),
    ],
)
def test_decimals_serialise_with_at_least_two_places(value: Decimal, text: str) -> None:
    assert serialize_decimal(value) == text


@pytest.mark.parametrize(
    "bad", ["20-12-2026", "2026-12-20T00:00:00", "20261220", "2026-W51-7", 20261220]
)
def test_a_bad_date_says_the_format_it_wants(bad: object) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_date(bad)


async def test_a_bad_date_in_variables_says_yyyy_mm_dd_over_http(buyer: GraphQL) -> None:
    body = await buyer(
        'mutation($d: Date!) { issueOrder(input: {supplierId: "x", needBy: $d, currency: "EUR",'
        " lines: []}) { userErrors { message } } }",
        {"d": "12/20/2026"},
    )
    assert "YYYY-MM-DD" in body["errors"][0]["message"]
    assert "data" not in body
