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


def supplier_scope(scope: Scope) -> ColumnElement[bool]:
    """Buyers see their org's suppliers, a supplier only itself, a client none."""
    if scope.client_id is not None:
        return false()
    clause = Supplier.org == scope.org
    if scope.supplier_id is not None:
        clause = and_(clause, Supplier.id == scope.supplier_id)
    return clause


def client_scope(scope: Scope) -> ColumnElement[bool]:
    """Buyers see their org's clients, a client only itself, a supplier none."""
    if scope.supplier_id is not None:
        return false()
    clause = Client.org == scope.org
    if scope.client_id is not None:
        clause = and_(clause, Client.id == scope.client_id)
    return clause
