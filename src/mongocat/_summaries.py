"""The summary of a multi-document write: what was applied and what failed, by index.

Plain data with no mongocat imports, so that errors (``BulkWriteFailed.result``) and
results can both hold it.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BulkOperationError", "BulkWriteSummary"]


@dataclass(frozen=True, slots=True)
class BulkOperationError:
    """One failed operation of a multi-document write.

    Attributes:
        index: The operation's position in what the caller gave (0-based).
        code: The server's error code (11000 for a duplicate key).
        message: The server's error message.
        details: The server's whole error document for this operation.
        op: The operation that failed, as queued (when the bulk writer knows it).
    """

    index: int
    code: int
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)
    op: Any = None


@dataclass(frozen=True, slots=True)
class BulkWriteSummary:
    """What a multi-document write applied and what failed.

    The counts are None for an unacknowledged write (``w=0``): the server said nothing,
    so nothing is known, as for the single-operation results.

    Attributes:
        inserted_count: Documents inserted (None if unacknowledged).
        matched_count: Documents matched by updates and replacements (None if
            unacknowledged).
        modified_count: Documents changed by updates and replacements (None if
            unacknowledged).
        deleted_count: Documents deleted (None if unacknowledged).
        upserted_count: Documents inserted by upserts (None if unacknowledged).
        upserted_ids: The upserted ``_id`` keyed by the operation's index.
        errors: The failed operations, by index in what the caller gave.
        batches: How many batches were sent.
        not_run: The indexes of operations that were never sent (an ordered write
            stops at its first failure).
        in_doubt: The indexes of operations that were sent but whose outcome is
            unknown: their batch was cancelled in flight, or its connection failed
            and it was not resent. Each may or may not have been applied.
        acknowledged: Whether the server answered the writes (False for ``w=0``).
    """

    inserted_count: int | None = 0
    matched_count: int | None = 0
    modified_count: int | None = 0
    deleted_count: int | None = 0
    upserted_count: int | None = 0
    upserted_ids: Mapping[int, Any] = field(default_factory=dict)
    errors: tuple[BulkOperationError, ...] = ()
    batches: int = 0
    not_run: range = range(0)
    in_doubt: tuple[int, ...] = ()
    acknowledged: bool = True

    @property
    def failed_indexes(self) -> tuple[int, ...]:
        """The indexes of the failed operations, in ascending order."""
        return tuple(sorted(error.index for error in self.errors))
