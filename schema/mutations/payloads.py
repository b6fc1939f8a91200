"""What mutations return: the result (reloaded through the caller's scope) or typed
``userErrors`` saying what the caller got wrong, with nothing changed."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from db.errors import DomainError, ErrorCode, FieldPath
from schema.types.alerts import AlertThresholds
from schema.types.order import Order
from schema.types.paperwork import Invoice
from schema.types.parties import Client, Supplier


def input_path(field: FieldPath) -> list[str]:
    """A domain field path as the caller wrote it: ``("lines", 0, "unit_price")`` ->
    ``["input", "lines", "0", "unitPrice"]``."""
    return ["input", *(str(p) if isinstance(p, int) else _camel(p) for p in field)]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


@strawberry.type(description="Something the caller got wrong; nothing was changed.")
class UserError:
    code: ErrorCode
    message: str
    field: list[str] | None

    @classmethod
    def from_domain(cls, error: DomainError) -> UserError:
        path = input_path(error.field) if error.field is not None else None
        return cls(code=error.code, message=error.message, field=path)


@strawberry.type
class OrderPayload:
    order: Order | None
    user_errors: list[UserError]


@strawberry.type
class SupplierPayload:
    supplier: Supplier | None
    user_errors: list[UserError]


@strawberry.type
class ClientPayload:
    client: Client | None
    user_errors: list[UserError]


@strawberry.type
class InvoicePayload:
    invoice: Invoice | None
    user_errors: list[UserError]


@strawberry.type(description="How far an invoice may stray from the order and still match.")
class MatchingTolerances:
    price_tolerance_percent: Decimal
    quantity_tolerance: int


@strawberry.type
class MatchingTolerancesPayload:
    tolerances: MatchingTolerances | None
    user_errors: list[UserError]


@strawberry.type
class AlertThresholdsPayload:
    thresholds: AlertThresholds | None
    user_errors: list[UserError]
