"""Faults injected with mongod's failCommand, cancellation, and pool limits, on both drivers.

Retryable writes are off in the harness's URI against the embedded server (its cost
per write grows with each retryable write it serves); tests about them turn them on
for their own client.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import monitoring

from mongocat import (
    BulkWriteFailed,
    Catalogue,
    ClientTimeout,
    F,
    NetworkError,
    OperationFailed,
    PoolExhausted,
)
from mongocat.testing import CommandRecorder, fail_point

pytestmark = pytest.mark.server_feature("fail_points")


class Pool(monitoring.ConnectionPoolListener):
    """Counts connection check-outs and check-ins."""

    def __init__(self) -> None:
        self.out = 0
        self.back = 0

    def connection_checked_out(self, event: Any) -> None:
        self.out += 1

    def connection_checked_in(self, event: Any) -> None:
        self.back += 1

    def pool_created(self, event: Any) -> None: ...
    def pool_ready(self, event: Any) -> None: ...
    def pool_cleared(self, event: Any) -> None: ...
    def pool_closed(self, event: Any) -> None: ...
    def connection_created(self, event: Any) -> None: ...
    def connection_ready(self, event: Any) -> None: ...
    def connection_closed(self, event: Any) -> None: ...
    def connection_check_out_started(self, event: Any) -> None: ...
    def connection_check_out_failed(self, event: Any) -> None: ...


@pytest.fixture
async def retrying(catalogue_factory: Any) -> AsyncIterator[Catalogue]:
    """A Catalogue with the drivers' defaults: retryable reads and writes on."""
    async with catalogue_factory(retryWrites=True) as cat:
        yield cat


@pytest.mark.parametrize("command", ["insert", "update", "delete", "find"])
async def test_a_dropped_connection_is_retried_once_without_duplicates(
    retrying: Catalogue, command: str
) -> None:
    items = retrying.collection("items")
    await items.insert_many([{"_id": "keep", "n": 0}, {"_id": "gone"}])
    async with fail_point(retrying, command, closeConnection=True):
        if command == "insert":
            await items.insert_one({"_id": "new"})
        elif command == "update":
            await items.update_one(F._id == "keep", {"$inc": {"n": 1}})
        elif command == "delete":
            await items.delete_one(F._id == "gone")
        else:
            assert await items.find_one(F._id == "keep") is not None
    expected = {
        "insert": ["gone", "keep", "new"],
        "update": ["gone", "keep"],
        "delete": ["keep"],
        "find": ["gone", "keep"],
    }[command]
    assert sorted(await items.distinct("_id")) == expected
    kept = await items.find_one(F._id == "keep")
    assert kept is not None
    assert kept["n"] == (1 if command == "update" else 0)  # incremented exactly once


@pytest.mark.parametrize("write", ["insert_one", "bulk_insert"])
async def test_run_transaction_retries_the_function_on_a_transient_write_error(
    catalogue: Catalogue, write: str
) -> None:
    orders = catalogue.collection("orders")
    await orders.insert_one({"_id": "seed"})
    calls = 0

    async def place() -> None:
        nonlocal calls
        calls += 1
        if write == "insert_one":
            await orders.insert_one({"_id": "order"})
        else:  # a whole refused batch must keep the label too
            await orders.bulk_insert([{"_id": "order"}])

    async with fail_point(
        catalogue, "insert", errorCode=112, errorLabels=["TransientTransactionError"]
    ):
        await catalogue.run_transaction(place, timeout=30)
    assert calls == 2
    assert await orders.count(F._id == "order") == 1


async def test_run_transaction_does_not_retry_other_server_errors(catalogue: Catalogue) -> None:
    orders = catalogue.collection("orders")
    await orders.insert_one({"_id": "seed"})
    calls = 0

    async def place() -> None:
        nonlocal calls
        calls += 1
        await orders.insert_one({"_id": "order"})

    async with fail_point(catalogue, "insert", errorCode=2):  # BadValue: not transient
        with pytest.raises(OperationFailed) as info:
            await catalogue.run_transaction(place, timeout=30)
    assert info.value.code == 2
    assert calls == 1
    assert await orders.count(F._id == "order") == 0


@pytest.mark.parametrize("ordered", [True, False], ids=["ordered", "unordered"])
async def test_a_network_error_in_the_middle_batch_is_resent_exactly_once(
    catalogue: Catalogue, ordered: bool
) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": "seed"})
    async with items.bulk(batch_size=1_000, ordered=ordered) as bulk:
        for i in range(1_000):
            await bulk.insert_one({"n": i})  # the first batch goes out here
        async with fail_point(catalogue, "insert", closeConnection=True):
            for i in range(1_000, 2_000):
                await bulk.insert_one({"n": i})  # the second fails once and is resent
        for i in range(2_000, 3_000):
            await bulk.insert_one({"n": i})
    summary = bulk.result
    assert (summary.inserted_count, summary.errors, summary.in_doubt) == (3_000, (), ())
    # The failed batch is resent by the driver when retryable writes are on (the
    # drivers' default), else by mongocat.
    assert summary.batches == (3 if catalogue.client.options.retry_writes else 4)
    assert await items.count(F.n.exists()) == 3_000
    assert len(await items.distinct("n")) == 3_000


@pytest.mark.parametrize("ordered", [True, False], ids=["ordered", "unordered"])
async def test_a_refused_middle_batch_is_reported_by_global_index(
    catalogue: Catalogue, ordered: bool
) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": "seed"})
    bulk = items.bulk(batch_size=1_000, ordered=ordered, raise_on_error=False)
    async with bulk:
        for i in range(1_000):
            await bulk.insert_one({"n": i})
        async with fail_point(catalogue, "insert", errorCode=2):
            for i in range(1_000, 2_000):
                await bulk.insert_one({"n": i})
        if not ordered:  # an ordered writer stops at its first failure
            for i in range(2_000, 3_000):
                await bulk.insert_one({"n": i})
    summary = bulk.result
    stored = await items.count(F.n.exists())
    assert stored == summary.inserted_count
    if ordered:
        assert summary.failed_indexes == (1_000,)
        assert summary.not_run == range(1_001, 2_000)
        assert stored == 1_000
    else:
        assert summary.failed_indexes == tuple(range(1_000, 2_000))
        assert {e.code for e in summary.errors} == {2}
        assert summary.not_run == range(0)
        assert stored == 2_000
    # Every operation queued is accounted for: applied, failed, or never run.
    queued = 2_000 if ordered else 3_000
    assert stored + len(summary.errors) + len(summary.not_run) == queued


async def test_an_operation_past_the_client_timeout_fails_and_the_pool_recovers(
    catalogue_factory: Any,
) -> None:
    async with catalogue_factory(timeoutMS=500) as cat:
        items = cat.collection("items")
        await items.insert_one({"_id": 1})
        async with fail_point(cat, "find", blockConnection=True, blockTimeMS=1_500):
            with pytest.raises(ClientTimeout, match="client's timeout"):
                await items.find_one(F._id == 1)
        assert await items.find_one(F._id == 1) == {"_id": 1}


async def test_an_exhausted_pool_gives_a_clear_error(catalogue_factory: Any) -> None:
    async with catalogue_factory(
        maxPoolSize=1,
        waitQueueTimeoutMS=200,
    ) as cat:
        items = cat.collection("items")
        await items.insert_one({"_id": 1})
        async with fail_point(cat, "find", blockConnection=True, blockTimeMS=1_000):
            results = await asyncio.gather(
                items.find_one(F._id == 1), items.find_one(F._id == 1), return_exceptions=True
            )
        # Which of the two gets the one connection is up to the driver (Motor hands
        # the calls to threads, so the second can win); exactly one of them must.
        served = [r for r in results if not isinstance(r, BaseException)]
        starved = [r for r in results if isinstance(r, BaseException)]
        assert served == [{"_id": 1}]
        assert len(starved) == 1
        assert isinstance(starved[0], PoolExhausted)
        assert "maxPoolSize" in str(starved[0])


async def test_a_thousand_concurrent_operations_share_ten_connections(
    catalogue_factory: Any,
) -> None:
    pool = Pool()
    async with catalogue_factory(
        maxPoolSize=10,
        event_listeners=[pool],
    ) as cat:
        items = cat.collection("items")

        async def work(i: int) -> None:
            if i % 2:
                await items.insert_one({"_id": i})
            else:
                await items.find_one(F._id == i - 1)

        await asyncio.wait_for(asyncio.gather(*(work(i) for i in range(1_000))), 120)
        assert await items.count() == 500
    assert pool.out == pool.back


async def test_a_task_cancelled_in_a_transaction_aborts_it(catalogue_factory: Any) -> None:
    recorder, pool = CommandRecorder(), Pool()
    async with catalogue_factory(
        event_listeners=[recorder, pool],
    ) as cat:
        orders = cat.collection("orders")
        await orders.insert_one({"_id": "seed"})
        inside = asyncio.Event()

        async def place() -> None:
            async with cat.transaction():
                await orders.insert_one({"_id": "order"})
                inside.set()
                await asyncio.sleep(3_600)

        task = asyncio.create_task(place())
        await inside.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await orders.count(F._id == "order") == 0
        assert len(recorder.commands("abortTransaction")) == 1
        # Nothing holds the write: a new transaction takes the same _id at once.
        async with cat.transaction():
            await orders.insert_one({"_id": "order"})
        assert await orders.count(F._id == "order") == 1
    assert pool.out == pool.back


async def test_a_bulk_writer_cancelled_mid_flush_says_what_is_in_doubt(
    catalogue_factory: Any,
) -> None:
    pool = Pool()
    async with catalogue_factory(event_listeners=[pool]) as cat:
        items = cat.collection("items")
        await items.insert_one({"_id": "seed"})
        bulk = items.bulk(batch_size=1_000)
        first_sent, armed = asyncio.Event(), asyncio.Event()

        async def load() -> None:
            async with bulk:
                for i in range(1_000):
                    await bulk.insert_one({"n": i})  # the first batch goes out
                first_sent.set()
                await armed.wait()
                for i in range(1_000, 3_000):
                    await bulk.insert_one({"n": i})

        task = asyncio.create_task(load())
        await first_sent.wait()
        async with fail_point(cat, "insert", blockConnection=True, blockTimeMS=1_000):
            armed.set()
            await asyncio.sleep(0.3)  # the second batch is blocked on the server
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        summary = bulk.result
        assert summary.inserted_count == 1_000
        assert summary.in_doubt == tuple(range(1_000, 2_000))
        assert summary.errors == ()
        await asyncio.sleep(1.5)  # let the server finish what it was sent
        stored = await items.count(F.n.exists())
        assert stored in (1_000, 2_000)  # in doubt: applied or not, never in part
    assert pool.out == pool.back


async def test_fail_points_with_the_wrong_error_are_not_retried_by_bulk(
    catalogue: Catalogue,
) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": "seed"})
    async with fail_point(catalogue, "insert", errorCode=2):
        with pytest.raises(BulkWriteFailed) as info:
            await items.bulk_insert({"n": i} for i in range(10))
    assert info.value.result.failed_indexes == (0,)
    assert info.value.result.not_run == range(1, 10)


async def test_a_network_error_says_what_is_safe_for_a_read_and_for_a_write(
    catalogue: Catalogue,
) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": "keep"})
    # Twice: once for the operation, once for the driver's one retry (if it retries).
    async with fail_point(catalogue, "find", times=2, closeConnection=True):
        with pytest.raises(NetworkError, match="the read changed nothing: retry it"):
            await items.find_one(F._id == "keep")
    async with fail_point(catalogue, "insert", times=2, closeConnection=True):
        with pytest.raises(NetworkError) as caught:
            await items.insert_one({"_id": "new"})
    if catalogue.client.options.retry_writes:
        assert caught.value.has_error_label("RetryableWriteError")
        assert "the driver already retried it once" in str(caught.value)
    else:
        assert "may or may not have been applied" in str(caught.value)
        assert "idempotent" in str(caught.value)


async def test_a_resent_insert_batch_reports_a_real_duplicate_as_failed(
    catalogue: Catalogue,
) -> None:
    items = catalogue.collection("items")
    await items.driver_collection.create_index("user_id", unique=True)  # named user_id_1
    await items.insert_many([{"_id": "x", "user_id": 1}, {"user_id": 7}])
    batch = [{"user_id": 7}, {"_id": "x", "user_id": 8}, {"user_id": 9}]
    async with fail_point(catalogue, "insert", closeConnection=True):
        with pytest.raises(BulkWriteFailed) as caught:
            await items.bulk_insert(batch, ordered=False)
    summary = caught.value.result
    # Only {"user_id": 9} is new: the user_id 7 clash and the caller's existing _id "x"
    # are real duplicates, whoever resent the batch (the driver or mongocat).
    assert summary.inserted_count == 1
    assert summary.failed_indexes == (0, 1)
    assert {e.code for e in summary.errors} == {11000}
    resent_by_mongocat = not catalogue.client.options.retry_writes
    # mongocat cannot tell a caller's _id stored by its first attempt from one already
    # there: in doubt. Its own generated _ids never are.
    assert summary.in_doubt == ((1,) if resent_by_mongocat else ())
    assert await items.count() == 3


async def test_a_write_concern_error_max_time_ms_expired_is_a_client_timeout(
    catalogue: Catalogue,
) -> None:
    # CSOT specification: a writeConcernError MaxTimeMSExpired (code 50) is a timeout.
    items = catalogue.collection("items")
    concern_error = {"code": 50, "errmsg": "operation exceeded time limit"}
    async with fail_point(catalogue, "insert", writeConcernError=concern_error):
        with pytest.raises(ClientTimeout) as caught:
            await items.insert_one({"_id": 1})
    assert caught.value.details.get("code") == 50
    assert "write concern was not satisfied" in str(caught.value)


async def test_a_bulk_batch_that_fails_twice_keeps_the_retryable_write_label(
    catalogue: Catalogue,
) -> None:
    items = catalogue.collection("items")
    async with fail_point(catalogue, "insert", times=10, closeConnection=True):
        with pytest.raises(BulkWriteFailed) as caught:
            await items.bulk_insert(({"n": i} for i in range(10)), retries=1)
    error = caught.value
    assert error.result.in_doubt == tuple(range(10))
    if catalogue.client.options.retry_writes:  # the driver labels the failed retry
        assert error.has_error_label("RetryableWriteError")
    assert isinstance(error.driver_error, Exception)
