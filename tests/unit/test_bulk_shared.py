"""Bulk options and reply accounting, without a server (the pure half of bulk writes)."""

from typing import Any

import pytest
from bson import ObjectId
from pymongo import InsertOne, UpdateOne

from mongocat import (
    BulkOperationError,
    BulkWriteSummary,
    ConfigurationError,
    MongocatError,
    OperationFailed,
)
from mongocat._bulk import _operation
from mongocat._bulk_shared import BulkAccount, BulkOptions, Queued, summarize_reply


def batch(*indexes: int, insert: bool = True) -> list[Queued]:
    """Queued inserts hold their documents; other operations the driver's operation."""
    return [
        Queued(
            index, {"n": index} if insert else UpdateOne({"n": index}, {"$set": {"x": 1}}), insert
        )
        for index in indexes
    ]


def test_reply_positions_map_to_the_callers_indexes() -> None:
    account = BulkAccount(ordered=False)
    reply: dict[str, Any] = {
        "nInserted": 1,
        "nUpserted": 1,
        "upserted": [{"index": 1, "_id": "u"}],
        "writeErrors": [{"index": 2, "code": 121, "errmsg": "invalid"}],
    }
    account.merge(batch(10, 11, 12), reply)
    summary = account.summary(13)
    assert summary.inserted_count == 1
    assert summary.upserted_ids == {11: "u"}
    assert summary.errors == (
        BulkOperationError(
            12, 121, "invalid", {"index": 2, "code": 121, "errmsg": "invalid"}, {"n": 12}
        ),
    )
    assert summary.not_run == range(0)


def test_an_error_reports_the_bulk_writers_driver_operation() -> None:
    # The writer queues an insert as its document and reports it as the driver's InsertOne.
    account = BulkAccount(ordered=False, operation_of=_operation)
    account.merge(batch(3, insert=False), {"writeErrors": [{"index": 0, "code": 2}]})
    account.merge(batch(4), {"writeErrors": [{"index": 0, "code": 121}]})
    account.fail(batch(5, 6), MongocatError("refused"), connection_broken=False)
    assert [error.op for error in account.summary(7).errors] == [
        UpdateOne({"n": 3}, {"$set": {"x": 1}}),
        InsertOne({"n": 4}),
        InsertOne({"n": 5}),
        InsertOne({"n": 6}),
    ]


def test_an_ordered_error_leaves_the_rest_never_run() -> None:
    account = BulkAccount(ordered=True)
    account.merge(batch(0, 1, 2), {"nInserted": 1, "writeErrors": [{"index": 1, "code": 11000}]})
    assert account.summary(5).not_run == range(2, 5)
    assert account.summary(5).failed_indexes == (1,)


OWN = ObjectId()


def resent(error: dict[str, Any], *, own_id: Any = OWN) -> BulkWriteSummary:
    """The summary after a resent one-insert batch (mongocat's ``_id`` OWN) got ``error``."""
    account = BulkAccount(ordered=False)
    queued = [Queued(4, "op4", True, own_id)]
    account.merge(queued, {"nInserted": 0, "writeErrors": [{"index": 0, **error}]}, retried=True)
    return account.summary(5)


def test_a_duplicate_of_our_own_id_on_a_resent_insert_counts_as_inserted() -> None:
    by_pattern = resent({"code": 11000, "keyPattern": {"_id": 1}, "keyValue": {"_id": OWN}})
    assert (by_pattern.inserted_count, by_pattern.errors, by_pattern.in_doubt) == (1, (), ())
    errmsg = f"E11000 duplicate key error collection: db.c index: _id_ dup key: {{ _id: {OWN} }}"
    by_text = resent({"code": 11000, "errmsg": errmsg, "keyValue": {"_id": OWN}})
    assert by_text.inserted_count == 1


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(  # another unique index whose name contains "_id_"
            {
                "code": 11000,
                "errmsg": "E11000 duplicate key error collection: db.c index: user_id_1 dup key",
                "keyPattern": {"user_id": 1},
                "keyValue": {"user_id": 7},
            },
            id="user_id_1-index",
        ),
        pytest.param(  # the _id index, but not the _id mongocat generated
            {"code": 11000, "keyPattern": {"_id": 1}, "keyValue": {"_id": "someone-else"}},
            id="other-id",
        ),
    ],
)
def test_a_real_duplicate_on_a_resent_insert_stays_an_error(error: dict[str, Any]) -> None:
    summary = resent(error)
    assert summary.inserted_count == 0
    assert summary.failed_indexes == (4,)


def test_a_duplicate_of_a_callers_id_on_a_resent_insert_is_an_error_in_doubt() -> None:
    summary = resent(
        {"code": 11000, "keyPattern": {"_id": 1}, "keyValue": {"_id": "given"}}, own_id=None
    )
    assert summary.inserted_count == 0
    assert summary.failed_indexes == (4,)
    assert summary.in_doubt == (4,)  # stored by the first attempt, or there before


def test_a_duplicate_id_on_a_first_attempt_is_an_error() -> None:
    account = BulkAccount(ordered=False)
    duplicate = {"index": 0, "code": 11000, "errmsg": "E11000 ... index: _id_ dup key"}
    account.merge(batch(4), {"writeErrors": [duplicate]})
    assert account.summary(5).failed_indexes == (4,)


@pytest.mark.parametrize(
    ("ordered", "broken", "failed", "not_run", "in_doubt"),
    [
        pytest.param(True, False, (3,), range(4, 9), (), id="ordered-refused"),
        pytest.param(False, False, (3, 4, 5), range(0), (), id="unordered-refused"),
        pytest.param(True, True, (3, 4, 5), range(6, 9), (3, 4, 5), id="ordered-broken"),
        pytest.param(False, True, (3, 4, 5), range(0), (3, 4, 5), id="unordered-broken"),
    ],
)
def test_a_batch_failed_as_a_whole(
    ordered: bool, broken: bool, failed: tuple[int, ...], not_run: range, in_doubt: tuple[int, ...]
) -> None:
    account = BulkAccount(ordered=ordered)
    refused = MongocatError("refused", error_labels={"RetryableWriteError"})
    account.fail(batch(3, 4, 5), refused, connection_broken=broken)
    summary = account.summary(9)
    assert summary.failed_indexes == failed
    assert summary.not_run == not_run
    assert summary.in_doubt == in_doubt


def test_the_failure_names_the_failed_operations_and_what_never_ran() -> None:
    account = BulkAccount(ordered=True)
    account.merge(batch(0, 1), {"nInserted": 1, "writeErrors": [{"index": 1, "errmsg": "dup"}]})
    failure = account.failure(4)
    assert "#1: dup" in str(failure)
    assert "operations 2..3 never ran" in str(failure)
    assert failure.result == account.summary(4)


def test_summarize_reply_keeps_the_drivers_indexes() -> None:
    summary = summarize_reply(
        {
            "nInserted": 2,
            "writeErrors": [{"index": 3, "code": 11000, "errmsg": "dup"}],
            "upserted": [{"index": 1, "_id": 7}],
        }
    )
    assert summary.inserted_count == 2
    assert summary.failed_indexes == (3,)
    assert summary.upserted_ids == {1: 7}


def test_bulk_options_defaults() -> None:
    assert BulkOptions.build({}) == BulkOptions(
        ordered=True, batch_size=1000, max_batch_bytes=None, concurrency=1, retries=2
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"batch_size": 0}, "batch_size must be a positive int", id="batch-size"),
        pytest.param({"batch_size": True}, "batch_size must be a positive int", id="batch-bool"),
        pytest.param({"max_batch_bytes": 10}, "max_batch_bytes must be at least", id="bytes"),
        pytest.param({"concurrency": 0}, "concurrency must be at least 1", id="concurrency"),
        pytest.param({"concurrency": 2}, "use ordered=False", id="ordered-concurrent"),
        pytest.param({"retries": -1}, "retries must not be negative", id="retries"),
        pytest.param({"on_progress": 3}, "on_progress must be a function", id="progress"),
        pytest.param({"batchsize": 3}, "unknown bulk option", id="unknown"),
    ],
)
def test_bad_bulk_options_are_refused(options: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        BulkOptions.build(options)


def test_the_failure_keeps_the_reply_driver_error_and_labels_of_a_refused_batch() -> None:
    cause = RuntimeError("driver")
    refused = OperationFailed(
        "WriteConflict",
        code=112,
        details={"code": 112, "errmsg": "WriteConflict"},
        driver_error=cause,
        error_labels={"TransientTransactionError"},
    )
    account = BulkAccount(ordered=True)
    account.fail(batch(0, 1), refused, connection_broken=False)
    failure = account.failure(2)
    assert failure.details == {"code": 112, "errmsg": "WriteConflict"}
    assert failure.driver_error is cause
    assert failure.has_error_label("TransientTransactionError")
    assert failure.result.errors[0].code == 112
    assert failure.result.errors[0].details == {"code": 112, "errmsg": "WriteConflict"}
