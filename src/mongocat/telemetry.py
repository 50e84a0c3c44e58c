"""OpenTelemetry traces and metrics, and operation logs, for mongocat.

Install the extra (``pip install 'mongocat-async[otel]'``, which brings the
OpenTelemetry API; the SDK and an exporter are the application's choice), then::

    from mongocat.telemetry import Telemetry

    cat = Catalogue.connect(uri, database="shop", telemetry=Telemetry())

or, for a Catalogue that exists already, ``mongocat.telemetry.instrument(cat)``.

What is recorded, following OpenTelemetry's semantic conventions for database
clients and MongoDB:

- **a span per mongocat operation** (``insert_one items``, ``find items``,
  ``bulk_write items``, ``run_transaction shop``, ``transaction shop``, ``handle
  items`` for a consumer's handler call, ``resume items`` for a change stream's
  resume), kind CLIENT, with ``db.system.name``, ``db.namespace``,
  ``db.collection.name``, ``db.operation.name``, ``server.address``/``server.port``
  and, on failure, ``error.type`` and ``db.response.status_code``;
- **a child span per driver command** (``insert items``, ``getMore items``,
  ``commitTransaction admin``), from the client's command monitoring: needs the
  listeners on the client (``Catalogue.connect(..., telemetry=)`` registers them;
  for a client made elsewhere, pass ``event_listeners=telemetry.listeners()``);
- **span events for mongocat's own work**: each bulk batch
  (``mongocat.bulk.batch``: its size, bytes, attempts and counts), each batch
  resent (``mongocat.bulk.retry``), each transaction attempt and retry
  (``mongocat.transaction.attempt``, ``.retry``, ``.commit_retry``, with the label
  that allowed it), each change-stream resume (``mongocat.change_stream.resume``,
  with the error and a digest of the resume token); GridFS transfers carry
  ``mongocat.gridfs.bytes``;
- **metrics**: ``db.client.operation.duration`` (seconds, per operation and
  outcome), ``mongocat.client.retries`` (by kind), and the connection pool's
  ``db.client.connection.count`` (idle/used), ``.max``, ``.pending_requests``,
  ``.wait_time``, ``.create_time``, ``.use_time`` and ``.timeouts`` (from the
  drivers' connection-pool events);
- **logs**: a DEBUG record on the ``mongocat`` logger per operation (its
  operation, namespace, duration and outcome under ``record.mongocat``); retries and
  resumes are logged at WARNING by mongocat itself, instrumented or not.

No value from a document, a filter or an update is ever recorded: errors are
described by their class and code (a server's message can quote the document),
and the query text (``db.query.text``) is recorded only with
``Telemetry(query_text=True)``, every value in it replaced by ``?``.
"""

import json
import logging
import time
from collections.abc import Mapping, Sequence
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any, Final, Literal

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider
from pymongo import monitoring

from ._catalogue import Catalogue
from ._observe import (
    AttributeValue,
    Observation,
    ObservedCatalogue,
    Observer,
    error_attributes,
)
from ._version import __version__

__all__ = ["Telemetry", "instrument", "query_shape", "uninstrument"]

_log = logging.getLogger("mongocat")

_SYSTEM: Final = "mongodb"

#: The histogram buckets the semantic conventions advise for durations, in seconds.
_DURATION_BUCKETS: Final = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0)

#: The events that count as retries, and the kind each is counted as.
_RETRIES: Final = {
    "mongocat.bulk.retry": "bulk_batch",
    "mongocat.transaction.retry": "transaction",
    "mongocat.transaction.commit_retry": "commit",
    "mongocat.change_stream.resume": "change_stream_resume",
}

#: The longest query text recorded, in characters.
_QUERY_TEXT_LIMIT: Final = 2048

#: Fields of a command that are the driver's bookkeeping, not the query.
_BOOKKEEPING: Final = frozenset(
    {"lsid", "$clusterTime", "txnNumber", "$db", "$readPreference", "autocommit"}
)

#: The operation observed in this context (for the command spans' server address).
_CURRENT: Final[ContextVar["_Operation | None"]] = ContextVar(
    "mongocat_observed_operation", default=None
)


def query_shape(command: Mapping[str, Any]) -> str:
    """A command as JSON text with every value replaced by ``?``.

    The command's name keeps its collection; field names and operators stay, so
    the text says what was asked without what was looked for or written. What is
    recorded as ``db.query.text`` with ``Telemetry(query_text=True)``.

    Example:
        >>> query_shape({"find": "items", "filter": {"sku": {"$in": ["a", "b"]}}})
        '{"find": "items", "filter": {"sku": {"$in": ["?", "?"]}}}'
    """
    shaped: dict[str, Any] = {}
    for position, (key, value) in enumerate(command.items()):
        if key in _BOOKKEEPING:
            continue
        shaped[key] = value if position == 0 and isinstance(value, str) else _shape(value)
    text = json.dumps(shaped)
    return text if len(text) <= _QUERY_TEXT_LIMIT else text[: _QUERY_TEXT_LIMIT - 3] + "..."


def _shape(value: Any) -> Any:
    """``value`` with its keys and structure kept and every leaf made ``?``."""
    if isinstance(value, Mapping):
        return {str(key): _shape(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_shape(item) for item in value]
    return "?"


def _split(database: str, namespace: str | None) -> tuple[str, str | None]:
    """The database and the collection (or bucket) of an operation's namespace."""
    if not namespace or namespace == database:
        return database, None
    head, dot, tail = namespace.partition(".")
    if dot and head == database:
        return database, tail
    return database, namespace


class Telemetry:
    """What records a Catalogue's operations with OpenTelemetry.

    One Telemetry may serve several Catalogues. Give it to
    ``Catalogue.connect(..., telemetry=)`` (which also registers its driver
    listeners), to ``Catalogue(client, telemetry=)``, to ``cat.instrument()`` or
    to :func:`instrument`.

    Args:
        tracer_provider: Where spans go; the global provider by default.
        meter_provider: Where metrics go; the global provider by default.
        query_text: Record each command's shape as ``db.query.text`` (values
            replaced by ``?``; see :func:`query_shape`). Off by default.
        log_operations: Log each operation at DEBUG on the ``mongocat`` logger.
    """

    __slots__ = (
        "_commands",
        "_duration",
        "_pool",
        "_retries",
        "log_operations",
        "query_text",
        "tracer",
    )

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        query_text: bool = False,
        log_operations: bool = True,
    ) -> None:
        #: The tracer spans are made with.
        self.tracer = trace.get_tracer("mongocat", __version__, tracer_provider=tracer_provider)
        meter = metrics.get_meter("mongocat", __version__, meter_provider=meter_provider)
        #: Whether commands' shapes are recorded as ``db.query.text``.
        self.query_text = bool(query_text)
        #: Whether each operation is logged at DEBUG.
        self.log_operations = bool(log_operations)
        self._duration = _seconds(
            meter, "db.client.operation.duration", "Duration of database client operations."
        )
        self._retries = meter.create_counter(
            "mongocat.client.retries",
            unit="{retry}",
            description="Bulk batches sent again, transactions and commits retried, "
            "change streams resumed.",
        )
        self._commands = _Commands(self)
        self._pool = _Pool(meter)

    def __repr__(self) -> str:
        return f"<Telemetry query_text={self.query_text} log_operations={self.log_operations}>"

    def listeners(self) -> Sequence[Any]:
        """The command and connection-pool listeners, for a client's ``event_listeners``.

        ``Catalogue.connect(..., telemetry=)`` registers them itself; a client made
        elsewhere needs them at its creation (the drivers take listeners only then).
        """
        return (self._commands, self._pool)

    def observer(self, catalogue: ObservedCatalogue) -> Observer:
        """The observer of one Catalogue's operations (called by the Catalogue)."""
        return _Watcher(self, catalogue)


class _Watcher(Observer):
    """The observer of one Catalogue."""

    __slots__ = ("_catalogue", "_telemetry")

    def __init__(self, telemetry: Telemetry, catalogue: ObservedCatalogue) -> None:
        self._telemetry = telemetry
        self._catalogue = catalogue

    def begin(self, operation: str, namespace: str | None) -> Observation:
        database, collection = _split(self._catalogue.database, namespace)
        attributes: dict[str, AttributeValue] = {
            "db.system.name": _SYSTEM,
            "db.namespace": database,
            "db.operation.name": operation,
        }
        if collection is not None:
            attributes["db.collection.name"] = collection
        span = self._telemetry.tracer.start_span(
            f"{operation} {collection or database}", kind=SpanKind.CLIENT, attributes=attributes
        )
        return _Operation(self._telemetry, self._catalogue, span, attributes)

    def event(self, name: str, attributes: Mapping[str, AttributeValue]) -> None:
        operation = _CURRENT.get()
        if operation is not None:
            operation.event(name, attributes)

    def annotate(self, attributes: Mapping[str, AttributeValue]) -> None:
        operation = _CURRENT.get()
        if operation is not None:
            operation.annotate(attributes)


class _Operation(Observation):
    """One operation's span, and what its end records."""

    __slots__ = ("_attributes", "_catalogue", "_ended", "_span", "_started", "_telemetry")

    def __init__(
        self,
        telemetry: Telemetry,
        catalogue: ObservedCatalogue,
        span: Span,
        attributes: dict[str, AttributeValue],
    ) -> None:
        self._telemetry = telemetry
        self._catalogue = catalogue
        self._span = span
        #: The metric's attributes (the span's own, and the server once known).
        self._attributes = attributes
        self._started = time.perf_counter()
        self._ended = False

    def activate(self) -> "_Active":
        return _Active(self)

    def event(self, name: str, attributes: Mapping[str, AttributeValue]) -> None:
        self._span.add_event(name, dict(attributes))
        kind = _RETRIES.get(name)
        if kind is not None:
            self._telemetry._retries.add(
                1,
                {
                    "db.system.name": _SYSTEM,
                    "db.namespace": str(self._attributes["db.namespace"]),
                    "mongocat.retry.kind": kind,
                },
            )

    def annotate(self, attributes: Mapping[str, AttributeValue]) -> None:
        self._span.set_attributes(dict(attributes))

    def served_by(self, address: str, port: int) -> None:
        """The server a command of this operation went to (the first one is kept)."""
        if "server.address" not in self._attributes:
            self._attributes["server.address"] = address
            self._attributes["server.port"] = port
            self._span.set_attributes({"server.address": address, "server.port": port})

    def end(self, error: BaseException | None = None) -> None:
        if self._ended:
            return
        self._ended = True
        elapsed = time.perf_counter() - self._started
        attributes = self._attributes
        span = self._span
        if error is not None:
            described = error_attributes(error)
            span.set_attributes(described)
            span.set_status(Status(StatusCode.ERROR, str(described["error.type"])))
            attributes = {**attributes, "error.type": described["error.type"]}
        span.end()
        self._telemetry._duration.record(elapsed, attributes)
        if self._telemetry.log_operations and _log.isEnabledFor(logging.DEBUG):
            outcome = "ok" if error is None else str(attributes["error.type"])
            namespace = self._catalogue.redact(
                ".".join(
                    str(attributes[key])
                    for key in ("db.namespace", "db.collection.name")
                    if key in attributes
                )
            )
            operation = str(attributes["db.operation.name"])
            _log.debug(
                "%s on %s: %s in %.2f ms",
                operation,
                namespace,
                outcome,
                elapsed * 1000,
                extra={
                    "mongocat": {
                        "event": "operation",
                        "operation": operation,
                        "namespace": namespace,
                        "duration_ms": round(elapsed * 1000, 3),
                        "outcome": outcome,
                        "driver": self._catalogue.driver,
                    }
                },
            )


class _Active:
    """The block during which an operation's span is the current one."""

    __slots__ = ("_context", "_current", "_operation")

    def __init__(self, operation: _Operation) -> None:
        self._operation = operation
        self._context: object = None
        self._current: Token[_Operation | None] | None = None

    def __enter__(self) -> _Operation:
        operation = self._operation
        self._context = otel_context.attach(trace.set_span_in_context(operation._span))
        self._current = _CURRENT.set(operation)
        return operation

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        if self._current is not None:
            _CURRENT.reset(self._current)
            self._current = None
        if self._context is not None:
            otel_context.detach(self._context)  # type: ignore[arg-type]
            self._context = None
        return False


class _Commands(monitoring.CommandListener):
    """A span per driver command, a child of the span current where it is sent.

    The drivers call it where the command is sent: PyMongo's async API in the
    operation's own task, Motor in its worker thread, into which it copies the
    caller's context, so the parent is the operation's span either way.
    """

    def __init__(self, telemetry: Telemetry) -> None:
        self._telemetry = telemetry
        self._spans: dict[tuple[Any, int, Any], Span] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        command = event.command
        target = command.get(name)
        collection = target if isinstance(target, str) else command.get("collection")
        host, port = event.connection_id
        attributes: dict[str, AttributeValue] = {
            "db.system.name": _SYSTEM,
            "db.namespace": event.database_name,
            "db.operation.name": name,
            "server.address": str(host),
            "server.port": int(port or 27017),
        }
        if isinstance(collection, str):
            attributes["db.collection.name"] = collection
        if self._telemetry.query_text and command:
            attributes["db.query.text"] = query_shape(command)
        span = self._telemetry.tracer.start_span(
            f"{name} {collection if isinstance(collection, str) else event.database_name}",
            kind=SpanKind.CLIENT,
            attributes=attributes,
        )
        self._spans[(event.connection_id, event.request_id, event.operation_id)] = span
        operation = _CURRENT.get()
        if operation is not None:
            operation.served_by(str(host), int(port or 27017))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        span = self._spans.pop((event.connection_id, event.request_id, event.operation_id), None)
        if span is not None:
            span.end()

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        span = self._spans.pop((event.connection_id, event.request_id, event.operation_id), None)
        if span is None:
            return
        failure = event.failure
        kind = failure.get("codeName") or failure.get("errtype") or "CommandFailed"
        attributes: dict[str, AttributeValue] = {"error.type": str(kind)}
        code = failure.get("code")
        if isinstance(code, int) and not isinstance(code, bool):
            attributes["db.response.status_code"] = str(code)
        span.set_attributes(attributes)
        span.set_status(Status(StatusCode.ERROR, str(kind)))
        span.end()


def _seconds(meter: metrics.Meter, name: str, description: str) -> metrics.Histogram:
    """A histogram of durations in seconds, with the advised buckets."""
    return meter.create_histogram(
        name, "s", description, explicit_bucket_boundaries_advisory=_DURATION_BUCKETS
    )


def _record(
    histogram: metrics.Histogram, seconds: float | None, attributes: dict[str, AttributeValue]
) -> None:
    """Record a duration a driver event gives (older drivers may give none)."""
    if seconds is not None:
        histogram.record(seconds, attributes)


class _Pool(monitoring.ConnectionPoolListener):
    """The connection-pool metrics of the semantic conventions, from CMAP events."""

    def __init__(self, meter: metrics.Meter) -> None:
        connections = "db.client.connection."
        self._count = meter.create_up_down_counter(
            connections + "count", "{connection}", "Connections in each state (idle, used)."
        )
        self._max = meter.create_up_down_counter(
            connections + "max", "{connection}", "The most connections a pool opens."
        )
        self._pending = meter.create_up_down_counter(
            connections + "pending_requests", "{request}", "Requests waiting for a connection."
        )
        self._timeouts = meter.create_counter(
            connections + "timeouts", "{timeout}", "Waits for a connection that timed out."
        )
        self._wait, self._create, self._use = (
            _seconds(meter, connections + name, description)
            for name, description in (
                ("wait_time", "How long a request waited for a connection."),
                ("create_time", "How long opening a connection took."),
                ("use_time", "How long a connection was checked out."),
            )
        )
        #: Each open connection's state, and when a used one was checked out.
        self._states: dict[tuple[Any, int], tuple[str, float]] = {}
        self._limits: dict[Any, int] = {}

    @staticmethod
    def _pool(address: Any) -> dict[str, AttributeValue]:
        host, port = address
        return {"db.client.connection.pool.name": f"{host}:{port}"}

    def _move(self, address: Any, connection_id: int, state: str | None) -> float | None:
        """Move a connection to ``state`` (None: closed); the time it was used, if it was."""
        pool = self._pool(address)
        now = time.perf_counter()
        key = (address, connection_id)
        old = self._states.pop(key, None)
        if old is not None:
            self._count.add(-1, {**pool, "db.client.connection.state": old[0]})
        if state is not None:
            self._states[key] = (state, now)
            self._count.add(1, {**pool, "db.client.connection.state": state})
        if old is not None and old[0] == "used":
            return now - old[1]
        return None

    def pool_created(self, event: monitoring.PoolCreatedEvent) -> None:
        limit = event.options.get("maxPoolSize", 100)
        if isinstance(limit, int) and limit > 0 and event.address not in self._limits:
            self._limits[event.address] = limit
            self._max.add(limit, self._pool(event.address))

    def pool_ready(self, event: monitoring.PoolReadyEvent) -> None:
        return None

    def pool_cleared(self, event: monitoring.PoolClearedEvent) -> None:
        return None

    def pool_closed(self, event: monitoring.PoolClosedEvent) -> None:
        limit = self._limits.pop(event.address, None)
        if limit is not None:
            self._max.add(-limit, self._pool(event.address))

    def connection_created(self, event: monitoring.ConnectionCreatedEvent) -> None:
        return None

    def connection_ready(self, event: monitoring.ConnectionReadyEvent) -> None:
        _record(self._create, event.duration, self._pool(event.address))
        self._move(event.address, event.connection_id, "idle")

    def connection_closed(self, event: monitoring.ConnectionClosedEvent) -> None:
        self._move(event.address, event.connection_id, None)

    def connection_check_out_started(
        self, event: monitoring.ConnectionCheckOutStartedEvent
    ) -> None:
        self._pending.add(1, self._pool(event.address))

    def connection_check_out_failed(self, event: monitoring.ConnectionCheckOutFailedEvent) -> None:
        pool = self._pool(event.address)
        self._pending.add(-1, pool)
        _record(self._wait, event.duration, pool)
        if event.reason == monitoring.ConnectionCheckOutFailedReason.TIMEOUT:
            self._timeouts.add(1, pool)

    def connection_checked_out(self, event: monitoring.ConnectionCheckedOutEvent) -> None:
        pool = self._pool(event.address)
        self._pending.add(-1, pool)
        _record(self._wait, event.duration, pool)
        self._move(event.address, event.connection_id, "used")

    def connection_checked_in(self, event: monitoring.ConnectionCheckedInEvent) -> None:
        used = self._move(event.address, event.connection_id, "idle")
        if used is not None:
            self._use.record(used, self._pool(event.address))


def instrument(
    catalogue: Catalogue, telemetry: Telemetry | None = None, **options: Any
) -> Telemetry:
    """Record ``catalogue``'s operations with OpenTelemetry; return the Telemetry.

    Spans, events, operation metrics and logs start at once, for every collection,
    cursor and stream the Catalogue has handed out. Command spans and pool metrics
    need the Telemetry's listeners on the client from its creation:
    ``Catalogue.connect(uri, telemetry=Telemetry())`` does both in one step.

    Args:
        catalogue: The Catalogue to observe.
        telemetry: A Telemetry to use (one may serve several Catalogues); by
            default a new one made with ``options``.
        **options: :class:`Telemetry`'s options, when ``telemetry`` is not given.
    """
    if telemetry is None:
        telemetry = Telemetry(**options)
    catalogue.instrument(telemetry)
    return telemetry


def uninstrument(catalogue: Catalogue) -> None:
    """Stop recording ``catalogue``'s operations.

    The driver listeners registered on its client stay (the drivers cannot remove
    them) and keep recording the client's commands and pool.
    """
    catalogue.instrument(None)
