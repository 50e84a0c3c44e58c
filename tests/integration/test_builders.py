"""Each builder family runs on the server, on both drivers, and returns the right documents."""

import re
from typing import Any

import pytest

from mongocat import Catalogue, Collection, F, Filter, GeoJSON, Projection, Sort, Update, expr

INVENTORY: list[dict[str, Any]] = [
    {
        "_id": 1,
        "item": "journal",
        "qty": 25,
        "size": {"h": 14, "w": 21, "uom": "cm"},
        "status": "A",
        "tags": ["blank", "red"],
        "dim_cm": [14, 21],
        "flags": 5,
    },
    {
        "_id": 2,
        "item": "notebook",
        "qty": 50,
        "size": {"h": 8.5, "w": 11, "uom": "in"},
        "status": "A",
        "tags": ["red", "blank"],
        "dim_cm": [14, 21],
        "flags": 2,
    },
    {
        "_id": 3,
        "item": "paper",
        "qty": 100,
        "size": {"h": 8.5, "w": 11, "uom": "in"},
        "status": "D",
        "tags": ["red", "blank", "plain"],
        "dim_cm": [14, 21],
        "flags": 7,
    },
    {
        "_id": 4,
        "item": "planner",
        "qty": 75,
        "size": {"h": 22.85, "w": 30, "uom": "cm"},
        "status": "D",
        "tags": ["blank", "red"],
        "dim_cm": [22.85, 30],
        "flags": 0,
    },
    {
        "_id": 5,
        "item": "postcard",
        "qty": 45,
        "size": {"h": 10, "w": 15.25, "uom": "cm"},
        "status": "A",
        "tags": ["blue"],
        "dim_cm": [10, 15.25],
        "flags": 1,
    },
]


@pytest.fixture
async def inventory(catalogue: Catalogue) -> Collection[dict[str, Any]]:
    collection = catalogue.collection("inventory")
    await collection.insert_many([dict(d) for d in INVENTORY])
    return collection


async def ids(collection: Collection[dict[str, Any]], query: Filter) -> list[int]:
    return sorted(d["_id"] for d in await collection.find(query, projection=["_id"]))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(F.status == "D", [3, 4], id="equality"),
        pytest.param(F.status.in_(["A", "D"]), [1, 2, 3, 4, 5], id="in"),
        pytest.param(F.status.nin(["A"]), [3, 4], id="nin"),
        pytest.param((F.status == "A") & (F.qty < 30), [1], id="and"),
        pytest.param((F.status == "A") | (F.qty < 30), [1, 2, 5], id="or"),
        pytest.param((F.status == "A") & ((F.qty < 30) | F.item.regex("^p")), [1, 5], id="and-or"),
        pytest.param(Filter.nor(F.status == "A", F.qty > 80), [4], id="nor"),
        pytest.param(~(F.qty > 45), [1, 5], id="not"),
        pytest.param(~((F.status == "A") & (F.qty < 30)), [2, 3, 4, 5], id="not-compound"),
        pytest.param((F.qty > 25) & (F.qty <= 50), [2, 5], id="range"),
        pytest.param(F.qty != 25, [2, 3, 4, 5], id="ne"),
        pytest.param(F.size.uom == "in", [2, 3], id="dotted"),
        pytest.param(F["size.h"] < 10, [2, 3], id="dotted-index"),
        pytest.param(F.size == {"h": 14, "w": 21, "uom": "cm"}, [1], id="embedded-exact"),
        pytest.param(F.tags == ["red", "blank"], [2], id="array-exact"),
        pytest.param(F.tags.all_(["red", "blank"]), [1, 2, 3, 4], id="all"),
        pytest.param(F.tags == "blue", [5], id="array-contains"),
        pytest.param(F.dim_cm > 25, [4], id="array-gt"),
        pytest.param(F.dim_cm.elem_match({"$gt": 22, "$lt": 30}), [4], id="elem-match"),
        pytest.param(F.dim_cm[1] > 25, [4], id="array-index"),
        pytest.param(F.tags.size(3), [3], id="size"),
        pytest.param(F.item.exists(), [1, 2, 3, 4, 5], id="exists"),
        pytest.param(F.missing.exists(False), [1, 2, 3, 4, 5], id="not-exists"),
        pytest.param(F.qty.type_("int"), [1, 2, 3, 4, 5], id="type"),
        pytest.param(F.size.h.type_("double"), [2, 3, 4], id="type-double"),
        pytest.param(F.item.regex(re.compile("^P", re.I)), [3, 4, 5], id="regex-compiled"),
        pytest.param(~F.item.regex("^p"), [1, 2], id="not-regex"),
        pytest.param(F.qty.mod(25, 0), [1, 2, 3, 4], id="mod"),
        pytest.param(F.expr(expr.gt(F.qty, expr.multiply(F.size.w, 4))), [2, 3], id="expr"),
        pytest.param(
            Filter.json_schema(
                {"required": ["item"], "properties": {"qty": {"bsonType": "int", "minimum": 60}}}
            ),
            [3, 4],
            id="json-schema",
        ),
        pytest.param(F.flags.bits_all_set([0, 2]), [1, 3], id="bits-all-set"),
        pytest.param(F.flags.bits_any_set(3), [1, 2, 3, 5], id="bits-any-set"),
        pytest.param(F.flags.bits_all_clear(7), [4], id="bits-all-clear"),
        pytest.param(F.flags.bits_any_clear([0, 1]), [1, 2, 4, 5], id="bits-any-clear"),
        pytest.param((F.status == "D").comment("builder test"), [3, 4], id="comment"),
        pytest.param(Filter.raw({"qty": {"$gte": 75}}) & (F.status == "D"), [3, 4], id="raw-and"),
    ],
)
async def test_filter_families_match_on_the_server(
    inventory: Collection[dict[str, Any]], query: Filter, expected: list[int]
) -> None:
    assert await ids(inventory, query) == expected
    assert await inventory.count(query) == len(expected)


async def test_injection_values_match_only_literals(catalogue: Catalogue) -> None:
    users = catalogue.collection("users")
    # Stored through the driver: mongocat refuses "$" field names in what it writes.
    await users.driver_collection.insert_many(
        [
            {"name": "alice", "password": "s3cret"},
            {"name": {"$ne": None}, "password": "literal"},
            {"name": {"$gt": ""}, "password": "literal-gt"},
        ]
    )
    hostile = {"$ne": None}
    found = await users.find(F.name == hostile).to_list()
    assert [d["password"] for d in found] == ["literal"]
    found_in = await users.find(F.name.in_([{"$gt": ""}])).to_list()
    assert [d["password"] for d in found_in] == ["literal-gt"]
    found_nin = await users.find(F.name.nin([{"$gt": ""}, "alice"])).to_list()
    assert [d["password"] for d in found_nin] == ["literal"]
    login = (F.name == hostile) & (F.password == {"$ne": "x"})
    assert await users.find_one(login) is None


async def _places(catalogue: Catalogue) -> Collection[dict[str, Any]]:
    places = catalogue.collection("places")
    await places.driver_collection.create_index([("loc", "2dsphere")])
    await places.insert_many(
        [
            {"_id": "park", "loc": GeoJSON.point(-73.97, 40.77)},
            {"_id": "museum", "loc": GeoJSON.point(-73.9632, 40.7794)},
            {"_id": "far", "loc": GeoJSON.point(-70.0, 42.0)},
        ]
    )
    return places


@pytest.mark.server_feature("near_sorts_by_distance")
async def test_near_returns_nearest_first(catalogue: Catalogue) -> None:
    places = await _places(catalogue)
    here = GeoJSON.point(-73.96, 40.78)
    near = await places.find(F.loc.near(here, max_distance=5000))
    assert [d["_id"] for d in near] == ["museum", "park"]
    near_sphere = await places.find(F.loc.near_sphere(here, max_distance=5000))
    assert [d["_id"] for d in near_sphere] == ["museum", "park"]


async def test_near_filters_by_distance(catalogue: Catalogue) -> None:
    places = await _places(catalogue)
    here = GeoJSON.point(-73.96, 40.78)
    near = await places.find(F.loc.near(here, max_distance=5000, min_distance=500))
    assert [d["_id"] for d in near] == ["park"]
    near_sphere = await places.find(F.loc.near_sphere(here, max_distance=5000))
    assert sorted(d["_id"] for d in near_sphere) == ["museum", "park"]


async def test_geo_within_and_intersects(catalogue: Catalogue) -> None:
    places = await _places(catalogue)
    box = GeoJSON.polygon([[-74, 40.7], [-73.9, 40.7], [-73.9, 40.8], [-74, 40.8], [-74, 40.7]])
    within = await places.find(F.loc.geo_within(box), sort="_id")
    assert [d["_id"] for d in within] == ["museum", "park"]
    crossing = await places.find(F.loc.geo_intersects(box), sort="_id")
    assert [d["_id"] for d in crossing] == ["museum", "park"]


@pytest.mark.server_feature("text_index")
async def test_text_search_and_score(catalogue: Catalogue) -> None:
    articles = catalogue.collection("articles")
    await articles.driver_collection.create_index([("body", "text")])
    await articles.insert_many([{"_id": 1, "body": "coffee shop"}, {"_id": 2, "body": "tea"}])
    found = await articles.find(
        Filter.text("coffee"), projection=Projection.text_score(), sort=Sort.text_score()
    )
    assert [d["_id"] for d in found] == [1]
    assert found[0]["score"] > 0


async def test_sorts_and_projections(inventory: Collection[dict[str, Any]]) -> None:
    rows = await inventory.find(
        F.status == "A",
        sort=Sort.desc("qty").asc("item"),
        projection=Projection.include("item", "qty", id=False),
    )
    assert rows == [
        {"item": "notebook", "qty": 50},
        {"item": "postcard", "qty": 45},
        {"item": "journal", "qty": 25},
    ]
    excluded = await inventory.find_one(
        F._id == 1, projection=Projection.exclude("size", "tags", "dim_cm", "flags")
    )
    assert excluded == {"_id": 1, "item": "journal", "qty": 25, "status": "A"}
    sliced = await inventory.find_one(
        F._id == 3, projection=Projection.include("item").slice("tags", 1, skip=1)
    )
    assert sliced == {"_id": 3, "item": "paper", "tags": ["blank"]}
    positional = await inventory.find_one(
        F.tags == "plain", projection=Projection.positional("tags")
    )
    assert positional == {"_id": 3, "tags": ["plain"]}
    matched = await inventory.find_one(
        F._id == 3, projection=Projection.elem_match("dim_cm", {"$gt": 20})
    )
    assert matched == {"_id": 3, "dim_cm": [21]}
    by_field = await inventory.find(sort=F.qty.desc(), limit=1, projection=["item"])
    assert [d["item"] for d in by_field] == ["paper"]


async def test_update_operators_on_the_server(catalogue: Catalogue) -> None:
    docs = catalogue.collection("docs")
    await docs.insert_one(
        {
            "_id": 1,
            "a": 1,
            "n": 10,
            "old": "x",
            "arr": [3, 1, 2],
            "bits": 13,
            "grades": [80, 95, 100],
            "lo": 5,
            "hi": 5,
        }
    )
    update = (
        Update.set(a=2)
        .inc(n=5)
        .mul(lo=2)
        .min(hi=3)
        .rename(old="new")
        .current_date("changed")
        .push("arr", each=[9, 0], sort=1, slice=4)
        .bit("bits", and_=10)
        .set({"grades.$[g]": 0})
        .array_filters(F.g >= 95)
    )
    result = await docs.update_one(F._id == 1, update)
    assert (result.matched_count, result.modified_count) == (1, 1)
    doc = await docs.find_one_or_raise(F._id == 1)
    assert {k: doc.get(k) for k in ("a", "n", "lo", "hi", "old", "new")} == {
        "a": 2,
        "n": 15,
        "lo": 10,
        "hi": 3,
        "old": None,
        "new": "x",
    }
    assert doc["changed"] is not None
    assert doc["arr"] == [0, 1, 2, 3]
    assert doc["bits"] == 8
    assert doc["grades"] == [80, 0, 0]
    await docs.update_one(
        F._id == 1, Update.unset("new").add_to_set("arr", each=[1, 7]).pop("grades", "first")
    )
    doc = await docs.find_one_or_raise(F._id == 1)
    assert ("new" in doc, doc["arr"], doc["grades"]) == (False, [0, 1, 2, 3, 7], [0, 0])
    await docs.update_one(F._id == 1, Update.pull("arr", where={"$gte": 3}).pull_all("grades", [0]))
    doc = await docs.find_one_or_raise(F._id == 1)
    assert (doc["arr"], doc["grades"]) == ([0, 1, 2], [])
    await docs.update_one(F._id == 1, Update.pipeline({"$set": {"total": {"$sum": "$arr"}}}))
    assert (await docs.find_one_or_raise(F._id == 1))["total"] == 3
    upserted = await docs.update_one(
        F._id == 2, Update.set(a=1).set_on_insert(created=True), upsert=True
    )
    assert upserted.upserted_id == 2
    assert await docs.find_one(F._id == 2) == {"_id": 2, "a": 1, "created": True}


async def test_update_values_stay_values_on_the_server(catalogue: Catalogue) -> None:
    docs = catalogue.collection("docs")
    # Stored through the driver: mongocat refuses "$" field names in what it writes.
    await docs.driver_collection.insert_one({"_id": 1, "tags": [{"$each": ["x"]}, "y"]})
    await docs.update_one(F._id == 1, Update.pull("tags", {"$each": ["x"]}))
    assert (await docs.find_one_or_raise(F._id == 1))["tags"] == ["y"]


async def test_find_one_and_update_with_builders(catalogue: Catalogue) -> None:
    docs = catalogue.collection("docs")
    await docs.insert_many([{"_id": i, "v": i} for i in range(3)])
    after = await docs.find_one_and_update(
        F.v >= 1,
        Update.inc(v=10),
        sort=Sort.desc("v"),
        projection=Projection.include("v", id=False),
        return_document="after",
    )
    assert after == {"v": 12}
