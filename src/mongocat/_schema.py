"""``json_schema(T)``: a MongoDB ``$jsonSchema`` validator from a document type.

The schema describes documents as mongocat stores them for ``T`` (a ``TypedDict``, a
dataclass or a Pydantic v2 model): the same field names (a model's aliases, ``id``
stored as ``_id``), ``bsonType`` per Python type, required fields, nested documents
and arrays, ``enum`` for ``Literal`` and ``Enum``, and the constraints of Pydantic
fields that ``$jsonSchema`` has. Pure: no I/O, no Pydantic import.

Python type → ``bsonType``: ``str`` "string"; ``bool`` "bool"; ``int`` "int" and
"long" (BSON stores an int in 32 bits when it fits; "int" alone when the field's
bounds keep it within 32 bits); ``float`` "double", "int" and "long" (an int is a
valid float, PEP 484); ``datetime`` "date"; ``ObjectId`` "objectId"; ``Decimal`` and
``Decimal128`` "decimal"; ``bytes`` and ``UUID`` "binData"; ``Int64`` "long";
``re.Pattern`` / ``Regex`` "regex"; ``list``/``tuple``/``set`` "array" (with
``items``; a set adds ``uniqueItems``); ``dict``/``Mapping`` "object"; ``X | None``
adds "null"; other unions are ``anyOf``; ``Any`` accepts anything.
"""

import dataclasses
import datetime
import decimal
import enum
import re
import types
import typing
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal, Union, get_args, get_origin

from bson import Decimal128, Int64, ObjectId, Regex
from bson.binary import Binary

from ._errors import ConfigurationError
from ._models import codec_for

__all__ = ["json_schema"]

_INT32: Final = (-(2**31), 2**31 - 1)
_QUALIFIERS: Final = (typing.NotRequired, typing.Required)

_SCALARS: Final[tuple[tuple[type[Any], str | list[str]], ...]] = (
    (bool, "bool"),  # before int: a bool is an int in Python
    (Int64, "long"),
    (int, ["int", "long"]),
    (float, ["double", "int", "long"]),
    (str, "string"),
    (datetime.datetime, "date"),
    (ObjectId, "objectId"),
    (decimal.Decimal, "decimal"),
    (Decimal128, "decimal"),
    (bytes, "binData"),
    (Binary, "binData"),
    (uuid.UUID, "binData"),
    (re.Pattern, "regex"),
    (Regex, "regex"),
)


def json_schema(
    document_type: type[Any], *, additional_properties: bool | None = None
) -> dict[str, Any]:
    """The ``$jsonSchema`` of the documents mongocat stores for ``document_type``.

    Use it as a collection's validator: ``{"$jsonSchema": json_schema(Product)}``.

    Args:
        document_type: A ``TypedDict``, a dataclass or a Pydantic v2 model.
        additional_properties: Whether documents may hold fields the type does not
            declare. By default as the type declares it: False for a Pydantic model
            with ``extra="forbid"``, allowed otherwise. ``_id`` is always allowed.

    Returns:
        A fresh schema document (``bsonType``, ``properties``, ``required``, ...).

    Raises:
        ConfigurationError: ``document_type`` is not one of those, or a field's type
            has no BSON form (name and type in the message).

    Example:
        >>> from typing import TypedDict
        >>> class Product(TypedDict):
        ...     sku: str
        ...     price: float
        >>> json_schema(Product)["required"]
        ['sku', 'price']
    """
    return _object_schema(document_type, additional_properties, document_type.__name__)


def _object_schema(
    document_type: Any, additional_properties: bool | None, where: str
) -> dict[str, Any]:
    """The schema of a TypedDict, dataclass or model, as a BSON document."""
    fields = _fields(document_type, where)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for key, (hint, is_required, constraints) in fields.items():
        properties[key] = _schema_of(hint, constraints, f"{where}.{key}")
        if is_required:
            required.append(key)
    schema: dict[str, Any] = {"bsonType": "object"}
    if required:
        schema["required"] = required
    schema["properties"] = properties
    if additional_properties is None:
        additional_properties = _extra_allowed(document_type)
    if not additional_properties:
        properties.setdefault("_id", {})
        schema["additionalProperties"] = False
    return schema


def _fields(document_type: Any, where: str) -> dict[str, tuple[Any, bool, list[Any]]]:
    """Each stored key: its type, whether it is required, and its constraints."""
    if _is_typeddict(document_type):
        hints = typing.get_type_hints(document_type, include_extras=True)
        required_keys = getattr(document_type, "__required_keys__", frozenset(hints))
        return {name: (hint, name in required_keys, []) for name, hint in hints.items()}
    codec = codec_for(document_type) if isinstance(document_type, type) else None
    if codec is None:
        raise ConfigurationError(
            f"json_schema() takes a TypedDict, a dataclass or a Pydantic model; {where} is "
            f"{document_type!r}"
        )
    result: dict[str, tuple[Any, bool, list[Any]]] = {}
    if dataclasses.is_dataclass(document_type):
        hints = typing.get_type_hints(document_type, include_extras=True)
        for spec in dataclasses.fields(document_type):
            if spec.name not in codec.keys:
                continue
            key = codec.keys[spec.name]
            optional = (
                spec.default is not dataclasses.MISSING
                or spec.default_factory is not dataclasses.MISSING
            )
            result[key] = (hints[spec.name], not optional, [])
        return result
    for name, info in document_type.model_fields.items():  # a Pydantic model
        key = codec.keys[name]
        required = bool(info.is_required())
        result[key] = (info.annotation, required, list(info.metadata))
    return result


def _is_typeddict(value: Any) -> bool:
    return isinstance(value, type) and typing.is_typeddict(value)


def _extra_allowed(document_type: Any) -> bool:
    config = getattr(document_type, "model_config", None)
    return not (isinstance(config, Mapping) and config.get("extra") == "forbid")


def _schema_of(hint: Any, constraints: list[Any], where: str) -> dict[str, Any]:
    """The schema of one value of type ``hint``."""
    origin = get_origin(hint)
    if origin in _QUALIFIERS:  # NotRequired[...] / Required[...] of a TypedDict key
        return _schema_of(get_args(hint)[0], constraints, where)
    if origin is typing.Annotated:
        inner, *metadata = get_args(hint)
        return _schema_of(inner, [*constraints, *metadata], where)
    if hint is Any or hint is object:
        return {}
    if origin is Union or origin is types.UnionType:
        return _union(get_args(hint), constraints, where)
    if origin is Literal:
        return {"enum": list(get_args(hint))}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return {"enum": [member.value for member in hint]}
    if isinstance(hint, type) and (
        _is_typeddict(hint) or dataclasses.is_dataclass(hint) or codec_for(hint) is not None
    ):
        return _object_schema(hint, None, where)
    if origin in (list, tuple, set, frozenset) or origin in (Sequence, typing.Sequence):
        return _array(hint, origin, constraints, where)
    if hint in (list, tuple, set, frozenset):
        return _with({"bsonType": "array"}, constraints, "array")
    if origin in (dict, Mapping) or hint in (dict, Mapping):
        args = get_args(hint)
        schema: dict[str, Any] = {"bsonType": "object"}
        if len(args) == 2 and args[1] is not Any:
            schema["additionalProperties"] = _schema_of(args[1], [], f"{where}[*]")
        return schema
    for python_type, bson_type in _SCALARS:
        if isinstance(hint, type) and issubclass(hint, python_type):
            kind = "string" if bson_type == "string" else "number"
            schema = {"bsonType": list(bson_type) if isinstance(bson_type, list) else bson_type}
            schema = _with(schema, constraints, kind)
            if python_type is int and _within_int32(schema):
                schema["bsonType"] = "int"
            return schema
    raise ConfigurationError(
        f"json_schema(): {where} has type {hint!r}, which has no BSON form mongocat knows; "
        "use str, int, float, bool, datetime, ObjectId, Decimal, bytes, UUID, a list, a "
        "dict, a nested TypedDict / dataclass / model, or Any"
    )


def _union(options: tuple[Any, ...], constraints: list[Any], where: str) -> dict[str, Any]:
    nullable = type(None) in options
    rest = [option for option in options if option is not type(None)]
    if len(rest) == 1:
        schema = _schema_of(rest[0], constraints, where)
        if not nullable:
            return schema
        if "bsonType" in schema:
            kinds = schema["bsonType"]
            schema["bsonType"] = [*(kinds if isinstance(kinds, list) else [kinds]), "null"]
        elif "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
        elif schema:  # an object schema without bsonType cannot be: keep it exact
            schema = {"anyOf": [schema, {"bsonType": "null"}]}
        return schema
    branches = [_schema_of(option, constraints, where) for option in rest]
    if nullable:
        branches.append({"bsonType": "null"})
    return {"anyOf": branches}


def _array(hint: Any, origin: Any, constraints: list[Any], where: str) -> dict[str, Any]:
    args = [arg for arg in get_args(hint) if arg is not Ellipsis]
    schema: dict[str, Any] = {"bsonType": "array"}
    if origin is tuple and len(args) > 1 and len(get_args(hint)) == len(args):
        schema["items"] = [_schema_of(arg, [], f"{where}[{i}]") for i, arg in enumerate(args)]
        schema["minItems"] = schema["maxItems"] = len(args)
    elif args:
        items = _schema_of(args[0], [], f"{where}[]")
        if items:
            schema["items"] = items
    if origin in (set, frozenset):
        schema["uniqueItems"] = True
    return _with(schema, constraints, "array")


# Pydantic's (annotated-types') constraint names → $jsonSchema keywords, by kind.
_BOUNDS: Final = {"ge": "minimum", "le": "maximum", "gt": "minimum", "lt": "maximum"}
_LENGTHS: Final = {
    "string": ("minLength", "maxLength"),
    "array": ("minItems", "maxItems"),
}


def _with(schema: dict[str, Any], constraints: list[Any], kind: str) -> dict[str, Any]:
    """``schema`` with the constraints of ``constraints`` that $jsonSchema has."""
    for constraint in constraints:
        for attribute, keyword in _BOUNDS.items():
            value = getattr(constraint, attribute, None)
            if value is not None and kind == "number":
                schema[keyword] = value
                if attribute in ("gt", "lt"):
                    schema[f"exclusive{keyword.capitalize()}"] = True
        lengths = _LENGTHS.get(kind)
        if lengths is not None:
            for attribute, keyword in zip(("min_length", "max_length"), lengths, strict=True):
                value = getattr(constraint, attribute, None)
                if value is not None:
                    schema[keyword] = value
        pattern = getattr(constraint, "pattern", None)
        if isinstance(pattern, str) and kind == "string":
            schema["pattern"] = pattern
        multiple = getattr(constraint, "multiple_of", None)
        if multiple is not None and kind == "number":
            schema["multipleOf"] = multiple
    return schema


def _within_int32(schema: Mapping[str, Any]) -> bool:
    low, high = schema.get("minimum"), schema.get("maximum")
    return isinstance(low, int) and isinstance(high, int) and _INT32[0] <= low and high <= _INT32[1]
