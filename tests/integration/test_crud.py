"""Every Collection operation over the wire, on both drivers."""

from typing import Any, TypedDict

import pytest
from bson import ObjectId

from mongocat import (
    BulkWriteFailed,
    Catalogue,
    Collection,
    DocumentNotFound,
    DuplicateKeyError,
    F,
    InvalidDocument,
    InvalidQuery,
    OperationFailed,
    Update,
)


class Product(TypedDict, total=False):
    _id: Any
    sku: str
    name: str
    price: float
    stock: int
    tags: list[str]


PRODUCTS: list[Product] = [
    {"sku": "W-1", "name": "Widget", "price": 9.99, "stock": 10, "tags": ["tools"]},
    {"sku": "G-1", "name": "Gadget", "price": 24.5, "stock": 0, "tags": ["tools", "new"]},
    {"sku": "D-1", "name": "Doohickey", "price": 4.25, "stock": 3, "tags": ["misc"]},
]


@pytest.fixture
async def products(catalogue: Catalogue) -> Collection[Product]:
    collection = catalogue.collection("products", Product)
    await collection.insert_many([dict(p) for p in PRODUCTS])  # type: ignore[misc]
    return collection


async def test_insert_one_returns_the_id_and_stores_the_document(catalogue: Catalogue) -> None:
    users = catalogue.collection("users")
    result = await users.insert_one({"name": "Alice", "age": 30})
    assert isinstance(result.inserted_id, ObjectId)
    assert result.acknowledged is True
    assert await users.find_one({"_id": result.inserted_id}) == {
        "_id": result.inserted_id,
        "name": "Alice",
        "age": 30,
    }


async def test_insert_many_keeps_order_of_ids(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    result = await items.insert_many([{"_id": i, "n": i} for i in range(5)])
    assert result.inserted_ids == [0, 1, 2, 3, 4]
    assert await items.count() == 5


async def test_insert_many_from_a_generator(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    result = await items.insert_many({"n": i} for i in range(3))
    assert len(result.inserted_ids) == 3
    assert sorted(await items.distinct("n")) == [0, 1, 2]


async def test_insert_many_of_nothing_sends_nothing(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    result = await items.insert_many([])
    assert result.inserted_ids == []
    assert "items" not in await catalogue.list_collection_names()


async def test_unordered_insert_many_reports_each_failed_index(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": 1})
    docs = [{"_id": 0}, {"_id": 1}, {"_id": 2}, {"_id": 1}, {"_id": 3}]
    with pytest.raises(BulkWriteFailed) as info:
        await items.insert_many(docs, ordered=False)
    assert info.value.result.failed_indexes == (1, 3)
    assert {e.code for e in info.value.result.errors} == {11000}
    assert info.value.result.inserted_count == 3
    assert sorted(await items.distinct("_id")) == [0, 1, 2, 3]


async def test_ordered_insert_many_stops_at_the_first_failure(catalogue: Catalogue) -> None:
    items = catalogue.collection("items")
    await items.insert_one({"_id": 1})
    with pytest.raises(BulkWriteFailed) as info:
        await items.insert_many([{"_id": 0}, {"_id": 1}, {"_id": 2}])
    assert info.value.result.failed_indexes == (1,)
    assert info.value.result.inserted_count == 1
    assert sorted(await items.distinct("_id")) == [0, 1]


async def test_duplicate_key_names_the_index_and_key(catalogue: Catalogue) -> None:
    products = catalogue.collection("products")
    await products.driver_collection.create_index("sku", unique=True)
    await products.insert_one({"sku": "W-1"})
    with pytest.raises(DuplicateKeyError) as info:
        await products.insert_one({"sku": "W-1"})
    error = info.value
    assert error.index_name == "sku_1"
    assert error.key_value == {"sku": "W-1"}
    assert error.key_pattern == {"sku": 1}
    assert "duplicate key {'sku': 'W-1'} in unique index 'sku_1'" in str(error)
    assert error.driver_error is not None
    # The server's own text stays, on a line of its own: code that greps E11000 works.
    first, server = str(error).split("\n")
    assert server.startswith("server: E11000 duplicate key error")
    assert len(first) < 260


async def test_duplicate_key_from_an_update(catalogue: Catalogue) -> None:
    products = catalogue.collection("products")
    await products.driver_collection.create_index("sku", unique=True)
    await products.insert_many([{"sku": "A"}, {"sku": "B"}])
    with pytest.raises(DuplicateKeyError, match="unique index 'sku_1'"):
        await products.update_one({"sku": "B"}, {"$set": {"sku": "A"}})


async def test_unencodable_value_is_invalid_document(catalogue: Catalogue) -> None:
    with pytest.raises(InvalidDocument, match="cannot encode the document to BSON"):
        await catalogue.collection("c").insert_one({"value": object()})


async def test_find_with_every_option(products: Collection[Product]) -> None:
    cursor = products.find(
        {"price": {"$gt": 1}},
        projection={"name": 1, "_id": 0},
        sort=[("price", -1)],
        skip=1,
        limit=1,
        batch_size=1,
        max_time_ms=10_000,
        hint=[("_id", 1)],
        collation={"locale": "en"},
        comment="test_find_with_every_option",
    )
    assert await cursor.to_list() == [{"name": "Widget"}]


@pytest.mark.parametrize(
    ("sort", "names"),
    [
        pytest.param("price", ["Doohickey", "Widget", "Gadget"], id="field-name"),
        pytest.param({"price": -1}, ["Gadget", "Widget", "Doohickey"], id="document"),
        pytest.param([("stock", 1)], ["Gadget", "Doohickey", "Widget"], id="pairs"),
    ],
)
async def test_find_sorts(products: Collection[Product], sort: Any, names: list[str]) -> None:
    found = await products.find(sort=sort, projection=["name"])
    assert [p["name"] for p in found] == names


async def test_cursor_is_async_iterable_awaitable_and_listable(
    products: Collection[Product],
) -> None:
    iterated = [p["sku"] async for p in products.find(sort="sku")]
    awaited = [p["sku"] for p in await products.find(sort="sku")]
    listed = [p["sku"] for p in await products.find(sort="sku").to_list(length=2)]
    assert iterated == awaited == ["D-1", "G-1", "W-1"]
    assert listed == ["D-1", "G-1"]


async def test_cursor_closes_as_a_context_manager(products: Collection[Product]) -> None:
    async with products.find(batch_size=1) as cursor:
        first = await cursor.to_list(length=1)
    assert len(first) == 1
    assert cursor.driver_cursor.alive is False


async def test_find_reports_server_errors_while_iterating(products: Collection[Product]) -> None:
    with pytest.raises(OperationFailed) as info:
        async for _ in products.find({"$bogus": 1}):
            pass
    assert "$bogus" in str(info.value)
    assert info.value.code == 2


async def test_find_one_variants(products: Collection[Product]) -> None:
    widget = await products.find_one({"sku": "W-1"}, projection={"_id": 0, "name": 1})
    assert widget == {"name": "Widget"}
    assert await products.find_one({"sku": "nope"}) is None
    cheapest = await products.find_one(sort="price")
    assert cheapest is not None
    assert cheapest["sku"] == "D-1"
    second = await products.find_one(sort="price", skip=1, max_time_ms=5000, comment="x")
    assert second is not None
    assert second["sku"] == "W-1"


async def test_find_one_or_raise(products: Collection[Product]) -> None:
    found = await products.find_one_or_raise({"sku": "G-1"})
    assert found["name"] == "Gadget"
    with pytest.raises(DocumentNotFound, match=r"no document in '.*\.products' matches"):
        await products.find_one_or_raise({"sku": "nope"})


async def test_values_are_matched_as_values(catalogue: Catalogue) -> None:
    users = catalogue.collection("users")
    # Stored through the driver: mongocat refuses "$" field names in what it writes.
    await users.driver_collection.insert_many([{"name": {"$ne": None}}, {"name": "bob"}])
    # A raw filter is sent as written: this is an equality match on an embedded
    # document, which MongoDB treats as a value because it is nested under a field.
    found = await users.find({"name": {"$eq": {"$ne": None}}}).to_list()
    assert [d["name"] for d in found] == [{"$ne": None}]


async def test_count_estimated_count_and_distinct(products: Collection[Product]) -> None:
    assert await products.count() == 3
    assert await products.count({"stock": {"$gt": 0}}) == 2
    assert await products.count({}, skip=1, limit=1, max_time_ms=5000, hint=[("_id", 1)]) == 1
    assert await products.estimated_count() == 3
    assert sorted(await products.distinct("tags")) == ["misc", "new", "tools"]
    assert await products.distinct("sku", {"stock": 0}) == ["G-1"]


async def test_update_one_and_many(products: Collection[Product]) -> None:
    one = await products.update_one({"sku": "W-1"}, {"$set": {"price": 7.99}})
    assert (one.matched_count, one.modified_count, one.upserted_id) == (1, 1, None)
    same = await products.update_one({"sku": "W-1"}, {"$set": {"price": 7.99}})
    assert (same.matched_count, same.modified_count) == (1, 0)
    many = await products.update_many({"tags": "tools"}, {"$inc": {"stock": 5}})
    assert (many.matched_count, many.modified_count) == (2, 2)
    assert sorted(await products.distinct("stock", {"tags": "tools"})) == [5, 15]


async def test_update_upsert_returns_the_new_id(products: Collection[Product]) -> None:
    result = await products.update_one({"sku": "N-1"}, {"$set": {"name": "New"}}, upsert=True)
    assert result.matched_count == 0
    assert result.upserted_id is not None
    assert await products.count({"sku": "N-1", "name": "New"}) == 1


async def test_update_with_pipeline_and_array_filters(products: Collection[Product]) -> None:
    await products.update_one(
        {"sku": "W-1"}, [{"$set": {"value": {"$multiply": ["$price", "$stock"]}}}]
    )
    widget = await products.find_one({"sku": "W-1"})
    assert widget is not None
    assert widget["value"] == pytest.approx(99.9)  # type: ignore[typeddict-item]
    await products.update_one(
        {"sku": "G-1"},
        {"$set": {"tags.$[t]": "NEW"}},
        array_filters=[{"t": "new"}],
    )
    assert sorted(await products.distinct("tags", {"sku": "G-1"})) == ["NEW", "tools"]


@pytest.mark.parametrize(
    "update",
    [
        pytest.param({"price": 1}, id="plain-document"),
        pytest.param({}, id="empty"),
    ],
)
async def test_update_refuses_a_non_operator_document(
    products: Collection[Product], update: Any
) -> None:
    with pytest.raises(InvalidQuery):
        await products.update_one({"sku": "W-1"}, update)
    with pytest.raises(InvalidQuery):
        await products.update_many({}, update)
    widget = await products.find_one({"sku": "W-1"})
    assert widget is not None
    assert widget["price"] == 9.99


async def test_write_with_none_filter_is_refused(products: Collection[Product]) -> None:
    with pytest.raises(InvalidQuery, match=r"pass \{\} \(or Filter\.everything\(\)\) to match"):
        await products.delete_many(None)  # type: ignore[arg-type]
    assert await products.count() == 3


async def test_replace_one_keeps_the_id(products: Collection[Product]) -> None:
    before = await products.find_one_or_raise({"sku": "W-1"})
    result = await products.replace_one({"sku": "W-1"}, {"sku": "W-1", "name": "Widget 2"})
    assert (result.matched_count, result.modified_count) == (1, 1)
    after = await products.find_one_or_raise({"sku": "W-1"})
    assert after == {"_id": before["_id"], "sku": "W-1", "name": "Widget 2"}
    upserted = await products.replace_one({"sku": "Z"}, {"sku": "Z"}, upsert=True)
    assert upserted.upserted_id is not None
    with pytest.raises(InvalidQuery, match="is an update operator"):
        await products.replace_one({"sku": "W-1"}, {"$set": {"x": 1}})  # type: ignore[typeddict-unknown-key]


async def test_find_one_and_update_before_and_after(products: Collection[Product]) -> None:
    before = await products.find_one_and_update({"sku": "W-1"}, {"$inc": {"stock": -1}})
    assert before is not None
    assert before["stock"] == 10
    after = await products.find_one_and_update(
        {"sku": "W-1"},
        {"$inc": {"stock": -1}},
        return_document="after",
        projection={"stock": 1, "_id": 0},
    )
    assert after == {"stock": 8}
    missing = await products.find_one_and_update({"sku": "nope"}, {"$set": {"a": 1}})
    assert missing is None
    created = await products.find_one_and_update(
        {"sku": "U-1"}, {"$set": {"name": "Up"}}, upsert=True, return_document="after"
    )
    assert created is not None
    assert created["name"] == "Up"
    cheapest = await products.find_one_and_update(
        {"price": {"$exists": True}},
        {"$set": {"flag": True}},
        sort="price",
        return_document="after",
    )
    assert cheapest is not None
    assert cheapest["sku"] == "D-1"


async def test_find_one_and_update_rejects_bad_return_document(
    products: Collection[Product],
) -> None:
    with pytest.raises(InvalidQuery, match="return_document must be 'before' or 'after'"):
        await products.find_one_and_update(
            {"sku": "W-1"},
            {"$set": {"a": 1}},
            return_document="later",  # type: ignore[arg-type]
        )


async def test_find_one_and_replace(products: Collection[Product]) -> None:
    before = await products.find_one_and_replace({"sku": "G-1"}, {"sku": "G-1", "name": "G2"})
    assert before is not None
    assert before["name"] == "Gadget"
    after = await products.find_one_and_replace(
        {"sku": "G-1"}, {"sku": "G-1", "name": "G3"}, return_document="after"
    )
    assert after is not None
    assert after["name"] == "G3"


async def test_find_one_and_delete(products: Collection[Product]) -> None:
    deleted = await products.find_one_and_delete({"tags": "tools"}, sort={"price": -1})
    assert deleted is not None
    assert deleted["sku"] == "G-1"
    assert await products.count() == 2
    assert await products.find_one_and_delete({"sku": "nope"}) is None


async def test_delete_one_and_many(products: Collection[Product]) -> None:
    one = await products.delete_one({"tags": "tools"})
    assert one.deleted_count == 1
    many = await products.delete_many({})
    assert many.deleted_count == 2
    assert await products.count() == 0


async def test_unacknowledged_write_has_no_counts(
    mongocat_server_uri: str, mongocat_driver: Any, mongocat_database_name: str
) -> None:
    from mongocat import UnacknowledgedWrite

    async with Catalogue.connect(
        mongocat_server_uri, mongocat_database_name, driver=mongocat_driver, w=0
    ) as cat:
        c = cat.collection("c")
        result = await c.delete_many({})
        assert result.acknowledged is False
        with pytest.raises(UnacknowledgedWrite):
            _ = result.deleted_count
        for update in (
            await c.update_one(F._id == 1, Update.inc(n=1)),
            await c.update_many({}, {"$inc": {"n": 1}}),
            await c.replace_one(F._id == 1, {"n": 0}),
        ):
            assert update.acknowledged is False
            assert update.upserted_id is None
            with pytest.raises(UnacknowledgedWrite):
                _ = update.matched_count
            with pytest.raises(UnacknowledgedWrite):
                _ = update.modified_count
        document = {"n": 1}
        inserted = await c.insert_one(document)
        assert inserted.acknowledged is False
        assert inserted.inserted_id == document["_id"]  # set client-side, as the drivers do


def test_repr_names_the_namespace(catalogue: Catalogue) -> None:
    products = catalogue.collection("products", Product)
    assert repr(products) == f"<Collection '{catalogue.name}.products' of Product>"
    assert products.name == "products"
