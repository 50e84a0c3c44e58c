"""The typed collection: CRUD over one MongoDB collection."""

import logging
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, Unpack, cast, overload

from ._arguments import (
    as_filter,
    as_projection,
    as_replacement,
    as_sort,
    as_update,
    as_write_filter,
    check_document,
    check_documents,
    update_array_filters,
)
from ._bulk import BulkWriter, bulk_insert
from ._changes import ChangeEvent, ChangeStream, Consumer, WatchArgs, WatchFilter, WatchOptions
from ._cursor import SKIP, Cursor, Decoder
from ._driver import DRIVER_ERRORS, translate_error
from ._driver import aggregate as open_aggregate
from ._errors import ConfigurationError, DocumentDecodeError, DocumentNotFound, InvalidQuery
from ._explain import ExplainSummary
from ._index_manager import IndexManager
from ._models import DecodeFailure, DocumentCodec, codec_for, is_model_type
from ._pagination import Page, PageKeys
from ._pipeline import Pipeline
from ._results import (
    BulkWriteSummary,
    DeleteResult,
    InsertManyResult,
    InsertOneResult,
    UpdateResult,
)
from ._transaction import bound_session
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

if TYPE_CHECKING:
    from ._catalogue import Catalogue

__all__ = ["Collection"]

_log = logging.getLogger("mongocat")

_T = TypeVar("_T")
_Row = TypeVar("_Row")


def _options(**options: Any) -> dict[str, Any]:
    """Keep the options the caller set, so the driver's own defaults apply to the rest."""
    return {name: value for name, value in options.items() if value is not None}


def _update_result(raw: Any) -> UpdateResult:
    """Copy a driver UpdateResult (counts stay unknown for a w=0 write)."""
    if not raw.acknowledged:
        return UpdateResult(None, None, None, acknowledged=False)
    return UpdateResult(raw.matched_count, raw.modified_count, raw.upserted_id)


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
        "_catalogue",
        "_collection",
        "_decode",
        "_encode",
        "_on_invalid",
        "document_type",
        "skipped",
    )

    def __init__(
        self,
        catalogue: "Catalogue",
        driver_collection: Any,
        document_type: type[DocT],
        on_invalid: OnInvalid = "raise",
    ):
        if on_invalid not in ("raise", "skip", "raw"):
            raise ConfigurationError(
                f"on_invalid must be 'raise', 'skip' or 'raw', not {on_invalid!r}"
            )
        self._catalogue = catalogue
        self._collection = driver_collection
        #: The type the documents are declared as (a TypedDict, ``dict``, a dataclass
        #: or a Pydantic model).
        self.document_type = document_type
        self._on_invalid = on_invalid
        codec = codec_for(document_type)
        # None for dict and TypedDict documents: they cross the wire untouched.
        self._decode: Decoder | None = None if codec is None else self._decoder(codec)
        self._encode: Callable[[Any], dict[str, Any]] | None = (
            None if codec is None else codec.encode
        )
        #: How many stored documents reads have skipped (``on_invalid="skip"``).
        self.skipped = 0

    def _decoder(self, codec: DocumentCodec[Any]) -> Decoder:
        """The function that decodes this collection's documents with ``codec``."""
        namespace = self._collection.full_name
        on_invalid = self._on_invalid
        type_name = codec.document_type.__name__

        def decode(raw: Any) -> Any:
            try:
                return codec.decode(raw)
            except DecodeFailure as failure:
                if on_invalid == "raw":
                    return raw
                if on_invalid == "skip":
                    self.skipped += 1
                    _log.warning(
                        "skipped the document with _id %r in %s: field %s %s",
                        raw.get("_id"),
                        namespace,
                        failure.field,
                        failure.reason,
                    )
                    return SKIP
                raise DocumentDecodeError(
                    namespace,
                    raw.get("_id"),
                    failure.field,
                    failure.reason,
                    document_type=type_name,
                ) from failure

        return decode

    def _read_as(self, projection: Any) -> tuple[Decoder | None, Any]:
        """The decoder and projection to send for ``projection``.

        A dataclass or model type becomes the projection of its fields, and results
        are decoded into it; anything else keeps the collection's own decoder.
        """
        if not is_model_type(projection):
            return self._decode, projection
        codec = cast("DocumentCodec[Any]", codec_for(projection))
        return self._decoder(codec), codec.projection()

    def _decode_one(self, raw: Any, decode: Decoder | None = None) -> Any:
        """Decode one document (None stays None; a skipped one becomes None)."""
        decode = decode or self._decode
        if raw is None or decode is None:
            return raw
        value = decode(raw)
        return None if value is SKIP else value

    def _encoded(self, document: Any, *, replacement: bool = False) -> Any:
        """The document to store for ``document``: encoded if its type needs it, checked.

        A replacement is checked for update operators first, for the clearer message.
        """
        raw = document if self._encode is None else self._encode(document)
        if replacement:
            as_replacement(raw)
        check_document(raw)
        return raw

    def __repr__(self) -> str:
        return f"<Collection {self.full_name!r} of {self.document_type.__name__}>"

    @property
    def name(self) -> str:
        """The collection's name."""
        return cast(str, self._collection.name)

    @property
    def full_name(self) -> str:
        """The namespace, ``"database.collection"``."""
        return cast(str, self._collection.full_name)

    @property
    def driver_collection(self) -> Any:
        """The driver's own collection object, for what mongocat does not wrap."""
        return self._collection

    def bulk(
        self,
        *,
        ordered: bool = True,
        batch_size: int = 1000,
        max_batch_bytes: int | None = None,
        concurrency: int = 1,
        retries: int = 2,
        raise_on_error: bool = True,
        on_progress: Callable[[BulkWriteSummary], Any] | None = None,
    ) -> BulkWriter[DocT]:
        r"""Return a bulk writer: ``async with coll.bulk() as bulk: await bulk.insert_one(d)``.

        Operations are sent in batches of ``batch_size`` operations or
        ``max_batch_bytes`` of BSON; queueing one awaits the flush of a full batch.

        Args:
            ordered: Stop at the first failure (the summary lists what never ran), or
                try every operation.
            batch_size: Operations per batch.
            max_batch_bytes: BSON bytes per batch; default just under the server's
                ``maxMessageSizeBytes``.
            concurrency: Batches in flight at once (unordered only).
            retries: Resend an insert batch this many times after a network or
                retryable error (inserts carry client-side ``_id``\ s, so nothing is
                inserted twice); other batches rely on the driver's retryable writes.
            raise_on_error: Raise BulkWriteFailed at the end (ordered: at the failure).
            on_progress: Called with the summary after every batch.

        Returns:
            The writer; its ``result`` is the summary by the caller's indexes.
        """
        return BulkWriter(
            self,
            ordered=ordered,
            batch_size=batch_size,
            max_batch_bytes=max_batch_bytes,
            concurrency=concurrency,
            retries=retries,
            raise_on_error=raise_on_error,
            on_progress=on_progress,
        )

    async def bulk_insert(
        self,
        documents: Iterable[DocT] | AsyncIterable[DocT],
        *,
        ordered: bool = True,
        batch_size: int = 1000,
        max_batch_bytes: int | None = None,
        concurrency: int = 1,
        retries: int = 2,
        raise_on_error: bool = True,
        on_progress: Callable[[BulkWriteSummary], Any] | None = None,
    ) -> BulkWriteSummary:
        """Insert any iterable or async iterable in batches, with bounded memory.

        Takes the options of :meth:`bulk`; at most ``concurrency`` batches are held.

        Returns:
            The summary of what was inserted and what failed, by the caller's indexes.

        Raises:
            BulkWriteFailed: Some documents failed (with ``raise_on_error``).
        """
        writer = self.bulk(
            ordered=ordered,
            batch_size=batch_size,
            max_batch_bytes=max_batch_bytes,
            concurrency=concurrency,
            retries=retries,
            raise_on_error=raise_on_error,
            on_progress=on_progress,
        )
        return await bulk_insert(writer, documents)

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
        self._live()
        return ChangeStream(
            self._catalogue, self._collection, WatchOptions.build(filter_or_pipeline, options)
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
        self._live()
        stream: ChangeStream[DocT] = ChangeStream(
            self._catalogue,
            self._collection,
            WatchOptions.build(filter_or_pipeline, options),
            autosave=False,
            decode=None if self._decode is None else self._decode_one,
        )
        return Consumer(stream, handler)

    @property
    def indexes(self) -> IndexManager:
        """The index manager of this collection (list, plan, ensure, sync, drop)."""
        return IndexManager(self)

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

    def _session(self, session: SessionLike) -> SessionLike:
        """The explicit session, else the transaction or session this task is in."""
        return session if session is not None else bound_session(self._catalogue._client)

    def _live(self) -> Any:
        """Return the driver collection, or raise if the Catalogue is closed."""
        self._catalogue._ensure_open()
        return self._collection

    async def _run(self, call: Awaitable[_T]) -> _T:
        """Await a driver call, translating its errors."""
        try:
            return await call
        except DRIVER_ERRORS as exc:
            raise translate_error(exc, self._catalogue._secrets) from exc

    # -- inserts -------------------------------------------------------------------

    async def insert_one(
        self,
        document: DocT,
        *,
        bypass_document_validation: bool = False,
        comment: Any = None,
        session: SessionLike = None,
    ) -> InsertOneResult:
        """Insert one document; like the drivers, add an ``_id`` to it if it has none.

        Args:
            document: The document to insert.
            bypass_document_validation: Skip the collection's schema validation.
            comment: A comment attached to the command in the server's logs.
            session: A driver session to run in.

        Returns:
            The inserted ``_id``.

        Raises:
            DuplicateKeyError: A unique index already holds one of its keys.
        """
        raw = await self._run(
            self._live().insert_one(
                self._encoded(document),
                bypass_document_validation=bypass_document_validation,
                comment=comment,
                session=self._session(session),
            )
        )
        return InsertOneResult(raw.inserted_id, raw.acknowledged)

    async def insert_many(
        self,
        documents: Iterable[DocT],
        *,
        ordered: bool = True,
        bypass_document_validation: bool = False,
        comment: Any = None,
        session: SessionLike = None,
    ) -> InsertManyResult:
        """Insert documents, adding an ``_id`` to each that has none.

        An empty iterable inserts nothing and sends nothing.

        Args:
            documents: The documents to insert.
            ordered: Stop at the first failure (True), or try every document.
            bypass_document_validation: Skip the collection's schema validation.
            comment: A comment attached to the command in the server's logs.
            session: A driver session to run in.

        Returns:
            The inserted ``_id`` of each document, in order.

        Raises:
            BulkWriteFailed: Some documents failed; ``.result.errors`` gives the index
                of each failed document in ``documents``.
        """
        batch = documents if isinstance(documents, list) else list(documents)
        if self._encode is not None:
            batch = [self._encode(document) for document in batch]
        check_documents(batch)
        if not batch:
            self._catalogue._ensure_open()
            return InsertManyResult([])
        raw = await self._run(
            self._live().insert_many(
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
        session: SessionLike = None,
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
        session: SessionLike = None,
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
        session: SessionLike = None,
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
            session: A driver session to run in.

        Returns:
            An async-iterable, awaitable cursor of ``DocT``.

        Example:
            >>> cheap = await products.find({"price": {"$lt": 10}}, sort="price")  # doctest: +SKIP
        """
        decode, projection = self._read_as(projection)
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
            session=session,
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
        session: SessionLike = None,
    ) -> Cursor[Any]:
        """The cursor of :meth:`find`, decoding with ``decode`` (None: raw documents)."""
        options = _options(
            projection=as_projection(projection),
            sort=as_sort(sort),
            skip=skip,
            limit=limit,
            batch_size=batch_size,
            max_time_ms=max_time_ms,
            hint=hint,
            collation=collation,
            comment=comment,
            session=self._session(session),
        )
        return Cursor(
            self._live().find(as_filter(filter), **options), self._catalogue._secrets, decode=decode
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
        session: SessionLike = None,
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
        session: SessionLike = None,
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
        session: SessionLike = None,
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
            let: Variables for the pipeline (``$$name``).
            comment: A comment attached to the command in the server's logs.
            session: A driver session to run in.

        Returns:
            A cursor of ``output`` rows; ``await cursor.explain()`` shows the plan.

        Example:
            >>> per_product = Pipeline().group("$product", n=acc.sum())
            >>> rows = await orders.aggregate(per_product)  # doctest: +SKIP
        """
        stages = Pipeline.from_mongo(pipeline).to_mongo()
        options = _options(
            allowDiskUse=allow_disk_use,
            maxTimeMS=max_time_ms,
            batchSize=batch_size,
            collation=collation,
            hint=hint,
            let=let,
            comment=comment,
            session=self._session(session),
        )
        collection = self._live()
        catalogue = self._catalogue

        async def explain() -> Any:
            command = {"aggregate": collection.name, "pipeline": stages, "cursor": {}}
            return await catalogue._database.command("explain", command, verbosity="executionStats")

        codec = codec_for(output)
        return Cursor(
            None,
            catalogue._secrets,
            opener=lambda: open_aggregate(collection, catalogue._driver, stages, options),
            explainer=explain,
            decode=None if codec is None else self._decoder(codec),
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

        Returns:
            The document, or None when nothing matches.
        """
        decode, projection = self._read_as(projection)
        options = _options(
            projection=as_projection(projection),  # type: ignore[arg-type]
            sort=as_sort(sort),
            skip=skip,
            max_time_ms=max_time_ms,
            hint=hint,
            collation=collation,
            comment=comment,
            session=self._session(session),
        )
        raw = await self._run(self._live().find_one(as_filter(filter), **options))
        return self._decode_one(raw, decode)

    async def find_one_or_raise(
        self,
        filter: FilterLike | None = None,
        *,
        projection: ProjectionLike | None = None,
        sort: SortLike | None = None,
        session: SessionLike = None,
    ) -> DocT:
        """Return the first document that matches ``filter``; it must exist.

        Args:
            filter: The query.
            projection: The fields to return.
            sort: Which document is first when several match.
            session: A driver session to run in.

        Returns:
            The document.

        Raises:
            DocumentNotFound: Nothing matches ``filter``.
        """
        document = await self.find_one(filter, projection=projection, sort=sort, session=session)
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

        Returns:
            The page, with tokens for the pages on either side (None at the ends).

        Raises:
            InvalidPageToken: A token was altered, truncated, or made for another query.

        Example:
            >>> page = await products.paginate(F.category == "tools", sort=Sort.asc("price"),
            ...                                limit=20, after=token)  # doctest: +SKIP
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidQuery(f"paginate() limit must be a positive int, not {limit!r}")
        if after is not None and before is not None:
            raise InvalidQuery("paginate() takes after= or before=, not both")
        query = as_filter(filter)
        sort_pairs = as_sort(sort)
        if not sort_pairs:
            raise InvalidQuery("paginate() needs a sort, e.g. sort=Sort.asc('price')")
        keys = PageKeys(sort_pairs, query, self._catalogue._page_token_key)
        forward = before is None
        token = after if forward else before
        if token is not None:
            anchor = keys.read(token, "after" if forward else "before")
            query = (
                {"$and": [query, keys.beyond(anchor, forward)]}
                if query
                else keys.beyond(anchor, forward)
            )
        # Tokens are made from the stored documents; the page holds them decoded.
        documents: list[dict[str, Any]] = await self._find(
            query,
            None,
            sort=keys.sort(forward),
            limit=limit + 1,
            projection=projection,
            session=session,
        ).to_list()
        more = len(documents) > limit
        raw = documents[:limit]
        if not forward:
            raw.reverse()
        if not raw:
            return Page([], None, None)
        # Going forward, there is a previous page if we started from a token; going
        # backward, there is a next page (the token's own document at least).
        has_next = more if forward else True
        has_prev = (token is not None) if forward else more
        items: list[DocT] = raw  # type: ignore[assignment]
        if self._decode is not None:
            values = [self._decode(document) for document in raw]
            items = [value for value in values if value is not SKIP]
        return Page(
            items,
            keys.token(raw[-1], "after") if has_next else None,
            keys.token(raw[0], "before") if has_prev else None,
        )

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

        Returns:
            The number of matching documents.
        """
        options = _options(
            skip=skip,
            limit=limit,
            maxTimeMS=max_time_ms,
            hint=hint,
            collation=collation,
            comment=comment,
            session=self._session(session),
        )
        return cast(
            int, await self._run(self._live().count_documents(as_filter(filter), **options))
        )

    async def estimated_count(self, *, max_time_ms: int | None = None, comment: Any = None) -> int:
        """Return the collection's document count from its metadata: fast, not exact.

        Args:
            max_time_ms: Stop on the server after this many milliseconds.
            comment: A comment attached to the command in the server's logs.

        Returns:
            The approximate number of documents.
        """
        options = _options(maxTimeMS=max_time_ms, comment=comment)
        return cast(int, await self._run(self._live().estimated_document_count(**options)))

    async def distinct(
        self,
        key: str,
        filter: FilterLike | None = None,
        *,
        max_time_ms: int | None = None,
        collation: CollationLike | None = None,
        comment: Any = None,
        session: SessionLike = None,
    ) -> list[Any]:
        """Return the distinct values of ``key`` among the documents matching ``filter``.

        Args:
            key: The field (a dotted path is fine).
            filter: The query; None looks at every document.
            max_time_ms: Stop on the server after this many milliseconds.
            collation: Language-aware string comparison rules.
            comment: A comment attached to the command in the server's logs.
            session: A driver session to run in.

        Returns:
            The distinct values, in no particular order.
        """
        options = _options(
            maxTimeMS=max_time_ms,
            collation=collation,
            comment=comment,
            session=self._session(session),
        )
        return cast(
            "list[Any]", await self._run(self._live().distinct(key, as_filter(filter), **options))
        )

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
        session: SessionLike = None,
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
            session: A driver session to run in.

        Returns:
            matched_count, modified_count and upserted_id.

        Raises:
            InvalidQuery: ``update`` is not operators or a pipeline.
            DuplicateKeyError: The update or upsert would duplicate a unique key.
        """
        options = _options(
            array_filters=update_array_filters(update, array_filters),
            hint=hint,
            collation=collation,
            comment=comment,
            session=self._session(session),
        )
        raw = await self._run(
            self._live().update_one(
                as_write_filter(filter), as_update(update), upsert=upsert, **options
            )
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
        session: SessionLike = None,
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
            session: A driver session to run in.

        Returns:
            matched_count, modified_count and upserted_id.
        """
        options = _options(
            array_filters=update_array_filters(update, array_filters),
            hint=hint,
            collation=collation,
            comment=comment,
            session=self._session(session),
        )
        raw = await self._run(
            self._live().update_many(
                as_write_filter(filter), as_update(update), upsert=upsert, **options
            )
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
        session: SessionLike = None,
    ) -> UpdateResult:
        """Replace the first document that matches ``filter`` (its ``_id`` stays).

        Args:
            filter: Which document to replace.
            replacement: The new document, without update operators.
            upsert: Insert ``replacement`` when nothing matches.
            hint: The index to use, by name or key pattern.
            collation: Language-aware string comparison rules.
            comment: A comment attached to the command in the server's logs.
            session: A driver session to run in.

        Returns:
            matched_count, modified_count and upserted_id.
        """
        options = _options(
            hint=hint, collation=collation, comment=comment, session=self._session(session)
        )
        raw = await self._run(
            self._live().replace_one(
                as_write_filter(filter),
                self._encoded(replacement, replacement=True),
                upsert=upsert,
                **options,
            )
        )
        return _update_result(raw)

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
        session: SessionLike = None,
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
            session: A driver session to run in.

        Returns:
            The document, or None when nothing matched (and, with ``"before"``, when
            it was upserted).
        """
        options = _options(
            projection=as_projection(projection),
            sort=as_sort(sort),
            array_filters=update_array_filters(update, array_filters),
            hint=hint,
            collation=collation,
            comment=comment,
            session=self._session(session),
        )
        document = await self._run(
            self._live().find_one_and_update(
                as_write_filter(filter),
                as_update(update),
                upsert=upsert,
                return_document=_return_after(return_document),
                **options,
            )
        )
        return cast("DocT | None", self._decode_one(document))

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
        session: SessionLike = None,
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
            session: A driver session to run in.

        Returns:
            The document, or None when nothing matched.
        """
        options = _options(
            projection=as_projection(projection),
            sort=as_sort(sort),
            hint=hint,
            collation=collation,
            comment=comment,
            session=self._session(session),
        )
        document = await self._run(
            self._live().find_one_and_replace(
                as_write_filter(filter),
                self._encoded(replacement, replacement=True),
                upsert=upsert,
                return_document=_return_after(return_document),
                **options,
            )
        )
        return cast("DocT | None", self._decode_one(document))

    async def find_one_and_delete(
        self,
        filter: FilterLike,
        *,
        projection: ProjectionLike | None = None,
        sort: SortLike | None = None,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
        comment: Any = None,
        session: SessionLike = None,
    ) -> DocT | None:
        """Delete one document atomically and return it.

        Args:
            filter: Which document to delete.
            projection: The fields to return.
            sort: Which document to delete when several match.
            hint: The index to use, by name or key pattern.
            collation: Language-aware string comparison rules.
            comment: A comment attached to the command in the server's logs.
            session: A driver session to run in.

        Returns:
            The deleted document, or None when nothing matched.
        """
        options = _options(
            projection=as_projection(projection),
            sort=as_sort(sort),
            hint=hint,
            collation=collation,
            comment=comment,
            session=self._session(session),
        )
        document = await self._run(
            self._live().find_one_and_delete(as_write_filter(filter), **options)
        )
        return cast("DocT | None", self._decode_one(document))

    # -- deletes -------------------------------------------------------------------

    async def delete_one(
        self,
        filter: FilterLike,
        *,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
        comment: Any = None,
        session: SessionLike = None,
    ) -> DeleteResult:
        """Delete the first document that matches ``filter``.

        Args:
            filter: Which document to delete.
            hint: The index to use, by name or key pattern.
            collation: Language-aware string comparison rules.
            comment: A comment attached to the command in the server's logs.
            session: A driver session to run in.

        Returns:
            deleted_count (0 or 1).
        """
        options = _options(
            hint=hint, collation=collation, comment=comment, session=self._session(session)
        )
        raw = await self._run(self._live().delete_one(as_write_filter(filter), **options))
        return DeleteResult(raw.deleted_count if raw.acknowledged else None, raw.acknowledged)

    async def delete_many(
        self,
        filter: FilterLike,
        *,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
        comment: Any = None,
        session: SessionLike = None,
    ) -> DeleteResult:
        """Delete every document that matches ``filter`` (``{}`` deletes them all).

        Args:
            filter: Which documents to delete; required, so that deleting everything
                is always written out as ``{}``.
            hint: The index to use, by name or key pattern.
            collation: Language-aware string comparison rules.
            comment: A comment attached to the command in the server's logs.
            session: A driver session to run in.

        Returns:
            deleted_count.
        """
        options = _options(
            hint=hint, collation=collation, comment=comment, session=self._session(session)
        )
        raw = await self._run(self._live().delete_many(as_write_filter(filter), **options))
        return DeleteResult(raw.deleted_count if raw.acknowledged else None, raw.acknowledged)


def _return_after(return_document: ReturnDocument) -> bool:
    """Map ``"before"``/``"after"`` to the drivers' ReturnDocument (a bool)."""
    if return_document == "after":
        return True
    if return_document == "before":
        return False
    raise InvalidQuery(f"return_document must be 'before' or 'after', not {return_document!r}")
