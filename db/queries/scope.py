"""The scope predicates: which orders, suppliers and clients a caller may see."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false

from db.models import Client, Order, Supplier
from db.scope import Scope


def order_scope(scope: Scope) -> ColumnElement[bool]:
    """The orders a caller may see: its org's, narrowed to its own party's."""
    clauses = [Order.org == scope.org]
    if scope.client_id is not None:
        clauses.append(Order.client_id == scope.client_id)
    if scope.supplier_id is not None:
        clauses.append(Order.supplier_id == scope.supplier_id)
    if scope.order_id is not None:
        clauses.append(Order.id == scope.order_id)
    return and_(*clauses)


def order_in_scope(
    scope: Scope, *, org: str, order_id: str, supplier_id: str, client_id: str | None
) -> bool:
    """``order_scope`` for one order already in memory (the feed's entries): the same
    rule, term by term; a test holds the two to agreement on every row."""
    return (
        org == scope.org
        and (scope.client_id is None or client_id == scope.client_id)
        and (scope.supplier_id is None or supplier_id == scope.supplier_id)
        and (scope.order_id is None or order_id == scope.order_id)
    )


def _party_scope(
    model: type[Supplier] | type[Client], org: str, *, own: str | None, other: str | None
) -> ColumnElement[bool]:
    """A kind of party's rows: the org's for the buyer, only its own to a party of that
    kind (``own``), none to a party of the other kind (``other``)."""
    if other is not None:
        return false()
    clause = model.org == org
    if own is not None:
        clause = and_(clause, model.id == own)
    return clause


def supplier_scope(scope: Scope) -> ColumnElement[bool]:
    """Buyers see their org's suppliers, a supplier only itself, a client none."""
    return _party_scope(Supplier, scope.org, own=scope.supplier_id, other=scope.client_id)


def client_scope(scope: Scope) -> ColumnElement[bool]:
    """Buyers see their org's clients, a client only itself, a supplier none."""
    return _party_scope(Client, scope.org, own=scope.client_id, other=scope.supplier_id)
