"""Prometheus metrics in the text exposition format (no dependency), true with several
worker processes.

``handoff_requests_total{operation,outcome,worker}`` and
``handoff_request_duration_seconds{operation,worker}`` (a histogram); ``worker`` is the
process id. Operation names come from the client and are bounded: unnamed is
"anonymous", long names are cut, and past ``MAX_OPERATIONS`` distinct names new ones
count as "other".

With ``METRICS_DIR`` set (``handoff serve --workers N`` sets one), each worker writes
its counters to ``<dir>/<pid>.json`` every ``flush_seconds``, and a scrape answered
by any worker shows every worker's series, each under its own ``worker`` label: sum
by operation in PromQL for the service's totals. The push machinery's values
(``handoff_live_*``, ``handoff_feed_reads_total``, ``handoff_alert_scans_total``) are
the answering worker's own. A worker that died keeps its last
counts there (counters must not go backwards) until the directory is cleared at the
next start.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MAX_OPERATIONS = 200

log = logging.getLogger("handoff.metrics")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class _Counts:
    """One worker's counters, as plain data (what the snapshot files hold)."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        data = data or {}
        self.requests: defaultdict[tuple[str, str], int] = defaultdict(int)
        for op, outcome, n in data.get("requests", []):
            self.requests[(op, outcome)] = n
        self.buckets: defaultdict[str, list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
        self.buckets.update(data.get("buckets", {}))
        self.sums: defaultdict[str, float] = defaultdict(float, data.get("sums", {}))
        self.counts: defaultdict[str, int] = defaultdict(int, data.get("counts", {}))

    def as_data(self) -> dict[str, Any]:
        return {
            "requests": [[op, outcome, n] for (op, outcome), n in self.requests.items()],
            "buckets": dict(self.buckets),
            "sums": dict(self.sums),
            "counts": dict(self.counts),
        }


class Metrics:
    def __init__(
        self,
        *,
        worker: str | None = None,
        directory: Path | None = None,
        flush_seconds: float = 1.0,
    ) -> None:
        self.worker = worker or str(os.getpid())
        self.directory = directory
        self.flush_seconds = flush_seconds
        self._lock = threading.Lock()
        self._own = _Counts()
        self._operations: set[str] = set()
        # name -> (help, type, read): this process's live values (the push machinery),
        # rendered by the worker that answers the scrape.
        self._gauges: dict[str, tuple[str, str, Callable[[], float]]] = {}

    def gauge(self, name: str, help_: str, read: Callable[[], float], kind: str = "gauge") -> None:
        """Render ``read()`` as ``name`` (a gauge, or a counter the caller keeps)."""
        self._gauges[name] = (help_, kind, read)

    def _name(self, operation: str | None) -> str:
        name = (operation or "anonymous")[:64]
        if name not in self._operations and len(self._operations) >= MAX_OPERATIONS:
            return "other"
        self._operations.add(name)
        return name

    def observe(self, operation: str | None, outcome: str, seconds: float) -> None:
        with self._lock:
            name = self._name(operation)
            own = self._own
            own.requests[(name, outcome)] += 1
            buckets = own.buckets[name]
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    buckets[i] += 1
            own.sums[name] += seconds
            own.counts[name] += 1

    def flush(self) -> None:
        """Write this worker's counters for the others to render (atomic rename)."""
        if self.directory is None:
            return
        with self._lock:
            data = json.dumps(self._own.as_data())
        target = self.directory / f"{self.worker}.json"
        temporary = self.directory / f".{self.worker}.json.tmp"
        temporary.write_text(data)
        os.replace(temporary, target)

    def _workers(self) -> dict[str, _Counts]:
        found: dict[str, _Counts] = {}
        if self.directory is not None:
            for path in sorted(self.directory.glob("*.json")):
                if path.stem == self.worker:
                    continue
                try:
                    found[path.stem] = _Counts(json.loads(path.read_text()))
                except (OSError, ValueError):  # a file being replaced, or foreign: skip it
                    log.warning("unreadable metrics snapshot %s", path)
        found[self.worker] = self._own  # this worker's live counts, not its last flush
        return found

    def render(self) -> str:
        with self._lock:
            workers = self._workers()
            lines = [
                "# HELP handoff_requests_total GraphQL requests by operation and outcome.",
                "# TYPE handoff_requests_total counter",
            ]
            for worker, counts in sorted(workers.items()):
                w = _escape(worker)
                for (op, outcome), n in sorted(counts.requests.items()):
                    lines.append(
                        f'handoff_requests_total{{operation="{_escape(op)}",outcome="{outcome}",'
                        f'worker="{w}"}} {n}'
                    )
            lines += [
                "# HELP handoff_request_duration_seconds GraphQL request latency.",
                "# TYPE handoff_request_duration_seconds histogram",
            ]
            for worker, counts in sorted(workers.items()):
                for op in sorted(counts.counts):
                    label = f'operation="{_escape(op)}",worker="{_escape(worker)}"'
                    for bound, n in zip(BUCKETS, counts.buckets[op], strict=True):
                        lines.append(
                            f'handoff_request_duration_seconds_bucket{{{label},le="{bound}"}} {n}'
                        )
                    lines.append(
                        f'handoff_request_duration_seconds_bucket{{{label},le="+Inf"}} '
                        f"{counts.counts[op]}"
                    )
                    lines.append(
                        f"handoff_request_duration_seconds_sum{{{label}}} {counts.sums[op]}"
                    )
                    lines.append(
                        f"handoff_request_duration_seconds_count{{{label}}} {counts.counts[op]}"
                    )
            w = _escape(self.worker)
            for name, (help_, kind, read) in sorted(self._gauges.items()):
                lines += [f"# HELP {name} {help_}", f"# TYPE {name} {kind}"]
                lines.append(f'{name}{{worker="{w}"}} {read():g}')
            return "\n".join(lines) + "\n"
