"""Whether a failure means "the database cannot be reached now" (retry later) rather
than a fault in this request: the one rule the API uses to answer 503."""

from __future__ import annotations

from typing import Final

from sqlalchemy import exc

# SQLSTATE class 08 (connection exception) and the server going away or not taking
# connections: admin shutdown (pg_terminate_backend), crash shutdown, cannot connect
# now (starting up), too many connections.
_CONNECTION_CLASS: Final = "08"
_UNAVAILABLE_STATES: Final = frozenset({"57P01", "57P02", "57P03", "53300"})


def is_unavailable(error: BaseException | None) -> bool:
    """True if ``error`` (or anything it was raised from) is a lost or refused database
    connection, a connect or pool timeout, or the server shutting down."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError | TimeoutError | exc.TimeoutError):
            return True  # refused, reset, unreachable; no pooled connection in time
        if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
            return True
        state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if isinstance(state, str) and (
            state.startswith(_CONNECTION_CLASS) or state in _UNAVAILABLE_STATES
        ):
            return True
        if type(error).__name__ in ("ConnectionDoesNotExistError", "ConnectionFailureError"):
            return True  # asyncpg: the connection closed under an operation
        error = getattr(error, "orig", None) or error.__cause__ or error.__context__
    return False
