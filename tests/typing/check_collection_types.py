"""Static type checks, run by mypy --strict (not by pytest): the types users see."""

from typing import Any, TypedDict, assert_type

from mongocat import (
    Capped,
    Catalogue,
    Collection,
    Cursor,
    Deadline,
    DeleteResult,
    InsertManyResult,
    InsertOneResult,
    SchemaPlan,
    UpdateResult,
    json_schema,
)


class Product(TypedDict):
    sku: str
    name: str
    price: float


async def check(cat: Catalogue) -> None:
    products = cat.collection("products", Product)
    assert_type(products, Collection[Product])
    assert_type(cat.collection("events"), Collection[dict[str, Any]])

    assert_type(await products.find_one({"sku": "W-1"}), Product | None)
    assert_type(await products.find_one_or_raise({"sku": "W-1"}), Product)
    assert_type(products.find({"price": {"$lt": 10}}), Cursor[Product])
    assert_type(await products.find(), list[Product])
    assert_type(await products.find().to_list(), list[Product])
    async for product in products.find():
        assert_type(product, Product)
        assert_type(product["price"], float)

    assert_type(
        await products.insert_one({"sku": "W-1", "name": "Widget", "price": 9.99}),
        InsertOneResult,
    )
    assert_type(await products.insert_many([]), InsertManyResult)
    assert_type(await products.update_one({}, {"$set": {"price": 1.0}}), UpdateResult)
    assert_type(await products.delete_many({}), DeleteResult)
    assert_type(await products.count(), int)
    assert_type(
        await products.find_one_and_update({}, {"$inc": {"price": 1}}, return_document="after"),
        Product | None,
    )
    assert_type((await products.update_many({}, {"$set": {"a": 1}})).matched_count, int)

    # A document of the wrong shape is a type error.
    await products.insert_one({"sku": "W-1"})  # type: ignore[typeddict-item]
    # Results of a wrong shape are caught too.
    await products.find(sort="price", limit="10")  # type: ignore[call-overload]


async def check_builders(cat: Catalogue) -> None:
    from mongocat import F, Filter, Index, IndexPlan, Page, Projection, Sort, Update
    from mongocat._filters import Field

    products = cat.collection("products", Product)
    assert_type(F.price, Field)
    assert_type(F.price < 10, Filter)
    assert_type((F.price < 10) & (F.stock > 0), Filter)
    assert_type(~(F.price < 10), Filter)
    assert_type(Update.set(price=7.99).inc(stock=-1), Update)
    assert_type(Sort.desc("price").asc("name"), Sort)
    assert_type(Projection.include("name", id=False), Projection)
    assert_type(await products.find_one(F.sku == "W-1"), Product | None)
    assert_type(
        await products.find(
            F.price < 10, sort=Sort.asc("price"), projection=Projection.include("name")
        ),
        list[Product],
    )
    assert_type(await products.update_one(F.sku == "W-1", Update.set(price=7.99)), UpdateResult)
    page = await products.paginate(F.price > 0, sort=Sort.asc("price"), limit=20)
    assert_type(page, Page[Product])
    assert_type(page.items, list[Product])
    assert_type(await products.indexes.ensure(Index("sku", unique=True)), IndexPlan)


class SalesRow(TypedDict):
    product: str
    revenue: float


async def check_aggregate(cat: Catalogue) -> None:
    from mongocat import Expr, F, Pipeline, acc, expr

    orders = cat.collection("orders")
    pipeline = Pipeline().group(F.product, revenue=acc.sum(expr.multiply(F.qty, F.price)))
    assert_type(pipeline, Pipeline)
    assert_type(acc.sum(F.qty), Expr)
    assert_type(orders.aggregate(pipeline), Cursor[dict[str, Any]])
    assert_type(await orders.aggregate(pipeline, output=SalesRow), list[SalesRow])
    assert_type(pipeline.to_mongo(), list[dict[str, Any]])


async def check_change_streams(cat: Catalogue) -> None:
    from mongocat import ChangeEvent, ChangeStream, Consumer, F, MemoryCheckpoint

    products = cat.collection("products", Product)
    stream = products.watch(F.operationType == "insert", full_document="updateLookup")
    assert_type(stream, ChangeStream[Product])
    async with stream:
        async for event in stream:
            assert_type(event, ChangeEvent[Product])
            assert_type(event.full_document, Product | None)

    async def handle(event: ChangeEvent[Product]) -> None:
        pass

    assert_type(products.consume(handle, checkpoint=MemoryCheckpoint()), Consumer[Product])
    assert_type(cat.watch(), ChangeStream[dict[str, Any]])
    products.watch(full_document="always")  # type: ignore[arg-type]
    products.watch(resume_attempts="3")  # type: ignore[arg-type]


async def check_document_types(cat: Catalogue) -> None:
    from dataclasses import dataclass

    from pydantic import BaseModel

    from mongocat import F, ModelFields, fields, where

    @dataclass
    class Item:
        sku: str
        price: float

    class ItemModel(BaseModel):
        sku: str
        price: float

    @dataclass
    class Summary:
        sku: str

    models = cat.collection("items", ItemModel)
    assert_type(models, Collection[ItemModel])
    assert_type(await models.find_one(F.sku == "a"), ItemModel | None)
    assert_type(await models.find(), list[ItemModel])
    assert_type(await models.find(projection=Summary), list[Summary])
    assert_type(await models.find_one(projection=Summary), Summary | None)
    items = cat.collection("items", Item, on_invalid="skip")
    assert_type(await items.find_one(), Item | None)
    await items.insert_one(Item("a", 1.0))
    await items.insert_one(ItemModel(sku="a", price=1.0))  # type: ignore[arg-type]
    assert_type(fields(Item), ModelFields[Item])
    # where(): the predicate is checked against the model's declared field types.
    where(Item, lambda p: p.price < 10)
    where(Item, lambda p: p.price < "10")  # type: ignore[operator]
    where(Item, lambda p: p.sku == 3)  # type: ignore[comparison-overlap]
    where(Item, lambda p: p.prise < 10)  # type: ignore[attr-defined]


async def check_production_controls(cat: Catalogue) -> None:
    products = cat.collection("products", Product, read_concern="majority")
    assert_type(products.with_options(write_concern={"w": "majority"}), Collection[Product])
    assert_type(cat.with_options(read_preference="secondaryPreferred"), Catalogue)
    async with cat.timeout(2.0) as deadline:
        assert_type(deadline, Deadline)
        assert_type(await products.find_one(timeout=0.5), Product | None)
        assert_type(await products.find(timeout=1).to_list(timeout=0.5), list[Product])
    assert_type(await cat.create_collection("items", Product, validator=True), Collection[Product])
    assert_type(cat.declare_collection("items", Product, capped=Capped(4096)), Collection[Product])
    assert_type(await cat.plan(), SchemaPlan)
    assert_type(json_schema(Product), dict[str, Any])
    cat.collection("items", Product, validater=True)  # type: ignore[call-overload]


def check_telemetry(cat: Catalogue) -> None:
    from mongocat import Instrumentation, Observation, ObservedCatalogue, Observer
    from mongocat.telemetry import Telemetry, instrument

    telemetry = Telemetry(query_text=True)
    assert_type(instrument(cat, telemetry), Telemetry)
    assert_type(instrument(cat), Telemetry)
    instrumentation: Instrumentation = telemetry  # a Telemetry is an Instrumentation
    cat.instrument(instrumentation)
    cat.instrument(None)
    connected = Catalogue.connect("mongodb://localhost", "shop", telemetry=telemetry)
    assert_type(connected, Catalogue)
    observer = telemetry.observer(ObservedCatalogue("shop", "pymongo", str))
    assert_type(observer, Observer)
    assert_type(observer.begin("find", "shop.items"), Observation)
    cat.instrument(42)  # type: ignore[arg-type]
