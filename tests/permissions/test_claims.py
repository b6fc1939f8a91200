"""Claim mapping (where a provider puts role, org and party ids) and OIDC discovery."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from permissions.claims import ClaimError, ClaimMapping, claim_at, principal_from_claims
from permissions.principal import Principal, Role
from permissions.tokens import InvalidToken, TokenConfig, TokenVerifier

KEYCLOAK = ClaimMapping(
    role_claim="realm_access.roles",
    org_claim="organization",
    client_id_claim="handoff.client_id",
    supplier_id_claim="handoff.supplier_id",
    roles={
        "handoff-buyer": Role.BUYER,
        "handoff-client": Role.CLIENT,
        "handoff-supplier": Role.SUPPLIER,
    },
)
AUTH0 = ClaimMapping(
    role_claim="https://handoff.example.com/role",
    org_claim="https://handoff.example.com/org",
    client_id_claim="https://handoff.example.com/client_id",
    supplier_id_claim="https://handoff.example.com/supplier_id",
)
ENTRA = ClaimMapping(
    role_claim="roles",
    org_claim="tid",
    client_id_claim="extension_0123456789abcdef0123456789abcdef_handoffClientId",
    supplier_id_claim="extension_0123456789abcdef0123456789abcdef_handoffSupplierId",
    roles=ClaimMapping.parse_roles(
        "Handoff.Buyer=buyer, Handoff.Client=client,Handoff.Supplier=supplier"
    ),
)


def base(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "u-1", "iat": now, "exp": now + 60, **extra}


def test_a_keycloak_token_maps_nested_roles_and_a_one_element_organization_list() -> None:
    claims = base(
        realm_access={"roles": ["offline_access", "handoff-supplier", "uma_authorization"]},
        organization=["acme"],
        handoff={"supplier_id": "sup_1"},
    )
    assert principal_from_claims(claims, KEYCLOAK) == Principal(
        role=Role.SUPPLIER, org="acme", subject="u-1", supplier_id="sup_1"
    )


def test_an_auth0_token_maps_namespaced_claims_whose_names_contain_dots() -> None:
    claims = base(
        **{
            "https://handoff.example.com/role": "client",
            "https://handoff.example.com/org": "acme",
            "https://handoff.example.com/client_id": "cli_1",
        }
    )
    assert principal_from_claims(claims, AUTH0) == Principal(
        role=Role.CLIENT, org="acme", subject="u-1", client_id="cli_1"
    )


def test_an_entra_token_maps_app_roles_and_the_tenant() -> None:
    claims = base(roles=["Handoff.Buyer"], tid="9188040d-6c67-4c5b-b112-36a304b66dad")
    principal = principal_from_claims(claims, ENTRA)
    assert (principal.role, principal.org) == (Role.BUYER, "9188040d-6c67-4c5b-b112-36a304b66dad")


def test_the_default_mapping_is_our_own_claim_names() -> None:
    claims = base(role="supplier", org="acme", supplier_id="sup_1")
    assert principal_from_claims(claims, ClaimMapping()).supplier_id == "sup_1"


BAD = [
    pytest.param(
        KEYCLOAK,
        base(realm_access={"roles": ["offline_access"]}, organization="acme"),
        id="no role of ours",
    ),
    pytest.param(
        KEYCLOAK,
        base(realm_access={"roles": ["handoff-buyer", "handoff-client"]}, organization="acme"),
        id="two roles of ours",
    ),
    pytest.param(
        KEYCLOAK,
        base(realm_access={"roles": ["buyer"]}, organization="acme"),
        id="our role name where a map is configured",
    ),
    pytest.param(KEYCLOAK, base(realm_access={"roles": ["handoff-buyer"]}), id="no organization"),
    pytest.param(
        KEYCLOAK,
        base(realm_access={"roles": ["handoff-buyer"]}, organization=["acme", "globex"]),
        id="two organizations",
    ),
    pytest.param(
        KEYCLOAK,
        base(realm_access={"roles": ["handoff-client"]}, organization="acme"),
        id="client without its mapped id",
    ),
    pytest.param(
        KEYCLOAK,
        base(
            realm_access={"roles": ["handoff-buyer"]},
            organization="acme",
            handoff={"supplier_id": "sup_1"},
        ),
        id="buyer carrying a mapped supplier id",
    ),
    pytest.param(ENTRA, base(roles="Handoff.Buyer;Handoff.Client", tid="t"), id="unmapped role"),
    pytest.param(ENTRA, base(roles=[7], tid="t"), id="role list of numbers"),
    pytest.param(
        ClaimMapping(), base(role="buyer", org="acme", exp="99999999999"), id="string exp"
    ),
]


@pytest.mark.parametrize(("mapping", "claims"), BAD)
def test_a_token_that_does_not_name_exactly_one_party_is_refused(
    mapping: ClaimMapping, claims: dict[str, Any]
) -> None:
    with pytest.raises(ClaimError):
        principal_from_claims(claims, mapping)


def test_claim_paths_prefer_the_longest_key_that_exists() -> None:
    claims = {"a.b": {"c": 1}, "a": {"b": {"c": 2}}, "x": {"y.z": 3}}
    assert claim_at(claims, "a.b.c") == 1
    assert claim_at(claims, "x.y.z") == 3


@pytest.mark.parametrize("text", ["buyer", "=buyer", "kc-admin=admin", "a=buyer,b"])
def test_a_malformed_role_map_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        ClaimMapping.parse_roles(text)


# -- OIDC discovery ---------------------------------------------------------------------

KEY = ec.generate_private_key(ec.SECP256R1())


class Provider:
    """A loopback discovery document and JWKS (the real-provider test is in tests/oidc)."""

    def __init__(self) -> None:
        self.document_issuer: str | None = None
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    body: dict[str, Any] = {
                        "issuer": owner.document_issuer or owner.issuer,
                        "jwks_uri": owner.issuer + "/keys",
                    }
                elif self.path == "/keys":
                    jwk = ECAlgorithm.to_jwk(KEY.public_key(), as_dict=True)
                    body = {"keys": [{**jwk, "kid": "k1", "use": "sig"}]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def provider() -> Iterator[Provider]:
    p = Provider()
    yield p
    p.stop()


def oidc_verifier(provider: Provider) -> TokenVerifier:
    return TokenVerifier(
        TokenConfig(
            algorithm="ES256",
            audience="handoff",
            issuer=provider.issuer,
            oidc_issuer=provider.issuer,
        )
    )


def token_from(provider: Provider) -> str:
    claims = base(role="buyer", org="acme", aud="handoff", iss=provider.issuer)
    return jwt.encode(claims, KEY, algorithm="ES256", headers={"kid": "k1"})


async def test_keys_are_found_through_the_issuers_discovery_document(provider: Provider) -> None:
    principal = await oidc_verifier(provider).verify(token_from(provider))
    assert principal.org == "acme"


async def test_a_discovery_document_naming_another_issuer_is_not_trusted(
    provider: Provider,
) -> None:
    provider.document_issuer = "https://evil.example"
    with pytest.raises(InvalidToken):
        await oidc_verifier(provider).verify(token_from(provider))


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param(
            {"oidc_issuer": "https://idp.example", "jwks_url": "https://idp.example/k"},
            id="with JWKS URL",
        ),
        pytest.param(
            {"oidc_issuer": "https://idp.example", "public_key": "PEM"}, id="with public key"
        ),
        pytest.param({"oidc_issuer": "https://other.example"}, id="iss is not the OIDC issuer"),
        pytest.param({"oidc_issuer": "file:///etc"}, id="not http"),
    ],
)
def test_an_oidc_issuer_is_one_key_source_and_the_required_iss(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        TokenConfig(algorithm="RS256", audience="handoff", issuer="https://idp.example", **kwargs)


def test_hs256_refuses_an_oidc_issuer() -> None:
    with pytest.raises(ValueError):
        TokenConfig(
            algorithm="HS256",
            audience="handoff",
            issuer="https://idp.example",
            secret="x" * 40,
            oidc_issuer="https://idp.example",
        )
