"""schemathesis against the ASGI app, once per role, with that role's token and the
schema that role introspects: no generated request may produce a server error or a
masked "Unexpected error.". Deterministic (derandomized) so CI is repeatable."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes
from schemathesis.specs.graphql.schemas import GraphQLSchema

from app.main import create_app
from app.settings import Settings
from conftest import AUDIENCE, ISSUER, SECRET, make_token
from db.engine import connect
from db.seed import SeedResult, seed

EXAMPLES = 120

# Our custom scalars: mostly well-formed values, some garbage the server must refuse.
schemathesis.graphql.scalar(
    "Decimal",
    st.one_of(
        st.decimals(min_value=-(10**6), max_value=10**6, places=2).map(str),
        st.text(max_size=8),
    ).map(nodes.String),
)
schemathesis.graphql.scalar(
    "Date", st.one_of(st.dates().map(date.isoformat), st.text(max_size=12)).map(nodes.String)
)
schemathesis.graphql.scalar(
    "DateTime",
    st.one_of(
        st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat), st.text(max_size=12)
    ).map(nodes.String),
)


@pytest.fixture(scope="module")
def seeded(
    migrated_template: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, SeedResult]:
    """A database with a small org, shared by the three role runs."""
    import shutil

    if migrated_template.startswith("postgresql"):
        url = migrated_template
    else:
        path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
        shutil.copyfile(migrated_template, path)
        url = f"sqlite+aiosqlite:///{path}"

    async def fill() -> SeedResult:
        db = connect(url)
        try:
            return await seed(
                db=db,
                org="fuzz-org",
                orders=30,
                suppliers=3,
                clients=2,
                seed=3,
                now=datetime(2026, 3, 1, tzinfo=UTC),
            )
        finally:
            await db.dispose()

    return url, asyncio.run(fill())


def _schema_for(url: str, token: str) -> GraphQLSchema:
    settings_ = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        jwt_secret=SECRET,
        jwt_audience=AUDIENCE,
        jwt_issuer=ISSUER,
    )
    app = create_app(settings_)
    return schemathesis.graphql.from_asgi(
        "/graphql", app, headers={"Authorization": f"Bearer {token}"}
    )


@pytest.fixture(scope="module")
def buyer_schema(seeded: tuple[str, SeedResult]) -> GraphQLSchema:
    return _schema_for(seeded[0], make_token("buyer", org="fuzz-org"))


@pytest.fixture(scope="module")
def client_schema(seeded: tuple[str, SeedResult]) -> GraphQLSchema:
    url, result = seeded
    return _schema_for(url, make_token("client", org="fuzz-org", client_id=result.clients[0]))


@pytest.fixture(scope="module")
def supplier_schema(seeded: tuple[str, SeedResult]) -> GraphQLSchema:
    url, result = seeded
    token = make_token("supplier", org="fuzz-org", supplier_id=result.suppliers[0])
    return _schema_for(url, token)


FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _fuzz(schema: GraphQLSchema, role: str, token: str) -> int:
    """Run generated operations (queries and, for buyer and supplier, mutations)."""
    calls = 0

    @FUZZ
    @given(case=schema.as_strategy())
    def run(case: schemathesis.Case) -> None:
        nonlocal calls
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        calls += 1
        assert response.status_code < 500, (role, case.body, response.text)
        assert "Unexpected error." not in response.text, (role, case.body, response.text)

    run()
    return calls


def test_buyer_requests_never_cause_a_server_error(
    seeded: tuple[str, SeedResult], buyer_schema: GraphQLSchema
) -> None:
    assert _fuzz(buyer_schema, "buyer", make_token("buyer", org="fuzz-org")) >= EXAMPLES // 2


def test_client_requests_never_cause_a_server_error(
    seeded: tuple[str, SeedResult], client_schema: GraphQLSchema
) -> None:
    token = make_token("client", org="fuzz-org", client_id=seeded[1].clients[0])
    assert _fuzz(client_schema, "client", token) >= EXAMPLES // 2


def test_supplier_requests_never_cause_a_server_error(
    seeded: tuple[str, SeedResult], supplier_schema: GraphQLSchema
) -> None:
    token = make_token("supplier", org="fuzz-org", supplier_id=seeded[1].suppliers[0])
    assert _fuzz(supplier_schema, "supplier", token) >= EXAMPLES // 2
