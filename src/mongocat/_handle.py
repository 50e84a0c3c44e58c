"""The database handle: what every operation stands on.

A :class:`DatabaseHandle` owns the client, the database, the driver seam, the
secrets to keep out of messages, the open/closed state, the limits learned from the
server, the page-token key and the once-per-handle set-up flags. The
:class:`~mongocat.Catalogue` owns one and hands it to the collections, cursors,
bulk writers, transactions, GridFS buckets and change streams it creates; they
never see the Catalogue.

It is also the one place where driver errors become mongocat errors: ``await
handle.run(call)`` for a driver coroutine, ``with handle.errors:`` around anything
else (iterating a driver cursor), as httpx's ``map_httpcore_exceptions()`` does for
its transports. Both redact the handle's secrets.
"""

import asyncio
import copy
import enum
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, Final, Literal, TypeVar

import pymongo
import pymongo.errors
from pymongo.read_preferences import ReadPreference

from ._deadlines import Deadline, bound, current, expired, reason_of
from ._driver import (
    DRIVER_ERRORS,
    DriverSeam,
    create_client,
    redact,
    redact_uri,
    seam_for,
    seam_of,
    translate_error,
    uri_secrets,
)
from ._errors import CatalogueClosed, ConfigurationError
from ._javascript import refuse_javascript, refuse_javascript_command
from ._observe import (
    NOTHING_OBSERVED,
    AttributeValue,
    Instrumentation,
    Observation,
    ObservedCatalogue,
    Observer,
    observed,
)
from ._pagination import PROCESS_KEY
from ._paths import flag
from ._sessions import bound_session
from ._types import DriverName

__all__ = ["DatabaseHandle"]

_T = TypeVar("_T")

# How long close() may wait to end the client's sessions on a reachable server, and
# (effectively no time) on none.
_CLOSE_WAIT: Final = 1.0
_NO_WAIT: Final = 1e-6

# How long after a deadline mongocat stops waiting for a driver that has not given up.
_BACKSTOP: Final = 0.02

# How close to its deadline a server's MaxTimeMSExpired counts as the deadline's.
_SERVER_EXPIRY_SLACK: Final = 0.25

# What a server that does not say allows (MongoDB's default maxMessageSizeBytes).
_DEFAULT_MESSAGE_BYTES: Final = 48_000_000


class _State(enum.Enum):
    """Where a handle is in its life."""

    OPEN = "open"
    CLOSED = "closed"


_OPEN: Final = _State.OPEN


def _translate(exc: BaseException, secrets: tuple[str, ...], read: bool) -> BaseException:
    """The mongocat error for a driver exception: past a deadline, its ClientTimeout.

    A batch's failure stays a BulkWriteFailed, whose ``.result`` says what was written.
    """
    deadline = current()
    if (
        deadline is not None
        and getattr(exc, "timeout", False)
        and not isinstance(exc, pymongo.errors.BulkWriteError)
        and (
            # The server's MaxTimeMSExpired is the deadline's when the driver sent
            # the time left as maxTimeMS, which then has (nearly) run out; earlier,
            # it is the server's own answer (to max_time_ms, or an injected one).
            not isinstance(exc, pymongo.errors.OperationFailure)
            or deadline.remaining() < _SERVER_EXPIRY_SLACK
        )
    ):
        return expired(deadline, None, exc, redact(reason_of(exc), secrets))
    return translate_error(exc, secrets, read=read)


async def _by(deadline: Deadline, call: Awaitable[_T]) -> _T:
    """Await ``call``, giving up just after ``deadline`` if the driver has not.

    The drivers check the deadline between their own waits, so an answer can come
    up to one of those waits late (server selection sleeps in half-second steps);
    this keeps the caller's promise. A PyMongo coroutine is cancelled (the driver
    closes a connection left mid-command); Motor's thread finishes on its own and
    its result is dropped.
    """
    backstop = asyncio.timeout(deadline.remaining() + _BACKSTOP)
    try:
        async with backstop:
            return await call
    except TimeoutError:
        if backstop.expired():
            raise expired(deadline, None, reason="no answer by the deadline") from None
        raise


class _TranslateErrors:
    """``with handle.errors:`` turns a driver exception into a mongocat error."""

    __slots__ = ("_read", "_secrets")

    def __init__(self, secrets: tuple[str, ...], *, read: bool = False) -> None:
        self._secrets = secrets
        self._read = read

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        if exc is not None and isinstance(exc, DRIVER_ERRORS):
            raise _translate(exc, self._secrets, self._read) from exc
        return False


def _javascript_allowed(value: Any, operation: str) -> None:
    """``refuse_javascript`` of a Catalogue made with ``allow_javascript=True``."""


class DatabaseHandle:
    """The client, database and driver seam an operation runs on, and their state."""

    __slots__ = (
        "_message_bytes",
        "_owns_client",
        "_parent",
        "_ready",
        "_secrets",
        "_state",
        "allow_dollar_fields",
        "allow_javascript",
        "client",
        "database",
        "display_uri",
        "errors",
        "observer",
        "operation",
        "page_token_key",
        "read_errors",
        "refuse_javascript",
        "seam",
    )

    def __init__(
        self,
        client: Any,
        database: str | None = None,
        *,
        owns_client: bool = False,
        page_token_key: bytes | None = None,
        display_uri: str | None = None,
        secrets: tuple[str, ...] = (),
        allow_javascript: bool = False,
        allow_dollar_fields: bool = False,
    ) -> None:
        #: The default of ``cat.collection(..., allow_dollar_fields=)``.
        self.allow_dollar_fields = flag(allow_dollar_fields, "allow_dollar_fields")
        #: Whether filters and pipelines may run server-side JavaScript.
        self.allow_javascript = flag(allow_javascript, "allow_javascript")
        #: ``refuse_javascript(value, operation)``: refuse a filter, update or pipeline
        #: that runs JavaScript (InvalidQuery naming ``$where``, ``$function`` or
        #: ``$accumulator``) unless the Catalogue allows it; chosen once, here.
        self.refuse_javascript: Callable[[Any, str], None] = (
            _javascript_allowed if self.allow_javascript else refuse_javascript
        )
        #: The driver seam of ``client``.
        self.seam: DriverSeam = seam_of(client)
        #: The driver's client.
        self.client = client
        #: The connection string with its secrets replaced, for messages; None when
        #: the handle wraps a client it did not create.
        self.display_uri = display_uri
        self._secrets = secrets
        #: ``with handle.errors:`` translates driver errors raised in the block.
        self.errors = _TranslateErrors(secrets)
        #: The same, for blocks that only read (cursors).
        self.read_errors = _TranslateErrors(secrets, read=True)
        self._owns_client = owns_client
        self._parent: DatabaseHandle | None = None
        self._state = _State.OPEN
        self._message_bytes: int | None = None
        self._ready: set[str] = set()
        #: What watches this handle's operations (see ``_observe``); None: nothing.
        self.observer: Observer | None = None
        #: ``operation(timeout, name, namespace)``: the block of one operation, its
        #: deadline (``timeout=``), observed if watched. Unwatched, it is
        #: :func:`~mongocat._deadlines.bound` itself: not one call more.
        self.operation: Callable[..., AbstractContextManager[Any]] = bound
        if page_token_key is not None and (
            not isinstance(page_token_key, bytes) or len(page_token_key) < 16
        ):
            raise ConfigurationError(
                "page_token_key must be at least 16 bytes, e.g. secrets.token_bytes(32)"
            )
        #: The key that signs page tokens.
        self.page_token_key: bytes = page_token_key or PROCESS_KEY
        #: The driver's database object.
        self.database = self._select_database(database)

    @classmethod
    def connect(
        cls,
        uri: str,
        database: str | None,
        *,
        driver: str,
        page_token_key: bytes | None,
        client_options: Mapping[str, Any],
        allow_javascript: bool = False,
        allow_dollar_fields: bool = False,
    ) -> "DatabaseHandle":
        """Create a client for ``uri`` and a handle that owns it (no I/O)."""
        client = create_client(uri, driver, client_options)
        secrets = uri_secrets(uri, client_options)
        try:
            return cls(
                client,
                database,
                owns_client=True,
                page_token_key=page_token_key,
                display_uri=redact(redact_uri(uri), secrets),
                secrets=secrets,
                allow_javascript=allow_javascript,
                allow_dollar_fields=allow_dollar_fields,
            )
        except BaseException:
            seam_for(driver).discard_client(client)
            raise

    def refuse_javascript_command(self, command: str | Mapping[str, Any]) -> None:
        """Refuse a command that runs JavaScript (``mapReduce``, a ``$where``), unless allowed.

        Raises:
            InvalidQuery: As :meth:`refuse_javascript`.
        """
        if not self.allow_javascript:
            refuse_javascript_command({command: 1} if isinstance(command, str) else command)

    def _select_database(self, name: str | None) -> Any:
        """Return the named database, or the URI's default database."""
        if name is not None:
            if not isinstance(name, str) or not name:
                raise ConfigurationError(f"database must be a non-empty string, not {name!r}")
            with self.errors:
                return self.client.get_database(name)
        try:
            return self.client.get_default_database()
        except DRIVER_ERRORS as exc:
            shown = f" {self.display_uri!r}" if self.display_uri else ""
            raise ConfigurationError(
                f"no database given and the URI{shown} names none; pass database='name' "
                "or put it in the URI path (mongodb://host/name)",
                driver_error=exc,
            ) from exc

    # -- what it is ----------------------------------------------------------------

    @property
    def driver(self) -> DriverName:
        """The client's driver, ``"motor"`` or ``"pymongo"``."""
        return self.seam.name

    @property
    def name(self) -> str:
        """The database's name."""
        name: str = self.database.name
        return name

    @property
    def state(self) -> str:
        """``"open"`` or ``"closed"``."""
        return _State.CLOSED.value if self.closed else self._state.value

    # -- lifecycle -----------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run (on this handle or the one it derives from)."""
        return self._state is _State.CLOSED or (self._parent is not None and self._parent.closed)

    def ensure_open(self) -> None:
        """Raise CatalogueClosed once :meth:`close` has run."""
        if self._state is not _State.OPEN or (self._parent is not None and self._parent.closed):
            raise CatalogueClosed(
                f"this Catalogue (database {self.name!r}) is closed; create a new one with "
                "Catalogue.connect(...), or keep it open for as long as it is used"
            )

    def with_database_options(self, options: Mapping[str, Any]) -> "DatabaseHandle":
        """A handle on the same client and database with other database options.

        It shares the client (which it never closes), the secrets, the limits and
        the set-up flags; closing the handle it derives from closes it too.
        """
        self.ensure_open()
        derived = copy.copy(self)
        with self.errors:
            derived.database = self.database.with_options(**options)
        derived._owns_client = False
        derived._parent = self
        derived._watch(self.observer)
        return derived

    async def close(self) -> None:
        """Close the handle, and its client if it owns it; closing twice is harmless."""
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        if self._owns_client:
            # Closing ends the client's sessions on the server (endSessions), which
            # first selects a server: bounded, and not waited for at all when no
            # server is known to answer, so that a shutdown with the server gone
            # takes no server-selection timeout.
            reachable = self.client.topology_description.has_readable_server(
                ReadPreference.PRIMARY_PREFERRED
            )
            with pymongo.timeout(_CLOSE_WAIT if reachable else _NO_WAIT):
                await self.seam.close_client(self.client)

    # -- observing -----------------------------------------------------------------

    def instrument(self, instrumentation: Instrumentation | None) -> None:
        """Let ``instrumentation`` observe this handle's operations (None: stop)."""
        self._watch(
            None
            if instrumentation is None
            else instrumentation.observer(ObservedCatalogue(self.name, self.driver, self.redact))
        )

    def _watch(self, observer: Observer | None) -> None:
        """Set the observer, and the operation block that goes with it."""
        self.observer = observer
        self.operation = bound if observer is None else self._observed_operation

    def _observed_operation(
        self, timeout: float | None, operation: str, namespace: str | None = None
    ) -> AbstractContextManager[Any]:
        """:attr:`operation` when watched: the deadline block, observed."""
        return observed(self.observer, bound(timeout, operation, namespace), operation, namespace)

    def observed(
        self, block: AbstractContextManager[Any], operation: str, namespace: str | None = None
    ) -> AbstractContextManager[Any]:
        """``block`` (a deadline block made elsewhere), observed as ``operation``."""
        return observed(self.observer, block, operation, namespace)

    def begin(self, operation: str, namespace: str | None = None) -> Observation:
        """The observation of a long operation (a cursor, a bulk write, a transaction)."""
        observer = self.observer
        if observer is None:
            return NOTHING_OBSERVED
        return observer.begin(operation, namespace)

    def event(self, name: str, attributes: Mapping[str, AttributeValue]) -> None:
        """Tell the observer, if any, of an event in the operation in force."""
        observer = self.observer
        if observer is not None:
            observer.event(name, attributes)

    def annotate(self, attributes: Mapping[str, AttributeValue]) -> None:
        """Give the operation in force attributes, if it is observed."""
        observer = self.observer
        if observer is not None:
            observer.annotate(attributes)

    # -- running driver calls ------------------------------------------------------

    async def send(
        self,
        timeout: float | None,
        operation: str,
        namespace: str | None,
        make: Callable[..., Awaitable[_T]],
        *args: Any,
        read: bool = False,
    ) -> _T:
        """Make and await one driver call as ``operation``: open, bounded, observed.

        ``make(*args)`` checks the call's arguments and returns the driver's awaitable.
        It runs inside the operation's block (:attr:`operation`), as Motor starts its
        work when called, so the deadline, the observer and the error translation see
        all of it. With no timeout given or deadline in force and no observer the
        block would do nothing, and is skipped: the path every plain call takes is one
        coroutine and no context manager.

        Args:
            timeout: The call's own ``timeout=``, or None.
            operation: Its name, for messages and telemetry (``"update_one"``).
            namespace: The collection or database it works on.
            make: Checks the arguments and makes the driver's call.
            *args: What ``make`` takes.
            read: The call only reads, so the advice on a network error says so.

        Raises:
            CatalogueClosed: :meth:`close` has run.
        """
        if self._state is not _OPEN or self._parent is not None:
            self.ensure_open()
        if timeout is None and self.observer is None and current() is None:
            try:
                return await make(*args)
            except DRIVER_ERRORS as exc:
                raise _translate(exc, self._secrets, read) from exc
        with self.operation(timeout, operation, namespace):
            return await self.run(make(*args), read=read)

    async def run(self, call: Awaitable[_T], *, read: bool = False) -> _T:
        """Await a driver call, turning its errors into mongocat errors.

        Args:
            call: The driver's awaitable.
            read: The call only reads, so the advice on a network error says so.
        """
        deadline = current()
        try:
            if deadline is None:
                return await call
            return await _by(deadline, call)
        except DRIVER_ERRORS as exc:
            raise _translate(exc, self._secrets, read) from exc

    def error_from(self, exc: BaseException) -> BaseException:
        """The mongocat error for a driver exception; any other exception as it is."""
        if isinstance(exc, DRIVER_ERRORS):
            return _translate(exc, self._secrets, False)
        return exc

    def redact(self, text: str) -> str:
        """Return ``text`` with the handle's secrets replaced by ``***``."""
        return redact(text, self._secrets)

    # -- sessions ------------------------------------------------------------------

    def session(self, explicit: Any) -> Any:
        """The explicit session, else the transaction or session this task is in."""
        return explicit if explicit is not None else bound_session(self.client)

    async def start_session(self, options: Mapping[str, Any]) -> Any:
        """Start a driver session."""
        return await self.run(self.seam.start_session(self.client, options))

    async def start_transaction(self, session: Any, options: Mapping[str, Any]) -> None:
        """Start a transaction on a driver session."""
        await self.run(self.seam.start_transaction(session, options))

    async def aggregate(
        self, collection: Any, pipeline: list[dict[str, Any]], options: Mapping[str, Any]
    ) -> Any:
        """Open an aggregation cursor on a driver collection."""
        return await self.run(self.seam.aggregate(collection, pipeline, options))

    async def open_change_stream(self, target: Any, options: Mapping[str, Any]) -> Any:
        """Open a change stream on a driver collection or database."""
        return await self.run(self.seam.open_change_stream(target, options))

    # -- what the server says, and what was set up ---------------------------------

    async def max_message_bytes(self) -> int:
        """The servers' maxMessageSizeBytes, learned once.

        From the driver's own topology (its handshake with each server) when it has
        met a writable server; otherwise by asking with one ``hello``.
        """
        if self._message_bytes is None:
            known = [
                server.max_message_size
                for server in self.client.topology_description.server_descriptions().values()
                if server.is_writable
            ]
            if known:
                self._message_bytes = min(known)
            else:
                hello = await self.run(self.database.command("hello"))
                size = hello.get("maxMessageSizeBytes", _DEFAULT_MESSAGE_BYTES)
                self._message_bytes = int(size)
        return self._message_bytes

    def wire_version(self) -> int | None:
        """The lowest wire version among the servers the driver has met, or None."""
        versions = [
            server.max_wire_version
            for server in self.client.topology_description.server_descriptions().values()
            if server.is_server_type_known
        ]
        return min(versions) if versions else None

    @property
    def server_selection_timeout(self) -> float:
        """The client's serverSelectionTimeoutMS, in seconds."""
        return float(self.client.options.server_selection_timeout)

    def is_ready(self, what: str) -> bool:
        """Whether the once-per-handle set-up ``what`` has been done."""
        return what in self._ready

    def mark_ready(self, what: str) -> None:
        """Record that the set-up ``what`` is done (e.g. a GridFS bucket's indexes)."""
        self._ready.add(what)
