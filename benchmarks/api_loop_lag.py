"""Event-loop stalls while the catalogue API serves 200 concurrent GET /products.

Usage:
    python benchmarks/api_loop_lag.py [--requests 200] [--products 500] [--reps 5]

For each driver, the example app (examples/catalogue_api) runs in this process over
ASGI with a seeded catalogue; ``--requests`` concurrent ``GET /products?limit=50``
requests are made while a monitor task asks to wake up every millisecond and records
how late it woke (the loop lag: the longest time the loop could not run anything
else), and every callback the loop runs is timed (the longest single callback: what a
blocking call would show). The table shows, over ``--reps`` runs, the median and worst
loop lag, the longest callback, and the median wall time. The target is under 50 ms.

The server is the embedded SecantusDB unless MONGOCAT_BENCH_URI names another one
(against the embedded server clients connect with retryWrites=false).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import platform
import statistics
import sys
import time
from typing import Any

import httpx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))  # the repository, for examples/

from examples.catalogue_api.app import create_app  # noqa: E402
from overhead import server_uri  # noqa: E402

from mongocat import Catalogue  # noqa: E402

logging.getLogger("catalogue_api").setLevel(logging.ERROR)

# The longest single callback: what one blocking call would show. (asyncio runs every
# ready callback in one loop iteration, so the monitor's lag also adds up the short
# steps of all the requests that became ready together.)
_longest_callback = [0.0]
_original_run = asyncio.events.Handle._run


def _timed_run(self: asyncio.events.Handle) -> None:
    start = time.perf_counter()
    _original_run(self)
    took = time.perf_counter() - start
    if took > _longest_callback[0]:
        _longest_callback[0] = took
        if os.environ.get("LAG_DEBUG"):
            task = getattr(self._callback, "__self__", None)
            where = task.get_coro() if isinstance(task, asyncio.Task) else self
            print(f"{took * 1000:.1f} ms: {where!r}"[:300], file=sys.stderr)


asyncio.events.Handle._run = _timed_run  # type: ignore[method-assign]

DATABASE = "mongocat_bench_api"


async def monitor(stop: asyncio.Event, stalls: list[float]) -> None:
    """Sleep 1 ms at a time and record how late each wake-up was."""
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(0.001)
        stalls.append(time.perf_counter() - start - 0.001)


async def run(
    uri: str, driver: str, requests: int, products: int, reps: int, freeze: bool
) -> list[Any]:
    results = []
    async with Catalogue.connect(uri, DATABASE, driver=driver) as cat:  # type: ignore[arg-type]
        await cat.client.drop_database(DATABASE)
        app = create_app(cat)
        async with app.router.lifespan_context(app):
            await cat.collection("products").insert_many(
                [
                    {
                        "sku": f"S-{i:05d}",
                        "name": f"Product {i}",
                        "price": 1 + i % 97,
                        "category": ["tools", "garden", "kitchen"][i % 3],
                        "stock": i % 20,
                        "tags": ["a"],
                        "description": "",
                    }
                    for i in range(products)
                ]
            )
            transport = httpx.ASGITransport(app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
                # Warm up: the first request pays one-off costs (lazy imports, the
                # connection pool filling) that are not what a running service sees.
                await asyncio.gather(*(client.get("/products") for _ in range(requests)))
                if freeze:  # what a service does once started (see the docs)
                    gc.collect()
                    gc.freeze()
                for _ in range(reps):
                    stalls: list[float] = []
                    _longest_callback[0] = 0.0
                    stop = asyncio.Event()
                    watcher = asyncio.create_task(monitor(stop, stalls))
                    start = time.perf_counter()
                    responses = await asyncio.gather(
                        *(client.get("/products", params={"limit": 50}) for _ in range(requests))
                    )
                    wall = time.perf_counter() - start
                    stop.set()
                    await watcher
                    assert all(r.status_code == 200 for r in responses)
                    results.append((max(stalls) * 1000, wall, _longest_callback[0] * 1000))
        await cat.client.drop_database(DATABASE)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument(
        "--gc-freeze", action="store_true", help="gc.freeze() once the app has warmed up"
    )
    args = parser.parse_args()
    with server_uri() as (uri, server):
        print(f"Python {platform.python_version()} on {platform.machine()}, {server}")
        frozen = ", gc.freeze() after warm-up" if args.gc_freeze else ""
        print(f"{args.requests} concurrent GET /products?limit=50, {args.reps} runs{frozen}\n")
        print(
            f"{'driver':8} {'loop lag ms median':>18} {'worst':>7} "
            f"{'longest callback ms':>20} {'wall s':>7}"
        )
        worst = worst_callback = 0.0
        for driver in ("pymongo", "motor"):
            results = asyncio.run(
                run(uri, driver, args.requests, args.products, args.reps, args.gc_freeze)
            )
            gc.unfreeze()
            stalls = [r[0] for r in results]
            callback = max(r[2] for r in results)
            worst, worst_callback = max(worst, max(stalls)), max(worst_callback, callback)
            wall = statistics.median(r[1] for r in results)
            print(
                f"{driver:8} {statistics.median(stalls):18.1f} {max(stalls):7.1f} "
                f"{callback:20.1f} {wall:7.2f}"
            )
        print(f"\nworst loop lag: {worst:.1f} ms; longest single callback: {worst_callback:.1f} ms")


if __name__ == "__main__":
    main()
