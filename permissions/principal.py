"""The verified caller, derived from a JWT and nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from db.scope import Role, Scope
from permissions.policy import scope_for

__all__ = ["Principal", "Role"]  # Role is the domain's vocabulary, re-exported here


@dataclass(frozen=True, slots=True)
class Principal:
    """A caller whose token has been verified.

    ``client_id`` is set iff the role is client, ``supplier_id`` iff supplier;
    the token verifier guarantees it, and ``__post_init__`` re-checks it so a
    principal built by hand (tests, CLI) cannot be inconsistent either.
    """

    role: Role
    org: str
    subject: str
    client_id: str | None = None
    supplier_id: str | None = None
    # A tracking link: a client principal that may read this one order and nothing else.
    order_id: str | None = None
    # When the credential stops being valid (a token's exp); not part of who it is.
    expires_at: datetime | None = field(default=None, compare=False, hash=False)

    def __post_init__(self) -> None:
        if (self.role is Role.CLIENT) != (self.client_id is not None):
            raise ValueError("client_id is required for, and only for, the client role")
        if (self.role is Role.SUPPLIER) != (self.supplier_id is not None):
            raise ValueError("supplier_id is required for, and only for, the supplier role")
        if not self.org or not self.subject:
            raise ValueError("org and subject are required")
        if self.order_id is not None and self.role is not Role.CLIENT:
            raise ValueError("only a client principal can be narrowed to one order")

    @property
    def scope(self) -> Scope:
        """The row scope the data layer applies to every query for this caller, with the
        actions and row content the policy table gives its role."""
        return scope_for(self)
