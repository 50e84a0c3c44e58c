"""Document codecs for dataclasses and Pydantic models, and typed field paths."""

from dataclasses import dataclass, field
from typing import Any

import pytest
from bson import ObjectId
from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField

from mongocat import F, InvalidDocument, InvalidQuery, Pipeline, Sort, Update, acc, fields, where
from mongocat._models import DecodeFailure, codec_for


@dataclass
class Dimensions:
    width: float
    height: float = 0.0


@dataclass
class Product:
    sku: str
    price: float
    id: ObjectId | None = None
    tags: list[str] = field(default_factory=list)
    dimensions: Dimensions | None = None
    parts: list[Dimensions] = field(default_factory=list)


@dataclass
class Keyed:
    _id: str
    name: str


class ProductModel(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    id: ObjectId | None = None
    sku: str
    price: float
    dimensions: Dimensions | None = None


class AliasedModel(BaseModel):
    key: str = PydanticField(alias="_id")
    name: str


OID = ObjectId("65a1b2c3d4e5f6a7b8c9d0e1")


def test_typed_dicts_and_dicts_need_no_codec() -> None:
    from typing import TypedDict

    class Row(TypedDict):
        a: int

    assert codec_for(dict) is None
    assert codec_for(Row) is None


def test_a_dataclass_round_trips_with_id_mapped_to__id() -> None:
    codec = codec_for(Product)
    assert codec is not None
    raw = {
        "_id": OID,
        "sku": "W-1",
        "price": 9.5,
        "tags": ["a"],
        "dimensions": {"width": 2.0, "height": 1.0},
        "parts": [{"width": 1.0}],
        "extra": "dropped",
    }
    product = codec.decode(raw)
    assert product == Product("W-1", 9.5, OID, ["a"], Dimensions(2.0, 1.0), [Dimensions(1.0)])
    assert codec.encode(product) == {
        "_id": OID,
        "sku": "W-1",
        "price": 9.5,
        "tags": ["a"],
        "dimensions": {"width": 2.0, "height": 1.0},
        "parts": [{"width": 1.0, "height": 0.0}],
    }


def test_an_id_of_none_is_left_out_so_the_driver_assigns_one() -> None:
    codec = codec_for(Product)
    assert codec is not None
    assert "_id" not in codec.encode(Product("W-1", 1.0))


def test_a_field_named__id_holds__id() -> None:
    codec = codec_for(Keyed)
    assert codec is not None
    assert codec.decode({"_id": "k", "name": "n"}) == Keyed("k", "n")
    assert codec.encode(Keyed("k", "n")) == {"_id": "k", "name": "n"}


@pytest.mark.parametrize(
    ("raw", "field_", "reason"),
    [
        pytest.param({"_id": 1, "price": 1.0}, "sku", "is missing", id="missing"),
        pytest.param(
            {"sku": "a", "price": 1.0, "dimensions": {"height": 1.0}},
            "dimensions.width",
            "is missing",
            id="nested-missing",
        ),
        pytest.param(
            {"sku": "a", "price": 1.0, "dimensions": 5},
            "dimensions",
            "not a document",
            id="nested-not-a-document",
        ),
        pytest.param(
            {"sku": "a", "price": 1.0, "parts": [{"width": 1}, {}]},
            "parts.width",
            "is missing",
            id="list-item-missing",
        ),
    ],
)
def test_a_dataclass_decode_failure_names_the_field(
    raw: dict[str, Any], field_: str, reason: str
) -> None:
    codec = codec_for(Product)
    assert codec is not None
    with pytest.raises(DecodeFailure) as info:
        codec.decode(raw)
    assert info.value.field == field_
    assert reason in info.value.reason


def test_a_pydantic_model_round_trips_with_id_mapped_to__id() -> None:
    codec = codec_for(ProductModel)
    assert codec is not None
    raw = {"_id": OID, "sku": "W-1", "price": 9.5, "dimensions": {"width": 1.0}}
    model = codec.decode(raw)
    assert model == ProductModel(id=OID, sku="W-1", price=9.5, dimensions=Dimensions(1.0))
    assert codec.encode(model) == {
        "_id": OID,
        "sku": "W-1",
        "price": 9.5,
        "dimensions": {"width": 1.0, "height": 0.0},
    }
    assert "_id" not in codec.encode(ProductModel(sku="a", price=1.0))


def test_a_pydantic_alias__id_is_honoured() -> None:
    codec = codec_for(AliasedModel)
    assert codec is not None
    model = codec.decode({"_id": "k", "name": "n"})
    assert model.key == "k"
    assert codec.encode(model) == {"_id": "k", "name": "n"}
    assert fields(AliasedModel).key.path == "_id"


def test_a_pydantic_decode_failure_names_the_field() -> None:
    codec = codec_for(ProductModel)
    assert codec is not None
    with pytest.raises(DecodeFailure) as info:
        codec.decode({"_id": OID, "price": 1.0})
    assert (info.value.field, info.value.reason) == ("sku", "is missing")
    with pytest.raises(DecodeFailure) as info:
        codec.decode({"_id": OID, "sku": "a", "price": "cheap"})
    assert info.value.field == "price"


def test_writing_the_wrong_type_is_refused() -> None:
    codec = codec_for(Product)
    assert codec is not None
    with pytest.raises(InvalidDocument, match="expected a Product"):
        codec.encode({"sku": "a"})


def test_model_projection_fetches_exactly_the_fields() -> None:
    @dataclass
    class Summary:
        sku: str
        price: float

    summary = codec_for(Summary)
    assert summary is not None
    assert summary.projection() == {"sku": 1, "price": 1, "_id": 0}
    product = codec_for(Product)
    assert product is not None
    assert product.projection() == {
        "sku": 1,
        "price": 1,
        "tags": 1,
        "dimensions": 1,
        "parts": 1,
    }


@pytest.mark.parametrize("model", [Product, ProductModel], ids=["dataclass", "pydantic"])
def test_typed_paths_build_the_same_documents_as_f(model: Any) -> None:
    p = fields(model)
    assert (p.price < 10).to_mongo() == (F.price < 10).to_mongo()
    assert (p.id == OID).to_mongo() == {"_id": OID}
    assert (p.dimensions.width > 1).to_mongo() == {"dimensions.width": {"$gt": 1}}
    assert p.sku.in_(["a", "b"]).to_mongo() == F.sku.in_(["a", "b"]).to_mongo()
    assert Sort.desc(p.price).to_mongo() == Sort.desc("price").to_mongo()
    assert Update.set(p.price, 7).inc(p.dimensions.width, 1).to_mongo() == {
        "$set": {"price": 7},
        "$inc": {"dimensions.width": 1},
    }
    assert Pipeline().group(p.sku, total=acc.sum(p.price)).to_mongo() == [
        {"$group": {"_id": "$sku", "total": {"$sum": "$price"}}}
    ]


@pytest.mark.parametrize("model", [Product, ProductModel], ids=["dataclass", "pydantic"])
def test_an_unknown_field_is_refused_at_build_time(model: Any) -> None:
    with pytest.raises(InvalidQuery, match="has no field 'prise'; its fields are"):
        fields(model).prise  # noqa: B018
    with pytest.raises(InvalidQuery, match="Dimensions has no field 'depth'"):
        fields(model).dimensions.depth  # noqa: B018


def test_fields_needs_a_model() -> None:
    with pytest.raises(InvalidQuery, match="dataclass or a Pydantic model"):
        fields(dict)


def test_where_builds_filters_from_typed_predicates() -> None:
    built = where(Product, lambda p: (p.price < 10) & (p.sku != "X"))
    assert built.to_mongo() == ((F.price < 10) & (F.sku != "X")).to_mongo()
    assert where(Product, lambda p: p.id == OID).to_mongo() == {"_id": OID}
    with pytest.raises(InvalidQuery, match="no truth value"):
        where(Product, lambda p: p.price < 10 and p.price > 1)
    with pytest.raises(InvalidQuery, match="must return comparisons"):
        where(Product, lambda p: 3)
    with pytest.raises(InvalidQuery, match="has no field"):
        where(Product, lambda p: p.prise < 1)  # type: ignore[attr-defined]
