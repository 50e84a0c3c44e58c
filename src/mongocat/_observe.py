"""Observing operations: the seam that telemetry plugs into.

Nothing is observed by default: a handle's ``observer`` is None and its
``operation`` block is the deadline block itself, so an operation costs no call
more. :mod:`mongocat.telemetry` (OpenTelemetry spans, metrics and operation logs)
is one observer; anything implementing
:class:`Observer` is another (a StatsD client, a test's recorder).

The core reports three things to an observer, and never a user value:

- an operation (``insert_one`` on ``shop.items``, a bulk write, a transaction, one
  consumer handler call): :meth:`Observer.begin` returns its :class:`Observation`,
  made current while mongocat works for it (so the driver's commands, which the
  observer may see through the client's event listeners, run inside it) and ended
  with the error that ended it, if any;
- an event of mongocat's own work on the operation in force (a bulk batch sent, a
  transaction attempt or retry, a change-stream resume), with counts, names, codes
  and labels as attributes;
- attributes of the operation in force (a GridFS transfer's byte count).
"""

import contextlib
import hashlib
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Literal, Protocol, TypeAlias

__all__ = [
    "NOTHING_OBSERVED",
    "AttributeValue",
    "Instrumentation",
    "Observation",
    "ObservedCatalogue",
    "Observer",
    "error_attributes",
    "observed",
    "retry_attributes",
    "token_digest",
]

#: An attribute's value: what OpenTelemetry (and most metric systems) take.
AttributeValue: TypeAlias = str | int | float | bool

_NO_BLOCK: Final = contextlib.nullcontext(None)


class Observation:
    """One operation as an observer sees it; this base class records nothing.

    An observer returns a subclass from :meth:`Observer.begin`; mongocat calls
    :meth:`activate` around the work it does for the operation (possibly several
    times: each fetch of a cursor, each batch of a bulk write), :meth:`event` and
    :meth:`annotate` while it runs, and :meth:`end` exactly once.
    """

    __slots__ = ()

    def activate(self) -> AbstractContextManager[object]:
        """A block during which this operation is the one in force (in this context)."""
        return _NO_BLOCK

    def event(self, name: str, attributes: Mapping[str, AttributeValue]) -> None:
        """Record that something happened during the operation."""
        return None

    def annotate(self, attributes: Mapping[str, AttributeValue]) -> None:
        """Add attributes to the operation."""
        return None

    def end(self, error: BaseException | None = None) -> None:
        """The operation is over: successfully, or with ``error``."""
        return None


#: The observation of an unobserved operation (shared: it holds nothing).
NOTHING_OBSERVED: Final = Observation()


class Observer:
    """What watches one Catalogue's operations; this base class watches nothing.

    Subclass it to send mongocat's operations to your own metrics or tracing
    system, and give it to the Catalogue through an :class:`Instrumentation`.
    """

    __slots__ = ()

    def begin(self, operation: str, namespace: str | None) -> Observation:
        """An operation starts.

        Args:
            operation: mongocat's name for it (``"insert_one"``, ``"bulk_write"``,
                ``"run_transaction"``, ``"handle"``...).
            namespace: ``"database.collection"``, the database's name, or a GridFS
                bucket's name; None when the operation has none.
        """
        return NOTHING_OBSERVED

    def event(self, name: str, attributes: Mapping[str, AttributeValue]) -> None:
        """Something happened during the operation in force in this context."""
        return None

    def annotate(self, attributes: Mapping[str, AttributeValue]) -> None:
        """Add attributes to the operation in force in this context."""
        return None


@dataclass(frozen=True, slots=True)
class ObservedCatalogue:
    """What an :class:`Instrumentation` learns of the Catalogue it observes.

    Attributes:
        database: The database's name.
        driver: ``"pymongo"`` or ``"motor"``.
        redact: Replaces the Catalogue's secrets (its URI's password...) in a text
            with ``***``; run every text an observer emits through it.
    """

    database: str
    driver: str
    redact: Callable[[str], str]


class Instrumentation(Protocol):
    """What ``Catalogue.connect(..., telemetry=)`` and ``cat.instrument()`` take.

    :class:`mongocat.telemetry.Telemetry` is one.
    """

    def listeners(self) -> Sequence[Any]:
        """The driver event listeners (``pymongo.monitoring``) to register on a client.

        ``Catalogue.connect(..., telemetry=)`` registers them on the client it
        creates; a client created elsewhere needs ``event_listeners=`` itself.
        """
        ...

    def observer(self, catalogue: ObservedCatalogue) -> Observer:
        """The observer of one Catalogue's operations."""
        ...


class _Observed:
    """The block of an observed operation: the observation, then its deadline block."""

    __slots__ = ("_active", "_block", "_observation")

    def __init__(self, observation: Observation, block: AbstractContextManager[Any]) -> None:
        self._observation = observation
        self._block = block
        self._active: AbstractContextManager[object] | None = None

    def __enter__(self) -> Any:
        observation = self._observation
        active = observation.activate()
        active.__enter__()
        try:
            value = self._block.__enter__()
        except BaseException as error:
            active.__exit__(type(error), error, error.__traceback__)
            observation.end(error)
            raise
        self._active = active
        return value

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        try:
            # The deadline block names a ClientTimeout after its operation, in place.
            self._block.__exit__(exc_type, exc, tb)
        finally:
            active, self._active = self._active, None
            if active is not None:
                active.__exit__(exc_type, exc, tb)
            self._observation.end(exc)
        return False


def observed(
    observer: Observer | None,
    block: AbstractContextManager[Any],
    operation: str,
    namespace: str | None,
) -> AbstractContextManager[Any]:
    """``block`` (an operation's deadline block), observed as ``operation`` if watched."""
    if observer is None:
        return block
    return _Observed(observer.begin(operation, namespace), block)


def error_attributes(error: BaseException) -> dict[str, AttributeValue]:
    """What may be said of an error: its class and the server's code, never its message.

    (A server's message can quote the document: ``E11000 duplicate key ... { email:
    "..." }``.)
    """
    attributes: dict[str, AttributeValue] = {"error.type": type(error).__qualname__}
    code = getattr(error, "code", None)
    if isinstance(code, int) and not isinstance(code, bool):
        attributes["db.response.status_code"] = str(code)
    code_name = getattr(error, "code_name", None)
    if isinstance(code_name, str) and code_name:
        attributes["mongocat.error.code_name"] = code_name
    return attributes


def retry_attributes(error: BaseException, label: str, attempt: int) -> dict[str, AttributeValue]:
    """The attributes of a retry: the attempt that failed, the label that allows it."""
    return {"attempt": attempt, "mongocat.error.label": label, **error_attributes(error)}


def token_digest(token: Mapping[str, Any]) -> str:
    """A short digest of a resume token, to match a resume with logs and checkpoints.

    The token itself is not shown: it encodes the changed document's key.
    """
    return hashlib.sha256(repr(sorted(token.items())).encode()).hexdigest()[:16]
