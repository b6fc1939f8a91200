"""One clear line, not a traceback, when ``DATABASE_URL`` cannot work.

``problem_with`` catches what can be told from the URL alone (no async driver, an
unknown backend, a SQLite file in a folder that does not exist); ``explain`` turns
the error of a first connection into what to set. Passwords are never printed.
"""

from __future__ import annotations

import socket
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

EXAMPLES = (
    "e.g. DATABASE_URL=postgresql+asyncpg://user:password@host:5432/handoff "
    "or sqlite+aiosqlite:///./handoff.db"
)
DRIVERS = {"postgresql": "asyncpg", "sqlite": "aiosqlite"}


def shown(url: str) -> str:
    """The URL with any password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a URL)"


def problem_with(url: str) -> str | None:
    """What is wrong with ``url`` before connecting, or None."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return f"DATABASE_URL is not a database URL: set it, {EXAMPLES}"
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    wanted = DRIVERS.get(backend)
    if wanted is None:
        return f"DATABASE_URL={shown(url)}: {backend!r} is not supported; {EXAMPLES}"
    if driver != wanted:
        fixed = parsed.set(drivername=f"{backend}+{wanted}").render_as_string(hide_password=True)
        return (
            f"DATABASE_URL={shown(url)} names no async driver ({driver!r}): "
            f"use {backend}+{wanted}://, i.e. DATABASE_URL={fixed}"
        )
    if backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).expanduser().parent
        if not folder.is_dir():
            return (
                f"DATABASE_URL={shown(url)}: the folder {str(folder)!r} does not exist; "
                "create it or point DATABASE_URL elsewhere"
            )
    return None


def _causes(error: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _where(parsed: URL) -> str:
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"


def explain(url: str, error: BaseException) -> str | None:
    """One line saying what to set after ``error`` on first use of ``url``; None when
    the error is not about reaching the database."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return problem_with(url)
    for cause in _causes(error):
        name = type(cause).__name__
        text = str(cause).splitlines()[0] if str(cause) else name
        if name == "InvalidCatalogNameError":
            return (
                f"database {parsed.database!r} does not exist on {_where(parsed)}: create it "
                f"(createdb {parsed.database}) or set DATABASE_URL (now {shown(url)})"
            )
        if name in ("InvalidPasswordError", "InvalidAuthorizationSpecificationError"):
            return (
                f"{_where(parsed)} refused the login: {text}; check the user and password "
                f"in DATABASE_URL (now {shown(url)})"
            )
        if isinstance(cause, socket.gaierror):
            return (
                f"cannot resolve the database host {parsed.host!r}; "
                f"check DATABASE_URL (now {shown(url)})"
            )
        if isinstance(cause, ConnectionRefusedError | TimeoutError) or (
            isinstance(cause, OSError) and "Connect call failed" in text
        ):
            return (
                f"cannot connect to the database at {_where(parsed)} ({text}): is it running? "
                f"Or set DATABASE_URL (now {shown(url)})"
            )
        if name == "OperationalError" and parsed.get_backend_name() == "sqlite":
            return f"cannot open the SQLite database {parsed.database!r}: {text}; set DATABASE_URL"
        if isinstance(cause, ModuleNotFoundError):
            return problem_with(url) or f"{text}; {EXAMPLES}"
    return None
