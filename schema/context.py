"""The typed request context every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import strawberry

from db.engine import Database
from db.scope import Scope
from permissions.principal import Principal
from schema.bus import EventBus
from schema.loaders import Loaders


@dataclass
class Context:
    principal: Principal
    db: Database
    loaders: Loaders
    now: datetime  # one instant per request, from the injected clock
    request_id: str
    bus: EventBus = field(default_factory=EventBus)

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
    bus: EventBus | None = None,
) -> Context:
    return Context(
        principal=principal,
        db=db,
        loaders=Loaders(db, principal.scope, now),
        now=now,
        request_id=request_id,
        bus=bus or EventBus(),
    )
