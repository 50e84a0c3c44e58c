"""Atlas Search and Vector Search index specs, and their plan against the server's.

:class:`SearchIndex` and :class:`VectorSearchIndex` are immutable specs; ``to_mongo()``
renders an entry of ``createSearchIndexes``. :func:`plan_search_indexes` compares the
declared specs with what ``$listSearchIndexes`` reports. Pure: no I/O.
"""

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal, get_args

from ._errors import ConfigurationError
from ._paths import is_int

__all__ = [
    "AnySearchIndex",
    "SearchIndex",
    "SearchIndexPlan",
    "VectorSearchIndex",
    "plan_search_indexes",
]

Similarity = Literal["cosine", "euclidean", "dotProduct"]
Quantization = Literal["none", "scalar", "binary"]
_SIMILARITIES: Final = get_args(Similarity)
_QUANTIZATIONS: Final = get_args(Quantization)


def _name(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{what} must be a non-empty name, not {value!r}")
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class SearchIndex:
    """An Atlas Search index: ``SearchIndex({"mappings": {"dynamic": True}})``.

    Args:
        definition: The index definition as Atlas Search defines it (``mappings``,
            ``analyzer``, ``storedSource``, ...).
        name: The index's name; ``"default"`` is the one ``$search`` uses unnamed.
    """

    definition: Mapping[str, Any]
    name: str = "default"

    def __post_init__(self) -> None:
        _name(self.name, "SearchIndex name")
        if not isinstance(self.definition, Mapping) or not self.definition:
            raise ConfigurationError(
                "SearchIndex needs a definition such as {'mappings': {'dynamic': True}}"
            )

    def to_mongo(self) -> dict[str, Any]:
        """The index as ``createSearchIndexes`` takes it."""
        return {"name": self.name, "type": "search", "definition": dict(self.definition)}


@dataclasses.dataclass(frozen=True, slots=True)
class VectorSearchIndex:
    """An Atlas Vector Search index over one embedding field.

    Args:
        path: The field holding the vectors.
        num_dimensions: The vectors' length (1 to 8192).
        similarity: ``"cosine"``, ``"euclidean"`` or ``"dotProduct"``.
        name: The index's name (``$vectorSearch``'s ``index``).
        filters: Fields that ``vector_search(filter=...)`` may pre-filter on.
        quantization: ``"scalar"`` or ``"binary"`` to store compressed vectors.

    Example:
        >>> spec = VectorSearchIndex("embedding", 1024, "cosine", filters=["year"])
        >>> [field["type"] for field in spec.to_mongo()["definition"]["fields"]]
        ['vector', 'filter']
    """

    path: str
    num_dimensions: int
    similarity: Similarity
    name: str = "vector_index"
    filters: Sequence[str] = ()
    quantization: Quantization | None = None

    def __post_init__(self) -> None:
        _name(self.name, "VectorSearchIndex name")
        _name(self.path, "VectorSearchIndex path")
        if not is_int(self.num_dimensions) or not 1 <= self.num_dimensions <= 8192:
            raise ConfigurationError(
                f"num_dimensions must be an int from 1 to 8192, not {self.num_dimensions!r}"
            )
        if self.similarity not in _SIMILARITIES:
            raise ConfigurationError(
                f"similarity must be one of {', '.join(map(repr, _SIMILARITIES))}, not "
                f"{self.similarity!r}"
            )
        if self.quantization is not None and self.quantization not in _QUANTIZATIONS:
            raise ConfigurationError(
                f"quantization must be one of {', '.join(map(repr, _QUANTIZATIONS))}, not "
                f"{self.quantization!r}"
            )
        if isinstance(self.filters, str):
            raise ConfigurationError("filters is a list of field names, not one string")
        for path in self.filters:
            _name(path, "a VectorSearchIndex filter")

    def to_mongo(self) -> dict[str, Any]:
        """The index as ``createSearchIndexes`` takes it."""
        vector: dict[str, Any] = {
            "type": "vector",
            "path": self.path,
            "numDimensions": self.num_dimensions,
            "similarity": self.similarity,
        }
        if self.quantization is not None:
            vector["quantization"] = self.quantization
        fields = [vector, *({"type": "filter", "path": path} for path in self.filters)]
        return {"name": self.name, "type": "vectorSearch", "definition": {"fields": fields}}


AnySearchIndex = SearchIndex | VectorSearchIndex


@dataclasses.dataclass(frozen=True, slots=True)
class SearchIndexPlan:
    """What a plan does to one collection's search indexes.

    Attributes:
        create: Declared indexes the server lacks.
        update: Declared indexes whose definition differs (``updateSearchIndex``).
        drop: Names of server indexes no spec declares (only with ``drop_unknown``).
        unchanged: Names of indexes that match.
        unavailable: The server's reason when it has no search (not Atlas); then
            nothing is planned and ``ensure()`` leaves them.
    """

    create: tuple[AnySearchIndex, ...] = ()
    update: tuple[AnySearchIndex, ...] = ()
    drop: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    unavailable: str | None = None

    @property
    def changes_nothing(self) -> bool:
        """Whether applying it would change nothing."""
        return not (self.create or self.update or self.drop)


def _within(declared: Any, existing: Any) -> bool:
    """Whether ``declared`` is part of ``existing`` (the server adds defaults)."""
    if isinstance(declared, Mapping):
        return isinstance(existing, Mapping) and all(
            key in existing and _within(value, existing[key]) for key, value in declared.items()
        )
    if isinstance(declared, list):
        return (
            isinstance(existing, list)
            and len(declared) == len(existing)
            and all(_within(a, b) for a, b in zip(declared, existing, strict=True))
        )
    return bool(declared == existing)


def plan_search_indexes(
    specs: Sequence[AnySearchIndex],
    existing: Sequence[Mapping[str, Any]] | None,
    *,
    unavailable: str | None = None,
    drop_unknown: bool = False,
) -> SearchIndexPlan:
    """Compare declared search indexes with ``$listSearchIndexes``' entries."""
    if existing is None:
        return SearchIndexPlan(unavailable=unavailable or "the server did not list them")
    by_name = {entry.get("name"): entry for entry in existing}
    create: list[AnySearchIndex] = []
    update: list[AnySearchIndex] = []
    unchanged: list[str] = []
    for spec in specs:
        entry = by_name.get(spec.name)
        if entry is None:
            create.append(spec)
            continue
        definition = entry.get("latestDefinition", entry.get("definition", {}))
        if _within(spec.to_mongo()["definition"], definition):
            unchanged.append(spec.name)
        else:
            update.append(spec)
    declared = {spec.name for spec in specs}
    drop = tuple(n for n in by_name if drop_unknown and isinstance(n, str) and n not in declared)
    return SearchIndexPlan(tuple(create), tuple(update), drop, tuple(unchanged))
