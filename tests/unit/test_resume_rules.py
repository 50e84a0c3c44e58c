"""The change streams specification: resumable errors by wire version, event fields."""

import pytest

from mongocat import (
    ChangeEvent,
    MongocatError,
    NetworkError,
    OperationFailed,
    ServerUnavailable,
    UpdateDescription,
)
from mongocat._change_events import resumable

LABELLED = ["ResumableChangeStreamError"]


def server_error(code: int, labels: list[str] | None = None) -> OperationFailed:
    return OperationFailed("failed", code=code, error_labels=labels or [])


@pytest.mark.parametrize(
    ("error", "wire_version", "expected"),
    [
        pytest.param(NetworkError("closed"), 21, True, id="network"),
        pytest.param(ServerUnavailable("none"), 21, True, id="no-server"),
        pytest.param(server_error(43), 21, True, id="cursor-not-found-new"),
        pytest.param(server_error(43), 8, True, id="cursor-not-found-old"),
        pytest.param(server_error(6, LABELLED), 21, True, id="labelled-new"),
        pytest.param(server_error(6), 21, False, id="code-without-label-new"),
        pytest.param(server_error(6), 8, True, id="code-list-old"),
        pytest.param(server_error(2), 8, False, id="not-listed-old"),
        pytest.param(server_error(280, LABELLED), 9, True, id="any-code-labelled"),
        pytest.param(
            server_error(6, [*LABELLED, "NonResumableChangeStreamError"]), 21, False, id="nonres"
        ),
        pytest.param(server_error(6), None, True, id="unknown-version-code"),
        pytest.param(MongocatError("client-side"), 21, False, id="not-a-server-error"),
    ],
)
def test_resumable_by_the_specification(
    error: MongocatError, wire_version: int | None, expected: bool
) -> None:
    assert resumable(error, wire_version) is expected


def test_an_event_keeps_absent_fields_absent_and_disambiguated_paths() -> None:
    raw = {
        "_id": {"_data": "82"},
        "ns": {"coll": "items"},  # no db: a $project removed it
        "updateDescription": {
            "updatedFields": {"a.b": 1},
            "removedFields": [],
            "truncatedArrays": [],
            "disambiguatedPaths": {"a.b": ["a.b"]},
        },
    }
    event = ChangeEvent.from_raw(raw)
    assert event.operation_type is None
    assert event.namespace is not None
    assert (event.namespace.database, event.namespace.collection) == (None, "items")
    assert event.update_description == UpdateDescription({"a.b": 1}, [], [], {"a.b": ["a.b"]})
    assert event.raw == raw
