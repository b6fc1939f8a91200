"""Bearer tokens: verify a JWT into a Principal, and mint HS256 dev tokens.

The algorithm is pinned by configuration and never taken from the token: a token
whose header names another algorithm (``none``, or HS256 when RS256 is configured)
is rejected before any key is touched. Every failure surfaces as ``InvalidToken``,
whose message is for logs only.

Long because verification is one path that must be read whole: configuration,
key sources (secret, PEM, JWKS with its refresh rules) and the claim checks.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from permissions.principal import Principal, Role

log = logging.getLogger(__name__)

SUPPORTED_ALGORITHMS: Final = frozenset({"HS256", "RS256", "ES256"})
MAX_TOKEN_LENGTH: Final = 8192
"""Longer tokens are rejected before any parsing: no real token of ours comes close."""

REQUIRED_CLAIMS: Final = ("exp", "iat", "sub", "role", "org", "aud", "iss")

_HMAC_MIN_SECRET_BYTES: Final = 32  # RFC 7518 §3.2: at least the hash size
_RSA_MIN_BITS: Final = 2048
_JWKS_FETCH_TIMEOUT_SECONDS: Final = 5.0
_JWKS_MAX_BYTES: Final = 1_000_000

_ROLE_ID_CLAIMS: Final[Mapping[Role, str | None]] = {
    Role.BUYER: None,
    Role.CLIENT: "client_id",
    Role.SUPPLIER: "supplier_id",
}


class InvalidToken(Exception):
    """The token cannot be trusted. The message is for logs, never for the caller."""


def _given(value: str | None) -> bool:
    # Settings read from the environment turn an unset variable into "", which must
    # not count as configuring a second key source.
    return value is not None and value.strip() != ""


@dataclass(frozen=True)
class TokenConfig:
    """How tokens are verified: one algorithm and one key source, never a mix.

    HS256 takes ``secret``; RS256 and ES256 take exactly one of ``public_key`` (PEM)
    or ``jwks_url``. Anything else raises ``ValueError`` at construction.
    """

    algorithm: str
    audience: str
    issuer: str
    secret: str | None = field(default=None, repr=False)
    public_key: str | None = None
    jwks_url: str | None = None
    leeway_seconds: int = 30
    jwks_refresh_interval_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.algorithm not in SUPPORTED_ALGORITHMS:
            raise ValueError(
                f"unsupported JWT algorithm {self.algorithm!r}; "
                f"expected one of {sorted(SUPPORTED_ALGORITHMS)}"
            )
        if not self.audience or not self.issuer:
            raise ValueError("audience and issuer are required")
        if self.leeway_seconds < 0:
            raise ValueError("leeway_seconds must not be negative")
        if self.jwks_refresh_interval_seconds < 0:
            raise ValueError("jwks_refresh_interval_seconds must not be negative")
        if self.algorithm == "HS256":
            if not _given(self.secret):
                raise ValueError("HS256 requires a secret")
            if _given(self.public_key) or _given(self.jwks_url):
                raise ValueError("HS256 takes a secret only, not a public key or JWKS URL")
            _check_hmac_secret(self.secret or "")
            return
        if _given(self.secret):
            raise ValueError(f"{self.algorithm} takes a public key or JWKS URL, not a secret")
        if _given(self.public_key) == _given(self.jwks_url):
            raise ValueError(f"{self.algorithm} requires exactly one of public_key and jwks_url")
        if _given(self.jwks_url):
            scheme = urllib.parse.urlsplit(self.jwks_url or "").scheme
            if scheme not in ("http", "https"):
                raise ValueError("jwks_url must be an http(s) URL")

    @property
    def uses_jwks(self) -> bool:
        return _given(self.jwks_url)


def _check_hmac_secret(secret: str) -> None:
    if len(secret.encode()) < _HMAC_MIN_SECRET_BYTES:
        raise ValueError(f"the HS256 secret must be at least {_HMAC_MIN_SECRET_BYTES} bytes")


def _load_public_key(algorithm: str, pem: str) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
    try:
        key = load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as exc:
        raise ValueError(f"public_key is not a PEM public key: {exc}") from exc
    if algorithm == "RS256":
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("RS256 requires an RSA public key")
        if key.key_size < _RSA_MIN_BITS:
            raise ValueError(f"the RSA public key must be at least {_RSA_MIN_BITS} bits")
        return key
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("ES256 requires an EC P-256 public key")
    return key


@dataclass(frozen=True)
class _KeySet:
    """An immutable snapshot of the JWKS, swapped whole on refresh."""

    keys: tuple[jwt.PyJWK, ...] = ()
    by_kid: Mapping[str, jwt.PyJWK] = field(default_factory=dict)

    def find(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None:
            # Without a kid we cannot choose, so only an unambiguous set will do.
            return self.keys[0] if len(self.keys) == 1 else None
        return self.by_kid.get(kid)


def _fetch_jwks(url: str, algorithm: str) -> _KeySet:
    """Blocking: download and parse the JWKS, keeping only keys usable for ``algorithm``."""
    # The scheme is checked to be http(s) in TokenConfig.
    with urllib.request.urlopen(url, timeout=_JWKS_FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310
        body = response.read(_JWKS_MAX_BYTES + 1)
    if len(body) > _JWKS_MAX_BYTES:
        raise ValueError("JWKS response is too large")
    document = json.loads(body)
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
    return _KeySet(keys=keys, by_kid=by_kid)


class TokenVerifier:
    """Turns a bearer token into a ``Principal`` or raises ``InvalidToken``.

    With a JWKS URL, keys are cached by ``kid``. An unknown ``kid`` triggers at most
    one refresh per ``jwks_refresh_interval_seconds`` (measured with ``clock``), so a
    flood of forged kids cannot turn into a flood of fetches. The fetch runs in a
    worker thread; concurrent verifies wait for the one refresh in flight. A failed
    refresh keeps the keys already cached.
    """

    def __init__(self, config: TokenConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._config = config
        self._clock = clock
        self._static_key: str | rsa.RSAPublicKey | ec.EllipticCurvePublicKey | None = None
        if config.algorithm == "HS256":
            self._static_key = config.secret
        elif not config.uses_jwks:
            self._static_key = _load_public_key(config.algorithm, config.public_key or "")
        self._keys = _KeySet()
        self._last_refresh_at: float | None = None
        self._refresh_lock = asyncio.Lock()

    async def verify(self, token: str) -> Principal:
        """Verify ``token``; may refresh the JWKS (without blocking the event loop)."""
        kid = self._check_header(token)
        if self._static_key is not None:
            return self._decode(token, self._static_key)
        key = self._keys.find(kid)
        if key is None:
            key = await self._refreshed_key(kid)
        return self._decode(token, key)

    def verify_sync(self, token: str) -> Principal:
        """Verify ``token`` without I/O: static keys, or JWKS keys already cached."""
        kid = self._check_header(token)
        if self._static_key is not None:
            return self._decode(token, self._static_key)
        key = self._keys.find(kid)
        if key is None:
            raise InvalidToken(f"no cached JWKS key for kid {kid!r}")
        return self._decode(token, key)

    def _check_header(self, token: str) -> str | None:
        if not isinstance(token, str) or not token:
            raise InvalidToken("empty token")
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken(f"token longer than {MAX_TOKEN_LENGTH} characters")
        try:
            header = jwt.get_unverified_header(token)
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise InvalidToken(f"malformed token header: {exc}") from exc
        alg = header.get("alg")
        if alg != self._config.algorithm:
            raise InvalidToken(f"token algorithm {alg!r} is not {self._config.algorithm!r}")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise InvalidToken("kid is not a string")
        return kid

    async def _refreshed_key(self, kid: str | None) -> jwt.PyJWK:
        async with self._refresh_lock:
            # Another verify may have refreshed while we waited for the lock.
            key = self._keys.find(kid)
            if key is None and self._may_refresh():
                await self._refresh()
                key = self._keys.find(kid)
        if key is None:
            raise InvalidToken(f"no JWKS key for kid {kid!r}")
        return key

    def _may_refresh(self) -> bool:
        last = self._last_refresh_at
        return last is None or self._clock() - last >= self._config.jwks_refresh_interval_seconds

    async def _refresh(self) -> None:
        # Counted as an attempt even if it fails: a dead key server is not retried
        # on every request.
        self._last_refresh_at = self._clock()
        url = self._config.jwks_url or ""
        try:
            self._keys = await asyncio.to_thread(_fetch_jwks, url, self._config.algorithm)
        except Exception:
            log.warning("JWKS refresh from %s failed; keeping cached keys", url, exc_info=True)

    def _decode(
        self, token: str, key: str | rsa.RSAPublicKey | ec.EllipticCurvePublicKey | jwt.PyJWK
    ) -> Principal:
        config = self._config
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[config.algorithm],
                audience=config.audience,
                issuer=config.issuer,
                leeway=config.leeway_seconds,
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "enforce_minimum_key_length": True,
                },
            )
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise InvalidToken(f"token rejected: {exc}") from exc
        return _principal_from_claims(claims)


MAX_SUBJECT_LENGTH = 200
MAX_ORG_LENGTH = 64


def _principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    subject, org, raw_role = claims["sub"], claims["org"], claims["role"]
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("sub must be a non-empty string")
    if not isinstance(org, str) or not org:
        raise InvalidToken("org must be a non-empty string")
    # The lengths the data layer stores (actor subject, org key); no NUL (PostgreSQL).
    if len(subject) > MAX_SUBJECT_LENGTH or len(org) > MAX_ORG_LENGTH:
        raise InvalidToken("sub or org is too long")
    if "\x00" in subject or "\x00" in org:
        raise InvalidToken("sub or org contains NUL")
    try:
        role = Role(raw_role)
    except ValueError:
        raise InvalidToken(f"unknown role {raw_role!r}") from None
    ids: dict[str, str] = {}
    own_claim = _ROLE_ID_CLAIMS[role]
    for name in ("client_id", "supplier_id"):
        if name == own_claim:
            value = claims.get(name)
            if not isinstance(value, str) or not value:
                raise InvalidToken(f"role {role} requires a non-empty {name}")
            ids[name] = value
        elif name in claims:
            raise InvalidToken(f"role {role} must not carry {name}")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise InvalidToken("exp must be a NumericDate (a JSON number)")
    try:
        return Principal(
            role=role,
            org=org,
            subject=subject,
            client_id=ids.get("client_id"),
            supplier_id=ids.get("supplier_id"),
            expires_at=datetime.fromtimestamp(exp, UTC),
        )
    except ValueError as exc:  # pragma: no cover - the checks above are stricter
        raise InvalidToken(str(exc)) from exc


def issue_token(
    *,
    secret: str,
    audience: str,
    issuer: str,
    org: str,
    role: str,
    subject: str,
    client_id: str | None = None,
    supplier_id: str | None = None,
    ttl_seconds: int = 3600,
    now: datetime | None = None,
) -> str:
    """Mint an HS256 token for development and tests (``handoff token``).

    The claims are checked the way the verifier checks them, so an inconsistent
    token (a client without ``client_id``) cannot be minted; raises ``ValueError``.
    """
    _check_hmac_secret(secret)
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    issued_at = datetime.now(UTC) if now is None else now
    if issued_at.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    principal = Principal(
        role=Role(role), org=org, subject=subject, client_id=client_id, supplier_id=supplier_id
    )
    claims: dict[str, Any] = {
        "sub": principal.subject,
        "role": principal.role.value,
        "org": principal.org,
        "aud": audience,
        "iss": issuer,
        "iat": issued_at,
        "exp": issued_at + timedelta(seconds=ttl_seconds),
    }
    if principal.client_id is not None:
        claims["client_id"] = principal.client_id
    if principal.supplier_id is not None:
        claims["supplier_id"] = principal.supplier_id
    return jwt.encode(claims, secret, algorithm="HS256")
