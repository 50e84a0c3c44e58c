"""JSON for BSON values: turn documents into what ``json`` and web frameworks accept.

``to_jsonable(document)`` returns a copy made only of ``dict``, ``list``, ``str``,
``int``, ``float``, ``bool`` and ``None``; ``dumps(document)`` is ``json.dumps`` of it.

=================  ==========================================================
BSON value         JSON value
=================  ==========================================================
ObjectId           its 24 hex digits: ``"65a1b2c3d4e5f6a7b8c9d0e1"``
datetime           ISO 8601 in UTC: ``"2026-11-25T01:20:59.123000Z"`` (a naive
                   datetime is taken as UTC, as the drivers return them)
Decimal128,        the decimal as a string: ``"19.99"`` (a JSON number would lose
Decimal            precision in most clients)
UUID               its canonical string form
Binary, bytes      base64: ``"AAEC"``
Int64              an int
Timestamp          ``{"t": seconds, "i": increment}``
Regex, Pattern     ``{"pattern": ..., "flags": ...}``
MinKey / MaxKey    ``{"$minKey": 1}`` / ``{"$maxKey": 1}``
=================  ==========================================================

Non-finite floats (NaN, infinity) become ``None``: JSON has no spelling for them.

``ObjectIdStr`` (with ``pip install 'mongocat-async[pydantic]'``) is an annotated type for
Pydantic models: it accepts an ObjectId or its 24-hex-digit string, holds an ObjectId,
and serialises to the string. Importing this module does not import Pydantic.
"""

from __future__ import annotations

import base64
import datetime as _dt
import decimal
import json as _json
import math
import re
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bson import Binary, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp

if TYPE_CHECKING:
    from ._pydantic_types import ObjectIdStr

__all__ = ["ObjectIdStr", "dumps", "to_jsonable"]


def _iso(value: _dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    return value.astimezone(_dt.UTC).isoformat().replace("+00:00", "Z")


def to_jsonable(value: Any) -> Any:
    """Return ``value`` with every BSON type turned into a JSON-safe one (a new copy).

    Raises:
        TypeError: A value of a type with no JSON form (a custom class).

    Example:
        >>> from bson import ObjectId
        >>> to_jsonable({"_id": ObjectId("65a1b2c3d4e5f6a7b8c9d0e1"), "tags": ("a",)})
        {'_id': '65a1b2c3d4e5f6a7b8c9d0e1', 'tags': ['a']}
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is dict or isinstance(value, Mapping):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [to_jsonable(item) for item in value]
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, _dt.datetime):
        return _iso(value)
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, Decimal128):
        return str(value.to_decimal())
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Binary) and value.subtype in (3, 4):
        return str(value.as_uuid(uuid_representation=value.subtype))
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Int64):
        return int(value)
    if isinstance(value, Timestamp):
        return {"t": value.time, "i": value.inc}
    if isinstance(value, Regex):
        return {"pattern": value.pattern, "flags": value.flags}
    if isinstance(value, re.Pattern):
        return {"pattern": value.pattern, "flags": value.flags}
    if isinstance(value, MinKey):
        return {"$minKey": 1}
    if isinstance(value, MaxKey):
        return {"$maxKey": 1}
    if isinstance(value, set | frozenset):
        return [to_jsonable(item) for item in value]
    if isinstance(value, bool):  # subclasses of the JSON types: enums, NewTypes
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return to_jsonable(float(value))
    if isinstance(value, str):
        return str(value)
    raise TypeError(
        f"cannot turn a {kind.__name__} into JSON: convert it to a BSON or JSON type first"
    )


def dumps(value: Any, **kwargs: Any) -> str:
    """Return ``value`` as JSON text; ``kwargs`` go to :func:`json.dumps`.

    Example:
        >>> from datetime import datetime, UTC
        >>> dumps({"at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)})
        '{"at": "2026-01-02T03:04:05Z"}'
    """
    return _json.dumps(to_jsonable(value), **kwargs)


def __getattr__(name: str) -> Any:
    if name == "ObjectIdStr":  # only now: Pydantic is an optional dependency
        from ._pydantic_types import ObjectIdStr

        return ObjectIdStr
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
