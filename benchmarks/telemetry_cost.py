"""What recording with mongocat.telemetry costs the client per operation, no server.

Usage:
    python benchmarks/telemetry_cost.py [--calls 5000] [--reps 7]

As in ``own_cost.py``, the driver collection's writes answer at once, so a call is
mongocat's own work plus what the observer records; the least of ``--reps`` runs of
``update_one`` per setting, in microseconds of client CPU: no telemetry, spans only
(no meter provider: OpenTelemetry's no-op meter), spans and the SDK's metrics, and
spans sampled at 1 % (``TraceIdRatioBased(0.01)``). Spans go to the SDK's in-memory
exporter, emptied between runs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased
from own_cost import InstantCollection
from pymongo import AsyncMongoClient

from mongocat import Catalogue
from mongocat.telemetry import Telemetry

SETTINGS = ("no telemetry", "spans", "spans and metrics", "spans sampled at 1 %")


def telemetry(setting: str) -> tuple[Telemetry | None, InMemorySpanExporter | None]:
    """The Telemetry of one setting, and its span exporter."""
    if setting == "no telemetry":
        return None, None
    exporter = InMemorySpanExporter()
    sampled = setting == "spans sampled at 1 %"
    tracer_provider = (
        TracerProvider(sampler=TraceIdRatioBased(0.01)) if sampled else TracerProvider()
    )
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = (
        MeterProvider(metric_readers=[InMemoryMetricReader()])
        if setting == "spans and metrics"
        else None
    )
    return Telemetry(tracer_provider=tracer_provider, meter_provider=meter_provider), exporter


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    client: Any = AsyncMongoClient("mongodb://127.0.0.1:9/", connect=False)
    print("| setting | update_one, µs of client CPU | recording adds, µs |")
    print("|---|---:|---:|")
    base = None
    for setting in SETTINGS:
        recorder, exporter = telemetry(setting)
        cat = Catalogue(client, "mongocat_telemetry_cost", telemetry=recorder)
        items = cat.collection("items")
        items._driver_collection = InstantCollection(items.driver_collection)  # type: ignore[misc]
        best = float("inf")
        for _ in range(args.reps):
            start = time.process_time()
            for i in range(args.calls):
                await items.update_one({"_id": i}, {"$inc": {"stock": 1}})
            best = min(best, (time.process_time() - start) / args.calls * 1e6)
            if exporter is not None:
                exporter.clear()
        base = best if base is None else base
        print(f"| {setting} | {best:.1f} | {best - base:.1f} |")
    await client.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
