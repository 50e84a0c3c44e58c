"""The pure half of change streams: events, options, checkpoints, the resume rules.

Nothing here does I/O: :class:`ChangeEvent` and its parts are built from the
server's change documents, :class:`WatchOptions` checks what ``watch()`` is given,
:class:`Checkpoint` is the protocol a token store follows, and :func:`resumable` /
:func:`history_lost` say what a stream does after an error. The I/O classes
(:class:`~mongocat.ChangeStream`, :class:`~mongocat.Consumer`) are in ``_changes``.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Generic, Literal, Protocol, TypeAlias, TypedDict

from bson import Timestamp

from ._coercion import as_filter
from ._errors import (
    ConfigurationError,
    MongocatError,
    NetworkError,
    OperationFailed,
    ServerUnavailable,
)
from ._paths import flag
from ._pipeline import Pipeline
from ._types import DocT, FilterLike

__all__ = [
    "STARTS",
    "ChangeEvent",
    "Checkpoint",
    "FullDocument",
    "MemoryCheckpoint",
    "Namespace",
    "OnGap",
    "StreamGap",
    "UpdateDescription",
    "WatchArgs",
    "WatchFilter",
    "WatchOptions",
    "history_lost",
    "resumable",
]


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
_CURSOR_NOT_FOUND: Final = 43
#: The options that say where a stream starts.
STARTS: Final = frozenset({"resume_after", "start_after", "start_at_operation_time"})
_FULL_DOCUMENT: Final = ("default", "updateLookup", "whenAvailable", "required")
_BEFORE_CHANGE: Final = ("off", "whenAvailable", "required")


@dataclass(frozen=True, slots=True)
class Namespace:
    """Where a change happened.

    Attributes:
        database: The database's name; None when the event does not carry it (a
            ``$project`` in the stream's pipeline removed it).
        collection: The collection's name; None for database-wide events
            (``dropDatabase``).
    """

    database: str | None
    collection: str | None

    @classmethod
    def from_raw(cls, raw: Any) -> "Namespace | None":
        """Build from an event's ``ns`` or ``to`` document."""
        if not isinstance(raw, Mapping):
            return None
        return cls(_text(raw.get("db")), _text(raw.get("coll")))


@dataclass(frozen=True, slots=True)
class UpdateDescription:
    """What an update changed.

    Attributes:
        updated_fields: Each changed path with its new value.
        removed_fields: The paths the update removed.
        truncated_arrays: Arrays shortened in place (``{"field": ..., "newSize": ...}``).
        disambiguated_paths: For an updated path that a dotted name makes ambiguous
            (a field named ``"a.b"``, or a numeric key), its segments
            (``{"a.b": ["a.b"]}``; MongoDB 6.1+ with ``show_expanded_events``); else
            empty.
    """

    updated_fields: dict[str, Any]
    removed_fields: list[str]
    truncated_arrays: list[dict[str, Any]]
    disambiguated_paths: dict[str, list[Any]] = field(default_factory=dict)

    @classmethod
    def from_raw(cls, raw: Any) -> "UpdateDescription | None":
        """Build from an event's ``updateDescription``."""
        if not isinstance(raw, Mapping):
            return None
        return cls(
            dict(raw.get("updatedFields") or {}),
            list(raw.get("removedFields") or []),
            list(raw.get("truncatedArrays") or []),
            dict(raw.get("disambiguatedPaths") or {}),
        )


@dataclass(frozen=True, slots=True)
class ChangeEvent(Generic[DocT]):
    """One change: an insert, update, replace, delete, or a collection-level event.

    Attributes:
        operation_type: ``"insert"``, ``"update"``, ``"replace"``, ``"delete"``,
            ``"drop"``, ``"rename"``, ``"dropDatabase"``, ``"invalidate"``, and with
            ``show_expanded_events`` ``"create"``, ``"createIndexes"``,
            ``"dropIndexes"``, ``"modify"``, ``"shardCollection"``, ...; None when the
            event does not carry it (a ``$project`` in the pipeline removed it).
        resume_token: The token that resumes a stream just after this event.
        document_key: The changed document's ``_id`` (and shard key), if any.
        full_document: The document, as ``full_document=`` asked for; else None.
        full_document_before_change: The pre-image, if asked for and recorded.
        update_description: What an ``update`` changed; None for other events.
        cluster_time: The operation's cluster time.
        wall_time: The server's wall-clock time of the operation, if it sends one.
        namespace: The database and collection of the change.
        to: The new namespace of a ``rename``.
        raw: The event exactly as the server sent it (every field, expanded events'
            ``operationDescription`` included).
    """

    operation_type: str | None
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
            operation_type=_text(raw.get("operationType")),
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


def _text(value: Any) -> str | None:
    """``value`` if the event carries it as text, else None (never ``"None"``)."""
    return value if isinstance(value, str) else None


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
        comment: A comment attached to the stream's aggregate and getMore commands.
        show_expanded_events: Also report DDL events (``create``, ``createIndexes``,
            ``dropIndexes``, ``modify``, ``shardCollection``, ...; MongoDB 6.0+).
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
    comment: Any
    show_expanded_events: bool


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
        if arguments.get("comment") is not None:
            options["comment"] = arguments["comment"]
        expanded = arguments.get("show_expanded_events")
        if expanded is not None:
            options["show_expanded_events"] = flag(expanded, "show_expanded_events")
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


#: The first wire version (MongoDB 4.4) whose servers label resumable errors.
_LABELLING_WIRE_VERSION: Final = 9


def resumable(error: MongocatError, wire_version: int | None = None) -> bool:
    """Whether the change stream specification says to resume after ``error``.

    A network error (or no server) always is, and so is ``CursorNotFound`` (43). A
    server error is when it carries the ``ResumableChangeStreamError`` label; from
    servers before MongoDB 4.4 (wire version 9), which do not label errors, when its
    code is in the specification's list. ``NonResumableChangeStreamError`` never is.
    An unknown wire version takes either sign.
    """
    if isinstance(error, NetworkError | ServerUnavailable):
        return True
    if error.has_error_label("NonResumableChangeStreamError"):
        return False
    if isinstance(error, OperationFailed) and error.code == _CURSOR_NOT_FOUND:
        return True
    if error.has_error_label("ResumableChangeStreamError"):
        return True
    if wire_version is not None and wire_version >= _LABELLING_WIRE_VERSION:
        return False
    return isinstance(error, OperationFailed) and error.code in _RESUMABLE_CODES


def history_lost(error: MongocatError) -> bool:
    """Whether ``error`` says the resume point has left the oplog."""
    return isinstance(error, OperationFailed) and error.code == _HISTORY_LOST
