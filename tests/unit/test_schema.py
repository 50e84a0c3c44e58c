"""json_schema(T) against literal $jsonSchema documents."""

import dataclasses
import datetime
import decimal
import enum
import uuid
from typing import Annotated, Any, Literal, NotRequired, TypedDict

import pytest
from annotated_types import Ge, Le, MaxLen
from bson import ObjectId
from pydantic import BaseModel, ConfigDict, Field

from mongocat import ConfigurationError, json_schema


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Dimensions(TypedDict):
    width: float
    height: float


class Product(TypedDict):
    _id: ObjectId
    sku: str
    price: float
    stock: int
    active: bool
    added: datetime.datetime
    cost: decimal.Decimal
    ref: uuid.UUID
    photo: bytes
    tags: list[str]
    color: Color
    size: Literal["S", "M", "L"]
    dimensions: Dimensions
    note: str | None
    extra: NotRequired[dict[str, int]]
    anything: Any


def test_a_typeddict() -> None:
    assert json_schema(Product) == {
        "bsonType": "object",
        "required": [
            "_id",
            "sku",
            "price",
            "stock",
            "active",
            "added",
            "cost",
            "ref",
            "photo",
            "tags",
            "color",
            "size",
            "dimensions",
            "note",
            "anything",
        ],
        "properties": {
            "_id": {"bsonType": "objectId"},
            "sku": {"bsonType": "string"},
            "price": {"bsonType": ["double", "int", "long"]},
            "stock": {"bsonType": ["int", "long"]},
            "active": {"bsonType": "bool"},
            "added": {"bsonType": "date"},
            "cost": {"bsonType": "decimal"},
            "ref": {"bsonType": "binData"},
            "photo": {"bsonType": "binData"},
            "tags": {"bsonType": "array", "items": {"bsonType": "string"}},
            "color": {"enum": ["red", "blue"]},
            "size": {"enum": ["S", "M", "L"]},
            "dimensions": {
                "bsonType": "object",
                "required": ["width", "height"],
                "properties": {
                    "width": {"bsonType": ["double", "int", "long"]},
                    "height": {"bsonType": ["double", "int", "long"]},
                },
            },
            "note": {"bsonType": ["string", "null"]},
            "extra": {"bsonType": "object", "additionalProperties": {"bsonType": ["int", "long"]}},
            "anything": {},
        },
    }


@dataclasses.dataclass
class Line:
    sku: str
    quantity: int = 1


@dataclasses.dataclass
class Order:
    customer: str
    lines: list[Line]
    tags: set[str] = dataclasses.field(default_factory=set)
    total: float | None = None
    id: ObjectId | None = None


def test_a_dataclass_with_defaults_nested_lists_and_id() -> None:
    assert json_schema(Order) == {
        "bsonType": "object",
        "required": ["customer", "lines"],
        "properties": {
            "customer": {"bsonType": "string"},
            "lines": {
                "bsonType": "array",
                "items": {
                    "bsonType": "object",
                    "required": ["sku"],
                    "properties": {
                        "sku": {"bsonType": "string"},
                        "quantity": {"bsonType": ["int", "long"]},
                    },
                },
            },
            "tags": {"bsonType": "array", "items": {"bsonType": "string"}, "uniqueItems": True},
            "total": {"bsonType": ["double", "int", "long", "null"]},
            "_id": {"bsonType": ["objectId", "null"]},
        },
    }


class Account(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(alias="_id")
    name: Annotated[str, MaxLen(50)] = Field(pattern=r"^[a-z]+$", min_length=1)
    age: int = Field(ge=0, le=150)
    balance: float = Field(gt=0)
    level: Annotated[int, Ge(1), Le(2**40)] = 1
    roles: list[str] = Field(default_factory=list, max_length=5)


def test_a_pydantic_model_with_constraints_and_extra_forbid() -> None:
    assert json_schema(Account) == {
        "bsonType": "object",
        "required": ["_id", "name", "age", "balance"],
        "properties": {
            "_id": {"bsonType": "string"},
            "name": {"bsonType": "string", "maxLength": 50, "minLength": 1, "pattern": "^[a-z]+$"},
            "age": {"bsonType": "int", "minimum": 0, "maximum": 150},
            "balance": {
                "bsonType": ["double", "int", "long"],
                "minimum": 0,
                "exclusiveMinimum": True,
            },
            "level": {"bsonType": ["int", "long"], "minimum": 1, "maximum": 2**40},
            "roles": {"bsonType": "array", "items": {"bsonType": "string"}, "maxItems": 5},
        },
        "additionalProperties": False,
    }


def test_additional_properties_as_asked() -> None:
    closed = json_schema(Line, additional_properties=False)
    assert closed["additionalProperties"] is False
    assert closed["properties"]["_id"] == {}  # every stored document has an _id
    assert "additionalProperties" not in json_schema(Line)
    assert "additionalProperties" not in json_schema(Account, additional_properties=True)


def test_unions_and_tuples() -> None:
    class Mixed(TypedDict):
        either: int | str
        pair: tuple[str, int]
        many: tuple[int, ...]
        maybe_color: Color | None

    assert json_schema(Mixed)["properties"] == {
        "either": {"anyOf": [{"bsonType": ["int", "long"]}, {"bsonType": "string"}]},
        "pair": {
            "bsonType": "array",
            "items": [{"bsonType": "string"}, {"bsonType": ["int", "long"]}],
            "minItems": 2,
            "maxItems": 2,
        },
        "many": {"bsonType": "array", "items": {"bsonType": ["int", "long"]}},
        "maybe_color": {"enum": ["red", "blue", None]},
    }


def test_a_type_without_a_bson_form_is_named() -> None:
    class Odd(TypedDict):
        when: datetime.timedelta

    with pytest.raises(
        ConfigurationError, match=r"Odd\.when has type <class 'datetime.timedelta'>"
    ):
        json_schema(Odd)
    with pytest.raises(ConfigurationError, match="takes a TypedDict, a dataclass or a Pydantic"):
        json_schema(dict)


def test_each_call_gives_a_fresh_document() -> None:
    first = json_schema(Line)
    first["properties"]["sku"]["bsonType"] = "int"
    assert json_schema(Line)["properties"]["sku"] == {"bsonType": "string"}
