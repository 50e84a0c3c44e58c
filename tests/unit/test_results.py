"""Result objects: PyMongo's attribute names, and no made-up counts for w=0 writes."""

import pytest

from mongocat import (
    BulkOperationError,
    BulkWriteSummary,
    DeleteResult,
    UnacknowledgedWrite,
    UpdateResult,
)


def test_acknowledged_update_result_has_counts() -> None:
    result = UpdateResult(1, 0, upserted_id=None)
    assert (result.matched_count, result.modified_count, result.upserted_id) == (1, 0, None)


def test_unacknowledged_counts_raise_instead_of_guessing() -> None:
    result = UpdateResult(None, None, acknowledged=False)
    with pytest.raises(UnacknowledgedWrite, match="w=0"):
        _ = result.matched_count
    with pytest.raises(UnacknowledgedWrite, match="modified_count is unknown"):
        _ = result.modified_count
    with pytest.raises(UnacknowledgedWrite, match="deleted_count is unknown"):
        _ = DeleteResult(None, acknowledged=False).deleted_count


def test_bulk_summary_lists_failed_indexes_in_order() -> None:
    summary = BulkWriteSummary(
        errors=(BulkOperationError(7, 11000, "dup"), BulkOperationError(2, 121, "invalid"))
    )
    assert summary.failed_indexes == (2, 7)
