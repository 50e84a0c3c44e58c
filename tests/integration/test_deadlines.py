"""Deadlines over the wire, on both drivers: ``timeout=`` and ``cat.timeout()`` scopes.

The server holds a command with mongod's ``blockConnection`` fail point for longer
than the deadline; the caller must get a ClientTimeout naming the operation and the
deadline, soon after the deadline. Elapsed times are asserted with a bound only (the
point is "bounded", not a speed): the deadline plus ``GRACE``, against a block of
``BLOCK`` seconds that an unbounded call would wait out.
"""

import asyncio
import io
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mongocat import (
    BulkWriteFailed,
    BulkWriteTimeout,
    Catalogue,
    ClientTimeout,
    Collection,
    F,
    TransactionTimeout,
    Update,
)
from mongocat.fastapi import install_error_handlers, install_request_deadline
from mongocat.testing import CommandRecorder, fail_point

pytestmark = pytest.mark.server_feature("fail_points")

#: How long the server holds a blocked command, in milliseconds.
BLOCK = 3000
#: The deadline the tests give, in seconds.
DEADLINE = 0.5
#: How long after the deadline the error may arrive.
GRACE = 0.25


def blocked(cat: Catalogue, *commands: str, times: int = 1) -> Any:
    """The server holds the next ``times`` of ``commands`` for BLOCK ms."""
    return fail_point(cat, list(commands), times=times, blockConnection=True, blockTimeMS=BLOCK)


async def timed_out(call: Callable[[], Awaitable[Any]]) -> tuple[ClientTimeout, float]:
    """Run ``call``, which must raise ClientTimeout; return it and the elapsed time."""
    started = time.monotonic()
    with pytest.raises(ClientTimeout) as info:
        await call()
    return info.value, time.monotonic() - started


@pytest.fixture
async def items(catalogue: Catalogue) -> Collection[dict[str, Any]]:
    collection = catalogue.collection("items")
    await collection.insert_many([{"_id": i, "n": i} for i in range(10)])
    return collection


async def test_find_one_with_timeout_fails_soon_after_it(
    catalogue: Catalogue, items: Collection[dict[str, Any]]
) -> None:
    async with blocked(catalogue, "find"):
        error, elapsed = await timed_out(lambda: items.find_one(F.n == 1, timeout=DEADLINE))
    assert DEADLINE * 0.9 <= elapsed < DEADLINE + GRACE
    assert f"find_one on '{items.full_name}'" in str(error)
    assert "deadline of 0.5 s (set by timeout=0.5)" in str(error)
    assert error.details["operation"] == f"find_one on '{items.full_name}'"
    assert error.driver_error is not None
    assert await items.find_one(F.n == 1) == {"_id": 1, "n": 1}  # nothing left behind


async def test_insert_inside_a_scope_fails_at_the_scope_deadline(
    catalogue: Catalogue, items: Collection[dict[str, Any]]
) -> None:
    async def insert() -> None:
        async with catalogue.timeout(DEADLINE):
            await items.insert_one({"_id": "late"})

    async with blocked(catalogue, "insert"):
        error, elapsed = await timed_out(insert)
    assert elapsed < DEADLINE + GRACE
    assert f"insert_one on '{items.full_name}'" in str(error)
    assert "set by cat.timeout(0.5)" in str(error)


async def test_nested_scopes_and_timeouts_only_shorten_the_deadline(
    catalogue: Catalogue, items: Collection[dict[str, Any]]
) -> None:
    async def outer_short_inner_long() -> None:
        async with catalogue.timeout(DEADLINE), catalogue.timeout(30):
            await items.find_one(timeout=30)

    async def outer_long_inner_short() -> None:
        async with catalogue.timeout(30), catalogue.timeout(DEADLINE):
            await items.find_one()

    async def outer_long_call_short() -> None:
        async with catalogue.timeout(30):
            await items.find_one(timeout=DEADLINE)

    for case in (outer_short_inner_long, outer_long_inner_short, outer_long_call_short):
        async with blocked(catalogue, "find"):
            error, elapsed = await timed_out(case)
        assert elapsed < DEADLINE + GRACE, case.__name__
        assert "deadline of 0.5 s" in str(error), case.__name__


async def test_a_scope_restores_the_outer_deadline_and_then_none(
    catalogue: Catalogue, items: Collection[dict[str, Any]]
) -> None:
    async with catalogue.timeout(30) as outer:
        async with catalogue.timeout(5) as inner:
            assert inner.seconds == 5
            assert 4 < inner.remaining() <= 5
        async with catalogue.timeout(60) as capped:
            assert capped is outer  # the earlier deadline stays in force
        assert await items.count() == 10
    async with blocked(catalogue, "find"):  # no deadline now: the call waits it out
        started = time.monotonic()
        assert await items.find_one(F.n == 2) == {"_id": 2, "n": 2}
        assert time.monotonic() - started >= BLOCK / 1000 * 0.9


async def test_tasks_started_inside_a_scope_share_its_deadline(
    catalogue: Catalogue, items: Collection[dict[str, Any]]
) -> None:
    async def both() -> None:
        async with catalogue.timeout(DEADLINE):
            await asyncio.gather(items.find_one(F.n == 1), items.find_one(F.n == 2))

    async with blocked(catalogue, "find", times=2):
        _, elapsed = await timed_out(both)
    assert elapsed < DEADLINE + GRACE


async def test_a_deadline_already_past_sends_nothing(
    catalogue_factory: Callable[..., Catalogue],
) -> None:
    recorder = CommandRecorder()
    async with catalogue_factory(event_listeners=[recorder]) as cat:
        items = cat.collection("items")
        async with cat.timeout(0.05):
            await asyncio.sleep(0.1)
            recorder.clear()
            error, _ = await timed_out(lambda: items.update_one(F._id == 1, Update.set(n=2)))
        assert recorder.commands("update") == []
        assert f"update_one on '{items.full_name}'" in str(error)
        assert error.driver_error is None


async def test_the_driver_sends_the_time_left_as_max_time_ms(
    catalogue_factory: Callable[..., Catalogue],
) -> None:
    recorder = CommandRecorder()
    async with catalogue_factory(event_listeners=[recorder]) as cat:
        items = cat.collection("items")
        recorder.clear()
        await items.find_one(F.n == 1, timeout=5)
        (find,) = recorder.commands("find")
        assert 0 < find["maxTimeMS"] <= 5000
        recorder.clear()
        await items.find_one(F.n == 1)  # no deadline, none sent
        (find,) = recorder.commands("find")
        assert "maxTimeMS" not in find


async def test_a_cursor_timeout_bounds_its_whole_life(
    catalogue: Catalogue, items: Collection[dict[str, Any]]
) -> None:
    cursor = items.find(sort="n", batch_size=2, timeout=DEADLINE)

    async def drain() -> None:
        async with blocked(catalogue, "getMore"):
            async for _ in cursor:
                pass

    error, elapsed = await timed_out(drain)
    assert elapsed < DEADLINE + GRACE
    assert f"find on '{items.full_name}'" in str(error)


async def test_to_list_with_timeout(
    catalogue: Catalogue, items: Collection[dict[str, Any]]
) -> None:
    async with blocked(catalogue, "aggregate"):
        error, elapsed = await timed_out(
            lambda: items.aggregate([{"$match": {}}]).to_list(timeout=DEADLINE)
        )
    assert elapsed < DEADLINE + GRACE
    assert "deadline of 0.5 s" in str(error)


async def test_a_bulk_flush_past_its_deadline_says_what_is_in_doubt(
    catalogue: Catalogue,
) -> None:
    target = catalogue.collection("bulk")
    documents = [{"_id": i} for i in range(30)]
    async with blocked(catalogue, "insert"):  # the first batch is held
        started = time.monotonic()
        with pytest.raises(BulkWriteTimeout) as info:
            await target.bulk_insert(documents, batch_size=10, timeout=DEADLINE)
        elapsed = time.monotonic() - started
    assert elapsed < DEADLINE + GRACE  # and not resent: retries share the deadline
    error = info.value
    assert isinstance(error, ClientTimeout)
    assert isinstance(error, BulkWriteFailed)
    assert error.result.in_doubt == tuple(range(10))  # sent, the answer never read
    assert error.unread_from == 10  # the rest was never read, so never sent
    assert "deadline of 0.5 s" in error.result.errors[0].message


async def test_a_bulk_writer_inside_a_scope(catalogue: Catalogue) -> None:
    target = catalogue.collection("bulk")

    async def write() -> None:
        async with catalogue.timeout(DEADLINE), target.bulk(ordered=False) as bulk:
            for i in range(5):
                await bulk.insert_one({"_id": i})

    async with blocked(catalogue, "insert"):
        error, elapsed = await timed_out(write)
    assert elapsed < DEADLINE + GRACE
    assert isinstance(error, BulkWriteTimeout)
    assert error.result.in_doubt == (0, 1, 2, 3, 4)


async def test_a_transaction_past_its_deadline_is_a_client_timeout(
    catalogue: Catalogue, items: Collection[dict[str, Any]]
) -> None:
    async def move() -> None:
        await items.update_one(F._id == 1, Update.inc(n=1))
        await items.update_one(F._id == 2, Update.inc(n=-1))

    async with blocked(catalogue, "update"):
        started = time.monotonic()
        with pytest.raises(ClientTimeout) as info:
            await catalogue.run_transaction(move, timeout=DEADLINE)
        elapsed = time.monotonic() - started
    assert elapsed < DEADLINE + GRACE
    # The run's deadline cut its only attempt: the run's error, whatever label the
    # driver put on the cut operation's.
    assert isinstance(info.value, TransactionTimeout)
    assert info.value.attempts == 1
    assert isinstance(info.value.last_error, ClientTimeout)
    assert "update_one" in str(info.value.last_error)
    assert await items.find_one(F._id == 1) == {"_id": 1, "n": 1}  # nothing committed


async def test_a_transaction_block_inside_a_scope(
    catalogue: Catalogue, items: Collection[dict[str, Any]]
) -> None:
    async def move() -> None:
        async with catalogue.timeout(DEADLINE), catalogue.transaction():
            await items.update_one(F._id == 1, Update.inc(n=1))

    async with blocked(catalogue, "update"):
        error, elapsed = await timed_out(move)
    assert elapsed < DEADLINE + GRACE
    assert f"update_one on '{items.full_name}'" in str(error)
    assert await items.find_one(F._id == 1) == {"_id": 1, "n": 1}


async def test_a_gridfs_download_with_timeout(catalogue: Catalogue) -> None:
    fs = catalogue.gridfs()
    file_id = await fs.upload("a.bin", io.BytesIO(b"x" * 300_000))
    async with blocked(catalogue, "find"):
        error, elapsed = await timed_out(lambda: fs.download(file_id, timeout=DEADLINE))
    assert elapsed < DEADLINE + GRACE
    assert "download on 'fs'" in str(error)
    assert await fs.download(file_id) == b"x" * 300_000


async def test_a_fastapi_endpoint_without_timeout_code_answers_503_at_the_request_deadline(
    catalogue: Catalogue, items: Collection[dict[str, Any]]
) -> None:
    app = FastAPI()
    install_error_handlers(app)
    install_request_deadline(app, DEADLINE)

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> Any:
        return await items.find_one({"_id": item_id})  # nothing about deadlines here

    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        assert (await client.get("/items/1")).json() == {"_id": 1, "n": 1}
        async with blocked(catalogue, "find"):
            started = time.monotonic()
            response = await client.get("/items/1")
            elapsed = time.monotonic() - started
    assert elapsed < DEADLINE + GRACE
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "retry-after" in response.headers


async def test_a_gridfs_reader_read_with_timeout(catalogue: Catalogue) -> None:
    fs = catalogue.gridfs(chunk_size=1024)
    file_id = await fs.upload("b.bin", io.BytesIO(b"y" * 10_000))
    async with await fs.open(file_id) as reader:
        assert await reader.read(10, timeout=5) == b"y" * 10
        await reader.seek(5000)  # the next read fetches chunks again: held here
        async with blocked(catalogue, "find"):
            error, elapsed = await timed_out(lambda: reader.read(100, timeout=DEADLINE))
    assert elapsed < DEADLINE + GRACE
    assert "read on 'fs'" in str(error)
