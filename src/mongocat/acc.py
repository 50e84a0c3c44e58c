"""Accumulators for ``Pipeline.group`` and window fields: ``acc.sum(F.qty)``.

Arguments are expressions, as in :mod:`mongocat.expr`: a ``str`` is a constant, and
one starting with ``$`` is refused; name fields with ``F``.

Example:
    >>> from mongocat import F, acc
    >>> acc.sum(F.qty).to_mongo()
    {'$sum': '$qty'}
"""

from typing import Any

from ._expressions import Expr, named, operator

__all__ = [
    "add_to_set", "avg", "bottom", "bottom_n", "count", "first", "first_n", "last", "last_n",
    "max", "max_n", "median", "min", "min_n", "percentile", "push", "std_dev_pop",
    "std_dev_samp", "sum", "top", "top_n",
]  # fmt: skip


def sum(value: Any = 1) -> Expr:
    """The sum (``sum()`` counts documents): ``$sum``."""
    return operator("$sum", value)


def avg(value: Any) -> Expr:
    """The average: ``$avg``."""
    return operator("$avg", value)


def min(value: Any) -> Expr:
    """The smallest value: ``$min``."""
    return operator("$min", value)


def max(value: Any) -> Expr:
    """The largest value: ``$max``."""
    return operator("$max", value)


def first(value: Any) -> Expr:
    """The value from the first document of each group: ``$first``."""
    return operator("$first", value)


def last(value: Any) -> Expr:
    """The value from the last document of each group: ``$last``."""
    return operator("$last", value)


def push(value: Any) -> Expr:
    """Every value, in an array: ``$push``."""
    return operator("$push", value)


def add_to_set(value: Any) -> Expr:
    """The distinct values, in an array: ``$addToSet``."""
    return operator("$addToSet", value)


def count() -> Expr:
    """The number of documents in each group: ``$count``."""
    return Expr({"$count": {}})


def std_dev_pop(value: Any) -> Expr:
    """The population standard deviation: ``$stdDevPop``."""
    return operator("$stdDevPop", value)


def std_dev_samp(value: Any) -> Expr:
    """The sample standard deviation: ``$stdDevSamp``."""
    return operator("$stdDevSamp", value)


def top(output: Any, sort_by: Any) -> Expr:
    """The ``output`` of the first document by ``sort_by``: ``$top``."""
    return named("$top", sortBy=sort_by, output=output)


def bottom(output: Any, sort_by: Any) -> Expr:
    """The ``output`` of the last document by ``sort_by``: ``$bottom``."""
    return named("$bottom", sortBy=sort_by, output=output)


def top_n(output: Any, sort_by: Any, n: Any) -> Expr:
    """The ``output`` of the first ``n`` documents by ``sort_by``: ``$topN``."""
    return named("$topN", n=n, sortBy=sort_by, output=output)


def bottom_n(output: Any, sort_by: Any, n: Any) -> Expr:
    """The ``output`` of the last ``n`` documents by ``sort_by``: ``$bottomN``."""
    return named("$bottomN", n=n, sortBy=sort_by, output=output)


def first_n(value: Any, n: Any) -> Expr:
    """The first ``n`` values: ``$firstN``."""
    return named("$firstN", input=value, n=n)


def last_n(value: Any, n: Any) -> Expr:
    """The last ``n`` values: ``$lastN``."""
    return named("$lastN", input=value, n=n)


def max_n(value: Any, n: Any) -> Expr:
    """The ``n`` largest values: ``$maxN``."""
    return named("$maxN", input=value, n=n)


def min_n(value: Any, n: Any) -> Expr:
    """The ``n`` smallest values: ``$minN``."""
    return named("$minN", input=value, n=n)


def median(value: Any) -> Expr:
    """The median (approximate method): ``$median``."""
    return named("$median", input=value, method="approximate")


def percentile(value: Any, p: list[float]) -> Expr:
    """The percentiles ``p`` (each in 0..1, approximate method): ``$percentile``."""
    return named("$percentile", input=value, p=list(p), method="approximate")
