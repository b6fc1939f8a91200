"""Scoped reads. Every function takes the caller's ``Scope`` and applies it in SQL.

Rows outside the scope are never loaded, so a resolver cannot leak them: an object
out of scope is indistinguishable from one that does not exist.

``scope`` (the predicates), ``orders`` (lists, filters, keyset pages, party pages),
``relations`` (an order's lines, events, shipments, receipts, invoices, batched by
parent), ``parties`` (suppliers, clients), ``alerts`` (alert lists and counts in SQL),
``scorecard`` and ``settings`` (the org's thresholds row).
"""
