"""Event-loop stalls in the catalogue service while it serves 200 concurrent GET /products.

Usage:
    python benchmarks/api_loop_lag.py [--requests 200] [--products 500] [--reps 5] [--pin]

For each driver, the example app (examples/catalogue_api) runs as it is deployed:
under uvicorn (``--loop asyncio``), in its own process, on a seeded catalogue. This
process is the clients: ``--requests`` concurrent ``GET /products?limit=50`` over
as many HTTP connections. Inside the service (benchmarks/lag_app.py) a task asks to
wake every millisecond and records how late it wakes (the loop lag: the longest time
the loop could not run anything else), and every callback the loop runs is timed (the
longest single callback: what a blocking call would show). The table shows, over
``--reps`` runs after a warm-up run, the median and worst loop lag, the longest
callback and the median wall time. The target is under 50 ms.

The server is the embedded SecantusDB unless MONGOCAT_BENCH_URI names another one
(against the embedded server clients connect with retryWrites=false). The service,
the clients and the database server share this machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

import httpx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from overhead import server_uri  # noqa: E402

from mongocat import Catalogue  # noqa: E402

DATABASE = "mongocat_bench_api"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def seed(uri: str, products: int, drop_only: bool = False) -> None:
    async with Catalogue.connect(uri, DATABASE) as cat:
        await cat.client.drop_database(DATABASE)
        if drop_only:
            return
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


def start_service(uri: str, driver: str, port: int, core: int | None) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "MONGOCAT_URI": uri,
        "MONGOCAT_DRIVER": driver,
        "MONGOCAT_DATABASE": DATABASE,
    }
    command = [sys.executable, "-m", "uvicorn", "benchmarks.lag_app:app"]
    options = ["--host", "127.0.0.1", "--port", str(port), "--loop", "asyncio"]
    # A burst takes longer than uvicorn's 5 s keep-alive default, which would close the
    # idle connections of the first answered clients just as the next burst reuses them.
    quiet = ["--no-access-log", "--log-level", "error", "--timeout-keep-alive", "120"]
    return subprocess.Popen(
        [*command, *options, *quiet],
        cwd=os.path.dirname(HERE),
        env=env,
        stdin=subprocess.DEVNULL,
        preexec_fn=None if core is None else (lambda: os.sched_setaffinity(0, {core})),
    )


async def load(
    base_url: str, requests: int, reps: int
) -> list[tuple[float, float, float, float, float]]:
    limits = httpx.Limits(max_connections=requests, max_keepalive_connections=requests)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as client:
        deadline = time.monotonic() + 60
        while True:  # until the service has started (it ensures its indexes first)
            try:
                if (await client.get("/stats")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the service did not start within 60 s")
            await asyncio.sleep(0.2)

        async def burst() -> float:
            start = time.perf_counter()
            responses = await asyncio.gather(
                *(client.get("/products", params={"limit": 50}) for _ in range(requests))
            )
            assert all(r.status_code == 200 for r in responses), responses[0].text
            assert all(len(r.json()["items"]) == 50 for r in responses)
            return time.perf_counter() - start

        # Warm-up: opens the connections and pays one-off costs (lazy imports, the
        # database connection pool filling) that are not what a running service sees.
        await burst()
        results = []
        for _ in range(reps):
            (await client.post("/_lag/start")).raise_for_status()
            wall = await burst()
            stats: dict[str, Any] = (await client.post("/_lag/stop")).json()
            results.append(
                (
                    stats["loop_lag_ms"],
                    stats["longest_callback_ms"],
                    wall,
                    stats["longest_gc_ms"],
                    stats["most_callback_cpu_ms"],
                )
            )
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument(
        "--pin",
        action="store_true",
        help="give the service the last core to itself; the clients and the embedded "
        "server share the others (as when the database and the clients are elsewhere)",
    )
    args = parser.parse_args()
    service_core = None
    if args.pin:
        cores = sorted(os.sched_getaffinity(0))
        if len(cores) < 2:
            raise SystemExit("--pin needs at least two cores")
        service_core = cores[-1]
        os.sched_setaffinity(0, set(cores[:-1]))  # the embedded server inherits this
    with server_uri() as (uri, server):
        print(f"Python {platform.python_version()} on {platform.machine()}, {server}")
        print(
            f"the example app under uvicorn in its own process; {args.requests} concurrent "
            f"GET /products?limit=50 from another, {args.reps} runs after a warm-up"
        )
        if service_core is not None:
            print(f"the service pinned to core {service_core}, the rest to the other cores")
        print()
        print(
            f"{'driver':8} {'loop lag ms median':>18} {'worst':>7} "
            f"{'longest callback ms':>20} {'CPU ms':>7} {'GC ms':>6} {'wall s':>7}"
        )
        worst = worst_callback = 0.0
        for driver in ("pymongo", "motor"):
            asyncio.run(seed(uri, args.products))
            port = free_port()
            service = start_service(uri, driver, port, service_core)
            try:
                results = asyncio.run(load(f"http://127.0.0.1:{port}", args.requests, args.reps))
            finally:
                service.terminate()
                try:
                    service.wait(30)
                except subprocess.TimeoutExpired:
                    service.kill()
                    service.wait()
            asyncio.run(seed(uri, args.products, drop_only=True))
            lags = [r[0] for r in results]
            callback = max(r[1] for r in results)
            worst, worst_callback = max(worst, max(lags)), max(worst_callback, callback)
            wall = statistics.median(r[2] for r in results)
            longest_gc = max(r[3] for r in results)
            cpu = max(r[4] for r in results)
            print(
                f"{driver:8} {statistics.median(lags):18.1f} {max(lags):7.1f} "
                f"{callback:20.1f} {cpu:7.1f} {longest_gc:6.1f} {wall:7.2f}"
            )
        print(f"\nworst loop lag: {worst:.1f} ms; longest single callback: {worst_callback:.1f} ms")


if __name__ == "__main__":
    main()
