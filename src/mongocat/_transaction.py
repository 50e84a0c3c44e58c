"""Transactions that operations join implicitly, and a retrying runner.

Inside ``async with cat.transaction():`` every mongocat collection operation
awaited in the same task uses the transaction's session (see ``_sessions``, which
``cat.session()`` shares); an explicit ``session=`` still wins.
:func:`run_transaction` retries as MongoDB's convenient-transactions API does.
"""

import asyncio
import contextlib
import enum
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager
from datetime import timedelta
from types import TracebackType
from typing import Any, Final, Self, TypeVar

from ._coercion import as_duration
from ._concerns import (
    ReadConcernLike,
    ReadPreferenceLike,
    WriteConcernLike,
    driver_options,
    refuse_in_transaction,
)
from ._deadlines import Deadline, current, start, within
from ._driver import TransactionOptions
from ._errors import (
    ClientTimeout,
    ConfigurationError,
    MongocatError,
    TransactionError,
    TransactionFailed,
    TransactionTimeout,
)
from ._handle import DatabaseHandle
from ._observe import NOTHING_OBSERVED, retry_attributes
from ._sessions import Binding, bind, in_transaction, unbind

__all__ = ["Transaction", "run_transaction", "session_options", "transaction_options"]

_T = TypeVar("_T")

_log = logging.getLogger("mongocat")

TRANSIENT = "TransientTransactionError"
UNKNOWN_COMMIT = "UnknownTransactionCommitResult"


#: MaxTimeMSExpired, as a command error or a write-concern error.
_MAX_TIME_MS_EXPIRED = 50


def _max_time_expired(error: MongocatError) -> bool:
    """Whether ``error`` is MaxTimeMSExpired (also as the reply's writeConcernError)."""
    if getattr(error, "code", None) == _MAX_TIME_MS_EXPIRED:
        return True
    details = getattr(error, "details", None) or {}
    if isinstance(details, Mapping) and details.get("code") == _MAX_TIME_MS_EXPIRED:
        return True  # a write-concern error, made a ClientTimeout: its details are its own
    concern = details.get("writeConcernError") if isinstance(details, Mapping) else None
    return isinstance(concern, Mapping) and concern.get("code") == _MAX_TIME_MS_EXPIRED


def _has_label(error: BaseException, label: str) -> bool:
    """Whether a mongocat or driver error carries an error label."""
    check = getattr(error, "has_error_label", None)
    return bool(check(label)) if callable(check) else False


#: The transaction options mongocat takes, in transaction_options' order.
_OPTION_NAMES: Final = ("read_concern", "write_concern", "read_preference", "max_commit_time")


def transaction_options(
    read_concern: ReadConcernLike | None,
    write_concern: WriteConcernLike | None,
    read_preference: ReadPreferenceLike | None,
    max_commit_time: float | timedelta | None,
) -> dict[str, Any]:
    """Turn the friendly option forms into the drivers' start_transaction arguments.

    Raises:
        ConfigurationError: An option is not a valid concern or preference.
        TransactionError: ``w=0``, or a read preference other than primary.
    """
    options = driver_options(read_preference, read_concern, write_concern)
    refuse_in_transaction(
        options.get("read_preference"), options.get("write_concern"), "the transaction"
    )
    seconds = as_duration(max_commit_time, "max_commit_time", positive=True)
    if seconds is not None:
        options["max_commit_time_ms"] = max(1, round(seconds * 1000))
    return options


def session_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The driver's start_session arguments, with friendly default transaction options.

    ``default_transaction_options`` may be the driver's ``TransactionOptions`` or a
    mapping of :meth:`Catalogue.transaction`'s option names (``read_concern``,
    ``write_concern``, ``read_preference``, ``max_commit_time``).
    """
    result = dict(options)
    defaults = result.get("default_transaction_options")
    if isinstance(defaults, Mapping):
        unknown = sorted(set(defaults) - set(_OPTION_NAMES))
        if unknown:
            raise ConfigurationError(
                f"default_transaction_options has unknown option(s) {unknown}; use "
                f"{', '.join(_OPTION_NAMES[:-1])} and {_OPTION_NAMES[-1]}"
            )
        values = (defaults.get(name) for name in _OPTION_NAMES)
        result["default_transaction_options"] = TransactionOptions(**transaction_options(*values))
    return result


class _Tx(enum.Enum):
    """Where a transaction is in its life."""

    NEW = "not started"
    ACTIVE = "active"
    ENDED = "committed or aborted"
    CLOSED = "closed"


class Transaction:
    """A transaction; use it as ``async with cat.transaction() as tx:``.

    Normal exit commits; an exception aborts and propagates; :meth:`abort` ends it
    early. Operations awaited inside the block, in the same task, join it.
    """

    __slots__ = (
        "_active",
        "_binding",
        "_handle",
        "_observation",
        "_options",
        "_owns_session",
        "_session",
        "_state",
    )

    def __init__(
        self, handle: DatabaseHandle, options: dict[str, Any], *, session: Any = None
    ) -> None:
        self._handle = handle
        self._options = options
        #: A session given by the caller (the retrying runner's, kept across attempts)
        #: is used and left open; otherwise the transaction starts and ends its own.
        self._session: Any = session
        self._owns_session = session is None
        self._binding: Binding | None = None
        self._state = _Tx.NEW
        self._observation = NOTHING_OBSERVED
        self._active: AbstractContextManager[object] | None = None

    def __repr__(self) -> str:
        return f"<Transaction {self._state.value}>"

    @property
    def session(self) -> Any:
        """The driver session of the transaction."""
        if self._session is None:
            raise TransactionError("the transaction has not started; use `async with` first")
        return self._session

    async def __aenter__(self) -> Self:
        handle = self._handle
        handle.ensure_open()
        if self._state is not _Tx.NEW:
            raise TransactionError(
                f"this transaction was entered already (it is {self._state.value}); make a "
                "new one with cat.transaction()"
            )
        if in_transaction(handle.client):
            raise TransactionError(
                "a transaction is already open in this task; MongoDB has no nested "
                "transactions: run the inner work in the outer transaction"
            )
        # Observed as one operation, in force for the whole block: what runs in it
        # is part of it.
        observation = self._observation = handle.begin("transaction", handle.name)
        active = observation.activate()
        active.__enter__()
        try:
            if self._owns_session:
                joined = handle.session(None)  # the session of an enclosing cat.session()
                self._owns_session = joined is None
                self._session = joined if joined is not None else await handle.start_session({})
            try:
                await handle.start_transaction(self._session, self._options)
            except BaseException:
                if self._owns_session:
                    await self._session.end_session()
                self._state = _Tx.CLOSED
                raise
        except BaseException as error:
            active.__exit__(type(error), error, error.__traceback__)
            observation.end(error)
            raise
        self._active = active
        self._state = _Tx.ACTIVE
        self._binding = bind(handle.client, self._session, transaction=True)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._binding is not None:
            unbind(self._binding)
            self._binding = None
        outcome = exc
        try:
            if exc is None and self._state is _Tx.ACTIVE and self._session.in_transaction:
                await self.commit()
            elif self._state is _Tx.ACTIVE and self._session.in_transaction:
                # The server aborts an unfinished transaction itself; the error that
                # ended the block is the one to report. Shielded: a task cancelled
                # in the block (or again while aborting) still aborts it now.
                with contextlib.suppress(MongocatError):
                    await asyncio.shield(self.abort())
        except BaseException as error:
            outcome = error
            raise
        finally:
            self._state = _Tx.CLOSED
            try:
                if self._owns_session:
                    await asyncio.shield(self._session.end_session())
            finally:
                active, self._active = self._active, None
                if active is not None:
                    active.__exit__(type(outcome) if outcome else None, outcome, None)
                self._observation.end(outcome)

    def _ensure_active(self, action: str) -> None:
        """Refuse a commit or abort outside the transaction's life."""
        if self._state is _Tx.NEW:
            raise TransactionError(
                f"cannot {action} a transaction that has not started; use `async with` first"
            )
        if self._state is _Tx.CLOSED:
            raise TransactionError(
                f"cannot {action}: the transaction's block has ended; start a new one"
            )

    async def commit(self) -> None:
        """Commit now (``async with`` does this on a normal exit)."""
        self._ensure_active("commit")
        self._state = _Tx.ENDED
        await self._handle.run(self.session.commit_transaction())

    async def abort(self) -> None:
        """Abort now: nothing written in the transaction is kept."""
        self._ensure_active("abort")
        self._state = _Tx.ENDED
        await self._handle.run(self.session.abort_transaction())


async def run_transaction(
    handle: DatabaseHandle,
    fn: Callable[[], Awaitable[_T]],
    *,
    timeout: float | None,
    max_attempts: int | None,
    options: dict[str, Any],
    session: Any = None,
) -> _T:
    """Run ``fn`` in a transaction, retrying as MongoDB's convenient-transaction API does.

    Every attempt runs on one session, as the specification says: the same ``lsid``,
    and a causal chain from each attempt to the next. If ``fn`` ends the transaction
    itself (through the driver session), the runner does not commit it again. The
    caller's session (``session=``, or the one bound by ``cat.session()``) is used and
    left open, its default transaction options applying to options not given.

    With ``timeout`` (or inside a ``cat.timeout()`` scope) that deadline bounds the
    whole run, every operation of every attempt and every commit included, and is
    the retry limit (CSOT's rule for the convenient API); without, retrying stops
    after :data:`RETRY_LIMIT` seconds.
    """
    deadline = start(timeout)
    with handle.observed(within(deadline, "run_transaction"), "run_transaction", handle.name):
        attempts = _Attempts(handle, deadline or current(), max_attempts)
        given = handle.session(session)
        if given is not None:
            return await attempts.run(given, fn, options)
        own = await handle.start_session({})
        try:
            return await attempts.run(own, fn, options)
        finally:
            await asyncio.shield(own.end_session())


#: The convenient-transaction API's retry limit when no deadline is set, in seconds.
RETRY_LIMIT: Final = 120.0


class _Attempts:
    """The retry loop of :func:`run_transaction` on one session, and its deadline."""

    def __init__(
        self, handle: DatabaseHandle, deadline: Deadline | None, max_attempts: int | None
    ) -> None:
        self.handle = handle
        self.deadline = deadline
        self.limit = deadline.at if deadline is not None else time.monotonic() + RETRY_LIMIT
        self.max_attempts = max_attempts
        self.attempts = 0

    def may_retry(self) -> bool:
        return time.monotonic() < self.limit and (
            self.max_attempts is None or self.attempts < self.max_attempts
        )

    async def backoff(self) -> bool:
        """Wait before the next try; False when the wait would pass the deadline."""
        delay = min(0.5, 0.005 * 2**self.attempts) * random.random()
        if time.monotonic() + delay >= self.limit:
            return False
        await asyncio.sleep(delay)
        return True

    def retrying(self, what: str, label: str, error: BaseException) -> None:
        """Report a retry (of the whole transaction, or of its commit) and its cause."""
        attributes = retry_attributes(error, label, self.attempts)
        self.handle.event(f"mongocat.transaction.{what}", attributes)
        _log.warning(
            "transaction on %r: %s after %s (%s), attempt %d",
            self.handle.name,
            "committing again" if what == "commit_retry" else "running again",
            label,
            attributes["error.type"],
            self.attempts,
            extra={"mongocat": {"event": f"transaction.{what}", **attributes}},
        )

    async def commit(self, transaction: "Transaction") -> None:
        """Commit, committing again after an unknown result while the deadline allows.

        The commit may or may not have applied: committing again is safe, since the
        server answers a repeated commit alike. The convenient-transactions
        specification: never after MaxTimeMSExpired, which says the commit's own time
        is up.
        """
        while True:
            try:
                await transaction.commit()
                return
            except MongocatError as exc:
                if not (
                    _has_label(exc, UNKNOWN_COMMIT)
                    and not _max_time_expired(exc)
                    and self.may_retry()
                    and await self.backoff()
                ):
                    raise
                self.retrying("commit_retry", UNKNOWN_COMMIT, exc)

    async def run(
        self,
        session: Any,
        fn: Callable[[], Awaitable[_T]],
        options: dict[str, Any],
    ) -> _T:
        last_error: BaseException | None = None
        cut = False  # by the deadline, during an attempt
        while True:
            self.attempts += 1
            self.handle.event("mongocat.transaction.attempt", {"attempt": self.attempts})
            transaction = Transaction(self.handle, options, session=session)
            try:
                async with transaction:
                    result = await fn()
                    if session.in_transaction:  # else the callback ended it itself
                        await self.commit(transaction)
                return result
            except BaseException as exc:
                if isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt, SystemExit)):
                    raise
                error = self.handle.error_from(exc)
                if (
                    isinstance(error, ClientTimeout)
                    and self.deadline is not None
                    and error.details.get("deadline") is self.deadline
                ):
                    # The run's own deadline cut this attempt (with or without the
                    # transient label the driver may add): the run is over.
                    last_error, cut = error, True
                    break
                if not _has_label(error, TRANSIENT):
                    raise
                last_error = error
                if not (self.may_retry() and await self.backoff()):
                    break
                self.retrying("retry", TRANSIENT, error)
        if self.deadline is not None and (cut or time.monotonic() + 0.001 >= self.limit):
            raise TransactionTimeout(
                f"the transaction did not commit within its deadline of "
                f"{self.deadline.seconds:g} s (set by {self.deadline.origin}) after "
                f"{self.attempts} attempt(s) (last error: {last_error}); give it a longer "
                "timeout or reduce contention",
                attempts=self.attempts,
                last_error=last_error,
            )
        limit = f"{RETRY_LIMIT:g} s" if self.deadline is None else "its deadline"
        raise TransactionFailed(
            f"the transaction did not commit after {self.attempts} attempt(s) within "
            f"{limit} (last error: {last_error}); pass timeout=, raise max_attempts or "
            "reduce contention",
            attempts=self.attempts,
            last_error=last_error,
        )
