"""Document types beyond dicts: dataclasses and Pydantic models, and typed field paths.

A collection's document type decides how documents cross the wire:

* ``dict``, a ``TypedDict`` or any other mapping: as they are, at no cost;
* a dataclass: decoded with its constructor, encoded field by field (nested
  dataclasses, lists of them and optional ones included);
* a Pydantic v2 model: decoded with ``model_validate``, encoded with
  ``model_dump(by_alias=True)``. Pydantic is never imported here: a class is taken for
  a model only if ``pydantic`` is already imported and it subclasses ``BaseModel``.

The ``_id`` rule: a field named ``_id``, or a field whose alias is ``"_id"``
(Pydantic), holds ``_id``; otherwise a field named ``id`` does. A document type with
neither reads without its ``_id``. On writes an ``_id`` of None is left out, so the
driver assigns one (read it from the result's ``inserted_id``).
"""

import contextlib
import dataclasses
import sys
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Final, Generic, TypeVar, Union, get_args, get_origin

from ._errors import InvalidDocument, InvalidQuery
from ._filters import Field, Filter

__all__ = [
    "DecodeFailure",
    "DocumentCodec",
    "ModelFields",
    "codec_for",
    "fields",
    "where",
]

_M = TypeVar("_M")


class DecodeFailure(Exception):
    """A stored document does not fit the document type (internal).

    Collections turn it into :class:`~mongocat.DocumentDecodeError`, adding the
    collection and the document's ``_id``.
    """

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


class DocumentCodec(Generic[_M]):
    """Turns stored documents into ``_M`` values and back."""

    __slots__ = ("document_type", "keys", "nested")

    def __init__(self, document_type: type[_M]) -> None:
        self.document_type = document_type
        #: Each attribute's key in the stored document (``id`` → ``_id``).
        self.keys: dict[str, str] = {}
        #: The codec of each attribute holding a nested model, if any.
        self.nested: dict[str, DocumentCodec[Any]] = {}

    def decode(self, raw: Mapping[str, Any]) -> _M:
        """Build an ``_M`` from a stored document; raise DecodeFailure if it does not fit."""
        raise NotImplementedError

    def encode(self, value: _M) -> dict[str, Any]:
        """Turn an ``_M`` into a document to store."""
        raise NotImplementedError

    def projection(self) -> dict[str, Any]:
        """The projection that fetches exactly this type's fields."""
        projection: dict[str, Any] = {key: 1 for key in self.keys.values() if key != "_id"}
        if "_id" not in self.keys.values():
            projection["_id"] = 0
        return projection

    def _check(self, value: object) -> None:
        if not isinstance(value, self.document_type):
            raise InvalidDocument(
                f"expected a {self.document_type.__name__} to write, not "
                f"{type(value).__name__} {value!r}; build one first, e.g. "
                f"{self.document_type.__name__}(...)"
            )


_NESTED_ONE: Final = "one"
_NESTED_LIST: Final = "list"


def _nested_model(hint: Any) -> tuple[Any, str] | None:
    """The dataclass or model a field holds (alone, optional, or in a list), if any."""
    origin = get_origin(hint)
    if origin is Union or origin is types.UnionType:
        options = [arg for arg in get_args(hint) if arg is not type(None)]
        return _nested_model(options[0]) if len(options) == 1 else None
    if origin is list:
        args = get_args(hint)
        inner = _nested_model(args[0]) if args else None
        return (inner[0], _NESTED_LIST) if inner and inner[1] == _NESTED_ONE else None
    if isinstance(hint, type) and (dataclasses.is_dataclass(hint) or _is_pydantic(hint)):
        return hint, _NESTED_ONE
    return None


class _DataclassCodec(DocumentCodec[_M]):
    """Dataclasses: the constructor decodes, the fields encode."""

    __slots__ = ("_kinds", "_required")

    def __init__(self, document_type: type[_M]) -> None:
        super().__init__(document_type)
        try:
            hints = typing.get_type_hints(document_type)
        except (NameError, TypeError):  # unresolvable forward references: no nesting
            hints = {}
        names = {f.name for f in dataclasses.fields(document_type)}  # type: ignore[arg-type]
        self._required: set[str] = set()
        self._kinds: dict[str, str] = {}
        for spec in dataclasses.fields(document_type):  # type: ignore[arg-type]
            if not spec.init:
                continue
            key = (
                "_id"
                if spec.name == "_id" or (spec.name == "id" and "_id" not in names)
                else spec.name
            )
            self.keys[spec.name] = key
            if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                self._required.add(spec.name)
            nested = _nested_model(hints.get(spec.name))
            if nested is not None:
                self.nested[spec.name] = codec_for(nested[0]) or DocumentCodec(dict)
                self._kinds[spec.name] = nested[1]

    def decode(self, raw: Mapping[str, Any]) -> _M:
        arguments: dict[str, Any] = {}
        for name, key in self.keys.items():
            if key in raw:
                value = raw[key]
                if name in self.nested and value is not None:
                    value = self._decode_nested(name, key, value)
                arguments[name] = value
            elif name in self._required:
                raise DecodeFailure(key, "is missing")
        try:
            return self.document_type(**arguments)
        except (TypeError, ValueError) as exc:
            raise DecodeFailure(None, f"{self.document_type.__name__}() refused it: {exc}") from exc

    def _decode_nested(self, name: str, key: str, value: Any) -> Any:
        codec = self.nested[name]
        try:
            if self._kinds[name] == _NESTED_LIST:
                if not isinstance(value, list):
                    raise DecodeFailure(None, f"is a {type(value).__name__}, not an array")
                return [self._decode_document(codec, item) for item in value]
            return self._decode_document(codec, value)
        except DecodeFailure as failure:
            field = key if failure.field is None else f"{key}.{failure.field}"
            raise DecodeFailure(field, failure.reason) from failure

    @staticmethod
    def _decode_document(codec: DocumentCodec[Any], value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise DecodeFailure(None, f"is a {type(value).__name__}, not a document")
        return codec.decode(value)

    def encode(self, value: _M) -> dict[str, Any]:
        self._check(value)
        document: dict[str, Any] = {}
        for name, key in self.keys.items():
            item = getattr(value, name)
            if key == "_id" and item is None:
                continue
            if name in self.nested and item is not None:
                codec = self.nested[name]
                item = (
                    [codec.encode(i) for i in item]
                    if self._kinds[name] == _NESTED_LIST
                    else codec.encode(item)
                )
            document[key] = item
        return document


def _is_pydantic(document_type: Any) -> bool:
    """Whether ``document_type`` is a Pydantic model class (without importing Pydantic)."""
    pydantic = sys.modules.get("pydantic")
    return (
        pydantic is not None
        and isinstance(document_type, type)
        and issubclass(document_type, pydantic.BaseModel)
    )


class _PydanticCodec(DocumentCodec[_M]):
    """Pydantic v2 models: ``model_validate`` decodes, ``model_dump`` encodes."""

    __slots__ = ("_id_attribute", "_rename")

    def __init__(self, document_type: type[_M]) -> None:
        super().__init__(document_type)
        model_fields: dict[str, Any] = document_type.model_fields  # type: ignore[attr-defined]
        aliased = {name: info.alias for name, info in model_fields.items() if info.alias}
        self._rename = "id" in model_fields and "_id" not in aliased.values()
        self._id_attribute: str | None = None
        for name, info in model_fields.items():
            key = aliased.get(name, name)
            if self._rename and name == "id":
                key = "_id"
            if key == "_id":
                self._id_attribute = name
            self.keys[name] = key
            nested = _nested_model(info.annotation)
            if nested is not None:
                self.nested[name] = codec_for(nested[0]) or DocumentCodec(dict)

    def decode(self, raw: Mapping[str, Any]) -> _M:
        data: Mapping[str, Any] = raw
        if self._rename and "_id" in raw:
            data = dict(raw)
            data["id"] = data.pop("_id")
        try:
            return self.document_type.model_validate(data)  # type: ignore[attr-defined, no-any-return]
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            errors = getattr(exc, "errors", None)
            if not callable(errors):
                raise DecodeFailure(None, str(exc)) from exc
            first = errors()[0]
            location = [str(part) for part in first.get("loc", ())]
            if self._rename and location[:1] == ["id"]:
                location[0] = "_id"
            field = ".".join(location) or None
            message = str(first.get("msg", "is invalid"))
            reason = "is missing" if first.get("type") == "missing" else message
            raise DecodeFailure(field, reason) from exc

    def encode(self, value: _M) -> dict[str, Any]:
        self._check(value)
        document: dict[str, Any] = value.model_dump(by_alias=True)  # type: ignore[attr-defined]
        if self._rename:
            identifier = document.pop("id", None)
            if identifier is not None:
                document["_id"] = identifier
        elif self._id_attribute is not None and document.get("_id", 0) is None:
            del document["_id"]
        return document


def codec_for(document_type: Any) -> DocumentCodec[Any] | None:
    """Return the codec for ``document_type``, or None when documents pass as they are."""
    return _codec(document_type)


_CODECS: dict[Any, DocumentCodec[Any] | None] = {}


def _codec(document_type: Any) -> DocumentCodec[Any] | None:
    try:
        return _CODECS[document_type]
    except (KeyError, TypeError):
        pass
    codec: DocumentCodec[Any] | None
    if isinstance(document_type, type) and dataclasses.is_dataclass(document_type):
        codec = _DataclassCodec(document_type)
    elif _is_pydantic(document_type):
        codec = _PydanticCodec(document_type)
    else:
        codec = None
    with contextlib.suppress(TypeError):  # an unhashable type is not cached
        _CODECS[document_type] = codec
    return codec


def is_model_type(value: object) -> bool:
    """Whether ``value`` is a dataclass or Pydantic model class (a projection type)."""
    return isinstance(value, type) and _codec(value) is not None


# -- typed field paths -------------------------------------------------------------


class _ModelField(Field):
    """A field path of a model's field: sub-fields of a nested model are checked too."""

    __slots__ = ("_codec",)

    def __init__(self, path: str, codec: DocumentCodec[Any] | None) -> None:
        super().__init__(path)
        self._codec = codec

    def __getattr__(self, name: str) -> Field:
        if name.startswith("__") or self._codec is None:
            return super().__getattr__(name)
        return _model_field(self._codec, name, f"{self._path}.")


def _model_field(codec: DocumentCodec[Any], name: str, prefix: str) -> Field:
    """The path of ``name`` in ``codec``'s type, or InvalidQuery naming the fields."""
    key = codec.keys.get(name)
    if key is None:
        known = ", ".join(sorted(codec.keys))
        raise InvalidQuery(
            f"{codec.document_type.__name__} has no field {name!r}; its fields are {known}"
        )
    return _ModelField(prefix + key, codec.nested.get(name))


class ModelFields(Generic[_M]):
    """The field paths of a dataclass or Pydantic model: ``fields(Product).price``.

    Each attribute is a :class:`~mongocat.Field` (so it makes filters, sorts,
    projections and updates like ``F.price``), named as the field is stored (``id`` is
    ``_id``); a name the model does not have raises :class:`~mongocat.InvalidQuery` at
    once.
    """

    __slots__ = ("_codec",)

    def __init__(self, model: type[_M]) -> None:
        codec = _codec(model)
        if codec is None:
            raise InvalidQuery(
                f"fields() needs a dataclass or a Pydantic model, not {model!r}; use F for "
                "dict and TypedDict documents"
            )
        self._codec = codec

    def __getattr__(self, name: str) -> Field:
        if name.startswith("__"):
            raise AttributeError(name)
        return _model_field(self._codec, name, "")

    def __repr__(self) -> str:
        return f"fields({self._codec.document_type.__name__})"


def fields(model: type[_M]) -> ModelFields[_M]:
    """Return the checked field paths of ``model``: ``fields(Product).price < 10``.

    Raises:
        InvalidQuery: ``model`` is not a dataclass or Pydantic model; and, on
            attribute access, a field the model does not have.

    Example:
        >>> from dataclasses import dataclass
        >>> @dataclass
        ... class Product:
        ...     sku: str
        ...     price: float
        >>> (fields(Product).price < 10).to_mongo()
        {'price': {'$lt': 10}}
    """
    return ModelFields(model)


def where(model: type[_M], predicate: Callable[[_M], object]) -> Filter:
    """Build a filter from a predicate that mypy checks against ``model``'s field types.

    ``predicate`` receives the model's field paths typed as the model itself, so mypy
    checks each comparison against the field's declared type: ``p.price < "10"`` and
    ``p.sku == 3`` are type errors (under ``--strict``), ``p.prise`` an attribute
    error. At run time the comparisons build the filter. Only comparisons
    (``== != < <= > >=``) combined with ``&``, ``|`` and ``~`` can be written this way;
    use :func:`fields` for the other operators.

    Raises:
        InvalidQuery: The predicate did not produce a filter (it used ``and``/``or``
            or a method), or named a field the model does not have.

    Example:
        >>> from dataclasses import dataclass
        >>> @dataclass
        ... class Product:
        ...     sku: str
        ...     price: float
        >>> where(Product, lambda p: (p.price < 10) & (p.sku != "X")).to_mongo()
        {'price': {'$lt': 10}, 'sku': {'$ne': 'X'}}
    """
    result = predicate(ModelFields(model))  # type: ignore[arg-type]
    if not isinstance(result, Filter):
        raise InvalidQuery(
            "the predicate must return comparisons of fields combined with & | ~ (it "
            f"returned {result!r}); for in_(), exists() and other operators use "
            "fields(Model).name.in_([...])"
        )
    return result
