"""Order.events is a bounded page counted in the query cost, and milestones are bounded
per order per hour (issue 17, finding 3)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lifecycle_support import World, make_world, walk_to

from conftest import FixedClock, GraphQL
from db.models import OrderStage

EVENTS = """query($id: ID!, $first: Int, $after: ID) {
  order(id: $id) { events(first: $first, after: $after) { id kind note } } }"""
DEFAULT_EVENTS = "query($id: ID!) { order(id: $id) { events { id kind note } } }"
MILESTONE = "mutation($input: AddMilestoneInput!) { addMilestone(input: $input) { order { version } userErrors { code message field } } }"  # noqa: E501


@pytest.fixture
async def world(as_role: Callable[..., GraphQL]) -> World:
    return await make_world(as_role)


async def _milestones(world: World, order_id: str, count: int) -> list[dict[str, object]]:
    answers = []
    for i in range(count):
        body = await world.supplier(MILESTONE, {"input": {"orderId": order_id, "note": f"m{i}"}})
        answers.append(body["data"]["addMilestone"])
    return answers


async def test_an_eleventh_milestone_in_an_hour_is_rate_limited_and_changes_nothing(
    world: World, clock: FixedClock
) -> None:
    # given
    order_id = await walk_to(world, OrderStage.IN_PRODUCTION)
    first_ten = await _milestones(world, order_id, 10)
    assert all(a["userErrors"] == [] for a in first_ten)

    # when
    [eleventh] = await _milestones(world, order_id, 1)

    # then
    assert eleventh == {
        "order": None,
        "userErrors": [
            {
                "code": "RATE_LIMITED",
                "message": "at most 10 milestones per order per hour; try again later",
                "field": ["input", "note"],
            }
        ],
    }
    clock.advance(hours=1, seconds=1)
    [later] = await _milestones(world, order_id, 1)
    assert later["userErrors"] == []


async def test_order_events_come_in_bounded_pages_oldest_first(
    world: World, clock: FixedClock
) -> None:
    # given: an order with 6 + 60 events (10 milestones an hour)
    order_id = await walk_to(world, OrderStage.IN_PRODUCTION)
    for _ in range(6):
        assert all(a["userErrors"] == [] for a in await _milestones(world, order_id, 10))
        clock.advance(hours=1, seconds=1)

    # when
    default = (await world.buyer(DEFAULT_EVENTS, {"id": order_id}))["data"]["order"]["events"]
    everything = []
    after = None
    while True:
        body = await world.supplier(EVENTS, {"id": order_id, "first": 25, "after": after})
        page = body["data"]["order"]["events"]
        everything += page
        if len(page) < 25:
            break
        after = page[-1]["id"]

    # then
    assert len(default) == 20
    assert [e["kind"] for e in default[:3]] == ["ISSUED", "ACKNOWLEDGED", "PRODUCTION_STARTED"]
    assert len(everything) == 63
    assert [e["id"] for e in everything[:20]] == [e["id"] for e in default]
    assert len({e["id"] for e in everything}) == 63


async def test_an_after_that_is_not_an_event_of_the_order_is_one_error(world: World) -> None:
    order_id = await walk_to(world, OrderStage.ACKNOWLEDGED)
    other_id = await walk_to(world, OrderStage.ISSUED)
    body = await world.buyer(EVENTS, {"id": other_id, "first": 5})
    other_event = body["data"]["order"]["events"][0]["id"]
    for after in (other_event, "evt_aaaaaaaaaaaaaaaaaaaa"):
        body = await world.buyer(EVENTS, {"id": order_id, "after": after})
        assert body["errors"][0]["message"] == "after is not an event of this order you can see."


async def test_order_events_count_in_the_query_cost(world: World) -> None:
    # 100 orders x the default 20 events: 100 + 100 x 20 = 2,100 rows, within the limit
    # (a client that never asked for a page keeps working) ...
    body = await world.buyer("{ orders(first: 100) { edges { node { events { kind } } } } }")
    assert "errors" not in body
    # ... 20 clients x 100 orders x 20 events: 20 + 20 x (100 + 100 x 20) = 42,020, over it.
    body = await world.buyer(
        "{ clients { edges { node { orders(first: 100) { edges { node { events { kind } } } } } } "
        "} }"
    )
    assert body["errors"][0]["message"].startswith("Query may return too many rows: cost 42020")
    allowed = await world.buyer(
        "{ orders(first: 40) { edges { node { events(first: 100) { kind } } } } }"
    )
    assert "errors" not in allowed
    body = await world.buyer(
        "{ orders(first: 50) { edges { node { events(first: 100) { kind } } } } }"
    )
    assert body["errors"][0]["message"].startswith("Query may return too many rows: cost 5050")
