"""Query filters: ``F`` field paths and immutable :class:`Filter` values.

``F.price < 10`` is a Filter; ``&``, ``|`` and ``~`` combine filters. A value given to
a filter is always sent as a value: a mapping with ``$`` keys becomes ``{"$eq": ...}``
instead of an operator, so user input can never change a query's shape.
"""

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Self

from ._errors import InvalidQuery
from ._expressions import check_expression
from ._paths import (
    REMEMBERED,
    SCALAR_TYPES,
    FieldPath,
    check_path,
    is_operator_document,
    is_pattern,
    matches_as_condition,
    render,
)

if TYPE_CHECKING:
    from ._sort import Sort

__all__ = ["F", "Field", "Filter", "GeoJSON", "empty_by_accident"]


class _Ops:
    """Operator conditions on one field, in the order given: ``{"$gt": 1, "$lt": 5}``."""

    __slots__ = ("items",)

    def __init__(self, items: tuple[tuple[str, Any], ...]) -> None:
        self.items = items

    def render(self) -> dict[str, Any]:
        return {op: _render_operand(value) for op, value in self.items}


class _Clauses:
    """The sub-filters of ``$and``, ``$or`` or ``$nor``."""

    __slots__ = ("filters",)

    def __init__(self, filters: tuple["Filter", ...]) -> None:
        self.filters = filters

    def render(self) -> list[dict[str, Any]]:
        return [f.to_mongo() for f in self.filters]


def _render_operand(value: Any) -> Any:
    """Render what a builder put in an operator: sub-filters and conditions, else the value."""
    if isinstance(value, _Ops):
        return value.render()
    if isinstance(value, Filter):
        return value.to_mongo()
    if isinstance(value, _Clauses):
        return value.render()
    return value


# What a filter holds besides values: rendered by to_mongo(), found by exact type.
_NODES: Final = frozenset({_Ops, _Clauses})


def _literal(value: Any) -> Any:
    """Wrap an equality value that would read as operators or a pattern in ``$eq``."""
    return _Ops((("$eq", value),)) if matches_as_condition(value) else value


class Filter:
    """An immutable query filter; ``to_mongo()`` gives the filter document.

    Build filters from :data:`F` (``F.price < 10``) and combine them with ``&``
    (all), ``|`` (any) and ``~`` (not). Raw filter documents stay accepted
    everywhere; :meth:`raw` turns one into a Filter on purpose.

    Example:
        >>> ((F.price < 10) & (F.stock > 0)).to_mongo()
        {'price': {'$lt': 10}, 'stock': {'$gt': 0}}
    """

    __slots__ = ("_document", "_items")

    def __init__(self, items: tuple[tuple[str, Any], ...] = ()) -> None:
        if type(items) is not tuple:
            raise InvalidQuery(
                f"build a Filter from F (F.sku == 'W-1') or wrap a raw filter document with "
                f"Filter.raw({{...}}); Filter() itself takes no {type(items).__name__}"
            )
        self._items = items
        #: The document to send, where it was built with the filter (``F.sku == "W-1"``:
        #: no operator in it, so nothing to refuse); shared, so never changed. None:
        #: :meth:`to_mongo` builds it, and it is checked as any filter document is.
        self._document: dict[str, Any] | None = None

    # -- construction ------------------------------------------------------------

    @classmethod
    def raw(cls, document: Mapping[str, Any]) -> Self:
        """Wrap a raw filter document, sent as written (no checks: the escape hatch).

        Example:
            >>> Filter.raw({"$where": "sleep(1)"}).to_mongo()
            {'$where': 'sleep(1)'}
        """
        if not isinstance(document, Mapping):
            raise InvalidQuery(f"Filter.raw() takes a mapping, not {type(document).__name__}")
        return cls(tuple(document.items()))

    @classmethod
    def everything(cls) -> "Filter":
        """Match every document, on purpose: the filter for writing to all of them.

        ``update_many`` and ``delete_many`` refuse an empty builder filter (such as
        ``Filter.all(*conditions)`` with no conditions), which would touch every
        document by accident; this one says that is the point.

        Example:
            >>> Filter.everything().to_mongo()
            {}
        """
        return _EVERYTHING

    @classmethod
    def all(cls, *filters: "Filter | Mapping[str, Any]") -> "Filter":
        """Match documents that match every filter (``&``; an empty call matches all)."""
        result = cls()
        for f in filters:
            result = result & _as_filter(f)
        return result

    @classmethod
    def any(cls, *filters: "Filter | Mapping[str, Any]") -> "Filter":
        """Match documents that match at least one filter (``$or``)."""
        if not filters:
            raise InvalidQuery("Filter.any() needs at least one filter")
        return cls._logical("$or", [_as_filter(f) for f in filters])

    @classmethod
    def nor(cls, *filters: "Filter | Mapping[str, Any]") -> "Filter":
        """Match documents that match none of the filters (``$nor``)."""
        if not filters:
            raise InvalidQuery("Filter.nor() needs at least one filter")
        return cls._logical("$nor", [_as_filter(f) for f in filters])

    @classmethod
    def text(
        cls,
        search: str,
        *,
        language: str | None = None,
        case_sensitive: bool | None = None,
        diacritic_sensitive: bool | None = None,
    ) -> "Filter":
        """Full-text search over the collection's text index (``$text``).

        Args:
            search: The words and "quoted phrases" to find; ``-word`` excludes.
            language: The language for stemming and stop words.
            case_sensitive: Match case exactly.
            diacritic_sensitive: Tell ``é`` from ``e``.
        """
        if not isinstance(search, str):
            raise InvalidQuery(f"Filter.text() searches a string, not {type(search).__name__}")
        spec: dict[str, Any] = {"$search": search}
        if language is not None:
            spec["$language"] = language
        if case_sensitive is not None:
            spec["$caseSensitive"] = case_sensitive
        if diacritic_sensitive is not None:
            spec["$diacriticSensitive"] = diacritic_sensitive
        return cls((("$text", spec),))

    @classmethod
    def json_schema(cls, schema: Mapping[str, Any]) -> "Filter":
        """Match documents valid against a JSON Schema (``$jsonSchema``)."""
        return cls((("$jsonSchema", schema),))

    @classmethod
    def expr(cls, expression: Any) -> "Filter":
        """Match documents for which an aggregation expression is true (``$expr``).

        Raises:
            InvalidQuery: A ``str`` in a document ``expression`` starts with ``$``; name
                fields with ``F`` (see :mod:`mongocat.expr`).
        """
        check_expression(expression, "F.expr()", operator=True)
        return cls((("$expr", render(expression)),))

    def comment(self, text: str) -> "Filter":
        """Return this filter with a ``$comment`` for the server's logs and profiler."""
        return self & Filter((("$comment", text),))

    @classmethod
    def _logical(cls, op: str, filters: Sequence["Filter"]) -> "Filter":
        flat: list[Filter] = []
        for f in filters:
            # (a | b) | c is $or: [a, b, c].
            if len(f._items) == 1 and f._items[0][0] == op and isinstance(f._items[0][1], _Clauses):
                flat.extend(f._items[0][1].filters)
            else:
                flat.append(f)
        return cls(((op, _Clauses(tuple(flat))),))

    # -- combination -------------------------------------------------------------

    def __and__(self, other: "Filter | Mapping[str, Any]") -> "Filter":
        other = _as_filter(other)
        if not self._items:
            return other
        if not other._items:
            return self
        merged = dict(self._items)
        for key, value in other._items:
            if key not in merged:
                merged[key] = value
                continue
            mine = merged[key]
            # (F.a > 1) & (F.a < 5) is {"a": {"$gt": 1, "$lt": 5}} when no operator repeats.
            if (
                isinstance(mine, _Ops)
                and isinstance(value, _Ops)
                and not {op for op, _ in mine.items} & {op for op, _ in value.items}
                and not key.startswith("$")
            ):
                merged[key] = _Ops(mine.items + value.items)
                continue
            return Filter._logical("$and", [self, other])
        return Filter(tuple(merged.items()))

    def __rand__(self, other: Mapping[str, Any]) -> "Filter":
        return _as_filter(other) & self

    def __or__(self, other: "Filter | Mapping[str, Any]") -> "Filter":
        return Filter._logical("$or", [self, _as_filter(other)])

    def __ror__(self, other: Mapping[str, Any]) -> "Filter":
        return Filter._logical("$or", [_as_filter(other), self])

    def __invert__(self) -> "Filter":
        if len(self._items) == 1:
            key, value = self._items[0]
            if not key.startswith("$"):
                # A condition on one field: $not of its operators.
                ops = value if isinstance(value, _Ops) else _Ops((("$eq", value),))
                return Filter(((key, _Ops((("$not", ops),))),))
        return Filter((("$nor", _Clauses((self,))),))

    def __bool__(self) -> bool:
        raise InvalidQuery(
            "a Filter has no truth value: combine filters with & | ~ instead of "
            "and / or / not, and compare fields only inside a filter"
        )

    # -- rendering ---------------------------------------------------------------

    def to_mongo(self) -> dict[str, Any]:
        """Return the filter document, freshly built."""
        document = {}
        for key, value in self._items:  # a loop: a comprehension is a call before 3.12
            document[key] = value.render() if type(value) in _NODES else value
        return document

    def __repr__(self) -> str:
        return f"Filter({self.to_mongo()!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Filter):
            return self.to_mongo() == other.to_mongo()
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


_EVERYTHING: Final = Filter()
#: Makes a Filter without ``__init__`` (one Python call fewer), for items built here.
_NEW: Final = object.__new__


def empty_by_accident(filter: Filter) -> bool:
    """Whether ``filter`` has no conditions and was not made by ``Filter.everything()``."""
    return not filter._items and filter is not _EVERYTHING


def _as_filter(value: "Filter | Mapping[str, Any]") -> Filter:
    """Accept a Filter or a raw filter document."""
    if isinstance(value, Filter):
        return value
    if isinstance(value, Mapping):
        return Filter.raw(value)
    raise InvalidQuery(
        f"cannot combine a Filter with {type(value).__name__} {value!r}; use a Filter "
        "or a filter document"
    )


_REGEX_FLAGS: Final = (
    (re.IGNORECASE, "i"),
    (re.MULTILINE, "m"),
    (re.DOTALL, "s"),
    (re.VERBOSE, "x"),
)

_BSON_TYPES: Final = frozenset(
    {
        "double", "string", "object", "array", "binData", "undefined", "objectId", "bool",
        "date", "null", "regex", "dbPointer", "javascript", "symbol", "int", "timestamp",
        "long", "decimal", "minKey", "maxKey", "number",
    }
)  # fmt: skip


class GeoJSON:
    """Small constructors for the GeoJSON shapes geospatial queries take."""

    @staticmethod
    def point(longitude: float, latitude: float) -> dict[str, Any]:
        """A point; GeoJSON puts the longitude first."""
        return {"type": "Point", "coordinates": [longitude, latitude]}

    @staticmethod
    def polygon(*rings: Sequence[Sequence[float]]) -> dict[str, Any]:
        """A polygon from closed rings of ``[longitude, latitude]`` positions."""
        for ring in rings:
            if len(ring) < 4 or list(ring[0]) != list(ring[-1]):
                raise InvalidQuery(
                    "a GeoJSON polygon ring needs at least 4 positions and must end where it starts"
                )
        return {"type": "Polygon", "coordinates": [[list(p) for p in ring] for ring in rings]}

    @staticmethod
    def line(*positions: Sequence[float]) -> dict[str, Any]:
        """A line string through ``[longitude, latitude]`` positions."""
        return {"type": "LineString", "coordinates": [list(p) for p in positions]}


class Field(FieldPath):
    """A field path that makes filters: ``F.price < 10``, ``F.tags.all_(["a"])``.

    Reach sub-fields with attributes (``F.dimensions.width``) or indexing
    (``F["dimensions.width"]``, ``F.items[0].qty``); use indexing for a field whose
    name is also a method name (``F.box["size"]``).
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> "Field":
        if name.startswith("__"):
            raise AttributeError(name)
        return _field(f"{self._path}.{name}")

    def __getitem__(self, key: str | int) -> "Field":
        if isinstance(key, bool):
            raise InvalidQuery(f"index {self._path!r} with a str or an int, not {key!r}")
        if isinstance(key, int):
            if key < 0:
                raise InvalidQuery(f"array index {key} of {self._path!r} must not be negative")
            return Field(f"{self._path}.{key}")
        return Field(f"{self._path}.{check_path(key)}")

    def __repr__(self) -> str:
        return f"F[{self._path!r}]"

    def _op(self, op: str, value: Any) -> Filter:
        made: Filter = _NEW(Filter)
        made._items = ((self._path, _Ops(((op, value),))),)
        made._document = None
        return made

    # -- comparison --------------------------------------------------------------

    def __eq__(self, value: object) -> Filter:  # type: ignore[override]
        if type(value) in SCALAR_TYPES:  # the common case: a value that is only a value
            made: Filter = _NEW(Filter)
            path = self._path
            made._items = ((path, value),)
            # A field equal to a value holds no operator (unless the path is one:
            # Field("$where")), so what it sends needs no check for JavaScript.
            made._document = None if path[:1] == "$" else {path: value}
            return made
        return Filter(((self._path, _literal(value)),))

    def __ne__(self, value: object) -> Filter:  # type: ignore[override]
        if is_pattern(value):  # $ne refuses a pattern; not equal to the stored pattern
            return self._op("$not", _Ops((("$eq", value),)))
        return self._op("$ne", value)

    def __lt__(self, value: Any) -> Filter:
        return self._op("$lt", _ordered(self._path, "<", value))

    def __le__(self, value: Any) -> Filter:
        return self._op("$lte", _ordered(self._path, "<=", value))

    def __gt__(self, value: Any) -> Filter:
        return self._op("$gt", _ordered(self._path, ">", value))

    def __ge__(self, value: Any) -> Filter:
        return self._op("$gte", _ordered(self._path, ">=", value))

    __hash__ = None  # type: ignore[assignment]

    def eq(self, value: Any) -> Filter:
        """Match an exact value, always as ``{"$eq": value}``."""
        return self._op("$eq", value)

    def in_(self, values: Iterable[Any]) -> Filter:
        """Match any of ``values`` (``$in``).

        MongoDB refuses a document with ``$`` keys inside ``$in`` and matches a pattern
        there as a regex; such values are matched with ``$or`` of ``$eq`` instead, so
        they stay values (use :meth:`regex` for a pattern match).
        """
        plain, operator_like = _split_values(values, "in_")
        if not operator_like:
            return self._op("$in", plain)
        alternatives = [self._op("$in", plain)] if plain else []
        return Filter.any(*alternatives, *(self.eq(v) for v in operator_like))

    def nin(self, values: Iterable[Any]) -> Filter:
        """Match none of ``values`` (``$nin``); ``$``-keyed documents and patterns stay values."""
        plain, operator_like = _split_values(values, "nin")
        if not operator_like:
            return self._op("$nin", plain)
        alternatives = [self._op("$nin", plain)] if plain else []
        return Filter.all(*alternatives, *(self != v for v in operator_like))

    # -- element -----------------------------------------------------------------

    def exists(self, exists: bool = True) -> Filter:
        """Match documents that have (or, with False, lack) the field."""
        return self._op("$exists", bool(exists))

    def type_(self, *types: str | int) -> Filter:
        """Match values of BSON type(s), by alias (``"string"``) or number."""
        if not types:
            raise InvalidQuery("type_() needs at least one BSON type, e.g. type_('string')")
        for t in types:
            if isinstance(t, str) and t not in _BSON_TYPES:
                raise InvalidQuery(
                    f"unknown BSON type alias {t!r}; use one of {', '.join(sorted(_BSON_TYPES))}"
                )
        return self._op("$type", types[0] if len(types) == 1 else list(types))

    # -- evaluation --------------------------------------------------------------

    def regex(self, pattern: "str | re.Pattern[str]", options: str = "") -> Filter:
        """Match strings against a regular expression (``$regex``).

        Args:
            pattern: The pattern, or a compiled ``re.Pattern`` whose flags become options.
            options: Letters from ``imsx`` (case-insensitive, multi-line, dot-all, verbose).
        """
        if isinstance(pattern, re.Pattern):
            flags = "".join(letter for flag, letter in _REGEX_FLAGS if pattern.flags & flag)
            options = "".join(sorted(set(options + flags)))
            pattern = pattern.pattern
        if not isinstance(pattern, str):
            raise InvalidQuery(f"regex() takes a str or re.Pattern, not {type(pattern).__name__}")
        if set(options) - set("imsxu"):
            raise InvalidQuery(f"regex options {options!r}: use letters from 'imsx'")
        ops: tuple[tuple[str, Any], ...] = (("$regex", pattern),)
        if options:
            ops += (("$options", options),)
        return Filter(((self._path, _Ops(ops)),))

    def mod(self, divisor: int, remainder: int) -> Filter:
        """Match numbers whose remainder by ``divisor`` is ``remainder`` (``$mod``)."""
        if divisor == 0:
            raise InvalidQuery("mod() divisor must not be 0")
        return self._op("$mod", [divisor, remainder])

    # -- arrays ------------------------------------------------------------------

    def all_(self, values: Iterable[Any]) -> Filter:
        """Match arrays that contain every one of ``values`` (``$all``).

        A pattern among ``values`` must be in the array as a stored pattern (``$eq``),
        since ``$all`` would match it as a regex.
        """
        items = _values(values, "all_")
        patterns = [v for v in items if is_pattern(v)]
        if not patterns:
            return self._op("$all", items)
        result = Filter.all(*(self.eq(p) for p in patterns))
        plain = [v for v in items if not is_pattern(v)]
        return self._op("$all", plain) & result if plain else result

    def elem_match(self, condition: "Filter | Mapping[str, Any]") -> Filter:
        """Match arrays with an element that meets ``condition`` (``$elemMatch``).

        ``condition`` is a filter on the elements' fields (``F.qty > 2``) or, for
        arrays of scalars, operator conditions (``{"$gte": 80, "$lt": 85}``).
        """
        if isinstance(condition, Filter):
            return self._op("$elemMatch", condition)
        if isinstance(condition, Mapping):
            return self._op("$elemMatch", dict(condition))
        raise InvalidQuery(f"elem_match() takes a Filter or a mapping, not {condition!r}")

    def size(self, length: int) -> Filter:
        """Match arrays of exactly ``length`` elements (``$size``)."""
        if not isinstance(length, int) or isinstance(length, bool) or length < 0:
            raise InvalidQuery(f"size() takes a non-negative int, not {length!r}")
        return self._op("$size", length)

    # -- bitwise -----------------------------------------------------------------

    def bits_all_set(self, mask: int | Sequence[int]) -> Filter:
        """Match numbers with all of these bits set (``$bitsAllSet``)."""
        return self._op("$bitsAllSet", _mask(mask))

    def bits_any_set(self, mask: int | Sequence[int]) -> Filter:
        """Match numbers with any of these bits set (``$bitsAnySet``)."""
        return self._op("$bitsAnySet", _mask(mask))

    def bits_all_clear(self, mask: int | Sequence[int]) -> Filter:
        """Match numbers with all of these bits clear (``$bitsAllClear``)."""
        return self._op("$bitsAllClear", _mask(mask))

    def bits_any_clear(self, mask: int | Sequence[int]) -> Filter:
        """Match numbers with any of these bits clear (``$bitsAnyClear``)."""
        return self._op("$bitsAnyClear", _mask(mask))

    # -- geospatial --------------------------------------------------------------

    def near(
        self,
        point: Mapping[str, Any],
        *,
        max_distance: float | None = None,
        min_distance: float | None = None,
    ) -> Filter:
        """Sort by distance from a GeoJSON point, nearest first (``$near``; 2dsphere)."""
        return self._op("$near", _near(point, max_distance, min_distance))

    def near_sphere(
        self,
        point: Mapping[str, Any],
        *,
        max_distance: float | None = None,
        min_distance: float | None = None,
    ) -> Filter:
        """Like :meth:`near`, measured on a sphere (``$nearSphere``)."""
        return self._op("$nearSphere", _near(point, max_distance, min_distance))

    def geo_within(self, geometry: Mapping[str, Any]) -> Filter:
        """Match geometries inside a GeoJSON polygon (``$geoWithin``)."""
        return self._op("$geoWithin", {"$geometry": dict(geometry)})

    def geo_intersects(self, geometry: Mapping[str, Any]) -> Filter:
        """Match geometries that intersect a GeoJSON geometry (``$geoIntersects``)."""
        return self._op("$geoIntersects", {"$geometry": dict(geometry)})

    # -- sorting -----------------------------------------------------------------

    def asc(self) -> "Sort":
        """Sort by this field, ascending."""
        from ._sort import Sort

        return Sort.asc(self)

    def desc(self) -> "Sort":
        """Sort by this field, descending."""
        from ._sort import Sort

        return Sort.desc(self)


def _values(values: Iterable[Any], method: str) -> list[Any]:
    """Return ``values`` as a list; a single string or mapping is a mistake."""
    if type(values) is not list and (
        isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable)
    ):
        raise InvalidQuery(f"{method}() takes a list of values, not {values!r}; write [{values!r}]")
    result = list(values)
    if method == "all_" and any(is_operator_document(v) for v in result):
        raise InvalidQuery(
            "all_() values must be plain values: a mapping with '$' keys would read as an "
            "operator; use elem_match() for conditions on elements"
        )
    return result


def _split_values(values: Iterable[Any], method: str) -> tuple[list[Any], list[Any]]:
    """Split ``values`` into plain ones and documents that would read as operators."""
    items = _values(values, method)
    plain = [v for v in items if not matches_as_condition(v)]
    return plain, [v for v in items if matches_as_condition(v)]


def _mask(mask: int | Sequence[int]) -> int | list[int]:
    """Check a bit mask: a non-negative int or a list of bit positions."""
    if isinstance(mask, int) and not isinstance(mask, bool) and mask >= 0:
        return mask
    if isinstance(mask, Sequence) and all(
        isinstance(b, int) and not isinstance(b, bool) and b >= 0 for b in mask
    ):
        return list(mask)
    raise InvalidQuery(f"a bit mask is a non-negative int or a list of bit positions, not {mask!r}")


def _near(
    point: Mapping[str, Any], max_distance: float | None, min_distance: float | None
) -> dict[str, Any]:
    if not isinstance(point, Mapping) or point.get("type") != "Point":
        raise InvalidQuery(
            f"near() takes a GeoJSON point such as GeoJSON.point(lng, lat), not {point!r}"
        )
    spec: dict[str, Any] = {"$geometry": dict(point)}
    if max_distance is not None:
        spec["$maxDistance"] = max_distance
    if min_distance is not None:
        spec["$minDistance"] = min_distance
    return spec


def _ordered(path: str, op: str, value: Any) -> Any:
    """Return ``value``, refusing NaN as a bound.

    MongoDB orders NaN below every number, so ``< nan`` matches nothing and ``> nan``
    every number, which is never what the code meant.
    """
    if type(value) is float and value != value:
        raise InvalidQuery(
            f"F.{path} {op} nan compares with NaN, which MongoDB orders below every number "
            f"(so the filter matches nothing or all numbers); check the value, or use "
            f"F.{path} == float('nan') to find NaN itself"
        )
    return value


@functools.lru_cache(maxsize=4096)
def _field(path: str) -> Field:
    """The Field for a checked path; Fields are immutable, so one serves every use."""
    return Field(check_path(path))


class _FieldRoot:
    """The ``F`` object: ``F.price`` and ``F["a.b"]`` start field paths.

    A name is answered once by ``__getattr__`` and kept in the instance's dict, so
    the next ``F.price`` is a plain attribute lookup (Fields are immutable); the dict
    starts again when it holds as many names as the checked-path caches do.
    """

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Field: ...

    else:

        def __getattr__(self, name: str) -> Field:
            if name.startswith("__"):
                raise AttributeError(name)
            field = _field(name)
            known = self.__dict__
            if len(known) >= REMEMBERED:
                known.clear()
            known[name] = field
            return field

    def __getitem__(self, path: str) -> Field:
        return _field(path)

    def __call__(self, path: str) -> Field:
        return _field(path)

    @staticmethod
    def expr(expression: Any) -> Filter:
        """Match documents for which an aggregation expression is true (``$expr``).

        Example:
            >>> from mongocat import expr
            >>> F.expr(expr.gt(F.spent, F.budget)).to_mongo()
            {'$expr': {'$gt': ['$spent', '$budget']}}
        """
        return Filter.expr(expression)

    def __repr__(self) -> str:
        return "F"


#: The root of field paths: ``F.price``, ``F["dimensions.width"]``, ``F.items[0].qty``.
F: Final = _FieldRoot()
