"""What the webhook tests share: a real HTTP receiver on 127.0.0.1 (uvicorn, a port the
OS picks) that records every request and answers as told, the mutation documents, and
a worker wired to the test's database and clock."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn

from app.delivery import DeliveryConfig, DeliveryWorker
from app.settings import Settings
from conftest import AUDIENCE, ISSUER, SECRET, GraphQL
from db.clock import Clock
from db.engine import Database
from db.webhook_secrets import SecretBox
from graphql_support import USER_ERRORS, payload_mutation

WAIT = 10.0
TEST_KEY = "test-webhook-secret-key-0123456789abcdef"

ENDPOINT = "webhookEndpoint { id url events enabled description createdAt }"
CREATE_ENDPOINT = payload_mutation(
    "createWebhookEndpoint", "CreateWebhookEndpointInput", f"{ENDPOINT} secret"
)
DELETE_ENDPOINT = payload_mutation(
    "deleteWebhookEndpoint", "DeleteWebhookEndpointInput", f"{ENDPOINT} secret"
)
ROTATE_SECRET = payload_mutation(
    "rotateWebhookSecret", "RotateWebhookSecretInput", f"{ENDPOINT} secret"
)
REDELIVER = payload_mutation("redeliverWebhook", "RedeliverWebhookInput", f"{ENDPOINT} secret")
ENDPOINTS = """
query Endpoints {
  webhookEndpoints {
    totalCount
    edges { node { id url events enabled
      deliveries { totalCount edges { node {
        id event status attempts lastResponseCode nextAttemptAt createdAt } } } } }
  }
}
"""
NODE = "query Node($id: ID!) { node(id: $id) { id ... on WebhookEndpoint { url } } }"
__all__ = ["USER_ERRORS"]


@pytest.fixture
def settings() -> Settings:
    """The suite's settings with a webhook key (test modules import this fixture)."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        jwt_secret=SECRET,
        jwt_audience=AUDIENCE,
        jwt_issuer=ISSUER,
        environment="development",
        webhook_secret_key=TEST_KEY,
        webhook_allow_private_targets=True,
    )


@dataclass
class Request:
    headers: dict[str, str]
    body: bytes
    path: str
    at: float = field(default_factory=time.monotonic)


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # never answer (until the receiver stops)


class Receiver:
    """Records requests; answers with ``plan`` in order, then ``default``."""

    def __init__(self) -> None:
        self.requests: list[Request] = []  # answered ones
        self.attempted: list[Request] = []  # every one that arrived, hanging ones too
        self.started = 0  # requests whose answer began (hanging ones included)
        self.plan: list[Answer] = []
        self.default = Answer()
        self.delay = 0.0
        self.port = 0
        self._release = asyncio.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def release(self) -> None:
        self._release.set()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.started += 1
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.attempted.append(Request(headers, body, scope["path"]))
        answer = self.plan.pop(0) if self.plan else self.default
        if answer.hang:
            await self._release.wait()
            return
        if self.delay:
            await asyncio.sleep(self.delay)
        self.requests.append(Request(headers, body, scope["path"]))
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": [(k.encode(), v.encode()) for k, v in answer.headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": b"ok"})

    def ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.requests]


@contextlib.asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    server = uvicorn.Server(
        uvicorn.Config(receiver, host="127.0.0.1", port=0, log_config=None, lifespan="off")
    )
    server.config.timeout_graceful_shutdown = 1
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(WAIT):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        receiver.port = server.servers[0].sockets[0].getsockname()[1]
        yield receiver
    finally:
        receiver.release()
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, WAIT)


def worker_env(**more: str) -> dict[str, str]:
    """The environment of a server or worker process that delivers to the receiver."""
    return {
        "WEBHOOK_SECRET_KEY": TEST_KEY,
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "WEBHOOK_TIMEOUT_SECONDS": "1",
        "WEBHOOK_POLL_SECONDS": "0.1",
        **more,
    }


async def wait_for(predicate: Callable[[], bool], within: float = WAIT) -> None:
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - a poll of another process's effects
            await asyncio.sleep(0.02)


def worker(db: Database, clock: Clock, *, allow_private: bool = True) -> DeliveryWorker:
    return DeliveryWorker(
        db,
        clock,
        SecretBox(TEST_KEY),
        DeliveryConfig(allow_private=allow_private, timeout_seconds=2.0, poll_seconds=0.05),
    )


async def create_endpoint(gql: GraphQL, url: str, events: list[str]) -> tuple[str, str]:
    """An endpoint that must be made: (id, secret)."""
    body = await gql(CREATE_ENDPOINT, {"input": {"url": url, "events": events}})
    assert "errors" not in body, body
    payload = body["data"]["createWebhookEndpoint"]
    assert payload["userErrors"] == [], payload
    return payload["webhookEndpoint"]["id"], payload["secret"]


async def deliveries(gql: GraphQL) -> list[dict[str, Any]]:
    """Every delivery of the caller's endpoints (first page of each), newest first."""
    body = await gql(ENDPOINTS)
    assert "errors" not in body, body
    return [
        d["node"]
        for e in body["data"]["webhookEndpoints"]["edges"]
        for d in e["node"]["deliveries"]["edges"]
    ]
