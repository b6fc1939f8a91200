"""The query cost is computed from the values the executor will use (issue 17, finding 1)."""

from __future__ import annotations

from tests.conftest import GraphQL

ELEVEN = (
    "query($n: Int) { "
    + " ".join(
        f"a{i}: orders(first: $n) {{ edges {{ node {{ supplier {{ "
        "orders(first: $n) { totalCount } } } } }"
        for i in range(11)
    )
    + " }"
)


async def test_a_float_page_size_in_variables_is_costed_as_the_int_it_becomes(
    buyer: GraphQL,
) -> None:
    # {"n": 100.0} is coerced to the Int 100: 11 x (100 + 100 x 100) = 111,100 rows,
    # not 11 x (20 + 20 x 20) as if the float were absent.
    body = await buyer(ELEVEN, {"n": 100.0})
    assert "data" not in body
    assert body["errors"][0]["message"].startswith("Query may return too many rows: cost 111100")


async def test_an_integer_page_size_in_variables_is_costed_the_same(buyer: GraphQL) -> None:
    body = await buyer(ELEVEN, {"n": 100})
    assert body["errors"][0]["message"].startswith("Query may return too many rows: cost 111100")


async def test_a_null_page_size_is_costed_as_the_field_default(buyer: GraphQL) -> None:
    # null means the default page of 20: 11 x (20 + 20 x 20) = 4,620, under the limit.
    body = await buyer(ELEVEN, {"n": None})
    assert "errors" not in body, body


async def test_a_non_integral_page_size_is_a_request_error_not_a_cost_of_zero(
    buyer: GraphQL,
) -> None:
    body = await buyer(ELEVEN, {"n": 100.5})
    assert "data" not in body
    assert "Int cannot represent non-integer value" in body["errors"][0]["message"]
