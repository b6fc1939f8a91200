"""Every bad token gets HTTP 401 with an RFC 6750 challenge, the request id, and no
data at all; the answer says "expired" or "invalid", never what was wrong inside."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.main import create_app
from app.settings import Settings
from conftest import AUDIENCE, ISSUER, SECRET
from db.engine import Database

ORDERS = "{ orders(first: 1) { totalCount } viewer { role } }"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_PUBLIC_PEM = (
    RSA_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)
DROP = object()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "u1",
        "role": "buyer",
        "org": "org-a",
        "aud": AUDIENCE,
        "iss": ISSUER,
        "iat": now,
        "exp": now + 600,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not DROP}


def hs(payload: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(payload, secret, algorithm="HS256")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hmac_with(key: bytes, payload: dict[str, Any]) -> str:
    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}." + b64(
        json.dumps(payload).encode()
    )
    sig = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(sig)}"


def alg_none() -> str:
    return f"{b64(json.dumps({'alg': 'none'}).encode())}.{b64(json.dumps(claims()).encode())}."


NOW = int(time.time())
BAD_HS256_TOKENS = {
    "garbage": "not-a-jwt",
    "alg none": alg_none(),
    "wrong secret": hs(claims(), "another-secret-that-is-long-enough-0123456789"),
    "expired": hs(claims(exp=NOW - 3600, iat=NOW - 7200)),
    "nbf in the future": hs(claims(nbf=NOW + 3600)),
    "missing exp": hs(claims(exp=DROP)),
    "missing iat": hs(claims(iat=DROP)),
    "missing sub": hs(claims(sub=DROP)),
    "missing role": hs(claims(role=DROP)),
    "missing org": hs(claims(org=DROP)),
    "wrong aud": hs(claims(aud="someone-else")),
    "wrong iss": hs(claims(iss="evil-issuer")),
    "client without client_id": hs(claims(role="client")),
    "supplier without supplier_id": hs(claims(role="supplier")),
    "unknown role": hs(claims(role="admin")),
}


INVALID = 'Bearer error="invalid_token", error_description="invalid token"'
EXPIRED = 'Bearer error="invalid_token", error_description="token expired"'


async def _get_401(
    http: httpx.AsyncClient, headers: dict[str, str], challenge: str = INVALID
) -> httpx.Response:
    response = await http.post("/graphql", json={"query": ORDERS}, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == challenge
    body = response.json()
    assert "data" not in body
    request_id = response.headers["x-request-id"]
    reason = {INVALID: ": invalid token", EXPIRED: ": token expired"}.get(challenge, "")
    assert body == {
        "errors": [
            {
                "message": f"Authentication required{reason}.",
                "extensions": {"code": "UNAUTHENTICATED", "requestId": request_id},
            }
        ]
    }
    return response


async def test_a_request_without_authorization_header_is_401_with_a_bare_challenge(
    client: httpx.AsyncClient,
) -> None:
    await _get_401(client, {}, challenge="Bearer")


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "token abc"])
async def test_an_authorization_header_without_a_bearer_token_is_401_with_a_bare_challenge(
    client: httpx.AsyncClient, header: str
) -> None:
    await _get_401(client, {"Authorization": header}, challenge="Bearer")


@pytest.mark.parametrize("name", list(BAD_HS256_TOKENS))
async def test_a_bad_token_is_401_with_no_data(client: httpx.AsyncClient, name: str) -> None:
    token = BAD_HS256_TOKENS[name]
    challenge = EXPIRED if name == "expired" else INVALID
    response = await _get_401(client, {"Authorization": f"Bearer {token}"}, challenge)
    # Nothing of the token comes back: not its claims, not a segment of it.
    for part in [*token.split("."), "org-a", "u1", "someone-else", "evil-issuer", "admin"]:
        if len(part) >= 2:
            assert part not in response.text
            assert part not in response.headers["www-authenticate"]


async def test_a_forged_expired_token_is_invalid_not_expired(client: httpx.AsyncClient) -> None:
    # "expired" is said only of a token we signed: a forgery learns nothing more.
    forged = hs(claims(exp=NOW - 3600, iat=NOW - 7200), "another-secret-that-is-long-enough-012")
    await _get_401(client, {"Authorization": f"Bearer {forged}"}, INVALID)


async def test_a_safe_request_id_from_the_caller_is_kept_on_the_401(
    client: httpx.AsyncClient,
) -> None:
    response = await _get_401(client, {"X-Request-Id": "portal-42.a:b_c"}, challenge="Bearer")
    assert response.headers["x-request-id"] == "portal-42.a:b_c"


@pytest.mark.parametrize(
    "given", ["has space", 'quote"d', "x" * 65, "tab\there", "<script>", "a;b=c", "a,b"]
)
async def test_an_unsafe_request_id_from_the_caller_is_replaced(
    client: httpx.AsyncClient, given: str
) -> None:
    response = await client.post(
        "/graphql",
        json={"query": ORDERS},
        headers={"Authorization": f"Bearer {hs(claims())}", "X-Request-Id": given},
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] != given
    assert len(response.headers["x-request-id"]) == 32


async def test_a_good_token_is_served(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": ORDERS}, headers={"Authorization": f"Bearer {hs(claims())}"}
    )
    assert response.status_code == 200
    assert response.json()["data"]["viewer"] == {"role": "buyer"}


@pytest.fixture
async def rs256_client(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        jwt_algorithm="RS256",
        jwt_public_key=RSA_PUBLIC_PEM,
        jwt_audience=AUDIENCE,
        jwt_issuer=ISSUER,
    )
    app = create_app(settings, db=db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://handoff.test"
    ) as http:
        yield http


async def test_rs256_server_accepts_an_rs256_token(rs256_client: httpx.AsyncClient) -> None:
    token = jwt.encode(claims(), RSA_KEY, algorithm="RS256")
    response = await rs256_client.post(
        "/graphql", json={"query": ORDERS}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200


async def test_hs256_token_signed_with_the_rs_public_key_is_401(
    rs256_client: httpx.AsyncClient,
) -> None:
    forged = hmac_with(RSA_PUBLIC_PEM.encode(), claims())
    await _get_401(rs256_client, {"Authorization": f"Bearer {forged}"})


async def test_hs256_token_is_401_when_rs256_is_configured(
    rs256_client: httpx.AsyncClient,
) -> None:
    await _get_401(rs256_client, {"Authorization": f"Bearer {hs(claims())}"})


async def test_health_endpoints_need_no_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


async def test_readyz_fails_when_the_database_is_unreachable(settings: Settings) -> None:
    from db.engine import connect

    broken = connect("postgresql+asyncpg://nobody@127.0.0.1:1/nowhere")
    app = create_app(settings, db=broken)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://handoff.test"
    ) as http:
        response = await http.get("/readyz")
    await broken.dispose()
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
