"""The cost of the builders: building and rendering, and find end to end.

Usage:
    python benchmarks/builders.py [--reps 7] [--finds 50]

Part 1 times building and rendering a 5-clause filter and a 6-operator update against
writing the same dict literal (median microseconds per build over the repetitions).
Part 2 runs ``find_one`` with a builder filter and with the raw dict, interleaved in
chunks on each driver against the same server (the embedded SecantusDB with
retryWrites=false, or MONGOCAT_BENCH_URI with the driver defaults), and prints the
ratio of their median times; the last line is the worst ratio.
"""

import argparse
import asyncio
import statistics
import sys
import time
import timeit
from typing import Any

from motor.motor_asyncio import AsyncIOMotorClient
from overhead import server_uri
from pymongo import AsyncMongoClient

from mongocat import Catalogue, F, Update

DATABASE = "mongocat_bench_builders"


def build_filter() -> dict[str, Any]:
    return (
        (F.status == "A")
        & (F.qty > 10)
        & (F.qty <= 500)
        & F.tags.in_(["red", "blank"])
        & (F.size.uom == "cm")
    ).to_mongo()


def literal_filter() -> dict[str, Any]:
    return {
        "status": "A",
        "qty": {"$gt": 10, "$lte": 500},
        "tags": {"$in": ["red", "blank"]},
        "size.uom": "cm",
    }


def build_update() -> Any:
    return (
        Update.set(status="P")
        .inc(qty=-1)
        .push("log", "sold")
        .unset("draft")
        .current_date("changed")
        .max(peak=5)
    ).to_mongo()


def literal_update() -> dict[str, Any]:
    return {
        "$set": {"status": "P"},
        "$inc": {"qty": -1},
        "$push": {"log": "sold"},
        "$unset": {"draft": ""},
        "$currentDate": {"changed": True},
        "$max": {"peak": 5},
    }


def micro(reps: int) -> None:
    assert build_filter() == literal_filter()
    assert build_update() == literal_update()
    print("| what | builder µs | dict literal µs |")
    print("|---|---:|---:|")
    for name, built, literal in [
        ("5-clause filter", build_filter, literal_filter),
        ("6-operator update", build_update, literal_update),
    ]:
        number = 20_000
        b = statistics.median(timeit.repeat(built, number=number, repeat=reps)) / number * 1e6
        lit = statistics.median(timeit.repeat(literal, number=number, repeat=reps)) / number * 1e6
        print(f"| {name} | {b:.2f} | {lit:.2f} |")


async def end_to_end(uri: str, reps: int, finds: int) -> float:
    clients: dict[str, Any] = {"pymongo": AsyncMongoClient(uri), "motor": AsyncIOMotorClient(uri)}
    worst = 0.0
    try:
        seed = clients["pymongo"][DATABASE]["inventory"]
        await seed.insert_many(
            [
                {"status": "A", "qty": i, "tags": ["red"], "size": {"uom": "cm"}}
                for i in range(1, 200)
            ]
        )
        print("\n| find_one, builder vs raw dict | driver | raw ops/s | builder ops/s | ratio |")
        print("|---|---|---:|---:|---:|")
        for driver, client in clients.items():
            inventory = Catalogue(client, DATABASE).collection("inventory")

            async def with_builder(inventory: Any = inventory) -> None:
                for _ in range(finds):
                    await inventory.find_one(
                        (F.status == "A")
                        & (F.qty > 10)
                        & (F.qty <= 500)
                        & F.tags.in_(["red", "blank"])
                        & (F.size.uom == "cm")
                    )

            async def with_dict(inventory: Any = inventory) -> None:
                for _ in range(finds):
                    await inventory.find_one(
                        {
                            "status": "A",
                            "qty": {"$gt": 10, "$lte": 500},
                            "tags": {"$in": ["red", "blank"]},
                            "size.uom": "cm",
                        }
                    )

            times: dict[str, list[float]] = {"builder": [], "raw": []}
            await with_builder()
            await with_dict()
            for rep in range(reps * 4):
                order = [("raw", with_dict), ("builder", with_builder)]
                for who, op in order if rep % 2 else order[::-1]:
                    started = time.perf_counter()
                    await op()
                    times[who].append(time.perf_counter() - started)
            raw, built = (statistics.median(times[k]) for k in ("raw", "builder"))
            worst = max(worst, built / raw)
            print(f"| | {driver} | {finds / raw:,.0f} | {finds / built:,.0f} | {built / raw:.3f} |")
    finally:
        await clients["pymongo"].drop_database(DATABASE)
        await clients["pymongo"].close()
        clients["motor"].close()
    return worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7, help="repetitions (at least 5)")
    parser.add_argument("--finds", type=int, default=50, help="find_one calls per chunk")
    args = parser.parse_args()
    if args.reps < 5:
        parser.error("--reps must be at least 5")
    micro(args.reps)
    with server_uri() as (uri, note):
        print(f"\nserver: {note}")
        worst = asyncio.run(end_to_end(uri, args.reps, args.finds))
    print(f"\nworst ratio: {worst:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
