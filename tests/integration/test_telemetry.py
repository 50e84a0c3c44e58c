"""OpenTelemetry spans, events, metrics and logs over the wire, on both drivers.

Each test records with the SDK's in-memory span exporter and metric reader. Failures
are injected with mongod's ``failCommand`` fail point, as MongoDB's driver tests do.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from mongocat import (
    Catalogue,
    ChangeEvent,
    DriverName,
    DuplicateKeyError,
    F,
    MongocatError,
    Update,
)
from mongocat.telemetry import Telemetry, instrument, uninstrument
from mongocat.testing import fail_point

#: A value that must never be recorded (it stands for a user's data).
CANARY = "canary-7Hq2xV"
#: A password that must never be recorded.
SECRET = "s3cret-Tm8w"


@dataclass
class Recorder:
    """A Telemetry writing to memory, and ways to read what it wrote."""

    exporter: InMemorySpanExporter = field(default_factory=InMemorySpanExporter)
    reader: InMemoryMetricReader = field(default_factory=InMemoryMetricReader)
    query_text: bool = False
    telemetry: Telemetry = field(init=False)

    def __post_init__(self) -> None:
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        meter_provider = MeterProvider(metric_readers=[self.reader])
        self.telemetry = Telemetry(
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            query_text=self.query_text,
        )

    @property
    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [span for span in self.spans if span.name == name]

    def roots(self, name: str) -> list[ReadableSpan]:
        """The spans named ``name`` that have no parent (mongocat's operations here)."""
        return [span for span in self.named(name) if span.parent is None]

    def one(self, name: str) -> ReadableSpan:
        [span] = self.roots(name)
        return span

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        assert parent.context is not None
        return [
            span
            for span in self.spans
            if span.parent is not None and span.parent.span_id == parent.context.span_id
        ]

    def points(self, metric: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        found: list[Any] = []
        if data is None:
            return found
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for item in scope.metrics:
                    if item.name == metric:
                        found.extend(item.data.data_points)
        return found

    def texts(self) -> Iterator[str]:
        """Every text recorded: span names, attributes, events, statuses, metric labels."""
        for span in self.spans:
            yield span.name
            yield str(span.status.description)
            yield from map(str, (span.attributes or {}).values())
            for event in span.events:
                yield event.name
                yield from map(str, (event.attributes or {}).values())
        data = self.reader.get_metrics_data()
        if data is not None:
            for resource in data.resource_metrics:
                for scope in resource.scope_metrics:
                    for item in scope.metrics:
                        for point in item.data.data_points:
                            yield from map(str, point.attributes.values())


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def cat(
    catalogue_factory: Callable[..., Catalogue], recorder: Recorder
) -> AsyncIterator[Catalogue]:
    async with catalogue_factory(telemetry=recorder.telemetry) as catalogue:
        yield catalogue


def attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


async def test_an_insert_is_one_span_with_its_command_as_a_child(
    cat: Catalogue, recorder: Recorder, mongocat_driver: DriverName
) -> None:
    await cat.collection("items").insert_one({"_id": 1, "name": CANARY})
    operation = recorder.one("insert_one items")
    assert attributes(operation) | {"server.port": 0} == {
        "db.system.name": "mongodb",
        "db.namespace": cat.name,
        "db.collection.name": "items",
        "db.operation.name": "insert_one",
        "server.address": attributes(operation)["server.address"],
        "server.port": 0,
    }
    assert operation.status.status_code is StatusCode.UNSET
    [command] = recorder.children(operation)
    assert command.name == "insert items"
    assert attributes(command)["db.operation.name"] == "insert"
    assert attributes(command)["server.port"] == attributes(operation)["server.port"] > 0
    [point] = [
        p
        for p in recorder.points("db.client.operation.duration")
        if p.attributes["db.operation.name"] == "insert_one"
    ]
    assert point.count == 1
    assert "error.type" not in point.attributes


async def test_a_cursor_is_one_span_with_find_and_get_more_as_children(
    cat: Catalogue, recorder: Recorder
) -> None:
    items = cat.collection("items")
    await items.insert_many([{"_id": i} for i in range(5)])
    seen = [doc["_id"] async for doc in items.find(F._id >= 0, batch_size=2)]
    assert seen == [0, 1, 2, 3, 4]
    operation = recorder.one("find items")
    commands = [span.name for span in recorder.children(operation)]
    assert commands == ["find items", "getMore items", "getMore items"]
    assert await items.find(F._id < 2).to_list() == [{"_id": 0}, {"_id": 1}]
    listed = recorder.roots("find items")
    assert len(listed) == 2  # the iterated cursor and the to_list
    assert [span.name for span in recorder.children(listed[1])] == ["find items"]


async def test_leaving_a_loop_early_ends_the_span_without_an_error(
    cat: Catalogue, recorder: Recorder
) -> None:
    items = cat.collection("items")
    await items.insert_many([{"_id": i} for i in range(5)])
    cursor = items.find(F._id >= 0, batch_size=2)
    async for _ in cursor:
        break
    await cursor.close()  # ends the operation (else the loop's end, when collected)
    [iterated] = recorder.roots("find items")
    assert iterated.status.status_code is StatusCode.UNSET
    assert [span.name for span in recorder.children(iterated)] == ["find items"]


async def test_a_failed_insert_has_an_error_status_and_no_value(
    cat: Catalogue, recorder: Recorder
) -> None:
    items = cat.collection("items")
    await items.insert_one({"_id": CANARY})
    with pytest.raises(DuplicateKeyError):
        await items.insert_one({"_id": CANARY})
    failed, ok = sorted(recorder.roots("insert_one items"), key=lambda s: s.status.is_ok)
    assert ok.status.status_code is StatusCode.UNSET
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.status.description == "DuplicateKeyError"
    assert attributes(failed)["error.type"] == "DuplicateKeyError"
    assert attributes(failed)["db.response.status_code"] == "11000"
    [point] = [
        p
        for p in recorder.points("db.client.operation.duration")
        if p.attributes.get("error.type") == "DuplicateKeyError"
    ]
    assert point.count == 1
    assert all(CANARY not in text for text in recorder.texts())


async def test_a_bulk_write_of_three_batches_has_three_batch_events(
    cat: Catalogue, recorder: Recorder
) -> None:
    items = cat.collection("items")
    async with items.bulk(batch_size=2) as bulk:
        for i in range(5):
            await bulk.insert_one({"_id": i})
        await bulk.update_one(F._id == 0, Update.set(seen=True))
    operation = recorder.one("bulk_write items")
    batches = [event for event in operation.events if event.name == "mongocat.bulk.batch"]
    assert [dict(event.attributes or {}) for event in batches] == [
        {
            "batch": n,
            "size": 2,
            "bytes": dict(event.attributes or {})["bytes"],
            "attempts": 1,
            "inserted": inserted,
            "matched": matched,
            "modified": matched,
            "deleted": 0,
            "upserted": 0,
            "errors": 0,
            "in_doubt": 0,
        }
        for n, (event, inserted, matched) in enumerate(
            zip(batches, (2, 2, 1), (0, 0, 1), strict=True), start=1
        )
    ]
    assert all(int(dict(event.attributes or {})["bytes"]) > 0 for event in batches)
    assert attributes(operation)["mongocat.bulk.operations"] == 6
    commands = [span.name for span in recorder.children(operation)]
    assert commands == ["insert items", "insert items", "insert items", "update items"]


@pytest.mark.server_feature("fail_points")
async def test_a_transaction_retried_once_shows_both_attempts(
    cat: Catalogue, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    orders = cat.collection("orders")
    await orders.insert_one({"_id": "seed"})

    async def create() -> None:
        await orders.insert_one({"_id": "once"})

    caplog.set_level(logging.WARNING, logger="mongocat")
    async with fail_point(
        cat, "insert", times=1, errorCode=112, errorLabels=["TransientTransactionError"]
    ):
        await cat.run_transaction(create, timeout=30)
    assert await orders.count(F._id == "once") == 1
    run = recorder.one(f"run_transaction {cat.name}")
    assert [event.name for event in run.events] == [
        "mongocat.transaction.attempt",
        "mongocat.transaction.retry",
        "mongocat.transaction.attempt",
    ]
    retry = dict(run.events[1].attributes or {})
    assert retry["mongocat.error.label"] == "TransientTransactionError"
    assert retry["db.response.status_code"] == "112"
    assert retry["attempt"] == 1
    first, second = sorted(recorder.children(run), key=lambda span: span.start_time or 0)
    assert (first.name, second.name) == (f"transaction {cat.name}",) * 2
    assert first.status.status_code is StatusCode.ERROR
    assert second.status.status_code is StatusCode.UNSET
    assert [span.name for span in recorder.children(second)][:1] == ["insert_one orders"]
    [retries] = recorder.points("mongocat.client.retries")
    assert (retries.value, retries.attributes["mongocat.retry.kind"]) == (1, "transaction")
    [warning] = [r for r in caplog.records if "running again" in r.getMessage()]
    assert warning.levelno == logging.WARNING
    assert warning.mongocat["event"] == "transaction.retry"  # type: ignore[attr-defined]


@pytest.mark.server_feature("fail_points")
async def test_a_commit_retried_is_an_event_on_its_attempt(
    cat: Catalogue, recorder: Recorder
) -> None:
    orders = cat.collection("orders")
    await orders.insert_one({"_id": "seed"})

    async def create() -> None:
        await orders.insert_one({"_id": "once"})

    # An unknown commit result the driver does not retry itself (not a retryable
    # code): mongocat commits again.
    async with fail_point(
        cat,
        "commitTransaction",
        times=1,
        errorCode=8,
        errorLabels=["UnknownTransactionCommitResult"],
    ):
        await cat.run_transaction(create, timeout=30)
    [attempt] = recorder.named(f"transaction {cat.name}")
    [event] = [e for e in attempt.events if e.name == "mongocat.transaction.commit_retry"]
    assert dict(event.attributes or {})["mongocat.error.label"] == "UnknownTransactionCommitResult"
    commits = [s for s in recorder.children(attempt) if s.name == "commitTransaction admin"]
    assert [s.status.status_code for s in commits] == [StatusCode.ERROR, StatusCode.UNSET]
    assert dict(commits[0].attributes or {})["db.response.status_code"] == "8"
    [retries] = recorder.points("mongocat.client.retries")
    assert (retries.value, retries.attributes["mongocat.retry.kind"]) == (1, "commit")


@pytest.mark.server_feature("fail_points")
async def test_a_change_stream_resume_is_visible(
    cat: Catalogue, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="mongocat")
    items = cat.collection("items")
    await items.insert_one({"_id": 0})
    async with items.watch() as stream:
        await items.insert_one({"_id": 1})
        assert (await asyncio.wait_for(anext(stream), 10)).document_key == {"_id": 1}
        # The getMore fails, and so do the driver's own resume and its retry of that
        # aggregate (a retryable read): mongocat resumes.
        async with fail_point(cat, ["getMore", "aggregate"], times=3, closeConnection=True):
            await items.insert_one({"_id": 2})
            event = await asyncio.wait_for(anext(stream), 10)
    assert event.document_key == {"_id": 2}
    resume = recorder.one("resume items")
    [resumed] = resume.events
    assert resumed.name == "mongocat.change_stream.resume"
    details = dict(resumed.attributes or {})
    assert details["error.type"] == "NetworkError"
    assert details["attempt"] == 1
    assert len(str(details["mongocat.change_stream.token_digest"])) == 16
    assert [span.name for span in recorder.children(resume)] == ["aggregate items"]
    [retries] = recorder.points("mongocat.client.retries")
    assert retries.attributes["mongocat.retry.kind"] == "change_stream_resume"
    assert any("resuming after NetworkError" in r.getMessage() for r in caplog.records)


async def test_a_consumer_handler_call_is_a_span_around_its_work(
    cat: Catalogue, recorder: Recorder
) -> None:
    items, audit = cat.collection("items"), cat.collection("audit")
    handled = asyncio.Event()

    async def handler(event: ChangeEvent[dict[str, Any]]) -> None:
        await audit.insert_one({"of": event.document_key})
        handled.set()

    async with items.consume(handler, max_await=0.2):
        await items.insert_one({"_id": 1})
        await asyncio.wait_for(handled.wait(), 10)
    call = recorder.one("handle items")
    assert attributes(call)["mongocat.change.operation_type"] == "insert"
    assert [span.name for span in recorder.children(call)] == ["insert_one audit"]


async def test_gridfs_transfers_carry_their_byte_counts(cat: Catalogue, recorder: Recorder) -> None:
    fs = cat.gridfs("images")
    file_id = await fs.upload("a.bin", b"x" * 1000)
    assert await fs.download(file_id) == b"x" * 1000
    upload, download = recorder.one("upload images"), recorder.one("download images")
    assert attributes(upload)["mongocat.gridfs.bytes"] == 1000
    assert attributes(download)["mongocat.gridfs.bytes"] == 1000
    assert recorder.children(upload)  # its inserts


@pytest.mark.server_feature("fail_points")
async def test_pool_waits_are_measured_under_a_one_connection_pool(
    catalogue_factory: Callable[..., Catalogue], recorder: Recorder
) -> None:
    async with catalogue_factory(telemetry=recorder.telemetry, maxPoolSize=1) as cat:
        items = cat.collection("items")
        await items.insert_one({"_id": 1})
        async with fail_point(cat, "find", times=1, blockConnection=True, blockTimeMS=400):
            # The first find holds the only connection for 400 ms; the second waits.
            await asyncio.gather(items.find_one(F._id == 1), items.find_one(F._id == 1))
        [limit] = recorder.points("db.client.connection.max")
        assert limit.value == 1
        [waits] = recorder.points("db.client.connection.wait_time")
        assert waits.count >= 4  # insert, configureFailPoint, two finds, ...
        assert waits.max >= 0.2  # the second find waited for the first
        states = {
            p.attributes["db.client.connection.state"]: p.value
            for p in recorder.points("db.client.connection.count")
        }
        assert states == {"idle": 1, "used": 0}
        [pending] = recorder.points("db.client.connection.pending_requests")
        assert pending.value == 0
        [used] = recorder.points("db.client.connection.use_time")
        assert used.max >= 0.3


async def test_operations_are_logged_at_debug_with_structured_fields(
    cat: Catalogue, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="mongocat")
    items = cat.collection("items")
    await items.insert_one({"_id": 1})
    with pytest.raises(DuplicateKeyError):
        await items.insert_one({"_id": 1})
    logged = [r.mongocat for r in caplog.records if hasattr(r, "mongocat")]  # type: ignore[attr-defined]
    operations = [fields for fields in logged if fields["event"] == "operation"]
    assert [(f["operation"], f["namespace"], f["outcome"]) for f in operations] == [
        ("insert_one", f"{cat.name}.items", "ok"),
        ("insert_one", f"{cat.name}.items", "DuplicateKeyError"),
    ]
    assert all(f["duration_ms"] > 0 for f in operations)


async def test_no_value_is_recorded_even_with_query_text(
    catalogue_factory: Callable[..., Catalogue],
) -> None:
    recorder = Recorder(query_text=True)
    async with catalogue_factory(telemetry=recorder.telemetry) as cat:
        items = cat.collection("items")
        await items.insert_one({"_id": 1, "name": CANARY, "tags": [CANARY]})
        assert await items.find_one(F.name == CANARY) is not None
        await items.update_one(F.name == CANARY, Update.set(note=CANARY))
        await items.aggregate([{"$match": {"name": CANARY}}]).to_list()
        async with items.bulk() as bulk:
            await bulk.insert_one({"_id": 2, "name": CANARY})
        with pytest.raises(DuplicateKeyError):
            await items.insert_one({"_id": 2, "name": CANARY})
    [find] = [s for s in recorder.named("find items") if s.parent is not None]
    assert attributes(find)["db.query.text"].startswith('{"find": "items", "filter": {"name": "?"}')
    texts = list(recorder.texts())
    assert any("db.query.text" in attributes(s) for s in recorder.spans)
    assert all(CANARY not in text for text in texts)


async def test_no_secret_is_recorded_when_the_server_cannot_be_reached(
    mongocat_driver: DriverName, unused_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="mongocat")
    recorder = Recorder(query_text=True)
    uri = f"mongodb://ann:{SECRET}@127.0.0.1:{unused_port}/shop"
    async with Catalogue.connect(
        uri, driver=mongocat_driver, telemetry=recorder.telemetry, serverSelectionTimeoutMS=300
    ) as cat:
        with pytest.raises(MongocatError):
            await cat.collection("items").find_one({"name": CANARY})
    [failed] = recorder.roots("find_one items")
    assert failed.status.status_code is StatusCode.ERROR
    texts = [*recorder.texts(), *(record.getMessage() for record in caplog.records)]
    texts += [str(getattr(record, "mongocat", "")) for record in caplog.records]
    assert all(SECRET not in text and CANARY not in text for text in texts)


async def test_instrumenting_an_existing_catalogue_and_stopping(
    catalogue: Catalogue, recorder: Recorder
) -> None:
    items = catalogue.collection("items")  # handed out before instrumenting
    assert instrument(catalogue, recorder.telemetry) is recorder.telemetry
    await items.insert_one({"_id": 1})
    operation = recorder.one("insert_one items")
    # Its client was made without the listeners: no command spans, no server known.
    assert recorder.children(operation) == []
    uninstrument(catalogue)
    await items.insert_one({"_id": 2})
    assert len(recorder.roots("insert_one items")) == 1
