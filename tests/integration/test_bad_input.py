"""Bad input gets a clear MongocatError naming the offender, and nothing is written."""

import math
from collections.abc import AsyncIterator
from typing import Any

import pytest
from bson import ObjectId

from mongocat import (
    BulkWriteFailed,
    Catalogue,
    Collection,
    F,
    Filter,
    InvalidDocument,
    InvalidQuery,
    MongocatError,
    Update,
    object_id,
)
from mongocat.testing import CommandRecorder


def nested(depth: int) -> dict[str, Any]:
    document: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        document = {"a": document}
    return document


BAD_DOCUMENTS = [
    pytest.param({"name": "x", "$where": "1"}, r"'\$where' starts with '\$'", id="dollar-key"),
    pytest.param({"meta": {"$gt": 1}}, r"'meta.\$gt' starts with '\$'", id="nested-dollar-key"),
    pytest.param({"items": [{"ok": 1}, {"$set": 2}]}, r"'items.1.\$set'", id="dollar-key-in-array"),
    pytest.param({"bad\x00name": 1}, "NUL", id="nul-in-key"),
    pytest.param({1: "one"}, "BSON field names are strings", id="int-key"),
    pytest.param(nested(101), "nests more than 100 levels", id="too-deep"),
    pytest.param({"a.b": 1}, r"'a.b' has a '\.' in its name", id="dotted-key"),
    pytest.param({"x": {"a.b": 1}}, r"'x.a.b' has a '\.'", id="nested-dotted-key"),
    pytest.param({"": 1}, "empty name", id="empty-key"),
]


Recorded = tuple[Collection[dict[str, Any]], CommandRecorder]


@pytest.fixture
async def recorded(catalogue_factory: Any) -> AsyncIterator[Recorded]:
    """A collection on a client whose commands are recorded, and the recorder."""
    recorder = CommandRecorder()
    async with catalogue_factory(event_listeners=[recorder]) as cat:
        yield cat.collection("items"), recorder


@pytest.mark.parametrize(("document", "message"), BAD_DOCUMENTS)
async def test_bad_documents_are_refused_before_sending(
    recorded: Recorded, document: dict[Any, Any], message: str
) -> None:
    items, recorder = recorded
    with pytest.raises(InvalidDocument, match=message):
        await items.insert_one(document)
    with pytest.raises(InvalidDocument, match=rf"document #1: .*{message}"):
        await items.insert_many([{"_id": "fine"}, document])
    top_level_operator = any(str(key).startswith("$") for key in document)
    with pytest.raises(
        InvalidQuery if top_level_operator else InvalidDocument,
        match="is an update operator" if top_level_operator else message,
    ):
        await items.replace_one(F._id == "x", document)

    async def bulk_with_bad() -> None:
        async with items.bulk() as bulk:
            await bulk.insert_one({"_id": "fine"})
            await bulk.insert_one(document)

    with pytest.raises(InvalidDocument, match=message):
        await bulk_with_bad()
    for name in ("insert", "update"):
        assert recorder.commands(name) == []
    assert await items.count() == 0


async def test_a_hundred_levels_are_allowed(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    await items.insert_one(nested(100))
    assert await items.count() == 1


async def test_a_document_over_16_mib_is_refused_and_nothing_is_written(
    catalogue: Catalogue,
) -> None:
    items = catalogue.collection("items")
    big = {"_id": "big", "blob": b"x" * (16 * 1024 * 1024 + 1)}
    with pytest.raises(InvalidDocument, match="16 MiB") as info:
        await items.insert_one(big)
    assert "GridFS" in str(info.value)
    assert "nothing of it was stored" in str(info.value)

    async def bulk_with_big() -> None:
        async with items.bulk() as bulk:
            await bulk.insert_one({"_id": "small"})
            await bulk.insert_one(big)

    with pytest.raises(InvalidDocument, match="over the server's 16,777,216-byte limit"):
        await bulk_with_big()
    assert await items.count() == 0
    # insert_many sends what the driver lets through; the server refuses the big one
    # and the failure names it, with what was stored before it.
    with pytest.raises(BulkWriteFailed) as failed:
        await items.insert_many([{"_id": "small"}, big])
    result = failed.value.result
    assert result.failed_indexes == (1,)
    assert result.inserted_count == await items.count() == 1


@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
def test_nan_as_a_range_bound_is_refused(op: str) -> None:
    nan = math.nan
    build = {
        "<": lambda: F.price < nan,
        "<=": lambda: F.price <= nan,
        ">": lambda: F.price > nan,
        ">=": lambda: F.price >= nan,
    }[op]
    with pytest.raises(InvalidQuery, match=f"F.price {op} nan"):
        build()


async def test_nan_equality_finds_nan_as_mongodb_documents(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    await items.insert_many([{"_id": 1, "price": math.nan}, {"_id": 2, "price": 1.0}])
    assert await items.distinct("_id", F.price == math.nan) == [1]


@pytest.mark.parametrize(
    "text", ["", "xyz", "65a1b2c3d4e5f6a7b8c9d0e", "65a1b2c3d4e5f6a7b8c9d0eZ", 42, None]
)
def test_invalid_object_ids_are_refused_by_the_helper(text: Any) -> None:
    with pytest.raises(InvalidQuery, match="not an ObjectId: expected 24 hexadecimal"):
        object_id(text)


def test_valid_object_ids_pass() -> None:
    oid = ObjectId()
    assert object_id(oid) is oid
    assert object_id(str(oid)) == oid


async def test_a_filter_and_an_update_in_each_others_place_are_named(
    catalogue: Catalogue,
) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": 1, "price": 5})
    with pytest.raises(InvalidQuery, match="is a Filter, given where an update goes"):
        await items.update_one(F._id == 1, F.price < 10)  # type: ignore[arg-type]
    with pytest.raises(InvalidQuery, match="is an Update, given where a filter goes"):
        await items.find_one(Update.set(price=1))  # type: ignore[arg-type]
    with pytest.raises(InvalidQuery, match="is an Update, given where a filter goes"):
        await items.update_one(Update.set(price=1), F._id == 1)  # type: ignore[arg-type]
    doc = await items.find_one(F._id == 1)
    assert doc == {"_id": 1, "price": 5}


def test_every_refusal_is_a_mongocat_error() -> None:
    for error in (InvalidDocument, InvalidQuery):
        assert issubclass(error, MongocatError)


async def test_text_with_a_lone_surrogate_is_an_invalid_document(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    bad = {"_id": 1, "name": "half \udc11 a character"}
    with pytest.raises(InvalidDocument, match="lone UTF-16 surrogate"):
        await items.insert_one(bad)
    with pytest.raises(InvalidDocument, match="lone UTF-16 surrogate"):
        await items.bulk_insert([bad])
    with pytest.raises(InvalidDocument, match="lone UTF-16 surrogate"):
        await items.find_one(F.name == "\udc11")
    assert await items.count() == 0


async def test_an_int_beyond_64_bits_is_an_invalid_document(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    with pytest.raises(InvalidDocument, match="64 bits"):
        await items.insert_one({"_id": 1, "n": 2**64})
    with pytest.raises(InvalidDocument, match="64 bits"):
        await items.bulk_insert([{"_id": 2, "n": -(2**63) - 1}])
    assert await items.count() == 0


NOT_DOCUMENTS = [
    pytest.param(None, id="None"),
    pytest.param([{"a": 1}], id="list"),
    pytest.param("abc", id="str"),
    pytest.param(5, id="int"),
]


@pytest.mark.parametrize("value", NOT_DOCUMENTS)
async def test_an_insert_of_something_not_a_document_is_refused(
    catalogue: Catalogue, value: Any
) -> None:
    items = catalogue.collection("items")
    with pytest.raises(InvalidDocument, match="a document to store is a mapping"):
        await items.insert_one(value)
    with pytest.raises(InvalidDocument, match="document #0: a document to store is a mapping"):
        await items.insert_many([value])
    assert await items.count() == 0


@pytest.mark.parametrize("value", [None, {"a": 1}, "abc", 5])
async def test_insert_many_takes_an_iterable_of_documents(catalogue: Catalogue, value: Any) -> None:
    with pytest.raises(InvalidDocument, match="insert_many\\(\\) takes an iterable of documents"):
        await catalogue.collection("items").insert_many(value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"limit": "5"}, "limit= takes an int, not str '5'", id="limit-str"),
        pytest.param({"skip": -1}, "skip= takes an int of at least 0", id="skip-negative"),
        pytest.param({"skip": True}, "skip= takes an int", id="skip-bool"),
        pytest.param({"batch_size": "x"}, "batch_size= takes an int", id="batch-size"),
        pytest.param({"max_time_ms": 1.5}, "max_time_ms= takes an int", id="max-time"),
        pytest.param({"sort": "$where"}, r"'\$where' .* starts with '\$'", id="sort-str"),
        pytest.param({"sort": {"$where": 1}}, r"starts with '\$'", id="sort-document"),
        pytest.param({"sort": [("a..b", 1)]}, "empty segment", id="sort-pairs"),
        pytest.param({"projection": {"$where": 1}}, r"starts with '\$'", id="projection"),
        pytest.param({"projection": ["ok", "$x"]}, r"starts with '\$'", id="projection-list"),
    ],
)
async def test_bad_read_options_are_refused_before_sending(
    recorded: Recorded, options: dict[str, Any], message: str
) -> None:
    items, recorder = recorded
    with pytest.raises(InvalidQuery, match=message):
        await items.find(**options).to_list()
    assert recorder.commands("find") == []


async def test_good_read_options_still_pass(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    await items.insert_many([{"_id": i, "tags": ["a", "b"]} for i in range(3)])
    rows = await items.find(
        F.tags == "a", projection={"tags.$": 1}, sort={"_id": -1}, skip=0, limit=-2
    ).to_list()
    assert rows == [{"_id": 2, "tags": ["a"]}, {"_id": 1, "tags": ["a"]}]
    natural = await items.find(sort={"$natural": 1}).to_list()  # storage order: any order
    assert sorted(d["_id"] for d in natural) == [0, 1, 2]


def test_a_filter_is_not_built_from_a_dict() -> None:
    with pytest.raises(InvalidQuery, match=r"Filter\.raw\("):
        Filter({"a": 1})  # type: ignore[arg-type]


async def test_distinct_takes_a_field_name(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    with pytest.raises(InvalidQuery, match="a field path must be a string"):
        await items.distinct(5)  # type: ignore[arg-type]
    await items.insert_one({"a": {"b": 1}})
    assert await items.distinct(F.a.b) == [1]  # type: ignore[arg-type]


DOLLAR_DOCUMENTS = [
    {"_id": 1, "$price": 50.0, "quantity": 30},
    {"_id": 2, "a.b": 1, "": "empty name"},
    {"_id": 3, "location": {"$db": "novels", "$ref": "2007042768", "$inc": True}},
]


async def test_updates_that_would_store_dollar_names_are_refused_by_default(
    recorded: Recorded,
) -> None:
    items, recorder = recorded
    await items.insert_one({"_id": 1})
    for update in (
        Update.set(meta={"$ne": 1}),
        Update.set_on_insert(meta={"a.b": 1}),
        Update.max(meta={"$ne": 1}),
        {"$min": {"meta": {"x": {"$gt": 0}}}},
        {"$push": {"log": {"$each": [{"$gt": 0}]}}},
        {"$addToSet": {"tags": {"x": {"$in": [1]}}}},
    ):
        with pytest.raises(InvalidDocument, match="allow_dollar_fields=True"):
            await items.update_one(F._id == 1, update)
    with pytest.raises(InvalidDocument, match="allow_dollar_fields=True"):
        async with items.bulk() as bulk:
            await bulk.update_one(F._id == 1, Update.set(meta={"$ne": 1}))
    assert recorder.commands("update") == []
    await items.update_one(F._id == 1, Update.push(F.log, 1).set(meta={"ok": 1}))


async def test_allow_dollar_fields_stores_and_reads_back_exactly(catalogue: Catalogue) -> None:
    items = catalogue.collection("items", allow_dollar_fields=True)
    await items.insert_many([dict(d) for d in DOLLAR_DOCUMENTS])
    assert await items.find(sort={"_id": 1}) == DOLLAR_DOCUMENTS
    await items.update_one(F._id == 1, Update.set(meta={"$ne": 1}))
    # A replacement's top-level names may not start with '$' (MongoDB refuses them too);
    # nested ones may.
    await items.replace_one(F._id == 2, {"data": {"$kind": "replaced"}})
    stored = {d["_id"]: d for d in await items.find()}
    assert stored[1]["meta"] == {"$ne": 1}
    assert stored[2] == {"_id": 2, "data": {"$kind": "replaced"}}
    refused = catalogue.collection("items")  # the default still refuses them
    with pytest.raises(InvalidDocument):
        await refused.insert_one({"$price": 1})


async def test_the_catalogue_sets_the_default_of_its_collections(
    mongocat_server_uri: str, mongocat_driver: Any, mongocat_database_name: str
) -> None:
    async with Catalogue.connect(
        mongocat_server_uri,
        mongocat_database_name,
        driver=mongocat_driver,
        allow_dollar_fields=True,
    ) as cat:
        await cat.collection("items").insert_one({"_id": 1, "$price": 1})
        with pytest.raises(InvalidDocument):  # one collection may still refuse them
            await cat.collection("items", allow_dollar_fields=False).insert_one({"$x": 1})
        assert await cat.collection("items").find() == [{"_id": 1, "$price": 1}]
        await cat.client.drop_database(mongocat_database_name)
