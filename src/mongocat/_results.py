"""Typed results of write operations.

Attribute names are PyMongo's (``inserted_id``, ``matched_count``, ...), so code that
migrates from Motor or PyMongo keeps working. Counts of an unacknowledged (``w=0``)
write are unknown: reading one raises :class:`~mongocat.UnacknowledgedWrite`.
"""

from dataclasses import dataclass
from typing import Any

from ._errors import UnacknowledgedWrite
from ._summaries import BulkOperationError, BulkWriteSummary

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


@dataclass(slots=True)
class InsertOneResult:
    """The result of ``insert_one``.

    Attributes:
        inserted_id: The ``_id`` of the inserted document.
        acknowledged: Whether the server acknowledged the write.
    """

    inserted_id: Any
    acknowledged: bool = True


@dataclass(slots=True)
class InsertManyResult:
    """The result of ``insert_many``.

    Attributes:
        inserted_ids: The ``_id`` of each document, in the order given.
        acknowledged: Whether the server acknowledged the write.
    """

    inserted_ids: list[Any]
    acknowledged: bool = True


@dataclass(slots=True)
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


@dataclass(slots=True)
class DeleteResult:
    """The result of ``delete_one`` and ``delete_many``."""

    raw_deleted_count: int | None
    acknowledged: bool = True

    @property
    def deleted_count(self) -> int:
        """The number of documents deleted."""
        return _known(self.raw_deleted_count, "deleted_count")
