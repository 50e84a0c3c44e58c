"""mongocat.json: every BSON type to a JSON-safe value."""

import json
import math
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from bson import Binary, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp
from pydantic import BaseModel, ValidationError

from mongocat.json import ObjectIdStr, dumps, to_jsonable

OID = ObjectId("65a1b2c3d4e5f6a7b8c9d0e1")
UID = uuid.UUID("12345678-1234-5678-1234-567812345678")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(OID, "65a1b2c3d4e5f6a7b8c9d0e1", id="objectid"),
        pytest.param(
            datetime(2026, 1, 2, 3, 4, 5, 6000), "2026-01-02T03:04:05.006000Z", id="naive"
        ),
        pytest.param(
            datetime(2026, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))),
            "2026-01-02T03:04:05Z",
            id="aware-to-utc",
        ),
        pytest.param(date(2026, 1, 2), "2026-01-02", id="date"),
        pytest.param(Decimal128("19.99"), "19.99", id="decimal128"),
        pytest.param(Decimal("0.1"), "0.1", id="decimal"),
        pytest.param(UID, "12345678-1234-5678-1234-567812345678", id="uuid"),
        pytest.param(
            Binary.from_uuid(UID), "12345678-1234-5678-1234-567812345678", id="binary-uuid"
        ),
        pytest.param(Binary(b"\x00\x01\x02"), "AAEC", id="binary"),
        pytest.param(b"\x00\x01\x02", "AAEC", id="bytes"),
        pytest.param(Int64(2**40), 2**40, id="int64"),
        pytest.param(Timestamp(1700000000, 7), {"t": 1700000000, "i": 7}, id="timestamp"),
        pytest.param(Regex("^a", "i"), {"pattern": "^a", "flags": 2}, id="regex"),
        pytest.param(MinKey(), {"$minKey": 1}, id="minkey"),
        pytest.param(MaxKey(), {"$maxKey": 1}, id="maxkey"),
        pytest.param(math.nan, None, id="nan"),
        pytest.param(math.inf, None, id="inf"),
        pytest.param((1, "a"), [1, "a"], id="tuple"),
        pytest.param(True, True, id="bool"),
        pytest.param(None, None, id="none"),
    ],
)
def test_each_bson_type_becomes_json(value: Any, expected: Any) -> None:
    assert to_jsonable(value) == expected
    json.dumps(to_jsonable(value))  # and it really is JSON


def test_nested_documents_are_converted_throughout() -> None:
    document = {"_id": OID, "items": [{"at": datetime(2026, 1, 1, tzinfo=UTC), "n": Int64(3)}]}
    assert to_jsonable(document) == {
        "_id": "65a1b2c3d4e5f6a7b8c9d0e1",
        "items": [{"at": "2026-01-01T00:00:00Z", "n": 3}],
    }
    assert json.loads(dumps(document)) == to_jsonable(document)


def test_a_type_with_no_json_form_is_refused() -> None:
    with pytest.raises(TypeError, match="cannot turn a object into JSON"):
        to_jsonable(object())


class Item(BaseModel):
    id: ObjectIdStr


def test_object_id_str_validates_stores_and_serialises() -> None:
    item = Item(id="65a1b2c3d4e5f6a7b8c9d0e1")  # type: ignore[arg-type]
    assert item.id == OID
    assert item.model_dump() == {"id": OID}  # stored as an ObjectId
    assert item.model_dump_json() == '{"id":"65a1b2c3d4e5f6a7b8c9d0e1"}'
    assert Item(id=OID).id == OID
    schema = Item.model_json_schema()["properties"]["id"]
    assert (schema["type"], schema["pattern"]) == ("string", "^[0-9a-fA-F]{24}$")
    with pytest.raises(ValidationError, match="not an ObjectId"):
        Item(id="nope")  # type: ignore[arg-type]
