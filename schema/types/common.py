"""The interface every object with an ID implements, and the viewer."""

from __future__ import annotations

import strawberry


@strawberry.interface(description="An object with a global, opaque ID.")
class Node:
    id: strawberry.ID


@strawberry.type(description="Who the token says the caller is.")
class Viewer:
    role: str
    org: str
    subject: str
    client_id: strawberry.ID | None
    supplier_id: strawberry.ID | None
