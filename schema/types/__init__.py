"""Strawberry types. Plain fields are copied from rows; relations resolve through the
relation registry (``schema.relations``). No role checks here: HIDE is the per-role
schema, NULL is ``row_policy`` (both from ``permissions.policy``).

``common`` (Node, Viewer, the enums), ``order_parts`` (lines, events, shipments,
receipts, invoices), ``revisions`` (revisions of the terms, the pending proposal),
``order`` (Order), ``parties`` (Supplier, Client) and ``alerts`` (Alert, Dashboard,
AlertThresholds).
"""
