"""Deadlines: ``timeout=`` on a call and ``cat.timeout()`` scopes, on the drivers' CSOT.

A deadline is a point on the monotonic clock. ``async with cat.timeout(2.0):`` sets
one for a block and ``timeout=2.0`` for one call; inside another deadline the
earlier one wins, so a scope or an explicit ``timeout=`` can only shorten what the
caller already promised. The deadline in force is a context variable, so tasks
started inside a scope inherit it.

The drivers enforce it: every driver call made inside runs under
``pymongo.timeout(remaining)``, MongoDB's client-side operation timeout (CSOT), which
bounds server selection, the wait for a pooled connection and every round trip, and
sends the remaining time to the server as ``maxTimeMS``. Motor runs PyMongo's
synchronous API on threads and copies the caller's context variables into each
call it submits, so the same scope reaches it, provided the Motor call is *made*
inside the block (Motor submits the work when it is called, not when awaited).
mongocat's own retry loops (bulk retries, transaction retries, change-stream
resumes) read :meth:`Deadline.remaining` and stop at the same deadline.

When a driver error that is a timeout (``exc.timeout``) happens while a deadline
is in force, the handle raises :func:`expired` for it: a
:class:`~mongocat.ClientTimeout` naming the operation and the deadline.
"""

import contextlib
import time
from contextvars import ContextVar, Token
from dataclasses import dataclass
from types import TracebackType
from typing import Final, Literal

import pymongo

from ._coercion import as_timeout as seconds
from ._errors import ClientTimeout, ConfigurationError

__all__ = [
    "Deadline",
    "bound",
    "current",
    "earlier",
    "expired",
    "reason_of",
    "scope",
    "seconds",
    "start",
    "within",
]


@dataclass(frozen=True, slots=True)
class Deadline:
    """When the caller's time runs out, and who set it.

    Attributes:
        at: The deadline on ``time.monotonic()``'s clock.
        seconds: The timeout that set it, in seconds.
        origin: Who set it, for messages (``"cat.timeout(2.0)"``, ``"timeout=0.5"``).
    """

    at: float
    seconds: float
    origin: str

    def remaining(self) -> float:
        """The seconds left (negative once it has passed)."""
        return self.at - time.monotonic()


_CURRENT: Final[ContextVar[Deadline | None]] = ContextVar("mongocat_deadline", default=None)


#: The deadline in force in this task, or None (the context variable's own getter:
#: every driver call asks, and a C call costs less than a Python one).
current: Final = _CURRENT.get


def expired(
    deadline: Deadline,
    operation: str | None,
    cause: BaseException | None = None,
    reason: str | None = None,
    during: str | None = None,
) -> ClientTimeout:
    """The error for ``operation`` having run past ``deadline``.

    Args:
        deadline: The deadline that passed.
        operation: What ran past it (``"find_one on 'shop.items'"``), if known.
        cause: The driver's exception, kept as ``.driver_error``.
        reason: The driver's reason, already redacted, for the message.
        during: The inner operation that was running (``download``'s ``find_one``).
    """
    what = operation or "the operation"
    because = "; ".join(part for part in (during and f"during {during}", reason) if part)
    details: dict[str, object] = {
        "deadline": deadline,
        "deadline_seconds": deadline.seconds,
        "set_by": deadline.origin,
    }
    if operation is not None:
        details["operation"] = operation
    if reason:
        details["reason"] = reason
    if during:
        details["during"] = during
    return ClientTimeout(
        f"{what} did not finish within its deadline of {deadline.seconds:g} s (set by "
        f"{deadline.origin}){f' ({because})' if because else ''}; the server may still "
        "complete it: retry only if it is idempotent, or give it a longer timeout",
        driver_error=cause,
        error_labels=getattr(cause, "_error_labels", ()),
        details=details,
    )


def reason_of(cause: BaseException) -> str:
    """The driver's reason for a timeout, without its topology dump or its settings."""
    text = str(cause).split("\n", 1)[0]
    for end in (", Timeout:", " (configured timeouts", ", Topology Description"):
        text = text.split(end, 1)[0]
    return text if len(text) <= 120 else text[:117] + "..."


class _Within:
    """The block of one deadline: sets it, runs the driver under it, names a timeout.

    A sync context manager, entered around both making and awaiting a driver call
    (Motor submits its work when called).
    """

    __slots__ = ("_deadline", "_driver", "_enter_driver", "_namespace", "_operation", "_token")

    def __init__(
        self,
        deadline: Deadline,
        operation: str | None,
        namespace: str | None = None,
        *,
        enter_driver: bool,
    ) -> None:
        self._deadline = deadline
        self._operation = operation
        self._namespace = namespace
        self._enter_driver = enter_driver
        self._token: Token[Deadline | None] | None = None
        self._driver: object = None

    @property
    def _name(self) -> str | None:
        """The operation, for messages (formatted only when one is needed)."""
        if self._operation is None or self._namespace is None:
            return self._operation
        return f"{self._operation} on {self._namespace!r}"

    def __enter__(self) -> Deadline:
        deadline = self._deadline
        remaining = deadline.remaining()
        if remaining <= 0:
            raise expired(deadline, self._name)
        self._token = _CURRENT.set(deadline)
        if self._enter_driver:
            scope = pymongo.timeout(remaining)
            scope.__enter__()
            self._driver = scope
        return deadline

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        scope = self._driver
        if scope is not None:
            self._driver = None
            scope.__exit__(exc_type, exc, tb)  # type: ignore[attr-defined]
        if self._token is not None:
            _CURRENT.reset(self._token)
            self._token = None
        if (
            isinstance(exc, ClientTimeout)
            and self._operation is not None
            and exc.details.get("deadline") is self._deadline
        ):
            # Raised inside, by a driver call (which does not know its operation) or
            # an inner operation on the same deadline: name the caller's operation,
            # the outermost one, and say what was running.
            details = exc.details
            name = self._name
            inner = details.get("operation")
            named = expired(
                self._deadline,
                name,
                exc.driver_error,
                details.get("reason"),
                details.get("during") or (inner if inner != name else None),
            )
            exc.args = (named.message,)
            exc.message = named.message
            exc.details = named.details
        return False

    async def __aenter__(self) -> Deadline:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        return self.__exit__(exc_type, exc, tb)


#: No deadline in force and none given: a block that does nothing (the common case).
_NO_DEADLINE: Final = contextlib.nullcontext(None)


def bound(
    timeout: float | None, operation: str, namespace: str | None = None
) -> "_Within | contextlib.nullcontext[None]":
    """The block of one operation given ``timeout=`` (checked), inside any deadline.

    Args:
        timeout: The operation's own timeout in seconds, or None.
        operation: Its name, for messages (``"find_one"``).
        namespace: The collection or database it works on, for messages.

    With neither a timeout nor a deadline in force, a block that does nothing.
    """
    if timeout is None:
        outer = _CURRENT.get()
        if outer is None:
            return _NO_DEADLINE
        # The outer deadline's driver scope is already in force in this context.
        return _Within(outer, operation, namespace, enter_driver=False)
    return within(start(timeout), operation, namespace)


def start(timeout: float | None, origin: str = "timeout={seconds}") -> Deadline | None:
    """The deadline ``timeout`` seconds (checked) from now, or None.

    ``origin`` says who set it, ``{seconds}`` standing for the timeout.
    """
    given = seconds(timeout)
    if given is None:
        return None
    return Deadline(time.monotonic() + given, given, origin.format(seconds=f"{given:g}"))


def earlier(first: Deadline | None, second: Deadline | None) -> Deadline | None:
    """The earlier of two deadlines (``first`` on a tie); None only if both are."""
    if first is None or (second is not None and second.at < first.at):
        return second
    return first


def within(
    deadline: Deadline | None, operation: str, namespace: str | None = None
) -> "_Within | contextlib.nullcontext[None]":
    """The block of a deadline fixed earlier (a cursor's), or of the one in force."""
    outer = _CURRENT.get()
    chosen = earlier(outer, deadline)
    if chosen is None:
        return _NO_DEADLINE
    # The outer deadline's driver scope is already in force in this context.
    return _Within(chosen, operation, namespace, enter_driver=chosen is not outer)


def scope(timeout: float, origin: str) -> "_Within":
    """The block of ``async with cat.timeout(s)``: a deadline for everything inside."""
    given = seconds(timeout)
    if given is None:
        raise ConfigurationError("timeout(...) needs a number of seconds, such as 2.5")
    deadline = Deadline(time.monotonic() + given, given, origin.format(seconds=f"{given:g}"))
    outer = _CURRENT.get()
    chosen = earlier(outer, deadline) or deadline
    return _Within(chosen, None, enter_driver=chosen is not outer)
