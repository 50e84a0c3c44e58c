"""CollectionSpec, TimeSeries and Capped against literal create commands."""

from datetime import timedelta
from typing import Any

import pytest

from mongocat import Capped, CollectionSpec, ConfigurationError, TimeSeries
from mongocat._collection_specs import plan_collection


def test_every_option_renders_as_create_names_it() -> None:
    spec = CollectionSpec(
        "readings",
        validator={"$jsonSchema": {"bsonType": "object"}},
        validation_level="moderate",
        validation_action="warn",
        timeseries=TimeSeries("at", meta_field="sensor", granularity="minutes"),
        expire_after=timedelta(days=1),
        pre_and_post_images=True,
        collation={"locale": "fr"},
    )
    assert spec.to_create() == {
        "create": "readings",
        "validator": {"$jsonSchema": {"bsonType": "object"}},
        "validationLevel": "moderate",
        "validationAction": "warn",
        "timeseries": {"timeField": "at", "metaField": "sensor", "granularity": "minutes"},
        "expireAfterSeconds": 86400,
        "changeStreamPreAndPostImages": {"enabled": True},
        "collation": {"locale": "fr"},
    }
    assert CollectionSpec("log", capped=Capped(4096, max=10)).to_create() == {
        "create": "log",
        "capped": True,
        "size": 4096,
        "max": 10,
    }
    assert CollectionSpec("c", clustered=True, expire_after=60).to_create() == {
        "create": "c",
        "expireAfterSeconds": 60,
        "clusteredIndex": {"key": {"_id": 1}, "unique": True},
    }
    assert TimeSeries("t", bucket_max_span=3600, bucket_rounding=3600).to_mongo() == {
        "timeField": "t",
        "bucketMaxSpanSeconds": 3600,
        "bucketRoundingSeconds": 3600,
    }


def test_to_create_gives_a_fresh_document() -> None:
    spec = CollectionSpec("v", validator={"$jsonSchema": {"bsonType": "object"}})
    spec.to_create()["validator"]["x"] = 1
    assert spec.to_create()["validator"] == {"$jsonSchema": {"bsonType": "object"}}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: CollectionSpec(""), "invalid collection name"),
        (lambda: CollectionSpec("a", validator=[1]), "validator must be a document"),
        (lambda: CollectionSpec("a", validation_level="lax"), "validation_level must be"),
        (lambda: CollectionSpec("a", validation_action="drop"), "validation_action must be"),
        (
            lambda: CollectionSpec("a", capped=Capped(10), timeseries=TimeSeries("t")),
            "cannot also be a time-series",
        ),
        (lambda: CollectionSpec("a", capped=Capped(10), clustered=True), "cannot also be"),
        (lambda: CollectionSpec("a", expire_after=10), "declare a TTL index"),
        (
            lambda: CollectionSpec("a", timeseries=TimeSeries("t"), expire_after=-1),
            "non-negative duration",
        ),
        (lambda: CollectionSpec("a", timeseries=TimeSeries("t"), expire_after=1.5), "whole"),
        (lambda: TimeSeries("$t"), "time_field must be a field name"),
        (lambda: TimeSeries("t", granularity="days"), "granularity must be one of"),
        (lambda: TimeSeries("t", granularity="hours", bucket_max_span=60), "not a mix"),
        (lambda: TimeSeries("t", bucket_max_span=60, bucket_rounding=30), "must be equal"),
        (lambda: Capped(0), "Capped size must be a positive int"),
        (lambda: Capped(100, max=0), "Capped max must be a positive int"),
    ],
)
def test_nonsense_is_refused_when_made(make: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        make()


def entry(**options: Any) -> dict[str, Any]:
    """A listCollections entry with these options."""
    return {"name": "c", "type": "collection", "options": options}


def test_plan_a_missing_collection_creates_it() -> None:
    spec = CollectionSpec("c", capped=Capped(4096))
    change = plan_collection(spec, None)
    assert (change.action, change.command) == ("create", spec.to_create())


def test_plan_what_matches_is_unchanged() -> None:
    spec = CollectionSpec(
        "c",
        validator={"$jsonSchema": {"bsonType": "object"}},
        collation={"locale": "fr"},
        pre_and_post_images=True,
    )
    server = entry(
        validator={"$jsonSchema": {"bsonType": "object"}},
        collation={"locale": "fr", "strength": 3, "caseLevel": False},  # the server's full form
        changeStreamPreAndPostImages={"enabled": True},
    )
    assert plan_collection(spec, server).action == "unchanged"
    assert plan_collection(CollectionSpec("c"), entry(validator={})).action == "unchanged"


def test_plan_what_can_change_in_place_is_one_coll_mod() -> None:
    spec = CollectionSpec(
        "c",
        validator={"a": {"$exists": True}},
        validation_action="warn",
        clustered=True,
        expire_after=60,
    )
    server = entry(clusteredIndex={"key": {"_id": 1}}, validator={"b": {"$exists": True}})
    change = plan_collection(spec, server)
    assert change.action == "modify"
    assert change.command == {
        "collMod": "c",
        "validator": {"a": {"$exists": True}},
        "validationAction": "warn",
        "expireAfterSeconds": 60,
    }
    assert len(change.reasons) == 3
    undo = plan_collection(
        CollectionSpec("c", clustered=True),
        entry(
            clusteredIndex={"key": {"_id": 1}},
            expireAfterSeconds=60,
            changeStreamPreAndPostImages={"enabled": True},
        ),
    )
    assert undo.command == {
        "collMod": "c",
        "changeStreamPreAndPostImages": {"enabled": False},
        "expireAfterSeconds": "off",
    }


@pytest.mark.parametrize(
    ("spec", "server", "said"),
    [
        (CollectionSpec("c", capped=Capped(4096)), entry(), "capped"),
        (CollectionSpec("c"), entry(capped=True, size=4096), "capped"),
        (CollectionSpec("c", clustered=True), entry(), "clustered=True"),
        (
            CollectionSpec("c", timeseries=TimeSeries("t", granularity="hours")),
            entry(timeseries={"timeField": "t", "granularity": "minutes"}),
            "time series",
        ),
        (CollectionSpec("c", collation={"locale": "fr"}), entry(), "collation"),
    ],
)
def test_plan_what_cannot_change_in_place_is_a_conflict_with_the_fix(
    spec: CollectionSpec, server: dict[str, Any], said: str
) -> None:
    change = plan_collection(spec, server)
    assert change.action == "conflict"
    assert change.command is None
    assert said in change.reasons[0]
    assert "cannot change in place" in change.reasons[-1]
    assert change.to_dict()["action"] == "conflict"
