"""The supplier cycle: many suppliers at once, each acknowledging, starting and
dispatching its own fresh orders, and each also racing itself once (two acknowledges
of one order at the same moment) so that conflicts are exercised, not just avoided.

Works over any transport (``driver.Post``): in-process or HTTP against several workers.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson

from bench import documents
from bench.driver import Post

EXPECTED_CODES = frozenset({"CONFLICT", "INVALID_TRANSITION"})


@dataclass
class CycleResult:
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    completed: int = 0  # orders that reached DISPATCHED
    expected_conflicts: int = 0  # the losing side of a deliberate race
    unexpected: Counter[str] = field(default_factory=Counter)

    def note(self, step: str, ms: float) -> None:
        self.latencies_ms.setdefault(step, []).append(ms)


async def issue_fresh_orders(
    post: Post,
    buyer_token: str,
    supplier_ids: list[str],
    per_supplier: int,
    need_by: date,
) -> dict[str, list[str]]:
    """Issue ``per_supplier`` new orders to each supplier (as the buyer, untimed)."""
    made: dict[str, list[str]] = {s: [] for s in supplier_ids}
    for n in range(per_supplier):
        for sid in supplier_ids:
            variables = {
                "input": {
                    "supplierId": sid,
                    "needBy": need_by.isoformat(),
                    "currency": "EUR",
                    "lines": [
                        {"partNumber": f"BENCH-{n}-A", "quantity": 10, "unitPrice": "12.50"},
                        {"partNumber": f"BENCH-{n}-B", "quantity": 4, "unitPrice": "99.00"},
                    ],
                }
            }
            status, body = await post(buyer_token, documents.ISSUE, variables)
            payload = orjson.loads(body)
            order = (payload.get("data") or {}).get("issueOrder", {}).get("order")
            if status != 200 or order is None:
                raise RuntimeError(f"could not issue a bench order: {body[:300]!r}")
            made[sid].append(order["id"])
    return made


def _outcome(status: int, body: bytes, field_name: str) -> tuple[str, str | None]:
    """("ok"|"user_error"|"error", code or message)."""
    if status != 200:
        return "error", f"HTTP {status}"
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "error", "not JSON"
    if payload.get("errors"):
        return "error", str(payload["errors"][0].get("message"))[:120]
    result = (payload.get("data") or {}).get(field_name) or {}
    errors = result.get("userErrors") or []
    if errors:
        return "user_error", errors[0].get("code")
    return "ok", None


async def _step(
    post: Post,
    result: CycleResult,
    token: str,
    step: str,
    query: str,
    variables: dict[str, Any],
) -> tuple[str, str | None]:
    t0 = time.perf_counter()
    status, body = await post(token, query, variables)
    result.note(step, (time.perf_counter() - t0) * 1000)
    return _outcome(status, body, _FIELDS[step])


_FIELDS = {
    "acknowledge": "acknowledgeOrder",
    "start": "startProduction",
    "dispatch": "dispatchOrder",
}


async def _one_supplier(
    post: Post,
    result: CycleResult,
    token: str,
    orders: list[str],
    promised: date,
) -> None:
    def key() -> str:
        return uuid.uuid4().hex

    def ack_vars(order_id: str) -> dict[str, Any]:
        return {"id": order_id, "date": promised.isoformat(), "key": key()}

    for i, order_id in enumerate(orders):
        if i == 0:
            # A double click from two tabs: exactly one acknowledge may win.
            outcomes = await asyncio.gather(
                _step(
                    post, result, token, "acknowledge", documents.ACKNOWLEDGE, ack_vars(order_id)
                ),
                _step(
                    post, result, token, "acknowledge", documents.ACKNOWLEDGE, ack_vars(order_id)
                ),
            )
            wins = [o for o in outcomes if o[0] == "ok"]
            losses = [o for o in outcomes if o[0] == "user_error" and o[1] in EXPECTED_CODES]
            if len(wins) == 1 and len(losses) == 1:
                result.expected_conflicts += 1
            else:
                for kind, detail in outcomes:
                    if kind != "ok":
                        result.unexpected[f"acknowledge race: {kind} {detail}"] += 1
                if len(wins) != 1:
                    result.unexpected["acknowledge race: not exactly one winner"] += 1
                    continue
        else:
            kind, detail = await _step(
                post, result, token, "acknowledge", documents.ACKNOWLEDGE, ack_vars(order_id)
            )
            if kind != "ok":
                result.unexpected[f"acknowledge: {kind} {detail}"] += 1
                continue
        kind, detail = await _step(
            post, result, token, "start", documents.START, {"id": order_id, "key": key()}
        )
        if kind != "ok":
            result.unexpected[f"start: {kind} {detail}"] += 1
            continue
        kind, detail = await _step(
            post, result, token, "dispatch", documents.DISPATCH, {"id": order_id, "key": key()}
        )
        if kind != "ok":
            result.unexpected[f"dispatch: {kind} {detail}"] += 1
            continue
        result.completed += 1


async def supplier_cycle(
    post: Post,
    tokens: dict[str, str],
    orders: dict[str, list[str]],
    promised: date,
) -> CycleResult:
    """All suppliers at once; each works through its own orders in turn."""
    result = CycleResult()
    await asyncio.gather(
        *(_one_supplier(post, result, tokens[sid], orders[sid], promised) for sid in orders)
    )
    return result
