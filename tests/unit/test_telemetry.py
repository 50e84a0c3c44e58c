"""The observation seam and the OpenTelemetry observer, without a server."""

import contextlib
import json
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from pymongo import monitoring

from mongocat import (
    Catalogue,
    ClientTimeout,
    DuplicateKeyError,
    Observation,
    ObservedCatalogue,
    Observer,
)
from mongocat._deadlines import bound
from mongocat._observe import (
    NOTHING_OBSERVED,
    error_attributes,
    observed,
    retry_attributes,
    token_digest,
)
from mongocat.telemetry import Telemetry, _split, query_shape

CANARY = "canary-Pq4"


# -- the seam --------------------------------------------------------------------


class Recording(Observation):
    def __init__(self, log: list[tuple[str, Any]]) -> None:
        self.log = log

    @contextlib.contextmanager
    def _active(self) -> Iterator[None]:
        self.log.append(("activate", None))
        try:
            yield
        finally:
            self.log.append(("deactivate", None))

    def activate(self) -> contextlib.AbstractContextManager[object]:
        return self._active()

    def event(self, name: str, attributes: Mapping[str, Any]) -> None:
        self.log.append(("event", name))

    def end(self, error: BaseException | None = None) -> None:
        self.log.append(("end", error))


class Watching(Observer):
    def __init__(self) -> None:
        self.log: list[tuple[str, Any]] = []

    def begin(self, operation: str, namespace: str | None) -> Observation:
        self.log.append(("begin", (operation, namespace)))
        return Recording(self.log)


class Instrumented:
    def __init__(self) -> None:
        self.observer_ = Watching()
        self.seen: list[ObservedCatalogue] = []

    def listeners(self) -> list[Any]:
        return []

    def observer(self, catalogue: ObservedCatalogue) -> Observer:
        self.seen.append(catalogue)
        return self.observer_


def test_the_base_observer_and_observation_record_nothing() -> None:
    observer = Observer()
    assert observer.begin("find", "shop.items") is NOTHING_OBSERVED
    assert observer.event("x", {}) is None
    assert observer.annotate({"a": 1}) is None
    with NOTHING_OBSERVED.activate() as active:
        assert active is None
    assert NOTHING_OBSERVED.end(ValueError()) is None


def test_an_unobserved_operation_is_its_deadline_block_alone() -> None:
    # The zero-cost path: with no observer, the handle hands out exactly what bound()
    # does (without a deadline, one shared null block) and nothing is wrapped.
    cat = Catalogue.connect("mongodb://127.0.0.1:1/shop")
    handle = cat._handle
    assert handle.observer is None
    assert handle.operation is bound  # not even a call more
    assert handle.operation(None, "find_one", "shop.items") is bound(None, "find_one")
    assert handle.begin("find") is NOTHING_OBSERVED
    block = contextlib.nullcontext()
    assert handle.observed(block, "find") is block
    assert observed(None, block, "find", None) is block


def test_an_observed_operation_is_begun_activated_and_ended() -> None:
    instrumentation = Instrumented()
    cat = Catalogue.connect("mongodb://ann:pw-Xy@127.0.0.1:1/shop", telemetry=instrumentation)
    [seen] = instrumentation.seen
    assert (seen.database, seen.driver) == ("shop", "pymongo")
    assert seen.redact("the password pw-Xy") == "the password ***"
    log = instrumentation.observer_.log
    with cat._handle.operation(None, "insert_one", "shop.items"):
        log.append(("work", None))
    assert log == [
        ("begin", ("insert_one", "shop.items")),
        ("activate", None),
        ("work", None),
        ("deactivate", None),
        ("end", None),
    ]
    log.clear()
    with pytest.raises(KeyError), cat._handle.operation(None, "find_one", "shop.items"):
        raise KeyError("x")
    assert log[-1][0] == "end"
    assert isinstance(log[-1][1], KeyError)
    derived = cat.with_options(read_concern="majority")
    log.clear()
    with derived._handle.operation(None, "ping", "shop"):
        pass
    assert log[0] == ("begin", ("ping", "shop"))
    cat.instrument(None)
    assert cat._handle.observer is None
    assert cat._handle.operation is bound


def test_an_operation_past_its_deadline_before_it_starts_ends_with_that_error() -> None:
    observer = Watching()

    class Refusing:
        def __enter__(self) -> None:
            raise ClientTimeout("too late")

        def __exit__(
            self,
            exc_type: type[BaseException] | None,
            exc: BaseException | None,
            tb: TracebackType | None,
        ) -> None:
            raise AssertionError("never entered")

    with pytest.raises(ClientTimeout), observed(observer, Refusing(), "find", None):
        raise AssertionError("not run")
    assert [entry[0] for entry in observer.log] == ["begin", "activate", "deactivate", "end"]
    assert isinstance(observer.log[-1][1], ClientTimeout)


def test_an_error_is_described_by_its_class_and_code_never_its_message() -> None:
    error = DuplicateKeyError(
        f"E11000 duplicate key error dup key: {{ email: {CANARY!r} }}",
        index_name="email_1",
        key_pattern={"email": 1},
        key_value={"email": CANARY},
    )
    described = error_attributes(error)
    assert described == {
        "error.type": "DuplicateKeyError",
        "db.response.status_code": "11000",
        "mongocat.error.code_name": "DuplicateKey",
    }
    assert retry_attributes(ValueError(CANARY), "TransientTransactionError", 2) == {
        "attempt": 2,
        "mongocat.error.label": "TransientTransactionError",
        "error.type": "ValueError",
    }


def test_a_token_digest_is_short_stable_and_not_the_token() -> None:
    token = {"_data": "82" + CANARY.encode().hex()}
    digest = token_digest(token)
    assert digest == token_digest(dict(token))
    assert len(digest) == 16
    assert digest != token_digest({"_data": "83"})
    assert token["_data"] not in digest


# -- the OpenTelemetry observer ----------------------------------------------------


def test_query_shape_keeps_names_and_operators_and_hides_values() -> None:
    command = {
        "find": "items",
        "filter": {"sku": {"$in": ["a", CANARY]}, "price": {"$lt": 10}},
        "limit": 5,
        "lsid": {"id": "x"},
        "$db": "shop",
        "$clusterTime": {"clusterTime": 1},
    }
    assert json.loads(query_shape(command)) == {
        "find": "items",
        "filter": {"sku": {"$in": ["?", "?"]}, "price": {"$lt": "?"}},
        "limit": "?",
    }
    inserted = query_shape({"insert": "items", "documents": [{"_id": 1, "n": CANARY}]})
    assert json.loads(inserted) == {"insert": "items", "documents": [{"_id": "?", "n": "?"}]}
    long = query_shape({"insert": "items", "documents": [{"n": 1}] * 1000})
    assert len(long) == 2048
    assert long.endswith("...")


values = st.one_of(
    st.text(min_size=1).map(lambda text: "v-" + text),  # never a key, never "?"
    st.integers(min_value=10_000_000),
)
documents = st.recursive(
    values,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["a", "b", "$in", "$set", "x.y"]), inner, max_size=4),
    ),
    max_leaves=20,
)


def _hidden(value: Any) -> Any:
    """What query_shape must make of a value: its structure, with "?" for each leaf."""
    if isinstance(value, dict):
        return {key: _hidden(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_hidden(item) for item in value]
    return "?"


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


@given(st.dictionaries(st.sampled_from(["filter", "u", "q", "pipeline"]), documents))
def test_no_value_of_a_command_reaches_its_query_shape(fields: dict[str, Any]) -> None:
    shape = query_shape({"find": "items", **fields})
    assert json.loads(shape) == {"find": "items", **_hidden(fields)}
    for leaf in _leaves(fields):
        assert json.dumps(leaf) not in shape


def test_namespaces_split_into_database_and_collection() -> None:
    assert _split("shop", "shop.items") == ("shop", "items")
    assert _split("shop", "shop.fs.files") == ("shop", "fs.files")
    assert _split("shop", "shop") == ("shop", None)
    assert _split("shop", None) == ("shop", None)
    assert _split("shop", "images") == ("shop", "images")  # a GridFS bucket


def recording_telemetry() -> tuple[Telemetry, InMemorySpanExporter, InMemoryMetricReader]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    telemetry = Telemetry(
        tracer_provider=tracer_provider, meter_provider=MeterProvider(metric_readers=[reader])
    )
    return telemetry, exporter, reader


def points(reader: InMemoryMetricReader, name: str) -> list[Any]:
    data = reader.get_metrics_data()
    assert data is not None
    return [
        point
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == name
        for point in metric.data.data_points
    ]


def test_an_operation_span_ends_once_with_its_error() -> None:
    telemetry, exporter, reader = recording_telemetry()
    observer = telemetry.observer(ObservedCatalogue("shop", "pymongo", lambda text: text))
    observation = observer.begin("update_one", "shop.items")
    with observation.activate():
        observer.event("mongocat.transaction.retry", {"attempt": 1})
        observer.annotate({"mongocat.gridfs.bytes": 3})
    observation.end(DuplicateKeyError("dup", index_name=None, key_pattern=None, key_value=None))
    observation.end(None)  # a second end changes nothing
    [span] = exporter.get_finished_spans()
    assert span.name == "update_one items"
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes or {})["mongocat.gridfs.bytes"] == 3
    assert [event.name for event in span.events] == ["mongocat.transaction.retry"]
    [duration] = points(reader, "db.client.operation.duration")
    assert duration.count == 1
    assert duration.attributes["error.type"] == "DuplicateKeyError"
    [retries] = points(reader, "mongocat.client.retries")
    assert retries.attributes["mongocat.retry.kind"] == "transaction"
    # Outside any activation, events and attributes have no operation to go to.
    observer.event("mongocat.bulk.retry", {})
    observer.annotate({"x": 1})


def test_the_pool_metrics_follow_each_connection() -> None:
    telemetry, _, reader = recording_telemetry()
    pool = next(
        listener
        for listener in telemetry.listeners()
        if isinstance(listener, monitoring.ConnectionPoolListener)
    )
    address = ("db1", 27017)
    pool.pool_created(monitoring.PoolCreatedEvent(address, {"maxPoolSize": 2}))
    pool.connection_check_out_started(monitoring.ConnectionCheckOutStartedEvent(address))
    pool.connection_created(monitoring.ConnectionCreatedEvent(address, 1))
    pool.connection_ready(monitoring.ConnectionReadyEvent(address, 1, 0.004))
    pool.connection_checked_out(monitoring.ConnectionCheckedOutEvent(address, 1, 0.25))
    pool.connection_check_out_started(monitoring.ConnectionCheckOutStartedEvent(address))
    pool.connection_check_out_failed(
        monitoring.ConnectionCheckOutFailedEvent(
            address, monitoring.ConnectionCheckOutFailedReason.TIMEOUT, 1.5
        )
    )

    def states() -> dict[str, int]:
        return {
            p.attributes["db.client.connection.state"]: p.value
            for p in points(reader, "db.client.connection.count")
        }

    assert states() == {"idle": 0, "used": 1}
    pool.connection_checked_in(monitoring.ConnectionCheckedInEvent(address, 1))
    assert states() == {"idle": 1, "used": 0}
    pool.connection_closed(monitoring.ConnectionClosedEvent(address, 1, "idle"))
    pool.connection_closed(monitoring.ConnectionClosedEvent(address, 1, "idle"))  # twice
    assert states() == {"idle": 0, "used": 0}
    [limit] = points(reader, "db.client.connection.max")
    assert limit.value == 2
    assert limit.attributes == {"db.client.connection.pool.name": "db1:27017"}
    [waits] = points(reader, "db.client.connection.wait_time")
    assert (waits.count, waits.sum) == (2, 1.75)
    [timeouts] = points(reader, "db.client.connection.timeouts")
    assert timeouts.value == 1
    [pending] = points(reader, "db.client.connection.pending_requests")
    assert pending.value == 0
    [used] = points(reader, "db.client.connection.use_time")
    assert used.count == 1
    pool.pool_closed(monitoring.PoolClosedEvent(address))
    [limit] = points(reader, "db.client.connection.max")
    assert limit.value == 0


def test_the_core_imports_nothing_of_opentelemetry() -> None:
    import subprocess
    import sys

    code = (
        # (Not mongocat.fastapi: FastAPI itself imports OpenTelemetry when installed.)
        "import sys, mongocat, mongocat.json, mongocat.embedded; "
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
