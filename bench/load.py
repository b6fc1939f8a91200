"""HTTP load: real uvicorn servers with 1..n workers, hammered over loopback.

For each worker count the harness starts ``uvicorn app.main:create_app --workers n``, checks
every target once (a load run of error responses would measure nothing), then drives each
target for a fixed time with ``wrk`` (or, when wrk is not installed, a pure-Python asyncio +
httpx generator, which saturates much earlier) and records requests/s, p50/p95 latency,
non-2xx responses and socket errors. Per worker count it also records the peak RSS of the
server processes (VmHWM) and how often "database is locked" appeared in the server's log.
With the last worker count it optionally runs the supplier cycle over HTTP.

On this 2-core machine the load generator shares the CPU with the server, so req/s is a
lower bound on what the server could do; only comparisons within one run mean anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.driver import Http, Post

ROOT = Path(__file__).resolve().parent.parent
HEALTH_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0
WRK_SOCKET_TIMEOUT = "30s"  # wrk's default 2 s would drop slow responses as "timeouts"
LOCKED = "database is locked"


@dataclass(frozen=True)
class Target:
    name: str  # e.g. "buyer dashboard"
    token: str  # bearer JWT
    query: str  # GraphQL document
    variables: dict[str, Any]

    def body(self) -> bytes:
        return orjson.dumps({"query": self.query, "variables": self.variables})

    def headers(self) -> dict[str, str]:
        return {"content-type": "application/json", "authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class _Load:
    generator: str
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    non_2xx: int
    socket_errors: int
    graphql_errors: int  # 200 responses whose body carries "errors"

    def row(self, workers: int, target: str) -> dict[str, Any]:
        return {
            "workers": workers,
            "target": target,
            "generator": self.generator,
            "requests": self.requests,
            "rps": self.requests / self.seconds if self.seconds > 0 else 0.0,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "non_2xx": self.non_2xx,
            "graphql_errors": self.graphql_errors,
            "socket_errors": self.socket_errors,
        }


def run_http_load(
    *,
    env: dict[str, str],
    targets: list[Target],
    workers: Sequence[int] = (1, 2),
    seconds: float = 10.0,
    connections: int = 16,
    cycle: Callable[[Post], Awaitable[dict[str, Any]]] | None = None,
) -> list[dict[str, Any]]:
    """Load every target against a server per worker count; one row per (workers, target).

    ``env`` is merged over ``os.environ`` for the server (DATABASE_URL, JWT_* ...).
    ``cycle`` runs once, against the server with the last worker count, and adds a
    "supplier cycle" row with whatever it returned. Every row of a worker-count block
    carries that server's ``peak_rss_mb`` and ``db_locked_in_logs``.
    """
    if connections < 1 or seconds <= 0:
        raise ValueError("need connections >= 1 and seconds > 0")
    use_wrk = shutil.which("wrk") is not None
    rows: list[dict[str, Any]] = []
    for n in workers:
        with tempfile.TemporaryDirectory(prefix="handoff-load-") as tmp:
            log_path = Path(tmp) / "server.log"
            block: list[dict[str, Any]] = []
            with _Server(n, {**os.environ, **env, "LOG_LEVEL": "WARNING"}, log_path) as server:
                for target in targets:
                    _check_once(server.url, target)
                    if use_wrk:
                        load = _wrk(server.url, target, seconds, connections, Path(tmp))
                    else:
                        load = asyncio.run(_python_load(server.url, target, seconds, connections))
                    block.append(load.row(n, target.name))
                if cycle is not None and n == workers[-1]:
                    result = asyncio.run(_run_cycle(cycle, server.url))
                    block.append({"workers": n, "target": "supplier cycle", **result})
                peak_rss_mb = _peak_rss_mb(server.pid)
            locked = log_path.read_text(errors="replace").count(LOCKED)
            for row in block:
                row["peak_rss_mb"] = peak_rss_mb
                row["db_locked_in_logs"] = locked
            rows.extend(block)
    return rows


def format_http_table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table, columns aligned; cells a row does not have are left blank."""
    columns: list[tuple[str, str, Callable[[Any], str]]] = [
        ("workers", "workers", str),
        ("target", "target", str),
        ("generator", "generator", str),
        ("rps", "req/s", lambda v: f"{v:.1f}"),
        ("p50_ms", "p50 ms", lambda v: f"{v:.1f}"),
        ("p95_ms", "p95 ms", lambda v: f"{v:.1f}"),
        ("non_2xx", "non-2xx", str),
        ("graphql_errors", "gql errors", str),
        ("socket_errors", "errors", str),
        ("peak_rss_mb", "peak RSS MB", lambda v: f"{v:.1f}"),
        ("db_locked_in_logs", "db locked", str),
    ]
    table = [[title for _, title, _ in columns]]
    for row in rows:
        table.append([fmt(row[key]) if key in row else "" for key, _, fmt in columns])
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    text_columns = {1, 2}  # left-aligned; numbers right-aligned
    lines = []
    for line in table:
        cells = [
            cell.ljust(w) if i in text_columns else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


# -- the server -------------------------------------------------------------------------


class _Server:
    """``uvicorn --workers n`` in its own session, log to a file, stopped on exit."""

    def __init__(self, workers: int, env: dict[str, str], log_path: Path) -> None:
        self.workers = workers
        self.env = env
        self.log_path = log_path
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __enter__(self) -> _Server:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        with self.log_path.open("wb") as log:
            # Own session, so that workers orphaned by a dying master can still be found
            # (and killed) by process group.
            self.proc = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_healthy()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _wait_healthy(self) -> None:
        assert self.proc is not None
        health = f"http://127.0.0.1:{self.port}/healthz"
        deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
        with httpx.Client(timeout=2.0) as client:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"server (workers={self.workers}) exited with {self.proc.returncode}:\n"
                        + self.log_tail()
                    )
                try:
                    if client.get(health).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass  # not listening yet
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"server (workers={self.workers}) not healthy after "
                        f"{HEALTH_TIMEOUT_SECONDS:.0f} s:\n" + self.log_tail()
                    )
                time.sleep(0.1)

    def _stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()  # uvicorn's master passes SIGTERM on and joins its workers
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=STOP_TIMEOUT_SECONDS)
        # Give stragglers (multiprocessing's resource tracker) a moment to notice, then
        # kill whatever is left in the server's session.
        drain_until = time.monotonic() + 2.0
        while _group_alive(proc.pid) and time.monotonic() < drain_until:
            time.sleep(0.05)
        if _group_alive(proc.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=STOP_TIMEOUT_SECONDS)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _proc_stats() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, pgrp) for every live (not zombie) process we can see."""
    stats: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        # "pid (comm) state ppid pgrp ..."; comm may itself contain spaces and parens.
        fields = raw[raw.rfind(")") + 2 :].split()
        if fields[0] == "Z":
            continue
        stats[int(entry.name)] = (int(fields[1]), int(fields[2]))
    return stats


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for child, (ppid, _) in _proc_stats().items():
        children.setdefault(ppid, []).append(child)
    found, todo = [pid], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _group_alive(pgrp: int) -> bool:
    return any(group == pgrp for _, group in _proc_stats().values())


def _peak_rss_mb(pid: int) -> float:
    """Max VmHWM (peak resident set) over the master and all its descendants, in MB."""
    peak_kb = 0
    for each in _descendants(pid):
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak_kb = max(peak_kb, int(line.split()[1]))
    return peak_kb / 1024


# -- the load ---------------------------------------------------------------------------


def _check_once(url: str, target: Target) -> None:
    response = httpx.post(url, content=target.body(), headers=target.headers(), timeout=30.0)
    try:
        payload = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        payload = None
    if (
        not isinstance(payload, dict)
        or payload.get("data") is None
        or payload.get("errors")
        or response.status_code != 200
    ):
        raise RuntimeError(
            f"target {target.name!r} does not answer cleanly (HTTP {response.status_code}): "
            f"{response.content[:500]!r}"
        )


_WRK_SCRIPT = """\
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = {authorization}

local threads = {{}}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  graphql_errors = 0
end
function response(status, headers, body)
  if string.find(body, '"errors"', 1, true) then
    graphql_errors = graphql_errors + 1
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local ge = 0
  for _, thread in ipairs(threads) do
    ge = ge + thread:get("graphql_errors")
  end
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p95_us=%d non2xx=%d errors=%d gqlerrors=%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    e.status, e.connect + e.read + e.write + e.timeout, ge))
end
"""


def _lua_string(data: bytes) -> str:
    """A Lua string literal for arbitrary bytes (decimal escapes, always three digits)."""
    safe = set(range(0x20, 0x7F)) - {ord("\\"), ord('"')}
    return '"' + "".join(chr(b) if b in safe else f"\\{b:03d}" for b in data) + '"'


def _wrk(url: str, target: Target, seconds: float, connections: int, tmp: Path) -> _Load:
    script = tmp / "load.lua"
    script.write_text(
        _WRK_SCRIPT.format(
            body=_lua_string(target.body()),
            authorization=_lua_string(f"Bearer {target.token}".encode()),
        )
    )
    wrk = shutil.which("wrk") or "wrk"
    command = [
        wrk,
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={WRK_SOCKET_TIMEOUT}",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(
            f"wrk failed for {target.name!r} (exit {done.returncode}):\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    values = {k: int(v) for k, v in (item.split("=", 1) for item in line.split()[1:])}
    return _Load(
        generator="wrk",
        requests=values["requests"],
        seconds=values["duration_us"] / 1e6,
        p50_ms=values["p50_us"] / 1000,
        p95_ms=values["p95_us"] / 1000,
        # wrk counts a status >= 400 as a status error; redirects never happen here.
        non_2xx=values["non2xx"],
        socket_errors=values["errors"],
        graphql_errors=values["gqlerrors"],
    )


def _percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100)
    return ordered[int(rank) - 1]


async def _python_load(url: str, target: Target, seconds: float, connections: int) -> _Load:
    body, headers = target.body(), target.headers()
    latencies_ms: list[float] = []
    non_2xx = errors = graphql_errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:
        start = time.perf_counter()
        deadline = start + seconds

        async def one_connection() -> None:
            nonlocal non_2xx, errors, graphql_errors
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                try:
                    response = await client.post(url, content=body, headers=headers)
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies_ms.append((time.perf_counter() - sent) * 1000)
                if not 200 <= response.status_code < 300:
                    non_2xx += 1
                elif b'"errors"' in response.content:
                    graphql_errors += 1

        await asyncio.gather(*(one_connection() for _ in range(connections)))
        elapsed = time.perf_counter() - start
    latencies_ms.sort()
    return _Load(
        generator="python",
        requests=len(latencies_ms),
        seconds=elapsed,
        p50_ms=_percentile(latencies_ms, 50),
        p95_ms=_percentile(latencies_ms, 95),
        non_2xx=non_2xx,
        socket_errors=errors,
        graphql_errors=graphql_errors,
    )


async def _run_cycle(
    cycle: Callable[[Post], Awaitable[dict[str, Any]]], url: str
) -> dict[str, Any]:
    # The cycle fires up to ~40 requests at once; let every one have its own connection.
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=60.0, limits=limits) as client:
        return await cycle(Http(client, url))
