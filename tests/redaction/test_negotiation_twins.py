"""A client follows the delivery, not the deal.

Twin orders for one client: A is acknowledged as issued; B is negotiated — the supplier
proposes other prices, the buyer accepts, then amends a price; the supplier proposes
again, is turned down and acknowledges the revision. Both end with the same
quantities, dates and stage, so everything the client may see is the same: its view of
B (every field of its schema, its events included — the ones its subscription and the
tracking page are made of, by the same row rules) must not differ from A's but for ids
and the order's number. Found by an outside probe: the
event kinds and ``Order.revision`` told the client that terms were renegotiated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from conftest import GraphQL
from permissions.principal import Role
from redaction_support import MaximalSelection
from worlds.twins import negotiated_twins

ID = re.compile(r"\b[a-z]{3}_[a-z0-9]{20}\b")


def _normalised(value: Any, order: dict[str, Any]) -> str:
    """The view with the order's number and every id replaced by its place of first
    appearance (the twins' ids differ; how they repeat must not)."""
    text = json.dumps(value, sort_keys=True).replace(order["number"], "<number>")
    ids: dict[str, str] = {}
    return ID.sub(lambda m: ids.setdefault(m.group(0), f"<id {len(ids)}>"), text)


async def test_a_negotiated_order_looks_to_its_client_like_one_acknowledged_as_issued(
    as_role: Callable[..., GraphQL],
) -> None:
    client, plain, dealt = await negotiated_twins(as_role)
    view = MaximalSelection(Role.CLIENT, depth=4)
    document = view.document(f"query Twin($id: ID!) {{ order(id: $id) {view.of('Order')} }}")

    seen = {}
    for name, order in (("plain", plain), ("dealt", dealt)):
        body = await client(document, {"id": order["id"]})
        assert "errors" not in body, body
        seen[name] = _normalised(body["data"]["order"], order)

    assert seen["dealt"] == seen["plain"]
    assert '"kind": "ACKNOWLEDGED"' in seen["plain"]  # the view is not empty


async def test_the_client_schema_has_no_revision_count(
    as_role: Callable[..., GraphQL],
) -> None:
    client, _, dealt = await negotiated_twins(as_role)
    body = await client("query R($id: ID!) { order(id: $id) { revision } }", {"id": dealt["id"]})
    assert body.get("data") is None
    assert "revision" in body["errors"][0]["message"]
