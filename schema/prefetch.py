"""Load a page's relations up front, one batched query per relation.

A connection resolver knows which order fields the document selects under
``edges { node { ... } }``. Before returning the page it loads each selected relation
for all its orders at once (``Loaders.fetch_all``) and hands the rows to the ``Order``
objects, whose relation fields are then answered from there
(``schema.fast.serve_prefetched``): no coroutine, DataLoader future or task per order
and field. Every query is the same scoped loader query the lazy path uses, so row scope
is unchanged; loaders are primed too, so anything resolved lazily later (a nested
invoice match) reuses the rows instead of querying again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode
from strawberry.dataloader import DataLoader

from db import alerts as alert_rules
from schema.context import Info
from schema.loaders import Loaders
from schema.types import Client, Order, OrderEvent, OrderLine, Shipment, Supplier

log = logging.getLogger("handoff.graphql")

NEEDS_THRESHOLDS = frozenset({"outlook", "alerts"})


def selected_names(info: Info, path: Sequence[str]) -> set[str]:
    """Field names selected at ``path`` below the current field, through fragments.

    Conservative: a field under ``@skip``/``@include`` counts as selected (prefetching
    one relation too many is harmless; missing one only makes it lazy).
    """
    raw = info._raw_info
    fragments = raw.fragments

    def fields(sets: Iterable[SelectionSetNode | None], seen: frozenset[str]) -> list[FieldNode]:
        out: list[FieldNode] = []
        for selection_set in sets:
            if selection_set is None:
                continue
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    out.append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    out += fields([selection.selection_set], seen)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = fragments.get(name)
                    if fragment is not None and name not in seen:
                        out += fields([fragment.selection_set], seen | {name})
        return out

    level: list[SelectionSetNode | None] = [node.selection_set for node in raw.field_nodes]
    for step in path:
        level = [f.selection_set for f in fields(level, frozenset()) if f.name.value == step]
    return {f.name.value for f in fields(level, frozenset())}


class _Page:
    """One connection's orders and what its document selects (hashed by identity)."""

    __slots__ = ("orders", "wanted")

    def __init__(self, orders: list[Order], wanted: frozenset[str]) -> None:
        self.orders = orders
        self.wanted = wanted


async def prefetch_orders(info: Info, orders: list[Order], wanted: set[str]) -> None:
    """Load the selected relations of ``orders`` and attach them.

    Pages resolved in the same tick (``suppliers { orders { ... } }``: one page per
    supplier) are batched: one query per relation for all of them together.
    """
    if not orders or not wanted:
        return
    loaders = info.context.loaders

    async def run(pages: list[_Page]) -> list[None]:
        groups: dict[frozenset[str], list[Order]] = {}
        for page in pages:
            groups.setdefault(page.wanted, []).extend(page.orders)
        for names, group in groups.items():
            await _prefetch(loaders, group, names)
        return [None] * len(pages)

    await loaders.batched("order-pages", run).load(_Page(orders, frozenset(wanted)))


async def _prefetch(loaders: Loaders, orders: list[Order], wanted: frozenset[str]) -> None:
    ids = [str(o.id) for o in orders]
    requests: dict[str, tuple[DataLoader[Any, Any], list[Any]]] = {}
    if "lines" in wanted:
        requests["lines"] = (loaders.lines_by_order, ids)
    if "events" in wanted:
        requests["events"] = (loaders.events_by_order, ids)
    if "shipments" in wanted:
        requests["shipments"] = (loaders.shipments_by_order, ids)
    if "supplier" in wanted:
        requests["supplier"] = (loaders.supplier_by_id, [o.supplier_id for o in orders])
    if "client" in wanted:
        requests["client"] = (
            loaders.client_by_id,
            [o.client_id for o in orders if o.client_id is not None],
        )
    if wanted & NEEDS_THRESHOLDS and loaders.known_thresholds is None:
        requests["thresholds"] = (loaders.thresholds, [loaders.org])
    if not requests:
        return
    try:
        fetched = await loaders.fetch_all(list(requests.values()))
    except Exception:
        # Leave the page to the lazy loaders: a failing relation then costs only its own
        # fields (null plus a masked error each), as without prefetching, not the page.
        log.exception("prefetching a page's relations failed; resolving them lazily")
        return
    results = dict(zip(requests, fetched, strict=True))
    if "thresholds" in results:
        loaders.thresholds_known(results["thresholds"].get(loaders.org))

    def attach(key: str, of: Callable[[Order], Any]) -> None:
        if key in results:
            for order in orders:
                order.prefetched[key] = of(order)

    lines, events, shipments = (results.get(k, {}) for k in ("lines", "events", "shipments"))
    suppliers, clients = results.get("supplier", {}), results.get("client", {})
    attach("lines", lambda o: [OrderLine.from_row(r) for r in lines.get(str(o.id), ())])
    attach("events", lambda o: [OrderEvent.from_row(r) for r in events.get(str(o.id), ())])
    attach("shipments", lambda o: [Shipment.from_row(r) for r in shipments.get(str(o.id), ())])
    attach("supplier", lambda o: _wrap(Supplier.from_row, suppliers.get(o.supplier_id)))
    attach("client", lambda o: _wrap(Client.from_row, clients.get(o.client_id)))
    known, now = loaders.known_thresholds, loaders.now
    if known is not None:
        if "outlook" in wanted:
            for order in orders:
                order.prefetched["outlook"] = alert_rules.outlook_for(order.facts(), known, now)
        if "alerts" in wanted:
            from schema.alerts import Alert  # schema.alerts imports the connections

            for order in orders:
                found = alert_rules.alerts_for(order.facts(), known, now)
                order.prefetched["alerts"] = [Alert.of(a) for a in found]


def _wrap(wrap: Callable[[Any], Any], row: Any) -> Any:
    return wrap(row) if row is not None else None
