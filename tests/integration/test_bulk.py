"""Bulk writes over the wire, on both drivers."""

import asyncio
from typing import Any

import pytest
from bson.codec_options import TypeEncoder, TypeRegistry

from mongocat import (
    BulkWriteFailed,
    BulkWriteSummary,
    Catalogue,
    ConfigurationError,
    F,
    InvalidDocument,
    MongocatError,
    Update,
)
from mongocat.testing import CommandRecorder, fail_point


async def test_25000_inserts_in_25_batches(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    progress: list[int] = []
    summary = await items.bulk_insert(
        ({"n": i} for i in range(25_000)),
        batch_size=1_000,
        on_progress=lambda s: progress.append(s.inserted_count),
    )
    assert (summary.inserted_count, summary.batches, summary.errors) == (25_000, 25, ())
    assert progress == [1_000 * (i + 1) for i in range(25)]
    assert await items.count() == 25_000


async def test_unordered_reports_the_global_index_of_each_failed_op(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    await items.insert_many([{"_id": "dup-a"}, {"_id": "dup-b"}, {"_id": "dup-c"}])
    docs: list[dict[str, Any]] = [{"_id": i} for i in range(25_000)]
    docs[7], docs[1_500], docs[24_999] = {"_id": "dup-a"}, {"_id": "dup-b"}, {"_id": "dup-c"}
    with pytest.raises(BulkWriteFailed) as info:
        await items.bulk_insert(docs, ordered=False, batch_size=1_000, concurrency=4)
    result = info.value.result
    assert result.failed_indexes == (7, 1_500, 24_999)
    assert {e.code for e in result.errors} == {11000}
    assert result.inserted_count == 25_000 - 3
    assert result.not_run == range(0)
    assert await items.count() == 25_000


async def test_ordered_stops_at_the_first_failure_and_says_what_never_ran(
    catalogue: Catalogue,
) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": "dup"})
    docs: list[dict[str, Any]] = [{"_id": i} for i in range(5_000)]
    docs[1_500] = {"_id": "dup"}
    with pytest.raises(BulkWriteFailed, match="never ran") as info:
        await items.bulk_insert(docs, batch_size=1_000)
    result = info.value.result
    assert result.inserted_count == 1_500
    assert result.failed_indexes == (1_500,)
    assert result.not_run.start == 1_501
    assert await items.count() == 1_501  # 1,500 plus the existing "dup"
    # The failure surfaced when the writer flushed batch 2 (#1,000..#1,999), full once
    # it took #1,999; the rest of the input was never read from the list.
    assert info.value.unread_from == 2_000
    assert "documents #2000 onwards (of 5000) were never read" in str(info.value)


async def test_a_generator_left_unread_is_named_too(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": "dup"})
    taken: list[int] = []

    def source() -> Any:
        for i in range(50_000):
            taken.append(i)
            yield {"_id": "dup"} if i == 10 else {"_id": i}

    with pytest.raises(BulkWriteFailed) as info:
        await items.bulk_insert(source(), batch_size=100)
    error = info.value
    assert error.unread_from == len(taken)  # the first one the generator never gave
    assert len(taken) < 50_000
    assert f"documents #{len(taken)} onwards were never read" in str(error)
    assert error.result.failed_indexes == (10,)


async def test_batches_are_split_by_size(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    sizes: list[int] = []
    one_mb = "x" * 1_000_000
    async with items.bulk(
        max_batch_bytes=4_000_000, on_progress=lambda s: sizes.append(s.inserted_count)
    ) as bulk:
        for i in range(20):
            await bulk.insert_one({"_id": i, "blob": one_mb})
    per_batch = [b - a for a, b in zip([0, *sizes], sizes, strict=False)]
    assert sum(per_batch) == 20
    assert max(per_batch) <= 3  # 4 x 1 MB documents would pass 4 MB with their keys
    assert bulk.result.batches == len(per_batch) >= 7


async def test_mixed_operations_and_upserts(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    async with items.bulk(batch_size=3) as bulk:
        await bulk.insert_one({"_id": 1, "n": 1})
        await bulk.insert_one({"_id": 2, "n": 2})
        await bulk.update_one(F._id == 1, Update.inc(n=10))
        await bulk.update_many(F.n > 0, Update.set(seen=True))
        await bulk.update_one(F._id == 9, Update.set(n=9), upsert=True)
        await bulk.replace_one(F._id == 2, {"_id": 2, "n": 20})
        await bulk.delete_one(F._id == 9)
        await bulk.delete_many(F.n > 100)
    result = bulk.result
    assert (result.inserted_count, result.matched_count, result.modified_count) == (2, 4, 4)
    assert (result.upserted_count, result.deleted_count) == (1, 1)
    assert list(result.upserted_ids) == [4]  # the caller's index of the upsert
    assert await items.find(sort="_id") == [{"_id": 1, "n": 11, "seen": True}, {"_id": 2, "n": 20}]


async def test_body_exception_sends_nothing_more(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")

    async def fail_midway() -> None:
        async with items.bulk(batch_size=10) as bulk:
            for i in range(25):
                await bulk.insert_one({"_id": i})
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        await fail_midway()
    assert await items.count() == 20  # the two full batches, not the queued five


async def test_async_iterable_and_no_raise(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": 3})

    async def generate() -> Any:
        for i in range(10):
            yield {"_id": i}

    summary = await items.bulk_insert(generate(), ordered=False, batch_size=4, raise_on_error=False)
    assert isinstance(summary, BulkWriteSummary)
    assert (summary.inserted_count, summary.failed_indexes) == (9, (3,))


def test_bad_options(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    with pytest.raises(ConfigurationError, match="ordered=False"):
        items.bulk(concurrency=2)
    with pytest.raises(ConfigurationError, match="batch_size"):
        items.bulk(batch_size=0)


async def test_writer_refuses_use_after_ordered_failure(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": 0})
    bulk = items.bulk(batch_size=1, raise_on_error=False)
    await bulk.insert_one({"_id": 0})
    with pytest.raises(MongocatError, match="has finished"):
        await bulk.insert_one({"_id": 1})
    assert bulk.result.failed_indexes == (0,)


@pytest.mark.server_feature("fail_points")
@pytest.mark.parametrize(
    "failure",
    [
        pytest.param({"closeConnection": True}, id="network-error"),
        pytest.param(
            {"errorCode": 91, "errorLabels": ["RetryableWriteError"]}, id="retryable-label"
        ),
    ],
)
async def test_failed_insert_batch_is_resent_without_duplicates(
    catalogue: Catalogue, failure: dict[str, Any]
) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": "seed"})
    async with fail_point(catalogue, "insert", **failure):
        summary = await items.bulk_insert(({"n": i} for i in range(3_000)), batch_size=1_000)
    assert (summary.inserted_count, summary.errors) == (3_000, ())
    # Three batches, the failed one sent twice: by the driver itself when retryable
    # writes are on (the drivers' default), else by mongocat; either way, once stored.
    assert summary.batches == (3 if catalogue.client.options.retry_writes else 4)
    assert await items.count({"n": {"$exists": True}}) == 3_000
    assert len(await items.distinct("n")) == 3_000


async def test_bulk_updates_take_an_update_pipeline(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    await items.insert_many([{"_id": 1, "qty": 2, "price": 3}, {"_id": 2, "qty": 5, "price": 1}])
    async with items.bulk() as bulk:
        await bulk.update_one(F._id == 1, [{"$set": {"total": {"$multiply": ["$qty", "$price"]}}}])
        await bulk.update_many(F.qty > 0, [{"$set": {"seen": True}}])
    assert bulk.result.matched_count == 3
    assert bulk.result.modified_count == 3
    assert await items.find(sort=[("_id", 1)]).to_list() == [
        {"_id": 1, "qty": 2, "price": 3, "total": 6, "seen": True},
        {"_id": 2, "qty": 5, "price": 1, "seen": True},
    ]


async def test_the_batch_limit_comes_from_the_drivers_handshake_when_it_has_one(
    catalogue_factory: Any,
) -> None:
    recorder = CommandRecorder()
    async with catalogue_factory(event_listeners=[recorder]) as cat:
        await cat.ping()  # the driver has met the server: its limits are known
        summary = await cat.collection("items").bulk_insert({"n": i} for i in range(10))
        assert summary.inserted_count == 10
        assert recorder.commands("hello") == []  # no command of mongocat's own


async def test_an_unacknowledged_bulk_write_reports_unknown_counts(
    catalogue: Catalogue, catalogue_factory: Any
) -> None:
    async with catalogue_factory(w=0) as fire_and_forget:
        summary = await fire_and_forget.collection("items").bulk_insert(
            ({"n": i} for i in range(100)), batch_size=40
        )
    assert summary.acknowledged is False
    assert (summary.inserted_count, summary.modified_count, summary.deleted_count) == (
        None,
        None,
        None,
    )
    assert summary.batches == 3
    # The writes were sent; an acknowledged read sees them once the server applied them.
    for _ in range(50):
        if await catalogue.collection("items").count() == 100:
            break
        await asyncio.sleep(0.1)
    assert await catalogue.collection("items").count() == 100


class Tally:
    """A value of the application's own type, stored through the client's type registry."""

    def __init__(self, n: int) -> None:
        self.n = n


class TallyEncoder(TypeEncoder):
    """Encodes a Tally as its number, counting how often documents are encoded."""

    python_type = Tally

    def __init__(self) -> None:
        self.calls = 0

    def transform_python(self, value: Tally) -> int:
        self.calls += 1
        return value.n


async def test_documents_are_encoded_with_the_clients_codec_options_once_where_it_pays(
    catalogue_factory: Any,
) -> None:
    # A bulk insert measures each batch by encoding it with the client's codecs. A
    # document of 1 KiB or more is encoded once: the driver sends those bytes. A
    # smaller one is encoded again by the driver (cheaper than wrapping its bytes).
    encoder = TallyEncoder()
    async with catalogue_factory(type_registry=TypeRegistry([encoder])) as cat:
        items = cat.collection("items")
        large = [{"n": i, "tally": Tally(i), "text": "x" * 1_100} for i in range(2_500)]
        summary = await items.bulk_insert(large, batch_size=1_000)
        assert (summary.inserted_count, summary.batches) == (2_500, 3)
        assert encoder.calls == 2_500
        stored = await items.find_one(F.tally == 7)
        assert stored == {"_id": large[7]["_id"], "n": 7, "tally": 7, "text": "x" * 1_100}

        encoder.calls = 0
        small = [{"n": i, "tally": Tally(i)} for i in range(2_500)]
        summary = await items.bulk_insert(small, batch_size=1_000)
        assert (summary.inserted_count, summary.batches) == (2_500, 3)
        assert encoder.calls == 2 * 2_500
        assert await items.count(F.tally < 2_500) == 5_000

        encoder.calls = 0
        async with items.bulk() as bulk:  # queued one by one: encoded once, whatever size
            await bulk.insert_one({"tally": Tally(1)})
            await bulk.insert_one({"tally": Tally(2)})
        await items.insert_one({"tally": Tally(1)})  # the driver encodes; mongocat does not
        await items.insert_many([{"tally": Tally(2)}, {"tally": Tally(3)}])
        assert encoder.calls == 5


async def test_a_refused_bulk_document_is_left_as_it_was(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    document = {"name": "x", "price.usd": 5}
    with pytest.raises(InvalidDocument, match=r"'price.usd' has a '\.'"):
        await items.bulk_insert([document])
    assert document == {"name": "x", "price.usd": 5}  # no _id was added to it
    assert await items.count() == 0


@pytest.mark.parametrize("source", ["list", "async generator"])
async def test_a_bad_document_mid_batch_stops_bulk_insert_there(
    catalogue: Catalogue, source: str
) -> None:
    # Batches before the bad document's are sent; its own batch is not (nothing of a
    # batch is sent once a document of it is refused), and the error names it.
    items = catalogue.collection("items")
    docs: list[dict[str, Any]] = [{"_id": i} for i in range(3_000)]
    docs[1_500] = {"_id": 1_500, "$bad": 1}

    async def agen() -> Any:
        for document in docs:
            yield document

    with pytest.raises(InvalidDocument, match=r"'\$bad' starts with '\$'"):
        await items.bulk_insert(docs if source == "list" else agen(), batch_size=1_000)
    assert await items.count() == 1_000
    assert sorted(await items.distinct("_id")) == list(range(1_000))


async def test_bulk_insert_splits_batches_by_size_too(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    sizes: list[int] = []
    one_mb = "x" * 1_000_000
    summary = await items.bulk_insert(
        ({"_id": i, "blob": one_mb} for i in range(20)),
        max_batch_bytes=4_000_000,
        on_progress=lambda s: sizes.append(s.inserted_count),
    )
    per_batch = [b - a for a, b in zip([0, *sizes], sizes, strict=False)]
    assert summary.inserted_count == sum(per_batch) == 20
    assert max(per_batch) <= 3
    assert await items.count() == 20
