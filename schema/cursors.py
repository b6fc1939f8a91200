"""Opaque cursors: ``c1|<kind>|<part>...`` in base64url. They carry a sort (or list)
name and values the caller already received (a row id; for alerts also the alert's
``since`` and kind), never a hidden sort-key value such as a total.
"""

from __future__ import annotations

import base64
import binascii

from db.ids import type_of
from schema.errors import PublicError

_VERSION = "c1"


def encode_parts(kind: str, *parts: str) -> str:
    raw = "|".join((_VERSION, kind, *parts)).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_parts(cursor: str, kind: str, count: int) -> list[str]:
    """The ``count`` parts of a cursor made for ``kind``; anything else is an error."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        fields = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii").split("|")
    except (ValueError, UnicodeError, binascii.Error):
        raise PublicError("Invalid cursor.") from None
    if len(fields) != count + 2 or fields[0] != _VERSION or fields[1] != kind:
        raise PublicError("Invalid cursor.")
    return fields[2:]


def encode(sort: str, row_id: str) -> str:
    return encode_parts(sort, row_id)


def decode(cursor: str, sort: str) -> str:
    """The row id in a cursor of ``sort``; a malformed cursor or another sort's is an error."""
    [row_id] = decode_parts(cursor, sort, 1)
    if type_of(row_id) is None:
        raise PublicError("Invalid cursor.")
    return row_id
