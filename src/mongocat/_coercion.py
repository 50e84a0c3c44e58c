"""Turn what callers pass as filters, updates, sorts and projections into what is sent.

Each function returns what the driver expects, or raises :class:`InvalidQuery`
naming the offending value and the fix, before anything is sent. Fast paths keep the
common case (a plain ``dict``) to one type check.
"""

import math
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from ._errors import ConfigurationError, InvalidQuery, MongocatError
from ._filters import Filter, empty_by_accident
from ._paths import check_path
from ._projection import Projection
from ._sort import Sort
from ._types import FilterLike, ProjectionLike, SortLike, UpdateLike
from ._update import Update

__all__ = [
    "as_duration",
    "as_filter",
    "as_projection",
    "as_replacement",
    "as_sort",
    "as_sort_document",
    "as_timeout",
    "as_update",
    "as_write_filter",
    "object_id",
    "update_array_filters",
]


def as_duration(
    value: object,
    name: str,
    *,
    error: type[MongocatError] = ConfigurationError,
    positive: bool = False,
    whole: bool = False,
) -> float | None:
    """A duration given as seconds or a ``timedelta``, in seconds, checked; None stays None.

    The one rule for every duration option (a TTL, a time series' bucket span,
    ``max_await``, ``max_commit_time``): a finite number of seconds (never a bool)
    or a timedelta, not negative (with ``positive``, not zero either), and with
    ``whole``, a whole number of seconds.

    Raises:
        MongocatError: ``error``, naming ``name`` and what was given.
    """
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not math.isfinite(seconds)
        or seconds < 0
        or (positive and seconds == 0)
    ):
        kind = "positive" if positive else "non-negative"
        raise error(
            f"{name} must be a {kind} number of seconds or a timedelta (a {kind} "
            f"duration), not {value!r}"
        )
    if whole and seconds != int(seconds):
        raise error(f"{name} must be a whole number of seconds, not {value!r}")
    return float(seconds)


def as_timeout(value: object, name: str = "timeout") -> float | None:
    """``value`` as a timeout in seconds, or None; refuse anything else.

    Raises:
        ConfigurationError: ``value`` is not a positive, finite number (or None).
    """
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ConfigurationError(
            f"{name} must be a positive number of seconds (such as 2.5) or None, not "
            f"{value!r}; for no deadline leave it out"
        )
    return float(value)


def as_filter(filter: FilterLike | None) -> Mapping[str, Any]:
    """Return the filter document to send (``{}`` for None)."""
    if filter is None:
        return {}
    if type(filter) is dict:
        return filter
    if isinstance(filter, Filter):
        return filter.to_mongo()
    if isinstance(filter, Mapping):
        return filter
    if isinstance(filter, Update):  # type: ignore[unreachable]
        raise InvalidQuery(
            f"{filter!r} is an Update, given where a filter goes; pass the filter first "
            "and the update second: update_one(F.sku == 'W-1', Update.set(...))"
        )
    raise InvalidQuery(
        f"a filter must be a mapping such as {{'sku': 'W-1'}}, not {type(filter).__name__} "
        f"{filter!r}; pass None to match every document"
    )


def as_write_filter(filter: FilterLike | None, *, many: str | None = None) -> Mapping[str, Any]:
    """Return the filter of a write; None is refused so that "all" is always ``{}``.

    Args:
        filter: The write's filter.
        many: The name of a write to every matching document (``"delete_many"``): an
            empty builder filter is then refused, as it would touch every document.
    """
    if filter is None:
        raise InvalidQuery(
            "the filter of a write is None; pass {} (or Filter.everything()) to match every "
            "document on purpose"
        )
    if many is not None and isinstance(filter, Filter) and empty_by_accident(filter):
        raise InvalidQuery(
            f"{many}() was given an empty Filter (no conditions), which would change every "
            f"document; pass Filter.everything() (or {{}}) if that is the point, or add a "
            f"condition"
        )
    return as_filter(filter)


def as_update(update: UpdateLike) -> Any:
    """Return an update document of ``$`` operators, or an update pipeline."""
    if type(update) is Update:  # exact types first: an isinstance of Update costs more
        return update._to_send()
    if type(update) is dict or isinstance(update, Mapping):
        if not update:
            raise InvalidQuery(
                "the update document is empty; say what to change, e.g. {'$set': {'price': 7.99}}"
            )
        for key in update:
            if not (isinstance(key, str) and key.startswith("$")):
                raise InvalidQuery(
                    f"update field {key!r} is not an update operator; write "
                    f"{{'$set': {{{key!r}: ...}}}}, or use replace_one() to replace the "
                    "whole document"
                )
        return update
    if isinstance(update, Sequence) and not isinstance(update, str | bytes):  # type: ignore[unreachable]
        if not update or not all(isinstance(stage, Mapping) for stage in update):
            raise InvalidQuery(
                f"an update pipeline must be a non-empty list of stage documents, got {update!r}"
            )
        return list(update)  # a list, as the drivers take it and the checks expect
    if isinstance(update, Update):  # a subclass
        return update._to_send()
    if isinstance(update, Filter):  # type: ignore[unreachable]
        raise InvalidQuery(
            f"{update!r} is a Filter, given where an update goes; describe the change with "
            "Update (Update.set(price=7.99)) and pass the filter first"
        )
    raise InvalidQuery(
        f"an update must be a document of update operators or a pipeline, not "
        f"{type(update).__name__} {update!r}"
    )


def update_array_filters(
    update: UpdateLike, array_filters: Sequence[Mapping[str, Any]] | None
) -> Sequence[Mapping[str, Any]] | None:
    """Return the array filters to send: the caller's, or those the Update carries."""
    carried = update.array_filters_list if isinstance(update, Update) else None
    if carried is not None and array_filters is not None:
        raise InvalidQuery(
            "array filters given twice: in the Update (.array_filters()) and as array_filters=; "
            "keep one"
        )
    return carried if carried is not None else array_filters


def as_replacement(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return a replacement document: a mapping with no ``$`` operator at the top."""
    if not isinstance(document, Mapping):
        raise InvalidQuery(
            f"a replacement must be a document, not {type(document).__name__} {document!r}"
        )
    for key in document:
        if isinstance(key, str) and key.startswith("$"):
            raise InvalidQuery(
                f"replacement field {key!r} is an update operator; use update_one() to "
                "apply operators, or replace_one() with a plain document"
            )
    return document


def _direction(field: str, direction: Any) -> Any:
    """Check one sort direction: 1, -1, or a ``{"$meta": ...}`` document."""
    if direction in (1, -1) and not isinstance(direction, bool):
        return direction
    if isinstance(direction, Mapping) and "$meta" in direction:
        return direction
    raise InvalidQuery(
        f"sort direction for {field!r} must be 1 (ascending) or -1 (descending), not {direction!r}"
    )


def as_sort(sort: SortLike | None) -> list[tuple[str, Any]] | None:
    """Return the sort as ``(field, direction)`` pairs, in the order given."""
    if sort is None:
        return None
    if isinstance(sort, Sort):
        return list(sort.keys)
    if isinstance(sort, str):
        return [(_sort_field(sort), 1)]
    pairs = sort.items() if isinstance(sort, Mapping) else sort
    result: list[tuple[str, Any]] = []
    for pair in pairs:
        if not (isinstance(pair, tuple | list) and len(pair) == 2 and isinstance(pair[0], str)):
            raise InvalidQuery(
                f"a sort is a field name, (field, direction) pairs or a document such as "
                f"{{'price': -1}}; got {sort!r}"
            )
        result.append((_sort_field(pair[0]), _direction(pair[0], pair[1])))
    return result


def as_sort_document(sort: SortLike | None) -> dict[str, Any] | None:
    """The sort as the document write operations take (``{"price": -1}``), or None."""
    pairs = as_sort(sort)
    return None if pairs is None else dict(pairs)


def _sort_field(name: str) -> str:
    """A sort key: a checked field path, or ``$natural`` (the storage order)."""
    return name if name == "$natural" else check_path(name)


def as_projection(projection: ProjectionLike | None) -> Any:
    """Return the projection, refusing a bare string (it would read as characters)."""
    if projection is None:
        return projection
    if isinstance(projection, Projection):
        return projection.to_mongo()
    if isinstance(projection, Mapping):
        for name in projection:
            _projected_field(name)
        return projection
    if isinstance(projection, str | bytes):
        raise InvalidQuery(
            f"a projection is a document or a list of field names; write [{projection!r}] "
            f"instead of {projection!r}"
        )
    for name in projection:
        _projected_field(name)
    return projection


def _projected_field(name: object) -> None:
    """Check a projected name: a field path, with the positional ``.$`` at its end."""
    if not isinstance(name, str):
        raise InvalidQuery(f"a projected field is named by a str, not {name!r}")
    check_path(name[:-2] if name.endswith(".$") else name)


def object_id(value: object) -> ObjectId:
    """Return ``value`` as an ObjectId: an ObjectId, or its 24-hex-digit string form.

    Use it on ids that arrive as text (URL paths, JSON bodies) before querying with
    them.

    Raises:
        InvalidQuery: ``value`` is not an ObjectId or 24 hexadecimal digits.

    Example:
        >>> object_id("65a1b2c3d4e5f6a7b8c9d0e1")
        ObjectId('65a1b2c3d4e5f6a7b8c9d0e1')
    """
    if isinstance(value, ObjectId):
        return value
    if isinstance(value, str) and len(value) == 24:
        try:
            return ObjectId(value)
        except InvalidId:
            pass
    raise InvalidQuery(
        f"{value!r} is not an ObjectId: expected 24 hexadecimal digits such as "
        "'65a1b2c3d4e5f6a7b8c9d0e1'"
    )
