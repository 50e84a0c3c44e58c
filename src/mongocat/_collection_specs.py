"""What a collection is made of beyond its documents: the options of ``create``.

:class:`CollectionSpec` is an immutable value, like the other builders: it checks its
options when made and renders the ``create`` command (``to_create``); it does no I/O.
``TimeSeries`` and ``Capped`` are its parts for those kinds of collection.
"""

import dataclasses
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final, Literal, TypedDict, get_args

from ._coercion import as_duration
from ._errors import ConfigurationError
from ._paths import is_int

__all__ = [
    "Capped",
    "CollectionArgs",
    "CollectionChange",
    "CollectionSpec",
    "TimeSeries",
    "plan_collection",
]

Granularity = Literal["seconds", "minutes", "hours"]
ValidationLevel = Literal["off", "strict", "moderate"]
ValidationAction = Literal["error", "warn", "errorAndLog"]

_LEVELS: Final = get_args(ValidationLevel)
_ACTIONS: Final = get_args(ValidationAction)
_GRANULARITIES: Final = get_args(Granularity)


def _seconds(value: float | timedelta | None, name: str) -> int | None:
    """A whole number of seconds from seconds or a timedelta, checked."""
    seconds = as_duration(value, name, whole=True)
    return None if seconds is None else int(seconds)


@dataclasses.dataclass(frozen=True, slots=True)
class TimeSeries:
    """A time-series collection's layout (MongoDB 5.0+).

    Args:
        time_field: The field holding each measurement's date.
        meta_field: The field identifying the series (a sensor id), optional.
        granularity: ``"seconds"``, ``"minutes"`` or ``"hours"``: how far apart a
            series' measurements usually are. Or give both ``bucket_*`` instead
            (MongoDB 6.3+).
        bucket_max_span: The most time one bucket covers, in seconds.
        bucket_rounding: How bucket start times are rounded, in seconds (equal to
            ``bucket_max_span``).

    Example:
        >>> TimeSeries("at", meta_field="sensor", granularity="minutes").to_mongo()
        {'timeField': 'at', 'metaField': 'sensor', 'granularity': 'minutes'}
    """

    time_field: str
    meta_field: str | None = None
    granularity: Granularity | None = None
    bucket_max_span: float | timedelta | None = None
    bucket_rounding: float | timedelta | None = None

    def __post_init__(self) -> None:
        for name in ("time_field", "meta_field"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value or "$" in value):
                raise ConfigurationError(f"TimeSeries {name} must be a field name, not {value!r}")
        if self.granularity is not None and self.granularity not in _GRANULARITIES:
            raise ConfigurationError(
                f"TimeSeries granularity must be one of {', '.join(map(repr, _GRANULARITIES))}, "
                f"not {self.granularity!r}"
            )
        buckets = (self.bucket_max_span, self.bucket_rounding)
        if any(b is not None for b in buckets):
            if self.granularity is not None or None in buckets:
                raise ConfigurationError(
                    "TimeSeries takes either granularity or both bucket_max_span and "
                    "bucket_rounding (equal), not a mix"
                )
            span = _seconds(self.bucket_max_span, "bucket_max_span")
            if span != _seconds(self.bucket_rounding, "bucket_rounding") or not span:
                raise ConfigurationError(
                    "TimeSeries bucket_max_span and bucket_rounding must be equal and positive"
                )

    def to_mongo(self) -> dict[str, Any]:
        """The ``timeseries`` option of ``create``."""
        document: dict[str, Any] = {"timeField": self.time_field}
        if self.meta_field is not None:
            document["metaField"] = self.meta_field
        if self.granularity is not None:
            document["granularity"] = self.granularity
        if self.bucket_max_span is not None:
            document["bucketMaxSpanSeconds"] = _seconds(self.bucket_max_span, "bucket_max_span")
            document["bucketRoundingSeconds"] = _seconds(self.bucket_rounding, "bucket_rounding")
        return document


@dataclasses.dataclass(frozen=True, slots=True)
class Capped:
    """A capped collection: a fixed-size ring that keeps insertion order.

    Args:
        size: Its size in bytes (the server rounds it up to a multiple of 256).
        max: The most documents it keeps, if fewer than ``size`` allows.
    """

    size: int
    max: int | None = None

    def __post_init__(self) -> None:
        if not is_int(self.size) or self.size < 1:
            raise ConfigurationError(
                f"Capped size must be a positive int (bytes), not {self.size!r}"
            )
        if self.max is not None and (not is_int(self.max) or self.max < 1):
            raise ConfigurationError(f"Capped max must be a positive int, not {self.max!r}")


class CollectionArgs(TypedDict, total=False):
    """The options of ``cat.create_collection()`` and ``cat.declare_collection()``.

    Attributes:
        validator: A validator document, or True for
            ``{"$jsonSchema": json_schema(document_type)}``.
        validation_level: ``"strict"`` (the default), ``"moderate"`` or ``"off"``.
        validation_action: ``"error"`` (the default), ``"warn"`` or ``"errorAndLog"``.
        timeseries: A :class:`TimeSeries` layout (MongoDB 5.0+).
        expire_after: Delete documents this long after their time field (time-series
            and clustered collections), in seconds or a timedelta.
        capped: A :class:`Capped` size: a ring that keeps insertion order.
        clustered: Cluster the collection by ``_id`` (MongoDB 5.3+).
        pre_and_post_images: Record documents before and after each change, for
            change streams' ``full_document_before_change`` (MongoDB 6.0+).
        collation: The collection's default collation document.
    """

    validator: Mapping[str, Any] | bool | None
    validation_level: ValidationLevel | None
    validation_action: ValidationAction | None
    timeseries: "TimeSeries | None"
    expire_after: float | timedelta | None
    capped: "Capped | None"
    clustered: bool
    pre_and_post_images: bool
    collation: Mapping[str, Any] | None


@dataclasses.dataclass(frozen=True, slots=True)
class CollectionSpec:
    """The options a collection is created with; :meth:`to_create` renders the command.

    Args:
        name: The collection's name.
        validator: A validator document: ``{"$jsonSchema": json_schema(T)}`` or a
            query.
        validation_level: ``"strict"`` (the server's default), ``"moderate"``
            (existing invalid documents may stay invalid) or ``"off"``.
        validation_action: ``"error"`` (refuse; the default), ``"warn"`` (log) or
            ``"errorAndLog"``.
        timeseries: A :class:`TimeSeries` layout.
        expire_after: Delete documents this long after their time field
            (time-series collections; ``expireAfterSeconds``).
        capped: A :class:`Capped` size.
        clustered: Cluster the collection by ``_id`` (MongoDB 5.3+).
        pre_and_post_images: Record each change's document before and after, for
            change streams' ``full_document_before_change`` (MongoDB 6.0+).
        collation: The collection's default collation document.

    Raises:
        ConfigurationError: An option is invalid, or options that cannot go together
            (capped with time series, clustered with capped).
    """

    name: str
    validator: Mapping[str, Any] | None = None
    validation_level: ValidationLevel | None = None
    validation_action: ValidationAction | None = None
    timeseries: TimeSeries | None = None
    expire_after: float | timedelta | None = None
    capped: Capped | None = None
    clustered: bool = False
    pre_and_post_images: bool = False
    collation: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or "$" in self.name:
            raise ConfigurationError(f"invalid collection name {self.name!r}")
        if self.validator is not None and not isinstance(self.validator, Mapping):
            raise ConfigurationError(
                f"validator must be a document such as {{'$jsonSchema': json_schema(T)}}, "
                f"not {self.validator!r}"
            )
        if self.validation_level is not None and self.validation_level not in _LEVELS:
            raise ConfigurationError(
                f"validation_level must be one of {', '.join(map(repr, _LEVELS))}, not "
                f"{self.validation_level!r}"
            )
        if self.validation_action is not None and self.validation_action not in _ACTIONS:
            raise ConfigurationError(
                f"validation_action must be one of {', '.join(map(repr, _ACTIONS))}, not "
                f"{self.validation_action!r}"
            )
        if self.timeseries is not None and not isinstance(self.timeseries, TimeSeries):
            raise ConfigurationError("timeseries must be a TimeSeries(time_field=...)")
        if self.capped is not None and not isinstance(self.capped, Capped):
            raise ConfigurationError("capped must be a Capped(size=...)")
        if self.capped is not None and (self.timeseries is not None or self.clustered):
            raise ConfigurationError(
                "a capped collection cannot also be a time-series or clustered collection"
            )
        if self.timeseries is not None and self.clustered:
            raise ConfigurationError("a time-series collection cannot also be clustered by _id")
        if self.expire_after is not None and self.timeseries is None and not self.clustered:
            raise ConfigurationError(
                "expire_after applies to time-series and clustered collections; for another "
                "collection declare a TTL index: Index.ttl('created', expire_after=...)"
            )
        _seconds(self.expire_after, "expire_after")
        if self.collation is not None and not isinstance(self.collation, Mapping):
            raise ConfigurationError(f"collation must be a document, not {self.collation!r}")

    def to_create(self) -> dict[str, Any]:
        """The ``create`` command that makes the collection (a fresh document)."""
        command: dict[str, Any] = {"create": self.name}
        if self.validator is not None:
            command["validator"] = dict(self.validator)
        if self.validation_level is not None:
            command["validationLevel"] = self.validation_level
        if self.validation_action is not None:
            command["validationAction"] = self.validation_action
        if self.timeseries is not None:
            command["timeseries"] = self.timeseries.to_mongo()
        if self.expire_after is not None:
            command["expireAfterSeconds"] = _seconds(self.expire_after, "expire_after")
        if self.capped is not None:
            command["capped"] = True
            command["size"] = self.capped.size
            if self.capped.max is not None:
                command["max"] = self.capped.max
        if self.clustered:
            command["clusteredIndex"] = {"key": {"_id": 1}, "unique": True}
        if self.pre_and_post_images:
            command["changeStreamPreAndPostImages"] = {"enabled": True}
        if self.collation is not None:
            command["collation"] = dict(self.collation)
        return command


@dataclasses.dataclass(frozen=True, slots=True)
class CollectionChange:
    """What a plan does to one declared collection.

    Attributes:
        name: The collection.
        action: ``"create"`` (it is missing), ``"modify"`` (``collMod`` changes what
            can change in place), ``"unchanged"``, or ``"conflict"`` (it exists with
            options that cannot change in place).
        command: The ``create`` or ``collMod`` command, or None.
        reasons: What differs; for a conflict, also the fix.
    """

    name: str
    action: Literal["create", "modify", "unchanged", "conflict"]
    command: Mapping[str, Any] | None
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The change as JSON-serialisable data (the commands as sent)."""
        return {
            "collection": self.name,
            "action": self.action,
            "command": None if self.command is None else dict(self.command),
            "reasons": list(self.reasons),
        }


def plan_collection(spec: CollectionSpec, existing: Mapping[str, Any] | None) -> CollectionChange:
    """Compare ``spec`` with the collection's ``listCollections`` entry (None: missing).

    Validator, validation level and action, pre/post images and ``expireAfterSeconds``
    change in place (``collMod``); time series, capped, clustered and collation
    cannot, and are reported as conflicts with the fix.
    """
    if existing is None:
        return CollectionChange(spec.name, "create", spec.to_create(), ("missing",))
    options: Mapping[str, Any] = existing.get("options", {})
    wanted = spec.to_create()
    conflicts: list[str] = []
    if "timeseries" in wanted or "timeseries" in options:
        mine, theirs = wanted.get("timeseries"), options.get("timeseries")
        if mine is None or theirs is None or any(theirs.get(k) != v for k, v in mine.items()):
            conflicts.append(f"time series {mine} declared, {theirs} on the server")
    if bool(wanted.get("capped")) != bool(options.get("capped")) or (
        wanted.get("capped") and wanted.get("max") != options.get("max")
    ):
        shown = {k: options.get(k) for k in ("capped", "size", "max") if k in options}
        conflicts.append(f"capped {spec.capped} declared, {shown or 'not capped'} on the server")
    if ("clusteredIndex" in wanted) != ("clusteredIndex" in options):
        conflicts.append(
            f"clustered={spec.clustered} declared, the server's is "
            f"{'clustered' if 'clusteredIndex' in options else 'not clustered'}"
        )
    mine_collation, theirs_collation = wanted.get("collation"), options.get("collation")
    if (mine_collation is None) != (theirs_collation is None) or (
        mine_collation is not None
        and any(theirs_collation.get(k) != v for k, v in mine_collation.items())  # type: ignore[union-attr]
    ):
        conflicts.append(f"collation {mine_collation} declared, {theirs_collation} on the server")
    if conflicts:
        fix = (
            "these cannot change in place: create a new collection with the declared "
            "options and copy the documents ($out or $merge), then rename it; or declare "
            "what the server has"
        )
        return CollectionChange(spec.name, "conflict", None, (*conflicts, fix))
    modify: dict[str, Any] = {}
    reasons: list[str] = []
    current = {
        "validator": options.get("validator") or None,  # {} is no validator
        "validationLevel": options.get("validationLevel", "strict"),
        "validationAction": options.get("validationAction", "error"),
        "changeStreamPreAndPostImages": {
            "enabled": bool(options.get("changeStreamPreAndPostImages", {}).get("enabled"))
        },
        "expireAfterSeconds": options.get("expireAfterSeconds"),
    }
    declared = {
        "validator": wanted.get("validator"),
        "validationLevel": wanted.get("validationLevel", "strict"),
        "validationAction": wanted.get("validationAction", "error"),
        "changeStreamPreAndPostImages": {"enabled": spec.pre_and_post_images},
        "expireAfterSeconds": wanted.get("expireAfterSeconds"),
    }
    for option, value in declared.items():
        if value != current[option]:
            if option == "validator" and value is None:
                value = {}  # collMod removes a validator with an empty one
            if option == "expireAfterSeconds" and value is None:
                value = "off"
            modify[option] = value
            reasons.append(f"{option}: {current[option]!r} on the server, {value!r} declared")
    if not modify:
        return CollectionChange(spec.name, "unchanged", None)
    return CollectionChange(spec.name, "modify", {"collMod": spec.name, **modify}, tuple(reasons))
