"""Index specifications: immutable, named by MongoDB's rule, compared option by option.

Pure: no I/O. The index manager (``_index_manager.py``) compares these specs with
what the server lists and applies the difference.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from ._coercion import as_duration
from ._errors import InvalidQuery
from ._filters import Filter
from ._paths import FieldPath, field_name, render
from ._sort import Sort

__all__ = ["Index", "IndexInfo", "normalized_options"]

KeyArg = str | FieldPath | tuple[str | FieldPath, Any] | Sort

_DIRECTIONS: Final = (1, -1, "text", "hashed", "2dsphere", "2d")

# Options that change what an index does; everything else the server reports
# (v, ns, background, ...) is bookkeeping and not compared.
_BEHAVIOUR: Final = (
    "unique",
    "sparse",
    "partialFilterExpression",
    "collation",
    "hidden",
    "expireAfterSeconds",
    "weights",
    "default_language",
    "language_override",
    "wildcardProjection",
)
# Values the server fills in when they are not given: equal to leaving them out.
_DEFAULTS: Final[Mapping[str, Any]] = {
    "unique": False,
    "sparse": False,
    "hidden": False,
    "default_language": "english",
    "language_override": "language",
}


def normalized_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Keep the behaviour options, without the ones equal to the server's defaults."""
    return {
        name: options[name]
        for name in _BEHAVIOUR
        if name in options and _DEFAULTS.get(name, object()) != options[name]
    }


def _keys(keys: Sequence[KeyArg]) -> tuple[tuple[str, Any], ...]:
    """Turn the accepted key forms into ``(field, direction)`` pairs."""
    pairs: list[tuple[str, Any]] = []
    for key in keys:
        if isinstance(key, Sort):
            pairs.extend(key.keys)
        elif isinstance(key, tuple):
            if len(key) != 2:
                raise InvalidQuery(f"an index key is (field, direction), not {key!r}")
            pairs.append((field_name(key[0]), key[1]))
        else:
            pairs.append((field_name(key), 1))
    if not pairs:
        raise InvalidQuery("an index needs at least one key, e.g. Index('sku')")
    seen: set[str] = set()
    for path, direction in pairs:
        if direction not in _DIRECTIONS or isinstance(direction, bool):
            raise InvalidQuery(
                f"index direction for {path!r} must be 1, -1, 'text', 'hashed', "
                f"'2dsphere' or '2d', not {direction!r}"
            )
        if path in seen:
            raise InvalidQuery(f"the index names {path!r} twice")
        seen.add(path)
    return tuple(pairs)


def default_name(keys: Sequence[tuple[str, Any]]) -> str:
    """MongoDB's default index name: ``category_1_price_-1``."""
    return "_".join(f"{path}_{direction}" for path, direction in keys)


@dataclass(frozen=True, slots=True)
class Index:
    """An index specification; immutable, with MongoDB's default name.

    Args:
        *keys: Fields, ascending: ``"sku"``; or ``("price", -1)`` pairs; or a
            :class:`~mongocat.Sort`. Order matters.
        unique: Refuse a second document with the same key.
        sparse: Index only documents that have the field.
        partial_filter: Index only documents matching this Filter or document.
        collation: Language rules for string keys (``{"locale": "en", "strength": 2}``).
        hidden: Keep the index but hide it from the query planner.
        name: The index name; default ``field_direction`` joined by ``_``.

    Example:
        >>> Index(("category", 1), ("price", -1)).name
        'category_1_price_-1'
    """

    keys: tuple[tuple[str, Any], ...]
    options: tuple[tuple[str, Any], ...] = field(default=())
    name: str = ""

    def __init__(
        self,
        *keys: KeyArg,
        unique: bool = False,
        sparse: bool = False,
        partial_filter: "Filter | Mapping[str, Any] | None" = None,
        collation: Mapping[str, Any] | None = None,
        hidden: bool = False,
        name: str | None = None,
    ) -> None:
        pairs = _keys(keys)
        options: dict[str, Any] = {}
        if unique:
            options["unique"] = True
        if sparse:
            options["sparse"] = True
        if partial_filter is not None:
            rendered = render(partial_filter)
            if not isinstance(rendered, Mapping):
                raise InvalidQuery(
                    f"partial_filter must be a Filter or a document, not {rendered!r}"
                )
            options["partialFilterExpression"] = dict(rendered)
        if collation is not None:
            options["collation"] = dict(collation)
        if hidden:
            options["hidden"] = True
        self._set(pairs, options, name)

    @classmethod
    def _special(
        cls, keys: tuple[KeyArg, ...], options: Mapping[str, Any], name: str | None
    ) -> "Index":
        """An index with options the keyword arguments do not name (text, TTL)."""
        index = cls.__new__(cls)
        index._set(_keys(keys), options, name)
        return index

    def _set(
        self, pairs: tuple[tuple[str, Any], ...], options: Mapping[str, Any], name: str | None
    ) -> None:
        """Fill the frozen fields (the one place that writes them)."""
        if name is not None and (not isinstance(name, str) or not name):
            raise InvalidQuery(f"an index name must be a non-empty string, not {name!r}")
        object.__setattr__(self, "keys", pairs)
        object.__setattr__(self, "options", tuple(options.items()))
        object.__setattr__(self, "name", name or default_name(pairs))

    # -- special kinds -----------------------------------------------------------

    @classmethod
    def text(
        cls,
        *fields: str | FieldPath,
        weights: Mapping[str, int] | None = None,
        default_language: str | None = None,
        name: str | None = None,
    ) -> "Index":
        """A text index over ``fields``, for ``Filter.text`` searches.

        Example:
            >>> Index.text("name", "description").name
            'name_text_description_text'
        """
        if not fields:
            raise InvalidQuery("Index.text() needs at least one field")
        options: dict[str, Any] = {}
        if weights is not None:
            unknown = set(weights) - {field_name(f) for f in fields}
            if unknown:
                raise InvalidQuery(f"text index weights name fields not in the index: {unknown}")
            options["weights"] = dict(weights)
        if default_language is not None:
            options["default_language"] = default_language
        return cls._special(tuple((f, "text") for f in fields), options, name)

    @classmethod
    def hashed(cls, field: str | FieldPath, *, name: str | None = None) -> "Index":
        """A hashed index (for hashed sharding and equality matches)."""
        return cls((field, "hashed"), name=name)

    @classmethod
    def geo2dsphere(cls, *fields: str | FieldPath, name: str | None = None) -> "Index":
        """A 2dsphere index over GeoJSON fields, for ``near`` and ``geo_within`` queries."""
        if not fields:
            raise InvalidQuery("Index.geo2dsphere() needs at least one field")
        return cls(*((f, "2dsphere") for f in fields), name=name)

    @classmethod
    def wildcard(
        cls,
        path: str = "$**",
        *,
        projection: Mapping[str, int] | None = None,
        name: str | None = None,
    ) -> "Index":
        """A wildcard index over every field (``$**``) or under a path (``a.$**``)."""
        if path != "$**" and not path.endswith(".$**"):
            raise InvalidQuery(f"a wildcard index path is '$**' or 'field.$**', not {path!r}")
        if projection is not None and path != "$**":
            raise InvalidQuery("a wildcard projection needs the path '$**'")
        prefix = path[: -len(".$**")] if path != "$**" else None
        if prefix is not None:
            field_name(prefix)
        options = {"wildcardProjection": dict(projection)} if projection else {}
        spec = object.__new__(cls)
        spec._set(((path, 1),), options, name)
        return spec

    @classmethod
    def ttl(
        cls, field: str | FieldPath, *, expire_after: timedelta | int, name: str | None = None
    ) -> "Index":
        """A TTL index: documents expire ``expire_after`` past the date in ``field``."""
        seconds = as_duration(expire_after, "expire_after", error=InvalidQuery, whole=True)
        if seconds is None:
            raise InvalidQuery("expire_after must be a non-negative duration, not None")
        return cls._special((field,), {"expireAfterSeconds": int(seconds)}, name)

    # -- rendering ---------------------------------------------------------------

    @property
    def behaviour(self) -> dict[str, Any]:
        """The options that change what the index does, for comparison."""
        return normalized_options(dict(self.options))

    def key_document(self) -> dict[str, Any]:
        """The key pattern as the server lists it (text keys become ``_fts``/``_ftsx``)."""
        if any(direction == "text" for _, direction in self.keys):
            document: dict[str, Any] = {}
            for path, direction in self.keys:
                if direction == "text":
                    if "_fts" not in document:
                        document["_fts"] = "text"
                        document["_ftsx"] = 1
                else:
                    document[path] = direction
            return document
        return dict(self.keys)

    def comparable_options(self) -> dict[str, Any]:
        """The behaviour options as the server would list them (text weights filled in)."""
        options = self.behaviour
        text_fields = [path for path, direction in self.keys if direction == "text"]
        if text_fields:
            options["weights"] = {path: 1 for path in text_fields} | dict(
                options.get("weights", {})
            )
        return options

    def to_mongo(self) -> dict[str, Any]:
        """The ``createIndexes`` entry: ``{"key": ..., "name": ..., options}``."""
        return {"key": dict(self.keys), "name": self.name, **dict(self.options)}

    def __repr__(self) -> str:
        options = "".join(f", {k}={v!r}" for k, v in self.options)
        return f"Index({dict(self.keys)!r}, name={self.name!r}{options})"


@dataclass(frozen=True, slots=True)
class IndexInfo:
    """An index as the server lists it.

    Attributes:
        name: The index name.
        key: The key pattern, in order.
        options: The options that change what the index does.
        raw: The server's whole ``listIndexes`` entry.
    """

    name: str
    key: dict[str, Any]
    options: dict[str, Any]
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_server(cls, raw: Mapping[str, Any]) -> "IndexInfo":
        """Build from a ``listIndexes`` entry."""
        return cls(
            name=str(raw["name"]),
            key=dict(raw["key"]),
            options=normalized_options(raw),
            raw=dict(raw),
        )
