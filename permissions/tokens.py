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
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from permissions.claims import ClaimError, ClaimMapping, principal_from_claims
from permissions.jwks import KeySet, check_http_url, load_keys
from permissions.principal import Principal, Role

log = logging.getLogger(__name__)

SUPPORTED_ALGORITHMS: Final = frozenset({"HS256", "RS256", "ES256"})
MAX_TOKEN_LENGTH: Final = 8192
"""Longer tokens are rejected before any parsing: no real token of ours comes close."""

REQUIRED_CLAIMS: Final = ("exp", "iat", "sub", "aud", "iss")
"""Checked by PyJWT; role and org are required too, wherever the claim mapping says."""

_HMAC_MIN_SECRET_BYTES: Final = 32  # RFC 7518 §3.2: at least the hash size
_RSA_MIN_BITS: Final = 2048


class InvalidToken(Exception):
    """The token cannot be trusted. The message is for logs, never for the caller."""


class TokenExpired(InvalidToken):
    """A well-formed, correctly signed token past its ``exp`` (plus leeway)."""


def _given(value: str | None) -> bool:
    # Settings read from the environment turn an unset variable into "", which must
    # not count as configuring a second key source.
    return value is not None and value.strip() != ""


@dataclass(frozen=True)
class TokenConfig:
    """How tokens are verified: one algorithm and one key source, never a mix.

    HS256 takes ``secret``; RS256 and ES256 take exactly one of ``public_key`` (PEM),
    ``jwks_url``, or ``oidc_issuer`` (whose discovery document names the JWKS; the
    required ``iss`` is then that issuer). Anything else raises ``ValueError`` at
    construction. ``claims`` says where role, org and the party ids are.
    """

    algorithm: str
    audience: str
    issuer: str
    secret: str | None = field(default=None, repr=False)
    public_key: str | None = None
    jwks_url: str | None = None
    leeway_seconds: int = 30
    jwks_refresh_interval_seconds: float = 30.0
    oidc_issuer: str | None = None
    claims: ClaimMapping = field(default_factory=ClaimMapping)

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
            if _given(self.public_key) or _given(self.jwks_url) or _given(self.oidc_issuer):
                raise ValueError(
                    "HS256 takes a secret only, not a public key, JWKS URL or OIDC issuer"
                )
            _check_hmac_secret(self.secret or "")
            return
        if _given(self.secret):
            raise ValueError(
                f"{self.algorithm} takes a public key, JWKS URL or OIDC issuer, not a secret"
            )
        sources = [_given(self.public_key), _given(self.jwks_url), _given(self.oidc_issuer)]
        if sum(sources) != 1:
            raise ValueError(
                f"{self.algorithm} requires exactly one of public_key, jwks_url and oidc_issuer"
            )
        if _given(self.jwks_url):
            check_http_url(self.jwks_url or "", "jwks_url")
        if _given(self.oidc_issuer):
            check_http_url(self.oidc_issuer or "", "oidc_issuer")
            if self.issuer != self.oidc_issuer:
                raise ValueError("with an OIDC issuer, the required iss is that issuer")

    @property
    def uses_jwks(self) -> bool:
        return _given(self.jwks_url) or _given(self.oidc_issuer)


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


class TokenVerifier:
    """Turns a bearer token into a ``Principal`` or raises ``InvalidToken``.

    With a JWKS URL (or an OIDC issuer's), keys are cached by ``kid``. An unknown
    ``kid`` triggers at most one refresh per ``jwks_refresh_interval_seconds``
    (measured with ``clock``), so a flood of forged kids cannot turn into a flood of
    fetches. The fetch runs in a
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
        self._keys = KeySet()
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
        config = self._config
        source = config.jwks_url or config.oidc_issuer
        try:
            self._keys = await asyncio.to_thread(
                load_keys,
                algorithm=config.algorithm,
                jwks_url=config.jwks_url or None,
                oidc_issuer=config.oidc_issuer or None,
            )
        except Exception:
            log.warning("JWKS refresh from %s failed; keeping cached keys", source, exc_info=True)

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
        except jwt.ExpiredSignatureError as exc:
            raise TokenExpired(f"token rejected: {exc}") from exc
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise InvalidToken(f"token rejected: {exc}") from exc
        try:
            return principal_from_claims(claims, config.claims)
        except ClaimError as exc:
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
