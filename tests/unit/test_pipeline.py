"""Pipelines render to the manual's stage documents and refuse misplaced stages."""

from typing import Any

import pytest

from mongocat import F, InvalidQuery, Pipeline, Sort, acc, expr

SEED_PIPELINE = [
    {
        "$group": {
            "_id": "$product",
            "revenue": {"$sum": {"$multiply": ["$qty", "$price"]}},
            "units": {"$sum": "$qty"},
            "orders": {"$sum": 1},
        }
    },
    {"$sort": {"revenue": -1}},
    {
        "$project": {
            "product": "$_id",
            "revenue": {"$round": ["$revenue", 2]},
            "units": 1,
            "orders": 1,
            "_id": 0,
        }
    },
]


def seed_pipeline() -> Pipeline:
    return (
        Pipeline()
        .group(
            F.product,
            revenue=acc.sum(expr.multiply(F.qty, F.price)),
            units=acc.sum(F.qty),
            orders=acc.sum(1),
        )
        .sort(revenue=-1)
        .project(product=F._id, revenue=expr.round(F.revenue, 2), units=1, orders=1, _id=0)
    )


def test_seed_sales_pipeline_renders_exactly() -> None:
    assert seed_pipeline().to_mongo() == SEED_PIPELINE


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        pytest.param(Pipeline().match(F.status == "A"), [{"$match": {"status": "A"}}], id="match"),
        pytest.param(
            Pipeline().match({"qty": {"$gt": 1}}), [{"$match": {"qty": {"$gt": 1}}}], id="match-raw"
        ),
        pytest.param(
            Pipeline().add_fields(total=expr.add(F.a, F.b)),
            [{"$addFields": {"total": {"$add": ["$a", "$b"]}}}],
            id="add-fields",
        ),
        pytest.param(Pipeline().set(total=F.a), [{"$set": {"total": "$a"}}], id="set-field-path"),
        pytest.param(Pipeline().unset("a", "b"), [{"$unset": ["a", "b"]}], id="unset"),
        pytest.param(Pipeline().sort(Sort.desc("a")), [{"$sort": {"a": -1}}], id="sort-builder"),
        pytest.param(Pipeline().skip(5).limit(10), [{"$skip": 5}, {"$limit": 10}], id="skip-limit"),
        pytest.param(Pipeline().unwind("sizes"), [{"$unwind": "$sizes"}], id="unwind"),
        pytest.param(
            Pipeline().unwind(
                F.sizes, include_array_index="i", preserve_null_and_empty_arrays=True
            ),
            [
                {
                    "$unwind": {
                        "path": "$sizes",
                        "includeArrayIndex": "i",
                        "preserveNullAndEmptyArrays": True,
                    }
                }
            ],
            id="unwind-options",
        ),
        pytest.param(
            Pipeline().lookup("inventory", local_field="item", foreign_field="sku", as_="docs"),
            [
                {
                    "$lookup": {
                        "from": "inventory",
                        "localField": "item",
                        "foreignField": "sku",
                        "as": "docs",
                    }
                }
            ],
            id="lookup",
        ),
        pytest.param(
            Pipeline().lookup(
                "warehouses",
                let={"item": F.item},
                pipeline=Pipeline().match(F.expr(expr.eq(F.stock_item, expr.var("item")))),
                as_="stock",
            ),
            [
                {
                    "$lookup": {
                        "from": "warehouses",
                        "let": {"item": "$item"},
                        "pipeline": [{"$match": {"$expr": {"$eq": ["$stock_item", "$$item"]}}}],
                        "as": "stock",
                    }
                }
            ],
            id="lookup-pipeline",
        ),
        pytest.param(
            Pipeline().graph_lookup(
                "employees",
                start_with=F.reportsTo,
                connect_from_field="reportsTo",
                connect_to_field="name",
                as_="chain",
                max_depth=2,
            ),
            [
                {
                    "$graphLookup": {
                        "from": "employees",
                        "startWith": "$reportsTo",
                        "connectFromField": "reportsTo",
                        "connectToField": "name",
                        "as": "chain",
                        "maxDepth": 2,
                    }
                }
            ],
            id="graph-lookup",
        ),
        pytest.param(
            Pipeline().facet(by_tag=Pipeline().sort_by_count(F.tags), total=Pipeline().count("n")),
            [{"$facet": {"by_tag": [{"$sortByCount": "$tags"}], "total": [{"$count": "n"}]}}],
            id="facet",
        ),
        pytest.param(
            Pipeline().bucket(F.price, [0, 200, 400], default="Other", output={"count": acc.sum()}),
            [
                {
                    "$bucket": {
                        "groupBy": "$price",
                        "boundaries": [0, 200, 400],
                        "default": "Other",
                        "output": {"count": {"$sum": 1}},
                    }
                }
            ],
            id="bucket",
        ),
        pytest.param(
            Pipeline().bucket_auto(F.price, 4),
            [{"$bucketAuto": {"groupBy": "$price", "buckets": 4}}],
            id="bucket-auto",
        ),
        pytest.param(
            Pipeline().replace_root(F.name),
            [{"$replaceRoot": {"newRoot": "$name"}}],
            id="replace-root",
        ),
        pytest.param(
            Pipeline().replace_with(expr.merge_objects(F.a, F.b)),
            [{"$replaceWith": {"$mergeObjects": ["$a", "$b"]}}],
            id="replace-with",
        ),
        pytest.param(Pipeline().sample(3), [{"$sample": {"size": 3}}], id="sample"),
        pytest.param(
            Pipeline().union_with("b", Pipeline().limit(1)),
            [{"$unionWith": {"coll": "b", "pipeline": [{"$limit": 1}]}}],
            id="union-with",
        ),
        pytest.param(
            Pipeline().set_window_fields(
                partition_by=F.state,
                sort_by={"date": 1},
                output={
                    "total": {"$sum": F.qty, "window": {"documents": ["unbounded", "current"]}}
                },
            ),
            [
                {
                    "$setWindowFields": {
                        "partitionBy": "$state",
                        "sortBy": {"date": 1},
                        "output": {
                            "total": {
                                "$sum": "$qty",
                                "window": {"documents": ["unbounded", "current"]},
                            }
                        },
                    }
                }
            ],
            id="set-window-fields",
        ),
        pytest.param(
            Pipeline().densify("n", {"step": 1, "bounds": "full"}),
            [{"$densify": {"field": "n", "range": {"step": 1, "bounds": "full"}}}],
            id="densify",
        ),
        pytest.param(
            Pipeline().fill({"qty": {"value": 0}}),
            [{"$fill": {"output": {"qty": {"value": 0}}}}],
            id="fill",
        ),
        pytest.param(
            Pipeline().geo_near({"type": "Point", "coordinates": [0, 0]}, "dist", spherical=True),
            [
                {
                    "$geoNear": {
                        "near": {"type": "Point", "coordinates": [0, 0]},
                        "distanceField": "dist",
                        "spherical": True,
                    }
                }
            ],
            id="geo-near",
        ),
        pytest.param(Pipeline().redact(expr.var("KEEP")), [{"$redact": "$$KEEP"}], id="redact"),
        pytest.param(
            Pipeline().documents([{"x": 1}]), [{"$documents": [{"x": 1}]}], id="documents"
        ),
        pytest.param(Pipeline().out("results"), [{"$out": "results"}], id="out"),
        pytest.param(
            Pipeline().merge("totals", on="_id", when_matched="replace", when_not_matched="insert"),
            [
                {
                    "$merge": {
                        "into": "totals",
                        "on": "_id",
                        "whenMatched": "replace",
                        "whenNotMatched": "insert",
                    }
                }
            ],
            id="merge",
        ),
        pytest.param(Pipeline().raw({"$collStats": {}}), [{"$collStats": {}}], id="raw"),
        pytest.param(
            Pipeline().group(F.product, n=acc.sum()).sort_by_count(F.tags),
            [{"$group": {"_id": "$product", "n": {"$sum": 1}}}, {"$sortByCount": "$tags"}],
            id="field-path-keys",
        ),
        pytest.param(
            Pipeline().limit(1) + Pipeline().skip(1), [{"$limit": 1}, {"$skip": 1}], id="plus"
        ),
        pytest.param(Pipeline.from_mongo(SEED_PIPELINE), SEED_PIPELINE, id="from-mongo"),
    ],
)
def test_stage_renders(built: Pipeline, expected: list[dict[str, Any]]) -> None:
    assert built.to_mongo() == expected


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        pytest.param(
            expr.cond(expr.gte(F.qty, 250), 30, 20),
            {"$cond": {"if": {"$gte": ["$qty", 250]}, "then": 30, "else": 20}},
            id="cond",
        ),
        pytest.param(
            expr.if_null(F.description, "Unspecified"),
            {"$ifNull": ["$description", "Unspecified"]},
            id="if-null",
        ),
        pytest.param(
            expr.switch([(expr.eq(F.a, 1), "one")], default="other"),
            {
                "$switch": {
                    "branches": [{"case": {"$eq": ["$a", 1]}, "then": "one"}],
                    "default": "other",
                }
            },
            id="switch",
        ),
        pytest.param(
            expr.concat(F.item, " - ", F.description),
            {"$concat": ["$item", " - ", "$description"]},
            id="concat",
        ),
        pytest.param(
            expr.substr_cp(F.quarter, 0, 2), {"$substrCP": ["$quarter", 0, 2]}, id="substr-cp"
        ),
        pytest.param(
            expr.filter(F.items, expr.gte(expr.var("item.price"), 100), as_="item"),
            {"$filter": {"input": "$items", "cond": {"$gte": ["$$item.price", 100]}, "as": "item"}},
            id="filter",
        ),
        pytest.param(
            expr.map(F.quizzes, expr.add(expr.var("grade"), 2), as_="grade"),
            {"$map": {"input": "$quizzes", "as": "grade", "in": {"$add": ["$$grade", 2]}}},
            id="map",
        ),
        pytest.param(
            expr.reduce(F.arr, 0, expr.add(expr.var("value"), expr.var("this"))),
            {
                "$reduce": {
                    "input": "$arr",
                    "initialValue": 0,
                    "in": {"$add": ["$$value", "$$this"]},
                }
            },
            id="reduce",
        ),
        pytest.param(
            expr.date_to_string(F.date, "%Y-%m-%d"),
            {"$dateToString": {"date": "$date", "format": "%Y-%m-%d"}},
            id="date-to-string",
        ),
        pytest.param(
            expr.date_trunc(F.date, "month"),
            {"$dateTrunc": {"date": "$date", "unit": "month"}},
            id="date-trunc",
        ),
        pytest.param(
            expr.convert(F.price, "decimal", on_error=0),
            {"$convert": {"input": "$price", "to": "decimal", "onError": 0}},
            id="convert",
        ),
        pytest.param(expr.literal("$1"), {"$literal": "$1"}, id="literal"),
        pytest.param(
            expr.multiply(F.qty, F.price), {"$multiply": ["$qty", "$price"]}, id="field-paths"
        ),
        pytest.param(
            acc.top(F.score, {"score": -1}),
            {"$top": {"sortBy": {"score": -1}, "output": "$score"}},
            id="top",
        ),
        pytest.param(
            acc.first_n(F.score, 3), {"$firstN": {"input": "$score", "n": 3}}, id="first-n"
        ),
        pytest.param(
            acc.percentile(F.score, [0.5, 0.9]),
            {"$percentile": {"input": "$score", "p": [0.5, 0.9], "method": "approximate"}},
            id="percentile",
        ),
        pytest.param(acc.count(), {"$count": {}}, id="count"),
    ],
)
def test_expression_renders(built: Any, expected: Any) -> None:
    assert built.to_mongo() == expected


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(
            lambda: Pipeline().out("x").limit(1),
            r"stage 1 \(\$limit\) follows \$out at stage 0",
            id="out-middle",
        ),
        pytest.param(
            lambda: Pipeline().merge("x").match({}),
            r"stage 1 \(\$match\) follows \$merge",
            id="merge-middle",
        ),
        pytest.param(
            lambda: Pipeline().limit(1).geo_near({}, "d"),
            r"stage 1 \(\$geoNear\) must be the first",
            id="geo-near-not-first",
        ),
        pytest.param(
            lambda: Pipeline().match({}).facet(a=Pipeline().out("x")),
            r"stage 1 \(\$facet\) sub-pipeline 'a' has \$out at stage 0",
            id="facet-out",
        ),
        pytest.param(
            lambda: Pipeline.from_mongo([{"$out": "x"}, {"$limit": 1}]),
            r"stage 1 \(\$limit\) follows \$out",
            id="from-mongo-out",
        ),
        pytest.param(
            lambda: Pipeline.from_mongo([{"$facet": {"a": [{"$merge": "x"}]}}]),
            r"cannot contain \$merge",
            id="from-mongo-facet",
        ),
        pytest.param(
            lambda: Pipeline().group(units=acc.sum(F.qty)),
            r"stage 0 \(\$group\) needs a key",
            id="group-no-key",
        ),
        pytest.param(lambda: Pipeline().limit(0), "positive int", id="limit-zero"),
        pytest.param(lambda: Pipeline().sort(a=2), "must be 1 or -1", id="sort-direction"),
        pytest.param(
            lambda: Pipeline().raw({"match": {}}), "no '\\$' stage name", id="raw-no-dollar"
        ),
        pytest.param(
            lambda: Pipeline().lookup("x", as_="y", local_field="a"),
            "both local_field",
            id="lookup-half",
        ),
        pytest.param(lambda: Pipeline().bucket(F.p, [3, 1]), "ascending", id="bucket-order"),
        pytest.param(
            lambda: Pipeline().out("x") + Pipeline().limit(1), r"follows \$out", id="plus-after-out"
        ),
    ],
)
def test_invalid_pipelines_fail_at_build_time(make: Any, message: str) -> None:
    with pytest.raises(InvalidQuery, match=message):
        make()


def test_to_shell_golden() -> None:
    pipeline = (
        Pipeline()
        .match((F.status == "A") & (F.qty > 5))
        .group(F.product, revenue=acc.sum(expr.multiply(F.qty, F.price)), units=acc.sum(F.qty))
        .sort(revenue=-1)
        .project(product=F._id, revenue=expr.round(F.revenue, 2), _id=0)
        .limit(10)
    )
    assert pipeline.to_shell() == (
        "[\n"
        '  { $match: { status: "A", qty: { $gt: 5 } } },\n'
        '  { $group: { _id: "$product", revenue: { $sum: { $multiply: ["$qty", "$price"] } }, '
        'units: { $sum: "$qty" } } },\n'
        "  { $sort: { revenue: -1 } },\n"
        '  { $project: { product: "$_id", revenue: { $round: ["$revenue", 2] }, _id: 0 } },\n'
        "  { $limit: 10 }\n"
        "]"
    )


def test_pipelines_are_immutable() -> None:
    base = Pipeline().match(F.a == 1)
    longer = base.limit(5)
    assert len(base) == 1
    assert longer.stage_names == ["$match", "$limit"]
