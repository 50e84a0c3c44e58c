"""The typed collection: CRUD over one MongoDB collection."""

from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Final, Generic, Literal, TypeVar, Unpack, cast, overload

from pymongo import CursorType

from ._bulk import BulkWriter, bulk_insert
from ._bulk_shared import BulkArgs, BulkOptions
from ._change_events import ChangeEvent, WatchArgs, WatchFilter, WatchOptions
from ._changes import ChangeStream, Consumer
from ._coercion import (
    as_duration,
    as_filter,
    as_projection,
    as_sort,
    as_sort_document,
    as_update,
    as_write_filter,
    update_array_filters,
)
from ._concerns import (
    ReadConcernLike,
    ReadPreferenceLike,
    WriteConcernLike,
    driver_options,
    refuse_in_transaction,
)
from ._cursor import Cursor
from ._deadlines import seconds
from ._documents import Decoder, DocumentCoder
from ._errors import DocumentNotFound, InvalidQuery, TransactionError
from ._explain import ExplainSummary
from ._filters import Filter
from ._handle import DatabaseHandle
from ._index_manager import IndexManager
from ._object_ids import give_ids
from ._pagination import Page, PageQuery
from ._paths import field_name, flag, is_int
from ._pipeline import Pipeline
from ._results import (
    DeleteResult,
    InsertManyResult,
    InsertOneResult,
    UpdateResult,
)
from ._sessions import current_binding
from ._summaries import BulkWriteSummary
from ._types import (
    CollationLike,
    DocT,
    FilterLike,
    HintLike,
    OnInvalid,
    ProjectionLike,
    ReturnDocument,
    SessionLike,
    SortLike,
    UpdateLike,
)
from ._update import Update

__all__ = ["Collection", "aggregate_cursor"]

_Row = TypeVar("_Row")


#: Makes an object without ``__init__`` (one Python call fewer), where every field is set.
_NEW: Final = object.__new__

#: The whole-number options, by the name mongocat or the driver gives them, and the
#: least value each takes (``limit`` may be negative: a single batch, in the drivers).
_COUNTS: Final = {
    "skip": ("skip", 0),
    "limit": ("limit", None),
    "batch_size": ("batch_size", 0),
    "batchSize": ("batch_size", 0),
    "max_time_ms": ("max_time_ms", 0),
    "maxTimeMS": ("max_time_ms", 0),
}


def aggregate_cursor(
    handle: DatabaseHandle,
    target: Any,
    pipeline: "Pipeline | Sequence[Mapping[str, Any]]",
    *,
    decode: Decoder | None,
    allow_disk_use: bool | None,
    max_time_ms: int | None,
    batch_size: int | None,
    let: Mapping[str, Any] | None,
    comment: Any,
    session: SessionLike,
    collation: CollationLike | None = None,
    hint: HintLike | None = None,
    bypass_document_validation: bool | None = None,
    timeout: float | None = None,
) -> Cursor[Any]:
    """The cursor of an aggregation on ``target``: a driver collection, or the database.

    The pipeline is checked as ``Pipeline.from_mongo`` does (and for JavaScript), the
    options are named as the ``aggregate`` command names them; nothing is sent until
    the cursor is iterated or awaited.
    """
    built = Pipeline.from_mongo(pipeline)
    stages = built.to_mongo()
    handle.refuse_javascript(stages, "aggregate")
    joined = handle.session(session)
    if joined is not None and joined.in_transaction:
        searching = _SEARCH_STAGES.intersection(built.stage_names)
        if searching:
            raise TransactionError(
                f"{', '.join(sorted(searching))} cannot run in a transaction (Atlas Search "
                "reads outside it): run the search before or after the transaction"
            )
    options = _only_given(
        allowDiskUse=allow_disk_use,
        maxTimeMS=max_time_ms,
        batchSize=batch_size,
        collation=collation,
        hint=hint,
        let=let,
        comment=comment,
        bypassDocumentValidation=bypass_document_validation,
        session=joined,
    )
    # A database-level aggregate is {"aggregate": 1}; never getattr a driver database
    # (an unknown attribute is a collection of that name).
    name: str | int = 1 if target is handle.database else target.name

    async def explain(verbosity: str) -> Any:
        command: dict[str, Any] = {"aggregate": name, "pipeline": stages, "cursor": {}}
        return await handle.database.command("explain", command, verbosity=verbosity)

    return Cursor(
        handle,
        None,
        opener=lambda: handle.aggregate(target, stages, options),
        explainer=explain,
        decode=decode,
        timeout=seconds(timeout),
        namespace=handle.name if target is handle.database else target.full_name,
    )


#: The cursor types of the CRUD specification, as find() takes them.
CursorTypeName = Literal["non_tailable", "tailable", "tailable_await"]
_CURSOR_TYPES: Final = {
    "non_tailable": CursorType.NON_TAILABLE,
    "tailable": CursorType.TAILABLE,
    "tailable_await": CursorType.TAILABLE_AWAIT,
}


def _cursor_options(
    no_cursor_timeout: bool | None,
    cursor_type: CursorTypeName | None,
    max_await: float | timedelta | None,
) -> dict[str, Any]:
    """The driver's find() arguments for a long-lived or tailable cursor, checked.

    Raises:
        InvalidQuery: An unknown cursor type, or ``max_await`` without
            ``"tailable_await"``, or not a positive duration.
    """
    options: dict[str, Any] = {}
    if no_cursor_timeout is not None:
        options["no_cursor_timeout"] = flag(no_cursor_timeout, "no_cursor_timeout")
    if cursor_type is not None:
        if cursor_type not in _CURSOR_TYPES:
            raise InvalidQuery(
                f"cursor_type must be one of {', '.join(map(repr, _CURSOR_TYPES))}, not "
                f"{cursor_type!r}"
            )
        options["cursor_type"] = _CURSOR_TYPES[cursor_type]
    if max_await is not None:
        if cursor_type != "tailable_await":
            raise InvalidQuery(
                "max_await applies to a tailable-await cursor only: pass "
                "cursor_type='tailable_await' with it"
            )
        seconds = as_duration(max_await, "max_await", error=InvalidQuery, positive=True) or 0.0
        options["max_await_time_ms"] = max(1, round(seconds * 1000))
    return options


#: find()'s options as the find command names them (those an explain needs).
_FIND_FIELDS: Final = {
    "projection": "projection",
    "skip": "skip",
    "limit": "limit",
    "batch_size": "batchSize",
    "max_time_ms": "maxTimeMS",
    "collation": "collation",
    "comment": "comment",
    "let": "let",
    "allow_disk_use": "allowDiskUse",
}


def _find_command(options: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a find command for find()'s driver options (for an explain)."""
    command = {_FIND_FIELDS[k]: v for k, v in options.items() if k in _FIND_FIELDS}
    if "sort" in options:
        command["sort"] = dict(options["sort"])
    hint = options.get("hint")
    if hint is not None:
        command["hint"] = hint if isinstance(hint, str | Mapping) else dict(hint)
    collation = command.get("collation")
    if collation is not None and not isinstance(collation, Mapping):
        command["collation"] = collation.document
    return command


#: Stages that read from Atlas Search, which a transaction cannot.
_SEARCH_STAGES: Final = frozenset({"$search", "$searchMeta", "$vectorSearch"})


def _transaction_refuses(driver_collection: Any) -> bool:
    """Whether the collection's options are ones a transaction cannot have."""
    return (
        not driver_collection.write_concern.acknowledged
        or driver_collection.read_preference.mode != 0
    )


def _only_given(**options: Any) -> dict[str, Any]:
    """Keep the options the caller set, so the driver's own defaults apply to the rest.

    Raises:
        InvalidQuery: A whole-number option (``limit``, ``skip``, ``batch_size``,
            ``max_time_ms``) is not an int, or is below its least value.
    """
    given = {name: value for name, value in options.items() if value is not None}
    if _COUNTS.keys().isdisjoint(given):
        return given  # the common case: no whole-number option to check
    for name, value in given.items():
        rule = _COUNTS.get(name)
        if rule is not None and (not is_int(value) or (rule[1] is not None and value < rule[1])):
            shown = f"{type(value).__name__} {value!r}"
            least = "an int" if rule[1] is None else f"an int of at least {rule[1]}"
            raise InvalidQuery(f"{rule[0]}= takes {least}, not {shown[:80]}")
    return given


def _carry_array_filters(
    options: dict[str, Any], update: UpdateLike, array_filters: Sequence[Mapping[str, Any]] | None
) -> None:
    """Add the update's array filters (the caller's, or the Update's own) to ``options``."""
    carried = update_array_filters(update, array_filters)
    if carried is not None:
        options["array_filters"] = carried


def _update_result(raw: Any) -> UpdateResult:
    """The counts of a driver UpdateResult (unknown for a w=0 write).

    Read from the server's reply as the CRUD specification defines them (an upsert
    matched nothing): one property read, where the driver's three count properties
    would each check the acknowledgement again.
    """
    reply = raw.raw_result  # None for a w=0 write, as the drivers return it
    if reply is None:
        return UpdateResult(None, None, None, acknowledged=False)
    upserted = reply.get("upserted")
    # Made without __init__ (one Python call fewer), as every field is set here.
    result: UpdateResult = _NEW(UpdateResult)
    result.raw_matched_count = 0 if upserted is not None else reply.get("n", 0)
    result.raw_modified_count = reply.get("nModified")
    result.upserted_id = upserted
    result.acknowledged = True
    return result


class Collection(Generic[DocT]):
    """One MongoDB collection whose documents are ``DocT``.

    Get one from :meth:`Catalogue.collection`. Documents pass through as the driver
    decodes them, with no per-document conversion. Every method accepts
    ``session=`` (a driver session) and raises :class:`~mongocat.MongocatError`
    subclasses, never the driver's exceptions.

    Example:
        >>> products = cat.collection("products", Product)  # doctest: +SKIP
        >>> await products.insert_one({"sku": "W-1", "name": "Widget", "price": 9.99})
    """

    __slots__ = (
        "_allow_dollar_fields",
        "_coder",
        "_driver_collection",
        "_full_name",
        "_handle",
        "_joined_session",
        "_on_invalid",
        "document_type",
    )

    def __init__(
        self,
        handle: DatabaseHandle,
        driver_collection: Any,
        document_type: type[DocT],
        on_invalid: OnInvalid = "raise",
        *,
        allow_dollar_fields: bool = False,
    ):
        self._handle = handle
        self._driver_collection = driver_collection
        self._full_name: str = driver_collection.full_name
        #: The type the documents are declared as (a TypedDict, ``dict``, a dataclass
        #: or a Pydantic model).
        self.document_type = document_type
        self._on_invalid: OnInvalid = on_invalid
        self._allow_dollar_fields = allow_dollar_fields
        #: The session an operation runs in; where the collection's own options are
        #: what a transaction cannot do (w=0, reads off the primary), the lookup also
        #: refuses to join one.
        self._joined_session: Callable[[Any], Any] = (
            self._session_outside_transactions
            if _transaction_refuses(driver_collection)
            else handle.session
        )
        self._coder = DocumentCoder(
            document_type,
            driver_collection.full_name,
            on_invalid,
            allow_dollar_fields=allow_dollar_fields,
        )

    def _session(self, explicit: Any) -> Any:
        """The session an operation runs in: ``explicit``, else the one it joins, or None."""
        if explicit is None and current_binding() is None:
            return None  # the common case: no session given or bound, nothing to look up
        return self._joined_session(explicit)

    def _session_outside_transactions(self, explicit: Any) -> Any:
        """The session, as the handle finds it; refused if it is in a transaction."""
        session = self._handle.session(explicit)
        if session is not None and session.in_transaction:
            driver = self._driver_collection
            refuse_in_transaction(
                driver.read_preference, driver.write_concern, f"collection {self.full_name!r}"
            )
        return session

    def with_options(
        self,
        *,
        read_preference: ReadPreferenceLike | None = None,
        read_concern: ReadConcernLike | None = None,
        write_concern: WriteConcernLike | None = None,
    ) -> "Collection[DocT]":
        """The same collection (document type, declared indexes) with other options.

        Options not given keep this collection's. Every operation of the result uses
        them: reads, writes, bulk writes, aggregations (a ``$out``/``$merge``
        pipeline runs on the primary where the server needs it), pagination and
        change streams.

        Args:
            read_preference: Which members may serve reads: a mode name
                (``"secondaryPreferred"``), a document ``{"mode": "secondary",
                "tags": [{"dc": "east"}], "maxStalenessSeconds": 120}``, or a pymongo
                read preference.
            read_concern: ``"local"``, ``"majority"``, ``"linearizable"``, ... (or
                ``{"level": ...}``, or a pymongo ``ReadConcern``).
            write_concern: ``w`` (``1``, ``"majority"``), a document ``{"w":
                "majority", "wtimeout": 5000, "j": True}``, or a pymongo
                ``WriteConcern``.

        Returns:
            A new :class:`Collection` of the same ``DocT``.

        Raises:
            ConfigurationError: An option is not a valid preference or concern.

        Example:
            >>> reports = orders.with_options(  # doctest: +SKIP
            ...     read_preference="secondaryPreferred", read_concern="majority"
            ... )
        """
        options = driver_options(read_preference, read_concern, write_concern)
        driver = (
            self._driver_collection.with_options(**options) if options else self._driver_collection
        )
        return Collection(
            self._handle,
            driver,
            self.document_type,
            self._on_invalid,
            allow_dollar_fields=self._allow_dollar_fields,
        )

    @property
    def read_preference(self) -> Any:
        """The read preference operations use (the driver's object)."""
        return self._driver_collection.read_preference

    @property
    def read_concern(self) -> Any:
        """The read concern operations use (the driver's ``ReadConcern``)."""
        return self._driver_collection.read_concern

    @property
    def write_concern(self) -> Any:
        """The write concern operations use (the driver's ``WriteConcern``)."""
        return self._driver_collection.write_concern

    @property
    def skipped(self) -> int:
        """How many stored documents reads have skipped (``on_invalid="skip"``)."""
        return self._coder.skipped

    def __repr__(self) -> str:
        return f"<Collection {self.full_name!r} of {self.document_type.__name__}>"

    @property
    def name(self) -> str:
        """The collection's name."""
        return cast(str, self._driver_collection.name)

    @property
    def full_name(self) -> str:
        """The namespace, ``"database.collection"``."""
        return self._full_name

    @property
    def driver_collection(self) -> Any:
        """The driver's own collection object, for what mongocat does not wrap."""
        return self._driver_collection

    def bulk(self, **options: Unpack[BulkArgs]) -> BulkWriter[DocT]:
        """Return a bulk writer: ``async with coll.bulk() as bulk: await bulk.insert_one(d)``.

        Operations are sent in batches of ``batch_size`` operations or
        ``max_batch_bytes`` of BSON; queueing one awaits the flush of a full batch.

        Args:
            **options: The :class:`BulkArgs`: ``ordered``, ``batch_size``,
                ``max_batch_bytes``, ``concurrency``, ``retries``, ``raise_on_error``,
                ``on_progress``.

        Returns:
            The writer; its ``result`` is the summary by the caller's indexes.

        Raises:
            ConfigurationError: An option is unknown or has a wrong value.

        Example:
            >>> async with products.bulk(batch_size=1000, ordered=False) as bulk:  # doctest: +SKIP
            ...     await bulk.insert_one(doc)
        """
        return BulkWriter(
            self._handle, self._driver_collection, self._coder, BulkOptions.build(options)
        )

    async def bulk_insert(
        self,
        documents: Iterable[DocT] | AsyncIterable[DocT],
        **options: Unpack[BulkArgs],
    ) -> BulkWriteSummary:
        """Insert any iterable or async iterable in batches, with bounded memory.

        Takes the options of :meth:`bulk`; at most ``concurrency`` batches are held.

        Returns:
            The summary of what was inserted and what failed, by the caller's indexes.

        Raises:
            BulkWriteFailed: Some documents failed (with ``raise_on_error``).
        """
        return await bulk_insert(self.bulk(**options), documents)

    def watch(
        self, filter_or_pipeline: WatchFilter = None, **options: Unpack[WatchArgs]
    ) -> ChangeStream[DocT]:
        """Return a change stream of this collection's changes; enter it to open it.

        Args:
            filter_or_pipeline: A filter on the change events (``F.operationType ==
                "insert"``, ``{"fullDocument.category": "tools"}``), or a pipeline.
            **options: The :class:`WatchArgs`: ``full_document``,
                ``full_document_before_change``, ``start_at``, ``resume_after``,
                ``start_after``, ``batch_size``, ``max_await``, ``checkpoint``,
                ``on_gap``, ``resume_attempts``, ``resume_backoff``.

        Returns:
            A :class:`ChangeStream` of ``ChangeEvent[DocT]``, not yet open.

        Raises:
            ConfigurationError: An option is unknown or has a wrong value.

        Example:
            >>> async with products.watch(full_document="updateLookup") as stream:  # doctest: +SKIP
            ...     async for event in stream:
            ...         await broadcast(event.full_document)
        """
        return ChangeStream(
            self._handle,
            self._open_driver_collection(),
            WatchOptions.build(filter_or_pipeline, options),
        )

    def consume(
        self,
        handler: Callable[[ChangeEvent[DocT]], Awaitable[object]],
        filter_or_pipeline: WatchFilter = None,
        **options: Unpack[WatchArgs],
    ) -> Consumer[DocT]:
        """Return a consumer that calls ``handler`` for each change, in a background task.

        Use it as ``async with coll.consume(handler, checkpoint=...):``. With a
        checkpoint, processing is at least once across restarts: each event's token
        is saved after ``handler`` returns.

        Args:
            handler: An async function taking a :class:`ChangeEvent`.
            filter_or_pipeline: As for :meth:`watch`.
            **options: As for :meth:`watch`.

        Returns:
            A :class:`Consumer`, not yet started.
        """
        coder = self._coder
        stream: ChangeStream[DocT] = ChangeStream(
            self._handle,
            self._open_driver_collection(),
            WatchOptions.build(filter_or_pipeline, options),
            autosave=False,
            decode=None if coder.decode is None else coder.decode_one,
        )
        return Consumer(stream, handler)

    @property
    def indexes(self) -> IndexManager:
        """The index manager of this collection (list, plan, ensure, sync, drop)."""
        return IndexManager(self._handle, self._driver_collection)

    async def assert_uses_index(
        self,
        filter: FilterLike | None = None,
        *,
        sort: SortLike | None = None,
        index: str | None = None,
    ) -> ExplainSummary:
        """Check, in your tests, that a query is answered from an index.

        Args:
            filter: The query.
            sort: Its sort, if any.
            index: The index name it must use; any index will do when None.

        Returns:
            The explain summary, for further checks.

        Raises:
            AssertionError: The plan scans the collection, or uses another index.
        """
        summary = await self.find(filter, sort=sort).explain()
        if not summary.uses_index:
            raise AssertionError(
                f"the query {as_filter(filter)!r} on {self.full_name!r} uses no index "
                f"(plan {' > '.join(summary.stages)}); add an index on its fields"
            )
        if index is not None and summary.index_name != index:
            raise AssertionError(
                f"the query {as_filter(filter)!r} uses index {summary.index_name!r}, "
                f"not {index!r} (plan {' > '.join(summary.stages)})"
            )
        return summary

    def _open_driver_collection(self) -> Any:
        """Return the driver collection, once the handle is known to be open."""
        self._handle.ensure_open()
        return self._driver_collection

    def _query(
        self, filter: FilterLike | None, operation: str, *, write: bool = False, many: bool = False
    ) -> Mapping[str, Any]:
        """The filter document of ``operation``, checked (None, empty, JavaScript)."""
        if type(filter) is dict:  # a filter document: only the JavaScript check applies
            query: Mapping[str, Any] = filter
        elif type(filter) is Filter and not many:  # not None, and empty is allowed here
            built = filter._document
            if built is not None:
                return built  # a field equal to a value: no operator, nothing to refuse
            query = filter.to_mongo()
        elif write:
            query = as_write_filter(filter, many=operation if many else None)
        else:
            query = as_filter(filter)
        self._handle.refuse_javascript(query, operation)
        return query

    def _write_options(
        self,
        upsert: bool,
        hint: HintLike | None,
        collation: CollationLike | None,
        comment: Any,
        let: Mapping[str, Any] | None,
        bypass_document_validation: bool | None,
        session: SessionLike,
        *,
        sort: SortLike | None = None,
    ) -> dict[str, Any]:
        """The options an update or a replacement was given, as the driver names them.

        Only those given are passed (no ``upsert=False``, no ``session=None``: the
        driver binds every keyword it is given), so the driver's defaults apply to the
        rest (and a driver without ``sort`` works while it is not used); written out
        option by option, as this runs on every write. ``upsert`` other than False
        is passed as given, for the driver to check.
        """
        if (
            upsert is False
            and hint is None
            and collation is None
            and comment is None
            and sort is None
            and let is None
            and bypass_document_validation is None
            and session is None
            and current_binding() is None
        ):
            return {}  # the common case: nothing given, no session bound
        options: dict[str, Any] = {}
        joined = self._session(session)
        if joined is not None:
            options["session"] = joined
        if upsert is not False:
            options["upsert"] = upsert
        if hint is not None:
            options["hint"] = hint
        if collation is not None:
            options["collation"] = collation
        if comment is not None:
            options["comment"] = comment
        if sort is not None:
            options["sort"] = as_sort_document(sort)
        if let is not None:
            options["let"] = let
        if bypass_document_validation is not None:
            options["bypass_document_validation"] = bypass_document_validation
        return options

    def _modify_options(
        self,
        projection: ProjectionLike | None,
        sort: SortLike | None,
        hint: HintLike | None,
        collation: CollationLike | None,
        comment: Any,
        let: Mapping[str, Any] | None,
        bypass_document_validation: bool | None,
        session: SessionLike,
        max_time_ms: int | None,
    ) -> dict[str, Any]:
        """The options a find-and-modify was given, as the driver names them."""
        options = self._write_options(False, hint, collation, comment, let, None, session)
        if max_time_ms is not None:
            options.update(_only_given(maxTimeMS=max_time_ms))
        if projection is not None:
            options["projection"] = as_projection(projection)
        if sort is not None:
            options["sort"] = as_sort(sort)
        if bypass_document_validation is not None:
            options["bypassDocumentValidation"] = bypass_document_validation
        return options

    def _send_update(
        self,
        operation: str,
        filter: FilterLike,
        update: UpdateLike,
        array_filters: Sequence[Mapping[str, Any]] | None,
        options: dict[str, Any],
    ) -> Awaitable[Any]:
        """The driver's ``update_one`` or ``update_many`` call, its arguments checked."""
        send: Callable[..., Awaitable[Any]] = getattr(self._driver_collection, operation)
        return send(
            self._query(filter, operation, write=True, many=operation == "update_many"),
            self._update(update, operation, array_filters, options),
            **options,
        )

    def _update(
        self,
        update: UpdateLike,
        operation: str,
        array_filters: Sequence[Mapping[str, Any]] | None,
        options: dict[str, Any],
    ) -> Any:
        """The update document or pipeline of ``operation``, checked.

        The array filters to send (the caller's, or those the Update carries) are
        added to ``options``.
        """
        kind = type(update)
        if array_filters is not None or (
            kind is not dict and (kind is not Update or update._array_filters)  # type: ignore[union-attr]
        ):
            _carry_array_filters(options, update, array_filters)
        rendered = update._rendered if kind is Update else None  # type: ignore[union-attr]
        # The Update's document, built with it or at its first send; else as_update's.
        document: Any = as_update(update) if rendered is None else rendered
        if type(document) is list:  # an update pipeline may call $function
            self._handle.refuse_javascript(document, operation)
        elif rendered is None or not update._scalar_values:  # type: ignore[union-attr]
            self._coder.check_update(document)  # (an Update storing only scalars: no names)
        return document

    # -- inserts -------------------------------------------------------------------

    async def insert_one(
        self,
        document: DocT,
        *,
        bypass_document_validation: bool = False,
        comment: Any = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> InsertOneResult:
        """Insert one document; like the drivers, add an ``_id`` to it if it has none.

        Args:
            document: The document to insert.
            bypass_document_validation: Skip the collection's schema validation.
            comment: A comment attached to the command in the server's logs.
            session: A driver session to run in.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Returns:
            The inserted ``_id``.

        Raises:
            DuplicateKeyError: A unique index already holds one of its keys.
        """
        raw = await self._handle.send(
            timeout,
            "insert_one",
            self._full_name,
            self._send_insert_one,
            document,
            bypass_document_validation,
            comment,
            self._session(session),
        )
        result: InsertOneResult = _NEW(InsertOneResult)  # no __init__: one call fewer
        result.inserted_id = raw.inserted_id
        result.acknowledged = raw.acknowledged
        return result

    def _send_insert_one(
        self, document: DocT, bypass_document_validation: bool, comment: Any, session: Any
    ) -> Awaitable[Any]:
        """The driver's ``insert_one`` call with its checked document."""
        send: Callable[..., Awaitable[Any]] = self._driver_collection.insert_one
        return send(
            self._coder.stored(document),
            bypass_document_validation=bypass_document_validation,
            comment=comment,
            session=session,
        )

    async def insert_many(
        self,
        documents: Iterable[DocT],
        *,
        ordered: bool = True,
        bypass_document_validation: bool = False,
        comment: Any = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> InsertManyResult:
        """Insert documents, adding an ``_id`` to each that has none.

        An empty iterable inserts nothing and sends nothing.

        Args:
            documents: The documents to insert.
            ordered: Stop at the first failure (True), or try every document.
            bypass_document_validation: Skip the collection's schema validation.
            comment: A comment attached to the command in the server's logs.
            session: A driver session to run in.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Returns:
            The inserted ``_id`` of each document, in order.

        Raises:
            BulkWriteFailed: Some documents failed; ``.result.errors`` gives the index
                of each failed document in ``documents``.
        """
        batch = self._coder.stored_many(documents)
        if not batch:
            self._handle.ensure_open()
            return InsertManyResult([])
        with self._handle.operation(timeout, "insert_many", self._full_name):
            driver_collection = self._open_driver_collection()
            give_ids(batch)  # as the driver would, a batch's ids at once (see _object_ids)
            raw = await self._handle.run(
                driver_collection.insert_many(
                    batch,
                    ordered=ordered,
                    bypass_document_validation=bypass_document_validation,
                    comment=comment,
                    session=self._session(session),
                )
            )
        return InsertManyResult(raw.inserted_ids, raw.acknowledged)

    # -- reads ---------------------------------------------------------------------

    @overload
    def find(
        self,
        filter: FilterLike | None = None,
        *,
        projection: type[_Row],
        sort: SortLike | None = None,
        skip: int | None = None,
        limit: int | None = None,
        batch_size: int | None = None,
        max_time_ms: int | None = None,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
        comment: Any = None,
        let: Mapping[str, Any] | None = None,
        allow_disk_use: bool | None = None,
        no_cursor_timeout: bool | None = None,
        cursor_type: CursorTypeName | None = None,
        max_await: float | timedelta | None = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> Cursor[_Row]: ...

    @overload
    def find(
        self,
        filter: FilterLike | None = None,
        *,
        projection: ProjectionLike | None = None,
        sort: SortLike | None = None,
        skip: int | None = None,
        limit: int | None = None,
        batch_size: int | None = None,
        max_time_ms: int | None = None,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
        comment: Any = None,
        let: Mapping[str, Any] | None = None,
        allow_disk_use: bool | None = None,
        no_cursor_timeout: bool | None = None,
        cursor_type: CursorTypeName | None = None,
        max_await: float | timedelta | None = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> Cursor[DocT]: ...

    def find(
        self,
        filter: FilterLike | None = None,
        *,
        projection: ProjectionLike | type[Any] | None = None,
        sort: SortLike | None = None,
        skip: int | None = None,
        limit: int | None = None,
        batch_size: int | None = None,
        max_time_ms: int | None = None,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
        comment: Any = None,
        let: Mapping[str, Any] | None = None,
        allow_disk_use: bool | None = None,
        no_cursor_timeout: bool | None = None,
        cursor_type: CursorTypeName | None = None,
        max_await: float | timedelta | None = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> Cursor[Any]:
        """Return a cursor over the documents that match ``filter``.

        Nothing is sent until the cursor is iterated or awaited.

        Args:
            filter: The query; None matches every document.
            projection: The fields to return (a document, or field names to include),
                or a smaller dataclass or Pydantic model: its fields are fetched and
                each document is decoded into it.
            sort: The order: a field name, ``(field, direction)`` pairs or a document.
            skip: How many matching documents to skip.
            limit: The most documents to return.
            batch_size: How many documents each round trip fetches.
            max_time_ms: Stop the query on the server after this many milliseconds.
            hint: The index to use, by name or key pattern.
            collation: Language-aware string comparison rules.
            comment: A comment attached to the command in the server's logs.
            let: Variables for the query's ``$expr`` (``expr.var("name")`` reads them).
            allow_disk_use: Let a large sort spill to disk on the server.
            no_cursor_timeout: Keep the server from closing the cursor after 10
                minutes idle. The server still ends it with its session after 30
                minutes without use (``localLogicalSessionTimeoutMinutes``): a job
                that pauses longer between batches must refresh its session (run it
                in ``cat.session()`` and ping with that session) or re-query.
            cursor_type: ``"tailable"`` or ``"tailable_await"`` for a cursor on a
                capped collection that stays open at its end and returns documents
                inserted later (``"non_tailable"``, the default, ends there).
            max_await: With ``"tailable_await"``, how long the server waits for new
                documents before answering a fetch with none, in seconds.
            session: A driver session to run in.
            timeout: A deadline in seconds for the cursor's whole life, from its first
                round trip: every batch must arrive before it.

        Returns:
            An async-iterable, awaitable cursor of ``DocT``.

        Example:
            >>> cheap = await products.find({"price": {"$lt": 10}}, sort="price")  # doctest: +SKIP
        """
        decode, projection = self._coder.read_as(projection)
        return self._find(
            filter,
            decode,
            projection=projection,
            sort=sort,
            skip=skip,
            limit=limit,
            batch_size=batch_size,
            max_time_ms=max_time_ms,
            hint=hint,
            collation=collation,
            comment=comment,
            let=let,
            allow_disk_use=allow_disk_use,
            no_cursor_timeout=no_cursor_timeout,
            cursor_type=cursor_type,
            max_await=max_await,
            session=session,
            timeout=timeout,
        )

    def _find(
        self,
        filter: FilterLike | None,
        decode: Decoder | None,
        *,
        projection: Any = None,
        sort: SortLike | None = None,
        skip: int | None = None,
        limit: int | None = None,
        batch_size: int | None = None,
        max_time_ms: int | None = None,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
        comment: Any = None,
        let: Mapping[str, Any] | None = None,
        allow_disk_use: bool | None = None,
        no_cursor_timeout: bool | None = None,
        cursor_type: CursorTypeName | None = None,
        max_await: float | timedelta | None = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> Cursor[Any]:
        """The cursor of :meth:`find`, decoding with ``decode`` (None: raw documents)."""
        tailing = _cursor_options(no_cursor_timeout, cursor_type, max_await)
        options = _only_given(
            projection=as_projection(projection),
            sort=as_sort(sort),
            skip=skip,
            limit=limit,
            batch_size=batch_size,
            max_time_ms=max_time_ms,
            hint=hint,
            collation=collation,
            comment=comment,
            let=let,
            allow_disk_use=allow_disk_use,
            session=self._session(session),
            no_cursor_timeout=tailing.get("no_cursor_timeout"),
            cursor_type=tailing.get("cursor_type"),
        )
        query = self._query(filter, "find")
        database, name = self._handle.database, self.name

        def explain(verbosity: str) -> Any:
            command = {"find": name, "filter": query, **_find_command(options)}
            return database.command(
                "explain", command, verbosity=verbosity, session=options.get("session")
            )

        max_await_ms = tailing.get("max_await_time_ms")
        driver_cursor = self._open_driver_collection().find(query, **options)
        if max_await_ms is not None:  # a cursor method in both drivers, not a find() option
            driver_cursor.max_await_time_ms(max_await_ms)
        return Cursor(
            self._handle,
            driver_cursor,
            explainer=explain,
            decode=decode,
            timeout=seconds(timeout),
            namespace=self.full_name,
        )

    @overload
    def aggregate(
        self,
        pipeline: "Pipeline | Sequence[Mapping[str, Any]]",
        *,
        allow_disk_use: bool | None = None,
        max_time_ms: int | None = None,
        batch_size: int | None = None,
        collation: CollationLike | None = None,
        hint: HintLike | None = None,
        let: Mapping[str, Any] | None = None,
        comment: Any = None,
        bypass_document_validation: bool | None = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> Cursor[dict[str, Any]]: ...

    @overload
    def aggregate(
        self,
        pipeline: "Pipeline | Sequence[Mapping[str, Any]]",
        *,
        output: type[_Row],
        allow_disk_use: bool | None = None,
        max_time_ms: int | None = None,
        batch_size: int | None = None,
        collation: CollationLike | None = None,
        hint: HintLike | None = None,
        let: Mapping[str, Any] | None = None,
        comment: Any = None,
        bypass_document_validation: bool | None = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> Cursor[_Row]: ...

    def aggregate(
        self,
        pipeline: "Pipeline | Sequence[Mapping[str, Any]]",
        *,
        output: type[Any] = dict,
        allow_disk_use: bool | None = None,
        max_time_ms: int | None = None,
        batch_size: int | None = None,
        collation: CollationLike | None = None,
        hint: HintLike | None = None,
        let: Mapping[str, Any] | None = None,
        comment: Any = None,
        bypass_document_validation: bool | None = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> Cursor[Any]:
        """Run an aggregation pipeline; iterate or await the returned cursor.

        Args:
            pipeline: A :class:`~mongocat.Pipeline` or a list of stage documents.
            output: The type of the result rows: a TypedDict (nothing is converted), or
                a dataclass or Pydantic model each row is decoded into.
            allow_disk_use: Let large sorts and groups spill to disk.
            max_time_ms: Stop on the server after this many milliseconds.
            batch_size: How many rows each round trip fetches.
            collation: Language-aware string comparison rules.
            hint: The index to use, by name or key pattern.
            let: Variables for the pipeline (``expr.var("name")`` reads them).
            comment: A comment attached to the command in the server's logs.
            bypass_document_validation: Let ``$out``/``$merge`` skip the target's
                validator (needs the bypassDocumentValidation privilege).
            session: A driver session to run in.
            timeout: A deadline in seconds for the cursor's whole life, from its first
                round trip (the aggregate command).

        Returns:
            A cursor of ``output`` rows; ``await cursor.explain()`` shows the plan.

        Example:
            >>> per_product = Pipeline().group(F.product, n=acc.sum())
            >>> rows = await orders.aggregate(per_product)  # doctest: +SKIP
        """
        return aggregate_cursor(
            self._handle,
            self._open_driver_collection(),
            pipeline,
            decode=self._coder.decoder_for(output),
            allow_disk_use=allow_disk_use,
            max_time_ms=max_time_ms,
            batch_size=batch_size,
            let=let,
            comment=comment,
            session=self._session(session),
            collation=collation,
            hint=hint,
            bypass_document_validation=bypass_document_validation,
            timeout=timeout,
        )

    @overload
    async def find_one(
        self,
        filter: FilterLike | None = None,
        *,
        projection: type[_Row],
        sort: SortLike | None = None,
        skip: int | None = None,
        max_time_ms: int | None = None,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
        comment: Any = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> _Row | None: ...

    @overload
    async def find_one(
        self,
        filter: FilterLike | None = None,
        *,
        projection: ProjectionLike | None = None,
        sort: SortLike | None = None,
        skip: int | None = None,
        max_time_ms: int | None = None,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
        comment: Any = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> DocT | None: ...

    async def find_one(
        self,
        filter: FilterLike | None = None,
        *,
        projection: ProjectionLike | type[Any] | None = None,
        sort: SortLike | None = None,
        skip: int | None = None,
        max_time_ms: int | None = None,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
        comment: Any = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> Any:
        """Return the first document that matches ``filter``, or None.

        Args:
            filter: The query; None matches every document.
            projection: The fields to return, or a smaller dataclass or Pydantic model
                to decode into (as for :meth:`find`).
            sort: Which document is first when several match.
            skip: How many matching documents to skip.
            max_time_ms: Stop the query on the server after this many milliseconds.
            hint: The index to use, by name or key pattern.
            collation: Language-aware string comparison rules.
            comment: A comment attached to the command in the server's logs.
            session: A driver session to run in.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Returns:
            The document, or None when nothing matches.
        """
        decode, projection = self._coder.read_as(projection)
        options = _only_given(
            projection=as_projection(projection),  # type: ignore[arg-type]
            sort=as_sort(sort),
            skip=skip,
            max_time_ms=max_time_ms,
            hint=hint,
            collation=collation,
            comment=comment,
            session=self._session(session),
        )
        raw = await self._handle.send(
            timeout, "find_one", self._full_name, self._send_find_one, filter, options, read=True
        )
        return self._coder.decode_one(raw, decode)

    def _send_find_one(self, filter: FilterLike | None, options: dict[str, Any]) -> Awaitable[Any]:
        """The driver's ``find_one`` call with its checked filter."""
        send: Callable[..., Awaitable[Any]] = self._driver_collection.find_one
        return send(self._query(filter, "find_one"), **options)

    async def find_one_or_raise(
        self,
        filter: FilterLike | None = None,
        *,
        projection: ProjectionLike | None = None,
        sort: SortLike | None = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> DocT:
        """Return the first document that matches ``filter``; it must exist.

        Args:
            filter: The query.
            projection: The fields to return.
            sort: Which document is first when several match.
            session: A driver session to run in.
            timeout: A deadline in seconds for this call.

        Returns:
            The document.

        Raises:
            DocumentNotFound: Nothing matches ``filter``.
        """
        document = await self.find_one(
            filter, projection=projection, sort=sort, session=session, timeout=timeout
        )
        if document is None:
            raise DocumentNotFound(self.full_name, as_filter(filter))
        return document

    async def paginate(
        self,
        filter: FilterLike | None = None,
        *,
        sort: SortLike,
        limit: int,
        after: str | None = None,
        before: str | None = None,
        projection: ProjectionLike | None = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> Page[DocT]:
        """Return one page of a sorted query, by keyset (never ``skip``).

        The next page starts after the last document's sort key, with ``_id`` as the
        tie-breaker, so equal sort values are neither skipped nor repeated and each
        page costs one index range scan however deep it is. Every document must have
        the sort fields, each of one BSON type.

        Args:
            filter: The query; None pages through every document.
            sort: The order (required): a Sort, field name, pairs or document.
            limit: The page size.
            after: A ``next_token``: the page after it.
            before: A ``prev_token``: the page before it.
            projection: The fields to return; it must keep the sort fields.
            session: A driver session to run in.
            timeout: A deadline in seconds for this call.

        Returns:
            The page, with tokens for the pages on either side (None at the ends).

        Raises:
            InvalidPageToken: A token was altered, truncated, or made for another query.

        Example:
            >>> page = await products.paginate(F.category == "tools", sort=Sort.asc("price"),
            ...                                limit=20, after=token)  # doctest: +SKIP
        """
        query = PageQuery.build(
            self._query(filter, "paginate"),
            as_sort(sort),
            limit=limit,
            after=after,
            before=before,
            key=self._handle.page_token_key,
        )
        rows: list[dict[str, Any]] = await self._find(
            query.filter,
            None,
            sort=query.sort,
            limit=query.limit,
            projection=projection,
            session=session,
            timeout=timeout,
        ).to_list()
        return query.page(rows, self._coder.decode_all)

    async def count(
        self,
        filter: FilterLike | None = None,
        *,
        skip: int | None = None,
        limit: int | None = None,
        max_time_ms: int | None = None,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
        comment: Any = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> int:
        """Count the documents that match ``filter`` exactly (``count_documents``).

        Args:
            filter: The query; None counts every document.
            skip: How many matching documents to skip before counting.
            limit: The most documents to count.
            max_time_ms: Stop the count on the server after this many milliseconds.
            hint: The index to use, by name or key pattern.
            collation: Language-aware string comparison rules.
            comment: A comment attached to the command in the server's logs.
            session: A driver session to run in.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Returns:
            The number of matching documents.
        """
        options = _only_given(
            skip=skip,
            limit=limit,
            maxTimeMS=max_time_ms,
            hint=hint,
            collation=collation,
            comment=comment,
            session=self._session(session),
        )
        with self._handle.operation(timeout, "count", self._full_name):
            count: int = await self._handle.run(
                self._open_driver_collection().count_documents(
                    self._query(filter, "count"), **options
                ),
                read=True,
            )
        return count

    async def estimated_count(
        self,
        *,
        max_time_ms: int | None = None,
        comment: Any = None,
        timeout: float | None = None,
    ) -> int:
        """Return the collection's document count from its metadata: fast, not exact.

        Args:
            max_time_ms: Stop on the server after this many milliseconds.
            comment: A comment attached to the command in the server's logs.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Returns:
            The approximate number of documents.
        """
        options = _only_given(maxTimeMS=max_time_ms, comment=comment)
        with self._handle.operation(timeout, "estimated_count", self._full_name):
            count: int = await self._handle.run(
                self._open_driver_collection().estimated_document_count(**options), read=True
            )
        return count

    async def distinct(
        self,
        key: str,
        filter: FilterLike | None = None,
        *,
        max_time_ms: int | None = None,
        collation: CollationLike | None = None,
        comment: Any = None,
        hint: HintLike | None = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> list[Any]:
        """Return the distinct values of ``key`` among the documents matching ``filter``.

        Args:
            key: The field (a dotted path is fine).
            filter: The query; None looks at every document.
            max_time_ms: Stop on the server after this many milliseconds.
            collation: Language-aware string comparison rules.
            comment: A comment attached to the command in the server's logs.
            hint: The index to use, by name or key pattern.
            session: A driver session to run in.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Returns:
            The distinct values, in no particular order.
        """
        options = _only_given(
            maxTimeMS=max_time_ms,
            collation=collation,
            comment=comment,
            hint=hint,
            session=self._session(session),
        )
        with self._handle.operation(timeout, "distinct", self._full_name):
            values: list[Any] = await self._handle.run(
                self._open_driver_collection().distinct(
                    field_name(key), self._query(filter, "distinct"), **options
                ),
                read=True,
            )
        return values

    # -- updates -------------------------------------------------------------------

    async def update_one(
        self,
        filter: FilterLike,
        update: UpdateLike,
        *,
        upsert: bool = False,
        array_filters: Sequence[Mapping[str, Any]] | None = None,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
        comment: Any = None,
        sort: SortLike | None = None,
        let: Mapping[str, Any] | None = None,
        bypass_document_validation: bool | None = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> UpdateResult:
        """Update the first document that matches ``filter``.

        Args:
            filter: Which document to update.
            update: Update operators (``{"$set": {...}}``) or an update pipeline.
            upsert: Insert a document when nothing matches.
            array_filters: Conditions for the ``$[identifier]`` array positions.
            hint: The index to use, by name or key pattern.
            collation: Language-aware string comparison rules.
            comment: A comment attached to the command in the server's logs.
            sort: Which document to change when several match (MongoDB 8.0+).
            let: Variables for the query's ``$expr`` (``expr.var("name")`` reads them).
            bypass_document_validation: Skip the collection's validator (needs the
                bypassDocumentValidation privilege).
            session: A driver session to run in.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Returns:
            matched_count, modified_count and upserted_id.

        Raises:
            InvalidQuery: ``update`` is not operators or a pipeline.
            DuplicateKeyError: The update or upsert would duplicate a unique key.
        """
        options = self._write_options(
            upsert, hint, collation, comment, let, bypass_document_validation, session, sort=sort
        )
        raw = await self._handle.send(
            timeout,
            "update_one",
            self._full_name,
            self._send_update,
            "update_one",
            filter,
            update,
            array_filters,
            options,
        )
        return _update_result(raw)

    async def update_many(
        self,
        filter: FilterLike,
        update: UpdateLike,
        *,
        upsert: bool = False,
        array_filters: Sequence[Mapping[str, Any]] | None = None,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
        comment: Any = None,
        let: Mapping[str, Any] | None = None,
        bypass_document_validation: bool | None = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> UpdateResult:
        """Update every document that matches ``filter``.

        Args:
            filter: Which documents to update.
            update: Update operators (``{"$set": {...}}``) or an update pipeline.
            upsert: Insert a document when nothing matches.
            array_filters: Conditions for the ``$[identifier]`` array positions.
            hint: The index to use, by name or key pattern.
            collation: Language-aware string comparison rules.
            comment: A comment attached to the command in the server's logs.
            let: Variables for the query's ``$expr`` (``expr.var("name")`` reads them).
            bypass_document_validation: Skip the collection's validator (needs the
                bypassDocumentValidation privilege).
            session: A driver session to run in.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Returns:
            matched_count, modified_count and upserted_id.
        """
        options = self._write_options(
            upsert, hint, collation, comment, let, bypass_document_validation, session
        )
        raw = await self._handle.send(
            timeout,
            "update_many",
            self._full_name,
            self._send_update,
            "update_many",
            filter,
            update,
            array_filters,
            options,
        )
        return _update_result(raw)

    async def replace_one(
        self,
        filter: FilterLike,
        replacement: DocT,
        *,
        upsert: bool = False,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
        comment: Any = None,
        sort: SortLike | None = None,
        let: Mapping[str, Any] | None = None,
        bypass_document_validation: bool | None = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> UpdateResult:
        """Replace the first document that matches ``filter`` (its ``_id`` stays).

        Args:
            filter: Which document to replace.
            replacement: The new document, without update operators.
            upsert: Insert ``replacement`` when nothing matches.
            hint: The index to use, by name or key pattern.
            collation: Language-aware string comparison rules.
            comment: A comment attached to the command in the server's logs.
            sort: Which document to change when several match (MongoDB 8.0+).
            let: Variables for the query's ``$expr`` (``expr.var("name")`` reads them).
            bypass_document_validation: Skip the collection's validator (needs the
                bypassDocumentValidation privilege).
            session: A driver session to run in.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Returns:
            matched_count, modified_count and upserted_id.
        """
        options = self._write_options(
            upsert, hint, collation, comment, let, bypass_document_validation, session, sort=sort
        )
        raw = await self._handle.send(
            timeout,
            "replace_one",
            self._full_name,
            self._send_replace,
            filter,
            replacement,
            options,
        )
        return _update_result(raw)

    def _send_replace(
        self, filter: FilterLike, replacement: DocT, options: dict[str, Any]
    ) -> Awaitable[Any]:
        """The driver's ``replace_one`` call with its checked filter and replacement."""
        send: Callable[..., Awaitable[Any]] = self._driver_collection.replace_one
        return send(
            self._query(filter, "replace_one", write=True),
            self._coder.stored(replacement, replacement=True),
            **options,
        )

    # -- find-and-modify -----------------------------------------------------------

    async def find_one_and_update(
        self,
        filter: FilterLike,
        update: UpdateLike,
        *,
        return_document: ReturnDocument = "before",
        projection: ProjectionLike | None = None,
        sort: SortLike | None = None,
        upsert: bool = False,
        array_filters: Sequence[Mapping[str, Any]] | None = None,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
        comment: Any = None,
        let: Mapping[str, Any] | None = None,
        bypass_document_validation: bool | None = None,
        max_time_ms: int | None = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> DocT | None:
        """Update one document atomically and return it as it was before or after.

        Args:
            filter: Which document to update.
            update: Update operators or an update pipeline.
            return_document: ``"before"`` or ``"after"`` the update.
            projection: The fields to return.
            sort: Which document to update when several match.
            upsert: Insert a document when nothing matches.
            array_filters: Conditions for the ``$[identifier]`` array positions.
            hint: The index to use, by name or key pattern.
            collation: Language-aware string comparison rules.
            comment: A comment attached to the command in the server's logs.
            let: Variables for the query's ``$expr`` (``expr.var("name")`` reads them).
            bypass_document_validation: Skip the collection's validator (needs the
                bypassDocumentValidation privilege).
            max_time_ms: Stop the command on the server after this many milliseconds
                (inside a deadline, the time left replaces it).
            session: A driver session to run in.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Returns:
            The document, or None when nothing matched (and, with ``"before"``, when
            it was upserted).
        """
        options = self._modify_options(
            projection,
            sort,
            hint,
            collation,
            comment,
            let,
            bypass_document_validation,
            session,
            max_time_ms,
        )
        document = await self._handle.send(
            timeout,
            "find_one_and_update",
            self._full_name,
            self._send_find_one_and_update,
            filter,
            update,
            upsert,
            return_document,
            array_filters,
            options,
        )
        return cast("DocT | None", self._coder.decode_one(document))

    def _send_find_one_and_update(
        self,
        filter: FilterLike,
        update: UpdateLike,
        upsert: bool,
        return_document: ReturnDocument,
        array_filters: Sequence[Mapping[str, Any]] | None,
        options: dict[str, Any],
    ) -> Awaitable[Any]:
        """The driver's ``find_one_and_update`` call, its arguments checked."""
        send: Callable[..., Awaitable[Any]] = self._driver_collection.find_one_and_update
        return send(
            self._query(filter, "find_one_and_update", write=True),
            self._update(update, "find_one_and_update", array_filters, options),
            upsert=upsert,
            return_document=_return_after(return_document),
            **options,
        )

    async def find_one_and_replace(
        self,
        filter: FilterLike,
        replacement: DocT,
        *,
        return_document: ReturnDocument = "before",
        projection: ProjectionLike | None = None,
        sort: SortLike | None = None,
        upsert: bool = False,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
        comment: Any = None,
        let: Mapping[str, Any] | None = None,
        bypass_document_validation: bool | None = None,
        max_time_ms: int | None = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> DocT | None:
        """Replace one document atomically and return it as it was before or after.

        Args:
            filter: Which document to replace.
            replacement: The new document, without update operators.
            return_document: ``"before"`` or ``"after"`` the replacement.
            projection: The fields to return.
            sort: Which document to replace when several match.
            upsert: Insert ``replacement`` when nothing matches.
            hint: The index to use, by name or key pattern.
            collation: Language-aware string comparison rules.
            comment: A comment attached to the command in the server's logs.
            let: Variables for the query's ``$expr`` (``expr.var("name")`` reads them).
            bypass_document_validation: Skip the collection's validator (needs the
                bypassDocumentValidation privilege).
            max_time_ms: Stop the command on the server after this many milliseconds
                (inside a deadline, the time left replaces it).
            session: A driver session to run in.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Returns:
            The document, or None when nothing matched.
        """
        options = self._modify_options(
            projection,
            sort,
            hint,
            collation,
            comment,
            let,
            bypass_document_validation,
            session,
            max_time_ms,
        )
        with self._handle.operation(timeout, "find_one_and_replace", self._full_name):
            document = await self._handle.run(
                self._open_driver_collection().find_one_and_replace(
                    self._query(filter, "find_one_and_replace", write=True),
                    self._coder.stored(replacement, replacement=True),
                    upsert=upsert,
                    return_document=_return_after(return_document),
                    **options,
                )
            )
        return cast("DocT | None", self._coder.decode_one(document))

    async def find_one_and_delete(
        self,
        filter: FilterLike,
        *,
        projection: ProjectionLike | None = None,
        sort: SortLike | None = None,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
        comment: Any = None,
        let: Mapping[str, Any] | None = None,
        max_time_ms: int | None = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> DocT | None:
        """Delete one document atomically and return it.

        Args:
            filter: Which document to delete.
            projection: The fields to return.
            sort: Which document to delete when several match.
            hint: The index to use, by name or key pattern.
            collation: Language-aware string comparison rules.
            comment: A comment attached to the command in the server's logs.
            let: Variables for the query's ``$expr`` (``expr.var("name")`` reads them).
            max_time_ms: Stop the command on the server after this many milliseconds
                (inside a deadline, the time left replaces it).
            session: A driver session to run in.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Returns:
            The deleted document, or None when nothing matched.
        """
        options = self._modify_options(
            projection, sort, hint, collation, comment, let, None, session, max_time_ms
        )
        with self._handle.operation(timeout, "find_one_and_delete", self._full_name):
            document = await self._handle.run(
                self._open_driver_collection().find_one_and_delete(
                    self._query(filter, "find_one_and_delete", write=True), **options
                )
            )
        return cast("DocT | None", self._coder.decode_one(document))

    # -- deletes -------------------------------------------------------------------

    async def delete_one(
        self,
        filter: FilterLike,
        *,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
        comment: Any = None,
        let: Mapping[str, Any] | None = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> DeleteResult:
        """Delete the first document that matches ``filter``.

        Args:
            filter: Which document to delete.
            hint: The index to use, by name or key pattern.
            collation: Language-aware string comparison rules.
            comment: A comment attached to the command in the server's logs.
            let: Variables for the query's ``$expr`` (``expr.var("name")`` reads them).
            session: A driver session to run in.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Returns:
            deleted_count (0 or 1).
        """
        options = _only_given(
            hint=hint,
            collation=collation,
            comment=comment,
            let=let,
            session=self._session(session),
        )
        raw = await self._handle.send(
            timeout, "delete_one", self._full_name, self._send_delete, "delete_one", filter, options
        )
        return DeleteResult(raw.deleted_count if raw.acknowledged else None, raw.acknowledged)

    async def delete_many(
        self,
        filter: FilterLike,
        *,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
        comment: Any = None,
        let: Mapping[str, Any] | None = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> DeleteResult:
        """Delete every document that matches ``filter`` (``{}`` deletes them all).

        Args:
            filter: Which documents to delete; required, so that deleting everything
                is always written out as ``{}``.
            hint: The index to use, by name or key pattern.
            collation: Language-aware string comparison rules.
            comment: A comment attached to the command in the server's logs.
            let: Variables for the query's ``$expr`` (``expr.var("name")`` reads them).
            session: A driver session to run in.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Returns:
            deleted_count.
        """
        options = _only_given(
            hint=hint,
            collation=collation,
            comment=comment,
            let=let,
            session=self._session(session),
        )
        raw = await self._handle.send(
            timeout,
            "delete_many",
            self._full_name,
            self._send_delete,
            "delete_many",
            filter,
            options,
        )
        return DeleteResult(raw.deleted_count if raw.acknowledged else None, raw.acknowledged)

    def _send_delete(
        self, operation: str, filter: FilterLike, options: dict[str, Any]
    ) -> Awaitable[Any]:
        """The driver's ``delete_one`` or ``delete_many`` call with its checked filter."""
        send: Callable[..., Awaitable[Any]] = getattr(self._driver_collection, operation)
        many = operation == "delete_many"
        return send(self._query(filter, operation, write=True, many=many), **options)


def _return_after(return_document: ReturnDocument) -> bool:
    """Map ``"before"``/``"after"`` to the drivers' ReturnDocument (a bool)."""
    if return_document == "after":
        return True
    if return_document == "before":
        return False
    raise InvalidQuery(f"return_document must be 'before' or 'after', not {return_document!r}")
