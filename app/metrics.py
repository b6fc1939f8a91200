"""Prometheus metrics in the text exposition format, per process (no dependency).

``handoff_requests_total{operation,outcome}`` and
``handoff_request_duration_seconds{operation}`` (a histogram). Operation names come
from the client and are bounded: unnamed is "anonymous", long names are cut, and
past ``MAX_OPERATIONS`` distinct names new ones count as "other".
"""

from __future__ import annotations

import threading
from collections import defaultdict

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MAX_OPERATIONS = 200


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: defaultdict[tuple[str, str], int] = defaultdict(int)
        self._buckets: defaultdict[str, list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
        self._sums: defaultdict[str, float] = defaultdict(float)
        self._counts: defaultdict[str, int] = defaultdict(int)
        self._operations: set[str] = set()

    def _name(self, operation: str | None) -> str:
        name = (operation or "anonymous")[:64]
        if name not in self._operations and len(self._operations) >= MAX_OPERATIONS:
            return "other"
        self._operations.add(name)
        return name

    def observe(self, operation: str | None, outcome: str, seconds: float) -> None:
        with self._lock:
            name = self._name(operation)
            self._requests[(name, outcome)] += 1
            buckets = self._buckets[name]
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    buckets[i] += 1
            self._sums[name] += seconds
            self._counts[name] += 1

    def render(self) -> str:
        with self._lock:
            lines = [
                "# HELP handoff_requests_total GraphQL requests by operation and outcome.",
                "# TYPE handoff_requests_total counter",
            ]
            for (op, outcome), n in sorted(self._requests.items()):
                lines.append(
                    f'handoff_requests_total{{operation="{_escape(op)}",outcome="{outcome}"}} {n}'
                )
            lines += [
                "# HELP handoff_request_duration_seconds GraphQL request latency.",
                "# TYPE handoff_request_duration_seconds histogram",
            ]
            for op in sorted(self._counts):
                label = f'operation="{_escape(op)}"'
                for bound, n in zip(BUCKETS, self._buckets[op], strict=True):
                    lines.append(
                        f'handoff_request_duration_seconds_bucket{{{label},le="{bound}"}} {n}'
                    )
                lines.append(
                    f'handoff_request_duration_seconds_bucket{{{label},le="+Inf"}} '
                    f"{self._counts[op]}"
                )
                lines.append(f"handoff_request_duration_seconds_sum{{{label}}} {self._sums[op]}")
                lines.append(
                    f"handoff_request_duration_seconds_count{{{label}}} {self._counts[op]}"
                )
            return "\n".join(lines) + "\n"
