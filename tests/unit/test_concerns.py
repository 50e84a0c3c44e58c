"""The plain forms of read preferences and concerns, against the driver's objects."""

from typing import Any

import pytest
from pymongo.read_concern import ReadConcern
from pymongo.read_preferences import Nearest, Primary, PrimaryPreferred, Secondary
from pymongo.write_concern import WriteConcern

from mongocat import ConfigurationError, TransactionError
from mongocat._concerns import (
    as_read_concern,
    as_read_preference,
    as_write_concern,
    driver_options,
    refuse_in_transaction,
)


@pytest.mark.parametrize(
    ("given", "document"),
    [
        ("primary", {"mode": "primary"}),
        ("secondaryPreferred", {"mode": "secondaryPreferred"}),
        ("secondary_preferred", {"mode": "secondaryPreferred"}),
        ("NEAREST", {"mode": "nearest"}),
        ({"mode": "primaryPreferred"}, {"mode": "primaryPreferred"}),
        (
            {"mode": "secondary", "tags": [{"dc": "east"}, {}], "maxStalenessSeconds": 90},
            {"mode": "secondary", "tags": [{"dc": "east"}, {}], "maxStalenessSeconds": 90},
        ),
        (Nearest(tag_sets=[{"rack": "1"}]), {"mode": "nearest", "tags": [{"rack": "1"}]}),
    ],
)
def test_read_preference_forms(given: Any, document: dict[str, Any]) -> None:
    assert as_read_preference(given).document == document


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("secondry", "unknown read preference mode 'secondry'"),
        (1, "read_preference must be a mode name"),
        ({"tags": []}, "give 'mode'"),
        ({"mode": "nearest", "tag": []}, r"not \['tag'\]"),
        ({"mode": "nearest", "tags": {"dc": "x"}}, "a list of tag documents"),
        ({"mode": "primary", "maxStalenessSeconds": 120}, "takes no tags"),
        ({"mode": "secondary", "maxStalenessSeconds": 10}, "maxStalenessSeconds"),
    ],
)
def test_read_preference_nonsense(given: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        as_read_preference(given)


def test_read_concern_forms() -> None:
    assert as_read_concern("majority") == ReadConcern("majority")
    assert as_read_concern({"level": "snapshot"}) == ReadConcern("snapshot")
    given = ReadConcern("local")
    assert as_read_concern(given) is given
    for bad in ("majorty", {"level": "x"}, {"level": "local", "afterClusterTime": 1}, 3):
        with pytest.raises(ConfigurationError, match="read_concern must be a level"):
            as_read_concern(bad)  # type: ignore[arg-type]


def test_write_concern_forms() -> None:
    assert as_write_concern(1) == WriteConcern(w=1)
    assert as_write_concern("majority") == WriteConcern(w="majority")
    assert as_write_concern({"w": "majority", "wtimeout": 5000, "j": True}).document == {
        "w": "majority",
        "wtimeout": 5000,
        "j": True,
    }
    assert as_write_concern({"wtimeoutMS": 100}).document == {"wtimeout": 100}
    given = WriteConcern(w=2)
    assert as_write_concern(given) is given
    with pytest.raises(ConfigurationError, match="unknown key"):
        as_write_concern({"w": 1, "fsync": True})
    with pytest.raises(ConfigurationError, match="write_concern -1"):
        as_write_concern(-1)
    with pytest.raises(ConfigurationError, match="write_concern"):
        as_write_concern({"w": 0, "j": True})
    with pytest.raises(ConfigurationError, match="write_concern must be w"):
        as_write_concern(True)  # type: ignore[arg-type]


def test_only_given_options_are_passed() -> None:
    assert driver_options() == {}
    assert driver_options(read_concern="local") == {"read_concern": ReadConcern("local")}


def test_what_a_transaction_cannot_do() -> None:
    refuse_in_transaction(Primary(), WriteConcern(w="majority"), "it")
    refuse_in_transaction(None, None, "it")
    with pytest.raises(TransactionError, match="w=0"):
        refuse_in_transaction(None, WriteConcern(w=0), "it")
    for preference in (PrimaryPreferred(), Secondary()):
        with pytest.raises(TransactionError, match="primary only"):
            refuse_in_transaction(preference, None, "it")
