"""Aggregation expressions: immutable values that render to expression documents.

A :class:`~mongocat.Field` (``F.price``) stands where ``"$price"`` is expected, and
so does the string itself. Strings starting with ``$`` are field paths in
aggregation, as in MongoDB; wrap a string that must stay text in
:func:`~mongocat.expr.literal`.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from ._paths import FieldPath, render

__all__ = ["Expr", "operator", "render_expression"]


class Expr:
    """An aggregation expression; ``to_mongo()`` gives the expression document.

    Expressions compare and combine with the builder functions of
    :mod:`mongocat.expr` and :mod:`mongocat.acc`.
    """

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def to_mongo(self) -> Any:
        """Return the expression, freshly rendered."""
        return render_expression(self._value)

    def __repr__(self) -> str:
        return f"Expr({self.to_mongo()!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expr) and self.to_mongo() == other.to_mongo()

    __hash__ = None  # type: ignore[assignment]


def render_expression(value: Any) -> Any:
    """Render expression builders, fields and filters inside ``value``, recursively."""
    if isinstance(value, Expr):
        return render_expression(value._value)
    if isinstance(value, FieldPath):
        return f"${value.path}"
    rendered = render(value)  # Filter, Sort, Pipeline, ...: anything with to_mongo()
    if rendered is not value:
        return rendered
    if isinstance(value, Mapping):
        return {key: render_expression(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return [render_expression(v) for v in value]
    return value


def operator(name: str, *args: Any) -> Expr:
    """``{name: arg}`` for one argument, ``{name: [args...]}`` for several."""
    return Expr({name: args[0] if len(args) == 1 else list(args)})


def named(name: str, **arguments: Any) -> Expr:
    """``{name: {argument: value, ...}}``, leaving out arguments that are None."""
    return Expr({name: {k: v for k, v in arguments.items() if v is not None}})


def listed(name: str, values: Sequence[Any]) -> Expr:
    """``{name: [values...]}`` even for one value."""
    return Expr({name: list(values)})
