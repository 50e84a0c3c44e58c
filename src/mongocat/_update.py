"""Update documents: ``Update.set(price=7.99).inc(stock=-1)``, immutable and checked.

Two operators on the same path, or on a path and its parent (``a`` and ``a.b``), raise
:class:`~mongocat.InvalidQuery` when the update is built; the server would reject the
update with code 40 (ConflictingUpdateOperators) only when it runs.
"""

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Literal, TypeVar, cast

from bson.decimal128 import Decimal128

from ._document_checks import STORING_OPERATORS
from ._errors import InvalidQuery
from ._filters import Filter
from ._paths import (
    KNOWN_UPDATE_PATHS,
    SCALAR_TYPES,
    BuilderType,
    FieldPath,
    classmethod_or_method,
    field_name,
    is_operator_document,
    matches_as_condition,
    render,
)

__all__ = ["Update"]

_MISSING: Final[Any] = object()
_NEW: Final = object.__new__
FieldArg = str | FieldPath


def _pairs(
    method: str,
    fields: Mapping[str, Any] | FieldArg | None,
    value: Any,
    kwargs: Mapping[str, Any],
    numbers: bool = False,
) -> list[tuple[str, Any]]:
    """Normalise the three call forms: ``(field, value)``, ``({path: value})``, ``(**kw)``.

    With ``numbers`` (``$inc``, ``$mul``), each value must be a number.
    """
    if fields is None and value is _MISSING and kwargs:  # the common keyword form
        if KNOWN_UPDATE_PATHS.issuperset(kwargs):  # every name checked before
            given = list(kwargs.items())
        else:
            given = [(field_name(k, positional=True), v) for k, v in kwargs.items()]
        return _numbers(method, given) if numbers else given
    pairs: list[tuple[str, Any]] = []
    if fields is None:  # None needs no ABC check
        if value is not _MISSING:
            raise InvalidQuery(f"{method}(None, {value!r}) names no field: {method}(field, value)")
    elif isinstance(fields, Mapping):
        if value is not _MISSING:
            raise InvalidQuery(f"{method}() takes a mapping or a field and a value, not both")
        pairs += [(field_name(k, positional=True), v) for k, v in fields.items()]
    else:
        if value is _MISSING:
            raise InvalidQuery(f"{method}({fields!r}) needs a value: {method}(field, value)")
        pairs.append((field_name(fields, positional=True), value))
    pairs += [(field_name(k, positional=True), v) for k, v in kwargs.items()]
    if not pairs:
        raise InvalidQuery(f"{method}() needs at least one field, e.g. {method}(price=1)")
    return _numbers(method, pairs) if numbers else pairs


def _numbers(method: str, pairs: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Check that ``$inc``/``$mul`` get a number for each ``(path, value)`` pair."""
    for path, value in pairs:
        kind = type(value)
        if kind is int or kind is float:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal128):
            raise InvalidQuery(f"{method}() needs a number for {path!r}, not {value!r}")
    return pairs


def _parents(path: str) -> list[str]:
    """The strict parent paths of ``path``: ``a.b.c`` -> ``a``, ``a.b``."""
    parents = []
    end = path.find(".")
    while end != -1:
        parents.append(path[:end])
        end = path.find(".", end + 1)
    return parents


#: Up to this many paths in all, comparing each pair is cheaper than an index.
_PAIRWISE = 8


def _conflict_error(other: str, other_op: str, path: str, op: str) -> InvalidQuery:
    return InvalidQuery(
        f"update paths {other!r} ({other_op}) and {path!r} ({op}) conflict: MongoDB "
        "rejects changing a path and itself or its parent in one update (code 40); split "
        "it into two updates"
    )


def _added_pairwise(
    entries: tuple[tuple[str, str, Any], ...], op: str, pairs: Sequence[tuple[str, Any]]
) -> tuple[tuple[str, str, Any], ...]:
    """``entries`` with ``pairs`` added, checked pair by pair (few paths)."""
    for path, value in pairs:
        dotted = path + "."
        for other_op, other, other_value in entries:
            targets = (other, other_value) if other_op == "$rename" else (other,)
            for taken in targets:
                if path == taken or path.startswith(taken + ".") or taken.startswith(dotted):
                    raise _conflict_error(taken, other_op, path, op)
        entries += ((op, path, value),)
    return entries


class _Touched:
    """The paths an update changes, indexed so that a conflict is found in linear time.

    A path conflicts with another if it is the same or one is the other's parent
    (``a`` and ``a.b``); each lookup is a dict hit per segment, so checking ``n`` new
    paths against ``m`` taken ones costs O((n + m) * depth), not O(n * m).
    """

    __slots__ = ("exact", "under")

    def __init__(self, entries: tuple[tuple[str, str, Any], ...]) -> None:
        #: Each taken path, to the operator that takes it.
        self.exact: dict[str, str] = {}
        #: Each strict parent of a taken path, to that (first) taken path.
        self.under: dict[str, str] = {}
        for op, path, value in entries:
            self.take(op, path)
            if op == "$rename":  # the target path is changed too
                self.take(op, value)

    def take(self, op: str, path: str) -> None:
        self.exact.setdefault(path, op)
        for parent in _parents(path):
            self.under.setdefault(parent, path)

    def conflict(self, path: str) -> str | None:
        """The taken path ``path`` conflicts with, or None."""
        if path in self.exact:
            return path
        below = self.under.get(path)
        if below is not None:
            return below
        for parent in _parents(path):
            if parent in self.exact:
                return parent
        return None


def _one(op: str, path: str, value: Any, array_filters: tuple[Mapping[str, Any], ...]) -> "Update":
    """The Update of one operator on one checked path, rendered as it is made.

    Made without ``__init__`` (one Python call fewer), as every field is known; the
    document it sends is built here, where :meth:`Update._to_send` would build it at
    the first send.
    """
    made: Update = _NEW(Update)
    made._entries = ((op, path, value),)
    made._array_filters = array_filters
    made._pipeline = None
    made._rendered = {op: {path: value}}
    made._scalar_values = type(value) in SCALAR_TYPES or op not in STORING_OPERATORS
    return made


_Operator = TypeVar("_Operator", bound=Callable[..., "Update"])


def _one_field_start(op: str, *, numbers: bool = False) -> Callable[[_Operator], _Operator]:
    """Give a field operator's method (``set``, ``inc``...) a short path for its common start.

    ``Update.inc(stock=1)`` (one field seen before, given by keyword, on an empty
    Update; a number where the operator needs one) is made in the method's own call,
    as :func:`_one` makes it; any other call runs the method.
    """
    stores = op in STORING_OPERATORS

    def decorate(method: _Operator) -> _Operator:
        def operator(
            self: "Update",
            fields: Mapping[str, Any] | FieldArg | None = None,
            value: Any = _MISSING,
            /,
            **kwargs: Any,
        ) -> "Update":
            if fields is None and value is _MISSING and len(kwargs) == 1 and not self._entries:
                for path, given in kwargs.items():
                    kind = type(given)
                    if (
                        path in KNOWN_UPDATE_PATHS
                        and self._pipeline is None
                        and (not numbers or kind is int or kind is float)
                    ):
                        # _one's work, written out: this is every common start.
                        made: Update = _NEW(Update)
                        made._entries = ((op, path, given),)
                        made._array_filters = self._array_filters
                        made._pipeline = None
                        made._rendered = {op: {path: given}}
                        made._scalar_values = not stores or kind in SCALAR_TYPES
                        return made
            return method(self, fields, value, **kwargs)

        return cast(_Operator, functools.wraps(method)(operator))

    return decorate


class _UpdateType(BuilderType):
    """The metaclass of :class:`Update`: its methods answer on the class too."""


class Update(metaclass=_UpdateType):
    """An immutable update; ``to_mongo()`` gives the update document (or pipeline).

    Start from any operator on the class and chain more: ``Update.set(price=7.99)
    .inc(stock=-1)``. Fields are given as keywords, as a mapping of dotted paths,
    or as a field and a value (``Update.set(F.dims.w, 3)``).

    Example:
        >>> Update.set(price=7.99).inc(stock=-1).to_mongo()
        {'$set': {'price': 7.99}, '$inc': {'stock': -1}}
    """

    __slots__ = ("_array_filters", "_entries", "_pipeline", "_rendered", "_scalar_values")

    def __init__(
        self,
        entries: tuple[tuple[str, str, Any], ...] = (),
        array_filters: tuple[Mapping[str, Any], ...] = (),
        pipeline: tuple[Mapping[str, Any], ...] | None = None,
    ) -> None:
        self._entries = entries
        self._array_filters = array_filters
        self._pipeline = pipeline
        self._rendered: dict[str, Any] | list[dict[str, Any]] | None = None
        #: True when nothing it stores is a document or an array, so the collections'
        #: stored-name check has nothing to look at; False: check it.
        self._scalar_values = False

    def _add(self, op: str, pairs: Sequence[tuple[str, Any]]) -> "Update":
        if self._pipeline is not None:
            raise InvalidQuery(
                "this update is a pipeline; an update is either operators or a pipeline"
            )
        entries = self._entries
        if not entries and len(pairs) == 1:  # the common one-field start: nothing to clash
            path, value = pairs[0]
            return _one(op, path, value, self._array_filters)
        if len(entries) + len(pairs) <= _PAIRWISE:
            return Update(_added_pairwise(entries, op, pairs), self._array_filters)
        touched = _Touched(entries)
        for path, value in pairs:
            other = touched.conflict(path)
            if other is not None:
                raise _conflict_error(other, touched.exact[other], path, op)
            touched.take(op, path)
            entries += ((op, path, value),)
        return Update(entries, self._array_filters)

    # -- field operators ---------------------------------------------------------

    @classmethod_or_method
    @_one_field_start("$set")
    def set(
        self,
        fields: Mapping[str, Any] | FieldArg | None = None,
        value: Any = _MISSING,
        /,
        **kwargs: Any,
    ) -> "Update":
        """Set fields to values (``$set``); values are stored as given."""
        return self._add("$set", _pairs("set", fields, value, kwargs))

    @classmethod_or_method
    @_one_field_start("$setOnInsert")
    def set_on_insert(
        self,
        fields: Mapping[str, Any] | FieldArg | None = None,
        value: Any = _MISSING,
        /,
        **kwargs: Any,
    ) -> "Update":
        """Set fields only when an upsert inserts (``$setOnInsert``)."""
        return self._add("$setOnInsert", _pairs("set_on_insert", fields, value, kwargs))

    @classmethod_or_method
    def unset(self, *fields: FieldArg) -> "Update":
        """Remove fields (``$unset``)."""
        if not fields:
            raise InvalidQuery("unset() needs at least one field")
        return self._add("$unset", [(field_name(f, positional=True), "") for f in fields])

    @classmethod_or_method
    @_one_field_start("$inc", numbers=True)
    def inc(
        self,
        fields: Mapping[str, Any] | FieldArg | None = None,
        value: Any = _MISSING,
        /,
        **kwargs: Any,
    ) -> "Update":
        """Add to numbers (``$inc``); a missing field starts from 0."""
        return self._add("$inc", _pairs("inc", fields, value, kwargs, True))

    @classmethod_or_method
    @_one_field_start("$mul", numbers=True)
    def mul(
        self,
        fields: Mapping[str, Any] | FieldArg | None = None,
        value: Any = _MISSING,
        /,
        **kwargs: Any,
    ) -> "Update":
        """Multiply numbers (``$mul``); a missing field becomes 0."""
        return self._add("$mul", _pairs("mul", fields, value, kwargs, True))

    @classmethod_or_method
    @_one_field_start("$min")
    def min(
        self,
        fields: Mapping[str, Any] | FieldArg | None = None,
        value: Any = _MISSING,
        /,
        **kwargs: Any,
    ) -> "Update":
        """Lower fields to the value when it is smaller (``$min``)."""
        return self._add("$min", _pairs("min", fields, value, kwargs))

    @classmethod_or_method
    @_one_field_start("$max")
    def max(
        self,
        fields: Mapping[str, Any] | FieldArg | None = None,
        value: Any = _MISSING,
        /,
        **kwargs: Any,
    ) -> "Update":
        """Raise fields to the value when it is larger (``$max``)."""
        return self._add("$max", _pairs("max", fields, value, kwargs))

    @classmethod_or_method
    def rename(self, fields: Mapping[str, str] | None = None, /, **kwargs: str) -> "Update":
        """Rename fields: ``rename(old="new")`` or ``rename({"a.old": "a.new"})``."""
        pairs = _pairs("rename", fields, _MISSING, kwargs)
        result = self
        for old, new in pairs:
            if not isinstance(new, str):
                raise InvalidQuery(f"rename() needs the new name of {old!r} as a str, not {new!r}")
            target = field_name(new)
            # The target path is changed too: nothing else may touch it.
            touched = _Touched(result._entries)
            other = touched.conflict(target)
            if other is not None:
                raise InvalidQuery(
                    f"rename target {target!r} conflicts with {other!r} "
                    f"({touched.exact[other]}) in the same update"
                )
            result = result._add("$rename", [(old, target)])
        return result

    @classmethod_or_method
    def current_date(
        self, *fields: FieldArg, type: Literal["date", "timestamp"] = "date"
    ) -> "Update":
        """Set fields to the server's current date or timestamp (``$currentDate``)."""
        if type not in ("date", "timestamp"):
            raise InvalidQuery(f"current_date() type must be 'date' or 'timestamp', not {type!r}")
        if not fields:
            raise InvalidQuery("current_date() needs at least one field")
        value: Any = True if type == "date" else {"$type": "timestamp"}
        return self._add("$currentDate", [(field_name(f, positional=True), value) for f in fields])

    # -- array operators ---------------------------------------------------------

    @classmethod_or_method
    def push(
        self,
        field: FieldArg,
        value: Any = _MISSING,
        /,
        *,
        each: Sequence[Any] | None = None,
        position: int | None = None,
        slice: int | None = None,
        sort: Any = None,
    ) -> "Update":
        """Append to an array (``$push``), with ``$each``/``$position``/``$slice``/``$sort``.

        Args:
            field: The array field.
            value: One value to append (or use ``each``).
            each: Several values to append.
            position: Insert at this index instead of the end.
            slice: Keep only this many elements afterwards (negative: the last ones).
            sort: Sort the array afterwards: 1, -1, or a sort document/Sort.
        """
        path = field_name(field, positional=True)
        modifiers = {"$position": position, "$slice": slice, "$sort": sort}
        if each is None and all(v is None for v in modifiers.values()):
            return self._add("$push", [(path, _each_if_operator("push", value))])
        items = _each("push", value, each)
        spec: dict[str, Any] = {"$each": items}
        for key, modifier in modifiers.items():
            if modifier is not None:
                spec[key] = render(modifier)
        return self._add("$push", [(path, spec)])

    @classmethod_or_method
    def add_to_set(
        self, field: FieldArg, value: Any = _MISSING, /, *, each: Sequence[Any] | None = None
    ) -> "Update":
        """Add values to an array unless already present (``$addToSet``)."""
        path = field_name(field, positional=True)
        if each is None:
            return self._add("$addToSet", [(path, _each_if_operator("add_to_set", value))])
        return self._add("$addToSet", [(path, {"$each": _each("add_to_set", value, each)})])

    @classmethod_or_method
    def pop(self, field: FieldArg, end: Literal["first", "last"] = "last") -> "Update":
        """Remove the first or last element of an array (``$pop``)."""
        if end not in ("first", "last"):
            raise InvalidQuery(f"pop() end must be 'first' or 'last', not {end!r}")
        return self._add(
            "$pop", [(field_name(field, positional=True), -1 if end == "first" else 1)]
        )

    @classmethod_or_method
    def pull(
        self,
        field: FieldArg,
        value: Any = _MISSING,
        /,
        *,
        where: "Filter | Mapping[str, Any] | None" = None,
    ) -> "Update":
        """Remove array elements equal to ``value``, or matching ``where`` (``$pull``).

        ``value`` is always a value. Conditions go in ``where``: a Filter on the
        elements' fields (``F.score < 5``) or operator conditions for scalar
        elements (``{"$gte": 6}``).
        """
        path = field_name(field, positional=True)
        if (value is _MISSING) == (where is None):
            raise InvalidQuery("pull() takes a value or where=..., exactly one of them")
        if where is not None:
            condition = where.to_mongo() if isinstance(where, Filter) else dict(where)
            return self._add("$pull", [(path, condition)])
        return self._add(
            "$pull", [(path, {"$eq": value} if matches_as_condition(value) else value)]
        )

    @classmethod_or_method
    def pull_all(self, field: FieldArg, values: Sequence[Any]) -> "Update":
        """Remove every element equal to one of ``values`` (``$pullAll``)."""
        if isinstance(values, str | bytes | Mapping) or not isinstance(values, Sequence):
            raise InvalidQuery(f"pull_all() takes a list of values, not {values!r}")
        return self._add("$pullAll", [(field_name(field, positional=True), list(values))])

    @classmethod_or_method
    def bit(
        self,
        field: FieldArg,
        *,
        and_: int | None = None,
        or_: int | None = None,
        xor: int | None = None,
    ) -> "Update":
        """Apply bitwise and/or/xor to an integer field (``$bit``)."""
        spec = {k: v for k, v in (("and", and_), ("or", or_), ("xor", xor)) if v is not None}
        if not spec or any(isinstance(v, bool) or not isinstance(v, int) for v in spec.values()):
            raise InvalidQuery("bit() needs and_=, or_= or xor= with an int")
        return self._add("$bit", [(field_name(field, positional=True), spec)])

    # -- array filters, pipelines, merging ---------------------------------------

    def array_filters(self, *filters: "Filter | Mapping[str, Any]") -> "Update":
        """Attach the conditions for ``$[identifier]`` paths; sent with the update."""
        rendered = tuple(f.to_mongo() if isinstance(f, Filter) else dict(f) for f in filters)
        return Update(self._entries, self._array_filters + rendered, self._pipeline)

    @classmethod
    def pipeline(cls, *stages: Mapping[str, Any]) -> "Update":
        """An update pipeline (``$set``/``$unset``/``$replaceWith``... stages with expressions).

        Example:
            >>> Update.pipeline({"$set": {"total": {"$add": ["$a", "$b"]}}}).to_mongo()
            [{'$set': {'total': {'$add': ['$a', '$b']}}}]
        """
        rendered: list[Mapping[str, Any]] = []
        for stage in stages:
            value = render(stage)
            rendered.extend(value if isinstance(value, list) else [value])
        if not rendered or not all(isinstance(s, Mapping) for s in rendered):
            raise InvalidQuery("Update.pipeline() needs one or more stage documents")
        return cls((), (), tuple(rendered))

    def __add__(self, other: "Update") -> "Update":
        if not isinstance(other, Update):
            return NotImplemented
        result = Update(self._entries, self._array_filters + other._array_filters, self._pipeline)
        for op, path, value in other._entries:
            result = result._add(op, [(path, value)])
        return result

    @property
    def array_filters_list(self) -> list[dict[str, Any]] | None:
        """The array filters to send with the update, or None."""
        if not self._array_filters:
            return None
        return [dict(f) for f in self._array_filters]

    def _to_send(self) -> dict[str, Any] | list[dict[str, Any]]:
        """The update document (or pipeline) to send, built once per Update.

        The builder is immutable, so an Update kept and sent again (a module-level
        constant, a bulk job's one update) renders once. Collections send this without
        changing it; :meth:`to_mongo` gives a fresh document to change.
        """
        rendered = self._rendered
        if rendered is None:
            rendered = self._rendered = self.to_mongo()
        return rendered

    def to_mongo(self) -> dict[str, Any] | list[dict[str, Any]]:
        """Return the update document (or the pipeline), freshly built."""
        if self._pipeline is not None:
            return [dict(stage) for stage in self._pipeline]
        if not self._entries:
            raise InvalidQuery("the update is empty; add an operator, e.g. Update.set(a=1)")
        document: dict[str, Any] = {}
        for op, path, value in self._entries:
            document.setdefault(op, {})[path] = value
        return document

    def __repr__(self) -> str:
        if not self._entries and self._pipeline is None:
            return "Update()"
        return f"Update({self.to_mongo()!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Update):
            return NotImplemented
        return (self._entries, self._array_filters, self._pipeline) == (
            other._entries,
            other._array_filters,
            other._pipeline,
        )

    __hash__ = None  # type: ignore[assignment]


def _each(method: str, value: Any, each: Sequence[Any] | None) -> list[Any]:
    """The values of a ``$each``: ``each``, or the single value."""
    if each is not None:
        if value is not _MISSING:
            raise InvalidQuery(f"{method}() takes a value or each=[...], not both")
        if isinstance(each, str | bytes | Mapping) or not isinstance(each, Sequence):
            raise InvalidQuery(f"{method}() each= takes a list of values, not {each!r}")
        return list(each)
    if value is _MISSING:
        raise InvalidQuery(f"{method}() needs a value or each=[...]")
    return [value]


def _each_if_operator(method: str, value: Any) -> Any:
    """Send one value as itself, or as ``{"$each": [value]}`` if it would read as modifiers."""
    if value is _MISSING:
        raise InvalidQuery(f"{method}() needs a value or each=[...]")
    return {"$each": [value]} if is_operator_document(value) else value
