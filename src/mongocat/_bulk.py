"""Batched bulk writes that account for every operation by the caller's index.

A :class:`BulkWriter` queues operations and sends them in batches of ``batch_size``
operations or ``max_batch_bytes`` of BSON, whichever comes first; queueing awaits a
full batch's flush, so memory stays bounded. Errors are reported by each
operation's position in the order the caller gave them, across all batches.
"""

import asyncio
import dataclasses
import random
from collections.abc import AsyncIterable, Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self

import bson
from bson import ObjectId
from pymongo import DeleteMany, DeleteOne, InsertOne, ReplaceOne, UpdateMany, UpdateOne

from ._arguments import as_update, as_write_filter, update_array_filters
from ._driver import DRIVER_ERRORS, translate_error
from ._errors import (
    BulkWriteFailed,
    ConfigurationError,
    InvalidDocument,
    MongocatError,
    NetworkError,
)
from ._results import BulkOperationError, BulkWriteSummary
from ._types import DocT, FilterLike, UpdateLike

if TYPE_CHECKING:
    from ._collection import Collection

__all__ = ["BulkWriter"]

#: Room left under the server's maxMessageSizeBytes for the command's own fields.
_MESSAGE_HEADROOM = 16 * 1024
_DEFAULT_MESSAGE_BYTES = 48_000_000


# MongoDB's maxBsonObjectSize: the same on every server version and deployment.
_MAX_DOCUMENT_BYTES = 16 * 1024 * 1024


@dataclasses.dataclass
class _Totals:
    """The mutable running totals behind the immutable summaries."""

    inserted: int = 0
    matched: int = 0
    modified: int = 0
    deleted: int = 0
    upserted: int = 0
    upserted_ids: dict[int, Any] = dataclasses.field(default_factory=dict)
    errors: list[BulkOperationError] = dataclasses.field(default_factory=list)
    batches: int = 0
    not_run_from: int | None = None
    in_doubt: list[int] = dataclasses.field(default_factory=list)


class BulkWriter(Generic[DocT]):
    """Queue writes and send them in batches; get it from :meth:`Collection.bulk`.

    Example:
        >>> async with products.bulk(batch_size=1000, ordered=False) as bulk:  # doctest: +SKIP
        ...     await bulk.insert_one(doc)
        ...     await bulk.update_one(F.sku == "x", Update.inc(stock=1))
        >>> bulk.result.inserted_count  # doctest: +SKIP
    """

    def __init__(
        self,
        collection: "Collection[DocT]",
        *,
        ordered: bool = True,
        batch_size: int = 1000,
        max_batch_bytes: int | None = None,
        concurrency: int = 1,
        retries: int = 2,
        raise_on_error: bool = True,
        on_progress: Callable[[BulkWriteSummary], Any] | None = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigurationError(f"batch_size must be a positive int, not {batch_size!r}")
        if max_batch_bytes is not None and max_batch_bytes < 1024:
            raise ConfigurationError(
                f"max_batch_bytes must be at least 1024, not {max_batch_bytes!r}"
            )
        if concurrency < 1:
            raise ConfigurationError(f"concurrency must be at least 1, not {concurrency!r}")
        if ordered and concurrency > 1:
            raise ConfigurationError(
                "an ordered bulk write sends one batch after another; use ordered=False "
                "for concurrency > 1"
            )
        if retries < 0:
            raise ConfigurationError(f"retries must not be negative, not {retries!r}")
        self._collection = collection
        self._ordered = ordered
        self._batch_size = batch_size
        self._max_bytes = max_batch_bytes
        self._concurrency = concurrency
        self._retries = retries
        self._raise = raise_on_error
        self._on_progress = on_progress
        self._batch: list[tuple[int, Any]] = []
        self._batch_bytes = 0
        self._next_index = 0
        self._in_flight: set[asyncio.Task[None]] = set()
        self._totals = _Totals()
        self._stopped = False

    # -- results -----------------------------------------------------------------

    @property
    def result(self) -> BulkWriteSummary:
        """What has been applied and what failed so far, by the caller's indexes."""
        t = self._totals
        not_run = range(0) if t.not_run_from is None else range(t.not_run_from, self._next_index)
        return BulkWriteSummary(
            inserted_count=t.inserted,
            matched_count=t.matched,
            modified_count=t.modified,
            deleted_count=t.deleted,
            upserted_count=t.upserted,
            upserted_ids=dict(t.upserted_ids),
            errors=tuple(sorted(t.errors, key=lambda e: e.index)),
            batches=t.batches,
            not_run=not_run,
            in_doubt=tuple(sorted(t.in_doubt)),
        )

    # -- queueing ----------------------------------------------------------------

    async def insert_one(self, document: DocT) -> None:
        """Queue an insert; the document gets its ``_id`` now, so a retry cannot duplicate it.

        A dataclass or model document is encoded first; the ``_id`` goes into the
        encoded document, never into the object itself.
        """
        raw: dict[str, Any] = self._collection._encoded(document)
        if "_id" not in raw:
            raw["_id"] = ObjectId()
        await self._queue(InsertOne(raw), raw)

    async def update_one(
        self,
        filter: FilterLike,
        update: UpdateLike,
        *,
        upsert: bool = False,
        array_filters: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """Queue an update of the first matching document."""
        await self._queue_update(UpdateOne, filter, update, upsert, array_filters)

    async def update_many(
        self,
        filter: FilterLike,
        update: UpdateLike,
        *,
        upsert: bool = False,
        array_filters: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """Queue an update of every matching document."""
        await self._queue_update(UpdateMany, filter, update, upsert, array_filters)

    async def _queue_update(
        self,
        kind: type[UpdateOne] | type[UpdateMany],
        filter: FilterLike,
        update: UpdateLike,
        upsert: bool,
        array_filters: Sequence[Mapping[str, Any]] | None,
    ) -> None:
        """Check and queue an update operation of ``kind``."""
        query, doc = as_write_filter(filter), as_update(update)
        carried = update_array_filters(update, array_filters)
        filters = list(carried) if carried is not None else None
        await self._queue(kind(query, doc, upsert=upsert, array_filters=filters), query, doc)

    async def replace_one(
        self, filter: FilterLike, replacement: DocT, *, upsert: bool = False
    ) -> None:
        """Queue a replacement of the first matching document."""
        query = as_write_filter(filter)
        doc = self._collection._encoded(replacement, replacement=True)
        await self._queue(ReplaceOne(query, doc, upsert=upsert), query, doc)

    async def delete_one(self, filter: FilterLike) -> None:
        """Queue a delete of the first matching document."""
        query = as_write_filter(filter)
        await self._queue(DeleteOne(query), query)

    async def delete_many(self, filter: FilterLike) -> None:
        """Queue a delete of every matching document."""
        query = as_write_filter(filter)
        await self._queue(DeleteMany(query), query)

    async def _queue(self, op: Any, *documents: Mapping[str, Any]) -> None:
        """Add an operation; flush first if it would not fit, after if the batch is full."""
        if self._stopped:
            raise MongocatError(
                "this bulk writer has finished (an ordered write stopped at an error, or "
                "the block ended); start a new one"
            )
        try:
            sizes = [len(bson.encode(d)) for d in documents]
        except DRIVER_ERRORS as exc:
            raise translate_error(exc, self._collection._catalogue._secrets) from exc
        if isinstance(op, InsertOne | ReplaceOne) and sizes[-1] > _MAX_DOCUMENT_BYTES:
            raise InvalidDocument(
                f"operation #{self._next_index}: the document is {sizes[-1]:,} bytes of "
                f"BSON, over the server's {_MAX_DOCUMENT_BYTES:,}-byte limit; nothing of "
                "it was queued: store large content with GridFS (cat.gridfs())"
            )
        size = sum(sizes)
        limit = await self._limit()
        if self._batch and self._batch_bytes + size > limit:
            await self._flush()
        self._batch.append((self._next_index, op))
        self._next_index += 1
        self._batch_bytes += size
        if len(self._batch) >= self._batch_size or self._batch_bytes >= limit:
            await self._flush()

    async def _limit(self) -> int:
        """The byte limit of one batch: given, or below the server's message size."""
        if self._max_bytes is None:
            server_limit = await self._collection._catalogue._max_message_bytes()
            self._max_bytes = server_limit - _MESSAGE_HEADROOM
        return self._max_bytes

    # -- sending -----------------------------------------------------------------

    async def _flush(self) -> None:
        """Send the queued batch (waiting for room when ``concurrency`` batches are out)."""
        if not self._batch:
            return
        batch, self._batch, self._batch_bytes = self._batch, [], 0
        if self._concurrency == 1:
            await self._send(batch)
        else:
            while len(self._in_flight) >= self._concurrency:
                await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
            task = asyncio.ensure_future(self._send(batch))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        self._check_stop()

    def _check_stop(self) -> None:
        """After an ordered failure, stop and (if asked) raise."""
        if self._ordered and self._totals.errors:
            self._stopped = True
            if self._raise:
                raise self._failure()

    async def _send(self, batch: list[tuple[int, Any]]) -> None:
        """Send one batch, retrying retryable failures of inserts; record the outcome."""
        coll = self._collection
        pending = batch
        attempt = 0
        while True:
            attempt += 1
            self._totals.batches += 1
            try:
                raw = await coll._live().bulk_write(
                    [op for _, op in pending], ordered=self._ordered
                )
                self._applied(pending, raw.bulk_api_result, retried=attempt > 1)
                break
            except asyncio.CancelledError:
                # Sent, and the answer will never be read: the server may apply it.
                self._totals.in_doubt.extend(index for index, _ in pending)
                raise
            except DRIVER_ERRORS as exc:
                error = translate_error(exc, coll._catalogue._secrets)
                if isinstance(error, BulkWriteFailed):
                    self._applied(pending, dict(error.details), retried=attempt > 1)
                    break
                retryable = isinstance(error, NetworkError) or error.has_error_label(
                    "RetryableWriteError"
                )
                inserts_only = all(isinstance(op, InsertOne) for _, op in pending)
                if not (retryable and inserts_only and attempt <= self._retries):
                    self._failed(pending, error)
                    break
                await asyncio.sleep(min(1.0, 0.05 * 2**attempt) * random.random())
        if self._on_progress is not None:
            self._on_progress(self.result)

    def _applied(
        self, batch: list[tuple[int, Any]], details: Mapping[str, Any], *, retried: bool
    ) -> None:
        """Add a batch's outcome, mapping its positions to the caller's indexes."""
        t = self._totals
        t.inserted += details.get("nInserted", 0)
        t.matched += details.get("nMatched", 0)
        t.modified += details.get("nModified", 0)
        t.deleted += details.get("nRemoved", 0)
        t.upserted += details.get("nUpserted", 0)
        for upsert in details.get("upserted", ()):
            t.upserted_ids[batch[upsert["index"]][0]] = upsert["_id"]
        first_error: int | None = None
        for error in details.get("writeErrors", ()):
            index, op = batch[error["index"]]
            duplicate_id = error.get("code") == 11000 and "_id_" in error.get("errmsg", "")
            if retried and duplicate_id and isinstance(op, InsertOne):
                # An earlier attempt of this batch inserted it: the _id is ours.
                t.inserted += 1
                continue
            t.errors.append(
                BulkOperationError(index, error.get("code", 0), error.get("errmsg", ""), error, op)
            )
            first_error = error["index"] if first_error is None else first_error
        if self._ordered and first_error is not None and t.not_run_from is None:
            t.not_run_from = batch[first_error][0] + 1

    def _failed(self, batch: list[tuple[int, Any]], error: MongocatError) -> None:
        """Record a batch that failed as a whole.

        A refused command ran none of its operations: an ordered write reports the
        first as failed and the rest as never run; an unordered one reports each. A
        broken connection leaves every operation of the batch in doubt.
        """
        code = getattr(error, "code", None) or 0
        broken = isinstance(error, NetworkError)
        if broken:
            self._totals.in_doubt.extend(index for index, _ in batch)
        failed = batch if broken or not self._ordered else batch[:1]
        for index, op in failed:
            self._totals.errors.append(BulkOperationError(index, code, str(error), {}, op))
        if self._ordered and self._totals.not_run_from is None:
            last = batch[-1] if broken else batch[0]
            self._totals.not_run_from = last[0] + 1

    def _failure(self) -> BulkWriteFailed:
        """The BulkWriteFailed for the current summary."""
        summary = self.result
        shown = ", ".join(f"#{e.index}: {e.message}" for e in summary.errors[:5])
        more = f" and {len(summary.errors) - 5} more" if len(summary.errors) > 5 else ""
        never = ""
        if summary.not_run:
            never = f"; operations {summary.not_run.start}..{summary.not_run[-1]} never ran"
        return BulkWriteFailed(
            f"{len(summary.errors)} bulk operation(s) failed ({shown}{more}){never}; "
            f"{summary.inserted_count} inserted, {summary.modified_count} modified, "
            f"{summary.deleted_count} deleted; see .result",
            result=summary,
        )

    async def flush(self) -> None:
        """Send everything queued and wait for every batch in flight."""
        await self._flush()
        if self._in_flight:
            await asyncio.gather(*self._in_flight)
        self._check_stop()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            # Send nothing more; let batches already sent finish, then propagate.
            self._stopped = True
            self._batch = []
            if self._in_flight:
                await asyncio.gather(*self._in_flight, return_exceptions=True)
            return
        if not self._stopped:
            await self.flush()
        self._stopped = True
        if self._raise and self._totals.errors:
            raise self._failure()


async def bulk_insert(
    writer: BulkWriter[Any], documents: Iterable[Any] | AsyncIterable[Any]
) -> BulkWriteSummary:
    """Insert ``documents`` (any iterable or async iterable) through ``writer``."""
    async with writer:
        if isinstance(documents, AsyncIterable):
            async for document in documents:
                await writer.insert_one(document)
        else:
            for document in documents:
                await writer.insert_one(document)
    return writer.result
