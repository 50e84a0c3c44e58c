"""The same operations on TypedDict, dataclass and Pydantic document types, on both drivers."""

import asyncio
from dataclasses import dataclass
from typing import Any, TypedDict

import pytest
from bson import ObjectId
from pydantic import BaseModel, ConfigDict

from mongocat import (
    Catalogue,
    Collection,
    DocumentDecodeError,
    F,
    InvalidDocument,
    Pipeline,
    Sort,
    acc,
    fields,
    where,
)


class ProductDict(TypedDict, total=False):
    _id: ObjectId
    sku: str
    price: float
    category: str


@dataclass
class ProductData:
    sku: str
    price: float
    category: str
    id: ObjectId | None = None


class ProductModel(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    sku: str
    price: float
    category: str
    id: ObjectId | None = None


@dataclass
class Summary:
    sku: str
    price: float


class CategoryRow(BaseModel):
    id: str
    n: int
    total: float


KINDS = {"typeddict": ProductDict, "dataclass": ProductData, "pydantic": ProductModel}


@pytest.fixture(params=list(KINDS))
def kind(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def make(kind: str, sku: str, price: float, category: str = "tools") -> Any:
    """A product of the document type under test."""
    if kind == "typeddict":
        return ProductDict(sku=sku, price=price, category=category)
    return KINDS[kind](sku=sku, price=price, category=category)


def plain(value: Any) -> dict[str, Any]:
    """The value as a comparable dict, whatever its type."""
    if isinstance(value, BaseModel):
        document = value.model_dump()
    elif isinstance(value, dict):
        document = dict(value)
    else:
        document = dict(vars(value))
    document.pop("id", None)
    document.pop("_id", None)
    return document


def products_of(catalogue: Catalogue, kind: str) -> Collection[Any]:
    return catalogue.collection("products", KINDS[kind])


async def test_insert_find_replace_and_bulk_insert(catalogue: Catalogue, kind: str) -> None:
    products = products_of(catalogue, kind)
    result = await products.insert_one(make(kind, "W-1", 9.5))
    await products.insert_many([make(kind, "W-2", 3.5), make(kind, "W-3", 5.0, "garden")])
    summary = await products.bulk_insert(make(kind, f"B-{i}", float(i)) for i in range(5))
    assert summary.inserted_count == 5

    found = await products.find_one(F.sku == "W-1")
    assert isinstance(found, KINDS[kind] if kind != "typeddict" else dict)
    assert plain(found) == {"sku": "W-1", "price": 9.5, "category": "tools"}
    identifier = found["_id"] if kind == "typeddict" else found.id
    assert identifier == result.inserted_id

    cheap = await products.find(F.price < 4, sort=Sort.asc("price"))
    assert [plain(p)["sku"] for p in cheap] == ["B-0", "B-1", "B-2", "B-3", "W-2"]
    async for product in products.find(F.category == "garden"):
        assert plain(product)["sku"] == "W-3"

    await products.replace_one(F.sku == "W-1", make(kind, "W-1", 8.0, "sale"))
    replaced = await products.find_one(F.sku == "W-1")
    assert plain(replaced) == {"sku": "W-1", "price": 8.0, "category": "sale"}
    stored = await catalogue.collection("products").find_one(F.sku == "W-1")
    assert stored is not None
    assert set(stored) == {"_id", "sku", "price", "category"}  # stored as plain fields


async def test_aggregate_decodes_into_the_output_type(catalogue: Catalogue, kind: str) -> None:
    products = products_of(catalogue, kind)
    await products.insert_many(
        [make(kind, "a", 1.0), make(kind, "b", 2.0), make(kind, "c", 4.0, "garden")]
    )
    pipeline = Pipeline().group(F.category, n=acc.sum(1), total=acc.sum(F.price)).sort({"_id": 1})
    rows = await products.aggregate(pipeline, output=CategoryRow)
    assert rows == [
        CategoryRow(id="garden", n=1, total=4.0),
        CategoryRow(id="tools", n=2, total=3.0),
    ]


async def test_a_smaller_model_as_projection(catalogue: Catalogue, kind: str) -> None:
    products = products_of(catalogue, kind)
    await products.insert_many([make(kind, "a", 1.0), make(kind, "b", 2.0)])
    summaries = await products.find(sort="sku", projection=Summary)
    assert summaries == [Summary("a", 1.0), Summary("b", 2.0)]
    assert await products.find_one(F.sku == "b", projection=Summary) == Summary("b", 2.0)


async def test_paginate_and_find_one_and_update_decode(catalogue: Catalogue, kind: str) -> None:
    products = products_of(catalogue, kind)
    await products.insert_many([make(kind, f"p{i}", float(i)) for i in range(5)])
    page = await products.paginate(sort=Sort.asc("price"), limit=2)
    assert [plain(p)["sku"] for p in page.items] == ["p0", "p1"]
    following = await products.paginate(sort=Sort.asc("price"), limit=2, after=page.next_token)
    assert [plain(p)["sku"] for p in following.items] == ["p2", "p3"]
    updated = await products.find_one_and_update(
        F.sku == "p4", {"$set": {"price": 40.0}}, return_document="after"
    )
    assert plain(updated)["price"] == 40.0


async def test_change_events_carry_decoded_documents(catalogue: Catalogue, kind: str) -> None:
    products = products_of(catalogue, kind)
    await products.insert_one(make(kind, "seed", 1.0))
    async with products.watch() as stream:
        await products.insert_one(make(kind, "new", 2.0))
        event = await asyncio.wait_for(anext(stream), 10)
    assert plain(event.full_document) == {"sku": "new", "price": 2.0, "category": "tools"}


@pytest.mark.parametrize("kind_", ["dataclass", "pydantic"])
async def test_a_document_missing_a_required_field_raises_or_is_skipped(
    catalogue: Catalogue, kind_: str
) -> None:
    raw = catalogue.collection("products")
    first, broken, last = sorted(ObjectId() for _ in range(3))
    await raw.insert_many(
        [
            {"_id": first, "sku": "ok", "price": 1.0, "category": "tools"},
            {"_id": broken, "sku": "no-price", "category": "tools"},
            {"_id": last, "sku": "ok-too", "price": 2.0, "category": "tools"},
        ]
    )
    strict = catalogue.collection("products", KINDS[kind_])
    with pytest.raises(DocumentDecodeError) as info:
        await strict.find(sort="_id")
    error = info.value
    assert (error.namespace, error.document_id, error.field) == (
        f"{catalogue.name}.products",
        broken,
        "price",
    )
    assert "is missing" in str(error)
    with pytest.raises(DocumentDecodeError):
        await strict.find_one(F._id == broken)

    lenient = catalogue.collection("products", KINDS[kind_], on_invalid="skip")
    cursor = lenient.find(sort="_id")
    found = [plain(p)["sku"] async for p in cursor]
    assert found == ["ok", "ok-too"]
    assert cursor.skipped == 1
    assert await lenient.find_one(F._id == broken) is None
    assert lenient.skipped == 2

    as_raw = catalogue.collection("products", KINDS[kind_], on_invalid="raw")
    mixed = await as_raw.find(sort="_id")
    assert mixed[1] == {"_id": broken, "sku": "no-price", "category": "tools"}


async def test_writing_the_wrong_type_is_refused_before_sending(catalogue: Catalogue) -> None:
    products = catalogue.collection("products", ProductData)
    with pytest.raises(InvalidDocument, match="expected a ProductData"):
        await products.insert_one({"sku": "a"})  # type: ignore[arg-type]
    assert await catalogue.collection("products").count() == 0


async def test_typed_paths_query_the_stored_names(catalogue: Catalogue) -> None:
    products = catalogue.collection("products", ProductModel)
    result = await products.insert_one(ProductModel(sku="a", price=1.0, category="tools"))
    p = fields(ProductModel)
    found = await products.find_one(p.id == result.inserted_id)
    assert found is not None
    assert found.id == result.inserted_id
    assert await products.count(where(ProductModel, lambda m: m.price < 2)) == 1
