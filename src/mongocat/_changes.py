"""Change streams: typed events, checkpointed resume tokens, auto-resume, consumers.

The drivers resume a change stream once, in memory, after a resumable error. This
module adds what a service needs to process every change at least once across
network failures, server restarts and its own restarts: resuming with backoff until
a limit, starting after a token saved in a :class:`Checkpoint`, a policy for history
that is gone, and :class:`Consumer`, a background task that checkpoints after each
handled event.
"""

import asyncio
import contextlib
import dataclasses
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import (
    TYPE_CHECKING,
    Any,
    Final,
    Generic,
    Literal,
    Protocol,
    Self,
    TypeAlias,
    TypedDict,
    cast,
)

from bson import Timestamp

from ._arguments import as_filter
from ._driver import DRIVER_ERRORS, open_change_stream, translate_error
from ._errors import (
    ChangeStreamError,
    ChangeStreamHistoryLost,
    ChangeStreamInvalidated,
    ConfigurationError,
    MongocatError,
    NetworkError,
    OperationFailed,
    ServerUnavailable,
)
from ._pipeline import Pipeline
from ._types import DocT, DriverName, FilterLike

if TYPE_CHECKING:
    from ._catalogue import Catalogue

__all__ = [
    "ChangeEvent",
    "ChangeStream",
    "Checkpoint",
    "CollectionCheckpoint",
    "Consumer",
    "FullDocument",
    "MemoryCheckpoint",
    "Namespace",
    "OnGap",
    "StreamGap",
    "UpdateDescription",
    "WatchArgs",
    "WatchFilter",
    "WatchOptions",
]

_log = logging.getLogger("mongocat")

#: When ``full_document`` holds the document: ``"default"`` (inserts and replaces),
#: ``"updateLookup"`` (also updates: the document as it is when the event is read),
#: ``"whenAvailable"`` / ``"required"`` (the post-image, MongoDB 6.0+).
FullDocument: TypeAlias = Literal["default", "updateLookup", "whenAvailable", "required"]

#: What a change stream selects: a filter on the change events (one ``$match``), or a
#: pipeline (a :class:`~mongocat.Pipeline` or a list of stage documents).
WatchFilter: TypeAlias = (
    FilterLike | Pipeline | list[Mapping[str, Any]] | tuple[Mapping[str, Any], ...] | None
)

#: What a stream does when it cannot continue where it was: ``"raise"`` an error, or
#: ``"restart"`` from now and record a :class:`StreamGap`.
OnGap: TypeAlias = Literal["raise", "restart"]

# The change stream specification's resumable server errors (for servers that do not
# label them ResumableChangeStreamError): HostUnreachable, HostNotFound,
# NetworkTimeout, ShutdownInProgress, PrimarySteppedDown, ExceededTimeLimit,
# SocketException, NotWritablePrimary, InterruptedAtShutdown,
# InterruptedDueToReplStateChange, NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary,
# StaleShardVersion, StaleEpoch, StaleConfig, RetryChangeStream,
# FailedToSatisfyReadPreference, CursorNotFound.
_RESUMABLE_CODES: Final = frozenset(
    {6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 63, 150, 13388, 234, 133, 43}
)
_HISTORY_LOST: Final = 286  # ChangeStreamHistoryLost
_STARTS: Final = frozenset({"resume_after", "start_after", "start_at_operation_time"})
_FULL_DOCUMENT: Final = ("default", "updateLookup", "whenAvailable", "required")
_BEFORE_CHANGE: Final = ("off", "whenAvailable", "required")


@dataclass(frozen=True, slots=True)
class Namespace:
    """Where a change happened.

    Attributes:
        database: The database's name.
        collection: The collection's name; None for database-wide events
            (``dropDatabase``).
    """

    database: str
    collection: str | None

    @classmethod
    def from_raw(cls, raw: Any) -> "Namespace | None":
        """Build from an event's ``ns`` or ``to`` document."""
        if not isinstance(raw, Mapping):
            return None
        return cls(str(raw.get("db")), raw.get("coll"))


@dataclass(frozen=True, slots=True)
class UpdateDescription:
    """What an update changed.

    Attributes:
        updated_fields: Each changed path with its new value.
        removed_fields: The paths the update removed.
        truncated_arrays: Arrays shortened in place (``{"field": ..., "newSize": ...}``).
    """

    updated_fields: dict[str, Any]
    removed_fields: list[str]
    truncated_arrays: list[dict[str, Any]]

    @classmethod
    def from_raw(cls, raw: Any) -> "UpdateDescription | None":
        """Build from an event's ``updateDescription``."""
        if not isinstance(raw, Mapping):
            return None
        return cls(
            dict(raw.get("updatedFields") or {}),
            list(raw.get("removedFields") or []),
            list(raw.get("truncatedArrays") or []),
        )


@dataclass(frozen=True, slots=True)
class ChangeEvent(Generic[DocT]):
    """One change: an insert, update, replace, delete, or a collection-level event.

    Attributes:
        operation_type: ``"insert"``, ``"update"``, ``"replace"``, ``"delete"``,
            ``"drop"``, ``"rename"``, ``"dropDatabase"``, ``"invalidate"``, ...
        resume_token: The token that resumes a stream just after this event.
        document_key: The changed document's ``_id`` (and shard key), if any.
        full_document: The document, as ``full_document=`` asked for; else None.
        full_document_before_change: The pre-image, if asked for and recorded.
        update_description: What an ``update`` changed; None for other events.
        cluster_time: The operation's cluster time.
        wall_time: The server's wall-clock time of the operation, if it sends one.
        namespace: The database and collection of the change.
        to: The new namespace of a ``rename``.
        raw: The event as the server sent it.
    """

    operation_type: str
    resume_token: dict[str, Any]
    document_key: dict[str, Any] | None
    full_document: DocT | None
    full_document_before_change: DocT | None
    update_description: UpdateDescription | None
    cluster_time: Timestamp | None
    wall_time: datetime | None
    namespace: Namespace | None
    to: Namespace | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> "ChangeEvent[Any]":
        """Build from a change document."""
        return cls(
            operation_type=str(raw.get("operationType")),
            resume_token=dict(raw["_id"]),
            document_key=raw.get("documentKey"),
            full_document=raw.get("fullDocument"),
            full_document_before_change=raw.get("fullDocumentBeforeChange"),
            update_description=UpdateDescription.from_raw(raw.get("updateDescription")),
            cluster_time=raw.get("clusterTime"),
            wall_time=raw.get("wallTime"),
            namespace=Namespace.from_raw(raw.get("ns")),
            to=Namespace.from_raw(raw.get("to")),
            raw=dict(raw),
        )


@dataclass(frozen=True, slots=True)
class StreamGap:
    """A point where a stream could not simply continue, and started again.

    After ``"history_lost"`` the stream starts from "now": the events between
    ``after_token`` and ``restarted_at`` were not delivered, and a consumer that must
    not miss any should reconcile that span (or use ``on_gap="raise"``). After
    ``"invalidated"`` it continues after the invalidate event (``start_after``), so
    it sees the namespace's events once it is created again.

    Attributes:
        reason: ``"history_lost"`` (the resume point left the oplog) or
            ``"invalidated"`` (the collection was dropped or renamed).
        after_token: The last token the stream had, if any.
        restarted_at: When the stream started again (UTC).
        error: The error that caused the restart, if any.
    """

    reason: Literal["history_lost", "invalidated"]
    after_token: dict[str, Any] | None
    restarted_at: datetime
    error: MongocatError | None = None


class Checkpoint(Protocol):
    """Where a stream's resume token is kept between runs of a program."""

    async def load(self) -> dict[str, Any] | None:
        """Return the saved resume token, or None if nothing was saved."""
        ...

    async def save(self, token: Mapping[str, Any]) -> None:
        """Save ``token``: the stream resumes after it next time."""
        ...


class MemoryCheckpoint:
    """A checkpoint in memory: survives stream restarts within one process, for tests."""

    __slots__ = ("saves", "token")

    def __init__(self, token: Mapping[str, Any] | None = None) -> None:
        self.token: dict[str, Any] | None = None if token is None else dict(token)
        self.saves = 0

    def __repr__(self) -> str:
        return f"MemoryCheckpoint(token={self.token!r})"

    async def load(self) -> dict[str, Any] | None:
        """Return the saved token."""
        return self.token

    async def save(self, token: Mapping[str, Any]) -> None:
        """Keep ``token``."""
        self.token = dict(token)
        self.saves += 1


class CollectionCheckpoint:
    """A checkpoint kept in a MongoDB collection, one document per consumer name.

    The document is ``{"_id": name, "token": ..., "saved_at": ...}`` in the collection
    ``collection`` (``mongocat_checkpoints`` by default) of the Catalogue's database.

    Args:
        catalogue: The Catalogue whose database keeps the checkpoint.
        name: The consumer's name; each consumer of a stream needs its own.
        collection: The collection to keep checkpoints in.

    Example:
        >>> checkpoint = CollectionCheckpoint(cat, "search-indexer")  # doctest: +SKIP
        >>> async with products.consume(index_product, checkpoint=checkpoint):
        ...     await stop_requested.wait()
    """

    __slots__ = ("_collection", "name")

    def __init__(
        self, catalogue: "Catalogue", name: str, *, collection: str = "mongocat_checkpoints"
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"a checkpoint needs a non-empty name, not {name!r}")
        self.name = name
        self._collection = catalogue.collection(collection)

    def __repr__(self) -> str:
        return f"CollectionCheckpoint({self.name!r}, collection={self._collection.name!r})"

    async def load(self) -> dict[str, Any] | None:
        """Return the saved token, or None."""
        found = await self._collection.find_one({"_id": {"$eq": self.name}})
        token = None if found is None else found.get("token")
        return dict(token) if isinstance(token, Mapping) else None

    async def save(self, token: Mapping[str, Any]) -> None:
        """Save ``token`` (upserting the consumer's document)."""
        await self._collection.update_one(
            {"_id": {"$eq": self.name}},
            {"$set": {"token": dict(token), "saved_at": datetime.now(UTC)}},
            upsert=True,
        )


class WatchArgs(TypedDict, total=False):
    """The options of ``watch()`` and ``consume()``; every one is optional.

    Attributes:
        full_document: ``"default"``, ``"updateLookup"``, ``"whenAvailable"`` or
            ``"required"``: when events carry the whole document.
        full_document_before_change: ``"off"``, ``"whenAvailable"`` or ``"required"``:
            the pre-image (the collection must record them, MongoDB 6.0+).
        start_at: Start at this cluster time (a ``bson.Timestamp`` or a datetime).
        resume_after: Start after this event's resume token.
        start_after: Start after this token, also after an ``invalidate`` event.
        batch_size: The most events per batch from the server.
        max_await: How long the server waits for new events before answering an
            empty batch (seconds or a timedelta).
        checkpoint: Start after the checkpoint's saved token, and save the token of
            each handled event.
        on_gap: ``"raise"`` (the default) or ``"restart"`` when the resume point has
            left the oplog or the stream was invalidated.
        resume_attempts: How many times in a row to reopen after resumable errors
            (10 by default; 0 leaves only the driver's own single resume).
        resume_backoff: The first wait before reopening, in seconds, doubled on each
            further attempt up to 5 seconds.
    """

    full_document: FullDocument
    full_document_before_change: Literal["off", "whenAvailable", "required"]
    start_at: Timestamp | datetime
    resume_after: Mapping[str, Any]
    start_after: Mapping[str, Any]
    batch_size: int
    max_await: float | timedelta
    checkpoint: Checkpoint
    on_gap: OnGap
    resume_attempts: int
    resume_backoff: float


@dataclass(frozen=True, slots=True)
class WatchOptions:
    """What to watch and how; built by ``watch()`` and ``consume()``."""

    pipeline: list[dict[str, Any]]
    driver_options: dict[str, Any]
    checkpoint: Checkpoint | None
    on_gap: OnGap
    resume_attempts: int
    resume_backoff: float

    @classmethod
    def build(cls, filter_or_pipeline: WatchFilter, arguments: "WatchArgs") -> "WatchOptions":
        """Check the arguments and turn them into the driver's ``watch`` options."""
        unknown = sorted(set(arguments) - set(WatchArgs.__annotations__))
        if unknown:
            raise ConfigurationError(
                f"unknown change stream option(s) {', '.join(unknown)}; the options are "
                f"{', '.join(WatchArgs.__annotations__)}"
            )
        full_document = arguments.get("full_document", "default")
        full_document_before_change = arguments.get("full_document_before_change")
        start_at = arguments.get("start_at")
        resume_after = arguments.get("resume_after")
        start_after = arguments.get("start_after")
        batch_size = arguments.get("batch_size")
        max_await = arguments.get("max_await")
        on_gap = arguments.get("on_gap", "raise")
        resume_attempts = arguments.get("resume_attempts", 10)
        resume_backoff = arguments.get("resume_backoff", 0.1)
        if full_document not in _FULL_DOCUMENT:
            raise ConfigurationError(
                f"full_document must be one of {', '.join(map(repr, _FULL_DOCUMENT))}, "
                f"not {full_document!r}"
            )
        if full_document_before_change not in (None, *_BEFORE_CHANGE):
            raise ConfigurationError(
                "full_document_before_change must be None or one of "
                f"{', '.join(map(repr, _BEFORE_CHANGE))}, not {full_document_before_change!r}"
            )
        starts = [
            name
            for name, value in (
                ("start_at", start_at),
                ("resume_after", resume_after),
                ("start_after", start_after),
            )
            if value is not None
        ]
        if len(starts) > 1:
            raise ConfigurationError(
                f"give at most one of start_at, resume_after and start_after, not {starts}"
            )
        if on_gap not in ("raise", "restart"):
            raise ConfigurationError(f"on_gap must be 'raise' or 'restart', not {on_gap!r}")
        if not isinstance(resume_attempts, int) or resume_attempts < 0:
            raise ConfigurationError(
                f"resume_attempts must be an int >= 0, not {resume_attempts!r}"
            )
        options: dict[str, Any] = {}
        if full_document != "default":
            options["full_document"] = full_document
        if full_document_before_change is not None:
            options["full_document_before_change"] = full_document_before_change
        if isinstance(start_at, datetime):
            start_at = Timestamp(start_at, 0)
        if start_at is not None:
            if not isinstance(start_at, Timestamp):
                raise ConfigurationError(
                    f"start_at must be a bson.Timestamp or a datetime, not {start_at!r}"
                )
            options["start_at_operation_time"] = start_at
        for name, token in (("resume_after", resume_after), ("start_after", start_after)):
            if token is not None:
                if not isinstance(token, Mapping):
                    raise ConfigurationError(
                        f"{name} must be a resume token (event.resume_token), not {token!r}"
                    )
                options[name] = dict(token)
        if batch_size is not None:
            options["batch_size"] = batch_size
        if max_await is not None:
            seconds = max_await.total_seconds() if isinstance(max_await, timedelta) else max_await
            options["max_await_time_ms"] = int(seconds * 1000)
        return cls(
            pipeline=_pipeline(filter_or_pipeline),
            driver_options=options,
            checkpoint=arguments.get("checkpoint"),
            on_gap=on_gap,
            resume_attempts=resume_attempts,
            resume_backoff=resume_backoff,
        )


def _pipeline(
    filter_or_pipeline: WatchFilter,
) -> list[dict[str, Any]]:
    """A filter becomes one ``$match`` stage; a pipeline is sent as it is."""
    if filter_or_pipeline is None:
        return []
    if isinstance(filter_or_pipeline, Pipeline):
        return filter_or_pipeline.to_mongo()
    if isinstance(filter_or_pipeline, list | tuple):
        stages = [dict(stage) for stage in filter_or_pipeline if isinstance(stage, Mapping)]
        if len(stages) != len(filter_or_pipeline):
            raise ConfigurationError(
                "a change stream pipeline must be a list of stage documents such as "
                "[{'$match': {...}}]"
            )
        return stages
    return [{"$match": dict(as_filter(filter_or_pipeline))}]


def _resumable(error: MongocatError) -> bool:
    """Whether the change stream specification says to resume after ``error``."""
    if isinstance(error, NetworkError | ServerUnavailable):
        return True
    if error.has_error_label("ResumableChangeStreamError"):
        return True
    return isinstance(error, OperationFailed) and error.code in _RESUMABLE_CODES


def _history_lost(error: MongocatError) -> bool:
    return isinstance(error, OperationFailed) and error.code == _HISTORY_LOST


class ChangeStream(Generic[DocT]):
    """A change stream: an async context manager and an async iterator of events.

    Get one from :meth:`Collection.watch` or :meth:`Catalogue.watch`. The stream is
    open (the server has fixed its starting point) once ``async with`` is entered, so
    changes made after that are seen. Iteration waits for the next change.

    After a resumable error (a network error, a failover, a server restart) the
    stream reopens after the last event it delivered, with exponential backoff, up to
    ``resume_attempts`` times in a row; events are neither lost nor repeated.

    With a ``checkpoint``, the stream starts after the checkpoint's token and saves
    each event's token once the event is handled: when the next event is asked for,
    or when the ``async with`` block exits without an exception.

    Example:
        >>> async with products.watch(full_document="updateLookup") as stream:  # doctest: +SKIP
        ...     async for event in stream:
        ...         print(event.operation_type, event.full_document)
    """

    __slots__ = (
        "_autosave",
        "_catalogue",
        "_closed",
        "_decode",
        "_driver_stream",
        "_failures",
        "_gaps",
        "_invalidated",
        "_last_token",
        "_options",
        "_start_token",
        "_target",
        "_unsaved",
    )

    def __init__(
        self,
        catalogue: "Catalogue",
        target: Any,
        options: WatchOptions,
        *,
        autosave: bool = True,
        decode: Callable[[Any], Any] | None = None,
    ) -> None:
        self._catalogue = catalogue
        self._decode = decode
        self._target = target
        self._options = options
        self._autosave = autosave
        self._driver_stream: Any = None
        self._closed = False
        self._failures = 0
        self._gaps: list[StreamGap] = []
        self._invalidated: ChangeEvent[DocT] | None = None
        self._last_token: dict[str, Any] | None = None
        self._start_token: dict[str, Any] | None = None
        self._unsaved: dict[str, Any] | None = None

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open" if self._driver_stream else "not open"
        return f"<ChangeStream on {getattr(self._target, 'name', '?')!r} {state}>"

    @property
    def driver(self) -> DriverName:
        """The driver the stream runs on."""
        return self._catalogue.driver

    @property
    def resume_token(self) -> dict[str, Any] | None:
        """The token to resume after everything delivered so far (None before opening).

        Past the last event, the driver may advance it to the server's latest
        position (``postBatchResumeToken``) without delivering events.
        """
        if self._driver_stream is not None:
            token = self._driver_stream.resume_token
            if token is not None:
                return dict(token)
        return self._last_token

    @property
    def gaps(self) -> list[StreamGap]:
        """The restarts from "now" that ``on_gap="restart"`` made, oldest first."""
        return list(self._gaps)

    # -- opening and closing -------------------------------------------------------

    async def open(self) -> Self:
        """Open the stream (``async with`` does this); opening twice is harmless.

        Raises:
            ChangeStreamHistoryLost: The checkpoint's or given token is no longer in
                the oplog and ``on_gap="raise"``.
            ServerFeatureUnavailable: The server does not support change streams
                (a standalone server: use a replica set).
        """
        if self._closed:
            raise ChangeStreamError("this change stream was closed; call watch() again")
        if self._driver_stream is not None:
            return self
        options = dict(self._options.driver_options)
        checkpoint = self._options.checkpoint
        if checkpoint is not None and not _STARTS & set(options):
            token = await checkpoint.load()
            if token is not None:
                options["start_after"] = token
                self._start_token = token
        else:
            self._start_token = options.get("resume_after") or options.get("start_after")
        try:
            self._driver_stream = await self._open(options)
        except MongocatError as error:
            if not _history_lost(error):
                raise
            self._driver_stream = await self._restart("history_lost", error)
        return self

    async def _open(self, options: Mapping[str, Any]) -> Any:
        """Open a driver stream with ``options``."""
        try:
            return await open_change_stream(
                self._target,
                self._catalogue.driver,
                {"pipeline": self._options.pipeline, **options},
            )
        except DRIVER_ERRORS as exc:
            raise translate_error(exc, self._catalogue._secrets) from exc

    def _base_options(self) -> dict[str, Any]:
        """The driver options without a starting point."""
        return {
            key: value for key, value in self._options.driver_options.items() if key not in _STARTS
        }

    async def _restart(
        self, reason: Literal["history_lost", "invalidated"], error: MongocatError | None
    ) -> Any:
        """Apply the ``on_gap`` policy: raise, or open again and record the gap."""
        after = self._last_token or self._start_token
        invalidated, self._invalidated = self._invalidated, None
        if self._options.on_gap == "raise":
            if reason == "history_lost":
                raise ChangeStreamHistoryLost(
                    "the change stream cannot resume: its resume point is no longer in "
                    "the oplog; enlarge the oplog (replSetResizeOplog) or speed up the "
                    "consumer, or pass on_gap='restart' to continue from now and record "
                    "the gap",
                    resume_token=after,
                    driver_error=error,
                ) from error
            assert invalidated is not None
            raise ChangeStreamInvalidated(invalidated.raw)
        options = self._base_options()
        if invalidated is not None:  # continue after the invalidate event itself
            options["start_after"] = invalidated.resume_token
        self._gaps.append(StreamGap(reason, after, datetime.now(UTC), error))
        _log.warning(
            "change stream on %r started again (%s) after token %r",
            getattr(self._target, "name", "?"),
            reason,
            after,
        )
        return await self._open(options)

    async def close(self) -> None:
        """Close the stream; iteration then ends. Closing twice is harmless."""
        self._closed = True
        await self._discard()

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if exc is None:
                await self._save_handled()
        finally:
            await self.close()

    # -- iterating -----------------------------------------------------------------

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> ChangeEvent[DocT]:
        await self._save_handled()
        if self._invalidated is not None:
            await self._discard()
            self._driver_stream = await self._restart("invalidated", None)
        while True:
            stream = self._driver_stream
            if stream is None:
                if self._closed:
                    raise StopAsyncIteration
                raise ChangeStreamError(
                    "the change stream is not open: use 'async with coll.watch() as "
                    "stream:' (or await stream.open()) before iterating"
                )
            try:
                raw = await stream.next()
            except DRIVER_ERRORS as exc:
                error = translate_error(exc, self._catalogue._secrets)
                await self._recover(error, exc)
                continue
            self._failures = 0
            event: ChangeEvent[DocT] = cast("ChangeEvent[DocT]", ChangeEvent.from_raw(raw))
            if self._decode is not None:
                event = dataclasses.replace(
                    event,
                    full_document=self._decode(event.full_document),
                    full_document_before_change=self._decode(event.full_document_before_change),
                )
            self._last_token = event.resume_token
            if self._autosave and self._options.checkpoint is not None:
                self._unsaved = event.resume_token
            if event.operation_type == "invalidate":
                self._invalidated = event
            return event

    async def _recover(self, error: MongocatError, cause: BaseException) -> None:
        """Reopen after a resumable error, with backoff, or raise ``error``."""
        token = self.resume_token
        await self._discard()
        while True:
            if _history_lost(error):
                self._driver_stream = await self._restart("history_lost", error)
                return
            if not _resumable(error) or self._failures >= self._options.resume_attempts:
                raise error from cause
            self._failures += 1
            delay = min(self._options.resume_backoff * 2 ** (self._failures - 1), 5.0)
            await asyncio.sleep(delay * (0.5 + random.random() / 2))
            options = self._base_options()
            if token is not None:
                options["resume_after"] = token
            else:  # nothing delivered yet: start where the stream was asked to start
                options.update(
                    {k: v for k, v in self._options.driver_options.items() if k in _STARTS}
                )
                if self._start_token is not None and not _STARTS & set(options):
                    options["start_after"] = self._start_token
            try:
                self._driver_stream = await self._open(options)
                return
            except MongocatError as reopen_error:
                error, cause = reopen_error, reopen_error

    async def _discard(self) -> None:
        """Close the driver stream, if any, leaving the ChangeStream usable."""
        stream, self._driver_stream = self._driver_stream, None
        if stream is not None:
            # A broken connection cannot close its cursor; the server drops it itself.
            with contextlib.suppress(*DRIVER_ERRORS):
                await stream.close()

    async def _save_handled(self) -> None:
        """Save the token of the event the caller has finished with."""
        token, self._unsaved = self._unsaved, None
        if token is not None and self._options.checkpoint is not None:
            await self._options.checkpoint.save(token)


class Consumer(Generic[DocT]):
    """A background task that hands each change to ``handler`` and checkpoints it.

    Get one from :meth:`Collection.consume` or :meth:`Catalogue.consume`. Entering
    ``async with`` opens the stream (changes made after that are delivered) and
    starts the task; leaving it stops the task cleanly: a handler call in progress
    finishes and is checkpointed, a wait for the next change is cancelled.

    Processing is at least once: the checkpoint is saved after ``handler`` returns, so
    an event whose handler failed, or was cut short by a crash, is delivered again on
    the next start. A handler error stops the consumer and is raised by ``wait()`` and
    on leaving the ``async with`` block, never swallowed.

    Example:
        >>> async def index(event: ChangeEvent[Product]) -> None:  # doctest: +SKIP
        ...     await search.update(event.document_key, event.full_document)
        >>> async with products.consume(index, checkpoint=CollectionCheckpoint(cat, "search")):
        ...     await shutdown.wait()
    """

    __slots__ = ("_busy", "_error", "_handler", "_processed", "_stopping", "_stream", "_task")

    def __init__(
        self, stream: ChangeStream[DocT], handler: Callable[[ChangeEvent[DocT]], Awaitable[object]]
    ) -> None:
        if not callable(handler):
            raise ConfigurationError(f"the handler must be an async function, not {handler!r}")
        self._stream = stream
        self._handler = handler
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self._processed = 0
        self._busy = False
        self._stopping = False

    def __repr__(self) -> str:
        return f"<Consumer processed={self._processed} running={self.running}>"

    @property
    def processed(self) -> int:
        """How many events the handler has finished."""
        return self._processed

    @property
    def running(self) -> bool:
        """Whether the background task is still running."""
        return self._task is not None and not self._task.done()

    @property
    def error(self) -> BaseException | None:
        """The error that stopped the consumer, if any."""
        return self._error

    @property
    def stream(self) -> ChangeStream[DocT]:
        """The change stream the consumer reads (its ``gaps`` and ``resume_token``)."""
        return self._stream

    async def start(self) -> Self:
        """Open the stream and start the task (``async with`` does this)."""
        if self._task is not None:
            raise ChangeStreamError("this consumer was started already")
        await self._stream.open()
        self._task = asyncio.create_task(self._run(), name="mongocat-consumer")
        return self

    async def _run(self) -> None:
        checkpoint = self._stream._options.checkpoint
        try:
            async for event in self._stream:
                self._busy = True
                try:
                    await self._handler(event)
                    if checkpoint is not None:
                        await checkpoint.save(event.resume_token)
                    self._processed += 1
                finally:
                    self._busy = False
                if self._stopping:
                    return
        except asyncio.CancelledError:
            if not self._stopping:
                raise
        except Exception as error:  # kept, and raised by wait() and on exit
            self._error = error
        finally:
            await self._stream.close()

    async def wait(self) -> None:
        """Wait until the consumer stops; raise the handler's or the stream's error."""
        if self._task is not None:
            await asyncio.shield(self._task)
        if self._error is not None:
            raise self._error

    async def stop(self, grace: float | None = None) -> None:
        """Stop after the handler call in progress, if any; safe to call twice.

        Args:
            grace: How many seconds to let a handler call in progress finish; past
                them the call is cancelled and its event is not checkpointed (so it is
                delivered again next time). None waits for it.
        """
        task = self._task
        if task is None or task.done():
            await self._stream.close()
            return
        self._stopping = True
        if not self._busy:
            task.cancel()
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        except asyncio.CancelledError:
            if not task.done():  # the caller itself was cancelled
                raise

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
        if exc is None and self._error is not None:
            raise self._error
