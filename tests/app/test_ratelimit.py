"""The tracking pages' token bucket: a burst, then one request per refill interval, per
address, with the wait reported in whole seconds; the address table stays bounded."""

from __future__ import annotations

import pytest

from app.ratelimit import RateLimiter


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_request_per_refill_interval() -> None:
    ticks = Ticks()
    limiter = RateLimiter(per_minute=6, burst=3, clock=ticks)  # a token every 10 s
    assert [limiter.take("a") for _ in range(4)] == [0, 0, 0, 10]
    ticks.now += 9.5
    assert limiter.take("a") == 1  # half a second to go: at least 1
    ticks.now += 0.5
    assert limiter.take("a") == 0
    assert limiter.take("a") == 10


def test_refused_requests_cost_nothing_more() -> None:
    ticks = Ticks()
    limiter = RateLimiter(per_minute=60, burst=1, clock=ticks)
    assert limiter.take("a") == 0
    for _ in range(5):
        assert limiter.take("a") == 1
    ticks.now += 1
    assert limiter.take("a") == 0


def test_addresses_have_their_own_buckets() -> None:
    limiter = RateLimiter(per_minute=1, burst=1, clock=Ticks())
    assert limiter.take("a") == 0
    assert limiter.take("a") == 60
    assert limiter.take("b") == 0


def test_the_table_forgets_the_least_recently_seen_address() -> None:
    limiter = RateLimiter(per_minute=1, burst=1, clock=Ticks(), max_addresses=2)
    for address in ("a", "b", "c"):
        limiter.take(address)
    assert len(limiter) == 2
    assert limiter.take("a") == 0  # forgotten: a full bucket again
    assert limiter.take("c") == 60


def test_a_limit_needs_a_positive_rate_and_burst() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(per_minute=0, burst=1)
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(per_minute=1, burst=0)
