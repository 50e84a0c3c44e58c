"""Filters render to the documents of the MongoDB manual's examples."""

import re
from typing import Any

import pytest

from mongocat import F, Field, Filter, GeoJSON, InvalidQuery, expr


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        # The manual's "Query Documents" examples (inventory: item, qty, size, status).
        pytest.param(F.status == "D", {"status": "D"}, id="equality"),
        pytest.param(F.status.in_(["A", "D"]), {"status": {"$in": ["A", "D"]}}, id="in"),
        pytest.param(
            (F.status == "A") & (F.qty < 30), {"status": "A", "qty": {"$lt": 30}}, id="and"
        ),
        pytest.param(
            (F.status == "A") | (F.qty < 30),
            {"$or": [{"status": "A"}, {"qty": {"$lt": 30}}]},
            id="or",
        ),
        pytest.param(
            (F.status == "A") & ((F.qty < 30) | F.item.regex("^p")),
            {"status": "A", "$or": [{"qty": {"$lt": 30}}, {"item": {"$regex": "^p"}}]},
            id="and-or",
        ),
        pytest.param(F.size.uom == "in", {"size.uom": "in"}, id="nested-dotted"),
        pytest.param(F["size.h"] < 15, {"size.h": {"$lt": 15}}, id="dotted-index"),
        pytest.param(
            (F.size.h < 15) & (F.size.uom == "in") & (F.status == "D"),
            {"size.h": {"$lt": 15}, "size.uom": "in", "status": "D"},
            id="nested-three",
        ),
        pytest.param(
            F.size == {"h": 14, "w": 21, "uom": "cm"},
            {"size": {"h": 14, "w": 21, "uom": "cm"}},
            id="embedded-doc",
        ),
        # Arrays.
        pytest.param(F.tags == ["red", "blank"], {"tags": ["red", "blank"]}, id="array-exact"),
        pytest.param(F.tags.all_(["red", "blank"]), {"tags": {"$all": ["red", "blank"]}}, id="all"),
        pytest.param(F.tags == "red", {"tags": "red"}, id="array-contains"),
        pytest.param(F.dim_cm > 25, {"dim_cm": {"$gt": 25}}, id="array-gt"),
        pytest.param(
            F.dim_cm.elem_match({"$gt": 22, "$lt": 30}),
            {"dim_cm": {"$elemMatch": {"$gt": 22, "$lt": 30}}},
            id="elem-match-scalars",
        ),
        pytest.param(
            F.instock.elem_match((F.qty == 5) & (F.warehouse == "A")),
            {"instock": {"$elemMatch": {"qty": 5, "warehouse": "A"}}},
            id="elem-match-docs",
        ),
        pytest.param(F.dim_cm[1] > 25, {"dim_cm.1": {"$gt": 25}}, id="array-index"),
        pytest.param(F.tags.size(3), {"tags": {"$size": 3}}, id="size"),
        pytest.param(F.instock[0].qty <= 20, {"instock.0.qty": {"$lte": 20}}, id="index-path"),
        # Comparison.
        pytest.param(F.qty != 20, {"qty": {"$ne": 20}}, id="ne"),
        pytest.param(F.qty >= 20, {"qty": {"$gte": 20}}, id="gte"),
        pytest.param(F.qty.nin([5, 15]), {"qty": {"$nin": [5, 15]}}, id="nin"),
        pytest.param(F.qty.eq(20), {"qty": {"$eq": 20}}, id="explicit-eq"),
        pytest.param((F.a > 1) & (F.a < 5), {"a": {"$gt": 1, "$lt": 5}}, id="range-merged"),
        pytest.param(
            (F.a > 1) & (F.a > 5),
            {"$and": [{"a": {"$gt": 1}}, {"a": {"$gt": 5}}]},
            id="same-op-and",
        ),
        pytest.param(
            (F.a == 1) & (F.a > 0), {"$and": [{"a": 1}, {"a": {"$gt": 0}}]}, id="eq-and-op"
        ),
        # Logical.
        pytest.param(~(F.price > 1.99), {"price": {"$not": {"$gt": 1.99}}}, id="not"),
        pytest.param(~(F.price == 1.99), {"price": {"$not": {"$eq": 1.99}}}, id="not-eq"),
        pytest.param(
            ~((F.price == 1.99) & (F.sale == True)),  # noqa: E712
            {"$nor": [{"price": 1.99, "sale": True}]},
            id="not-compound",
        ),
        pytest.param(
            Filter.nor(F.price == 1.99, F.sale == True),  # noqa: E712
            {"$nor": [{"price": 1.99}, {"sale": True}]},
            id="nor",
        ),
        pytest.param(
            (F.a == 1) | (F.b == 2) | (F.c == 3),
            {"$or": [{"a": 1}, {"b": 2}, {"c": 3}]},
            id="or-flattened",
        ),
        pytest.param(
            ((F.a == 1) | (F.b == 2)) & ((F.c == 1) | (F.d == 2)),
            {"$and": [{"$or": [{"a": 1}, {"b": 2}]}, {"$or": [{"c": 1}, {"d": 2}]}]},
            id="two-ors",
        ),
        pytest.param(Filter.all(), {}, id="all-empty"),
        pytest.param(Filter.any(F.a == 1), {"$or": [{"a": 1}]}, id="any"),
        # Element.
        pytest.param(F.qty.exists(), {"qty": {"$exists": True}}, id="exists"),
        pytest.param(F.qty.exists(False), {"qty": {"$exists": False}}, id="not-exists"),
        pytest.param(F.zip.type_("string"), {"zip": {"$type": "string"}}, id="type"),
        pytest.param(
            F.zip.type_("string", "int"), {"zip": {"$type": ["string", "int"]}}, id="types"
        ),
        # Evaluation.
        pytest.param(F.sku.regex("789$"), {"sku": {"$regex": "789$"}}, id="regex"),
        pytest.param(
            F.sku.regex("^ABC", "i"), {"sku": {"$regex": "^ABC", "$options": "i"}}, id="regex-opts"
        ),
        pytest.param(
            F.sku.regex(re.compile("^abc", re.I | re.M)),
            {"sku": {"$regex": "^abc", "$options": "im"}},
            id="regex-compiled",
        ),
        pytest.param(~F.sku.regex("^A"), {"sku": {"$not": {"$regex": "^A"}}}, id="not-regex"),
        pytest.param(F.qty.mod(4, 0), {"qty": {"$mod": [4, 0]}}, id="mod"),
        pytest.param(
            F.expr(expr.gt(F.spent, F.budget)),
            {"$expr": {"$gt": ["$spent", "$budget"]}},
            id="expr",
        ),
        pytest.param(
            Filter.text("coffee -shop", language="es", case_sensitive=True),
            {"$text": {"$search": "coffee -shop", "$language": "es", "$caseSensitive": True}},
            id="text",
        ),
        pytest.param(
            Filter.text("café", diacritic_sensitive=False),
            {"$text": {"$search": "café", "$diacriticSensitive": False}},
            id="text-diacritic",
        ),
        pytest.param(
            Filter.json_schema({"required": ["name"]}),
            {"$jsonSchema": {"required": ["name"]}},
            id="json-schema",
        ),
        pytest.param((F.x == 1).comment("why"), {"x": 1, "$comment": "why"}, id="comment"),
        # Bitwise.
        pytest.param(F.a.bits_all_set([1, 5]), {"a": {"$bitsAllSet": [1, 5]}}, id="bits-all-set"),
        pytest.param(F.a.bits_any_set(35), {"a": {"$bitsAnySet": 35}}, id="bits-any-set"),
        pytest.param(
            F.a.bits_all_clear([1, 5]), {"a": {"$bitsAllClear": [1, 5]}}, id="bits-all-clear"
        ),
        pytest.param(F.a.bits_any_clear(35), {"a": {"$bitsAnyClear": 35}}, id="bits-any-clear"),
        # Geospatial.
        pytest.param(
            F.location.near(GeoJSON.point(-73.9667, 40.78), max_distance=1000, min_distance=10),
            {
                "location": {
                    "$near": {
                        "$geometry": {"type": "Point", "coordinates": [-73.9667, 40.78]},
                        "$maxDistance": 1000,
                        "$minDistance": 10,
                    }
                }
            },
            id="near",
        ),
        pytest.param(
            F.location.near_sphere(GeoJSON.point(1, 2)),
            {"location": {"$nearSphere": {"$geometry": {"type": "Point", "coordinates": [1, 2]}}}},
            id="near-sphere",
        ),
        pytest.param(
            F.loc.geo_within(GeoJSON.polygon([[0, 0], [3, 6], [6, 1], [0, 0]])),
            {
                "loc": {
                    "$geoWithin": {
                        "$geometry": {
                            "type": "Polygon",
                            "coordinates": [[[0, 0], [3, 6], [6, 1], [0, 0]]],
                        }
                    }
                }
            },
            id="geo-within",
        ),
        pytest.param(
            F.loc.geo_intersects(GeoJSON.line([0, 0], [1, 1])),
            {
                "loc": {
                    "$geoIntersects": {
                        "$geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}
                    }
                }
            },
            id="geo-intersects",
        ),
        # Raw documents combine with filters.
        pytest.param(Filter.raw({"$where": "1"}), {"$where": "1"}, id="raw"),
        pytest.param((F.a == 1) & {"b": 2}, {"a": 1, "b": 2}, id="and-raw"),
        pytest.param({"b": 2} | (F.a == 1), {"$or": [{"b": 2}, {"a": 1}]}, id="raw-or"),
    ],
)
def test_filter_renders_the_manual_document(built: Filter, expected: dict[str, Any]) -> None:
    assert built.to_mongo() == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param({"$ne": None}, {"name": {"$eq": {"$ne": None}}}, id="operator-doc"),
        pytest.param({"$gt": ""}, {"name": {"$eq": {"$gt": ""}}}, id="gt-doc"),
        pytest.param({"first": "A"}, {"name": {"first": "A"}}, id="plain-doc"),
        pytest.param({"a": {"$ne": 1}}, {"name": {"a": {"$ne": 1}}}, id="nested-is-literal"),
    ],
)
def test_equality_values_never_become_operators(value: Any, expected: dict[str, Any]) -> None:
    assert (F.name == value).to_mongo() == expected


def test_in_values_stay_values() -> None:
    # MongoDB refuses "$" documents inside $in, so they are matched with $eq.
    assert F.name.in_([{"$gt": ""}]).to_mongo() == {"$or": [{"name": {"$eq": {"$gt": ""}}}]}
    assert F.name.in_(["a", {"$gt": ""}]).to_mongo() == {
        "$or": [{"name": {"$in": ["a"]}}, {"name": {"$eq": {"$gt": ""}}}]
    }
    assert F.name.nin(["a", {"$gt": ""}]).to_mongo() == {
        "name": {"$nin": ["a"], "$ne": {"$gt": ""}}
    }
    assert F.name.in_([{"a": 1}]).to_mongo() == {"name": {"$in": [{"a": 1}]}}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda: F["a..b"], "empty segment", id="empty-segment"),
        pytest.param(lambda: F["$where"], "starts with '\\$'", id="dollar"),
        pytest.param(lambda: F.a["$x"], "starts with '\\$'", id="dollar-child"),
        pytest.param(lambda: F["a\x00b"], "NUL", id="nul"),
        pytest.param(lambda: F.items[-1], "must not be negative", id="negative-index"),
        pytest.param(lambda: F.a.in_("abc"), "takes a list of values", id="in-str"),
        pytest.param(lambda: F.a.all_([{"$elemMatch": {}}]), "use elem_match", id="all-operator"),
        pytest.param(lambda: F.a.type_("strnig"), "unknown BSON type alias", id="bad-type"),
        pytest.param(lambda: F.a.regex("x", "q"), "regex options", id="bad-regex-option"),
        pytest.param(lambda: F.a.size(-1), "non-negative int", id="bad-size"),
        pytest.param(lambda: F.a.mod(0, 1), "divisor", id="mod-zero"),
        pytest.param(lambda: F.a.bits_all_set(-1), "bit mask", id="bad-mask"),
        pytest.param(lambda: F.a.near({"type": "Polygon"}), "GeoJSON point", id="near-not-point"),
        pytest.param(lambda: GeoJSON.polygon([[0, 0], [1, 1]]), "must end where", id="open-ring"),
        pytest.param(lambda: Filter.any(), "at least one filter", id="empty-any"),
        pytest.param(lambda: (F.a == 1) & 3, "cannot combine", id="and-int"),
        pytest.param(lambda: bool(F.a == 1), "no truth value", id="bool"),
    ],
)
def test_misuse_raises_invalid_query_naming_the_fix(make: Any, message: str) -> None:
    with pytest.raises(InvalidQuery, match=message):
        make()


def test_filters_are_immutable_values() -> None:
    base = F.status == "A"
    narrowed = base & (F.qty < 30)
    assert base.to_mongo() == {"status": "A"}
    assert narrowed.to_mongo() == {"status": "A", "qty": {"$lt": 30}}
    rendered = narrowed.to_mongo()
    rendered["qty"]["$lt"] = 0
    assert narrowed.to_mongo() == {"status": "A", "qty": {"$lt": 30}}
    assert repr(narrowed) == "Filter({'status': 'A', 'qty': {'$lt': 30}})"
    assert narrowed == (F.status == "A") & (F.qty < 30)


def test_field_paths() -> None:
    assert F.dimensions.width.path == "dimensions.width"
    assert F["dimensions.width"].path == "dimensions.width"
    assert F.items[0].qty.path == "items.0.qty"
    assert F.box["size"].path == "box.size"
    assert F("a.b").path == "a.b"
    assert repr(F.a.b) == "F['a.b']"


def test_a_field_name_is_answered_by_the_same_field_each_time() -> None:
    first = F.some_field_answered_twice
    assert F.some_field_answered_twice is first
    assert (F.some_field_answered_twice == 3).to_mongo() == {"some_field_answered_twice": 3}
    assert F["some_field_answered_twice"].path == "some_field_answered_twice"


def test_equality_with_a_value_that_reads_as_operators_stays_wrapped() -> None:
    assert (F.meta == {"$ne": 1}).to_mongo() == {"meta": {"$eq": {"$ne": 1}}}
    assert (F.n == 1).to_mongo() == {"n": 1}


def test_an_equality_filter_is_sent_as_built_and_gives_fresh_copies() -> None:
    made = F.sku == "W-1"
    assert made._document == {"sku": "W-1"}
    fresh = made.to_mongo()
    assert fresh == {"sku": "W-1"}
    assert fresh is not made._document
    fresh["sku"] = "changed"
    assert made._document == {"sku": "W-1"}
    assert made.to_mongo() == {"sku": "W-1"}


@pytest.mark.parametrize(
    "made",
    [
        pytest.param(F.a == {"$gt": 1}, id="operator-like-value"),
        pytest.param(F.a < 1, id="operator"),
        pytest.param(Filter.raw({"a": 1}), id="raw"),
        pytest.param((F.a == 1) & (F.b == 2), id="combined"),
        pytest.param(Filter(), id="empty"),
        pytest.param(Field("$where") == "sleep(1)", id="operator-path"),
    ],
)
def test_other_filters_are_built_when_sent(made: Filter) -> None:
    assert made._document is None
