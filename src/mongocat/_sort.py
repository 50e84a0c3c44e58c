"""Sort orders: ``Sort.desc("price").asc("name")``, immutable, in the order given."""

from typing import Any

from ._errors import InvalidQuery
from ._paths import BuilderType, FieldPath, classmethod_or_method, field_name

__all__ = ["Sort"]


class _SortType(BuilderType):
    """The metaclass of :class:`Sort`: its methods answer on the class too."""


class Sort(metaclass=_SortType):
    """An immutable sort order; ``to_mongo()`` gives the sort document.

    Example:
        >>> Sort.desc("price").asc("name").to_mongo()
        {'price': -1, 'name': 1}
    """

    __slots__ = ("_keys",)

    def __init__(self, keys: tuple[tuple[str, Any], ...] = ()) -> None:
        self._keys = keys

    def _add(self, fields: tuple["str | FieldPath", ...], direction: Any) -> "Sort":
        if not fields:
            raise InvalidQuery("name at least one field to sort by")
        keys = self._keys
        for field in fields:
            path = field_name(field)
            if any(path == existing for existing, _ in keys):
                raise InvalidQuery(f"the sort already orders by {path!r}; name each field once")
            keys += ((path, direction),)
        return Sort(keys)

    @classmethod_or_method
    def asc(self, *fields: "str | FieldPath") -> "Sort":
        """Sort by ``fields``, ascending, after the keys already given."""
        return self._add(fields, 1)

    @classmethod_or_method
    def desc(self, *fields: "str | FieldPath") -> "Sort":
        """Sort by ``fields``, descending, after the keys already given."""
        return self._add(fields, -1)

    @classmethod_or_method
    def text_score(self, field: str = "score") -> "Sort":
        """Sort by text-search relevance, best first (``{"$meta": "textScore"}``)."""
        return self._add((field,), {"$meta": "textScore"})

    def then(self, other: "Sort") -> "Sort":
        """Append another sort's keys: ``F.price.desc().then(F.name.asc())``."""
        result = self
        for path, direction in other._keys:
            result = result._add((path,), direction)
        return result

    @property
    def keys(self) -> tuple[tuple[str, Any], ...]:
        """The ``(field, direction)`` pairs, in order."""
        return self._keys

    def to_mongo(self) -> dict[str, Any]:
        """Return the sort document, freshly built."""
        return dict(self._keys)

    def __repr__(self) -> str:
        return f"Sort({self.to_mongo()!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sort) and self._keys == other._keys

    __hash__ = None  # type: ignore[assignment]
