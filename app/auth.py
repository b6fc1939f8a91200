"""Authorization header -> Principal, for HTTP requests and WebSocket connections alike."""

from __future__ import annotations

import logging

from permissions.principal import Principal
from permissions.tokens import InvalidToken, TokenVerifier

log = logging.getLogger("handoff.auth")


async def principal_from(verifier: TokenVerifier, header: str) -> Principal | None:
    """The caller a ``Bearer`` header names, or None; the reason goes to the log only."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        return await verifier.verify(token.strip())
    except InvalidToken as error:
        log.info("token rejected", extra={"reason": str(error)})
        return None
