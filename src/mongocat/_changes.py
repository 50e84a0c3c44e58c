"""Change streams: auto-resume, checkpointed resume tokens, consumers.

The drivers resume a change stream once, in memory, after a resumable error. This
module adds what a service needs to process every change at least once across
network failures, server restarts and its own restarts: resuming with backoff until
a limit, starting after a token saved in a :class:`Checkpoint`, a policy for history
that is gone, and :class:`Consumer`, a background task that checkpoints after each
handled event. The events, options and resume rules are in ``_change_events``.
"""

import asyncio
import contextlib
import dataclasses
import enum
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Generic, Literal, Self, cast

from ._change_events import (
    STARTS,
    ChangeEvent,
    StreamGap,
    WatchOptions,
    history_lost,
    resumable,
)
from ._deadlines import current
from ._errors import (
    ChangeStreamError,
    ChangeStreamHistoryLost,
    ChangeStreamInvalidated,
    ConfigurationError,
    MongocatError,
)
from ._handle import DatabaseHandle
from ._observe import retry_attributes, token_digest
from ._types import DocT, DriverName

__all__ = ["ChangeStream", "Consumer"]

_log = logging.getLogger("mongocat")

#: The label a server puts on an error a change stream may resume after.
_RESUMABLE = "ResumableChangeStreamError"

#: What an observed block without a deadline of its own stands on.
_NO_DEADLINE = contextlib.nullcontext()


class _Stream(enum.Enum):
    """Where a change stream is in its life."""

    NEW = "not open"
    OPEN = "open"
    CLOSED = "closed"


class ChangeStream(Generic[DocT]):
    """A change stream: an async context manager and an async iterator of events.

    Get one from :meth:`Collection.watch` or :meth:`Catalogue.watch`. The stream is
    open (the server has fixed its starting point) once ``async with`` is entered, so
    changes made after that are seen. Iteration waits for the next change.

    After a resumable error (a network error, a failover, a server restart) the
    stream reopens after the last event it delivered, with exponential backoff, up to
    ``resume_attempts`` times in a row; events are neither lost nor repeated.

    With a ``checkpoint``, the stream starts after the checkpoint's token and saves
    each event's token once the event is handled: when the next event is asked for,
    or when the ``async with`` block exits without an exception.

    Example:
        >>> async with products.watch(full_document="updateLookup") as stream:  # doctest: +SKIP
        ...     async for event in stream:
        ...         print(event.operation_type, event.full_document)
    """

    __slots__ = (
        "_autosave",
        "_decode",
        "_driver_stream",
        "_failures",
        "_gaps",
        "_handle",
        "_invalidated",
        "_last_token",
        "_options",
        "_start_token",
        "_state",
        "_target",
        "_unsaved",
    )

    def __init__(
        self,
        handle: DatabaseHandle,
        target: Any,
        options: WatchOptions,
        *,
        autosave: bool = True,
        decode: Callable[[Any], Any] | None = None,
    ) -> None:
        handle.refuse_javascript(options.pipeline, "watch")
        self._handle = handle
        self._decode = decode
        self._target = target
        self._options = options
        self._autosave = autosave
        self._driver_stream: Any = None
        self._state = _Stream.NEW
        self._failures = 0
        self._gaps: list[StreamGap] = []
        self._invalidated: ChangeEvent[DocT] | None = None
        self._last_token: dict[str, Any] | None = None
        self._start_token: dict[str, Any] | None = None
        self._unsaved: dict[str, Any] | None = None

    def __repr__(self) -> str:
        # Never getattr a driver client (an unknown attribute is a database).
        name = "the cluster" if self._target is self._handle.client else self._target.name
        return f"<ChangeStream on {name!r} {self._state.value}>"

    @property
    def driver(self) -> DriverName:
        """The driver the stream runs on."""
        return self._handle.driver

    @property
    def resume_token(self) -> dict[str, Any] | None:
        """The token to resume after everything delivered so far (None before opening).

        Past the last event, the driver may advance it to the server's latest
        position (``postBatchResumeToken``) without delivering events.
        """
        if self._driver_stream is not None:
            token = self._driver_stream.resume_token
            if token is not None:
                return dict(token)
        return self._last_token

    @property
    def gaps(self) -> list[StreamGap]:
        """The restarts from "now" that ``on_gap="restart"`` made, oldest first."""
        return list(self._gaps)

    # -- opening and closing -------------------------------------------------------

    async def open(self) -> Self:
        """Open the stream (``async with`` does this); opening twice is harmless.

        Raises:
            ChangeStreamHistoryLost: The checkpoint's or given token is no longer in
                the oplog and ``on_gap="raise"``.
            ServerFeatureUnavailable: The server does not support change streams
                (a standalone server: use a replica set).
        """
        if self._state is _Stream.CLOSED:
            raise ChangeStreamError(
                "this change stream was closed; call watch() again for a new one"
            )
        if self._state is _Stream.OPEN:
            return self
        self._handle.ensure_open()
        options = dict(self._options.driver_options)
        checkpoint = self._options.checkpoint
        if checkpoint is not None and not STARTS & set(options):
            token = await checkpoint.load()
            if token is not None:
                options["start_after"] = token
                self._start_token = token
        else:
            self._start_token = options.get("resume_after") or options.get("start_after")
        with self._handle.observed(_NO_DEADLINE, "watch", self._namespace):
            try:
                self._driver_stream = await self._open(options)
            except MongocatError as error:
                if not history_lost(error):
                    raise
                self._driver_stream = await self._restart("history_lost", error)
        self._state = _Stream.OPEN
        return self

    @property
    def _namespace(self) -> str:
        """The watched collection's or database's full name (the cluster: "")."""
        # Asked of the class: a driver database or client makes any missing attribute
        # a collection or a database.
        target = self._target
        kind = type(target)
        if hasattr(kind, "full_name"):
            return str(target.full_name)
        return str(target.name) if hasattr(kind, "name") else ""

    async def _open(self, options: Mapping[str, Any]) -> Any:
        """Open a driver stream with ``options``."""
        return await self._handle.open_change_stream(
            self._target, {"pipeline": self._options.pipeline, **options}
        )

    def _base_options(self) -> dict[str, Any]:
        """The driver options without a starting point."""
        return {
            key: value for key, value in self._options.driver_options.items() if key not in STARTS
        }

    async def _restart(
        self, reason: Literal["history_lost", "invalidated"], error: MongocatError | None
    ) -> Any:
        """Apply the ``on_gap`` policy: raise, or open again and record the gap."""
        after = self._last_token or self._start_token
        invalidated, self._invalidated = self._invalidated, None
        if self._options.on_gap == "raise":
            if reason == "history_lost":
                raise ChangeStreamHistoryLost(
                    "the change stream cannot resume: its resume point is no longer in "
                    "the oplog; enlarge the oplog (replSetResizeOplog) or speed up the "
                    "consumer, or pass on_gap='restart' to continue from now and record "
                    "the gap",
                    resume_token=after,
                    driver_error=error,
                ) from error
            assert invalidated is not None
            raise ChangeStreamInvalidated(invalidated.raw)
        options = self._base_options()
        if invalidated is not None:  # continue after the invalidate event itself
            options["start_after"] = invalidated.resume_token
        self._gaps.append(StreamGap(reason, after, datetime.now(UTC), error))
        # The token itself is in ``gaps``; the log has its digest (it encodes a key).
        digest = token_digest(after) if after is not None else None
        _log.warning(
            "change stream on %r started again from now (%s) after token digest %s",
            self._namespace,
            reason,
            digest,
            extra={
                "mongocat": {
                    "event": "change_stream.restart",
                    "namespace": self._namespace,
                    "reason": reason,
                    "token_digest": digest,
                }
            },
        )
        return await self._open(options)

    async def close(self) -> None:
        """Close the stream; iteration then ends. Closing twice is harmless."""
        self._state = _Stream.CLOSED
        await self._discard()

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if exc is None:
                await self._save_handled()
        finally:
            await self.close()

    # -- iterating -----------------------------------------------------------------

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> ChangeEvent[DocT]:
        await self._save_handled()
        if self._invalidated is not None:
            await self._discard()
            self._driver_stream = await self._restart("invalidated", None)
        while True:
            stream = self._driver_stream
            if stream is None:
                if self._state is _Stream.CLOSED:
                    raise StopAsyncIteration
                raise ChangeStreamError(
                    "the change stream is not open: use 'async with coll.watch() as "
                    "stream:' (or await stream.open()) before iterating"
                )
            try:
                with self._handle.errors:
                    raw = await stream.next()
            except MongocatError as error:
                await self._recover(error)
                continue
            self._failures = 0
            event: ChangeEvent[DocT] = cast("ChangeEvent[DocT]", ChangeEvent.from_raw(raw))
            if self._decode is not None:
                event = dataclasses.replace(
                    event,
                    full_document=self._decode(event.full_document),
                    full_document_before_change=self._decode(event.full_document_before_change),
                )
            self._last_token = event.resume_token
            if self._autosave and self._options.checkpoint is not None:
                self._unsaved = event.resume_token
            if event.operation_type == "invalidate":
                self._invalidated = event
            return event

    async def _recover(self, error: MongocatError) -> None:
        """Reopen after a resumable error, with backoff, or raise ``error``."""
        token = self.resume_token
        await self._discard()
        while True:
            if history_lost(error):
                self._driver_stream = await self._restart("history_lost", error)
                return
            wire_version = self._handle.wire_version()
            delay = min(self._options.resume_backoff * 2**self._failures, 5.0)
            delay *= 0.5 + random.random() / 2
            deadline = current()  # resumes share the caller's deadline
            if (
                not resumable(error, wire_version)
                or self._failures >= self._options.resume_attempts
                or (deadline is not None and deadline.remaining() <= delay)
            ):
                raise error
            self._failures += 1
            attributes = retry_attributes(error, _RESUMABLE, self._failures)
            if token is not None:
                attributes["mongocat.change_stream.token_digest"] = token_digest(token)
            _log.warning(
                "change stream on %r: resuming after %s, attempt %d",
                self._namespace,
                attributes["error.type"],
                self._failures,
                extra={"mongocat": {"event": "change_stream.resume", **attributes}},
            )
            await asyncio.sleep(delay)
            options = self._base_options()
            if token is not None:
                options["resume_after"] = token
            else:  # nothing delivered yet: start where the stream was asked to start
                options.update(
                    {k: v for k, v in self._options.driver_options.items() if k in STARTS}
                )
                if self._start_token is not None and not STARTS & set(options):
                    options["start_after"] = self._start_token
            try:
                with self._handle.observed(_NO_DEADLINE, "resume", self._namespace):
                    self._handle.event("mongocat.change_stream.resume", attributes)
                    self._driver_stream = await self._open(options)
                return
            except MongocatError as reopen_error:
                error = reopen_error

    async def _discard(self) -> None:
        """Close the driver stream, if any, leaving the ChangeStream usable."""
        stream, self._driver_stream = self._driver_stream, None
        if stream is not None:
            # A broken connection cannot close its cursor; the server drops it itself.
            with contextlib.suppress(MongocatError), self._handle.errors:
                await stream.close()

    async def _save_handled(self) -> None:
        """Save the token of the event the caller has finished with."""
        token, self._unsaved = self._unsaved, None
        if token is not None and self._options.checkpoint is not None:
            await self._options.checkpoint.save(token)


class Consumer(Generic[DocT]):
    """A background task that hands each change to ``handler`` and checkpoints it.

    Get one from :meth:`Collection.consume` or :meth:`Catalogue.consume`. Entering
    ``async with`` opens the stream (changes made after that are delivered) and
    starts the task; leaving it stops the task cleanly: a handler call in progress
    finishes and is checkpointed, a wait for the next change is cancelled.

    Processing is at least once: the checkpoint is saved after ``handler`` returns, so
    an event whose handler failed, or was cut short by a crash, is delivered again on
    the next start. A handler error stops the consumer and is raised by ``wait()`` and
    on leaving the ``async with`` block, never swallowed.

    Example:
        >>> async def index(event: ChangeEvent[Product]) -> None:  # doctest: +SKIP
        ...     await search.update(event.document_key, event.full_document)
        >>> async with products.consume(index, checkpoint=CollectionCheckpoint(cat, "search")):
        ...     await shutdown.wait()
    """

    __slots__ = ("_busy", "_error", "_handler", "_processed", "_stopping", "_stream", "_task")

    def __init__(
        self, stream: ChangeStream[DocT], handler: Callable[[ChangeEvent[DocT]], Awaitable[object]]
    ) -> None:
        if not callable(handler):
            raise ConfigurationError(f"the handler must be an async function, not {handler!r}")
        self._stream = stream
        self._handler = handler
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self._processed = 0
        self._busy = False
        self._stopping = False

    def __repr__(self) -> str:
        return f"<Consumer processed={self._processed} running={self.running}>"

    @property
    def processed(self) -> int:
        """How many events the handler has finished."""
        return self._processed

    @property
    def running(self) -> bool:
        """Whether the background task is still running."""
        return self._task is not None and not self._task.done()

    @property
    def error(self) -> BaseException | None:
        """The error that stopped the consumer, if any."""
        return self._error

    @property
    def stream(self) -> ChangeStream[DocT]:
        """The change stream the consumer reads (its ``gaps`` and ``resume_token``)."""
        return self._stream

    async def start(self) -> Self:
        """Open the stream and start the task (``async with`` does this)."""
        if self._task is not None:
            raise ChangeStreamError("this consumer was started already")
        await self._stream.open()
        self._task = asyncio.create_task(self._run(), name="mongocat-consumer")
        return self

    async def _run(self) -> None:
        checkpoint = self._stream._options.checkpoint
        try:
            handle, namespace = self._stream._handle, self._stream._namespace
            async for event in self._stream:
                self._busy = True
                try:
                    with handle.observed(_NO_DEADLINE, "handle", namespace):
                        kind = event.operation_type or ""
                        handle.annotate({"mongocat.change.operation_type": kind})
                        await self._handler(event)
                    if checkpoint is not None:
                        await checkpoint.save(event.resume_token)
                    self._processed += 1
                finally:
                    self._busy = False
                if self._stopping:
                    return
        except asyncio.CancelledError:
            if not self._stopping:
                raise
        except Exception as error:  # kept, and raised by wait() and on exit
            self._error = error
        finally:
            await self._stream.close()

    async def wait(self) -> None:
        """Wait until the consumer stops; raise the handler's or the stream's error."""
        if self._task is not None:
            await asyncio.shield(self._task)
        if self._error is not None:
            raise self._error

    async def stop(self, grace: float | None = None) -> None:
        """Stop after the handler call in progress, if any; safe to call twice.

        Args:
            grace: How many seconds to let a handler call in progress finish; past
                them the call is cancelled and its event is not checkpointed (so it is
                delivered again next time). None waits for it.
        """
        task = self._task
        if task is None or task.done():
            await self._stream.close()
            return
        self._stopping = True
        if not self._busy:
            task.cancel()
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        except asyncio.CancelledError:
            if not task.done():  # the caller itself was cancelled
                raise

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
        if exc is None and self._error is not None:
            raise self._error
