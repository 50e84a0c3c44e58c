"""The pure half of bulk writes: their options, and the accounting of replies.

Nothing here does I/O. :class:`BulkOptions` checks the options of ``bulk()`` and
``bulk_insert()`` once; :class:`BulkAccount` merges each batch's reply (or its
failure) into running totals keyed by the operation's index in what the caller
gave, as pymongo's ``bulk_shared.py`` keeps ``_Run.index`` apart from the sending.
:func:`summarize_reply` reads one driver ``BulkWriteError`` document the same way.
"""

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple, TypedDict

from ._coercion import as_timeout
from ._errors import (
    BulkWriteFailed,
    BulkWriteTimeout,
    ClientTimeout,
    ConfigurationError,
    MongocatError,
)
from ._paths import is_int
from ._summaries import BulkOperationError, BulkWriteSummary

__all__ = [
    "BulkAccount",
    "BulkArgs",
    "BulkOptions",
    "Queued",
    "summarize_reply",
]

#: MongoDB's duplicate-key error code.
_DUPLICATE_KEY: Final = 11000


class BulkArgs(TypedDict, total=False):
    r"""The options of ``Collection.bulk()`` and ``Collection.bulk_insert()``.

    Attributes:
        ordered: Stop at the first failure (the summary lists what never ran), or
            try every operation (True by default).
        batch_size: Operations per batch (1000 by default).
        max_batch_bytes: BSON bytes per batch; default just under the server's
            ``maxMessageSizeBytes``.
        concurrency: Batches in flight at once (unordered only; 1 by default).
        retries: Resend an insert batch this many times after a network or
            retryable error (2 by default; inserts carry client-side ``_id``\ s, so
            nothing is inserted twice); other batches rely on the driver's retryable
            writes.
        raise_on_error: Raise BulkWriteFailed at the end (ordered: at the failure);
            True by default.
        on_progress: Called with the summary after every batch.
        comment: A comment attached to every batch's command in the server's logs.
        let: Variables for the operations' ``$expr`` (``expr.var("name")``).
        bypass_document_validation: Skip the collection's validator (needs the
            bypassDocumentValidation privilege).
        timeout: A deadline in seconds for the whole write, from the writer's
            creation: every batch, and every retry of one, must finish before it
            (inside a ``cat.timeout()`` scope, the earlier of the two). Past it the
            writer raises :class:`~mongocat.BulkWriteTimeout` with what was applied.
    """

    ordered: bool
    batch_size: int
    max_batch_bytes: int | None
    concurrency: int
    retries: int
    raise_on_error: bool
    on_progress: Callable[[BulkWriteSummary], Any] | None
    comment: Any
    let: Mapping[str, Any] | None
    bypass_document_validation: bool | None
    timeout: float | None


@dataclass(frozen=True, slots=True)
class BulkOptions:
    """The checked options of one bulk writer."""

    ordered: bool = True
    batch_size: int = 1000
    max_batch_bytes: int | None = None
    concurrency: int = 1
    retries: int = 2
    raise_on_error: bool = True
    on_progress: Callable[[BulkWriteSummary], Any] | None = None
    comment: Any = None
    let: Mapping[str, Any] | None = None
    bypass_document_validation: bool | None = None
    timeout: float | None = None

    def command_options(self) -> dict[str, Any]:
        """The options every batch's command carries, as ``bulk_write`` takes them."""
        options: dict[str, Any] = {}
        if self.comment is not None:
            options["comment"] = self.comment
        if self.let is not None:
            options["let"] = dict(self.let)
        if self.bypass_document_validation is not None:
            options["bypass_document_validation"] = self.bypass_document_validation
        return options

    @classmethod
    def build(cls, arguments: BulkArgs) -> "BulkOptions":
        """Check ``arguments`` and fill in the defaults.

        Raises:
            ConfigurationError: An option is unknown or has a wrong value.
        """
        unknown = sorted(set(arguments) - set(BulkArgs.__annotations__))
        if unknown:
            raise ConfigurationError(
                f"unknown bulk option(s) {', '.join(unknown)}; the options are "
                f"{', '.join(BulkArgs.__annotations__)}"
            )
        options = cls(**arguments)
        if not is_int(options.batch_size) or options.batch_size < 1:
            raise ConfigurationError(
                f"batch_size must be a positive int, not {options.batch_size!r}"
            )
        limit = options.max_batch_bytes
        if limit is not None and (not is_int(limit) or limit < 1024):
            raise ConfigurationError(f"max_batch_bytes must be at least 1024, not {limit!r}")
        if not is_int(options.concurrency) or options.concurrency < 1:
            raise ConfigurationError(f"concurrency must be at least 1, not {options.concurrency!r}")
        if options.ordered and options.concurrency > 1:
            raise ConfigurationError(
                "an ordered bulk write sends one batch after another; use ordered=False "
                "for concurrency > 1"
            )
        if not is_int(options.retries) or options.retries < 0:
            raise ConfigurationError(f"retries must not be negative, not {options.retries!r}")
        if options.let is not None and not isinstance(options.let, Mapping):
            raise ConfigurationError(f"let must be a document of variables, not {options.let!r}")
        as_timeout(options.timeout)
        if options.on_progress is not None and not callable(options.on_progress):
            raise ConfigurationError(
                f"on_progress must be a function of the summary, not {options.on_progress!r}"
            )
        return options


class Queued(NamedTuple):
    """One queued operation: its index in what the caller gave, and what is sent.

    An insert holds the document itself (``insert`` True), so that a batch of
    inserts goes to the driver's ``insert_many`` as the documents they are; any
    other operation holds the driver's operation (``UpdateOne``, ...). The bulk
    writer wraps an insert's document in the driver's ``InsertOne`` where it needs
    one. ``own_id`` is the ``_id`` mongocat generated for an insert (None when the
    caller gave one): only a duplicate of that one can be the batch's own earlier
    attempt. A named tuple: one is made per queued operation, and a tuple is the
    cheapest.
    """

    #: The operation's index in what the caller gave.
    at: int
    op: Any
    insert: bool
    own_id: Any = None


@dataclass
class BulkAccount:
    """The running totals of a bulk write, keyed by the caller's indexes."""

    ordered: bool
    inserted: int = 0
    matched: int = 0
    modified: int = 0
    deleted: int = 0
    upserted: int = 0
    upserted_ids: dict[int, Any] = field(default_factory=dict)
    errors: list[BulkOperationError] = field(default_factory=list)
    batches: int = 0
    not_run_from: int | None = None
    in_doubt: list[int] = field(default_factory=list)
    #: The errors of batches that failed as a whole (refused, or connection lost).
    batch_errors: list[MongocatError] = field(default_factory=list)
    #: Whether every batch was acknowledged (False after a ``w=0`` batch).
    acknowledged: bool = True
    #: The operation an error reports for a queued one (the bulk writer's driver op).
    operation_of: Callable[[Queued], Any] = lambda queued: queued.op

    def counts(self) -> dict[str, int]:
        """The running totals, by name (a batch's outcome is the difference of two)."""
        return {
            "inserted": self.inserted,
            "matched": self.matched,
            "modified": self.modified,
            "deleted": self.deleted,
            "upserted": self.upserted,
            "errors": len(self.errors),
            "in_doubt": len(self.in_doubt),
        }

    def merge(
        self, batch: Sequence[Queued] | None, reply: Mapping[str, Any], *, retried: bool = False
    ) -> None:
        """Add a batch's reply, mapping its positions to the caller's indexes.

        ``batch`` None means the reply's positions are the caller's indexes already
        (the reply to one whole ``insert_many``). On a resent batch, a duplicate key
        in the ``_id`` index (by the server's ``keyPattern``) of an ``_id`` mongocat
        generated for that very insert is counted as inserted: only the batch's
        earlier attempt can have stored it. The same duplicate of an ``_id`` the caller
        gave stays an error and is also in doubt (stored by the earlier attempt, or
        already there: nothing tells them apart).
        """

        def queued_at(position: int) -> Queued:
            return Queued(position, None, False) if batch is None else batch[position]

        self.inserted += reply.get("nInserted", 0)
        self.matched += reply.get("nMatched", 0)
        self.modified += reply.get("nModified", 0)
        self.deleted += reply.get("nRemoved", 0)
        self.upserted += reply.get("nUpserted", 0)
        for upsert in reply.get("upserted", ()):
            self.upserted_ids[queued_at(upsert["index"]).at] = upsert["_id"]
        first_error: int | None = None
        for error in reply.get("writeErrors", ()):
            queued = queued_at(error["index"])
            if retried and queued.insert and _duplicate_id(error):
                if queued.own_id is not None and _duplicate_value(error) == queued.own_id:
                    self.inserted += 1
                    continue
                if queued.own_id is None:
                    self.in_doubt.append(queued.at)
            self.errors.append(
                BulkOperationError(
                    queued.at,
                    error.get("code", 0),
                    error.get("errmsg", ""),
                    error,
                    self.operation_of(queued),
                )
            )
            first_error = error["index"] if first_error is None else first_error
        if self.ordered and first_error is not None and self.not_run_from is None:
            self.not_run_from = queued_at(first_error).at + 1

    def fail(
        self, batch: Sequence[Queued], error: MongocatError, *, connection_broken: bool
    ) -> None:
        """Record a batch that failed as a whole, keeping the error (and its labels).

        A refused command ran none of its operations: an ordered write reports the
        first as failed and the rest as never run; an unordered one reports each. A
        broken connection leaves every operation of the batch in doubt.
        """
        self.batch_errors.append(error)
        code = getattr(error, "code", None) or 0
        details = dict(getattr(error, "details", None) or {})
        if connection_broken:
            self.in_doubt.extend(queued.at for queued in batch)
        failed = batch if connection_broken or not self.ordered else batch[:1]
        for queued in failed:
            self.errors.append(
                BulkOperationError(queued.at, code, str(error), details, self.operation_of(queued))
            )
        if self.ordered and self.not_run_from is None:
            last = batch[-1] if connection_broken else batch[0]
            self.not_run_from = last.at + 1

    def cancelled(self, batch: Sequence[Queued]) -> None:
        """Record a batch cancelled in flight: the server may apply it."""
        self.in_doubt.extend(queued.at for queued in batch)

    def summary(self, queued: int) -> BulkWriteSummary:
        """The immutable summary, given how many operations were queued in all."""
        not_run = range(0) if self.not_run_from is None else range(self.not_run_from, queued)
        known = self.acknowledged
        return BulkWriteSummary(
            inserted_count=self.inserted if known else None,
            matched_count=self.matched if known else None,
            modified_count=self.modified if known else None,
            deleted_count=self.deleted if known else None,
            upserted_count=self.upserted if known else None,
            upserted_ids=dict(self.upserted_ids),
            errors=tuple(sorted(self.errors, key=lambda e: e.index)),
            batches=self.batches,
            not_run=not_run,
            in_doubt=tuple(sorted(self.in_doubt)),
            acknowledged=known,
        )

    def failure(self, queued: int) -> BulkWriteFailed:
        """The BulkWriteFailed for the current summary.

        When batches failed as a whole, it keeps the last such error's reply and
        driver error, and every such error's labels (``TransientTransactionError``
        lets a transaction runner retry; ``RetryableWriteError`` says a resend is safe).
        """
        summary = self.summary(queued)
        last = self.batch_errors[-1] if self.batch_errors else None
        shown = ", ".join(f"#{e.index}: {e.message}" for e in summary.errors[:5])
        more = f" and {len(summary.errors) - 5} more" if len(summary.errors) > 5 else ""
        never = ""
        if summary.not_run:
            never = f"; operations {summary.not_run.start}..{summary.not_run[-1]} never ran"
        counts = (
            f"{summary.inserted_count} inserted, {summary.modified_count} modified, "
            f"{summary.deleted_count} deleted"
            if summary.acknowledged
            else "the counts are unknown (w=0)"
        )
        failed = (
            BulkWriteTimeout
            if isinstance(last, ClientTimeout) and last.details.get("set_by") is not None
            else BulkWriteFailed
        )
        return failed(
            f"{len(summary.errors)} bulk operation(s) failed ({shown}{more}){never}; "
            f"{counts}; see .result",
            result=summary,
            details=getattr(last, "details", None),
            driver_error=None if last is None else last.driver_error,
            error_labels=set().union(*(error.error_labels for error in self.batch_errors)),
        )


_ID_INDEX = re.compile(r"\bindex: _id_ dup key")


def _duplicate_id(error: Mapping[str, Any]) -> bool:
    """Whether a write error is a duplicate in the ``_id`` index (not any index)."""
    if error.get("code") != _DUPLICATE_KEY:
        return False
    pattern = error.get("keyPattern")
    if isinstance(pattern, Mapping):
        return list(pattern) == ["_id"]
    return bool(_ID_INDEX.search(str(error.get("errmsg", ""))))


def _duplicate_value(error: Mapping[str, Any]) -> Any:
    """The duplicated ``_id``, from the server's ``keyValue`` (None when not sent)."""
    value = error.get("keyValue")
    return value.get("_id") if isinstance(value, Mapping) else None


def summarize_reply(reply: Mapping[str, Any]) -> BulkWriteSummary:
    """Summarise one driver ``BulkWriteError`` document (its indexes are the caller's)."""
    account = BulkAccount(ordered=False)
    account.merge(None, reply)
    return account.summary(0)
