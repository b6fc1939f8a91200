"""GET /track/{token}: the client projection of one order, rendered from the fixed
document; one 404 for every dead token; guessing rate-limited; strict headers."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import timedelta

import httpx
import pytest
from graphql import ExecutionResult, GraphQLError, parse, validate
from tracking_support import REVOKE_LINK, journey, path_of

from app import tracking as tracking_module
from app.main import create_app
from app.settings import Settings
from app.tracking_view import TrackingView
from conftest import T0, FixedClock
from db.engine import Database, start_counting
from permissions.policy import is_hidden
from permissions.principal import Principal, Role
from schema.build import schema_for
from schema.context import make_context
from schema.execute import run
from schema.tracking_page import DOCUMENT_PATH, tracking_page_document

ORDERS = "{ orders(first: 50) { totalCount edges { node { id } } } }"


async def test_the_page_shows_the_order_as_its_client_sees_it(client: httpx.AsyncClient) -> None:
    j = await journey(client, stage="DISPATCHED")
    await j.report("OWN_DRIVER", "OUT_FOR_DELIVERY", estimatedArrival="2026-03-03")
    page = await client.get(path_of((await j.link())["url"]))
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    html = page.text
    for shown in (
        f"Order {j.number}",
        "CONTOSO-PO-88",  # the client's own reference
        "BRKT-1001",
        "Mounting bracket",
        "DHL Express",  # a courier's name is the client's to see
        "JD014600006281",
        'href="https://track.example/JD014600006281"',
        "Direct delivery",
        "Out for delivery",
        "Tue 3 Mar 2026",
        "Fri 20 Mar 2026",  # the promised date
        'aria-current="step"',
    ):
        assert shown in html, shown
    for hidden in ("Van 3", "Dave", "Apex Sheet Metal", "Contoso Robotics", "12.50", "0.0125"):
        assert hidden not in html, hidden


async def test_the_page_renders_exactly_what_the_document_returns_to_that_client(
    client: httpx.AsyncClient,
) -> None:
    """The page is the document's result through the templates, and that result is what
    the order's own client gets for the same document over /graphql."""
    j = await journey(client, stage="DISPATCHED")
    page = await client.get(path_of((await j.link())["url"]))
    as_client = await j.client(DOCUMENT_PATH.read_text(), {"orderId": j.order_id})
    assert "errors" not in as_client
    view = TrackingView(refresh_seconds=120)
    assert page.content == view.page(as_client["data"]["order"])


def test_the_document_selects_nothing_hidden_from_clients() -> None:
    document = tracking_page_document()
    schema = schema_for(Role.CLIENT)._schema
    assert validate(schema, document) == []
    # and validation is what would catch a hidden field:
    leaky = DOCUMENT_PATH.read_text().replace("clientReference", "clientReference total")
    [error] = validate(schema, parse(leaky))
    assert error.message == "Cannot query field 'total' on type 'Order'."
    assert is_hidden(Role.CLIENT, "Order", "total")


async def test_a_links_principal_reads_its_one_order_and_no_other(
    client: httpx.AsyncClient, db: Database
) -> None:
    j = await journey(client)
    other = await journey(client)  # another order... of another client: also none
    principal = Principal(
        role=Role.CLIENT,
        org="org-a",
        subject="tracking-link:trk_x",
        client_id=j.client_id,
        order_id=j.order_id,
    )
    schema = schema_for(Role.CLIENT)
    context = make_context(principal=principal, db=db, now=T0, request_id="t")
    result = await run(schema, parse(ORDERS), context=context, variables=None, operation_name=None)
    assert result.errors is None
    assert result.data == {"orders": {"totalCount": 1, "edges": [{"node": {"id": j.order_id}}]}}
    lookup = parse("query($id: ID!) { order(id: $id) { id } }")
    for order_id, seen in ((j.order_id, {"id": j.order_id}), (other.order_id, None)):
        context = make_context(principal=principal, db=db, now=T0, request_id="t")
        found = await run(
            schema, lookup, context=context, variables={"id": order_id}, operation_name=None
        )
        assert found.data == {"order": seen}


async def test_never_issued_revoked_and_expired_tokens_get_the_same_404_after_the_same_work(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    j = await journey(client)
    revoked = await j.link()
    await j.buyer(REVOKE_LINK, {"input": {"linkId": revoked["id"]}})
    expiring = await j.link(expiresAt=(T0 + timedelta(hours=1)).isoformat())
    assert (await client.get(path_of(expiring["url"]))).status_code == 200
    clock.advance(hours=1)
    live = await j.link()

    paths = {
        "never issued": "/track/" + base64.urlsafe_b64encode(bytes(24)).decode(),
        "malformed": "/track/%00%ff..x",
        "revoked": path_of(revoked["url"]),
        "expired": path_of(expiring["url"]),
    }
    answers = {}
    for name, path in paths.items():
        counter = start_counting()
        response = await client.get(path)
        answers[name] = (response.status_code, response.content, dict(response.headers))
        statements = [re.sub(r"\s+", " ", s) for s in counter.statements]
        assert len(statements) == 1, (name, statements)
        answers[name] += (statements[0],)
    assert len(set(map(repr, answers.values()))) == 1, answers
    assert answers["revoked"][0] == 404
    assert (await client.get(path_of(live["url"]))).status_code == 200


async def test_guessing_is_limited_per_address_with_retry_after(
    settings: Settings, db: Database, clock: FixedClock
) -> None:
    limited = settings.model_copy(
        update={
            "tracking_burst": 3,
            "tracking_requests_per_minute": 6,
            "tracking_client_ip_header": "X-Real-IP",
        }
    )
    app = create_app(limited, db=db, clock=clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        guesser = {"X-Real-IP": "203.0.113.9"}
        codes = [
            (await http.get(f"/track/guess{i}", headers=guesser)).status_code for i in range(4)
        ]
        assert codes == [404, 404, 404, 429]
        refused = await http.get("/track/guess5", headers=guesser)
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "10"  # 6 a minute: one every 10 s
        assert refused.headers["content-security-policy"].startswith("default-src 'none'")
        other = await http.get("/track/guess6", headers={"X-Real-IP": "198.51.100.7"})
        assert other.status_code == 404
        stream = await http.get("/track/guess7/events", headers=guesser)
        assert stream.status_code == 429


async def test_responses_forbid_inline_code_framing_referrers_and_caching(
    client: httpx.AsyncClient,
) -> None:
    j = await journey(client)
    for path in (path_of((await j.link())["url"]), "/track/nothing-here"):
        headers = (await client.get(path)).headers
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-store"
        assert headers["x-content-type-options"] == "nosniff"


async def test_page_and_assets_are_small_local_and_match_their_integrity(
    client: httpx.AsyncClient,
) -> None:
    j = await journey(client, stage="DISPATCHED")
    page = await client.get(path_of((await j.link())["url"]))
    html = page.text
    assert "<script>" not in html
    assert "style=" not in html
    assert "<style" not in html
    total = len(page.content)
    for tag, attribute in (("link", "href"), ("script", "src")):
        [(url, integrity)] = re.findall(
            rf'<{tag} [^>]*{attribute}="([^"]+)" integrity="([^"]+)"', html
        )
        assert url.startswith("/track-assets/")
        asset = await client.get(url)
        assert asset.status_code == 200
        assert "immutable" in asset.headers["cache-control"]
        digest = base64.b64encode(hashlib.sha384(asset.content).digest()).decode()
        assert integrity == f"sha384-{digest}"
        total += len(asset.content)
    assert total < 50_000, total
    # every other URL on the page is the carrier's, which the supplier typed
    urls = set(re.findall(r'(?:href|src)="([^"]*)"', html))
    assert {u for u in urls if not u.startswith("/track-assets/")} == {
        "",
        "https://track.example/JD014600006281",
    }
    assert (await client.get("/track-assets/tracking.0000.css")).status_code == 404


async def test_an_expired_link_stops_at_its_expiry(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    j = await journey(client)
    link = await j.link(expiresAt=(T0 + timedelta(minutes=30)).isoformat())
    clock.advance(minutes=29, seconds=59)
    assert (await client.get(path_of(link["url"]))).status_code == 200
    clock.advance(seconds=1)
    assert (await client.get(path_of(link["url"]))).status_code == 404


@pytest.mark.parametrize("stage", ["ISSUED", "IN_PRODUCTION"])
async def test_the_timeline_marks_the_current_stage(client: httpx.AsyncClient, stage: str) -> None:
    j = await journey(client, stage=stage)
    html = (await client.get(path_of((await j.link())["url"]))).text
    current = re.findall(
        r'<li class="step current" aria-current="step">\s*<span[^>]*></span>\s*'
        r'<span class="label">([^<]+)</span>',
        html,
    )
    assert current == [{"ISSUED": "Ordered", "IN_PRODUCTION": "In production"}[stage]]
    assert "Nothing has been dispatched yet." in html


async def test_a_failing_document_shows_a_plain_page_and_logs_the_detail(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def failing(**_: object) -> ExecutionResult:
        cause = RuntimeError("SELECT secret FROM suppliers")
        return ExecutionResult(data=None, errors=[GraphQLError("boom", original_error=cause)])

    j = await journey(client)
    path = path_of((await j.link())["url"])
    monkeypatch.setattr(tracking_module, "project_tracking_page", failing)
    page = await client.get(path)
    assert page.status_code == 503
    assert b"cannot be shown right now" in page.content
    assert b"boom" not in page.content
    assert b"SELECT" not in page.content
    assert "SELECT secret" in caplog.text
