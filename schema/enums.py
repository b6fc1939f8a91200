"""The GraphQL enums are the domain's own (``db``), registered with Strawberry under
their GraphQL names, so annotations use the domain classes directly.

Imported by the package (``schema/__init__.py``) before any type module: Strawberry
resolves annotations as classes are defined, and an enum it meets unregistered gets a
definition of its own (without these names and descriptions).
"""

from __future__ import annotations

import strawberry

from db import alerts as alert_rules
from db import matching, models
from db.errors import ErrorCode
from db.notes import NoteAudience
from db.queries.orders import OrderSort

strawberry.enum(
    models.OrderStage, name="OrderStage", description="Where a purchase order is in its lifecycle."
)
strawberry.enum(models.ShipmentMethod, name="ShipmentMethod")
strawberry.enum(
    models.ShipmentStatus,
    name="ShipmentStatus",
    description="Where a shipment is on its way.",
)
strawberry.enum(
    alert_rules.Outlook,
    name="Outlook",
    description="Delivery outlook derived from dates and stage only.",
)
strawberry.enum(OrderSort, name="OrderSort")
strawberry.enum(alert_rules.AlertKind, name="AlertKind")
strawberry.enum(matching.MatchStatus, name="MatchStatus")
strawberry.enum(ErrorCode, name="ErrorCode")
strawberry.enum(
    models.Awaiting,
    name="Awaiting",
    description="Whose move it is on an order, besides its stage.",
)
strawberry.enum(models.RevisionField, name="RevisionField")
strawberry.enum(
    NoteAudience,
    name="NoteAudience",
    description="Who besides the buyer may read a buyer's note.",
)
strawberry.enum(
    models.WebhookEvent,
    name="WebhookEvent",
    description="What a webhook endpoint receives: ORDER_EVENT as orderEvents, "
    "ALERT_RAISED as alertRaised would deliver it.",
)
strawberry.enum(models.DeliveryStatus, name="DeliveryStatus")
