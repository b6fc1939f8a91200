"""The typed request context every resolver receives."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import strawberry

from db.engine import Database
from db.feed import FeedEntry
from db.scope import Scope
from db.webhook_secrets import SecretBox
from permissions.principal import Principal
from schema.loaders import Loaders


class LiveSource(Protocol):
    """The process's feed, as one consumer reads it (subscriptions' plain path)."""

    def entries(self, org: str, *, after: int | None) -> AsyncIterator[FeedEntry]:
        """Every entry of ``org`` after position ``after`` (None: from now on), replayed
        from the log and then live, each once and in order."""
        ...

    async def position_of(self, scope: Scope, event_id: str) -> int | None:
        """The feed position of an event the caller may see, else None."""
        ...


DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


def _nothing(org: str) -> None:
    return None


@dataclass
class Context:
    principal: Principal
    db: Database
    loaders: Loaders
    now: datetime  # one instant per request, from the injected clock
    request_id: str
    # The process's feed (subscriptions); None where nothing is live (one-off scripts).
    live: LiveSource | None = None
    # Told the org after a write commits (wakes this process's feed at once).
    committed: Callable[[str], None] = _nothing
    # Where this server is reached from outside (tracking links' URLs); no trailing /.
    public_url: str = DEFAULT_PUBLIC_URL
    # Seals webhook signing secrets (WEBHOOK_SECRET_KEY); None: webhooks cannot be made.
    webhook_secrets: SecretBox | None = None

    @property
    def scope(self) -> Scope:
        return self.principal.scope

    def refresh_loaders(self) -> None:
        """Forget cached rows: after a write, later resolvers must see the new state."""
        self.loaders = Loaders(self.db, self.scope, self.now)


Info = strawberry.Info[Context, None]


def make_context(
    *,
    principal: Principal,
    db: Database,
    now: datetime,
    request_id: str,
    live: LiveSource | None = None,
    committed: Callable[[str], None] = _nothing,
    public_url: str = DEFAULT_PUBLIC_URL,
    webhook_secrets: SecretBox | None = None,
) -> Context:
    return Context(
        principal=principal,
        db=db,
        loaders=Loaders(db, principal.scope, now),
        now=now,
        request_id=request_id,
        live=live,
        committed=committed,
        public_url=public_url,
        webhook_secrets=webhook_secrets,
    )
