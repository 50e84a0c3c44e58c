"""Batched bulk writes that account for every operation by the caller's index.

A :class:`BulkWriter` queues operations and sends them in batches of ``batch_size``
operations or ``max_batch_bytes`` of BSON, whichever comes first; queueing awaits a
full batch's flush, so memory stays bounded. Errors are reported by each
operation's position in the order the caller gave them, across all batches. The
options and the accounting of replies are pure, in ``_bulk_shared``.
"""

import asyncio
import enum
import logging
import random
import time
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
    Sized,
)
from itertools import islice
from types import TracebackType
from typing import Any, Final, Generic, Self

import bson
from bson import ObjectId
from bson.raw_bson import RawBSONDocument
from pymongo import DeleteMany, DeleteOne, InsertOne, ReplaceOne, UpdateMany, UpdateOne

from ._bulk_shared import BulkAccount, BulkOptions, Queued
from ._coercion import as_sort_document, as_update, as_write_filter, update_array_filters
from ._deadlines import Deadline, current, earlier, start, within
from ._document_checks import check_document, check_documents, encode_stored
from ._documents import DocumentCoder
from ._errors import BulkWriteFailed, InvalidDocument, MongocatError, NetworkError
from ._handle import DatabaseHandle
from ._object_ids import give_ids, take_back_ids
from ._observe import NOTHING_OBSERVED, retry_attributes
from ._summaries import BulkWriteSummary
from ._types import CollationLike, DocT, FilterLike, HintLike, SortLike, UpdateLike

__all__ = ["BulkWriter", "bulk_insert"]

_log = logging.getLogger("mongocat")

#: Room left under the server's maxMessageSizeBytes for the command's own fields.
_MESSAGE_HEADROOM: Final = 16 * 1024

# MongoDB's maxBsonObjectSize: the same on every server version and deployment.
_MAX_DOCUMENT_BYTES: Final = 16 * 1024 * 1024
#: From this BSON size on, a bulk insert hands the driver a document's encoded bytes.
_ENCODE_ONCE_FROM: Final = 1024


class _Writer(enum.Enum):
    """Where a bulk writer is in its life."""

    ACCEPTING = "accepting operations"
    STOPPED = "stopped at an error of an ordered write"
    FINISHED = "finished"


_ACCEPTING: Final = _Writer.ACCEPTING


class BulkWriter(Generic[DocT]):
    """Queue writes and send them in batches; get it from :meth:`Collection.bulk`.

    Example:
        >>> async with products.bulk(batch_size=1000, ordered=False) as bulk:  # doctest: +SKIP
        ...     await bulk.insert_one(doc)
        ...     await bulk.update_one(F.sku == "x", Update.inc(stock=1))
        >>> bulk.result.inserted_count  # doctest: +SKIP
    """

    __slots__ = (
        "_account",
        "_batch",
        "_batch_bytes",
        "_coder",
        "_deadline",
        "_driver_collection",
        "_handle",
        "_in_flight",
        "_max_bytes",
        "_next_index",
        "_observation",
        "_options",
        "_state",
    )

    def __init__(
        self,
        handle: DatabaseHandle,
        driver_collection: Any,
        coder: DocumentCoder,
        options: BulkOptions,
    ) -> None:
        self._handle = handle
        self._driver_collection = driver_collection
        self._coder = coder
        self._options = options
        self._max_bytes = options.max_batch_bytes
        self._batch: list[Queued] = []
        self._batch_bytes = 0
        self._next_index = 0
        self._in_flight: set[asyncio.Task[None]] = set()
        self._account = BulkAccount(ordered=options.ordered, operation_of=_operation)
        self._state = _Writer.ACCEPTING
        #: The writer's own deadline (``timeout=``), from its creation.
        self._deadline = start(options.timeout)
        self._observation = NOTHING_OBSERVED

    def __repr__(self) -> str:
        return (
            f"<BulkWriter on {self._driver_collection.full_name!r} {self._state.value}, "
            f"{self._next_index} queued>"
        )

    # -- results -----------------------------------------------------------------

    @property
    def result(self) -> BulkWriteSummary:
        """What has been applied and what failed so far, by the caller's indexes."""
        return self._account.summary(self._next_index)

    def _ensure_accepting(self) -> None:
        """Refuse an operation once the writer has stopped or finished."""
        if self._state is _ACCEPTING:
            return
        if self._state is _Writer.STOPPED:
            raise MongocatError(
                "this bulk writer has finished: it stopped at the first failure of an "
                "ordered write; see .result for what ran, and start a new writer for the rest"
            )
        if self._state is _Writer.FINISHED:
            raise MongocatError(
                "this bulk writer has finished (its async with block ended); start a new "
                "one with collection.bulk()"
            )

    # -- queueing ----------------------------------------------------------------

    async def insert_one(self, document: DocT) -> None:
        """Queue an insert; the document gets its ``_id`` now, so a retry cannot duplicate it.

        A dataclass or model document is encoded first; the ``_id`` goes into the
        encoded document, never into the object itself.
        """
        raw = self._coder.unchecked(document)
        if not isinstance(raw, Mapping):
            check_document(raw)  # says what a document is
        own = give_ids([raw])
        try:
            with self._handle.errors:
                data = encode_stored(
                    raw,
                    allow_dollar_fields=self._coder.allow_dollar_fields,
                    codec_options=self._driver_collection.codec_options,
                )
        except MongocatError:
            take_back_ids([raw], own)  # nothing was queued: leave the document as it was
            raise
        # The driver sends the encoded bytes as they are: each document is encoded once.
        await self._queue(RawBSONDocument(data), len(data), insert=True, own_id=own[0])

    def _room(self) -> int:
        """How many operations the batch being filled still takes."""
        return max(1, self._options.batch_size - len(self._batch))

    async def _queue_inserts(self, documents: list[Any]) -> bool:
        """Queue inserts of ``documents`` at once, without flushing; False: nothing queued.

        The fast path of :func:`bulk_insert`: the batch is checked as a whole
        (:func:`check_documents`) and measured, and queued if it fits the batch being
        filled. Anything else (a refused or unencodable document, a batch that would
        not fit) queues nothing and leaves the documents as they were, for the caller
        to queue one by one with :meth:`insert_one`, which says exactly which document
        failed and where each batch ends.

        Documents of a kilobyte or more are encoded once, and the driver sends those
        bytes (``RawBSONDocument``). Smaller ones are measured by one encoding of the
        whole batch and handed over as they are: wrapping each in its own bytes costs
        the client more than the driver's second encoding of a small document.
        """
        self._ensure_accepting()
        coder = self._coder
        try:
            raw = documents if coder.encode is None else [coder.encode(d) for d in documents]
            check_documents(raw, allow_dollar_fields=coder.allow_dollar_fields)
        except MongocatError:
            return False
        own = give_ids(raw)
        limit = await self._limit()
        options = self._driver_collection.codec_options
        sent: list[Any] = raw
        try:
            with self._handle.errors:
                first = bson.encode(raw[0], codec_options=options)
                if len(first) >= _ENCODE_ONCE_FROM:
                    encoded = [first] + [bson.encode(d, codec_options=options) for d in raw[1:]]
                    size = sum(map(len, encoded))
                    sent = list(map(RawBSONDocument, encoded))
                else:
                    rest = bson.encode({"d": raw[1:]}, codec_options=options)
                    size = len(first) + len(rest)
        except MongocatError:
            size = None
        if size is None or size > _MAX_DOCUMENT_BYTES or self._batch_bytes + size > limit:
            take_back_ids(raw, own)
            return False
        start = self._next_index
        new = tuple.__new__  # a Queued without its keyword-handling constructor
        self._batch += [
            new(Queued, (at, document, True, own_id))
            for at, document, own_id in zip(range(start, start + len(sent)), sent, own, strict=True)
        ]
        self._next_index += len(raw)
        self._batch_bytes += size
        return True

    async def _flush_if_full(self) -> None:
        """Send the batch if it has reached its operation count or its byte limit."""
        if len(self._batch) >= self._options.batch_size or self._batch_bytes >= (
            await self._limit()
        ):
            await self._flush()

    async def update_one(
        self,
        filter: FilterLike,
        update: UpdateLike,
        *,
        upsert: bool = False,
        array_filters: Sequence[Mapping[str, Any]] | None = None,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
        sort: SortLike | None = None,
    ) -> None:
        """Queue an update of the first matching document (``sort`` picks it: MongoDB 8.0)."""
        await self._queue_update(
            UpdateOne,
            filter,
            update,
            upsert,
            array_filters,
            _op_options(hint, collation, sort),
        )

    async def update_many(
        self,
        filter: FilterLike,
        update: UpdateLike,
        *,
        upsert: bool = False,
        array_filters: Sequence[Mapping[str, Any]] | None = None,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
    ) -> None:
        """Queue an update of every matching document."""
        await self._queue_update(
            UpdateMany, filter, update, upsert, array_filters, _op_options(hint, collation)
        )

    async def _queue_update(
        self,
        kind: type[UpdateOne] | type[UpdateMany],
        filter: FilterLike,
        update: UpdateLike,
        upsert: bool,
        array_filters: Sequence[Mapping[str, Any]] | None,
        options: dict[str, Any],
    ) -> None:
        """Check and queue an update operation of ``kind``."""
        operation = "update_many" if kind is UpdateMany else "update_one"
        query = self._query(filter, operation, many=kind is UpdateMany)
        doc = as_update(update)
        if type(doc) is list:  # an update pipeline may call $function
            self._handle.refuse_javascript(doc, f"bulk {operation}")
        else:
            self._coder.check_update(doc)
        carried = update_array_filters(update, array_filters)
        filters = list(carried) if carried is not None else None
        op = kind(query, doc, upsert=upsert, array_filters=filters, **options)
        await self._queue(op, *self._sizes(query, doc))

    async def replace_one(
        self,
        filter: FilterLike,
        replacement: DocT,
        *,
        upsert: bool = False,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
        sort: SortLike | None = None,
    ) -> None:
        """Queue a replacement of the first matching document."""
        query = self._query(filter, "replace_one")
        doc = self._coder.stored(replacement, replacement=True)
        options = _op_options(hint, collation, sort)
        await self._queue(
            ReplaceOne(query, doc, upsert=upsert, **options), *self._sizes(query, doc)
        )

    async def delete_one(
        self,
        filter: FilterLike,
        *,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
    ) -> None:
        """Queue a delete of the first matching document."""
        query = self._query(filter, "delete_one")
        await self._queue(DeleteOne(query, **_op_options(hint, collation)), *self._sizes(query))

    async def delete_many(
        self,
        filter: FilterLike,
        *,
        hint: HintLike | None = None,
        collation: CollationLike | None = None,
    ) -> None:
        """Queue a delete of every matching document."""
        query = self._query(filter, "delete_many", many=True)
        await self._queue(DeleteMany(query, **_op_options(hint, collation)), *self._sizes(query))

    def _query(self, filter: FilterLike, operation: str, *, many: bool = False) -> Any:
        """The checked filter of a queued ``operation`` (None, empty, JavaScript)."""
        query = as_write_filter(filter, many=f"bulk {operation}" if many else None)
        self._handle.refuse_javascript(query, f"bulk {operation}")
        return query

    def _sizes(self, *documents: Any) -> list[int]:
        """The BSON sizes of what an operation sends (filter, update or document).

        An update pipeline (a list of stages) is measured as the array it is sent as.
        """
        options = self._driver_collection.codec_options
        with self._handle.errors:
            return [
                len(bson.encode(d if isinstance(d, Mapping) else {"u": d}, codec_options=options))
                for d in documents
            ]

    async def _queue(
        self, op: Any, *sizes: int, insert: bool = False, own_id: ObjectId | None = None
    ) -> None:
        """Add an operation; flush first if it would not fit, after if the batch is full.

        ``op`` is the driver's operation, or with ``insert`` the document to insert.
        ``sizes`` are the BSON sizes of what it sends, the stored document last.
        """
        self._ensure_accepting()
        if (insert or isinstance(op, ReplaceOne)) and sizes[-1] > _MAX_DOCUMENT_BYTES:
            raise InvalidDocument(
                f"operation #{self._next_index}: the document is {sizes[-1]:,} bytes of "
                f"BSON, over the server's {_MAX_DOCUMENT_BYTES:,}-byte limit; nothing of "
                "it was queued: store large content with GridFS (cat.gridfs())"
            )
        size = sum(sizes)
        limit = await self._limit()
        if self._batch and self._batch_bytes + size > limit:
            await self._flush()
        self._batch.append(Queued(self._next_index, op, insert, own_id))
        self._next_index += 1
        self._batch_bytes += size
        await self._flush_if_full()

    async def _limit(self) -> int:
        """The byte limit of one batch: given, or below the server's message size.

        Learning the server's may ask it (``hello``), within the writer's deadline.
        """
        if self._max_bytes is None:
            with within(self._deadline, "bulk write", self._driver_collection.full_name):
                server_limit = await self._handle.max_message_bytes()
            self._max_bytes = server_limit - _MESSAGE_HEADROOM
        return self._max_bytes

    # -- sending -----------------------------------------------------------------

    async def _flush(self) -> None:
        """Send the queued batch (waiting for room when ``concurrency`` batches are out)."""
        if not self._batch:
            return
        batch, size = self._batch, self._batch_bytes
        self._batch, self._batch_bytes = [], 0
        if self._options.concurrency == 1:
            await self._send(batch, size)
        else:
            while len(self._in_flight) >= self._options.concurrency:
                await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
            task = asyncio.ensure_future(self._send(batch, size))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        self._check_stop()

    def _check_stop(self) -> None:
        """After an ordered failure, stop and (if asked) raise."""
        if self._options.ordered and self._account.errors:
            self._state = _Writer.STOPPED
            if self._options.raise_on_error:
                raise self._account.failure(self._next_index)

    async def _send(self, batch: list[Queued], size: int) -> None:
        """Send one batch, retrying retryable failures of inserts; record the outcome."""
        account = self._account
        attempt = 0
        deadline = self._deadline
        first_sent = time.monotonic()
        observation = self._observation
        before = account.counts() if observation is not NOTHING_OBSERVED else None
        # A batch of inserts only goes as the documents, to insert_many (as a caller of
        # the driver would send them); any other batch as operations, to bulk_write.
        collection = self._driver_collection
        inserts_only = all(queued.insert for queued in batch)
        options = self._options.command_options()
        if inserts_only:
            options.pop("let", None)  # the insert command has no variables
            send, requests = collection.insert_many, [queued.op for queued in batch]
        else:
            send, requests = collection.bulk_write, list(map(_operation, batch))
        while True:
            attempt += 1
            account.batches += 1
            try:
                self._handle.ensure_open()
                with within(deadline, "bulk write", collection.full_name), observation.activate():
                    raw = await self._handle.run(
                        send(requests, ordered=self._options.ordered, **options)
                    )
                if not raw.acknowledged:  # w=0: the server says nothing of what it applied
                    account.acknowledged = False
                elif inserts_only:  # insert_many returns only when every insert was applied
                    account.merge(batch, {"nInserted": len(batch)}, retried=attempt > 1)
                else:
                    account.merge(batch, raw.bulk_api_result, retried=attempt > 1)
                break
            except asyncio.CancelledError:
                # Sent, and the answer will never be read: the server may apply it.
                account.cancelled(batch)
                raise
            except BulkWriteFailed as error:
                account.merge(batch, error.details, retried=attempt > 1)
                break
            except MongocatError as error:
                retryable = isinstance(error, NetworkError) or error.has_error_label(
                    "RetryableWriteError"
                )
                delay = min(1.0, 0.05 * 2**attempt) * random.random()
                if not (
                    retryable
                    and inserts_only
                    and attempt <= self._options.retries
                    and _time_for(delay, deadline, first_sent, self._handle)
                ):
                    account.fail(batch, error, connection_broken=isinstance(error, NetworkError))
                    break
                self._retrying(error, attempt, len(batch))
                await asyncio.sleep(delay)
        if before is not None:
            after = account.counts()
            observation.event(
                "mongocat.bulk.batch",
                {
                    "batch": account.batches,
                    "size": len(batch),
                    "bytes": size,
                    "attempts": attempt,
                    **{name: after[name] - before[name] for name in after},
                },
            )
        if self._options.on_progress is not None:
            self._options.on_progress(self.result)

    def _retrying(self, error: MongocatError, attempt: int, size: int) -> None:
        """Report that a batch is sent again, and why."""
        attributes = retry_attributes(error, "RetryableWriteError", attempt)
        self._observation.event("mongocat.bulk.retry", {**attributes, "size": size})
        _log.warning(
            "bulk write on %r: sending a batch of %d again after %s, attempt %d",
            self._driver_collection.full_name,
            size,
            attributes["error.type"],
            attempt,
            extra={"mongocat": {"event": "bulk.retry", "size": size, **attributes}},
        )

    async def flush(self) -> None:
        """Send everything queued and wait for every batch in flight."""
        await self._flush()
        if self._in_flight:
            await asyncio.gather(*self._in_flight)
        self._check_stop()

    async def __aenter__(self) -> Self:
        self._ensure_accepting()
        self._observation = self._handle.begin("bulk_write", self._driver_collection.full_name)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        observation, self._observation = self._observation, NOTHING_OBSERVED
        outcome = exc
        try:
            if exc is not None:
                # Send nothing more; let batches already sent finish, then propagate.
                self._state = _Writer.FINISHED
                self._batch = []
                if self._in_flight:
                    await asyncio.gather(*self._in_flight, return_exceptions=True)
                return
            if self._state is _Writer.ACCEPTING:
                await self.flush()
            self._state = _Writer.FINISHED
            if self._options.raise_on_error and self._account.errors:
                raise self._account.failure(self._next_index)
        except BaseException as error:
            outcome = error
            raise
        finally:
            if observation is not NOTHING_OBSERVED:
                observation.annotate(
                    {"mongocat.bulk.operations": self._next_index, **self._account.counts()}
                )
                observation.end(outcome)


def _operation(queued: Queued) -> Any:
    """The driver's operation of a queued one: an insert holds only its document."""
    return InsertOne(queued.op) if queued.insert else queued.op


def _time_for(
    delay: float, deadline: Deadline | None, first_sent: float, handle: DatabaseHandle
) -> bool:
    """Whether a resend after ``delay`` seconds would start in time.

    Within the writer's deadline (or the one in force); with neither, within the
    client's serverSelectionTimeoutMS of the batch's first send, so that with the
    server gone the resends share one wait for a server rather than taking that
    whole timeout each. (A deadline is not imposed on the resends for this: under
    one, the drivers resend a retryable write as often as it allows.)
    """
    deadline = earlier(deadline, current())
    if deadline is not None:
        return deadline.remaining() > delay
    return time.monotonic() - first_sent + delay < handle.server_selection_timeout


def _op_options(
    hint: HintLike | None, collation: CollationLike | None, sort: SortLike | None = None
) -> dict[str, Any]:
    """One bulk operation's own options, as the driver's operation classes take them."""
    options: dict[str, Any] = {}
    if hint is not None:
        options["hint"] = hint
    if collation is not None:
        options["collation"] = collation
    document = as_sort_document(sort)
    if document is not None:
        options["sort"] = document
    return options


async def bulk_insert(
    writer: BulkWriter[Any], documents: Iterable[Any] | AsyncIterable[Any]
) -> BulkWriteSummary:
    """Insert ``documents`` (any iterable or async iterable) through ``writer``.

    A failure that stops the write before the input is exhausted says so: the
    BulkWriteFailed's message and ``unread_from`` give the first document never read.
    """
    read = 0
    exhausted = False
    try:
        async with writer:
            # Read as much as the batch being filled takes, queue it at once if it
            # can, else document by document; ``read`` counts as the one-by-one path
            # would (the document whose queueing sent a failing batch is not counted).
            source = aiter(documents) if isinstance(documents, AsyncIterable) else iter(documents)
            while chunk := await _next_chunk(source, writer._room()):
                if await writer._queue_inserts(chunk):
                    read += len(chunk) - 1
                    await writer._flush_if_full()
                    read += 1
                else:
                    for document in chunk:
                        await writer.insert_one(document)
                        read += 1
            exhausted = True
    except BulkWriteFailed as error:
        if not exhausted:
            raise _unread(error, read, documents) from None
        raise
    return writer.result


async def _next_chunk(documents: Iterator[Any] | AsyncIterator[Any], count: int) -> list[Any]:
    """Up to ``count`` documents read from ``documents``; empty at the end."""
    if not isinstance(documents, AsyncIterator):
        return list(islice(documents, count))
    chunk: list[Any] = []
    while len(chunk) < count:
        try:
            chunk.append(await anext(documents))
        except StopAsyncIteration:
            break
    return chunk


def _unread(error: BulkWriteFailed, read: int, documents: object) -> BulkWriteFailed:
    """``error``, saying that the input after document ``#read`` was never read."""
    if isinstance(documents, Sized) and read + 1 >= len(documents):
        return error  # the failing document was the last one: all of it was read
    total = f" (of {len(documents)})" if isinstance(documents, Sized) else ""
    message = (
        f"{error.message}; the input was not read past #{read}: documents #{read + 1} "
        f"onwards{total} were never read, so never sent"
    )
    failed = type(error)(  # a BulkWriteTimeout stays one
        message,
        result=error.result,
        details=error.details,
        driver_error=error.driver_error,
        error_labels=error.error_labels,
    )
    failed.unread_from = read + 1
    failed.__cause__ = error.__cause__
    return failed
