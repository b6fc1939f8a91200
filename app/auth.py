"""Authorization header -> Principal, for HTTP requests and WebSocket connections alike,
and the RFC 6750 answer when there is none."""

from __future__ import annotations

import enum
import logging
import re
import uuid
from collections.abc import Mapping

import orjson
from starlette.responses import Response

from permissions.principal import Principal
from permissions.tokens import InvalidToken, TokenExpired, TokenVerifier

log = logging.getLogger("handoff.auth")

_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class Refusal(enum.Enum):
    """Why a request has no principal, in RFC 6750 terms. The token itself is never
    described: which claim was wrong goes to the log only."""

    NO_TOKEN = "no token"  # no Bearer credentials at all: challenge without an error
    EXPIRED = "token expired"
    INVALID = "invalid token"


async def authenticate(verifier: TokenVerifier, header: str) -> Principal | Refusal:
    """The caller a ``Bearer`` header names, or why not; the detail goes to the log."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return Refusal.NO_TOKEN
    try:
        return await verifier.verify(token.strip())
    except TokenExpired as error:
        log.info("token rejected", extra={"reason": str(error)})
        return Refusal.EXPIRED
    except InvalidToken as error:
        log.info("token rejected", extra={"reason": str(error)})
        return Refusal.INVALID


def challenge(refusal: Refusal) -> str:
    """The ``WWW-Authenticate`` value (RFC 6750 §3): no error code when no token was sent."""
    if refusal is Refusal.NO_TOKEN:
        return "Bearer"
    return f'Bearer error="invalid_token", error_description="{refusal.value}"'


def unauthorized(refusal: Refusal, request_id: str) -> Response:
    """HTTP 401: the challenge, the request id (header and body), no data."""
    body = {
        "errors": [
            {
                "message": "Authentication required."
                if refusal is Refusal.NO_TOKEN
                else f"Authentication required: {refusal.value}.",
                "extensions": {"code": "UNAUTHENTICATED", "requestId": request_id},
            }
        ]
    }
    return Response(
        orjson.dumps(body),
        status_code=401,
        media_type="application/json",
        headers={"WWW-Authenticate": challenge(refusal), "X-Request-Id": request_id},
    )


def request_id_from(headers: Mapping[str, str]) -> str:
    """The caller's ``X-Request-Id`` if it is short and plain, else a fresh one.

    It is echoed in headers, bodies and logs, so anything else (spaces, quotes,
    control characters, 10 KB) is replaced rather than trusted.
    """
    given = headers.get("x-request-id", "")
    return given if _SAFE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
