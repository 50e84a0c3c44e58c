"""A validator made by json_schema(T) over the wire, on both drivers."""

import dataclasses
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from mongocat import Catalogue, DocumentValidationFailed, json_schema


class Product(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = Field(pattern=r"^[A-Z]+-[0-9]+$")
    price: float = Field(gt=0)
    stock: int = Field(ge=0)
    tags: list[str] = Field(default_factory=list, max_length=3)


@dataclasses.dataclass
class Line:
    sku: str
    quantity: int = 1


async def create(catalogue: Catalogue, name: str, schema: dict[str, Any]) -> None:
    await catalogue.command({"create": name, "validator": {"$jsonSchema": schema}})


async def test_the_server_accepts_what_fits_and_refuses_what_does_not(
    catalogue: Catalogue,
) -> None:
    await create(catalogue, "products", json_schema(Product))
    products = catalogue.collection("products", Product)
    await products.insert_one(Product(sku="W-1", price=2.5, stock=3, tags=["a"]))
    raw = catalogue.collection("products")
    await raw.insert_one({"sku": "W-2", "price": 3, "stock": 0, "tags": []})  # an int price
    for bad in (
        {"sku": "w1", "price": 1.0, "stock": 1, "tags": []},  # pattern
        {"sku": "W-3", "price": 0.0, "stock": 1, "tags": []},  # exclusiveMinimum
        {"sku": "W-4", "price": 1.0, "stock": -1, "tags": []},  # minimum
        {"sku": "W-5", "price": 1.0, "stock": 1, "tags": ["a", "b", "c", "d"]},  # maxItems
        {"sku": "W-6", "price": 1.0, "stock": 1, "tags": [], "color": "red"},  # extra field
        {"sku": "W-7", "price": 1.0, "tags": []},  # required
        {"sku": "W-8", "price": "1.0", "stock": 1, "tags": []},  # bsonType
    ):
        with pytest.raises(DocumentValidationFailed) as info:
            await raw.insert_one(bad)
        error = info.value
        assert error.code == 121
        assert "validator" in str(error)
    assert await raw.count() == 2


async def test_err_info_says_which_rule_failed(catalogue: Catalogue) -> None:
    await create(catalogue, "lines", json_schema(Line))
    lines = catalogue.collection("lines")
    await lines.insert_one({"sku": "A", "quantity": 2})
    with pytest.raises(DocumentValidationFailed) as info:
        await lines.insert_one({"quantity": "two"})
    err_info = info.value.err_info
    assert err_info is not None  # MongoDB 5.0+ explains the failure
    assert "schemaRulesNotSatisfied" in repr(err_info)
