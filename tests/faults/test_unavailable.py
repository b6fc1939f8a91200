"""A clear, retryable answer when an operation cannot be served now (issue 17, faults):
HTTP 503, code SERVICE_UNAVAILABLE, Retry-After — when the database cannot be reached,
when admission control sheds, on HTTP and on the WebSocket alike; never a masked
"Unexpected error." and never SQL in the log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from conftest import FixedClock, make_token
from db.engine import Database, connect
from live_support import free_port, serving, socket_to

ORDERS = {"query": "{ orders(first: 5) { totalCount edges { node { id number } } } }"}
CREATE = {"query": 'mutation { createSupplier(input: {name: "Acme"}) { supplier { id } } }'}


def _unavailable(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 503, response.content
    assert response.headers["retry-after"] == "2"
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["extensions"]["reason"] == reason
    assert error["extensions"]["retryAfter"] == 2
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert "data" not in response.json()


@pytest.fixture
async def nowhere(settings: Settings, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    """The app on a PostgreSQL URL where nothing listens: the database is gone."""
    database = connect(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/gone")
    app = create_app(settings, db=database, clock=clock)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://handoff.test") as c:
            yield c
    finally:
        await database.dispose()


async def test_with_the_database_gone_queries_and_mutations_answer_503_and_readyz_is_unready(
    nowhere: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    caplog.set_level(logging.INFO)
    headers = {"Authorization": f"Bearer {make_token('buyer')}"}

    # when
    query = await nowhere.post("/graphql", json=ORDERS, headers=headers)
    mutation = await nowhere.post("/graphql", json=CREATE, headers=headers)
    ready = await nowhere.get("/readyz")

    # then
    _unavailable(query, "database")
    _unavailable(mutation, "database")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable"}
    assert "SELECT" not in caplog.text
    assert "INSERT" not in caplog.text
    assert "Unexpected error" not in caplog.text
    assert "database unavailable" in caplog.text


async def test_admission_sheds_with_503_when_the_queue_is_full(
    settings: Settings, db: Database, clock: FixedClock
) -> None:
    # given: one slot, held; nobody may queue
    tight = settings.model_copy(update={"max_concurrent_executions": 1, "max_queued_executions": 0})
    app = create_app(tight, db=db, clock=clock)
    slots: asyncio.Semaphore = app.state.execution_slots
    headers = {"Authorization": f"Bearer {make_token('buyer')}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://handoff.test"
    ) as http:
        await slots.acquire()

        # when
        shed = await http.post("/graphql", json=ORDERS, headers=headers)
        slots.release()
        served = await http.post("/graphql", json=ORDERS, headers=headers)

    # then
    _unavailable(shed, "busy")
    assert served.status_code == 200
    assert "errors" not in served.json()


async def test_admission_sheds_with_503_when_no_slot_frees_up_in_time(
    settings: Settings, db: Database, clock: FixedClock
) -> None:
    # given: one slot, held; one may queue, briefly
    tight = settings.model_copy(
        update={
            "max_concurrent_executions": 1,
            "max_queued_executions": 1,
            "admission_timeout_seconds": 0.05,
        }
    )
    app = create_app(tight, db=db, clock=clock)
    slots: asyncio.Semaphore = app.state.execution_slots
    headers = {"Authorization": f"Bearer {make_token('buyer')}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://handoff.test"
    ) as http:
        await slots.acquire()
        try:
            # when
            waited = await http.post("/graphql", json=ORDERS, headers=headers)
        finally:
            slots.release()

    # then
    _unavailable(waited, "busy")
    assert app.state.admission_waiting == 0


async def test_with_the_database_gone_a_socket_operation_gets_the_same_error(
    settings: Settings, clock: FixedClock
) -> None:
    # given
    database = connect(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/gone")
    app = create_app(settings, db=database, clock=clock)
    try:
        async with serving(app) as live, socket_to(live.ws, make_token("buyer")) as socket_:
            # when
            await socket_.subscribe("q", ORDERS["query"])
            message = await socket_.receive()
    finally:
        await database.dispose()

    # then
    assert message["type"] == "error"
    [error] = message["payload"]
    assert error["message"] == "The database is unavailable; try again shortly."
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
