"""Pydantic types for BSON values (imported only when asked for: Pydantic is optional)."""

from typing import Annotated, Any

from bson import ObjectId
from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

from ._coercion import object_id

__all__ = ["ObjectIdStr"]


def _parse(value: Any) -> ObjectId:
    try:
        return object_id(value)
    except Exception as exc:  # InvalidQuery: Pydantic wants a ValueError
        raise ValueError(str(exc)) from None


#: An ObjectId in a Pydantic model: validated from an ObjectId or 24 hex digits; kept
#: as an ObjectId by ``model_dump()`` (so it is stored as one), serialised to JSON (and
#: described in OpenAPI) as the 24-hex-digit string.
ObjectIdStr = Annotated[
    ObjectId,
    PlainValidator(_parse),
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "pattern": "^[0-9a-fA-F]{24}$", "example": "65a1b2c3d4e5f6a7b8c9d0e1"}
    ),
]
