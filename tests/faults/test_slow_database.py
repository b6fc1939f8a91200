"""A slow database (issue 17, faults): a real server process behind a TCP proxy that
delays every packet. Request timeouts hold, admission control sheds the excess with
503, memory stays bounded across waves of load, and when the database is fast again
the same process serves normally (no connection left wedged by a cancelled query)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx
import pytest
from fault_support import proxy_to, rss_kib
from test_database_outage import QUERY, _kind, _post

from conftest import PG_URL, make_token
from db.engine import Database
from live_support import WAIT, Server

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="PostgreSQL only: the latency is injected on its TCP connection"
)

LIMITS = {
    "MAX_CONCURRENT_EXECUTIONS": "2",
    "MAX_QUEUED_EXECUTIONS": "4",
    "ADMISSION_TIMEOUT_SECONDS": "1",
    "REQUEST_TIMEOUT_SECONDS": "1.5",
}
WAVE = 40


async def test_timeouts_hold_admission_sheds_and_memory_stays_bounded_on_a_slow_database(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    buyer = make_token("buyer")
    async with proxy_to(database_url) as proxy:
        server = Server(proxy.url_for(database_url), tmp_path / "server.log", env=LIMITS)
        await asyncio.to_thread(server.start)
        assert server.process is not None
        try:
            async with httpx.AsyncClient(base_url=server.http, timeout=WAIT) as http:
                # given: served normally, then every packet to the database delayed
                assert _kind(await _post(http, buyer, QUERY)) == "ok"
                proxy.latency = 0.4

                # when: waves of requests, far more than the process may run at once
                kinds: Counter[str] = Counter()
                memory = []
                for _ in range(4):
                    wave = await asyncio.gather(*(_post(http, buyer, QUERY) for _ in range(WAVE)))
                    kinds.update(_kind(r) for r in wave)
                    memory.append(rss_kib(server.process.pid))

                # then: every answer is a result or a clear 503; both limits acted
                assert set(kinds) <= {"ok", "busy", "timeout"}, kinds
                assert kinds["busy"] > 0
                assert kinds["timeout"] > 0
                # memory after the first wave is the plateau: later waves add little
                assert memory[-1] - memory[0] < 20 * 1024, memory

                # and when the database is fast again, the same process serves again
                proxy.latency = 0.0
                async with asyncio.timeout(WAIT):  # packets still delayed in the proxy drain
                    while _kind(await _post(http, buyer, QUERY)) != "ok":
                        pass
                print(f"slow database: {dict(kinds)}, RSS KiB per wave {memory}")
                again = [_kind(await _post(http, buyer, QUERY)) for _ in range(10)]
                assert again == ["ok"] * 10
                assert server.process.poll() is None
        finally:
            await asyncio.to_thread(server.stop)
