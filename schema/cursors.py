"""Opaque cursors. They carry the sort and the row id only, never a sort-key value,
so decoding one reveals nothing the caller could not already see (an id it was given).
"""

from __future__ import annotations

import base64
import binascii

from db.ids import type_of
from schema.errors import PublicError

_VERSION = "c1"


def encode(sort: str, row_id: str) -> str:
    raw = f"{_VERSION}|{sort}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode(cursor: str, sort: str) -> str:
    """The row id in ``cursor``; a malformed cursor or one from another sort is an error."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        version, cursor_sort, row_id = (
            base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii").split("|")
        )
    except (ValueError, UnicodeError, binascii.Error):
        raise PublicError("Invalid cursor.") from None
    if version != _VERSION or cursor_sort != sort or type_of(row_id) is None:
        raise PublicError("Invalid cursor.")
    return row_id


def encode_parts(kind: str, *parts: str) -> str:
    """A cursor over several visible values (e.g. an alert's since, order id, kind)."""
    raw = "|".join((_VERSION, kind, *parts)).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_parts(cursor: str, kind: str, count: int) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        fields = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii").split("|")
    except (ValueError, UnicodeError, binascii.Error):
        raise PublicError("Invalid cursor.") from None
    if len(fields) != count + 2 or fields[0] != _VERSION or fields[1] != kind:
        raise PublicError("Invalid cursor.")
    return fields[2:]
