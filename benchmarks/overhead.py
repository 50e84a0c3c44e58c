"""mongocat's overhead over the raw driver, for each driver, in one interleaved run.

Usage:
    python benchmarks/overhead.py [--reps 7] [--chunks 10] [--calls 100] [--finds 3]
                                  [--bulk 10000] [--repeat 3] [--telemetry]

The server is the embedded SecantusDB unless MONGOCAT_BENCH_URI names another one.
Against the embedded server, clients connect with retryWrites=false (its cost per
write grows with every retryable write it serves); against MONGOCAT_BENCH_URI the
driver defaults apply. Both contestants share one client, so the only difference
measured is mongocat's own code. Every repetition runs each operation for each
driver in short chunks, alternating the contestants chunk by chunk; the table shows
medians over all chunks (with ``--repeat N``, the median of N full runs), the client
CPU per call in microseconds, and the last line the worst ratios of mongocat's time
and client CPU to the raw driver's (1.00 = no overhead).

With ``--telemetry``, rows marked "(telemetry)" add the cost of recording: the
mongocat contestant's Catalogue is instrumented (``mongocat.telemetry.Telemetry``
with the OpenTelemetry SDK's in-memory span exporter and metric reader: a span and a
duration point per operation). The shared client has no command listeners (they
would slow the raw contestant too), so command spans are not in these figures.
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
from dataclasses import dataclass
from typing import Any

import motor
import pymongo
from motor.motor_asyncio import AsyncIOMotorClient
from pydantic import BaseModel
from pymongo import AsyncMongoClient, ReturnDocument

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


@dataclass
class Item:
    """The model-type rows' document type, as a dataclass."""

    n: int
    name: str
    price: float


class ItemModel(BaseModel):
    """The model-type rows' document type, as a Pydantic model."""

    n: int
    name: str
    price: float


@dataclass
class Row:
    """One operation: the raw driver's and mongocat's coroutine functions."""

    raw: Op
    mongocat: Op
    #: How many calls one run makes (the rates are per call).
    count: int
    #: Untimed, before each run (empties a scratch collection).
    reset: Op | None = None
    #: A heavy row runs in fewer chunks.
    heavy: bool = False


def operations(
    raw_db: Any, cat: Catalogue, calls: int, finds: int, bulk_docs: int
) -> dict[str, Row]:
    """Return each operation's row: the raw driver with dicts, mongocat as its docs teach."""
    raw, mc = raw_db["docs"], cat.collection("docs")
    raw_ins, mc_ins = raw_db["inserts_raw"], cat.collection("inserts_mongocat")
    mc_data, mc_model = (
        cat.collection("inserts_mongocat", Item),
        cat.collection("inserts_mongocat", ItemModel),
    )

    async def raw_find_one() -> None:
        for i in range(calls):
            await raw.find_one({"_id": i % 1000})

    async def mc_find_one() -> None:
        for i in range(calls):
            await mc.find_one(F._id == i % 1000)

    async def raw_insert_one() -> None:
        for i in range(calls):
            await raw_ins.insert_one({"n": i, "name": "item"})

    async def mc_insert_one() -> None:
        for i in range(calls):
            await mc_ins.insert_one({"n": i, "name": "item"})

    async def raw_insert_item() -> None:
        for i in range(calls):
            await raw_ins.insert_one({"n": i, "name": "item", "price": 1.5})

    async def data_insert_one() -> None:
        for i in range(calls):
            await mc_data.insert_one(Item(n=i, name="item", price=1.5))

    async def model_insert_one() -> None:
        for i in range(calls):
            await mc_model.insert_one(ItemModel(n=i, name="item", price=1.5))

    async def raw_find_1000() -> None:
        for _ in range(finds):
            docs = await raw.find({"_id": {"$lt": 1000}}).to_list(None)
            assert len(docs) == 1000

    async def mc_find_1000() -> None:
        for _ in range(finds):
            docs = await mc.find(F._id < 1000).to_list()
            assert len(docs) == 1000

    async def raw_update_one() -> None:
        for i in range(calls):
            await raw.update_one({"_id": i % 1000}, {"$inc": {"stock": 1}})

    async def mc_update_one() -> None:
        for i in range(calls):
            await mc.update_one(F._id == i % 1000, Update.inc(stock=1))

    async def raw_replace_one() -> None:
        for i in range(calls):
            await raw.replace_one({"_id": i % 1000}, {"name": f"item {i % 1000}", "price": 1.0})

    async def mc_replace_one() -> None:
        for i in range(calls):
            await mc.replace_one(F._id == i % 1000, {"name": f"item {i % 1000}", "price": 1.0})

    # findAndModify costs the stand-in ~20 ms: a fifth of the calls keeps the run short.
    slow_calls = max(1, calls // 5)

    async def raw_find_one_and_update() -> None:
        for i in range(slow_calls):
            await raw.find_one_and_update(
                {"_id": i % 1000}, {"$inc": {"stock": 1}}, return_document=ReturnDocument.AFTER
            )

    async def mc_find_one_and_update() -> None:
        for i in range(slow_calls):
            await mc.find_one_and_update(
                F._id == i % 1000, Update.inc(stock=1), return_document="after"
            )

    def batch() -> list[dict[str, Any]]:
        return [{"n": i, "name": "item", "price": i / 10} for i in range(500)]

    async def raw_insert_many() -> None:
        for _ in range(finds):
            await raw_ins.insert_many(batch())

    async def mc_insert_many() -> None:
        for _ in range(finds):
            await mc_ins.insert_many(batch())

    def bulk() -> list[dict[str, Any]]:
        return [{"n": i, "name": "item", "price": i / 10} for i in range(bulk_docs)]

    async def raw_bulk() -> None:
        documents = bulk()
        for start in range(0, bulk_docs, 1000):
            await raw_ins.insert_many(documents[start : start + 1000])

    async def mc_bulk() -> None:
        summary = await mc_ins.bulk_insert(bulk(), batch_size=1000)
        assert summary.inserted_count == bulk_docs

    async def empty_scratch() -> None:
        await raw_ins.delete_many({})
        await mc_ins.driver_collection.delete_many({})

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
        "find_one by _id": Row(raw_find_one, mc_find_one, calls),
        "insert_one": Row(raw_insert_one, mc_insert_one, calls),
        "update_one": Row(raw_update_one, mc_update_one, calls),
        "replace_one": Row(raw_replace_one, mc_replace_one, calls),
        "find_one_and_update": Row(raw_find_one_and_update, mc_find_one_and_update, slow_calls),
        "find 1,000 to list": Row(raw_find_1000, mc_find_1000, finds),
        "filtered find (500) + projection": Row(raw_filtered, mc_filtered, finds),
        "insert_many 500": Row(raw_insert_many, mc_insert_many, finds),
        f"bulk_insert {bulk_docs:,} (raw: insert_many by 1,000)": Row(
            raw_bulk, mc_bulk, 1, reset=empty_scratch, heavy=True
        ),
        "insert_one dataclass (raw: the same dict)": Row(raw_insert_item, data_insert_one, calls),
        "insert_one Pydantic (raw: the same dict)": Row(raw_insert_item, model_insert_one, calls),
    }


#: The in-memory exporters, emptied between chunks (untimed): spans kept for the
#: whole run would make the garbage collector's passes, not the recording, the cost.
_EXPORTERS: list[Any] = []

#: The rows measured again with telemetry on (``--telemetry``).
TELEMETRY_ROWS = ("find_one by _id", "insert_one", "update_one", "find 1,000 to list")


def recording_telemetry() -> Any:
    """A Telemetry recording to memory (the SDK's exporter and reader)."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from mongocat.telemetry import Telemetry

    exporter = InMemorySpanExporter()
    _EXPORTERS.append(exporter)
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    return Telemetry(tracer_provider=tracer_provider, meter_provider=meter_provider)


async def timed(op: Op) -> tuple[float, float]:
    """Run ``op``; return its wall-clock time and this process's CPU time."""
    wall, cpu = time.perf_counter(), time.process_time()
    await op()
    return time.perf_counter() - wall, time.process_time() - cpu


#: (operation, driver, contestant) -> the (wall, cpu) samples of every chunk.
Samples = dict[tuple[str, str, str], list[tuple[float, float]]]


async def measure(uri: str, args: argparse.Namespace) -> tuple[Samples, dict[str, Row]]:
    """One full run: every operation, both drivers, alternating chunk by chunk."""
    clients: dict[str, Any] = {
        "pymongo": AsyncMongoClient(uri),
        "motor": AsyncIOMotorClient(uri),
    }
    samples: Samples = {}
    try:
        await clients["pymongo"].drop_database(DATABASE)
        seed = clients["pymongo"][DATABASE]["docs"]
        await seed.insert_many(
            [
                {"_id": i, "name": f"item {i}", "price": i / 10, "tags": ["a", "b"]}
                for i in range(1000)
            ]
        )
        plans = {
            driver: operations(
                client[DATABASE],
                Catalogue(client, DATABASE),
                args.calls,
                args.finds,
                args.bulk,
            )
            for driver, client in clients.items()
        }
        if args.telemetry:
            telemetry = recording_telemetry()
            for driver, client in clients.items():
                observed = operations(
                    client[DATABASE],
                    Catalogue(client, DATABASE, telemetry=telemetry),
                    args.calls,
                    args.finds,
                    args.bulk,
                )
                plans[driver].update(
                    {f"{name} (telemetry)": observed[name] for name in TELEMETRY_ROWS}
                )
        # Warm up every path once (connection pools, code caches).
        for rows in plans.values():
            for row in rows.values():
                for op in (row.raw, row.mongocat):
                    if row.reset is not None:
                        await row.reset()
                    await op()
        # Each repetition runs every operation in short chunks, alternating the
        # contestants chunk by chunk, so that drift in the server (its caches, its
        # garbage collector, the other core's load) falls on both alike.
        for rep in range(args.reps):
            for driver, rows in plans.items():
                for name, row in rows.items():
                    chunks = max(2, args.chunks // 4) if row.heavy else args.chunks
                    for chunk in range(chunks):
                        order = [("raw", row.raw), ("mongocat", row.mongocat)]
                        if (rep + chunk) % 2:
                            order.reverse()
                        for who, op in order:
                            if row.reset is not None:
                                await row.reset()
                            samples.setdefault((name, driver, who), []).append(await timed(op))
                            for exporter in _EXPORTERS:
                                exporter.clear()
    finally:
        await clients["pymongo"].drop_database(DATABASE)
        await clients["pymongo"].close()
        clients["motor"].close()
    return samples, plans["pymongo"]


def medians(samples: Samples, name: str, driver: str, who: str) -> tuple[float, float]:
    """The median wall-clock and CPU seconds of one contestant's chunks."""
    walls, cpus = zip(*samples[(name, driver, who)], strict=True)
    return statistics.median(walls), statistics.median(cpus)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7, help="repetitions (at least 5)")
    parser.add_argument("--chunks", type=int, default=10, help="alternating chunks per rep")
    parser.add_argument("--calls", type=int, default=100, help="single-doc calls per chunk")
    parser.add_argument(
        "--finds", type=int, default=3, help="many-document finds and inserts per chunk"
    )
    parser.add_argument("--bulk", type=int, default=10_000, help="documents per bulk insert")
    parser.add_argument(
        "--repeat", type=int, default=1, help="full runs; the table gives their medians"
    )
    parser.add_argument(
        "--telemetry",
        action="store_true",
        help="also measure some rows with mongocat.telemetry recording (in memory)",
    )
    args = parser.parse_args()
    if args.reps < 5:
        parser.error("--reps must be at least 5")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    runs: list[Samples] = []
    with server_uri() as (uri, server_note):
        for _ in range(args.repeat):
            samples, rows = await measure(uri, args)
            runs.append(samples)

    print(f"mongocat {mongocat.__version__} overhead benchmark")
    print(
        f"Python {platform.python_version()}, pymongo {pymongo.version}, motor {motor.version}, "
        f"{os.cpu_count()} CPUs; server: {server_note}; {args.reps} repetitions, medians"
        + (f" of {args.repeat} full runs" if args.repeat > 1 else "")
        + "\n"
    )
    print(
        "| operation | driver | raw ops/s | mongocat ops/s | time ratio "
        "| client CPU µs/op, raw | mongocat | client CPU ratio |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    worst_time = worst_cpu = recorded = 0.0
    for name, row in rows.items():
        for driver in ("pymongo", "motor"):
            # Per full run: each contestant's medians; then the median over the runs.
            per_run = [
                (medians(samples, name, driver, "raw"), medians(samples, name, driver, "mongocat"))
                for samples in runs
            ]
            raw_wall = statistics.median(r[0][0] for r in per_run)
            mc_wall = statistics.median(r[1][0] for r in per_run)
            raw_cpu = statistics.median(r[0][1] for r in per_run)
            mc_cpu = statistics.median(r[1][1] for r in per_run)
            time_ratio = statistics.median(r[1][0] / r[0][0] for r in per_run)
            cpu_ratio = statistics.median(r[1][1] / r[0][1] for r in per_run)
            if name.endswith("(telemetry)"):
                recorded = max(recorded, cpu_ratio)
            else:
                worst_time, worst_cpu = max(worst_time, time_ratio), max(worst_cpu, cpu_ratio)
            print(
                f"| {name} | {driver} | {row.count / raw_wall:,.0f} | {row.count / mc_wall:,.0f} "
                f"| {time_ratio:.3f} | {raw_cpu / row.count * 1e6:,.0f} "
                f"| {mc_cpu / row.count * 1e6:,.0f} | {cpu_ratio:.3f} |"
            )
    print(
        "\ntime ratio: mongocat's median wall-clock time over the raw driver's; client CPU: "
        "this process's CPU time per call (the server runs in another process), and its "
        "ratio. With --repeat, each figure is the median over the full runs."
    )
    print(f"worst time ratio: {worst_time:.3f}; worst client CPU ratio: {worst_cpu:.3f}")
    if args.telemetry:
        print(f"worst client CPU ratio with telemetry recording: {recorded:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
