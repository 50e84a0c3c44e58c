"""Reading 10,000 documents as dicts, TypedDicts, dataclasses and Pydantic models.

Usage:
    python benchmarks/models.py [--docs 10000] [--reps 9]

For each driver, each repetition runs ``find({}).to_list()`` over the same documents
with the raw driver collection and with mongocat collections typed as ``dict``, a
TypedDict, a dataclass and a Pydantic v2 model, in a shuffled order, each after a
garbage collection; the table shows the median time and the ratio to the raw driver.
dict and TypedDict collections convert nothing, so their ratio is mongocat's own
overhead; the dataclass and model rows add the cost of building the objects.

The server is the embedded SecantusDB unless MONGOCAT_BENCH_URI names another one
(against the embedded server clients connect with retryWrites=false).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypedDict

from bson import ObjectId
from pydantic import BaseModel, ConfigDict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from overhead import server_uri

from mongocat import Catalogue

DATABASE = "mongocat_bench_models"


class ProductDict(TypedDict):
    _id: ObjectId
    sku: str
    name: str
    price: float
    stock: int
    tags: list[str]


@dataclass
class ProductData:
    sku: str
    name: str
    price: float
    stock: int
    tags: list[str]
    id: ObjectId | None = None


class ProductModel(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    sku: str
    name: str
    price: float
    stock: int
    tags: list[str]
    id: ObjectId | None = None


async def run(uri: str, driver: str, docs: int, reps: int) -> dict[str, float]:
    """Median seconds of each contestant reading every document."""
    async with Catalogue.connect(uri, DATABASE, driver=driver) as cat:  # type: ignore[arg-type]
        await cat.client.drop_database(DATABASE)
        raw = cat.collection("products").driver_collection
        await raw.insert_many(
            [
                {
                    "sku": f"S-{i:05d}",
                    "name": f"Product {i}",
                    "price": i / 10,
                    "stock": i % 50,
                    "tags": ["a", "b"],
                }
                for i in range(docs)
            ]
        )
        as_dict = cat.collection("products")
        as_typed = cat.collection("products", ProductDict)
        as_data = cat.collection("products", ProductData)
        as_model = cat.collection("products", ProductModel)

        async def raw_find() -> int:
            return len(await raw.find({}).to_list(None))

        contestants: dict[str, Callable[[], Awaitable[int]]] = {
            "raw driver": raw_find,
            "dict": lambda: _count(as_dict.find()),
            "TypedDict": lambda: _count(as_typed.find()),
            "dataclass": lambda: _count(as_data.find()),
            "Pydantic": lambda: _count(as_model.find()),
        }
        times: dict[str, list[float]] = {name: [] for name in contestants}
        names = list(contestants)
        for name in names:  # warm up every path once
            assert await contestants[name]() == docs
        for rep in range(reps):
            order = names[:]
            random.Random(rep).shuffle(order)  # no contestant always follows another
            for name in order:
                gc.collect()  # no contestant pays for the garbage of the one before
                start = time.perf_counter()
                assert await contestants[name]() == docs
                times[name].append(time.perf_counter() - start)
        await cat.client.drop_database(DATABASE)
    return {name: statistics.median(values) for name, values in times.items()}


async def _count(cursor: Any) -> int:
    return len(await cursor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=9)
    args = parser.parse_args()
    with server_uri() as (uri, server):
        print(f"Python {platform.python_version()} on {platform.machine()}, {server}")
        print(f"find {args.docs} documents to a list, {args.reps} repetitions, medians\n")
        print(f"{'driver':8} {'document type':14} {'ms':>8} {'ratio to raw':>13}")
        worst_plain = 0.0
        for driver in ("pymongo", "motor"):
            medians = asyncio.run(run(uri, driver, args.docs, args.reps))
            raw = medians["raw driver"]
            for name, seconds in medians.items():
                ratio = seconds / raw
                if name in ("dict", "TypedDict"):
                    worst_plain = max(worst_plain, ratio)
                print(f"{driver:8} {name:14} {seconds * 1000:8.1f} {ratio:13.2f}")
        print(f"\nworst dict/TypedDict ratio to the raw driver: {worst_plain:.2f}")


if __name__ == "__main__":
    main()
