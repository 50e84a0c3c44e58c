"""Projections: which fields a query returns. Immutable; MongoDB's rules checked early."""

from collections.abc import Mapping
from typing import Any, Literal

from ._errors import InvalidQuery
from ._paths import BuilderType, FieldPath, classmethod_or_method, field_name, render

__all__ = ["Projection"]


class _ProjectionType(BuilderType):
    """The metaclass of :class:`Projection`: its methods answer on the class too."""


class Projection(metaclass=_ProjectionType):
    """An immutable projection; ``to_mongo()`` gives the projection document.

    MongoDB refuses a projection that both includes and excludes fields (``_id``
    apart); that mistake raises :class:`~mongocat.InvalidQuery` when it is built.

    Example:
        >>> Projection.include("name", "price", id=False).to_mongo()
        {'name': 1, 'price': 1, '_id': 0}
    """

    __slots__ = ("_mode", "_spec")

    def __init__(
        self,
        spec: tuple[tuple[str, Any], ...] = (),
        mode: Literal["include", "exclude"] | None = None,
    ) -> None:
        self._spec = spec
        self._mode = mode

    def _add(
        self, path: str, value: Any, mode: Literal["include", "exclude"] | None
    ) -> "Projection":
        if any(path == existing for existing, _ in self._spec):
            raise InvalidQuery(f"the projection already names {path!r}; name each field once")
        if mode is not None and self._mode is not None and mode != self._mode and path != "_id":
            raise InvalidQuery(
                f"cannot {mode} {path!r} in a projection that {self._mode}s fields: MongoDB "
                "allows either inclusion or exclusion (only _id may be excluded from an "
                "inclusion); split it, or list only the fields to return"
            )
        new_mode = self._mode if path == "_id" and mode == "exclude" else (mode or self._mode)
        return Projection((*self._spec, (path, value)), new_mode)

    @classmethod_or_method
    def include(self, *fields: "str | FieldPath", id: bool = True) -> "Projection":
        """Return only ``fields`` (and ``_id`` unless ``id=False``)."""
        result = self
        for field in fields:
            result = result._add(field_name(field), 1, "include")
        if not id:
            result = result._add("_id", 0, "exclude")
        return result

    @classmethod_or_method
    def exclude(self, *fields: "str | FieldPath") -> "Projection":
        """Return every field but ``fields``."""
        result = self
        for field in fields:
            result = result._add(field_name(field), 0, "exclude")
        return result

    @classmethod_or_method
    def slice(self, field: "str | FieldPath", count: int, skip: int | None = None) -> "Projection":
        """Return part of an array: the first ``count`` (or last, if negative) elements.

        With ``skip``, return ``count`` elements after skipping ``skip``.
        """
        value: Any = count if skip is None else [skip, count]
        return self._add(field_name(field), {"$slice": value}, None)

    @classmethod_or_method
    def elem_match(self, field: "str | FieldPath", condition: Any) -> "Projection":
        """Return only the first array element that meets ``condition`` (a Filter or mapping)."""
        rendered = render(condition)
        if not isinstance(rendered, Mapping):
            raise InvalidQuery(f"elem_match() takes a Filter or a mapping, not {condition!r}")
        return self._add(field_name(field), {"$elemMatch": rendered}, "include")

    @classmethod_or_method
    def positional(self, field: "str | FieldPath") -> "Projection":
        """Return only the array element the query matched (``"field.$": 1``)."""
        return self._add(f"{field_name(field)}.$", 1, "include")

    @classmethod_or_method
    def text_score(self, field: str = "score") -> "Projection":
        """Return the text-search relevance as ``field`` (``{"$meta": "textScore"}``)."""
        return self._add(field_name(field), {"$meta": "textScore"}, None)

    def to_mongo(self) -> dict[str, Any]:
        """Return the projection document, freshly built."""
        return {path: dict(v) if isinstance(v, dict) else v for path, v in self._spec}

    def __repr__(self) -> str:
        return f"Projection({self.to_mongo()!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Projection) and self.to_mongo() == other.to_mongo()

    __hash__ = None  # type: ignore[assignment]
