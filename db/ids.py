"""Opaque, non-sequential public IDs: a type prefix and 20 random base32 characters.

The prefix lets ``node(id:)`` find the table without a lookup; the random part
reveals neither creation order nor volume. PO numbers are for people (short, no
look-alike characters) and, like IDs, count nothing: every party reads them.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from datetime import date
from typing import Final

PREFIXES: Final = {
    "sup": "Supplier",
    "cli": "Client",
    "ord": "Order",
    "shp": "Shipment",
    "rcp": "Receipt",
    "inv": "Invoice",
    "evt": "OrderEvent",
    "alr": "Alert",
    "prp": "Proposal",
    "trk": "TrackingLink",
    "whe": "WebhookEndpoint",
    "whd": "WebhookDelivery",
    "eml": "EmailMessage",
}


def new_id(prefix: str) -> str:
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    raw = base64.b32encode(secrets.token_bytes(15)).decode("ascii").lower()
    return f"{prefix}_{raw[:20]}"


def derived_id(prefix: str, *parts: str) -> str:
    """A stable ID for something identified by ``parts`` (an alert episode): the same
    parts always give the same ID, so recording it twice is recording it once."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    digest = hashlib.sha256("|".join((prefix, *parts)).encode()).digest()
    return f"{prefix}_{base64.b32encode(digest[:15]).decode('ascii').lower()[:20]}"


def type_of(public_id: str) -> str | None:
    """The type name an ID belongs to, or None for anything malformed."""
    prefix, sep, rest = public_id.partition("_")
    if not sep or len(rest) != 20 or not rest.isalnum():
        return None
    return PREFIXES.get(prefix)


# No 0/O, 1/I/L or U: a number read out over the phone is typed back right.
PO_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
PO_RANDOM_LENGTH: Final = 6


def po_number(day: date, randbelow: Callable[[int], int] | None = None) -> str:
    """``PO-260302-K7M2Q9``: the issue day (sortable; every party sees ``issuedAt``
    anyway) and six random characters (about 7 x 10^8 per day), so what any party
    sees of it says nothing about how many orders the organisation places."""
    pick = randbelow or secrets.randbelow
    suffix = "".join(PO_ALPHABET[pick(len(PO_ALPHABET))] for _ in range(PO_RANDOM_LENGTH))
    return f"PO-{day:%y%m%d}-{suffix}"
