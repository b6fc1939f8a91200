"""Strawberry types. Plain fields are copied from rows; relations resolve through the
relation registry (``schema.relations``). No role checks here: HIDE is the per-role
schema, NULL is ``row_policy`` (both from ``permissions.policy``).

``common`` (Node, Viewer, ``copy_fields``: a type from its row), ``order_parts``
(lines, events, shipments), ``paperwork`` (receipts, invoices), ``revisions``
(revisions of the terms, the pending proposal), ``order`` (Order), ``parties``
(Supplier, Client), ``alerts`` (Alert, Dashboard, AlertThresholds), ``tracking``
(TrackingLink) and ``webhooks`` (WebhookEndpoint, WebhookDelivery).
"""
