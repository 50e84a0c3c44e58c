"""Aggregation over the wire, on both drivers, with checked results."""

import datetime
from typing import Any, TypedDict

import pytest

from mongocat import Catalogue, Collection, F, Pipeline, acc, expr

ORDERS = [
    {"product": "Widget", "qty": 3, "price": 9.99, "region": "North"},
    {"product": "Gadget", "qty": 1, "price": 24.99, "region": "South"},
    {"product": "Widget", "qty": 2, "price": 9.99, "region": "South"},
    {"product": "Gadget", "qty": 4, "price": 24.99, "region": "North"},
    {"product": "Widget", "qty": 5, "price": 9.99, "region": "North"},
]


class SalesRow(TypedDict):
    product: str
    revenue: float
    units: int
    orders: int


@pytest.fixture
async def orders(catalogue: Catalogue) -> Collection[dict[str, Any]]:
    collection = catalogue.collection("orders")
    await collection.insert_many([{"_id": i, **o} for i, o in enumerate(ORDERS)])
    return collection


async def test_seed_sales_example(orders: Collection[dict[str, Any]]) -> None:
    pipeline = (
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
    rows = await orders.aggregate(pipeline, output=SalesRow)
    assert rows == [
        {"units": 5, "orders": 2, "product": "Gadget", "revenue": 124.95},
        {"units": 10, "orders": 3, "product": "Widget", "revenue": 99.9},
    ]
    lines = [
        f"{r['product']} {r['revenue']} / {r['units']} units / {r['orders']} orders" for r in rows
    ]
    assert lines == ["Gadget 124.95 / 5 units / 2 orders", "Widget 99.9 / 10 units / 3 orders"]


async def run(orders: Collection[dict[str, Any]], pipeline: Pipeline) -> list[dict[str, Any]]:
    return await orders.aggregate(pipeline)


@pytest.mark.parametrize(
    ("pipeline", "expected"),
    [
        pytest.param(
            Pipeline().match(F.region == "South").project(qty=1, _id=0).sort(qty=1),
            [{"qty": 1}, {"qty": 2}],
            id="match-project-sort",
        ),
        pytest.param(
            Pipeline().sort(qty=-1).skip(1).limit(1).project(qty=1, _id=0),
            [{"qty": 4}],
            id="skip-limit",
        ),
        pytest.param(
            Pipeline()
            .match(F._id == 0)
            .add_fields(total=expr.multiply(F.qty, F.price))
            .project(total=1, _id=0),
            [{"total": pytest.approx(29.97)}],
            id="add-fields-multiply",
        ),
        pytest.param(
            Pipeline()
            .match(F._id == 1)
            .set(t=expr.concat(F.product, "-", F.region))
            .unset("product", "qty", "price", "region", "_id"),
            [{"t": "Gadget-South"}],
            id="set-unset-concat",
        ),
        pytest.param(
            Pipeline()
            .group(None, n=acc.sum(), avg=acc.avg(F.qty), lo=acc.min(F.qty), hi=acc.max(F.qty))
            .project(_id=0),
            [{"n": 5, "avg": 3.0, "lo": 1, "hi": 5}],
            id="group-all",
        ),
        pytest.param(
            Pipeline()
            .sort(_id=1)
            .group(F.product, first=acc.first(F.qty), last=acc.last(F.qty), all=acc.push(F.qty))
            .sort(_id=1),
            [
                {"_id": "Gadget", "first": 1, "last": 4, "all": [1, 4]},
                {"_id": "Widget", "first": 3, "last": 5, "all": [3, 2, 5]},
            ],
            id="first-last-push",
        ),
        pytest.param(
            Pipeline()
            .group(F.product, regions=acc.add_to_set(F.region))
            .match(F._id == "Gadget")
            .project(n=expr.size(F.regions), _id=0),
            [{"n": 2}],
            id="add-to-set-size",
        ),
        pytest.param(Pipeline().count("n"), [{"n": 5}], id="count"),
        pytest.param(
            Pipeline().sort_by_count(F.region),
            [{"_id": "North", "count": 3}, {"_id": "South", "count": 2}],
            id="sort-by-count",
        ),
        pytest.param(
            Pipeline().bucket(F.qty, [0, 3, 10], output={"n": acc.sum()}),
            [{"_id": 0, "n": 2}, {"_id": 3, "n": 3}],
            id="bucket",
        ),
        pytest.param(
            Pipeline()
            .match(F._id == 0)
            .replace_with(expr.merge_objects({"a": 1}, {"p": F.product})),
            [{"a": 1, "p": "Widget"}],
            id="replace-with-merge-objects",
        ),
        pytest.param(
            Pipeline().match(F._id == 0).replace_root({"q": F.qty}), [{"q": 3}], id="replace-root"
        ),
        pytest.param(
            Pipeline()
            .match(F._id == 3)
            .project(
                c=expr.cond(expr.gte(F.qty, 4), "big", "small"),
                s=expr.switch([(expr.eq(F.region, "North"), "N")], default="?"),
                _id=0,
            ),
            [{"c": "big", "s": "N"}],
            id="cond-switch",
        ),
        pytest.param(
            Pipeline()
            .match(F._id == 0)
            .project(
                x=expr.if_null(F.missing, "none"),
                lower=expr.to_lower(F.product),
                upper=expr.to_upper(F.region),
                _id=0,
            ),
            [{"x": "none", "lower": "widget", "upper": "NORTH"}],
            id="if-null-case",
        ),
        pytest.param(
            Pipeline()
            .match(F._id == 0)
            .project(
                r=expr.round(expr.divide(F.price, 3), 2),
                t=expr.trunc(9.99, 1),
                m=expr.mod(7, 3),
                a=expr.abs(-2),
                c=expr.ceil(1.2),
                f=expr.floor(1.8),
                p=expr.pow(2, 3),
                _id=0,
            ),
            [{"r": 3.33, "t": 9.9, "m": 1, "a": 2, "c": 2, "f": 1, "p": 8}],
            id="arithmetic",
        ),
        pytest.param(
            Pipeline()
            .match(F._id == 0)
            .project(
                s=expr.split("a-b", "-"),
                l=expr.str_len_cp(F.product),
                sub=expr.substr_cp(F.product, 0, 3),
                tr=expr.trim("  x "),
                rm=expr.regex_match(F.product, "^W"),
                _id=0,
            ),
            [{"s": ["a", "b"], "l": 6, "sub": "Wid", "tr": "x", "rm": True}],
            id="strings",
        ),
        pytest.param(
            Pipeline()
            .match(F._id == 0)
            .project(
                f=expr.filter([1, 5, 9], expr.gt(expr.var("this"), 4)),
                m=expr.map([1, 2], expr.multiply(expr.var("this"), 10)),
                r=expr.reduce([1, 2, 3], 0, expr.add(expr.var("value"), expr.var("this"))),
                i=expr.in_(2, [1, 2]),
                e=expr.array_elem_at([7, 8], -1),
                sl=expr.slice([1, 2, 3], 2),
                ca=expr.concat_arrays([1], [2]),
                _id=0,
            ),
            [{"f": [5, 9], "m": [10, 20], "r": 6, "i": True, "e": 8, "sl": [1, 2], "ca": [1, 2]}],
            id="arrays",
        ),
        pytest.param(
            Pipeline()
            .match(F._id == 0)
            .project(
                s=expr.to_string(F.qty),
                i=expr.to_int("7"),
                d=expr.to_double(2),
                t=expr.type_(F.product),
                c=expr.convert("x", "int", on_error=-1),
                lit=expr.literal("$qty"),
                _id=0,
            ),
            [{"s": "3", "i": 7, "d": 2.0, "t": "string", "c": -1, "lit": "$qty"}],
            id="types-literal",
        ),
        pytest.param(
            Pipeline()
            .match(F._id == 0)
            .project(
                b=expr.and_(expr.lt(1, 2), expr.not_(False)),
                o=expr.or_(False, expr.ne(1, 1)),
                k=expr.cmp(2, 1),
                _id=0,
            ),
            [{"b": True, "o": False, "k": 1}],
            id="boolean",
        ),
    ],
)
async def test_stages_and_expressions_on_the_server(
    orders: Collection[dict[str, Any]], pipeline: Pipeline, expected: list[dict[str, Any]]
) -> None:
    assert await run(orders, pipeline) == expected


async def test_lookup_unwind_facet_union(
    catalogue: Catalogue, orders: Collection[dict[str, Any]]
) -> None:
    products = catalogue.collection("products")
    await products.insert_many(
        [{"_id": "Widget", "maker": "Acme"}, {"_id": "Gadget", "maker": "Globex"}]
    )
    joined = await orders.aggregate(
        Pipeline()
        .match(F._id == 1)
        .lookup("products", local_field="product", foreign_field="_id", as_="p")
        .unwind("p")
        .project(maker=F["p.maker"], _id=0)
    )
    assert joined == [{"maker": "Globex"}]
    with_let = await orders.aggregate(
        Pipeline()
        .match(F._id == 0)
        .lookup(
            "products",
            let={"name": F.product},
            pipeline=Pipeline()
            .match(F.expr(expr.eq(F._id, expr.var("name"))))
            .project(maker=1, _id=0),
            as_="p",
        )
        .project(p=1, _id=0)
    )
    assert with_let == [{"p": [{"maker": "Acme"}]}]
    faceted = await orders.aggregate(
        Pipeline().facet(
            north=Pipeline().match(F.region == "North").count("n"),
            units=Pipeline().group(None, u=acc.sum(F.qty)).project(_id=0),
        )
    )
    assert faceted == [{"north": [{"n": 3}], "units": [{"u": 15}]}]
    unioned = await orders.aggregate(
        Pipeline()
        .project(x=F.product, _id=0)
        .union_with("products", Pipeline().project(x=F.maker, _id=0))
    )
    assert sorted(r["x"] for r in unioned) == sorted(
        ["Widget", "Gadget", "Widget", "Gadget", "Widget", "Acme", "Globex"]
    )
    unwound = await orders.aggregate(
        Pipeline().match(F._id == 0).project(a=[1, 2], _id=0).unwind("a", include_array_index="i")
    )
    assert unwound == [{"a": 1, "i": 0}, {"a": 2, "i": 1}]


async def test_graph_lookup_and_window_fields(catalogue: Catalogue) -> None:
    staff = catalogue.collection("staff")
    await staff.insert_many(
        [
            {"_id": 1, "name": "Dev", "boss": None, "sales": 5},
            {"_id": 2, "name": "Eliot", "boss": "Dev", "sales": 3},
            {"_id": 3, "name": "Ron", "boss": "Eliot", "sales": 4},
        ]
    )
    chain = await staff.aggregate(
        Pipeline()
        .match(F.name == "Ron")
        .graph_lookup(
            "staff",
            start_with=F.boss,
            connect_from_field="boss",
            connect_to_field="name",
            as_="up",
        )
        .project(bosses=expr.size(F.up), _id=0)
    )
    assert chain == [{"bosses": 2}]
    running = await staff.aggregate(
        Pipeline()
        .set_window_fields(
            sort_by={"_id": 1},
            output={"total": {"$sum": F.sales, "window": {"documents": ["unbounded", "current"]}}},
        )
        .project(total=1)
    )
    assert [r["total"] for r in running] == [5, 8, 12]


async def test_dates_densify_fill_and_out(catalogue: Catalogue) -> None:
    events = catalogue.collection("events")
    day = datetime.datetime(2026, 3, 14, 15, 9, 26)
    await events.insert_many([{"_id": 1, "at": day, "n": 1}, {"_id": 3, "at": day, "n": None}])
    dated = await events.aggregate(
        Pipeline()
        .match(F._id == 1)
        .project(
            y=expr.year(F.at),
            m=expr.month(F.at),
            d=expr.day_of_month(F.at),
            s=expr.date_to_string(F.at, "%Y-%m-%d"),
            t=expr.date_trunc(F.at, "day"),
            a=expr.date_add(F.at, "day", 1),
            diff=expr.date_diff(F.at, expr.date_add(F.at, "day", 3), "day"),
            _id=0,
        )
    )
    assert dated == [
        {
            "y": 2026,
            "m": 3,
            "d": 14,
            "s": "2026-03-14",
            "t": datetime.datetime(2026, 3, 14),
            "a": datetime.datetime(2026, 3, 15, 15, 9, 26),
            "diff": 3,
        }
    ]
    dense = await events.aggregate(
        Pipeline().project(_id=1).densify("_id", {"step": 1, "bounds": "full"}).sort(_id=1)
    )
    assert [r["_id"] for r in dense] == [1, 2, 3]
    filled = await events.aggregate(
        Pipeline().fill({"n": {"value": 0}}, sort_by={"_id": 1}).project(n=1)
    )
    assert [r["n"] for r in filled] == [1, 0]
    await events.aggregate(Pipeline().match(F._id == 1).project(n=1).out("events_copy")).to_list()
    assert await catalogue.collection("events_copy").find() == [{"_id": 1, "n": 1}]
    await events.aggregate(Pipeline().match(F._id == 3).project(n=1).merge("events_copy")).to_list()
    assert await catalogue.collection("events_copy").count() == 2


async def test_aggregate_options_and_raw_list(orders: Collection[dict[str, Any]]) -> None:
    rows = await orders.aggregate(
        [{"$match": {"region": "$$r"}}]
        if False
        else [{"$match": {"$expr": {"$eq": ["$region", "$$r"]}}}, {"$count": "n"}],
        let={"r": "South"},
        allow_disk_use=True,
        max_time_ms=10_000,
        batch_size=1,
        comment="test",
    )
    assert rows == [{"n": 2}]
    sampled = await orders.aggregate(Pipeline().sample(2))
    assert len(sampled) == 2
    iterated = [r async for r in orders.aggregate(Pipeline().sort(_id=1).limit(2).project(_id=1))]
    assert iterated == [{"_id": 0}, {"_id": 1}]


async def test_aggregate_explain(orders: Collection[dict[str, Any]]) -> None:
    summary = await orders.aggregate(Pipeline().match(F.region == "North")).explain()
    assert summary.stage == "COLLSCAN"
    assert summary.index_name is None
