"""Against a real OpenID provider (the npm package oidc-provider, run by node): keys are
found by OIDC discovery, its tokens are accepted with Keycloak-style claims mapped to
our roles, a token for another audience is refused, and a key rotation is picked up.

Skipped only where node is not installed (tests/node_support.py installs the package).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from app.main import create_app
from app.settings import Settings
from db.engine import Database
from node_support import node, node_tools
from permissions.tokens import TokenVerifier

SCRIPT = Path(__file__).parent / "oidc_provider.mjs"
HANDOFF_API = "https://handoff.example.com/api"
OTHER_API = "https://other.example.com/api"
ORG = "https://handoff.example.com/org"
VIEWER = "{ viewer { role org subject ID } }"
START_TIMEOUT = 30.0

# Claims as a Keycloak realm would send them (realm roles, a namespaced org claim from a
# hardcoded-claim mapper, the party id from a user-attribute mapper).
CLIENTS = [
    {
        "client_id": "procurement-app",
        "client_secret": "procurement-secret-0123456789",
        "claims": {"realm_access": {"roles": ["offline_access", "handoff-buyer"]}, ORG: "acme"},
    },
    {
        "client_id": "portal-app",
        "client_secret": "portal-secret-0123456789",
        "claims": {
            "realm_access": {"roles": ["handoff-client"]},
            ORG: "acme",
            "handoff": {"client_id": "cli_aaaaaaaaaaaaaaaaaaaa"},
        },
    },
    {
        "client_id": "shop-app",
        "client_secret": "shop-secret-0123456789",
        "claims": {
            "realm_access": {"roles": ["uma_authorization", "handoff-supplier"]},
            ORG: "acme",
            "handoff": {"supplier_id": "sup_aaaaaaaaaaaaaaaaaaaa"},
        },
    },
    {
        "client_id": "stranger-app",
        "client_secret": "stranger-secret-0123456789",
        "claims": {"realm_access": {"roles": ["offline_access"]}, ORG: "acme"},
    },
]
SECRETS = {c["client_id"]: c["client_secret"] for c in CLIENTS}


def private_jwk(kid: str) -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key, as_dict=True)
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


class RunningProvider:
    """One node process; ``restart`` brings it back on the same port with other keys."""

    def __init__(self, tools: Path, tmp: Path) -> None:
        self.tools = tools
        self.tmp = tmp
        self.process: subprocess.Popen[str] | None = None
        self.issuer = ""
        self.port = 0
        self.keys: list[dict[str, Any]] = []

    def start(self, keys: list[dict[str, Any]]) -> None:
        self.keys = keys
        config = {
            "port": self.port,
            "alg": "RS256",
            "keys": keys,
            "clients": CLIENTS,
            "resources": [
                {"indicator": HANDOFF_API, "audience": "handoff"},
                {"indicator": OTHER_API, "audience": "other-api"},
            ],
        }
        path = self.tmp / "oidc-config.json"
        path.write_text(json.dumps(config))
        # Next to the tools' node_modules, so `import "oidc-provider"` resolves there.
        script = self.tools / SCRIPT.name
        shutil.copyfile(SCRIPT, script)
        self.process = subprocess.Popen(
            [node(), str(script), str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line: list[str] = []
        reader = threading.Thread(
            target=lambda: line.append(self.process.stdout.readline()),  # type: ignore[union-attr]
            daemon=True,
        )
        reader.start()
        reader.join(START_TIMEOUT)
        if not line or not line[0].startswith("ISSUER "):
            self.stop()
            pytest.fail(f"oidc-provider did not start: {line} {self._stderr()}")
        self.issuer = line[0].split()[1]
        self.port = int(self.issuer.rsplit(":", 1)[1])

    def _stderr(self) -> str:
        if self.process is None or self.process.poll() is None:
            return ""
        return (self.process.stderr.read() if self.process.stderr else "")[-2000:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process is not None:
            for stream in (self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()

    def restart(self, keys: list[dict[str, Any]]) -> None:
        self.stop()
        self.start(keys)

    def token(self, client_id: str, resource: str = HANDOFF_API) -> str:
        response = httpx.post(
            f"{self.issuer}/token",
            data={"grant_type": "client_credentials", "resource": resource, "scope": "api"},
            auth=(client_id, SECRETS[client_id]),
            timeout=10,
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[RunningProvider]:
    running = RunningProvider(node_tools(), tmp_path)
    running.start([private_jwk("key-1")])
    try:
        yield running
    finally:
        running.stop()


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def ask(
    provider: RunningProvider, db: Database, clock: FakeClock
) -> AsyncIterator[Callable[[str], Any]]:
    """Posts the viewer query with a token; returns the response."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        jwt_algorithm="RS256",
        jwt_oidc_issuer=provider.issuer,
        jwt_audience="handoff",
        jwt_role_claim="realm_access.roles",
        jwt_role_map="handoff-buyer=buyer,handoff-client=client,handoff-supplier=supplier",
        jwt_org_claim=ORG,
        jwt_client_id_claim="handoff.client_id",
        jwt_supplier_id_claim="handoff.supplier_id",
    )
    app = create_app(settings, db=db)
    app.state.verifier = TokenVerifier(settings.token_config(), clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://handoff.test") as http:

        async def post(token: str, id_field: str = "") -> httpx.Response:
            return await http.post(
                "/graphql",
                json={"query": VIEWER.replace("ID", id_field)},
                headers={"Authorization": f"Bearer {token}"},
            )

        yield post


async def test_tokens_from_the_provider_are_accepted_with_mapped_claims(
    provider: RunningProvider, ask: Callable[[str], Any]
) -> None:
    expected = {
        "procurement-app": {"role": "buyer"},
        "portal-app": {"role": "client", "clientId": "cli_aaaaaaaaaaaaaaaaaaaa"},
        "shop-app": {"role": "supplier", "supplierId": "sup_aaaaaaaaaaaaaaaaaaaa"},
    }
    for client_id, viewer in expected.items():
        id_field = next((k for k in viewer if k.endswith("Id")), "")
        response = await ask(provider.token(client_id), id_field)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        assert body["data"]["viewer"] == {
            "org": "acme",
            "subject": client_id,  # client credentials: sub is the OAuth client
            **viewer,
        }


async def test_a_token_for_another_audience_is_refused(
    provider: RunningProvider, ask: Callable[[str], Any]
) -> None:
    token = provider.token("procurement-app", resource=OTHER_API)
    assert (await ask(provider.token("procurement-app"))).status_code == 200
    response = await ask(token)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer error="invalid_token", error_description="invalid token"'
    )


async def test_a_token_naming_none_of_our_roles_is_refused(
    provider: RunningProvider, ask: Callable[[str], Any]
) -> None:
    assert (await ask(provider.token("stranger-app"))).status_code == 401


async def test_a_key_rotation_at_the_provider_is_picked_up(
    provider: RunningProvider, ask: Callable[[str], Any], clock: FakeClock
) -> None:
    # given tokens signed with the first key, accepted (its keys are now cached)
    old_key = provider.token("procurement-app")
    assert (await ask(old_key)).status_code == 200

    # when the provider rotates: a new signing key first, the old one kept for a while
    provider.restart([private_jwk("key-2"), *provider.keys])
    clock.now += 31  # past the refresh interval: one refresh on the unknown kid
    new_key = provider.token("procurement-app")

    # then tokens with the new key are accepted, and so are the old ones still published
    assert _kid(new_key) == "key-2"
    assert (await ask(new_key)).status_code == 200
    assert (await ask(old_key)).status_code == 200


def _kid(token: str) -> str:
    kid: str = jwt.get_unverified_header(token)["kid"]
    return kid
