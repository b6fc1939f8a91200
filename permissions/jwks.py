"""Fetching verification keys: a JWKS document, found directly or by OIDC discovery.

Blocking functions, run by the verifier in a worker thread. Only public signing keys
usable for the pinned algorithm are kept.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import jwt

FETCH_TIMEOUT_SECONDS: Final = 5.0
MAX_DOCUMENT_BYTES: Final = 1_000_000
DISCOVERY_PATH: Final = "/.well-known/openid-configuration"


@dataclass(frozen=True)
class KeySet:
    """An immutable snapshot of the JWKS, swapped whole on refresh."""

    keys: tuple[jwt.PyJWK, ...] = ()
    by_kid: Mapping[str, jwt.PyJWK] = field(default_factory=dict)

    def find(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None:
            # Without a kid we cannot choose, so only an unambiguous set will do.
            return self.keys[0] if len(self.keys) == 1 else None
        return self.by_kid.get(kid)


def check_http_url(url: str, what: str) -> None:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"{what} must be an http(s) URL")


def _get_json(url: str) -> Any:
    check_http_url(url, "a key URL")
    # The scheme is checked above: no file:// or other handlers.
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310
        body = response.read(MAX_DOCUMENT_BYTES + 1)
    if len(body) > MAX_DOCUMENT_BYTES:
        raise ValueError(f"{url} answered more than {MAX_DOCUMENT_BYTES} bytes")
    return json.loads(body)


def discover_jwks_uri(issuer: str) -> str:
    """OpenID Connect Discovery: the issuer's ``jwks_uri``.

    The document's ``issuer`` must be exactly the configured one (OIDC Discovery
    §4.3), or a document served at a look-alike address could name its own keys.
    """
    document = _get_json(issuer.rstrip("/") + DISCOVERY_PATH)
    if not isinstance(document, dict):
        raise ValueError("the discovery document is not a JSON object")
    if document.get("issuer") != issuer:
        raise ValueError(
            f"the discovery document names issuer {document.get('issuer')!r}, not {issuer!r}"
        )
    jwks_uri = document.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise ValueError("the discovery document has no jwks_uri")
    check_http_url(jwks_uri, "jwks_uri")
    return jwks_uri


def fetch_jwks(url: str, algorithm: str) -> KeySet:
    """Download and parse the JWKS, keeping only keys usable for ``algorithm``."""
    document = _get_json(url)
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("JWKS response is not a JSON object with a 'keys' list")
    candidates = [
        jwk
        for jwk in document["keys"]
        if isinstance(jwk, dict)
        and jwk.get("use", "sig") == "sig"
        # A published private key is a misconfiguration; never verify with it.
        and "d" not in jwk
    ]
    jwk_set = jwt.PyJWKSet.from_dict({"keys": candidates})
    keys = tuple(key for key in jwk_set.keys if key.algorithm_name == algorithm)
    if not keys:
        raise ValueError(f"JWKS has no usable {algorithm} signing key")
    by_kid = {key.key_id: key for key in keys if key.key_id is not None}
    return KeySet(keys=keys, by_kid=by_kid)


def load_keys(*, algorithm: str, jwks_url: str | None, oidc_issuer: str | None) -> KeySet:
    """The current key set: from ``jwks_url``, or from the issuer's discovered one.

    Discovery runs on every load (loads are rare: at start and on an unknown ``kid``),
    so a provider that moves its ``jwks_uri`` is followed.
    """
    url = jwks_url or discover_jwks_uri(oidc_issuer or "")
    return fetch_jwks(url, algorithm)
