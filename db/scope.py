"""Row scope: the only input the data layer needs to decide which rows a caller sees.

The domain's own vocabulary of who acts (``Role``) lives here, so ``db`` needs nothing
above it. What each role may see *inside* rows it can reach (``RowContent``) and which
actions it may take are decided by the policy module (``permissions.policy``), which
fills them in when it builds a caller's ``Scope``; the data layer only applies them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Role(enum.StrEnum):
    BUYER = "buyer"
    CLIENT = "client"
    SUPPLIER = "supplier"


class InvoiceAccess(enum.Enum):
    """Which invoices on an order in scope a caller may read."""

    ALL = "all"
    OWN = "own"  # those its own supplier submitted
    NONE = "none"


@dataclass(frozen=True, slots=True)
class RowContent:
    """Row-level content rules the policy table sets per role (see ``permissions.policy``)."""

    hidden_event_kinds: frozenset[str] = frozenset()
    # Kinds the role reads only where the buyer shared the event's note with it
    # (``shared_as``, a ``db.notes.NoteAudience`` value): the buyer's choice to tell.
    unless_shared_kinds: frozenset[str] = frozenset()
    shared_as: str | None = None
    invoices: InvoiceAccess = InvoiceAccess.NONE

    def reads_event(self, kind: str, audience: frozenset[str]) -> bool:
        """Whether an event of ``kind`` whose note has ``audience`` is readable."""
        if kind in self.hidden_event_kinds:
            return False
        return kind not in self.unless_shared_kinds or self.shared_as in audience


@dataclass(frozen=True, slots=True)
class Scope:
    """Which rows a caller may touch.

    ``org`` always applies. A set ``client_id`` narrows orders to that client's;
    a set ``supplier_id`` narrows them to that supplier's; a set ``order_id`` (a
    tracking link) narrows them to that one order. ``role`` and ``subject`` are
    recorded on events as the actor. ``actions`` are the lifecycle actions (values of
    ``db.lifecycle.Action``) the caller may take; ``content`` what it may read inside
    rows in scope.
    """

    org: str
    role: Role
    subject: str
    client_id: str | None = None
    supplier_id: str | None = None
    order_id: str | None = None
    actions: frozenset[str] = frozenset()
    content: RowContent = field(default_factory=RowContent)
