"""How money reads to people: exact, with at least two decimal places."""

from __future__ import annotations

from decimal import Decimal

_CENT = Decimal("0.01")


def format_money(value: Decimal) -> str:
    """Decimal("1234.5000") -> "1234.50"; Decimal("0.0125") stays "0.0125"."""
    normal = value.normalize()
    exponent = normal.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        normal = value.quantize(_CENT)
    return f"{normal:f}"
