"""Aggregation expression operators: ``expr.multiply(F.qty, F.price)``.

Each function returns an :class:`~mongocat.Expr`. Arguments are expressions:
``F.field`` paths, :func:`var` variables, other expressions, or constants. A ``str``
is always a constant: one starting with ``$`` is refused (``InvalidQuery``), since
MongoDB would read it as a field path; :func:`literal` keeps such text as text.

Example:
    >>> from mongocat import F, expr
    >>> expr.round(expr.multiply(F.qty, F.price), 2).to_mongo()
    {'$round': [{'$multiply': ['$qty', '$price']}, 2]}
"""

import re
from collections.abc import Sequence
from typing import Any, Final

from ._errors import InvalidQuery
from ._expressions import Expr, Literal, Variable, listed, named, operator

_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*")

__all__ = [
    "abs", "add", "and_", "array_elem_at", "ceil", "cmp", "concat", "concat_arrays", "cond",
    "convert", "date_add", "date_diff", "date_to_string", "date_trunc", "day_of_month",
    "divide", "eq", "exp", "filter", "floor", "get_field", "gt", "gte", "if_null", "in_",
    "literal", "ln", "log10", "lt", "lte", "map", "merge_objects", "meta", "mod", "month",
    "multiply",
    "ne", "not_", "or_", "pow", "reduce", "regex_match", "round", "size", "slice", "split",
    "sqrt", "str_len_cp", "substr_cp", "subtract", "switch", "to_decimal", "to_double",
    "to_int", "to_lower", "to_string", "to_upper", "trim", "trunc", "type_", "var", "year",
]  # fmt: skip

# -- arithmetic --------------------------------------------------------------------


def add(*values: Any) -> Expr:
    """Sum numbers (or add milliseconds to a date): ``$add``."""
    return listed("$add", values)


def subtract(a: Any, b: Any) -> Expr:
    """``a - b``: ``$subtract``."""
    return operator("$subtract", a, b)


def multiply(*values: Any) -> Expr:
    """Multiply numbers: ``$multiply``."""
    return listed("$multiply", values)


def divide(a: Any, b: Any) -> Expr:
    """``a / b``: ``$divide``."""
    return operator("$divide", a, b)


def mod(a: Any, b: Any) -> Expr:
    """The remainder of ``a / b``: ``$mod``."""
    return operator("$mod", a, b)


def round(value: Any, places: int = 0) -> Expr:
    """Round to ``places`` decimal places: ``$round``."""
    return operator("$round", value, places)


def trunc(value: Any, places: int = 0) -> Expr:
    """Truncate to ``places`` decimal places: ``$trunc``."""
    return operator("$trunc", value, places)


def abs(value: Any) -> Expr:
    """The absolute value: ``$abs``."""
    return operator("$abs", value)


def ceil(value: Any) -> Expr:
    """Round up: ``$ceil``."""
    return operator("$ceil", value)


def floor(value: Any) -> Expr:
    """Round down: ``$floor``."""
    return operator("$floor", value)


def pow(base: Any, exponent: Any) -> Expr:
    """``base ** exponent``: ``$pow``."""
    return operator("$pow", base, exponent)


def sqrt(value: Any) -> Expr:
    """The square root: ``$sqrt``."""
    return operator("$sqrt", value)


def exp(value: Any) -> Expr:
    """``e ** value``: ``$exp``."""
    return operator("$exp", value)


def ln(value: Any) -> Expr:
    """The natural logarithm: ``$ln``."""
    return operator("$ln", value)


def log10(value: Any) -> Expr:
    """The base-10 logarithm: ``$log10``."""
    return operator("$log10", value)


# -- comparison and boolean --------------------------------------------------------


def eq(a: Any, b: Any) -> Expr:
    """``a == b``: ``$eq``."""
    return listed("$eq", (a, b))


def ne(a: Any, b: Any) -> Expr:
    """``a != b``: ``$ne``."""
    return listed("$ne", (a, b))


def gt(a: Any, b: Any) -> Expr:
    """``a > b``: ``$gt``."""
    return listed("$gt", (a, b))


def gte(a: Any, b: Any) -> Expr:
    """``a >= b``: ``$gte``."""
    return listed("$gte", (a, b))


def lt(a: Any, b: Any) -> Expr:
    """``a < b``: ``$lt``."""
    return listed("$lt", (a, b))


def lte(a: Any, b: Any) -> Expr:
    """``a <= b``: ``$lte``."""
    return listed("$lte", (a, b))


def cmp(a: Any, b: Any) -> Expr:
    """-1, 0 or 1 as ``a`` is less than, equal to or greater than ``b``: ``$cmp``."""
    return listed("$cmp", (a, b))


def and_(*values: Any) -> Expr:
    """True when every value is true: ``$and``."""
    return listed("$and", values)


def or_(*values: Any) -> Expr:
    """True when any value is true: ``$or``."""
    return listed("$or", values)


def not_(value: Any) -> Expr:
    """The boolean opposite: ``$not``."""
    return listed("$not", (value,))


# -- conditional -------------------------------------------------------------------


def cond(condition: Any, then: Any, otherwise: Any) -> Expr:
    """``then`` if ``condition`` else ``otherwise``: ``$cond``."""
    return named("$cond", **{"if": condition, "then": then, "else": otherwise})


def if_null(*values: Any) -> Expr:
    """The first value that is not null or missing: ``$ifNull``."""
    return listed("$ifNull", values)


def switch(branches: Sequence[tuple[Any, Any]], default: Any = None) -> Expr:
    """The ``then`` of the first true ``case``: ``$switch``."""
    spec: dict[str, Any] = {"branches": [{"case": c, "then": t} for c, t in branches]}
    if default is not None:
        spec["default"] = default
    return Expr({"$switch": spec})


# -- strings -----------------------------------------------------------------------


def concat(*values: Any) -> Expr:
    """Join strings: ``$concat``."""
    return listed("$concat", values)


def to_lower(value: Any) -> Expr:
    """Lower-case: ``$toLower``."""
    return operator("$toLower", value)


def to_upper(value: Any) -> Expr:
    """Upper-case: ``$toUpper``."""
    return operator("$toUpper", value)


def substr_cp(value: Any, start: Any, length: Any) -> Expr:
    """A substring by code points: ``$substrCP``."""
    return operator("$substrCP", value, start, length)


def split(value: Any, delimiter: Any) -> Expr:
    """Split a string into an array: ``$split``."""
    return operator("$split", value, delimiter)


def trim(value: Any, chars: Any = None) -> Expr:
    """Strip whitespace (or ``chars``) from both ends: ``$trim``."""
    return named("$trim", input=value, chars=chars)


def regex_match(value: Any, regex: Any, options: str | None = None) -> Expr:
    """Whether the string matches: ``$regexMatch``."""
    return named("$regexMatch", input=value, regex=regex, options=options)


def str_len_cp(value: Any) -> Expr:
    """The length in code points: ``$strLenCP``."""
    return operator("$strLenCP", value)


# -- arrays ------------------------------------------------------------------------


def size(value: Any) -> Expr:
    """The number of elements: ``$size``."""
    return operator("$size", value)


def filter(
    input: Any,
    cond: Any,
    as_: str | None = None,
    limit: Any = None,
) -> Expr:
    """The elements for which ``cond`` is true (``$$this``, or ``$$<as_>``): ``$filter``."""
    return named("$filter", input=input, cond=cond, limit=limit, **({"as": as_} if as_ else {}))


def map(input: Any, in_: Any, as_: str | None = None) -> Expr:
    """Apply ``in_`` to each element: ``$map``."""
    return named("$map", input=input, **({"as": as_} if as_ else {}), **{"in": in_})


def reduce(input: Any, initial_value: Any, in_: Any) -> Expr:
    """Fold the array (``$$value``, ``$$this``): ``$reduce``."""
    return named("$reduce", input=input, initialValue=initial_value, **{"in": in_})


def in_(value: Any, array: Any) -> Expr:
    """Whether ``value`` is an element of ``array``: ``$in``."""
    return listed("$in", (value, array))


def array_elem_at(array: Any, index: Any) -> Expr:
    """The element at ``index`` (negative counts from the end): ``$arrayElemAt``."""
    return operator("$arrayElemAt", array, index)


def slice(array: Any, count: Any, position: Any = None) -> Expr:
    """A part of the array: ``$slice``."""
    args = (array, count) if position is None else (array, position, count)
    return listed("$slice", args)


def concat_arrays(*arrays: Any) -> Expr:
    """Join arrays: ``$concatArrays``."""
    return listed("$concatArrays", arrays)


# -- dates -------------------------------------------------------------------------


def year(date: Any) -> Expr:
    """The year of a date: ``$year``."""
    return operator("$year", date)


def month(date: Any) -> Expr:
    """The month (1-12): ``$month``."""
    return operator("$month", date)


def day_of_month(date: Any) -> Expr:
    """The day of the month (1-31): ``$dayOfMonth``."""
    return operator("$dayOfMonth", date)


def date_to_string(date: Any, format: str | None = None, timezone: str | None = None) -> Expr:
    """Format a date: ``$dateToString``."""
    return named("$dateToString", date=date, format=format, timezone=timezone)


def date_trunc(date: Any, unit: str, bin_size: int | None = None) -> Expr:
    """Truncate a date to a unit (``"day"``, ``"month"``, ...): ``$dateTrunc``."""
    return named("$dateTrunc", date=date, unit=unit, binSize=bin_size)


def date_add(start: Any, unit: str, amount: Any) -> Expr:
    """Add ``amount`` units to a date: ``$dateAdd``."""
    return named("$dateAdd", startDate=start, unit=unit, amount=amount)


def date_diff(start: Any, end: Any, unit: str) -> Expr:
    """The number of ``unit`` boundaries between two dates: ``$dateDiff``."""
    return named("$dateDiff", startDate=start, endDate=end, unit=unit)


# -- types and objects -------------------------------------------------------------


def to_string(value: Any) -> Expr:
    """Convert to a string: ``$toString``."""
    return operator("$toString", value)


def to_int(value: Any) -> Expr:
    """Convert to an int: ``$toInt``."""
    return operator("$toInt", value)


def to_double(value: Any) -> Expr:
    """Convert to a double: ``$toDouble``."""
    return operator("$toDouble", value)


def to_decimal(value: Any) -> Expr:
    """Convert to a Decimal128: ``$toDecimal``."""
    return operator("$toDecimal", value)


def convert(value: Any, to: str, on_error: Any = None, on_null: Any = None) -> Expr:
    """Convert to a type, with fallbacks: ``$convert``."""
    return named("$convert", input=value, to=to, onError=on_error, onNull=on_null)


def type_(value: Any) -> Expr:
    """The BSON type name: ``$type``."""
    return operator("$type", value)


def merge_objects(*documents: Any) -> Expr:
    """Merge documents, later fields winning: ``$mergeObjects``."""
    return listed("$mergeObjects", documents)


def get_field(field: str, input: Any = None) -> Expr:
    """A field by name, also one with ``$`` or ``.`` in it: ``$getField``.

    Example:
        >>> get_field("$price").to_mongo()
        {'$getField': {'field': {'$literal': '$price'}}}
    """
    if not isinstance(field, str):
        raise InvalidQuery(f"get_field() takes the field's name as a str, not {field!r}")
    name = literal(field) if field.startswith("$") else field
    return named("$getField", field=name, input=input)


def literal(value: Any) -> Expr:
    """A value taken as is, never as a field path or expression: ``$literal``.

    Example:
        >>> literal("$5 off").to_mongo()
        {'$literal': '$5 off'}
    """
    return Expr({"$literal": Literal(value)})


#: What ``$meta`` can read.
META_KEYWORDS: Final = (
    "textScore",
    "indexKey",
    "searchScore",
    "searchHighlights",
    "searchScoreDetails",
    "searchSequenceToken",
    "vectorSearchScore",
    "score",
    "scoreDetails",
)


def meta(keyword: str) -> Expr:
    """A document's metadata: ``meta("vectorSearchScore")``, ``meta("searchScore")``.

    Example:
        >>> meta("searchScore").to_mongo()
        {'$meta': 'searchScore'}

    Raises:
        InvalidQuery: ``keyword`` is not one ``$meta`` knows.
    """
    if keyword not in META_KEYWORDS:
        raise InvalidQuery(
            f"meta() reads one of {', '.join(repr(k) for k in META_KEYWORDS)}, not {keyword!r}"
        )
    return Expr({"$meta": keyword})


def var(name: str) -> Expr:
    """A variable: ``var("ROOT")`` is ``"$$ROOT"``, ``var("this.qty")`` is ``"$$this.qty"``.

    System variables (``ROOT``, ``CURRENT``, ``NOW``, ``REMOVE``, ``DESCEND``,
    ``PRUNE``, ``KEEP``) and those that ``let``, ``map``, ``filter`` and ``reduce``
    define.

    Raises:
        InvalidQuery: ``name`` is not a variable name (letters, digits, ``_``, and
            ``.`` between parts).
    """
    if not isinstance(name, str) or not _VARIABLE.fullmatch(name):
        raise InvalidQuery(
            f"a variable name is letters, digits and '_' (with '.' before a field), such "
            f"as 'ROOT' or 'this.qty', not {name!r}"
        )
    return Expr(Variable(name))
