"""Load a page's relations up front, one batched query per relation.

A connection resolver knows which order fields the document selects under
``edges { node { ... } }``. Before returning the page it loads each selected relation
(the ``Order`` relations of the registry, ``schema.relations``) for all its orders at
once (``Loaders.fetch_all``) and hands the results to the ``Order`` objects, whose
relation fields are then answered from there (``schema.fast.serve_prefetched``): no
coroutine, DataLoader future or task per order and field. Every query is the same
scoped query the lazy path uses, so row scope is unchanged; loaders are primed too, so
anything resolved lazily later (a nested invoice match) reuses the rows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.types.nodes import SelectedField, Selection

from db import alerts as alert_rules
from schema.context import Info
from schema.loaders import Loaders
from schema.relations import of_parent
from schema.types.alerts import Alert
from schema.types.order import Order

log = logging.getLogger("handoff.graphql")

NEEDS_THRESHOLDS = frozenset({"outlook", "alerts"})


def selected_names(info: Info, path: Sequence[str]) -> set[str]:
    """Field names selected at ``path`` below the current field, through fragments
    (Strawberry's public ``Info.selected_fields``, fragments already expanded).

    Conservative: a field under ``@skip``/``@include`` counts as selected (prefetching
    one relation too many is harmless; missing one only makes it lazy).
    """

    def fields(selections: Iterable[Selection]) -> list[SelectedField]:
        out: list[SelectedField] = []
        for selection in selections:
            if isinstance(selection, SelectedField):
                out.append(selection)
            else:  # an inline fragment or a fragment spread
                out += fields(selection.selections)
        return out

    current = fields(info.selected_fields)  # the field itself (each of its nodes)
    level = fields(s for f in current for s in f.selections)
    for step in path:
        level = fields(s for f in level if f.name == step for s in f.selections)
    return {f.name for f in level}


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
    wanted_relations = [r for r in of_parent("Order") if r.field in wanted]
    requests: list[tuple[DataLoader[Any, Any], list[Any]]] = [
        (loaders.of(r), [k for k in (r.key(o) for o in orders) if k is not None])
        for r in wanted_relations
    ]
    needs_thresholds = bool(wanted & NEEDS_THRESHOLDS) and loaders.known_thresholds is None
    if needs_thresholds:
        requests.append((loaders.thresholds, [loaders.org]))
    if not requests:
        return
    try:
        fetched = await loaders.fetch_all(requests)
    except Exception:
        # Leave the page to the lazy loaders: a failing relation then costs only its own
        # fields (null plus a masked error each), as without prefetching, not the page.
        log.exception("prefetching a page's relations failed; resolving them lazily")
        return
    if needs_thresholds:
        loaders.thresholds_known(fetched.pop().get(loaders.org))
    for rel, rows in zip(wanted_relations, fetched, strict=True):
        for order in orders:
            key = rel.key(order)
            order.prefetched[rel.field] = (
                rel.value(rows.get(key)) if key is not None else ([] if rel.many else None)
            )
    known, now = loaders.known_thresholds, loaders.now
    if known is not None:
        if "outlook" in wanted:
            for order in orders:
                order.prefetched["outlook"] = alert_rules.outlook_for(order.facts(), known, now)
        if "alerts" in wanted:
            for order in orders:
                found = alert_rules.alerts_for(order.facts(), known, now)
                order.prefetched["alerts"] = [Alert.of(a) for a in found]
