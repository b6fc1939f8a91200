"""The SSRF guard: only http(s), and only public addresses after DNS resolution —
unless private targets are allowed — and the request goes to the address checked."""

from __future__ import annotations

import ipaddress

import pytest
from sqlalchemy import update
from webhook_support import ENDPOINTS, create_endpoint, deliveries, receiving, settings, worker

from app.settings import Settings
from app.targets import RefusedTarget, forbidden, resolve
from conftest import FixedClock, GraphQL
from db.engine import Database
from db.models import WebhookEndpoint
from graphql_support import CREATE_SUPPLIER, mutate

__all__ = ["settings"]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "169.254.1.1",
        "100.64.0.1",  # shared (CGNAT)
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",  # cloud metadata over IPv6
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
    ],
)
def test_non_public_addresses_are_forbidden(address: str) -> None:
    assert forbidden(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_not(address: str) -> None:
    assert not forbidden(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "https://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://10.0.0.7/hook",
        "http://0x7f000001/hook",  # 127.0.0.1 spelled as a number
    ],
)
async def test_private_targets_are_refused(url: str) -> None:
    with pytest.raises(RefusedTarget):
        await resolve(url, allow_private=False)


@pytest.mark.parametrize("url", ["http://" + "ü" * 64 + ".example/hook", "http://a..b/hook"])
async def test_a_name_that_cannot_be_looked_up_is_refused_not_raised(url: str) -> None:
    with pytest.raises(RefusedTarget):
        await resolve(url, allow_private=True)


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://x/"])
async def test_only_http_and_https(url: str) -> None:
    with pytest.raises(RefusedTarget):
        await resolve(url, allow_private=True)


async def test_allowed_private_targets_connect_to_the_address_checked() -> None:
    target = await resolve("http://localhost:8123/a/b?c=d", allow_private=True)
    assert target.address.is_loopback
    # the request goes to the address, never to a second lookup of the name
    assert target.url.endswith(":8123/a/b?c=d")
    assert "localhost" not in target.url
    assert target.host_header == "localhost:8123"


async def test_https_keeps_the_name_for_tls() -> None:
    target = await resolve("https://127.0.0.1/x", allow_private=True)
    assert target.sni is None  # an address: nothing to verify a name against
    named = await resolve("https://localhost/x", allow_private=True)
    assert named.sni == "localhost"
    assert named.host_header == "localhost"


async def test_the_worker_sends_nothing_to_a_private_target(
    buyer: GraphQL, db: Database, clock: FixedClock
) -> None:
    async with receiving() as receiver:
        await create_endpoint(buyer, receiver.url, ["ORDER_EVENT"])
        supplier = (await mutate(buyer, CREATE_SUPPLIER, {"name": "Acme"}))["id"]
        await buyer(
            """mutation($s: ID!) { issueOrder(input: {supplierId: $s, needBy: "2026-04-01",
            currency: "EUR", lines: [{partNumber: "P", quantity: 1, unitPrice: "1"}]})
            { order { id } } }""",
            {"s": supplier},
        )
        guarded = worker(db, clock, allow_private=False)
        try:
            await guarded.run_once()
        finally:
            await guarded.stop()
    assert receiver.started == 0
    [delivery] = await deliveries(buyer)
    assert (delivery["status"], delivery["attempts"], delivery["lastResponseCode"]) == (
        "PENDING",
        1,
        None,
    )


def test_production_refuses_a_weak_webhook_key_and_turns_webhooks_off_without_one() -> None:
    strong = "x" * 40
    with pytest.raises(ValueError):
        Settings(
            _env_file=None, environment="production", jwt_secret=strong, webhook_secret_key="short"
        )  # type: ignore[call-arg]
    off = Settings(_env_file=None, environment="production", jwt_secret=strong)  # type: ignore[call-arg]
    assert off.webhook_key() is None
    on = Settings(
        _env_file=None, environment="production", jwt_secret=strong, webhook_secret_key="k" * 40
    )  # type: ignore[call-arg]
    assert on.webhook_key() == "k" * 40


async def test_one_poisoned_endpoint_does_not_stall_the_others(
    buyer: GraphQL, db: Database, clock: FixedClock
) -> None:
    """Found by an outside probe: an endpoint whose host raised outside the expected
    errors aborted the whole pass, so nobody's deliveries were ever settled and every
    receiver got the same ones again and again."""
    async with receiving() as receiver:
        good, _ = await create_endpoint(buyer, receiver.url, ["ORDER_EVENT"])
        bad, _ = await create_endpoint(buyer, receiver.url, ["ORDER_EVENT"])
        # given: one endpoint's URL turned into one no resolver accepts (as it could be
        # from an older release, or a resolver that refuses differently)
        async with db.write_session() as session, session.begin():
            await session.execute(
                update(WebhookEndpoint)
                .where(WebhookEndpoint.id == bad)
                .values(url="http://" + "ü" * 64 + ".example/hook")
            )
        supplier = (await mutate(buyer, CREATE_SUPPLIER, {"name": "Acme"}))["id"]
        await buyer(
            """mutation($s: ID!) { issueOrder(input: {supplierId: $s, needBy: "2026-04-01",
            currency: "EUR", lines: [{partNumber: "P", quantity: 1, unitPrice: "1"}]})
            { order { id } } }""",
            {"s": supplier},
        )
        sender = worker(db, clock)
        try:
            await sender.run_once()
        finally:
            await sender.stop()
    # then: the good endpoint's delivery is settled as delivered, once; the bad one is
    # settled as a failed attempt
    assert receiver.started == 1
    body = await buyer(ENDPOINTS)
    states = {
        e["node"]["id"]: [(d["node"]["status"], d["node"]["attempts"]) for d in edges]
        for e in body["data"]["webhookEndpoints"]["edges"]
        if (edges := e["node"]["deliveries"]["edges"]) is not None
    }
    assert states == {good: [("DELIVERED", 1)], bad: [("PENDING", 1)]}
