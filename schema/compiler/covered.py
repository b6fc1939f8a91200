"""What the compiler covers: each GraphQL field it can answer, and the column (or alert
attribute) behind it. A field missing here sends its document to the ordinary path."""

from __future__ import annotations

from db import models
from db.base import Base

ORDER_COLUMNS: dict[str, str] = {
    "id": "id",
    "number": "number",
    "stage": "stage",
    "clientReference": "client_reference",
    "currency": "currency",
    "total": "total",
    "terms": "terms",
    "leadTimeDays": "lead_time_days",
    "needBy": "need_by",
    "promisedDate": "promised_date",
    "issuedAt": "issued_at",
    "acknowledgedAt": "acknowledged_at",
    "productionStartedAt": "production_started_at",
    "dispatchedAt": "dispatched_at",
    "deliveredAt": "delivered_at",
    "stageEnteredAt": "stage_entered_at",
    "internalNote": "internal_note",
    "version": "version",
    "revision": "revision",
    "awaiting": "awaiting",
}
LINE_COLUMNS: dict[str, str] = {
    "lineNo": "line_no",
    "partNumber": "part_number",
    "description": "description",
    "quantity": "quantity",
    "unitPrice": "unit_price",
    "lineTotal": "line_total",  # unit_price x quantity, computed in SQL
    "dispatchedQuantity": "dispatched_quantity",
    "receivedQuantity": "received_quantity",
    "rejectedQuantity": "rejected_quantity",
    "cancelledQuantity": "cancelled_quantity",
}
SHIPMENT_COLUMNS: dict[str, str] = {
    "id": "id",
    "method": "method",
    "carrier": "carrier",
    "trackingReference": "tracking_reference",
    "trackingUrl": "tracking_url",
    "dispatchedAt": "dispatched_at",
    "status": "status",
    "estimatedArrival": "estimated_arrival",
}
EVENT_COLUMNS: dict[str, str] = {
    "id": "id",
    "at": "at",
    "stage": "stage",
    "kind": "kind",
    "actorRole": "actor_role",
    "actorSubject": "actor_subject",
    "note": "note",
    "promisedDate": "promised_date",
}
SUPPLIER_COLUMNS = {"id": "id", "name": "name", "contactEmail": "contact_email"}
CLIENT_COLUMNS = {"id": "id", "name": "name"}
ALERT_ATTRIBUTES: dict[str, str] = {
    "id": "id",
    "raisedAt": "raised_at",
    "kind": "kind",
    "stage": "stage",
    "since": "since",
    "ageHours": "age_hours",
    "thresholdHours": "threshold_hours",
    "message": "message",
}
# Order relation field -> (GraphQL type, model, columns, many)
RELATIONS: dict[str, tuple[str, type[Base], dict[str, str], bool]] = {
    "lines": ("OrderLine", models.OrderLine, LINE_COLUMNS, True),
    "shipments": ("Shipment", models.Shipment, SHIPMENT_COLUMNS, True),
    "events": ("OrderEvent", models.OrderEvent, EVENT_COLUMNS, True),
    "supplier": ("Supplier", models.Supplier, SUPPLIER_COLUMNS, False),
    "client": ("Client", models.Client, CLIENT_COLUMNS, False),
}
PAGE_INFO = ("hasNextPage", "hasPreviousPage", "startCursor", "endCursor")
