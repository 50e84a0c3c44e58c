"""Type aliases shared by the public API.

The ``*Like`` aliases name what an operation accepts. Today they are plain mappings
and sequences (what the drivers take); the builders widen them without breaking
callers.
"""

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeAlias, TypeVar

from ._filters import Filter
from ._projection import Projection
from ._sort import Sort
from ._update import Update

__all__ = [
    "CollationLike",
    "DocT",
    "DriverName",
    "FilterLike",
    "HintLike",
    "OnInvalid",
    "ProjectionLike",
    "ReturnDocument",
    "SessionLike",
    "SortLike",
    "UpdateLike",
]

#: The document type a collection reads and writes: a ``TypedDict`` or ``dict`` (sent
#: as they are), a dataclass or a Pydantic model (decoded and encoded).
DocT = TypeVar("DocT")

#: What reads do with a stored document that does not fit a dataclass or model type:
#: ``"raise"`` a DocumentDecodeError, ``"skip"`` it (counted), or return it ``"raw"``.
OnInvalid: TypeAlias = Literal["raise", "skip", "raw"]

#: Which async driver a :class:`~mongocat.Catalogue` runs on.
DriverName: TypeAlias = Literal["motor", "pymongo"]

#: A query filter: a :class:`~mongocat.Filter` or a raw filter document.
FilterLike: TypeAlias = Filter | Mapping[str, Any]

#: An update: an :class:`~mongocat.Update`, a document of update operators, or a pipeline.
UpdateLike: TypeAlias = Update | Mapping[str, Any] | Sequence[Mapping[str, Any]]

#: A projection: a :class:`~mongocat.Projection`, a document, or field names to include.
ProjectionLike: TypeAlias = Projection | Mapping[str, Any] | Sequence[str]

#: A sort: a :class:`~mongocat.Sort`, a field name (ascending), ``(field, direction)``
#: pairs, or a document.
SortLike: TypeAlias = Sort | str | Sequence[tuple[str, Any]] | Mapping[str, Any]

#: An index hint: an index name, ``(field, direction)`` pairs, or a key document.
HintLike: TypeAlias = str | Sequence[tuple[str, Any]] | Mapping[str, Any]

#: A collation document (``{"locale": "en", "strength": 2}``).
CollationLike: TypeAlias = Mapping[str, Any]

#: A driver session (Motor's or PyMongo's); passed through untouched.
SessionLike: TypeAlias = Any

#: Which version of the document ``find_one_and_*`` returns.
ReturnDocument: TypeAlias = Literal["before", "after"]
