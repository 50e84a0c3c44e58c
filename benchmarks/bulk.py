"""Bulk insert throughput, and memory while streaming.

Usage:
    python benchmarks/bulk.py [--docs 100000] [--loop-docs 5000] [--stream-docs 1000000]

Against the embedded SecantusDB (retryWrites=false) unless MONGOCAT_BENCH_URI is set
(driver defaults). In one run, on PyMongo's async driver: bulk_insert at concurrency 1
and 4, one insert_many of everything, and an insert_one loop (over --loop-docs, since
it is slow), each into an empty collection; docs/s and the ratio to insert_many. First,
before anything else raises the peak, --stream-docs small documents are streamed from
an async generator through bulk_insert and the growth of peak RSS is printed.
"""

import argparse
import asyncio
import resource
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

from overhead import server_uri
from pymongo import AsyncMongoClient

from mongocat import Catalogue

DATABASE = "mongocat_bench_bulk"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def stream(n: int) -> AsyncIterator[dict[str, Any]]:
    for i in range(n):
        yield {"n": i, "name": "item"}


async def run(uri: str, docs: int, loop_docs: int, stream_docs: int) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    cat = Catalogue(client, DATABASE)
    try:
        await client.drop_database(DATABASE)
        before = peak_rss_mb()
        started = time.perf_counter()
        summary = await cat.collection("stream").bulk_insert(stream(stream_docs), ordered=False)
        elapsed = time.perf_counter() - started
        assert summary.inserted_count == stream_docs
        growth = peak_rss_mb() - before
        print(
            f"streamed {stream_docs:,} docs from an async generator in {elapsed:.1f} s "
            f"({stream_docs / elapsed:,.0f} docs/s); peak RSS growth {growth:.1f} MB"
        )
        await client.drop_database(DATABASE)

        async def timed(name: str, n: int, body: Any) -> tuple[str, float]:
            coll = cat.collection(name)
            started = time.perf_counter()
            await body(coll, n)
            elapsed = time.perf_counter() - started
            assert await coll.count() == n
            return name, n / elapsed

        async def bulk1(coll: Any, n: int) -> None:
            await coll.bulk_insert(({"n": i} for i in range(n)), ordered=False)

        async def bulk4(coll: Any, n: int) -> None:
            await coll.bulk_insert(({"n": i} for i in range(n)), ordered=False, concurrency=4)

        async def many(coll: Any, n: int) -> None:
            await coll.insert_many([{"n": i} for i in range(n)], ordered=False)

        async def loop(coll: Any, n: int) -> None:
            for i in range(n):
                await coll.insert_one({"n": i})

        results = [
            await timed("insert_many (one call)", docs, many),
            await timed("bulk_insert concurrency=1", docs, bulk1),
            await timed("bulk_insert concurrency=4", docs, bulk4),
            await timed("insert_one loop", loop_docs, loop),
        ]
        baseline = results[0][1]
        print("\n| method | docs/s | ratio to insert_many |")
        print("|---|---:|---:|")
        for name, rate in results:
            print(f"| {name} | {rate:,.0f} | {rate / baseline:.2f} |")
    finally:
        await client.drop_database(DATABASE)
        await client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--loop-docs", type=int, default=5_000)
    parser.add_argument("--stream-docs", type=int, default=1_000_000)
    args = parser.parse_args()
    with server_uri() as (uri, note):
        print(f"server: {note}\n")
        asyncio.run(run(uri, args.docs, args.loop_docs, args.stream_docs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
