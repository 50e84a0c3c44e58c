"""The server goes away mid-operation: how long until the caller knows, and until it recovers.

Usage:
    python benchmarks/outage.py [--driver pymongo|motor|both] [--deadline 2.0]
                                [--skip-no-deadline]

For each row the embedded server is stopped (SIGTERM; its process ends within
milliseconds) while the operation runs, and the script prints the time from the stop
to the caller's error and that error's type; then the server is started again on the
same port and the script prints the time from its start to the first successful
``find_one`` through the same Catalogue, nothing restarted.

Each row runs twice: with no deadline (the drivers' defaults: serverSelectionTimeoutMS
30 s), and with a ``--deadline`` (``timeout=`` on the call, ``cat.timeout()`` for the
loop, ``install_request_deadline`` for the FastAPI app). Retryable writes are off
(the stand-in's quirk); with them on, the driver resends a write once, inside the
same deadline.

Rows:
    bulk_insert   ``bulk_insert`` of 50,000 documents (batches of 1,000)
    insert_many   one ``insert_many`` of 50,000 documents
    find_one      a loop of ``find_one`` calls
    fastapi       a request to the example service (``GET /products``)
    shutdown      the example service's lifespan shutdown, after the stop
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx

import mongocat
from mongocat import Catalogue, DriverName, MongocatError
from mongocat.embedded import EmbeddedServer
from mongocat.fastapi import install_request_deadline, lifespan

sys.path.insert(0, ".")
from examples.catalogue_api.app import create_app

#: How long after an operation starts the server is stopped, in seconds.
STOP_AFTER = 0.3
DOCUMENTS = 50_000


class Outage:
    """One embedded server and one Catalogue on it, for one row."""

    def __init__(self, driver: DriverName) -> None:
        self.server = EmbeddedServer(enable_test_commands=False).start()
        self.cat = Catalogue.connect(self.server.uri, "outage", driver=driver)
        self.stopped_at = 0.0

    async def stop_soon(self) -> None:
        await asyncio.sleep(STOP_AFTER)
        await asyncio.to_thread(self.server.stop)
        self.stopped_at = time.monotonic()

    async def recovery(self) -> float:
        """Start the server on the same port; seconds until a find_one succeeds."""
        started = time.monotonic()
        await asyncio.to_thread(self.server.start)
        while True:
            try:
                await self.cat.collection("items").find_one(timeout=1.0)
                return time.monotonic() - started
            except MongocatError:
                await asyncio.sleep(0.01)

    async def close(self) -> None:
        await self.cat.close()
        self.server.stop()


async def row(
    name: str, driver: DriverName, deadline: float | None
) -> tuple[str, float, float | None]:
    """Run one row: (the error's type, seconds from the stop to it, recovery seconds)."""
    outage = Outage(driver)
    items = outage.cat.collection("items")
    await items.insert_one({"_id": "seed"})
    documents = ({"n": i, "pad": "x" * 100} for i in range(DOCUMENTS))
    operation: Callable[[], Awaitable[Any]]
    recover = True
    if name == "bulk_insert":

        def operation() -> Awaitable[Any]:
            return items.bulk_insert(documents, timeout=deadline)

    elif name == "insert_many":
        many = list(documents)

        def operation() -> Awaitable[Any]:
            return items.insert_many(many, timeout=deadline)

    elif name == "find_one":

        async def operation() -> None:
            while True:
                if deadline is None:
                    await items.find_one({"_id": "seed"})
                else:
                    async with outage.cat.timeout(deadline):
                        await items.find_one({"_id": "seed"})

    elif name == "fastapi":
        app = create_app(outage.cat, freeze_gc=False)
        if deadline is not None:
            install_request_deadline(app, deadline)
        transport = httpx.ASGITransport(app)
        client = httpx.AsyncClient(transport=transport, base_url="http://api.test")
        context = app.router.lifespan_context(app)
        await context.__aenter__()

        async def operation() -> None:
            while True:
                response = await client.get("/products")
                if response.status_code >= 500:
                    raise RuntimeError(f"HTTP {response.status_code}")

    else:  # shutdown
        recover = False
        app = create_app(freeze_gc=False)
        own = Catalogue.connect(outage.server.uri, "outage", driver=driver)
        managed: AbstractAsyncContextManager[None] = lifespan(lambda: own)(app)
        await managed.__aenter__()
        await asyncio.to_thread(outage.server.stop)
        outage.stopped_at = time.monotonic()
        await managed.__aexit__(None, None, None)
        elapsed = time.monotonic() - outage.stopped_at
        await outage.close()
        return "none (shut down)", elapsed, None

    stopper = asyncio.ensure_future(outage.stop_soon())
    try:
        await operation()
        error = "none"
    except (MongocatError, RuntimeError) as exc:
        error = type(exc).__name__ if not isinstance(exc, RuntimeError) else str(exc)
    await stopper
    elapsed = time.monotonic() - outage.stopped_at
    recovered = await outage.recovery() if recover else None
    if name == "fastapi":
        await context.__aexit__(None, None, None)
        await client.aclose()
    await outage.close()
    return error, elapsed, recovered


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--driver", choices=["pymongo", "motor", "both"], default="both")
    parser.add_argument("--deadline", type=float, default=2.0)
    parser.add_argument("--skip-no-deadline", action="store_true")
    args = parser.parse_args()
    drivers: list[DriverName] = ["pymongo", "motor"] if args.driver == "both" else [args.driver]
    deadlines: list[float | None] = [None, args.deadline]
    if args.skip_no_deadline:
        deadlines = [args.deadline]
    print(
        f"mongocat {mongocat.__version__}, Python {platform.python_version()}, "
        f"embedded server, retryWrites=false; stop {STOP_AFTER} s into each operation"
    )
    print()
    print(
        "| operation | driver | deadline | caller got | after the stop "
        "| first success after restart |"
    )
    print("|---|---|---|---|---|---|")
    for name in ("bulk_insert", "insert_many", "find_one", "fastapi", "shutdown"):
        for driver in drivers:
            # A shutdown has no deadline to give; the example app has its own (5 s).
            for deadline in deadlines if name != "shutdown" else [None]:
                error, elapsed, recovered = await row(name, driver, deadline)
                shown = "none (driver defaults)" if deadline is None else f"{deadline:g} s"
                if name == "fastapi" and deadline is None:
                    shown = "the example's (5 s)"
                back = "-" if recovered is None else f"{recovered:.2f} s"
                print(
                    f"| {name} | {driver} | {shown} | {error} | {elapsed:.2f} s | {back} |",
                    flush=True,
                )


if __name__ == "__main__":
    asyncio.run(main())
