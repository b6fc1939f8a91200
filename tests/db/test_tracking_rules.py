"""The watchable link's pure rules: tokens and hashes, when a link is live, and when
the goods are expected."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import date, timedelta

import pytest

from conftest import T0
from db.models import OrderStage, ShipmentStatus
from db.tracking import LinkState, estimated_delivery, is_live, link_url, new_token, token_hash

S = ShipmentStatus
PROMISED = date(2026, 3, 20)


def test_a_token_is_192_random_bits_in_url_safe_characters() -> None:
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token)
        assert len(base64.urlsafe_b64decode(token)) == 24


def test_the_stored_form_is_the_hex_sha256_of_the_token() -> None:
    assert token_hash("abc") == hashlib.sha256(b"abc").hexdigest()
    assert len(token_hash(new_token())) == 64
    assert token_hash("\udcff") == hashlib.sha256("\udcff".encode("utf-8", "replace")).hexdigest()


def test_a_url_without_its_token_cannot_be_mistaken_for_a_link() -> None:
    assert link_url("https://t.example/", "tok") == "https://t.example/track/tok"
    assert link_url("https://t.example", None) == "https://t.example/track/…"


@pytest.mark.parametrize(
    ("state", "live"),
    [
        (LinkState(None, None, "cli_x"), True),
        (LinkState(T0 + timedelta(seconds=1), None, "cli_x"), True),
        (LinkState(T0, None, "cli_x"), False),  # expiry is exclusive
        (LinkState(None, T0, "cli_x"), False),
        (LinkState(None, None, None), False),  # no client to show it to
    ],
)
def test_a_link_is_live_until_revoked_or_expired(state: LinkState, live: bool) -> None:
    assert is_live(state, T0) is live


@pytest.mark.parametrize(
    ("shipments", "all_dispatched", "expected"),
    [
        ([], False, PROMISED),  # nothing shipped: the promise
        ([(S.IN_TRANSIT, date(2026, 3, 4))], False, PROMISED),  # the rest is not shipped
        ([(S.IN_TRANSIT, date(2026, 3, 4))], True, date(2026, 3, 4)),
        ([(S.IN_TRANSIT, date(2026, 3, 25))], True, date(2026, 3, 25)),  # later than promised
        ([(S.IN_TRANSIT, date(2026, 3, 4)), (S.DISPATCHED, None)], True, PROMISED),
        (
            [(S.DELIVERED, date(2026, 3, 9)), (S.IN_TRANSIT, date(2026, 3, 4))],
            True,
            date(2026, 3, 4),
        ),
        ([(S.DELIVERED, None)], True, None),  # all arrived, nothing to estimate
    ],
)
def test_estimated_delivery_is_the_latest_open_estimate_else_the_promise(
    shipments: list[tuple[ShipmentStatus, date | None]], all_dispatched: bool, expected: date | None
) -> None:
    found = estimated_delivery(
        stage=OrderStage.DISPATCHED,
        promised_date=PROMISED,
        shipments=shipments,
        all_dispatched=all_dispatched,
    )
    assert found == expected


@pytest.mark.parametrize(
    "stage", [OrderStage.DELIVERED, OrderStage.CANCELLED, OrderStage.DECLINED, OrderStage.CLOSED]
)
def test_a_closed_order_has_no_estimate(stage: OrderStage) -> None:
    assert (
        estimated_delivery(stage=stage, promised_date=PROMISED, shipments=[], all_dispatched=False)
        is None
    )


def test_an_unpromised_order_has_no_estimate_until_a_shipment_has_one() -> None:
    assert (
        estimated_delivery(
            stage=OrderStage.ISSUED, promised_date=None, shipments=[], all_dispatched=False
        )
        is None
    )
