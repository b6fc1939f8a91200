"""Transport and document limits: what is refused is refused before any resolver runs,
with a clear error; unexpected failures are masked, logged and counted."""

from __future__ import annotations

import logging
import re

import httpx
import pytest

from conftest import GraphQL, make_token

AUTH = {"Authorization": f"Bearer {make_token('buyer')}"}


def _statements(caplog: pytest.LogCaptureFixture) -> int:
    [record] = [r for r in caplog.records if r.getMessage() == "graphql request"]
    return int(record.sql_statements)  # type: ignore[attr-defined]


async def test_a_query_at_the_depth_limit_passes_and_one_deeper_fails(buyer: GraphQL) -> None:
    ok = (
        "{ orders(first: 1) { edges { node { supplier { orders(first: 1) { edges { node {"
        " supplier { orders(first: 1) { totalCount } } } } } } } } } }"
    )
    body = await buyer(ok)  # depth 10
    assert "errors" not in body
    too_deep = ok.replace("{ totalCount }", "{ edges { cursor } }")  # depth 11
    body = await buyer(too_deep)
    assert body == {"errors": [{"message": "Query is too deep: 11 levels (limit 10)."}]}


async def test_aliases_over_the_limit_fail_before_any_sql(
    buyer: GraphQL, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "handoff.http")
    fifteen = "{ " + " ".join(f"a{i}: viewer {{ role }}" for i in range(15)) + " }"
    assert "errors" not in await buyer(fifteen)
    caplog.clear()
    sixteen = "{ " + " ".join(f"a{i}: orders {{ totalCount }}" for i in range(16)) + " }"
    body = await buyer(sixteen)
    assert body == {"errors": [{"message": "Query uses too many aliases (limit 15)."}]}
    assert _statements(caplog) == 0


ORDER_FIELDS = [
    "id",
    "number",
    "stage",
    "currency",
    "total",
    "terms",
    "leadTimeDays",
    "needBy",
    "promisedDate",
    "issuedAt",
    "acknowledgedAt",
    "productionStartedAt",
    "dispatchedAt",
    "deliveredAt",
    "stageEnteredAt",
    "internalNote",
    "version",
    "outlook",
    "clientReference",
]


TWO_DIRECTIVES = "@include(if: true) @skip(if: false)"


def _directives_doc(extra: str) -> str:
    # 25 leaf fields with two directives each: 50; `extra` may add one on `node`.
    node = " ".join(f"{f} {TWO_DIRECTIVES}" for f in ORDER_FIELDS)
    page = " ".join(
        f"{f} {TWO_DIRECTIVES}"
        for f in ("hasNextPage", "hasPreviousPage", "startCursor", "endCursor")
    )
    return (
        f"{{ orders(first: 1) {{ totalCount {TWO_DIRECTIVES} pageInfo {{ {page} }} "
        f"edges {{ cursor {TWO_DIRECTIVES} node {extra} {{ {node} }} }} }} }}"
    )


async def test_directives_over_the_limit_fail(buyer: GraphQL) -> None:
    doc = _directives_doc
    assert "errors" not in await buyer(doc(""))
    body = await buyer(doc("@include(if: true)"))
    assert body == {"errors": [{"message": "Query uses too many directives (limit 50)."}]}


def _stages(n: int) -> str:
    # 16 punctuation and name tokens plus one per list value
    return "{ orders(filter: {stages: [" + "ISSUED " * n + "]}) { totalCount } }"


async def test_a_document_over_the_token_limit_fails(buyer: GraphQL) -> None:
    assert "errors" not in await buyer(_stages(2000 - 16))
    body = await buyer(_stages(2000 - 15))
    assert body == {"errors": [{"message": "Query is too large (limit 2000 tokens)."}]}


async def test_a_field_repeated_beyond_the_limit_in_one_place_fails(buyer: GraphQL) -> None:
    # Overlapping-field validation is quadratic in repeats: bound them before it runs.
    def doc(n: int) -> str:
        return "{ " + " ".join(["orders { totalCount }"] * n) + " }"

    assert "errors" not in await buyer(doc(20))
    body = await buyer(doc(21))
    assert body == {
        "errors": [{"message": "Query selects 'orders' too often in one place (limit 20)."}]
    }


async def test_a_fragment_bomb_is_refused_quickly(buyer: GraphQL) -> None:
    fragments = " ".join(
        f"fragment F{i} on Viewer {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40)
    )
    body = await buyer("{ viewer { ...F0 } } " + fragments + " fragment F40 on Viewer { role }")
    assert body["errors"][0]["message"].startswith("Query selects 'role' too often")


@pytest.mark.parametrize("first", [-1, 101])
async def test_page_size_outside_zero_to_one_hundred_is_an_error(
    buyer: GraphQL, first: int
) -> None:
    body = await buyer("query($f: Int) { orders(first: $f) { totalCount } }", {"f": first})
    assert body["errors"][0]["message"] == "first must be between 0 and 100."
    assert body["data"] is None
    assert "errors" not in await buyer("{ orders(first: 100) { totalCount } }")


async def test_a_body_over_100_kb_is_refused(client: httpx.AsyncClient) -> None:
    query = "{ viewer { role } }" + " " * 100_001
    response = await client.post("/graphql", json={"query": query}, headers=AUTH)
    assert response.status_code == 413
    assert "too large" in response.json()["errors"][0]["message"]


async def test_a_mutation_over_get_is_refused(client: httpx.AsyncClient) -> None:
    query = 'mutation { createClient(input: {name: "x"}) { client { id } } }'
    response = await client.get("/graphql", params={"query": query}, headers=AUTH)
    assert response.status_code == 405
    body = await client.post("/graphql", json={"query": "{ clients { totalCount } }"}, headers=AUTH)
    assert body.json()["data"]["clients"]["totalCount"] == 0  # nothing was created


async def test_a_query_over_get_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ viewer { role } }"}, headers=AUTH)
    assert response.json() == {"data": {"viewer": {"role": "buyer"}}}


async def test_a_form_encoded_post_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", data={"query": "{ viewer { role } }"}, headers=AUTH)
    assert response.status_code == 415


async def test_a_batched_json_array_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json=[{"query": "{ viewer { role } }"}] * 2, headers=AUTH
    )
    assert response.status_code == 400
    assert response.json() == {"errors": [{"message": "Batched requests are not supported."}]}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "Request body is not valid JSON."),
        (b'{"query": 42}', "A query string is required."),
        (b'{"query": "{ viewer { role } }", "variables": [1]}', "variables must be a JSON object."),
    ],
)
async def test_malformed_requests_get_a_clear_error(
    client: httpx.AsyncClient, body: bytes, message: str
) -> None:
    response = await client.post(
        "/graphql", content=body, headers={**AUTH, "content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == {"errors": [{"message": message}]}


async def test_an_internal_error_is_masked_logged_with_its_request_id_and_counted(
    client: httpx.AsyncClient,
    buyer: GraphQL,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from db.queries import orders as queries

    async def broken(**_: object) -> None:
        raise RuntimeError("SELECT secret_column FROM internal_table")

    monkeypatch.setattr(queries, "order_by_number", broken)
    caplog.set_level(logging.INFO)
    response = await buyer.raw('query Boom { orderByNumber(number: "PO-1") { id } }')
    text = response.text
    body = response.json()
    assert body["errors"][0]["message"] == "Unexpected error."
    request_id = body["errors"][0]["extensions"]["requestId"]
    for leak in ("secret_column", "internal_table", "RuntimeError", "Traceback", "queries"):
        assert leak not in text
    [logged] = [r for r in caplog.records if r.getMessage() == "unexpected error in resolver"]
    assert logged.request_id == request_id  # type: ignore[attr-defined]
    assert logged.exc_info is not None
    assert "secret_column" in str(logged.exc_info[1])
    metrics = (await client.get("/metrics")).text
    assert re.search(
        r'handoff_requests_total\{operation="Boom",outcome="error",worker="\d+"\} 1', metrics
    )


async def test_introspection_and_graphiql_are_off_when_configured(
    db: object, settings: object
) -> None:
    from app.main import create_app
    from app.settings import Settings

    assert isinstance(settings, Settings)
    off = settings.model_copy(update={"graphiql": False})
    app = create_app(off, db=db)  # type: ignore[arg-type]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        page = await http.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 401  # no GraphiQL page: it is just an unauthenticated call
        body = (
            await http.post(
                "/graphql", json={"query": "{ __schema { types { name } } }"}, headers=AUTH
            )
        ).json()
    assert "data" not in body or body["data"] is None
    assert "introspection" in body["errors"][0]["message"].lower()


NESTED = """query($outer: Int, $inner: Int) { suppliers(first: $outer) { edges { node {
  orders(first: $inner) { totalCount } } } } }"""


async def test_nested_pages_are_bounded_by_the_query_cost(
    buyer: GraphQL, caplog: pytest.LogCaptureFixture
) -> None:
    # 40 + 40 x 100 = 4,040 rows at most: allowed; 50 + 50 x 100 = 5,050: refused.
    assert "errors" not in await buyer(NESTED, {"outer": 40, "inner": 100})
    caplog.set_level(logging.INFO, "handoff.http")
    caplog.clear()
    body = await buyer(NESTED, {"outer": 50, "inner": 100})
    assert body == {
        "errors": [
            {
                "message": "Query may return too many rows: cost 5050 (limit 5000). "
                "Ask for smaller pages, or fewer nested ones."
            }
        ]
    }
    assert _statements(caplog) == 0


async def test_defaults_count_toward_the_query_cost(buyer: GraphQL) -> None:
    # orders defaults to 20 per page: 14 aliases x (100 + 100 x 20) = 29,400
    aliased = (
        "{ "
        + " ".join(
            f"a{i}: orders(first: 100) {{ edges {{ node {{ supplier {{ orders {{ totalCount }} }}"
            " } } }"
            for i in range(14)
        )
        + " }"
    )
    body = await buyer(aliased)
    assert body["errors"][0]["message"].startswith("Query may return too many rows: cost 29400")


LIMIT_BREAKERS = {  # limit -> a document just over it (its error names the limit)
    "depth": "{ orders(first: 1) { edges { node { supplier { orders(first: 1) { edges { node {"
    " supplier { orders(first: 1) { edges { cursor } } } } } } } } } } }",
    "aliases": "{ " + " ".join(f"a{i}: orders {{ totalCount }}" for i in range(16)) + " }",
    "directives": _directives_doc("@include(if: true)"),
    "tokens": _stages(2000 - 15),
    "repeats": "{ " + " ".join(["orders { totalCount }"] * 21) + " }",
    "cost": "{ suppliers(first: 100) { edges { node { orders(first: 100) { totalCount } } } } }",
}


LIMITS = {"depth": 10, "aliases": 15, "directives": 50, "tokens": 2000, "repeats": 20, "cost": 5000}


@pytest.mark.parametrize("limit", list(LIMIT_BREAKERS))
async def test_a_refused_document_runs_no_resolver_and_no_sql(
    buyer: GraphQL,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    limit: str,
) -> None:
    from schema import execute

    ran = []
    monkeypatch.setattr(execute, "execute", lambda *a, **k: ran.append(1))
    caplog.set_level(logging.INFO, "handoff.http")
    body = await buyer(LIMIT_BREAKERS[limit])
    assert "data" not in body
    [error] = body["errors"]
    assert f"(limit {LIMITS[limit]}" in error["message"]
    assert ran == []
    assert _statements(caplog) == 0


async def test_the_request_log_is_one_json_object_with_the_request_facts(
    buyer: GraphQL, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from app import logs

    logs.configure("INFO")
    try:
        await buyer("query Who { viewer { role } }")
    finally:
        logging.getLogger().handlers.clear()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    [entry] = [e for e in lines if e.get("message") == "graphql request"]
    assert entry["role"] == "buyer"
    assert entry["org"] == "org-a"
    assert entry["operation"] == "Who"
    assert entry["outcome"] == "ok"
    assert entry["sql_statements"] == 0
    assert isinstance(entry["duration_ms"], float)
    assert len(entry["request_id"]) == 32


async def test_a_variable_default_counts_toward_the_query_cost(buyer: GraphQL) -> None:
    # $f is not sent, so it takes its declared default of 100: 100 + 100 x 100.
    document = NESTED.replace("$outer: Int, $inner: Int", "$outer: Int = 100, $inner: Int = 100")
    body = await buyer(document)
    assert body["errors"][0]["message"].startswith("Query may return too many rows: cost 10100")


@pytest.mark.parametrize(
    "since", ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59-23:59", "2026-01-01T00:00:00"]
)
async def test_a_forged_alert_cursor_is_just_invalid(buyer: GraphQL, since: str) -> None:
    from schema.cursors import encode_parts

    cursor = encode_parts("ALERT", since, "ord_3yr25lyrfa43cyx6lfge", "LATE")
    body = await buyer("query($a: String) { alerts(after: $a) { totalCount } }", {"a": cursor})
    assert body["errors"][0]["message"] == "Invalid cursor."
