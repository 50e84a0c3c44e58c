"""Typed results of write operations.

Attribute names are PyMongo's (``inserted_id``, ``matched_count``, ...), so code that
migrates from Motor or PyMongo keeps working. Counts of an unacknowledged (``w=0``)
write are unknown: reading one raises :class:`~mongocat.UnacknowledgedWrite`.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._errors import UnacknowledgedWrite

__all__ = [
    "BulkOperationError",
    "BulkWriteSummary",
    "DeleteResult",
    "InsertManyResult",
    "InsertOneResult",
    "UpdateResult",
]


def _known(value: int | None, name: str) -> int:
    """Return a count, or explain that a w=0 write has none."""
    if value is None:
        raise UnacknowledgedWrite(
            f"{name} is unknown: the write was unacknowledged (w=0); "
            "use a write concern of w=1 or more to get counts"
        )
    return value


@dataclass(frozen=True, slots=True)
class InsertOneResult:
    """The result of ``insert_one``.

    Attributes:
        inserted_id: The ``_id`` of the inserted document.
        acknowledged: Whether the server acknowledged the write.
    """

    inserted_id: Any
    acknowledged: bool = True


@dataclass(frozen=True, slots=True)
class InsertManyResult:
    """The result of ``insert_many``.

    Attributes:
        inserted_ids: The ``_id`` of each document, in the order given.
        acknowledged: Whether the server acknowledged the write.
    """

    inserted_ids: list[Any]
    acknowledged: bool = True


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """The result of ``update_one``, ``update_many`` and ``replace_one``."""

    raw_matched_count: int | None
    raw_modified_count: int | None
    upserted_id: Any = None
    acknowledged: bool = True

    @property
    def matched_count(self) -> int:
        """The number of documents the filter matched."""
        return _known(self.raw_matched_count, "matched_count")

    @property
    def modified_count(self) -> int:
        """The number of documents actually changed."""
        return _known(self.raw_modified_count, "modified_count")


@dataclass(frozen=True, slots=True)
class DeleteResult:
    """The result of ``delete_one`` and ``delete_many``."""

    raw_deleted_count: int | None
    acknowledged: bool = True

    @property
    def deleted_count(self) -> int:
        """The number of documents deleted."""
        return _known(self.raw_deleted_count, "deleted_count")


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

    Attributes:
        inserted_count: Documents inserted.
        matched_count: Documents matched by updates and replacements.
        modified_count: Documents changed by updates and replacements.
        deleted_count: Documents deleted.
        upserted_count: Documents inserted by upserts.
        upserted_ids: The upserted ``_id`` keyed by the operation's index.
        errors: The failed operations, by index in what the caller gave.
        batches: How many batches were sent.
        not_run: The indexes of operations that were never sent (an ordered write
            stops at its first failure).
        in_doubt: The indexes of operations that were sent but whose outcome is
            unknown: their batch was cancelled in flight, or its connection failed
            and it was not resent. Each may or may not have been applied.
    """

    inserted_count: int = 0
    matched_count: int = 0
    modified_count: int = 0
    deleted_count: int = 0
    upserted_count: int = 0
    upserted_ids: Mapping[int, Any] = field(default_factory=dict)
    errors: tuple[BulkOperationError, ...] = ()
    batches: int = 0
    not_run: range = range(0)
    in_doubt: tuple[int, ...] = ()

    @property
    def failed_indexes(self) -> tuple[int, ...]:
        """The indexes of the failed operations, in ascending order."""
        return tuple(sorted(error.index for error in self.errors))
