"""The driver seam without a server: URI redaction, driver names, error translation."""

from typing import Any

import bson.errors
import pymongo.errors
import pytest

import mongocat
from mongocat._driver import create_client, redact_uri, seam_of, translate_error, uri_secrets


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        pytest.param("mongodb://h/db", "mongodb://h/db", id="no-userinfo"),
        pytest.param("mongodb://u@h/db", "mongodb://u@h/db", id="user-only"),
        pytest.param("mongodb://u:pw@h:1/db", "mongodb://u:***@h:1/db", id="password"),
        pytest.param(
            "mongodb+srv://u:p%40ss@c.example/db", "mongodb+srv://u:***@c.example/db", id="srv"
        ),
    ],
)
def test_redact_uri_hides_the_password(uri: str, shown: str) -> None:
    assert redact_uri(uri) == shown


def test_uri_secrets_include_the_decoded_password() -> None:
    assert set(uri_secrets("mongodb://u:p%40ss@h/db")) == {"p%40ss", "p@ss"}
    assert uri_secrets("mongodb://h/db") == ()


def test_unknown_driver_lists_both() -> None:
    with pytest.raises(mongocat.ConfigurationError, match="use driver='motor' or 'pymongo'"):
        create_client("mongodb://localhost", "mongoengine", {})


def test_the_seam_of_a_sync_client_is_refused() -> None:
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(connect=False)
    try:
        with pytest.raises(mongocat.ConfigurationError, match=r"pymongo\.AsyncMongoClient"):
            seam_of(client)
    finally:
        client.close()


def test_invalid_uri_is_a_configuration_error_without_the_password() -> None:
    with pytest.raises(mongocat.ConfigurationError) as info:
        create_client("mongodb://u:hunter2@h:99999/db", "pymongo", {})
    assert "hunter2" not in str(info.value)
    assert "mongodb://u:***@h:99999/db" in str(info.value)


def _dup_key_error() -> pymongo.errors.DuplicateKeyError:
    details = {
        "index": 0,
        "code": 11000,
        "errmsg": "E11000 duplicate key error collection: shop.products index: sku_1 "
        'dup key: { sku: "W-1" }',
        "keyPattern": {"sku": 1},
        "keyValue": {"sku": "W-1"},
    }
    return pymongo.errors.DuplicateKeyError(details["errmsg"], 11000, details)


def test_duplicate_key_names_index_and_key() -> None:
    error = translate_error(_dup_key_error())
    assert isinstance(error, mongocat.DuplicateKeyError)
    assert error.index_name == "sku_1"
    assert error.key_value == {"sku": "W-1"}
    assert error.key_pattern == {"sku": 1}
    assert error.code == 11000
    assert "duplicate key {'sku': 'W-1'} in unique index 'sku_1' of 'shop.products'" in str(error)
    assert isinstance(error.driver_error, pymongo.errors.DuplicateKeyError)


def test_duplicate_key_without_key_value_falls_back_to_the_message() -> None:
    details = {
        "code": 11000,
        "errmsg": "E11000 duplicate key error collection: a.b index: x_1 dup key: { x: 1 }",
    }
    error = translate_error(pymongo.errors.DuplicateKeyError(details["errmsg"], 11000, details))
    assert isinstance(error, mongocat.DuplicateKeyError)
    assert error.index_name == "x_1"
    assert error.key_value is None
    assert "duplicate key { x: 1 } in unique index 'x_1'" in str(error)


def test_bulk_write_error_keeps_every_failed_index() -> None:
    details = {
        "nInserted": 2,
        "nMatched": 0,
        "nModified": 0,
        "nRemoved": 0,
        "nUpserted": 0,
        "upserted": [],
        "writeErrors": [
            {"index": 1, "code": 11000, "errmsg": "dup 1"},
            {"index": 3, "code": 121, "errmsg": "Document failed validation"},
        ],
        "writeConcernErrors": [],
    }
    error = translate_error(pymongo.errors.BulkWriteError(details))
    assert isinstance(error, mongocat.BulkWriteFailed)
    assert error.result.inserted_count == 2
    assert error.result.failed_indexes == (1, 3)
    assert [e.code for e in error.result.errors] == [11000, 121]
    assert "#1: dup 1" in str(error)


@pytest.mark.parametrize(
    ("driver_error", "expected"),
    [
        pytest.param(
            pymongo.errors.ServerSelectionTimeoutError("h:1: [Errno 111] refused"),
            mongocat.ServerUnavailable,
            id="server-selection",
        ),
        pytest.param(pymongo.errors.AutoReconnect("closed"), mongocat.NetworkError, id="network"),
        pytest.param(
            pymongo.errors.ExecutionTimeout("time limit", 50, {"code": 50}),
            mongocat.ExecutionTimeout,
            id="max-time",
        ),
        pytest.param(
            pymongo.errors.OperationFailure("no such command", 59, {"code": 59}),
            mongocat.ServerFeatureUnavailable,
            id="command-not-found",
        ),
        pytest.param(
            pymongo.errors.OperationFailure("bad", 2, {"code": 2, "codeName": "BadValue"}),
            mongocat.OperationFailed,
            id="other-failure",
        ),
        pytest.param(
            pymongo.errors.InvalidName("bad name"), mongocat.ConfigurationError, id="invalid-name"
        ),
        pytest.param(
            bson.errors.InvalidDocument("cannot encode object: <object>"),
            mongocat.InvalidDocument,
            id="invalid-document",
        ),
        pytest.param(pymongo.errors.InvalidOperation("no"), mongocat.MongocatError, id="other"),
    ],
)
def test_driver_errors_map_to_mongocat_errors(driver_error: Exception, expected: type) -> None:
    error = translate_error(driver_error)
    assert type(error) is expected
    assert error.driver_error is driver_error


def test_error_labels_are_kept() -> None:
    failure = pymongo.errors.OperationFailure(
        "write conflict",
        112,
        {"code": 112, "codeName": "WriteConflict", "errorLabels": ["TransientTransactionError"]},
    )
    error = translate_error(failure)
    assert error.has_error_label("TransientTransactionError")
    assert isinstance(error, mongocat.OperationFailed)
    assert error.code_name == "WriteConflict"


def test_secrets_never_reach_the_message() -> None:
    failure = pymongo.errors.ServerSelectionTimeoutError("mongodb://u:hunter2@h refused")
    assert "hunter2" not in str(translate_error(failure, ["hunter2"]))


def test_a_server_error_message_is_the_servers_errmsg_not_the_whole_reply() -> None:
    reply = {
        "ok": 0.0,
        "errmsg": "text indexes are not supported",
        "code": 67,
        "codeName": "CannotCreateIndex",
        "$clusterTime": {"signature": {"hash": b"\0" * 20, "keyId": 0}},
    }
    error = translate_error(pymongo.errors.OperationFailure(reply["errmsg"], 67, reply))
    assert str(error) == "text indexes are not supported (code 67); see the server's message"
    assert isinstance(error, mongocat.OperationFailed)
    assert error.details == reply


def test_secrets_never_reach_the_message_from_the_servers_errmsg() -> None:
    reply = {"ok": 0.0, "errmsg": "user hunter2 not found", "code": 11}
    error = translate_error(
        pymongo.errors.OperationFailure(reply["errmsg"], 11, reply), ["hunter2"]
    )
    assert "hunter2" not in str(error)


def test_connect_uses_pymongo_async_unless_motor_is_asked_for() -> None:
    from pymongo import AsyncMongoClient

    catalogue = mongocat.Catalogue.connect("mongodb://127.0.0.1:1/shop")
    assert catalogue.driver == "pymongo"
    assert isinstance(catalogue.client, AsyncMongoClient)
    motor = mongocat.Catalogue.connect("mongodb://127.0.0.1:1/shop", driver="motor")
    assert motor.driver == "motor"
    assert type(motor.client).__name__ == "AsyncIOMotorClient"
    motor.client.close()


TOPOLOGY = (
    "127.0.0.1:1: [Errno 111] Connection refused (configured timeouts: socketTimeoutMS: "
    "20000.0ms, connectTimeoutMS: 20000.0ms), Timeout: 30s, Topology Description: "
    "<TopologyDescription id: 6b0f, topology_type: Unknown, servers: [<ServerDescription "
    "('127.0.0.1', 1) server_type: Unknown, rtt: None, error=AutoReconnect('127.0.0.1:1: "
    "[Errno 111] Connection refused (configured timeouts: socketTimeoutMS: 20000.0ms, "
    "connectTimeoutMS: 20000.0ms)')>]>"
)


def test_server_unavailable_is_short_and_keeps_the_topology_in_details() -> None:
    error = translate_error(pymongo.errors.ServerSelectionTimeoutError(TOPOLOGY))
    assert isinstance(error, mongocat.ServerUnavailable)
    assert len(str(error).splitlines()[0]) < 200
    assert "TopologyDescription" not in str(error)
    assert error.details == {"topology": TOPOLOGY}


def test_network_error_advice_depends_on_the_operation_and_what_the_driver_did() -> None:
    read = translate_error(pymongo.errors.AutoReconnect("connection closed"), read=True)
    assert "the read changed nothing: retry it" in str(read)
    write = translate_error(pymongo.errors.AutoReconnect("connection closed"))
    assert "may or may not have been applied" in str(write)
    assert "idempotent" in str(write)
    retried = pymongo.errors.AutoReconnect("connection closed")
    retried._add_error_label("RetryableWriteError")
    after_retry = translate_error(retried)
    assert "already retried it once" in str(after_retry)
    assert "use retryable writes" not in str(after_retry)
    assert len(str(after_retry)) < 260


def test_write_concern_errors_are_translated_by_code() -> None:
    timed_out = pymongo.errors.WriteConcernError(
        "operation exceeded time limit", 50, {"code": 50, "errmsg": "exceeded"}
    )
    error = translate_error(timed_out)
    assert isinstance(error, mongocat.ClientTimeout)
    assert error.details == {"code": 50, "errmsg": "exceeded"}
    waited = pymongo.errors.WTimeoutError(
        "waiting for replication timed out", 64, {"code": 64, "codeName": "WriteConcernFailed"}
    )
    kept = translate_error(waited)
    assert type(kept) is mongocat.OperationFailed
    assert (kept.code, kept.code_name) == (64, "WriteConcernFailed")
