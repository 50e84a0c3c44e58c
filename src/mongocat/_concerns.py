"""Read preferences, read concerns and write concerns: plain forms to the driver's objects.

A collection, a Catalogue's database, a GridFS bucket or a transaction takes each as
the driver's own object or in a plain form:

- read preference: a mode name (``"secondaryPreferred"``, or ``"secondary_preferred"``),
  or a document ``{"mode": "secondary", "tags": [{"dc": "east"}, {}],
  "maxStalenessSeconds": 120, "hedge": {"enabled": True}}``;
- read concern: a level (``"majority"``), or ``{"level": "majority"}``;
- write concern: ``w`` as an int or a tag name (``1``, ``"majority"``), or a document
  ``{"w": "majority", "wtimeout": 5000, "j": True}``.

Nonsense is refused here, before anything is sent, with a
:class:`~mongocat.ConfigurationError` naming the value and the forms; so is what a
transaction cannot do: ``w=0`` (a transaction's writes are acknowledged at commit)
and a read preference other than primary.
"""

from collections.abc import Callable, Mapping
from typing import Any, Final

import pymongo.errors
from pymongo.read_concern import ReadConcern
from pymongo.read_preferences import (
    Nearest,
    Primary,
    PrimaryPreferred,
    Secondary,
    SecondaryPreferred,
    _ServerMode,
)
from pymongo.write_concern import WriteConcern

from ._errors import ConfigurationError, TransactionError

__all__ = [
    "ReadConcernLike",
    "ReadPreferenceLike",
    "WriteConcernLike",
    "as_read_concern",
    "as_read_preference",
    "as_write_concern",
    "driver_options",
    "refuse_in_transaction",
]

#: What a read preference may be given as.
ReadPreferenceLike = str | Mapping[str, Any] | _ServerMode
#: What a read concern may be given as.
ReadConcernLike = str | Mapping[str, Any] | ReadConcern
#: What a write concern may be given as.
WriteConcernLike = int | str | Mapping[str, Any] | WriteConcern

_MODES: Final[dict[str, Callable[..., _ServerMode]]] = {
    "primary": Primary,
    "primarypreferred": PrimaryPreferred,
    "secondary": Secondary,
    "secondarypreferred": SecondaryPreferred,
    "nearest": Nearest,
}
_MODE_NAMES: Final = "'primary', 'primaryPreferred', 'secondary', 'secondaryPreferred', 'nearest'"
_LEVELS: Final = ("local", "available", "majority", "linearizable", "snapshot")
_PREFERENCE_KEYS: Final = frozenset({"mode", "tags", "tag_sets", "maxStalenessSeconds", "hedge"})
_WRITE_KEYS: Final = {"w": "w", "wtimeout": "wtimeout", "wtimeoutMS": "wtimeout", "j": "j"}


def as_read_preference(value: ReadPreferenceLike) -> _ServerMode:
    """The driver's read preference for ``value``.

    Raises:
        ConfigurationError: An unknown mode, tags on ``primary``, or a bad staleness.
    """
    if isinstance(value, _ServerMode):
        return value
    if isinstance(value, str):
        return _mode(value)()
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            f"read_preference must be a mode name ({_MODE_NAMES}), a document "
            f"{{'mode': ..., 'tags': [...], 'maxStalenessSeconds': N}} or a pymongo "
            f"ReadPreference, not {value!r}"
        )
    unknown = sorted(set(value) - _PREFERENCE_KEYS)
    if unknown or "mode" not in value:
        raise ConfigurationError(
            f"read_preference {dict(value)!r}: give 'mode' and optionally 'tags', "
            f"'maxStalenessSeconds', 'hedge'{f' (not {unknown})' if unknown else ''}"
        )
    mode = _mode(value["mode"])
    options: dict[str, Any] = {}
    tags = value.get("tags", value.get("tag_sets"))
    if tags is not None:
        if not isinstance(tags, list) or not all(isinstance(t, Mapping) for t in tags):
            raise ConfigurationError(
                f"read_preference tags must be a list of tag documents such as "
                f"[{{'dc': 'east'}}, {{}}], not {tags!r}"
            )
        options["tag_sets"] = [dict(t) for t in tags]
    staleness = value.get("maxStalenessSeconds")
    if staleness is not None:
        if isinstance(staleness, bool) or not isinstance(staleness, int) or 0 <= staleness < 90:
            raise ConfigurationError(
                f"maxStalenessSeconds must be a whole number of seconds of at least 90 "
                f"(MongoDB's least), or -1 for none, not {staleness!r}"
            )
        options["max_staleness"] = staleness
    if value.get("hedge") is not None:
        options["hedge"] = dict(value["hedge"])
    if mode is Primary and options:
        raise ConfigurationError(
            "read_preference 'primary' takes no tags, maxStalenessSeconds or hedge: "
            "they choose among secondaries; use 'primaryPreferred' or another mode"
        )
    try:
        return mode(**options)
    except (TypeError, ValueError, pymongo.errors.ConfigurationError) as exc:
        raise ConfigurationError(f"read_preference {dict(value)!r}: {exc}") from None


def _mode(name: object) -> Callable[..., _ServerMode]:
    """The read preference class of a mode name, in camelCase or snake_case."""
    mode = _MODES.get(name.replace("_", "").lower()) if isinstance(name, str) else None
    if mode is None:
        raise ConfigurationError(f"unknown read preference mode {name!r}; use {_MODE_NAMES}")
    return mode


def as_read_concern(value: ReadConcernLike) -> ReadConcern:
    """The driver's read concern for ``value``.

    Raises:
        ConfigurationError: An unknown level, or another form.
    """
    if isinstance(value, ReadConcern):
        return value
    level = value.get("level") if isinstance(value, Mapping) and set(value) <= {"level"} else value
    if not isinstance(level, str) or level not in _LEVELS:
        raise ConfigurationError(
            f"read_concern must be a level ({', '.join(map(repr, _LEVELS))}), "
            f"{{'level': ...}} or a pymongo ReadConcern, not {value!r}"
        )
    return ReadConcern(level)


def as_write_concern(value: WriteConcernLike) -> WriteConcern:
    """The driver's write concern for ``value``.

    Raises:
        ConfigurationError: A negative ``w``, an unknown key, or a combination the
            driver refuses (``w=0`` with ``j=True``).
    """
    if isinstance(value, WriteConcern):
        return value
    if isinstance(value, bool) or not isinstance(value, int | str | Mapping):
        raise ConfigurationError(
            f"write_concern must be w (an int or a tag such as 'majority'), a document "
            f"{{'w': ..., 'wtimeout': ms, 'j': bool}} or a pymongo WriteConcern, not {value!r}"
        )
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(_WRITE_KEYS))
        if unknown:
            raise ConfigurationError(
                f"write_concern {dict(value)!r} has unknown key(s) {unknown}; use w, "
                "wtimeout (ms) and j"
            )
        options = {_WRITE_KEYS[key]: item for key, item in value.items()}
    else:
        options = {"w": value}
    try:
        return WriteConcern(**options)
    except (TypeError, ValueError, pymongo.errors.ConfigurationError) as exc:
        raise ConfigurationError(f"write_concern {value!r}: {exc}") from None


def driver_options(
    read_preference: ReadPreferenceLike | None = None,
    read_concern: ReadConcernLike | None = None,
    write_concern: WriteConcernLike | None = None,
) -> dict[str, Any]:
    """The ``get_collection`` / ``with_options`` arguments for the options given."""
    options: dict[str, Any] = {}
    if read_preference is not None:
        options["read_preference"] = as_read_preference(read_preference)
    if read_concern is not None:
        options["read_concern"] = as_read_concern(read_concern)
    if write_concern is not None:
        options["write_concern"] = as_write_concern(write_concern)
    return options


def refuse_in_transaction(
    read_preference: _ServerMode | None, write_concern: WriteConcern | None, where: str
) -> None:
    """Refuse what a transaction cannot do: ``w=0``, a read preference but primary.

    Raises:
        TransactionError: ``where`` (a transaction's options, or a collection used in
            a transaction) asks for one of them.
    """
    if write_concern is not None and not write_concern.acknowledged:
        raise TransactionError(
            f"{where} has an unacknowledged write concern (w=0), which a transaction "
            "cannot have: its writes are acknowledged together at commit; leave w=0 "
            "out of transactions (collection.with_options(write_concern=1))"
        )
    if read_preference is not None and read_preference.mode != 0:
        raise TransactionError(
            f"{where} reads with read preference {read_preference.mongos_mode!r}; a "
            "transaction reads from the primary only: use read_preference='primary' "
            "(or collection.with_options(read_preference='primary')) inside it"
        )
