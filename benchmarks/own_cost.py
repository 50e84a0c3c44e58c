"""mongocat's own client CPU per call, with the server taken out of the measurement.

Usage:
    python benchmarks/own_cost.py [--calls 20000] [--reps 7]

``overhead.py`` compares mongocat with the raw driver against a server; there, every
call also pays the driver's and the network's cost, and the stand-in's noise is
larger than mongocat's share. This script isolates that share: each mongocat
collection's driver collection is wrapped so that the write methods return at once
(an acknowledged result, as the driver would build it), and the same wrapped
methods are called directly with the dicts the raw driver would be given. The
difference of the least times is what mongocat adds to each call, in microseconds:
argument coercion, the builders' rendering, the document checks, option building,
session lookup, error translation and result wrapping. Nothing is sent; no server
is needed.

The builders' rows include building ``F._id == i`` and ``Update.inc(stock=1)`` in
each call, as an application does.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pymongo
from bson import ObjectId
from pymongo import AsyncMongoClient, results

import mongocat
from mongocat import Catalogue, F, Update

Call = Callable[[int], Awaitable[Any]]


class InstantCollection:
    """A driver collection whose writes return at once, as if acknowledged.

    Each returns the driver's own result type, as the driver builds it from a reply.
    """

    def __init__(self, real: Any) -> None:
        self._real = real
        self.name, self.full_name = real.name, real.full_name
        self.codec_options = real.codec_options

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    async def insert_one(self, document: Any, **options: Any) -> Any:
        if "_id" not in document:  # as the driver does
            document["_id"] = ObjectId()
        return results.InsertOneResult(document["_id"], True)

    async def insert_many(self, documents: Any, **options: Any) -> Any:
        ids = []
        for document in documents:
            if "_id" not in document:
                document["_id"] = ObjectId()
            ids.append(document["_id"])
        return results.InsertManyResult(ids, True)

    async def update_one(self, filter: Any, update: Any, **options: Any) -> Any:
        return results.UpdateResult({"n": 1, "nModified": 1, "ok": 1.0}, True)

    replace_one = update_one

    async def find_one_and_update(self, filter: Any, update: Any, **options: Any) -> Any:
        return {"_id": 1, "stock": 2}

    async def bulk_write(self, requests: Any, **options: Any) -> Any:
        reply = {"nInserted": len(requests), "nUpserted": 0, "nMatched": 0, "nModified": 0}
        reply |= {"nRemoved": 0, "upserted": [], "writeErrors": [], "writeConcernErrors": []}
        return results.BulkWriteResult(reply, True)


def calls(raw: InstantCollection, mc: mongocat.Collection[Any]) -> dict[str, tuple[Call, Call]]:
    """Each row: the wrapped driver method called directly, and mongocat's call."""

    def batch(n: int) -> list[dict[str, Any]]:
        return [{"n": i, "name": "item", "price": i / 10} for i in range(n)]

    async def raw_bulk(_: int) -> None:
        documents = batch(10_000)
        for start in range(0, 10_000, 1_000):
            await raw.insert_many(documents[start : start + 1_000])

    return {
        "insert_one": (
            lambda i: raw.insert_one({"n": i, "name": "item"}),
            lambda i: mc.insert_one({"n": i, "name": "item"}),
        ),
        "update_one, dicts": (
            lambda i: raw.update_one({"_id": i}, {"$inc": {"stock": 1}}),
            lambda i: mc.update_one({"_id": i}, {"$inc": {"stock": 1}}),
        ),
        "update_one, F and Update": (
            lambda i: raw.update_one({"_id": i}, {"$inc": {"stock": 1}}),
            lambda i: mc.update_one(F._id == i, Update.inc(stock=1)),
        ),
        "replace_one": (
            lambda i: raw.replace_one({"_id": i}, {"name": "item", "price": 1.0}),
            lambda i: mc.replace_one(F._id == i, {"name": "item", "price": 1.0}),
        ),
        "find_one_and_update": (
            lambda i: raw.find_one_and_update({"_id": i}, {"$inc": {"stock": 1}}),
            lambda i: mc.find_one_and_update(F._id == i, Update.inc(stock=1)),
        ),
        "insert_many 500 (per document)": (
            lambda i: raw.insert_many(batch(500)),
            lambda i: mc.insert_many(batch(500)),
        ),
        "bulk_insert 10,000 (per document)": (
            raw_bulk,
            lambda i: mc.bulk_insert(batch(10_000), batch_size=1_000),
        ),
    }


def stub_collection(client: Any) -> tuple[InstantCollection, mongocat.Collection[Any]]:
    """A mongocat collection on ``client`` whose driver collection is an InstantCollection.

    ``client`` never connects: the writes return at once, and the server's message
    limit is given as a server would report it.
    """
    cat = Catalogue(client, "mongocat_own_cost")
    mc = cat.collection("items")
    raw = InstantCollection(mc.driver_collection)
    mc._driver_collection = raw  # type: ignore[misc]  # the one seam this script replaces

    async def known_limit(self: Any) -> int:
        return 48_000_000  # what a server reports; no server is asked

    type(cat._handle).max_message_bytes = known_limit  # type: ignore[method-assign]
    return raw, mc


async def per_call(call: Call, count: int) -> float:
    """Microseconds of this process's CPU per call."""
    start = time.process_time()
    for i in range(count):
        await call(i)
    return (time.process_time() - start) / count * 1e6


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000, help="single-document calls")
    parser.add_argument("--reps", type=int, default=9, help="repetitions (the least of them)")
    args = parser.parse_args()
    client: Any = AsyncMongoClient("mongodb://127.0.0.1:9/", connect=False)
    raw, mc = stub_collection(client)

    print(f"mongocat {mongocat.__version__}: its own client CPU per call, no server")
    print(
        f"Python {platform.python_version()}, pymongo {pymongo.version}; "
        f"the least of {args.reps} runs\n"
    )
    print("| call | driver method alone, µs | through mongocat, µs | mongocat adds, µs |")
    print("|---|---:|---:|---:|")
    for name, (raw_call, mc_call) in calls(raw, mc).items():
        count = args.calls
        per = 1
        if "500" in name:
            count, per = max(1, args.calls // 500), 500
        elif "10,000" in name:
            count, per = max(1, args.calls // 10_000), 10_000
        await raw_call(0), await mc_call(0)  # warm up
        raw_us, mc_us = [], []
        for _ in range(args.reps):
            raw_us.append(await per_call(raw_call, count) / per)
            mc_us.append(await per_call(mc_call, count) / per)
        # The least time is the cost; every other run also paid for the machine's noise.
        raw_median, mc_median = min(raw_us), min(mc_us)
        print(f"| {name} | {raw_median:.2f} | {mc_median:.2f} | {mc_median - raw_median:.2f} |")
    await client.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
