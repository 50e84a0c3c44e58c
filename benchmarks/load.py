"""Latency under load: many concurrent operations on a small connection pool.

Usage:
    python benchmarks/load.py [--ops 1000] [--pool 10] [--reps 5]

For each driver, ``--ops`` concurrent operations (alternating ``insert_one`` and
``find_one`` by ``_id``) share a pool of ``--pool`` connections, through mongocat and
through the raw driver on the same client, in alternating order. The table shows the
median over repetitions of each run's p50 and p99 latency per operation (from the
moment the operation was started, so waiting for a pooled connection counts) and the
wall time of the whole run. Latency is measured here, not asserted in tests.

The server is the embedded SecantusDB unless MONGOCAT_BENCH_URI names another one
(against the embedded server clients connect with retryWrites=false).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from overhead import server_uri

from mongocat import Catalogue

DATABASE = "mongocat_bench_load"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def one_run(op: Callable[[int], Awaitable[Any]], ops: int) -> tuple[float, float, float]:
    """p50 and p99 latency (ms) of ``ops`` concurrent calls, and the run's wall time (s)."""
    latencies: list[float] = []

    async def timed(i: int) -> None:
        start = time.perf_counter()
        await op(i)
        latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(timed(i) for i in range(ops)))
    wall = time.perf_counter() - start
    return percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000, wall


async def run(uri: str, driver: str, ops: int, pool: int, reps: int) -> dict[str, list[Any]]:
    results: dict[str, list[Any]] = {"raw": [], "mongocat": []}
    async with Catalogue.connect(uri, DATABASE, driver=driver, maxPoolSize=pool) as cat:  # type: ignore[arg-type]
        await cat.client.drop_database(DATABASE)
        items = cat.collection("items")
        raw = items.driver_collection
        offset = 0

        async def raw_op(i: int) -> Any:
            if i % 2:
                return await raw.insert_one({"_id": offset + i})
            return await raw.find_one({"_id": offset + i - 1})

        async def mc_op(i: int) -> Any:
            if i % 2:
                return await items.insert_one({"_id": offset + i})
            return await items.find_one({"_id": offset + i - 1})

        contestants = {"raw": raw_op, "mongocat": mc_op}
        for rep in range(reps):
            order = list(contestants) if rep % 2 == 0 else list(reversed(contestants))
            for name in order:
                offset += ops
                results[name].append(await one_run(contestants[name], ops))
        await cat.client.drop_database(DATABASE)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ops", type=int, default=1_000)
    parser.add_argument("--pool", type=int, default=10)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    with server_uri() as (uri, server):
        print(f"Python {platform.python_version()} on {platform.machine()}, {server}")
        print(f"{args.ops} concurrent operations on a pool of {args.pool}, {args.reps} reps\n")
        print(f"{'driver':8} {'through':9} {'p50 ms':>8} {'p99 ms':>8} {'wall s':>7}")
        for driver in ("pymongo", "motor"):
            results = asyncio.run(run(uri, driver, args.ops, args.pool, args.reps))
            for name, runs in results.items():
                p50 = statistics.median(r[0] for r in runs)
                p99 = statistics.median(r[1] for r in runs)
                wall = statistics.median(r[2] for r in runs)
                print(f"{driver:8} {name:9} {p50:8.1f} {p99:8.1f} {wall:7.2f}")


if __name__ == "__main__":
    main()
