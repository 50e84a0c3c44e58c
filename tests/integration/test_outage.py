"""The server goes away and comes back, on both drivers: fail fast, recover by itself.

Each test runs its own embedded server (a separate program, as the shared one is),
stops it mid-test and starts it again on the same port; so these tests run the same
whether or not ``MONGOCAT_TEST_URI`` points elsewhere. Elapsed times are asserted
with bounds only: the point is "bounded", against the drivers' 30-second defaults.
"""

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mongocat import (
    BulkWriteFailed,
    BulkWriteTimeout,
    Catalogue,
    ClientTimeout,
    DriverName,
    NetworkError,
    ServerUnavailable,
)
from mongocat.embedded import EmbeddedServer
from mongocat.fastapi import CatalogueDep, install_error_handlers, install_request_deadline

DEADLINE = 0.5
GRACE = 0.25
#: The client's serverSelectionTimeoutMS in these tests, in seconds.
SELECTION = 1.0
#: The drivers check their own selection timeout between waits of half a second
#: (MIN_HEARTBEAT_INTERVAL); mongocat's deadlines do not wait for that.
SELECTION_STEP = 0.5
#: What a caller may get with the server gone: the first call on a pooled connection
#: fails at once (NetworkError), later ones at the deadline (ClientTimeout, a
#: NetworkError) or after server selection (ServerUnavailable).
GONE = (NetworkError, ServerUnavailable)


@pytest.fixture
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer() as running:
        yield running


@pytest.fixture
async def cat(server: EmbeddedServer, mongocat_driver: DriverName) -> AsyncIterator[Catalogue]:
    catalogue = Catalogue.connect(
        server.uri, "outage", driver=mongocat_driver, serverSelectionTimeoutMS=SELECTION * 1000
    )
    await catalogue.collection("items").insert_many([{"_id": i} for i in range(3)])
    yield catalogue
    await catalogue.close()


async def elapsed_to_error(
    call: Callable[[], Awaitable[Any]],
    error: type[BaseException] | tuple[type[BaseException], ...] = GONE,
) -> tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises(error) as info:
        await call()
    return info.value, time.monotonic() - started


async def test_with_the_server_gone_every_call_fails_within_its_deadline(
    server: EmbeddedServer, cat: Catalogue
) -> None:
    items = cat.collection("items")
    server.stop()

    async def in_scope() -> None:
        async with cat.timeout(DEADLINE):
            await items.insert_one({"_id": "x"})

    calls: list[Callable[[], Awaitable[Any]]] = [
        lambda: items.find_one(timeout=DEADLINE),
        in_scope,
        lambda: items.insert_many([{"_id": 9}], timeout=DEADLINE),
        lambda: items.bulk_insert(({"_id": i} for i in range(10, 5000)), timeout=DEADLINE),
        lambda: cat.run_transaction(lambda: items.insert_one({"_id": "t"}), timeout=DEADLINE),
    ]
    for call in calls:
        error, elapsed = await elapsed_to_error(call)
        assert elapsed < DEADLINE + GRACE, error
    # By now the pool knows: each call waits for a server until its deadline.
    for call in calls:
        error, elapsed = await elapsed_to_error(call, (ClientTimeout, BulkWriteFailed))
        assert DEADLINE * 0.9 < elapsed < DEADLINE + GRACE, error
        assert "deadline of 0.5 s" in str(error), error
    # A bulk write that sent something says what, as a BulkWriteTimeout.
    error, _ = await elapsed_to_error(calls[3], ClientTimeout)
    assert not isinstance(error, BulkWriteFailed) or isinstance(error, BulkWriteTimeout)


async def test_without_a_deadline_a_call_fails_within_the_selection_timeout_once(
    server: EmbeddedServer, cat: Catalogue
) -> None:
    items = cat.collection("items")
    server.stop()
    # The first batch fails on its dead pooled connection (a network error) and is
    # resent (retries=2): the resends share one wait for a server, rather than
    # taking the whole selection timeout each. (max_batch_bytes is given so that
    # the writer does not ask the server for its limit first.)
    error, elapsed = await elapsed_to_error(
        lambda: items.bulk_insert(({"_id": i} for i in range(10, 100)), max_batch_bytes=1_000_000),
        BulkWriteFailed,
    )
    assert elapsed < SELECTION + SELECTION_STEP + 0.3 + GRACE, error
    error, elapsed = await elapsed_to_error(lambda: items.find_one(), ServerUnavailable)
    assert elapsed < SELECTION + SELECTION_STEP + GRACE


async def test_close_with_the_server_gone_does_not_wait(
    server: EmbeddedServer, cat: Catalogue
) -> None:
    server.stop()
    await elapsed_to_error(lambda: cat.collection("items").find_one(timeout=DEADLINE))
    started = time.monotonic()
    await cat.close()
    assert time.monotonic() - started < 1.0 + GRACE


async def test_once_the_server_is_back_the_next_call_succeeds(
    server: EmbeddedServer, cat: Catalogue
) -> None:
    items = cat.collection("items")
    server.stop()
    await elapsed_to_error(lambda: items.find_one(timeout=DEADLINE))
    await elapsed_to_error(lambda: items.find_one(timeout=DEADLINE), ClientTimeout)
    server.start()  # the same port; the in-memory server starts empty
    await items.insert_one({"_id": "back"}, timeout=10)
    assert await items.find_one(timeout=10) == {"_id": "back"}


async def test_a_fastapi_request_with_the_server_gone_answers_503_within_its_deadline(
    server: EmbeddedServer, cat: Catalogue
) -> None:
    app = FastAPI()
    install_error_handlers(app, retry_after=3)
    install_request_deadline(app, DEADLINE)
    app.state.mongocat_catalogue = cat

    @app.get("/items/{item_id}")
    async def item(item_id: int, catalogue: CatalogueDep) -> Any:
        # No timeout code here: the request's deadline bounds the call.
        return await catalogue.collection("items").find_one({"_id": item_id})

    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        assert (await client.get("/items/1")).json() == {"_id": 1}
        server.stop()
        for _ in range(2):  # the first fails on its pooled connection, the next waits
            started = time.monotonic()
            response = await client.get("/items/1")
            elapsed = time.monotonic() - started
            assert elapsed < DEADLINE + 0.1 + GRACE
            assert response.status_code == 503
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["retry-after"] == "3"
        assert "deadline" in response.json()["detail"]
        started = time.monotonic()
        response = await client.get("/items/1", headers={"X-Request-Timeout": "0.2"})
        assert time.monotonic() - started < 0.2 + 0.1 + GRACE
        assert response.status_code == 503
