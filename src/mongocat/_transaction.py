"""Sessions and transactions that operations join implicitly, and a retrying runner.

Inside ``async with cat.transaction():`` (or ``cat.session()``) every mongocat
collection operation awaited in the same task uses that session, found through a
context variable; an explicit ``session=`` still wins. A session serves one
operation at a time, so an operation from another task (a child task inherits
the context variable) is refused with :class:`~mongocat.TransactionError` instead
of silently sharing or silently leaving the transaction.
"""

import asyncio
import contextlib
import contextvars
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from ._driver import DRIVER_ERRORS, start_session, start_transaction, translate_error
from ._errors import MongocatError, TransactionError, TransactionFailed

if TYPE_CHECKING:
    from ._catalogue import Catalogue

__all__ = ["Transaction", "bound_session", "run_transaction"]

_T = TypeVar("_T")

TRANSIENT = "TransientTransactionError"
UNKNOWN_COMMIT = "UnknownTransactionCommitResult"


@dataclass(frozen=True, slots=True)
class _Binding:
    """The session operations of one client join, and the task that owns it."""

    client: Any
    session: Any
    task: "asyncio.Task[Any] | None"
    transaction: bool


_CURRENT: contextvars.ContextVar[_Binding | None] = contextvars.ContextVar(
    "mongocat_session", default=None
)


def bound_session(client: Any) -> Any:
    """Return the session an operation on ``client`` joins implicitly, or None."""
    binding = _CURRENT.get()
    if binding is None or binding.client is not client:
        return None
    if binding.task is not asyncio.current_task():
        kind = "transaction" if binding.transaction else "session"
        raise TransactionError(
            f"this operation runs in another task than the {kind} it would join; a session "
            "serves one operation at a time: await it in the task that opened the "
            f"{kind}, or pass session= explicitly"
        )
    return binding.session


def _has_label(error: BaseException, label: str) -> bool:
    """Whether a mongocat or driver error carries an error label."""
    check = getattr(error, "has_error_label", None)
    return bool(check(label)) if callable(check) else False


def transaction_options(
    read_concern: str | ReadConcern | None,
    write_concern: str | int | WriteConcern | None,
    read_preference: Any,
    max_commit_time: float | timedelta | None,
) -> dict[str, Any]:
    """Turn the friendly option forms into the drivers' start_transaction arguments."""
    options: dict[str, Any] = {}
    if read_concern is not None:
        options["read_concern"] = (
            ReadConcern(read_concern) if isinstance(read_concern, str) else read_concern
        )
    if write_concern is not None:
        options["write_concern"] = (
            WriteConcern(w=write_concern) if isinstance(write_concern, str | int) else write_concern
        )
    if read_preference is not None:
        options["read_preference"] = read_preference
    if max_commit_time is not None:
        seconds = (
            max_commit_time.total_seconds()
            if isinstance(max_commit_time, timedelta)
            else max_commit_time
        )
        options["max_commit_time_ms"] = int(seconds * 1000)
    return options


class Transaction:
    """A transaction; use it as ``async with cat.transaction() as tx:``.

    Normal exit commits; an exception aborts and propagates; :meth:`abort` ends it
    early. Operations awaited inside the block, in the same task, join it.
    """

    __slots__ = ("_catalogue", "_ended", "_options", "_session", "_token")

    def __init__(self, catalogue: "Catalogue", options: dict[str, Any]) -> None:
        self._catalogue = catalogue
        self._options = options
        self._session: Any = None
        self._token: contextvars.Token[_Binding | None] | None = None
        self._ended = False

    @property
    def session(self) -> Any:
        """The driver session of the transaction."""
        if self._session is None:
            raise TransactionError("the transaction has not started; use `async with` first")
        return self._session

    async def __aenter__(self) -> Self:
        cat = self._catalogue
        cat._ensure_open()
        if self._session is not None:
            raise TransactionError("this transaction was entered already; make a new one")
        current = _CURRENT.get()
        if current is not None and current.client is cat.client and current.transaction:
            raise TransactionError(
                "a transaction is already open in this task; MongoDB has no nested "
                "transactions: run the inner work in the outer transaction"
            )
        self._session = await cat._run(start_session(cat.client, cat.driver, {}))
        try:
            await cat._run(start_transaction(self._session, cat.driver, self._options))
        except BaseException:
            await self._session.end_session()
            raise
        binding = _Binding(cat.client, self._session, asyncio.current_task(), transaction=True)
        self._token = _CURRENT.set(binding)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            _CURRENT.reset(self._token)
            self._token = None
        try:
            if exc is None and not self._ended:
                await self.commit()
            elif not self._ended and self._session.in_transaction:
                # The server aborts an unfinished transaction itself; the error that
                # ended the block is the one to report. Shielded: a task cancelled
                # in the block (or again while aborting) still aborts it now.
                with contextlib.suppress(MongocatError):
                    await asyncio.shield(self.abort())
        finally:
            await asyncio.shield(self._session.end_session())

    async def commit(self) -> None:
        """Commit now (``async with`` does this on a normal exit)."""
        self._ended = True
        await self._catalogue._run(self.session.commit_transaction())

    async def abort(self) -> None:
        """Abort now: nothing written in the transaction is kept."""
        self._ended = True
        await self._catalogue._run(self.session.abort_transaction())


async def run_transaction(
    catalogue: "Catalogue",
    fn: Callable[[], Awaitable[_T]],
    *,
    timeout: float,  # noqa: ASYNC109 - a retry deadline, not a cancellation
    max_attempts: int | None,
    options: dict[str, Any],
) -> _T:
    """Run ``fn`` in a transaction, retrying as MongoDB's convenient-transaction API does."""
    deadline = time.monotonic() + timeout
    attempts = 0
    last_error: BaseException | None = None

    def may_retry() -> bool:
        return time.monotonic() < deadline and (max_attempts is None or attempts < max_attempts)

    async def backoff() -> None:
        delay = min(0.5, 0.005 * 2**attempts) * random.random()
        await asyncio.sleep(max(0.0, min(delay, deadline - time.monotonic())))

    while True:
        attempts += 1
        transaction = Transaction(catalogue, options)
        try:
            async with transaction:
                result = await fn()
                while True:
                    try:
                        await transaction.commit()
                        break
                    except MongocatError as exc:
                        # The commit may or may not have applied: committing again is
                        # safe, since the server answers a repeated commit alike.
                        if _has_label(exc, UNKNOWN_COMMIT) and may_retry():
                            last_error = exc
                            await backoff()
                            continue
                        raise
            return result
        except BaseException as exc:
            if isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt, SystemExit)):
                raise
            error = translate_error(exc) if isinstance(exc, DRIVER_ERRORS) else exc
            if not _has_label(error, TRANSIENT):
                raise
            last_error = error
            if not may_retry():
                break
            await backoff()
    raise TransactionFailed(
        f"the transaction did not commit after {attempts} attempt(s) within {timeout}s "
        f"(last error: {last_error}); raise timeout= or reduce contention",
        attempts=attempts,
        last_error=last_error,
    )
