"""CORS for browser portals: real preflights against a real uvicorn on loopback. Named
origins may call with a bearer token; any other origin gets no CORS headers at all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from app.main import create_app
from app.settings import Settings
from conftest import AUDIENCE, ISSUER, SECRET, make_token
from db.engine import Database

PORTAL = "https://portal.example.com"
LOCAL_DEV = "http://localhost:5173"
EVIL = "https://evil.example.net"
QUERY = {"query": "{ viewer { role } }"}


def settings_with(origins: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        jwt_secret=SECRET,
        jwt_audience=AUDIENCE,
        jwt_issuer=ISSUER,
        cors_origins=origins,
    )


async def serve(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, db=db)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(5):
            while not server.started:  # noqa: ASYNC110 (uvicorn offers no started event)
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            yield http
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 5)


@pytest.fixture
async def http(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async for client in serve(settings_with(f"{PORTAL}, {LOCAL_DEV}"), db):
        yield client


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }


@pytest.mark.parametrize("origin", [PORTAL, LOCAL_DEV])
async def test_a_preflight_from_a_named_origin_allows_a_bearer_post(
    http: httpx.AsyncClient, origin: str
) -> None:
    response = await http.options("/graphql", headers=preflight(origin))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed
    assert "content-type" in allowed
    assert "access-control-allow-credentials" not in response.headers
    assert "origin" in response.headers["vary"].lower()


async def test_a_preflight_from_another_origin_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.options("/graphql", headers=preflight(EVIL))
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_a_look_alike_origin_is_refused(http: httpx.AsyncClient) -> None:
    for origin in (PORTAL + ".evil.example.net", "http://portal.example.com", PORTAL + ":8443"):
        response = await http.options("/graphql", headers=preflight(origin))
        assert response.status_code == 400, origin
        assert "access-control-allow-origin" not in response.headers


async def test_the_portal_can_read_answers_and_their_request_id(http: httpx.AsyncClient) -> None:
    token = make_token("buyer")
    ok = await http.post(
        "/graphql", json=QUERY, headers={"Origin": PORTAL, "Authorization": f"Bearer {token}"}
    )
    assert ok.json() == {"data": {"viewer": {"role": "buyer"}}}
    assert ok.headers["access-control-allow-origin"] == PORTAL
    assert "x-request-id" in ok.headers["access-control-expose-headers"].lower()
    # A 401 is readable too, so the portal can tell "log in again" from a network error.
    refused = await http.post("/graphql", json=QUERY, headers={"Origin": PORTAL})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == PORTAL
    assert "www-authenticate" in refused.headers["access-control-expose-headers"].lower()


async def test_an_answer_to_another_origin_carries_no_cors_headers(
    http: httpx.AsyncClient,
) -> None:
    token = make_token("buyer")
    response = await http.post(
        "/graphql", json=QUERY, headers={"Origin": EVIL, "Authorization": f"Bearer {token}"}
    )
    assert "access-control-allow-origin" not in response.headers


async def test_without_cors_origins_there_is_no_cors_at_all(db: Database) -> None:
    async for http in serve(settings_with(""), db):
        response = await http.options("/graphql", headers=preflight(PORTAL))
        assert response.status_code == 405
        assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    "origins",
    [
        "*",
        "https://*.example.com",
        "https://portal.example.com/",
        "https://portal.example.com/app",
        "portal.example.com",
        "ftp://portal.example.com",
        f"{PORTAL}, *",
    ],
)
def test_cors_origins_must_be_exact_origins(origins: str) -> None:
    with pytest.raises(ValueError, match="CORS_ORIGINS"):
        settings_with(origins)
