"""A token bucket per client address, in this process's memory.

Per process on purpose: with N workers an address gets N buckets, which only matters
to someone guessing tokens, and guessing a 192-bit token is hopeless at any rate —
the limit is there so that trying does not cost the database. The table of addresses
is bounded: the least recently seen address is forgotten first (it then starts again
with a full bucket).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable


class RateLimiter:
    def __init__(
        self,
        *,
        per_minute: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_addresses: int = 10_000,
    ) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("a rate limit needs a positive rate and a burst of at least 1")
        self._rate = per_minute / 60.0  # tokens per second
        self._burst = float(burst)
        self._clock = clock
        self._max = max_addresses
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, address: str) -> int:
        """Spend one token of ``address``'s bucket: 0 when allowed, else the whole
        seconds until a token will be there (for ``Retry-After``)."""
        now = self._clock()
        tokens, last = self._buckets.pop(address, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        wait = 0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = max(1, math.ceil((1.0 - tokens) / self._rate))
        self._buckets[address] = (tokens, now)
        while len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        return len(self._buckets)
