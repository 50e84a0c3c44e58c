"""mongocat's overhead over the raw driver, for each driver, in one interleaved run.

Usage:
    python benchmarks/overhead.py [--reps 7] [--chunks 10] [--calls 100] [--finds 3]

The server is the embedded SecantusDB unless MONGOCAT_BENCH_URI names another one.
Against the embedded server, clients connect with retryWrites=false (its cost per
write grows with every retryable write it serves); against MONGOCAT_BENCH_URI the
driver defaults apply. Both contestants share one client, so the only difference
measured is mongocat's own code. Every repetition runs each operation for each
driver in short chunks, alternating the contestants chunk by chunk; the table shows
medians over all chunks, and the last line the worst ratio of mongocat's time to the
raw driver's (1.00 = no overhead).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import motor
import pymongo
from motor.motor_asyncio import AsyncIOMotorClient
from pymongo import AsyncMongoClient

import mongocat
from mongocat import Catalogue, F, Update
from mongocat.embedded import EmbeddedServer

DATABASE = "mongocat_bench_overhead"
Op = Callable[[], Awaitable[None]]


@contextlib.contextmanager
def server_uri(*extra_args: str) -> Iterator[tuple[str, str]]:
    """Yield the benchmark server's URI and a description; ``extra_args`` go to secantusd."""
    uri = os.environ.get("MONGOCAT_BENCH_URI")
    if uri:
        yield uri, "MONGOCAT_BENCH_URI (driver defaults: retryable writes on)"
        return
    with EmbeddedServer(enable_test_commands=False, extra_args=extra_args) as server:
        flags = f" {' '.join(extra_args)}" if extra_args else ""
        yield server.uri, f"embedded SecantusDB{flags} on {server.host}, retryWrites=false"


def operations(
    raw: Any,
    mc: mongocat.Collection[Any],
    raw_ins: Any,
    mc_ins: mongocat.Collection[Any],
    calls: int,
    finds: int,
) -> dict[str, tuple[Op, Op, int]]:
    """Return, per operation, the raw and the mongocat coroutine function and a call count."""

    async def raw_find_one() -> None:
        for i in range(calls):
            await raw.find_one({"_id": i % 1000})

    async def mc_find_one() -> None:
        for i in range(calls):
            await mc.find_one({"_id": i % 1000})

    async def raw_insert_one() -> None:
        for i in range(calls):
            await raw_ins.insert_one({"n": i, "name": "item"})

    async def mc_insert_one() -> None:
        for i in range(calls):
            await mc_ins.insert_one({"n": i, "name": "item"})

    async def raw_find_1000() -> None:
        for _ in range(finds):
            docs = await raw.find({"_id": {"$lt": 1000}}).to_list(None)
            assert len(docs) == 1000

    async def mc_find_1000() -> None:
        for _ in range(finds):
            docs = await mc.find({"_id": {"$lt": 1000}}).to_list()
            assert len(docs) == 1000

    async def raw_update_one() -> None:
        for i in range(calls):
            await raw.update_one({"_id": i % 1000}, {"$inc": {"stock": 1}})

    async def mc_update_one() -> None:
        for i in range(calls):
            await mc.update_one(F._id == i % 1000, Update.inc(stock=1))

    def batch() -> list[dict[str, Any]]:
        return [{"n": i, "name": "item", "price": i / 10} for i in range(500)]

    async def raw_insert_many() -> None:
        for _ in range(finds):
            await raw_ins.insert_many(batch())

    async def mc_insert_many() -> None:
        for _ in range(finds):
            await mc_ins.insert_many(batch())

    async def raw_filtered() -> None:
        for _ in range(finds):
            projection = {"name": 1, "price": 1, "_id": 0}
            docs = await raw.find({"price": {"$lt": 50}}, projection).to_list(None)
            assert len(docs) == 500

    async def mc_filtered() -> None:
        for _ in range(finds):
            projection = {"name": 1, "price": 1, "_id": 0}
            assert len(await mc.find(F.price < 50, projection=projection)) == 500

    return {
        "find_one by _id": (raw_find_one, mc_find_one, calls),
        "insert_one": (raw_insert_one, mc_insert_one, calls),
        "update_one": (raw_update_one, mc_update_one, calls),
        "find 1,000 to list": (raw_find_1000, mc_find_1000, finds),
        "filtered find (500) + projection": (raw_filtered, mc_filtered, finds),
        "insert_many 500": (raw_insert_many, mc_insert_many, finds),
    }


async def timed(op: Op) -> tuple[float, float]:
    """Run ``op``; return its wall-clock time and this process's CPU time."""
    wall, cpu = time.perf_counter(), time.process_time()
    await op()
    return time.perf_counter() - wall, time.process_time() - cpu


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7, help="repetitions (at least 5)")
    parser.add_argument("--chunks", type=int, default=10, help="alternating chunks per rep")
    parser.add_argument("--calls", type=int, default=100, help="single-doc calls per chunk")
    parser.add_argument(
        "--finds", type=int, default=3, help="many-document finds and inserts per chunk"
    )
    args = parser.parse_args()
    if args.reps < 5:
        parser.error("--reps must be at least 5")

    with server_uri() as (uri, server_note):
        clients: dict[str, Any] = {
            "pymongo": AsyncMongoClient(uri),
            "motor": AsyncIOMotorClient(uri),
        }
        try:
            await clients["pymongo"].drop_database(DATABASE)
            seed = clients["pymongo"][DATABASE]["docs"]
            await seed.insert_many(
                [
                    {"_id": i, "name": f"item {i}", "price": i / 10, "tags": ["a", "b"]}
                    for i in range(1000)
                ]
            )
            plans = {}
            for driver, client in clients.items():
                cat = Catalogue(client, DATABASE)
                db = client[DATABASE]
                plans[driver] = operations(
                    db["docs"],
                    cat.collection("docs"),
                    db["inserts_raw"],
                    cat.collection("inserts_mongocat"),
                    args.calls,
                    args.finds,
                )
            samples: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
            # Warm up every path once (connection pools, code caches).
            for ops in plans.values():
                for raw_op, mc_op, _ in ops.values():
                    await raw_op()
                    await mc_op()
            # Each repetition runs every operation in short chunks, alternating the
            # contestants chunk by chunk, so that drift in the server (its caches,
            # its garbage collector, the other core's load) falls on both alike.
            for rep in range(args.reps):
                for driver, ops in plans.items():
                    for name, (raw_op, mc_op, _) in ops.items():
                        for chunk in range(args.chunks):
                            order = [("raw", raw_op), ("mongocat", mc_op)]
                            if (rep + chunk) % 2:
                                order.reverse()
                            for who, op in order:
                                samples.setdefault((name, driver, who), []).append(await timed(op))
        finally:
            await clients["pymongo"].drop_database(DATABASE)
            await clients["pymongo"].close()
            clients["motor"].close()

    print(f"mongocat {mongocat.__version__} overhead benchmark")
    print(
        f"Python {platform.python_version()}, pymongo {pymongo.version}, motor {motor.version}, "
        f"{os.cpu_count()} CPUs; server: {server_note}; {args.reps} repetitions, medians\n"
    )
    print("| operation | driver | raw ops/s | mongocat ops/s | time ratio | client CPU ratio |")
    print("|---|---|---:|---:|---:|---:|")
    worst = 0.0
    for name, (_, _, count) in next(iter(plans.values())).items():
        for driver in plans:
            raw_wall, raw_cpu = (
                statistics.median(x) for x in zip(*samples[(name, driver, "raw")], strict=True)
            )
            mc_wall, mc_cpu = (
                statistics.median(x) for x in zip(*samples[(name, driver, "mongocat")], strict=True)
            )
            ratio = mc_wall / raw_wall
            worst = max(worst, ratio)
            print(
                f"| {name} | {driver} | {count / raw_wall:,.0f} | {count / mc_wall:,.0f} "
                f"| {ratio:.3f} | {mc_cpu / raw_cpu:.3f} |"
            )
    print(
        "\ntime ratio: mongocat's median wall-clock time over the raw driver's; client CPU "
        "ratio: the same for this process's CPU time (the server runs in another process)."
    )
    print(f"worst ratio: {worst:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
