"""The command-line tail every ``python -m bench.<workload>`` shares."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import orjson


def run_and_report(
    args: argparse.Namespace,
    run: Callable[[argparse.Namespace], Coroutine[Any, Any, dict[str, Any]]],
    report: Callable[[dict[str, Any]], str],
) -> int:
    """Run the workload, print its report, and write its figures to ``--json`` if given."""
    result = asyncio.run(run(args))
    print(report(result))
    if args.json is not None:
        args.json.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    return 0
