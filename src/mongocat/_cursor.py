"""The typed cursor returned by ``Collection.find``."""

from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from types import TracebackType
from typing import Any, Final, Generic, Literal, Self, cast, get_args

from ._deadlines import Deadline, current, earlier, start, within
from ._documents import SKIP, Decoder, decode_rows
from ._errors import InvalidQuery
from ._explain import ExplainSummary
from ._handle import DatabaseHandle
from ._observe import NOTHING_OBSERVED
from ._types import DocT

__all__ = ["VERBOSITIES", "Cursor", "Verbosity"]

#: The verbosity of an explain, as the server names it.
Verbosity = Literal["queryPlanner", "executionStats", "allPlansExecution"]
VERBOSITIES: Final = get_args(Verbosity)


class Cursor(Generic[DocT]):
    """The documents a query matches, fetched in batches as they are consumed.

    A cursor is async-iterable, awaitable (``await cursor`` is ``await
    cursor.to_list()``) and an async context manager that closes it on exit.

    A cursor made with ``timeout=`` has one deadline for its whole life, from its
    first round trip (CSOT's ``cursorLifetime`` mode): every batch it fetches must
    arrive before it. Otherwise each fetch runs within whatever
    :meth:`~mongocat.Catalogue.timeout` scope is in force where it is consumed.

    Example:
        >>> async for product in products.find({"price": {"$lt": 10}}):  # doctest: +SKIP
        ...     print(product["name"])
    """

    __slots__ = (
        "_cursor",
        "_deadline",
        "_decode",
        "_explainer",
        "_handle",
        "_namespace",
        "_observation",
        "_opener",
        "_timeout",
        "skipped",
    )

    def __init__(
        self,
        handle: DatabaseHandle,
        driver_cursor: Any,
        *,
        opener: Callable[[], Awaitable[Any]] | None = None,
        explainer: Callable[[str], Awaitable[Any]] | None = None,
        decode: Decoder | None = None,
        timeout: float | None = None,
        namespace: str | None = None,
    ) -> None:
        self._handle = handle
        self._timeout = timeout
        self._deadline: Deadline | None = None
        self._namespace = namespace
        self._cursor = driver_cursor
        self._opener = opener
        self._explainer = explainer
        self._decode = decode
        self._observation = NOTHING_OBSERVED
        #: How many stored documents were skipped for not fitting the document type
        #: (only with ``on_invalid="skip"``).
        self.skipped = 0

    @property
    def driver_cursor(self) -> Any:
        """The driver's own cursor (Motor's or PyMongo's), once the query has started."""
        return self._cursor

    def _life(self, timeout: float | None = None) -> Deadline | None:
        """The cursor's deadline: set at its first round trip, from ``timeout=``.

        A ``timeout`` given to one call (``to_list(timeout=...)``) bounds that call,
        within the cursor's own deadline.
        """
        if self._deadline is None and self._timeout is not None:
            self._deadline = start(self._timeout)
        return earlier(self._deadline, start(timeout))

    async def _open(self) -> Any:
        """The driver cursor, opening it first for an aggregation."""
        if self._cursor is None and self._opener is not None:
            self._cursor = await self._opener()
        return self._cursor

    def __aiter__(self) -> AsyncIterator[DocT]:
        return self._iterate()

    @property
    def _operation(self) -> str:
        """The cursor's operation, as an observer sees it."""
        return "find" if self._opener is None else "aggregate"

    async def _iterate(self) -> AsyncIterator[DocT]:
        """Yield the documents, translating driver errors."""
        if self._timeout is not None or current() is not None or self._handle.observer:
            async for document in self._iterate_within():
                yield document
            return
        decode = self._decode
        with self._handle.read_errors:
            cursor = self._cursor if self._cursor is not None else await self._open()
            if decode is None:
                async for document in cursor:
                    yield document
            else:
                async for document in cursor:
                    value = decode(document)
                    if value is SKIP:
                        self.skipped += 1
                    else:
                        yield value

    async def _iterate_within(self) -> AsyncIterator[DocT]:
        """Yield the documents, each fetch within the cursor's deadline.

        The deadline is entered around each fetch, never across a ``yield``: the
        consumer's code between documents runs in its own context.
        """
        decode = self._decode
        deadline = self._life()
        # Observed as one operation from the first fetch to the last (or to an
        # error, or to the consumer leaving the loop); in force only while fetching.
        observation = self._observation = self._handle.begin(self._operation, self._namespace)
        outcome: BaseException | None = None
        try:
            with (
                within(deadline, "find", self._namespace),
                observation.activate(),
                self._handle.read_errors,
            ):
                cursor = self._cursor if self._cursor is not None else await self._open()
            run = self._handle.run
            while True:
                with within(deadline, "find", self._namespace), observation.activate():
                    try:
                        document = await run(cursor.__anext__(), read=True)
                    except StopAsyncIteration:
                        return
                if decode is None:
                    yield document
                    continue
                value = decode(document)
                if value is SKIP:
                    self.skipped += 1
                else:
                    yield value
        except GeneratorExit:  # the consumer left the loop: not an error
            raise
        except BaseException as error:
            outcome = error
            raise
        finally:
            if self._observation is observation:  # not ended by close() already
                self._observation = NOTHING_OBSERVED
                observation.end(outcome)

    async def to_list(
        self, length: int | None = None, *, timeout: float | None = None
    ) -> list[DocT]:
        """Return the remaining documents as a list.

        Args:
            length: Return at most this many documents; None returns all of them.
            timeout: A deadline in seconds for this call (within the cursor's own
                ``timeout=`` and any :meth:`~mongocat.Catalogue.timeout` scope).

        Returns:
            The documents, in the cursor's order.
        """
        with (
            self._handle.observed(
                within(self._life(timeout), "find", self._namespace),
                self._operation,
                self._namespace,
            ),
            self._handle.read_errors,
        ):
            cursor = self._cursor if self._cursor is not None else await self._open()
            documents = await self._handle.run(cursor.to_list(length), read=True)
        decode = self._decode
        if decode is None:
            return cast("list[DocT]", documents)
        kept, skipped = decode_rows(decode, documents)
        self.skipped += skipped
        return kept

    def __await__(self) -> Generator[Any, None, list[DocT]]:
        return self.to_list().__await__()

    async def explain(
        self, verbosity: Verbosity | None = None, *, timeout: float | None = None
    ) -> ExplainSummary:
        """Ask the server how it runs this query (and run it for the statistics).

        Args:
            verbosity: ``"queryPlanner"`` (the plan only: nothing runs),
                ``"executionStats"`` (the winning plan's statistics) or
                ``"allPlansExecution"``; by default the driver's for a find and
                ``"executionStats"`` for an aggregation.
            timeout: A deadline in seconds for this call.

        Returns:
            The winning stage (IXSCAN, COLLSCAN, ...), the index, and what was read.

        Raises:
            InvalidQuery: ``verbosity`` is not one of the three.
        """
        if verbosity is not None and verbosity not in VERBOSITIES:
            raise InvalidQuery(
                f"verbosity must be one of {', '.join(map(repr, VERBOSITIES))}, not {verbosity!r}"
            )
        with (
            self._handle.observed(
                within(self._life(timeout), "explain", self._namespace),
                "explain",
                self._namespace,
            ),
            self._handle.read_errors,
        ):
            if self._explainer is not None and (verbosity is not None or self._opener):
                reply = await self._handle.run(self._explainer(verbosity or "executionStats"))
            else:
                reply = await self._handle.run(self._cursor.explain())
            return ExplainSummary.from_explain(reply)

    async def close(self) -> None:
        """Close the cursor and free its server-side resources."""
        # An iteration left early ends here (else when its generator is collected).
        observation, self._observation = self._observation, NOTHING_OBSERVED
        observation.end(None)
        if self._cursor is not None:
            with self._handle.read_errors:
                await self._cursor.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
