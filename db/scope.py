"""Row scope: the only input the data layer needs to decide which rows a caller sees."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scope:
    """Which rows a caller may touch.

    ``org`` always applies. A set ``client_id`` narrows orders to that client's;
    a set ``supplier_id`` narrows them to that supplier's. ``role`` and ``subject``
    are recorded on events as the actor.
    """

    org: str
    role: str
    subject: str
    client_id: str | None = None
    supplier_id: str | None = None
