"""Delivery across real processes: a server killed with ``kill -9`` while it is sending
(right after the mutation returned) loses nothing — after a restart the delivery
arrives, with the same webhook-id; and two ``handoff worker`` processes on one
database never send the same delivery twice."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from webhook_support import (
    Answer,
    create_endpoint,
    receiving,
    settings,
    wait_for,
    worker_env,
)

from conftest import FixedClock, GraphQL, make_token
from db.engine import Database
from db.models import DeliveryStatus, WebhookDelivery
from graphql_support import CREATE_SUPPLIER, mutate
from live_support import ROOT, Server, post

__all__ = ["settings"]

SUPPLIER = 'mutation { createSupplier(input: {name: "Acme"}) { supplier { id } } }'
ENDPOINT = """mutation($url: String!) { createWebhookEndpoint(input: {url: $url,
  events: [ORDER_EVENT]}) { webhookEndpoint { id } secret userErrors { message } } }"""
ISSUE = """mutation($s: ID!) { issueOrder(input: {supplierId: $s, needBy: "2099-01-01",
  currency: "EUR", lines: [{partNumber: "P", quantity: 1, unitPrice: "1.00"}]}) {
  order { id number } userErrors { message } } }"""
ISSUE_INPUT = """
mutation Issue($input: IssueOrderInput!) {
  issueOrder(input: $input) { order { id } userErrors { code message field } }
}
"""


async def test_a_server_killed_mid_send_delivers_after_a_restart(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    async with receiving() as receiver:
        receiver.plan = [Answer(hang=True)]  # the first attempt never gets an answer
        server = Server(database_url, tmp_path / "server.log", env=worker_env())
        await asyncio.to_thread(server.start)
        try:
            buyer = make_token("buyer")
            supplier = (await post(server.http, buyer, SUPPLIER))["createSupplier"]["supplier"]
            await post(server.http, buyer, ENDPOINT, url=receiver.url)
            # when: the mutation returns and the server dies while sending its event
            await post(server.http, buyer, ISSUE, s=supplier["id"])
            await wait_for(lambda: receiver.started >= 1)
            server.kill()
            assert receiver.requests == []
            # then: after a restart (and the dead worker's lease), it arrives
            await asyncio.to_thread(server.start)
            await wait_for(lambda: len(receiver.requests) >= 1, within=30)
        finally:
            server.stop()
    [hung] = receiver.attempted[:1]
    assert receiver.requests[0].headers["webhook-id"] == hung.headers["webhook-id"]
    assert receiver.requests[0].body == hung.body


class WorkerProcess:
    """``handoff worker`` in a process of its own."""

    def __init__(self, database_url: str, log: Path) -> None:
        env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "INFO", **worker_env()}
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app", "worker"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture
def workers(database_url: str, db: Database, tmp_path: Path) -> Iterator[list[WorkerProcess]]:
    started = [WorkerProcess(database_url, tmp_path / f"worker-{i}.log") for i in range(2)]
    try:
        yield started
    finally:
        for w in started:
            w.stop()


ENDPOINTS = 8
ORDERS = 25


async def test_two_workers_never_send_the_same_delivery_twice(
    buyer: GraphQL, db: Database, clock: FixedClock, workers: list[WorkerProcess]
) -> None:
    async with receiving() as receiver:
        receiver.delay = 0.005  # answers take a moment: the workers overlap
        supplier = (await mutate(buyer, CREATE_SUPPLIER, {"name": "Acme"}))["id"]
        base = receiver.url.rsplit("/", 1)[0]
        for i in range(ENDPOINTS):
            await create_endpoint(buyer, f"{base}/{i}", ["ORDER_EVENT"])
        for _ in range(ORDERS):
            await mutate(
                buyer,
                ISSUE_INPUT,
                {
                    "supplierId": supplier,
                    "needBy": "2026-04-01",
                    "currency": "EUR",
                    "lines": [{"partNumber": "P", "quantity": 1, "unitPrice": "1.00"}],
                },
            )
        expected = ENDPOINTS * ORDERS
        await wait_for(lambda: len(receiver.requests) >= expected, within=90)
        await asyncio.sleep(1.0)  # anything sent twice would arrive meanwhile

    ids = receiver.ids()
    assert len(ids) == expected
    assert len(set(ids)) == expected  # no delivery arrived twice
    async with db.read_session() as session:
        rows = list(await session.scalars(select(WebhookDelivery)))
    assert len(rows) == expected
    assert {(r.status, r.attempts) for r in rows} == {(DeliveryStatus.DELIVERED, 1)}
