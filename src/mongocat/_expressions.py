"""Aggregation expressions: immutable values that render to expression documents.

A :class:`~mongocat.Field` (``F.price``) is a field path; :func:`~mongocat.expr.var`
is a variable (``$$ROOT``, ``$$this``). A Python ``str`` is always text: one that
starts with ``$`` (which MongoDB would read as a field path or a variable) is refused
when the expression is built, so a value from a request can never reach another
field. :func:`~mongocat.expr.literal` keeps any text, ``$`` included, as it is.
"""

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ._errors import InvalidQuery
from ._paths import FieldPath, render

__all__ = ["Expr", "Literal", "Variable", "check_expression", "operator", "render_expression"]

#: How much of an offending value an error message quotes.
_QUOTED = 40
_IDENTIFIER_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


class Expr:
    """An aggregation expression; ``to_mongo()`` gives the expression document.

    Expressions compare and combine with the builder functions of
    :mod:`mongocat.expr` and :mod:`mongocat.acc`.
    """

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        check_expression(value, "an expression", operator=True)
        self._value = value

    def to_mongo(self) -> Any:
        """Return the expression, freshly rendered."""
        return render_expression(self._value)

    def __repr__(self) -> str:
        return f"Expr({self.to_mongo()!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expr) and self.to_mongo() == other.to_mongo()

    __hash__ = None  # type: ignore[assignment]


class Literal:
    """A value that rendering leaves untouched (the argument of ``$literal``)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def to_mongo(self) -> Any:
        """Return the value as it is."""
        return self.value


class Variable:
    """An aggregation variable, ``$$name``: a system one (``ROOT``) or a ``let``/``as``."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def to_mongo(self) -> str:
        """Return ``"$$name"``."""
        return f"$${self.name}"


def _quoted(value: str) -> str:
    text = repr(value)
    return text if len(text) <= _QUOTED else text[: _QUOTED - 4] + "...'"


def check_expression(value: Any, where: str, *, operator: bool = False) -> None:
    """Refuse what MongoDB would run rather than take as data, anywhere in ``value``.

    That is a ``str`` starting with ``$`` (a field path or variable) and a document
    key starting with ``$`` (an operator). Builders (:class:`Expr`, :class:`Literal`,
    :class:`Variable`, pipelines) were checked when they were made, and fields are
    paths by construction, so they are not walked again.

    Args:
        value: An expression argument.
        where: The place, for the message (``"project()"``).
        operator: ``value`` is itself an operator document (``{"$sum": ...}``), whose
            own keys may start with ``$``; what is inside them may not.

    Raises:
        InvalidQuery: Something in ``value`` would not be data.
    """
    if isinstance(value, str):
        if value.startswith("$"):
            quoted, name = _quoted(value), value.lstrip("$")[:30]
            if value.startswith("$$"):
                fix, what = f"expr.var({name!r})", "the variable"
            else:
                fix = f"F.{name}" if _IDENTIFIER_PATH.fullmatch(name) else f"F[{name!r}]"
                what = "the field"
            raise InvalidQuery(
                f"{quoted} in {where} would be read by MongoDB as a field path or variable: a "
                f"str here is text only. Write {fix} for {what}, or expr.literal({quoted}) "
                f"for the text"
            )
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not operator and isinstance(key, str) and key.startswith("$"):
                raise InvalidQuery(
                    f"the key {_quoted(key)} in {where} would be run by MongoDB as an "
                    f"operator: a document here is data only. Build the expression with "
                    f"mongocat.expr / mongocat.acc, keep the document with expr.literal(...), "
                    f"or write the stage with Pipeline.raw()"
                )
            check_expression(item, where)
    elif isinstance(value, list | tuple):
        for item in value:
            check_expression(item, where)


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
