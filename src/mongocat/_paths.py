"""Field paths and the helpers every builder shares. Pure: no I/O, no driver."""

import operator
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from types import MethodType
from typing import TYPE_CHECKING, Any, Concatenate, Final, Generic, ParamSpec, TypeVar

from bson import Decimal128, ObjectId
from bson.regex import Regex

from ._errors import ConfigurationError, InvalidQuery

__all__ = [
    "KNOWN_UPDATE_PATHS",
    "REMEMBERED",
    "SCALAR_TYPES",
    "BuilderType",
    "FieldPath",
    "check_path",
    "classmethod_or_method",
    "field_name",
    "flag",
    "is_int",
    "is_operator_document",
    "is_pattern",
    "matches_as_condition",
    "remember",
    "render",
]

#: Value types that are never documents and hold no field names: checks skip them by
#: exact type, without an ABC ``isinstance``.
SCALAR_TYPES: Final = frozenset(
    {str, int, float, bool, type(None), bytes, datetime, ObjectId, Decimal128}
)


def is_int(value: object) -> bool:
    """Whether ``value`` is an int and not a bool (``True`` is an ``int`` in Python)."""
    return isinstance(value, int) and not isinstance(value, bool)


def flag(value: object, name: str) -> bool:
    """``value``, an on/off option called ``name``, checked to be a bool.

    Raises:
        ConfigurationError: ``value`` is not True or False.
    """
    if not isinstance(value, bool):
        raise ConfigurationError(f"{name} is True or False, not {value!r}")
    return value


_POSITIONAL = re.compile(r"^\$(\[[A-Za-z0-9_]*\])?$")  # $, $[] and $[identifier]


def check_path(path: str, *, positional: bool = False) -> str:
    """Return ``path`` if every dotted segment is a valid field name, else explain.

    Valid paths are cached: applications name the same fields again and again.

    Args:
        path: A dotted field path such as ``"dimensions.width"``.
        positional: Allow the update operators' ``$``, ``$[]`` and ``$[id]`` segments.
    """
    return _checked_path(path, positional)


#: How many names a set of names found valid keeps before it starts again.
REMEMBERED: Final = 4096


def remember(valid: set[Any], name: Any) -> None:
    """Add ``name`` to a set of names found valid, emptying it first when it is full.

    Applications name the same fields again and again: a set hit is the cheapest
    check there is, and the bound keeps a stream of distinct names from growing it.
    """
    if len(valid) >= REMEMBERED:
        valid.clear()
    valid.add(name)


#: Paths found valid, without and with positional segments.
_VALID: Final[tuple[set[str], set[str]]] = (set(), set())
#: The update paths found valid: a builder given only names in it checks nothing more.
KNOWN_UPDATE_PATHS: Final = _VALID[True]


def _checked_path(path: str, positional: bool) -> str:
    """The body of :func:`check_path`: remembered valid paths, else the full check."""
    valid = _VALID[positional]
    if type(path) is str and path in valid:
        return path
    _check_path(path, positional)
    remember(valid, path)
    return path


def _check_path(path: str, positional: bool) -> None:
    if not isinstance(path, str):
        raise InvalidQuery(f"a field path must be a string, not {type(path).__name__} {path!r}")
    if "\x00" in path:
        raise InvalidQuery(f"field path {path!r} contains a NUL byte")
    for segment in path.split("."):
        if not segment:
            raise InvalidQuery(
                f"field path {path!r} has an empty segment; write 'a.b', not 'a..b' or '.a'"
            )
        if segment.startswith("$") and not (positional and _POSITIONAL.match(segment)):
            raise InvalidQuery(
                f"field name {segment!r} in {path!r} starts with '$'; use F.expr(...) for "
                "$expr, or Filter.raw({...}) to send a raw document on purpose"
            )


def is_operator_document(value: object) -> bool:
    """Return whether ``value`` is a mapping with a ``$``-prefixed key at its top level."""
    if type(value) in SCALAR_TYPES:  # the common case, without an ABC check
        return False
    if not isinstance(value, Mapping):
        return False
    return any(isinstance(key, str) and key.startswith("$") for key in value)


def is_pattern(value: object) -> bool:
    """Whether ``value`` is a regular expression (``re.Pattern`` or BSON ``Regex``)."""
    return isinstance(value, re.Pattern | Regex)


def matches_as_condition(value: object) -> bool:
    """Whether ``value``, written as a field's query value, would not mean equality.

    A mapping with ``$`` keys reads as operators and a pattern as a regex match;
    both must go in ``$eq`` to be matched as values.
    """
    if type(value) in SCALAR_TYPES:
        return False
    return is_pattern(value) or is_operator_document(value)


class FieldPath:
    """A field path: ``F.price``, ``F.dimensions.width``, ``F["items"][0].qty``.

    Attribute access and indexing make longer paths; the comparison operators and
    methods of :class:`~mongocat.Field` make filters.
    """

    __slots__ = ("_path",)

    def __init__(self, path: str) -> None:
        self._path = path

    @property
    def path(self) -> str:
        """The dotted path, e.g. ``"items.0.qty"``."""
        return self._path


_B = TypeVar("_B")
_P = ParamSpec("_P")
_R = TypeVar("_R")


if TYPE_CHECKING:

    class classmethod_or_method(Generic[_B, _P, _R]):
        """Make a builder method callable on the class (on an empty builder) or an instance.

        ``Update.set(a=1)`` starts a new update; ``Update.set(a=1).inc(n=1)`` extends it.
        What type checkers see; at run time :class:`BuilderType` does the work.
        """

        def __init__(self, method: Callable[Concatenate[_B, _P], _R]) -> None: ...

        def __get__(self, instance: _B | None, owner: type[_B]) -> Callable[_P, _R]: ...

else:

    def classmethod_or_method(method):
        """Mark a builder method that also answers on the class (see BuilderType)."""
        method._starts_builder = True
        return method


class BuilderType(type):
    """The metaclass of the immutable builders whose methods also answer on the class.

    ``Update.set(a=1)`` is the method called on the empty Update (one per class, as
    the builders are immutable); ``Update.set(a=1).inc(n=1)`` is the plain method. The
    class-level lookup is answered by a property of the builder's own metaclass whose
    getter is an ``attrgetter`` of the method bound to the empty builder, so neither
    form runs Python code to find the method (a descriptor's ``__get__`` did, on
    every call). Each builder class has its own subclass of this metaclass, since the
    properties live there.
    """

    def __init__(cls, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> None:
        super().__init__(name, bases, namespace)
        starters = [key for key, value in namespace.items() if hasattr(value, "_starts_builder")]
        if not starters:
            return
        meta = type(cls)
        if meta is BuilderType or getattr(meta, "_builds", cls) is not cls:
            raise TypeError(f"{name} needs its own subclass of BuilderType as its metaclass")
        meta._builds = cls  # type: ignore[attr-defined]
        empty = cls()
        for key in starters:
            setattr(cls, f"_start_{key}", MethodType(namespace[key], empty))
            setattr(meta, key, property(operator.attrgetter(f"_start_{key}")))


def field_name(field: "str | FieldPath", *, positional: bool = False) -> str:
    """Return the checked dotted path of a field given as a string or a FieldPath."""
    if type(field) is str and field in _VALID[positional]:
        return field  # the common case: a name seen before
    if isinstance(field, FieldPath):
        return field._path if not positional else _checked_path(field._path, True)
    return _checked_path(field, positional)


def render(value: Any) -> Any:
    """Render a builder (anything with ``to_mongo()``), leaving other values as they are.

    Only for positions that take expressions or builders, never for user values.
    """
    to_mongo = getattr(value, "to_mongo", None)
    return to_mongo() if callable(to_mongo) and not isinstance(value, type) else value
