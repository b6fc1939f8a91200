"""Token verification: every way a token can be wrong ends in InvalidToken."""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from permissions.principal import Principal, Role
from permissions.tokens import (
    MAX_TOKEN_LENGTH,
    InvalidToken,
    TokenConfig,
    TokenVerifier,
    issue_token,
)

SECRET = "test-secret-that-is-long-enough-for-hs256"
OTHER_SECRET = "another-secret-that-is-long-enough-for-hs256"
AUDIENCE = "handoff"
ISSUER = "handoff-test"
HS256 = TokenConfig(algorithm="HS256", audience=AUDIENCE, issuer=ISSUER, secret=SECRET)
_DROP = object()


# -- keys and token builders ------------------------------------------------------------


@functools.cache
def rsa_key(name: str = "a") -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def ec_key(name: str = "a") -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def private_key_for(
    algorithm: str, name: str = "a"
) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    return rsa_key(name) if algorithm == "RS256" else ec_key(name)


def jwk_for(algorithm: str, name: str, kid: str | None) -> dict[str, Any]:
    jwk: dict[str, Any] = (
        RSAAlgorithm.to_jwk(rsa_key(name).public_key(), as_dict=True)
        if algorithm == "RS256"
        else ECAlgorithm.to_jwk(ec_key(name).public_key(), as_dict=True)
    )
    jwk.update(alg=algorithm, use="sig")
    if kid is not None:
        jwk["kid"] = kid
    return jwk


def claims(**overrides: object) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "user-1",
        "role": "buyer",
        "org": "acme",
        "aud": AUDIENCE,
        "iss": ISSUER,
        "iat": now,
        "exp": now + 3600,
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not _DROP}


def hs256(payload: dict[str, Any] | None = None, *, secret: str = SECRET, **headers: Any) -> str:
    return jwt.encode(payload or claims(), secret, algorithm="HS256", headers=headers or None)


def signed(
    algorithm: str, payload: dict[str, Any] | None = None, *, name: str = "a", **headers: Any
) -> str:
    return jwt.encode(
        payload or claims(),
        private_key_for(algorithm, name),
        algorithm=algorithm,
        headers=headers or None,
    )


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(obj: dict[str, Any]) -> str:
    return b64(json.dumps(obj).encode())


def unsigned_token() -> str:
    return f"{b64json({'alg': 'none', 'typ': 'JWT'})}.{b64json(claims())}."


def hmac_signed_with_rsa_public_pem() -> str:
    """The classic confusion attack: HS256 keyed with the verifier's public key."""
    signing_input = f"{b64json({'alg': 'HS256', 'typ': 'JWT'})}.{b64json(claims())}"
    mac = hmac.new(public_pem(rsa_key()).encode(), signing_input.encode(), hashlib.sha256)
    return f"{signing_input}.{b64(mac.digest())}"


def rs256_config() -> TokenConfig:
    return TokenConfig(
        algorithm="RS256", audience=AUDIENCE, issuer=ISSUER, public_key=public_pem(rsa_key())
    )


# -- bad tokens -------------------------------------------------------------------------

BAD_HS256_TOKENS = [
    pytest.param(lambda: "not-a-jwt", id="garbage"),
    pytest.param(lambda: "a.b.c", id="three garbage segments"),
    pytest.param(lambda: "", id="empty"),
    pytest.param(lambda: hs256() + "x" * MAX_TOKEN_LENGTH, id="longer than 8 KB"),
    pytest.param(unsigned_token, id="alg none"),
    pytest.param(lambda: hs256(secret=OTHER_SECRET), id="wrong secret"),
    pytest.param(
        lambda: jwt.encode(claims(), SECRET + SECRET, algorithm="HS384"), id="HS384 not HS256"
    ),
    pytest.param(lambda: hs256()[:-4], id="truncated signature"),
    pytest.param(
        lambda: hs256(claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)),
        id="expired",
    ),
    pytest.param(lambda: hs256(claims(nbf=int(time.time()) + 300)), id="nbf in the future"),
    pytest.param(lambda: hs256(claims(iat=int(time.time()) + 300)), id="iat in the future"),
    *(
        pytest.param(lambda claim=claim: hs256(claims(**{claim: _DROP})), id=f"missing {claim}")
        for claim in ("exp", "iat", "sub", "role", "org", "aud", "iss")
    ),
    pytest.param(lambda: hs256(claims(aud="someone-else")), id="wrong aud"),
    pytest.param(lambda: hs256(claims(iss="someone-else")), id="wrong iss"),
    pytest.param(lambda: hs256(claims(role="client")), id="client without client_id"),
    pytest.param(
        lambda: hs256(claims(role="client", client_id="")), id="client with empty client_id"
    ),
    pytest.param(
        lambda: hs256(claims(role="client", client_id=7)), id="client with numeric client_id"
    ),
    pytest.param(lambda: hs256(claims(role="supplier")), id="supplier without supplier_id"),
    pytest.param(lambda: hs256(claims(role="admin")), id="unknown role"),
    pytest.param(lambda: hs256(claims(role=["buyer"])), id="role not a string"),
    pytest.param(
        lambda: hs256(claims(role="client", client_id="c1", supplier_id="s1")),
        id="client carrying supplier_id",
    ),
    pytest.param(
        lambda: hs256(claims(role="supplier", supplier_id="s1", client_id="c1")),
        id="supplier carrying client_id",
    ),
    pytest.param(lambda: hs256(claims(client_id="c1")), id="buyer carrying client_id"),
    pytest.param(lambda: hs256(claims(sub="")), id="empty sub"),
    pytest.param(lambda: hs256(claims(org="")), id="empty org"),
    pytest.param(lambda: hs256(claims(org=42)), id="org not a string"),
    # RFC 7519 NumericDate is a JSON number; PyJWT alone accepts numeric strings.
    pytest.param(
        lambda: hs256(claims(exp=str(int(time.time()) + 3600))), id="exp a numeric string"
    ),
    pytest.param(lambda: hs256(claims(iat=str(int(time.time())))), id="iat a numeric string"),
    pytest.param(lambda: hs256(claims(nbf=str(int(time.time()) - 60))), id="nbf a numeric string"),
    pytest.param(lambda: hs256(claims(exp=True)), id="exp a boolean"),
]


@pytest.mark.parametrize("make_token", BAD_HS256_TOKENS)
async def test_verify_rejects_a_bad_token(make_token: Callable[[], str]) -> None:
    with pytest.raises(InvalidToken):
        await TokenVerifier(HS256).verify(make_token())


@pytest.mark.parametrize("make_token", BAD_HS256_TOKENS)
def test_verify_sync_rejects_a_bad_token(make_token: Callable[[], str]) -> None:
    with pytest.raises(InvalidToken):
        TokenVerifier(HS256).verify_sync(make_token())


BAD_ASYMMETRIC_TOKENS = [
    pytest.param("RS256", hmac_signed_with_rsa_public_pem, id="HS256 keyed with the RS public key"),
    pytest.param("RS256", lambda: hs256(), id="HS256 when RS256 is configured"),
    pytest.param("RS256", unsigned_token, id="alg none when RS256 is configured"),
    pytest.param("RS256", lambda: signed("RS256", name="b"), id="RS256 signed by another key"),
    pytest.param("RS256", lambda: signed("ES256"), id="ES256 when RS256 is configured"),
    pytest.param("ES256", lambda: signed("RS256"), id="RS256 when ES256 is configured"),
    pytest.param("ES256", lambda: signed("ES256", name="b"), id="ES256 signed by another key"),
]


@pytest.mark.parametrize(("algorithm", "make_token"), BAD_ASYMMETRIC_TOKENS)
async def test_public_key_verifier_rejects_a_bad_token(
    algorithm: str, make_token: Callable[[], str]
) -> None:
    config = TokenConfig(
        algorithm=algorithm,
        audience=AUDIENCE,
        issuer=ISSUER,
        public_key=public_pem(private_key_for(algorithm)),
    )
    with pytest.raises(InvalidToken):
        await TokenVerifier(config).verify(make_token())


def test_the_confusion_attack_token_really_is_keyed_with_the_public_pem() -> None:
    # Guards the test above: the forged signature must be valid HMAC over the PEM,
    # so the rejection comes from pinning the algorithm, not from a broken forgery.
    token = hmac_signed_with_rsa_public_pem()
    signing_input, _, signature = token.rpartition(".")
    expected = hmac.new(public_pem(rsa_key()).encode(), signing_input.encode(), hashlib.sha256)
    assert b64(expected.digest()) == signature


# -- good tokens ------------------------------------------------------------------------

GOOD_HS256_TOKENS = [
    pytest.param(
        {"role": "buyer"}, Principal(role=Role.BUYER, org="acme", subject="user-1"), id="buyer"
    ),
    pytest.param(
        {"role": "client", "client_id": "Client:1"},
        Principal(role=Role.CLIENT, org="acme", subject="user-1", client_id="Client:1"),
        id="client",
    ),
    pytest.param(
        {"role": "supplier", "supplier_id": "Supplier:9"},
        Principal(role=Role.SUPPLIER, org="acme", subject="user-1", supplier_id="Supplier:9"),
        id="supplier",
    ),
]


@pytest.mark.parametrize(("role_claims", "expected"), GOOD_HS256_TOKENS)
async def test_an_issued_hs256_token_verifies_to_its_principal(
    role_claims: dict[str, Any], expected: Principal
) -> None:
    token = issue_token(
        secret=SECRET, audience=AUDIENCE, issuer=ISSUER, org="acme", subject="user-1", **role_claims
    )
    verifier = TokenVerifier(HS256)
    assert await verifier.verify(token) == expected
    assert verifier.verify_sync(token) == expected


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
async def test_a_token_signed_with_the_configured_public_key_verifies(algorithm: str) -> None:
    config = TokenConfig(
        algorithm=algorithm,
        audience=AUDIENCE,
        issuer=ISSUER,
        public_key=public_pem(private_key_for(algorithm)),
    )
    token = signed(algorithm, claims(role="client", client_id="Client:1"))
    principal = await TokenVerifier(config).verify(token)
    assert principal == Principal(
        role=Role.CLIENT, org="acme", subject="user-1", client_id="Client:1"
    )


def test_a_token_expired_within_the_leeway_is_still_accepted() -> None:
    now = int(time.time())
    token = hs256(claims(iat=now - 3600, exp=now - 10, nbf=now + 10))
    assert TokenVerifier(HS256).verify_sync(token).role is Role.BUYER


def test_a_token_can_be_issued_for_a_fixed_time() -> None:
    issued = datetime.now(UTC) - timedelta(hours=2)
    token = issue_token(
        secret=SECRET,
        audience=AUDIENCE,
        issuer=ISSUER,
        org="acme",
        role="buyer",
        subject="u",
        ttl_seconds=600,
        now=issued,
    )
    payload = jwt.decode(token, options={"verify_signature": False})
    assert payload["iat"] == int(issued.timestamp())
    assert payload["exp"] == int(issued.timestamp()) + 600
    with pytest.raises(InvalidToken):
        TokenVerifier(HS256).verify_sync(token)


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"role": "client"}, id="client without client_id"),
        pytest.param({"role": "buyer", "supplier_id": "s1"}, id="buyer with supplier_id"),
        pytest.param({"role": "admin"}, id="unknown role"),
        pytest.param({"role": "buyer", "secret": "short"}, id="short secret"),
        pytest.param({"role": "buyer", "now": datetime(2030, 1, 1)}, id="naive now"),
        pytest.param({"role": "buyer", "ttl_seconds": 0}, id="zero ttl"),
    ],
)
def test_issue_token_refuses_an_inconsistent_token(kwargs: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {
        "secret": SECRET,
        "audience": AUDIENCE,
        "issuer": ISSUER,
        "org": "acme",
        "subject": "u",
    }
    with pytest.raises(ValueError):
        issue_token(**(arguments | kwargs))


# -- configuration ----------------------------------------------------------------------

PEM = "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n"
JWKS_URL = "https://idp.example/jwks.json"


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"algorithm": "HS256"}, id="HS256 without a secret"),
        pytest.param(
            {"algorithm": "HS256", "secret": SECRET, "public_key": PEM},
            id="HS256 secret and public key",
        ),
        pytest.param(
            {"algorithm": "HS256", "secret": SECRET, "jwks_url": JWKS_URL},
            id="HS256 secret and JWKS",
        ),
        pytest.param({"algorithm": "HS256", "secret": "too-short"}, id="HS256 short secret"),
        pytest.param({"algorithm": "RS256"}, id="RS256 without a key"),
        pytest.param({"algorithm": "RS256", "secret": SECRET}, id="RS256 with a secret"),
        pytest.param(
            {"algorithm": "RS256", "secret": SECRET, "public_key": PEM},
            id="RS256 secret and public key",
        ),
        pytest.param(
            {"algorithm": "ES256", "public_key": PEM, "jwks_url": JWKS_URL},
            id="ES256 public key and JWKS",
        ),
        pytest.param(
            {"algorithm": "ES256", "jwks_url": "file:///etc/passwd"}, id="JWKS URL not http"
        ),
        pytest.param({"algorithm": "none"}, id="alg none"),
        pytest.param({"algorithm": "HS512", "secret": SECRET}, id="unsupported algorithm"),
        pytest.param({"algorithm": "HS256", "secret": SECRET, "audience": ""}, id="empty audience"),
        pytest.param(
            {"algorithm": "HS256", "secret": SECRET, "leeway_seconds": -1}, id="negative leeway"
        ),
    ],
)
def test_token_config_refuses_anything_but_one_algorithm_with_one_key_source(
    kwargs: dict[str, Any],
) -> None:
    with pytest.raises(ValueError):
        TokenConfig(**({"audience": AUDIENCE, "issuer": ISSUER} | kwargs))


def test_token_config_treats_empty_strings_from_the_environment_as_unset() -> None:
    config = TokenConfig(
        algorithm="RS256", audience=AUDIENCE, issuer=ISSUER, secret="", public_key=PEM, jwks_url=""
    )
    assert not config.uses_jwks


def test_token_config_does_not_show_the_secret_in_its_repr() -> None:
    assert SECRET not in repr(HS256)


@pytest.mark.parametrize(
    ("algorithm", "pem"),
    [
        pytest.param("RS256", lambda: PEM, id="not a PEM"),
        pytest.param("RS256", lambda: public_pem(ec_key()), id="EC key for RS256"),
        pytest.param("ES256", lambda: public_pem(rsa_key()), id="RSA key for ES256"),
        pytest.param(
            "ES256",
            lambda: public_pem(ec.generate_private_key(ec.SECP384R1())),
            id="P-384 for ES256",
        ),
    ],
)
def test_verifier_refuses_a_public_key_that_does_not_fit_the_algorithm(
    algorithm: str, pem: Callable[[], str]
) -> None:
    config = TokenConfig(algorithm=algorithm, audience=AUDIENCE, issuer=ISSUER, public_key=pem())
    with pytest.raises(ValueError):
        TokenVerifier(config)


# -- JWKS -------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class KeyServer:
    """A loopback JWKS endpoint whose key set can be swapped and whose hits are counted."""

    def __init__(self) -> None:
        self.jwks: dict[str, Any] = {"keys": []}
        self.requests = 0
        self.gate: threading.Event | None = None  # when set, requests wait for it
        self.entered = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests += 1
                owner.entered.set()
                if owner.gate is not None:
                    owner.gate.wait(timeout=10)
                body = json.dumps(owner.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        self._running = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/jwks.json"

    def serve(self, *jwks: dict[str, Any]) -> None:
        self.jwks = {"keys": list(jwks)}

    def stop(self) -> None:
        if self._running:
            self._running = False
            if self.gate is not None:
                self.gate.set()
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()


@pytest.fixture
def key_server() -> Iterator[KeyServer]:
    server = KeyServer()
    yield server
    server.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def jwks_verifier(server: KeyServer, clock: FakeClock, algorithm: str = "ES256") -> TokenVerifier:
    config = TokenConfig(algorithm=algorithm, audience=AUDIENCE, issuer=ISSUER, jwks_url=server.url)
    return TokenVerifier(config, clock=clock)


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
async def test_jwks_key_rotation_is_picked_up_once_the_refresh_interval_has_passed(
    key_server: KeyServer, clock: FakeClock, algorithm: str
) -> None:
    verifier = jwks_verifier(key_server, clock, algorithm)
    key_server.serve(jwk_for(algorithm, "a", kid="a"))
    old_token = signed(algorithm, kid="a")
    new_token = signed(algorithm, name="b", kid="b")

    assert (await verifier.verify(old_token)).subject == "user-1"
    assert key_server.requests == 1

    key_server.serve(jwk_for(algorithm, "b", kid="b"))
    with pytest.raises(InvalidToken):
        await verifier.verify(new_token)  # too soon to refresh again
    assert key_server.requests == 1

    clock.advance(30)
    assert (await verifier.verify(new_token)).subject == "user-1"
    assert key_server.requests == 2
    with pytest.raises(InvalidToken):
        await verifier.verify(old_token)  # the retired key is gone from the cache


async def test_a_thousand_tokens_with_unknown_kids_cause_at_most_one_fetch(
    key_server: KeyServer, clock: FakeClock
) -> None:
    verifier = jwks_verifier(key_server, clock)
    key_server.serve(jwk_for("ES256", "a", kid="a"))
    forged = [signed("ES256", kid=secrets.token_hex(8)) for _ in range(1000)]

    results = await asyncio.gather(*(verifier.verify(t) for t in forged), return_exceptions=True)
    assert all(isinstance(result, InvalidToken) for result in results)
    for token in forged[:100]:
        with pytest.raises(InvalidToken):
            await verifier.verify(token)
    assert key_server.requests == 1

    assert (await verifier.verify(signed("ES256", kid="a"))).subject == "user-1"
    assert key_server.requests == 1


async def test_concurrent_verifies_share_one_refresh_that_does_not_block_the_event_loop(
    key_server: KeyServer, clock: FakeClock
) -> None:
    verifier = jwks_verifier(key_server, clock)
    key_server.serve(jwk_for("ES256", "a", kid="a"))
    key_server.gate = threading.Event()
    tasks = [asyncio.create_task(verifier.verify(signed("ES256", kid="a"))) for _ in range(50)]

    # The loop keeps running while the key server holds the fetch open.
    assert await asyncio.to_thread(key_server.entered.wait, 10)
    assert not any(task.done() for task in tasks)
    key_server.gate.set()

    principals = await asyncio.gather(*tasks)
    assert {p.subject for p in principals} == {"user-1"}
    assert key_server.requests == 1


async def test_cached_keys_keep_working_when_the_key_server_goes_down(
    key_server: KeyServer, clock: FakeClock
) -> None:
    verifier = jwks_verifier(key_server, clock)
    key_server.serve(jwk_for("ES256", "a", kid="a"))
    token = signed("ES256", kid="a")
    assert (await verifier.verify(token)).subject == "user-1"

    key_server.stop()
    clock.advance(60)
    with pytest.raises(InvalidToken):
        await verifier.verify(signed("ES256", kid="unknown"))  # refresh fails

    assert (await verifier.verify(token)).subject == "user-1"
    assert verifier.verify_sync(token).subject == "user-1"


async def test_a_malformed_key_set_keeps_the_cached_keys(
    key_server: KeyServer, clock: FakeClock
) -> None:
    verifier = jwks_verifier(key_server, clock)
    key_server.serve(jwk_for("ES256", "a", kid="a"))
    token = signed("ES256", kid="a")
    assert (await verifier.verify(token)).subject == "user-1"

    key_server.jwks = {"keys": "not a list"}
    clock.advance(60)
    with pytest.raises(InvalidToken):
        await verifier.verify(signed("ES256", kid="unknown"))
    assert key_server.requests == 2
    assert (await verifier.verify(token)).subject == "user-1"


async def test_a_token_without_kid_needs_a_key_set_of_exactly_one_key(
    key_server: KeyServer, clock: FakeClock
) -> None:
    key_server.serve(jwk_for("ES256", "a", kid=None))
    assert (await jwks_verifier(key_server, clock).verify(signed("ES256"))).subject == "user-1"

    key_server.serve(jwk_for("ES256", "a", kid="a"), jwk_for("ES256", "b", kid="b"))
    with pytest.raises(InvalidToken):
        await jwks_verifier(key_server, clock).verify(signed("ES256"))


async def test_a_symmetric_key_in_the_key_set_cannot_sign_tokens(
    key_server: KeyServer, clock: FakeClock
) -> None:
    verifier = jwks_verifier(key_server, clock, "RS256")
    oct_key = {"kty": "oct", "kid": "h", "alg": "HS256", "k": b64(SECRET.encode())}
    key_server.serve(jwk_for("RS256", "a", kid="a"), oct_key)
    with pytest.raises(InvalidToken):
        await verifier.verify(hs256(kid="h"))
    assert (await verifier.verify(signed("RS256", kid="a"))).subject == "user-1"


async def test_verify_sync_with_jwks_uses_only_cached_keys(
    key_server: KeyServer, clock: FakeClock
) -> None:
    verifier = jwks_verifier(key_server, clock)
    key_server.serve(jwk_for("ES256", "a", kid="a"))
    token = signed("ES256", kid="a")
    with pytest.raises(InvalidToken):
        verifier.verify_sync(token)
    assert key_server.requests == 0

    await verifier.verify(token)
    assert verifier.verify_sync(token).subject == "user-1"
