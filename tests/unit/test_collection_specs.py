"""CollectionSpec, TimeSeries and Capped against literal create commands."""

from datetime import timedelta
from typing import Any

import pytest

from mongocat import Capped, CollectionSpec, ConfigurationError, TimeSeries


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
