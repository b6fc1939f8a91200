"""Tracking links as the buyer makes, lists and revokes them: the token is shown once
and kept only as a hash, links belong to the buyer alone, and every refusal is typed."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from tracking_support import (
    CREATE_LINK,
    REVOKE_LINK,
    journey,
    path_of,
    token_of,
    user_errors,
)

from conftest import T0, FixedClock, GraphQL, make_token
from db.commands import tracking_links
from db.engine import Database
from db.errors import DomainErrors
from db.models import TrackingLink

LINKS = "query Links($id: ID!) { order(id: $id) { trackingLinks { id url revokedAt } } }"
NODE = "query Node($id: ID!) { node(id: $id) { __typename id } }"


async def test_the_create_payload_shows_the_url_with_its_token_once(
    client: httpx.AsyncClient,
) -> None:
    j = await journey(client)
    link = await j.link()
    assert link["url"].startswith("http://127.0.0.1:8000/track/")
    token = token_of(link["url"])
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 >= 128
    assert link["revokedAt"] is None
    assert link["expiresAt"] is None
    assert link["createdAt"] == T0.isoformat()

    later = await j.buyer(LINKS, {"id": j.order_id})
    [listed] = later["data"]["order"]["trackingLinks"]
    assert listed["id"] == link["id"]
    assert listed["url"] == "http://127.0.0.1:8000/track/…"
    assert token not in str(later)


async def test_only_the_tokens_hash_is_stored(client: httpx.AsyncClient, db: Database) -> None:
    j = await journey(client)
    token = token_of((await j.link())["url"])
    async with db.read_session() as session:
        [row] = (await session.scalars(select(TrackingLink))).all()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr({c.name: getattr(row, c.name) for c in TrackingLink.__table__.c})


async def test_two_links_have_unrelated_tokens(client: httpx.AsyncClient) -> None:
    j = await journey(client)
    first, second = token_of((await j.link())["url"]), token_of((await j.link())["url"])
    assert first != second
    assert not set(first[i : i + 6] for i in range(27)) & set(second[i : i + 6] for i in range(27))


async def test_the_url_uses_the_configured_public_address(
    settings, db: Database, clock: FixedClock
) -> None:
    from app.main import create_app

    configured = settings.model_copy(update={"public_url": "https://track.example.com/"})
    app = create_app(configured, db=db, clock=clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        j = await journey(http)
        url = (await j.link())["url"]
        assert url.startswith("https://track.example.com/track/")
        assert (await http.get(path_of(url))).status_code == 200


async def test_a_retry_with_the_same_key_returns_the_same_link_without_its_token(
    client: httpx.AsyncClient,
) -> None:
    j = await journey(client)
    first = await j.link(idempotencyKey="mail-42")
    again = await j.link(idempotencyKey="mail-42")
    assert again["id"] == first["id"]
    assert again["url"].endswith("/track/…")
    listed = (await j.buyer(LINKS, {"id": j.order_id}))["data"]["order"]["trackingLinks"]
    assert len(listed) == 1


async def test_an_order_without_a_client_gets_no_link(client: httpx.AsyncClient) -> None:
    j = await journey(client, client=False)
    errors = await user_errors(j.buyer, CREATE_LINK, {"orderId": j.order_id})
    assert errors == [
        {
            "code": "VALIDATION",
            "message": "this order has no client: a tracking link shows an order to its client",
            "field": ["input", "orderId"],
        }
    ]


async def test_an_expiry_that_is_not_in_the_future_is_refused(client: httpx.AsyncClient) -> None:
    j = await journey(client)
    errors = await user_errors(
        j.buyer, CREATE_LINK, {"orderId": j.order_id, "expiresAt": T0.isoformat()}
    )
    assert [(e["code"], e["field"]) for e in errors] == [("VALIDATION", ["input", "expiresAt"])]
    later = (T0 + timedelta(days=7)).isoformat()
    assert (await j.link(expiresAt=later))["expiresAt"] == later


async def test_another_orgs_order_is_the_same_not_found_as_no_order(
    client: httpx.AsyncClient,
) -> None:
    j = await journey(client)
    rival = GraphQL(client, make_token("buyer", org="org-z"))
    theirs = await user_errors(rival, CREATE_LINK, {"orderId": j.order_id})
    missing = await user_errors(j.buyer, CREATE_LINK, {"orderId": "ord_aaaaaaaaaaaaaaaaaaaa"})
    assert (
        theirs
        == missing
        == [{"code": "NOT_FOUND", "message": "no such order", "field": ["input", "orderId"]}]
    )


@pytest.mark.parametrize("role", ["client", "supplier"])
async def test_links_do_not_exist_for_a_client_or_a_supplier(
    client: httpx.AsyncClient, role: str
) -> None:
    j = await journey(client)
    link = await j.link()
    caller = j.client if role == "client" else j.supplier
    made = await caller(CREATE_LINK, {"input": {"orderId": j.order_id}})
    assert "data" not in made, made
    assert made["errors"], made
    listed = await caller(LINKS, {"id": j.order_id})
    assert listed["errors"][0]["message"] == ("Cannot query field 'trackingLinks' on type 'Order'.")
    assert (await caller(NODE, {"id": link["id"]}))["data"] == {"node": None}


async def test_the_buyer_finds_a_link_by_its_id(client: httpx.AsyncClient) -> None:
    j = await journey(client)
    link = await j.link()
    found = await j.buyer(NODE, {"id": link["id"]})
    assert found["data"]["node"] == {"__typename": "TrackingLink", "id": link["id"]}
    rival = GraphQL(client, make_token("buyer", org="org-z"))
    assert (await rival(NODE, {"id": link["id"]}))["data"] == {"node": None}


async def test_revoking_closes_the_page_and_a_second_revocation_changes_nothing(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    j = await journey(client)
    link = await j.link()
    assert (await client.get(path_of(link["url"]))).status_code == 200
    body = await j.buyer(REVOKE_LINK, {"input": {"linkId": link["id"]}})
    revoked = body["data"]["revokeTrackingLink"]["trackingLink"]
    assert revoked["revokedAt"] == T0.isoformat()
    assert (await client.get(path_of(link["url"]))).status_code == 404
    clock.advance(hours=1)
    again = await j.buyer(REVOKE_LINK, {"input": {"linkId": link["id"]}})
    assert again["data"]["revokeTrackingLink"]["trackingLink"]["revokedAt"] == T0.isoformat()


async def test_another_orgs_buyer_cannot_revoke_a_link(client: httpx.AsyncClient) -> None:
    j = await journey(client)
    link = await j.link()
    rival = GraphQL(client, make_token("buyer", org="org-z"))
    errors = await user_errors(rival, REVOKE_LINK, {"linkId": link["id"]})
    assert errors == [
        {"code": "NOT_FOUND", "message": "no such tracking link", "field": ["input", "linkId"]}
    ]
    assert (await client.get(path_of(link["url"]))).status_code == 200


async def test_an_order_has_a_bounded_number_of_live_links(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracking_links, "MAX_LIVE_LINKS", 2)
    j = await journey(client)
    first = await j.link()
    await j.link()
    errors = await user_errors(j.buyer, CREATE_LINK, {"orderId": j.order_id})
    assert [e["code"] for e in errors] == ["VALIDATION"]
    await j.buyer(REVOKE_LINK, {"input": {"linkId": first["id"]}})
    await j.link()


async def test_the_system_makes_a_link_for_an_email_inside_its_own_transaction(
    client: httpx.AsyncClient, db: Database
) -> None:
    j = await journey(client)
    async with db.write_session() as session, session.begin():
        issued = await tracking_links.create_link_for_order(
            session, org="org-a", order_id=j.order_id, now=T0
        )
    assert issued.row.created_by == "handoff"
    assert (await client.get(f"/track/{issued.secret}")).status_code == 200

    orphan = await journey(client, client=False)
    with pytest.raises(DomainErrors):
        async with db.write_session() as session, session.begin():
            await tracking_links.create_link_for_order(
                session, org="org-a", order_id=orphan.order_id, now=T0
            )
