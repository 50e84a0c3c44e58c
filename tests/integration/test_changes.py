"""Change streams over the wire, on both drivers."""

import asyncio
from pathlib import Path
from typing import Any, TypedDict

import pytest

from mongocat import (
    Catalogue,
    ChangeEvent,
    ChangeStreamError,
    ChangeStreamHistoryLost,
    ChangeStreamInvalidated,
    CollectionCheckpoint,
    ConfigurationError,
    F,
    Index,
    MemoryCheckpoint,
    Namespace,
    NetworkError,
    OperationFailed,
    Pipeline,
    ServerUnavailable,
    UpdateDescription,
)
from mongocat.embedded import EmbeddedServer
from mongocat.testing import CommandRecorder, fail_point


class Product(TypedDict, total=False):
    _id: int
    sku: str
    price: float


async def next_event(stream: Any, within: float = 10) -> ChangeEvent[Any]:
    """The stream's next event, failing the test instead of hanging."""
    event: ChangeEvent[Any] = await asyncio.wait_for(anext(stream), within)
    return event


async def test_insert_update_replace_delete_arrive_typed(catalogue: Catalogue) -> None:
    products = catalogue.collection("products", Product)
    await products.insert_one({"_id": 0, "sku": "seed"})  # the collection exists
    async with products.watch(full_document="updateLookup") as stream:
        await products.insert_one({"_id": 1, "sku": "W-1", "price": 9.5})
        inserted = await next_event(stream)
        await products.update_one(F._id == 1, {"$set": {"price": 7.0}, "$unset": {"sku": ""}})
        updated = await next_event(stream)
        await products.replace_one(F._id == 1, {"sku": "W-2", "price": 1.0})
        replaced = await next_event(stream)
        await products.delete_one(F._id == 1)
        deleted = await next_event(stream)

    assert inserted.operation_type == "insert"
    assert inserted.full_document == {"_id": 1, "sku": "W-1", "price": 9.5}
    assert inserted.document_key == {"_id": 1}
    assert inserted.namespace == Namespace(catalogue.name, "products")
    assert inserted.update_description is None
    assert inserted.cluster_time is not None
    assert "_data" in inserted.resume_token

    assert updated.operation_type == "update"
    assert updated.update_description == UpdateDescription({"price": 7.0}, ["sku"], [])
    assert updated.full_document == {"_id": 1, "price": 7.0}  # updateLookup

    assert replaced.operation_type == "replace"
    assert replaced.full_document == {"_id": 1, "sku": "W-2", "price": 1.0}

    assert deleted.operation_type == "delete"
    assert deleted.document_key == {"_id": 1}
    assert deleted.full_document is None
    tokens = [e.resume_token for e in (inserted, updated, replaced, deleted)]
    assert len({str(t) for t in tokens}) == 4


async def test_default_full_document_leaves_updates_without_it(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": 1, "n": 0})
    async with items.watch() as stream:
        await items.update_one(F._id == 1, {"$inc": {"n": 1}})
        event = await next_event(stream)
    assert (event.operation_type, event.full_document) == ("update", None)


async def test_a_filter_or_a_pipeline_selects_events(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": 0})
    async with (
        items.watch(F.operationType == "delete") as deletes,
        items.watch(Pipeline().match(F.fullDocument.kind == "b")) as kind_b,
        items.watch([{"$match": {"documentKey._id": 2}}]) as second,
    ):
        await items.insert_many([{"_id": 1, "kind": "a"}, {"_id": 2, "kind": "b"}])
        await items.delete_one(F._id == 1)
        assert (await next_event(deletes)).document_key == {"_id": 1}
        assert (await next_event(kind_b)).document_key == {"_id": 2}
        assert (await next_event(second)).operation_type == "insert"


async def test_the_database_stream_sees_every_collection(catalogue: Catalogue) -> None:
    await catalogue.collection("a").insert_one({"_id": 0})
    await catalogue.collection("b").insert_one({"_id": 0})
    async with catalogue.watch(F.operationType == "insert") as stream:
        await catalogue.collection("a").insert_one({"_id": 1})
        await catalogue.collection("b").insert_one({"_id": 2})
        first, second = await next_event(stream), await next_event(stream)
    assert [first.namespace, second.namespace] == [
        Namespace(catalogue.name, "a"),
        Namespace(catalogue.name, "b"),
    ]


async def test_resume_after_and_start_at_replay_from_a_point(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": 0})
    async with items.watch() as stream:
        await items.insert_many([{"_id": i} for i in range(1, 4)])
        first = await next_event(stream)
        await next_event(stream)
    async with items.watch(resume_after=first.resume_token) as replay:
        assert (await next_event(replay)).document_key == {"_id": 2}
        assert (await next_event(replay)).document_key == {"_id": 3}
    assert first.cluster_time is not None
    async with items.watch(start_at=first.cluster_time) as replay:
        assert (await next_event(replay)).document_key == {"_id": 1}


async def test_a_stream_must_be_opened_and_options_are_checked(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    stream = items.watch()
    with pytest.raises(ChangeStreamError, match="async with"):
        await anext(stream)
    bad: list[dict[str, Any]] = [
        {"full_document": "always"},
        {"on_gap": "ignore"},
        {"resume_after": {"_data": "x"}, "start_at": 5},
        {"start_at": "yesterday"},
        {"resume_attempts": -1},
        {"fulldocument": "updateLookup"},
    ]
    for options in bad:
        with pytest.raises(ConfigurationError):
            items.watch(**options)
    with pytest.raises(ConfigurationError, match="stage documents"):
        items.watch(["$match"])  # type: ignore[list-item]
    await stream.close()
    with pytest.raises(ChangeStreamError, match="closed"):
        await stream.open()


async def test_watch_checkpoint_saves_each_handled_event(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": 0})
    checkpoint = MemoryCheckpoint()
    async with items.watch(checkpoint=checkpoint) as stream:
        await items.insert_many([{"_id": i} for i in range(1, 4)])
        first = await next_event(stream)
        assert checkpoint.token is None  # not handled until the next one is asked for
        second = await next_event(stream)
        assert checkpoint.token == first.resume_token
    assert checkpoint.token == second.resume_token  # a clean exit: the last one is handled

    class Failed(Exception):
        pass

    async def handle_one_and_fail() -> None:
        async with items.watch(checkpoint=checkpoint) as again:
            third = await next_event(again)  # starts after the checkpoint
            assert third.document_key == {"_id": 3}
            raise Failed

    with pytest.raises(Failed):
        await handle_one_and_fail()
    assert checkpoint.token == second.resume_token  # the failed event is not saved


async def test_consumer_restart_resumes_from_the_collection_checkpoint(
    catalogue: Catalogue,
) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": 0})
    first_run: list[int] = []
    second_run: list[int] = []
    fifty = asyncio.Event()

    async def first(event: ChangeEvent[dict[str, Any]]) -> None:
        if len(first_run) == 50:  # event 51 is started but never finished
            fifty.set()
            await asyncio.sleep(3600)
        assert event.document_key is not None
        first_run.append(event.document_key["_id"])

    checkpoint = CollectionCheckpoint(catalogue, "indexer")
    async with items.consume(first, checkpoint=checkpoint) as consumer:
        await items.insert_many([{"_id": i} for i in range(1, 101)])
        await asyncio.wait_for(fifty.wait(), 30)
        await consumer.stop(grace=0.2)
    assert first_run == list(range(1, 51))
    assert consumer.processed == 50

    caught_up, got_after = asyncio.Event(), asyncio.Event()

    async def second(event: ChangeEvent[dict[str, Any]]) -> None:
        assert event.document_key is not None
        second_run.append(event.document_key["_id"])
        if len(second_run) == 50:
            caught_up.set()
        if event.document_key["_id"] == "after":
            got_after.set()

    async with items.consume(
        second, checkpoint=CollectionCheckpoint(catalogue, "indexer")
    ) as again:
        await asyncio.wait_for(caught_up.wait(), 30)
        await items.insert_one({"_id": "after"})
        await asyncio.wait_for(got_after.wait(), 30)
    assert again.processed == 51
    assert second_run == [*range(51, 101), "after"]
    saved = await catalogue.collection("mongocat_checkpoints").find_one({"_id": "indexer"})
    assert saved is not None
    assert "_data" in saved["token"]


async def test_a_handler_error_stops_the_consumer_and_is_raised(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": 0})
    checkpoint = MemoryCheckpoint()
    handled: list[ChangeEvent[dict[str, Any]]] = []

    class Broken(Exception):
        pass

    async def handler(event: ChangeEvent[dict[str, Any]]) -> None:
        if event.document_key == {"_id": 3}:
            raise Broken("no space left")
        handled.append(event)

    async def run() -> None:
        async with items.consume(handler, checkpoint=checkpoint) as consumer:
            await items.insert_many([{"_id": i} for i in range(1, 5)])
            await consumer.wait()

    with pytest.raises(Broken, match="no space left"):
        await run()
    assert [e.document_key for e in handled] == [{"_id": 1}, {"_id": 2}]
    assert checkpoint.token == handled[-1].resume_token


async def test_stopping_an_idle_consumer_is_prompt_and_clean(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": 0})

    async def handler(event: ChangeEvent[dict[str, Any]]) -> None:
        pass

    consumer = items.consume(handler, max_await=0.2)
    async with consumer:
        assert consumer.running
    assert not consumer.running
    assert consumer.error is None
    await consumer.stop()  # twice is harmless


@pytest.mark.server_feature("fail_points")
async def test_a_dropped_connection_on_get_more_loses_and_repeats_nothing(
    catalogue: Catalogue,
) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": 0})
    async with items.watch() as stream:
        await items.insert_one({"_id": 1})
        assert (await next_event(stream)).document_key == {"_id": 1}
        async with fail_point(catalogue, "getMore", times=2, closeConnection=True):
            await items.insert_many([{"_id": 2}, {"_id": 3}])
            seen = [(await next_event(stream)).document_key for _ in range(2)]
    assert seen == [{"_id": 2}, {"_id": 3}]


@pytest.mark.server_feature("fail_points")
async def test_history_lost_raises_or_restarts_by_policy(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": 0})
    async with items.watch() as stream:
        await items.insert_one({"_id": 1})
        token = (await next_event(stream)).resume_token
    checkpoint = MemoryCheckpoint(token)
    async with fail_point(catalogue, "aggregate", errorCode=286):
        with pytest.raises(ChangeStreamHistoryLost, match="oplog") as info:
            await items.watch(checkpoint=checkpoint).open()
    assert info.value.resume_token == token
    async with fail_point(catalogue, "aggregate", errorCode=286):
        restarted = await items.watch(checkpoint=checkpoint, on_gap="restart").open()
    async with restarted:
        [gap] = restarted.gaps
        assert (gap.reason, gap.after_token) == ("history_lost", token)
        await items.insert_one({"_id": 2})
        assert (await next_event(restarted)).document_key == {"_id": 2}


async def test_an_invalidated_stream_raises_or_restarts_by_policy(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": 0})
    async with items.watch() as strict, items.watch(on_gap="restart") as lenient:
        await catalogue.drop_collection("items")
        for stream in (strict, lenient):
            kinds = [(await next_event(stream)).operation_type for _ in range(2)]
            assert kinds == ["drop", "invalidate"]
        with pytest.raises(ChangeStreamInvalidated):
            await next_event(strict)
        await items.insert_one({"_id": "again"})
        event = await next_event(lenient)
        assert (event.operation_type, event.document_key) == ("insert", {"_id": "again"})
        assert [g.reason for g in lenient.gaps] == ["invalidated"]


@pytest.fixture
def restartable_server(tmp_path: Path) -> Any:
    server = EmbeddedServer(storage_path=tmp_path / "data")
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def insert_during_restart(
    server: EmbeddedServer, cat: Catalogue, down_for: float, attempts: int
) -> list[Any]:
    """Read events while the server stops for ``down_for`` s and restarts."""
    items = cat.collection("items")
    await items.insert_one({"_id": 0})
    keys: list[Any] = []
    async with items.watch(resume_attempts=attempts, resume_backoff=0.2) as stream:
        await items.insert_many([{"_id": 1}, {"_id": 2}])
        keys.append((await next_event(stream)).document_key)
        reader = asyncio.create_task(next_event(stream, within=60))  # event 2 is waiting
        keys.append((await reader).document_key)
        reader = asyncio.create_task(next_event(stream, within=60))
        await asyncio.sleep(0.3)  # the reader is in a getMore
        await asyncio.to_thread(server.stop)
        await asyncio.sleep(down_for)
        await asyncio.to_thread(server.start)
        await items.insert_many([{"_id": 3}, {"_id": 4}])
        keys.append((await reader).document_key)
        keys.append((await next_event(stream)).document_key)
    return keys


async def test_the_stream_resumes_across_a_server_restart(
    restartable_server: EmbeddedServer, mongocat_driver: Any
) -> None:
    # The server stays down longer than server selection waits, so the driver's own
    # single resume fails and mongocat's resumes with backoff take over.
    async with Catalogue.connect(
        restartable_server.uri, "restart", driver=mongocat_driver, serverSelectionTimeoutMS=500
    ) as cat:
        keys = await insert_during_restart(restartable_server, cat, down_for=2.0, attempts=10)
    assert keys == [{"_id": 1}, {"_id": 2}, {"_id": 3}, {"_id": 4}]


async def test_without_mongocat_resumes_the_restart_is_an_error(
    restartable_server: EmbeddedServer, mongocat_driver: Any
) -> None:
    async with Catalogue.connect(
        restartable_server.uri, "restart", driver=mongocat_driver, serverSelectionTimeoutMS=500
    ) as cat:
        with pytest.raises((ServerUnavailable, NetworkError)):
            await insert_during_restart(restartable_server, cat, down_for=2.0, attempts=0)


@pytest.mark.server_feature("fail_points")
async def test_a_server_error_without_the_resumable_label_is_raised_not_resumed(
    catalogue: Catalogue,
) -> None:
    # Change streams spec, servers >= 4.4: resume only on ResumableChangeStreamError.
    # errorLabels=[] keeps a real server from adding the label to code 6 itself.
    items = catalogue.collection("items")
    await items.insert_one({"_id": 0})
    async with (
        items.watch(max_await=0.2) as stream,
        fail_point(catalogue, "getMore", times=30, errorCode=6, errorLabels=[]),
    ):
        with pytest.raises(OperationFailed) as caught:
            await next_event(stream)
    assert caught.value.code == 6
    assert not caught.value.has_error_label("ResumableChangeStreamError")


@pytest.mark.server_feature("fail_points")
async def test_a_server_error_with_the_resumable_label_is_resumed(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": 0})
    async with (
        items.watch(max_await=0.2) as stream,
        fail_point(
            catalogue,
            "getMore",
            times=2,  # the driver's own resume and one of mongocat's
            errorCode=6,
            errorLabels=["ResumableChangeStreamError"],
        ),
    ):
        await items.insert_one({"_id": 1})
        event = await next_event(stream)
    assert event.document_key == {"_id": 1}


async def test_fields_a_projection_removed_read_as_absent(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": 0})
    pipeline = [{"$project": {"operationType": 0, "ns": 0}}]
    async with items.watch(pipeline) as stream:
        await items.insert_one({"_id": 1})
        event = await next_event(stream)
    assert event.operation_type is None  # not "None"
    assert event.namespace is None
    assert event.document_key == {"_id": 1}
    assert "operationType" not in event.raw


async def test_comment_and_show_expanded_events_reach_the_server(
    catalogue_factory: Any,
) -> None:
    recorder = CommandRecorder()
    async with catalogue_factory(event_listeners=[recorder]) as cat:
        items = cat.collection("items")
        await items.insert_one({"_id": 0})
        async with items.watch(comment="audit", show_expanded_events=True) as stream:
            await items.indexes.ensure(Index("sku"))
            await items.insert_one({"_id": 1})
            kinds = [(await next_event(stream)).operation_type for _ in range(2)]
        aggregate = recorder.commands("aggregate")[-1]
        assert aggregate["comment"] == "audit"
        assert aggregate["pipeline"][0]["$changeStream"]["showExpandedEvents"] is True
    assert kinds == ["createIndexes", "insert"]


async def test_a_cluster_stream_sees_every_database(
    catalogue: Catalogue, mongocat_database_name: str
) -> None:
    other = f"{mongocat_database_name}_other"
    here = catalogue.collection("items")
    there = catalogue.client[other]["items"]
    await here.insert_one({"_id": 0})
    try:
        async with catalogue.watch(F.operationType == "insert", cluster=True) as stream:
            assert "the cluster" in repr(stream)
            await here.insert_one({"_id": 1})
            await there.insert_one({"_id": 2})
            seen = [await next_event(stream) for _ in range(2)]
    finally:
        await catalogue.client.drop_database(other)
    assert [(e.namespace.database if e.namespace else None) for e in seen] == [
        mongocat_database_name,
        other,
    ]
    assert [e.document_key for e in seen] == [{"_id": 1}, {"_id": 2}]
