"""The Catalogue: the entry point that owns a client and a database."""

import asyncio
import enum
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack, cast, overload

from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from ._changes import ChangeEvent, ChangeStream, Consumer, WatchArgs, WatchFilter, WatchOptions
from ._collection import Collection
from ._driver import (
    DRIVER_ERRORS,
    close_client,
    create_client,
    detect_driver,
    redact_uri,
    start_session,
    translate_error,
    uri_secrets,
)
from ._errors import CatalogueClosed, ConfigurationError
from ._gridfs import DEFAULT_CHUNK_SIZE, GridFS
from ._index_manager import IndexPlan
from ._indexes import Index
from ._pagination import PROCESS_KEY
from ._transaction import (
    _CURRENT,
    Transaction,
    _Binding,
    run_transaction,
    transaction_options,
)
from ._types import DocT, DriverName, OnInvalid, SessionLike

__all__ = ["Catalogue"]

_T = TypeVar("_T")


class _State(enum.Enum):
    """Where a Catalogue is in its life."""

    OPEN = "open"
    CLOSED = "closed"


class Catalogue:
    """The entry point: one client, one database, and the collections in it.

    Create one with :meth:`connect` (mongocat creates and owns the client) or wrap
    a client you already have (Motor's ``AsyncIOMotorClient`` or PyMongo's
    ``AsyncMongoClient``; the driver is detected). Use it as an async context
    manager, or call :meth:`close` when done.

    Args:
        client: A Motor or PyMongo async client.
        database: The database to use; defaults to the one in the client's URI.
        close_client: Close ``client`` when the Catalogue closes. False by default:
            whoever created a client closes it.
        page_token_key: The secret that signs :meth:`Collection.paginate` tokens. By
            default a random key per process: give the same key to every process that
            must accept each other's tokens.

    Raises:
        ConfigurationError: ``client`` is not an async client of either driver, or no
            database was given and the URI names none.

    Example:
        >>> async with Catalogue.connect("mongodb://localhost/shop") as cat:  # doctest: +SKIP
        ...     products = cat.collection("products", Product)
        ...     print(await products.find_one({"sku": "W-1"}))
    """

    __slots__ = (
        "_client",
        "_database",
        "_declared_indexes",
        "_display_uri",
        "_driver",
        "_gridfs_ready",
        "_message_bytes",
        "_owns_client",
        "_page_token_key",
        "_secrets",
        "_state",
    )

    def __init__(
        self,
        client: Any,
        database: str | None = None,
        *,
        close_client: bool = False,
        page_token_key: bytes | None = None,
        _display_uri: str | None = None,
        _secrets: tuple[str, ...] = (),
    ) -> None:
        self._driver: DriverName = detect_driver(client)
        self._client = client
        self._owns_client = close_client
        self._secrets = _secrets
        self._display_uri = _display_uri
        self._state = _State.OPEN
        self._declared_indexes: dict[str, tuple[Index, ...]] = {}
        self._message_bytes: int | None = None
        self._gridfs_ready: set[str] = set()
        if page_token_key is not None and (
            not isinstance(page_token_key, bytes) or len(page_token_key) < 16
        ):
            raise ConfigurationError(
                "page_token_key must be at least 16 bytes, e.g. secrets.token_bytes(32)"
            )
        self._page_token_key = page_token_key or PROCESS_KEY
        self._database = self._select_database(database)

    def _select_database(self, name: str | None) -> Any:
        """Return the named database, or the URI's default database."""
        if name is not None:
            if not isinstance(name, str) or not name:
                raise ConfigurationError(f"database must be a non-empty string, not {name!r}")
            try:
                return self._client.get_database(name)
            except DRIVER_ERRORS as exc:
                raise translate_error(exc, self._secrets) from exc
        try:
            return self._client.get_default_database()
        except DRIVER_ERRORS as exc:
            shown = f" {self._display_uri!r}" if self._display_uri else ""
            raise ConfigurationError(
                f"no database given and the URI{shown} names none; pass database='name' "
                "or put it in the URI path (mongodb://host/name)",
                driver_error=exc,
            ) from exc

    @classmethod
    def connect(
        cls,
        uri: str,
        database: str | None = None,
        *,
        driver: DriverName = "motor",
        page_token_key: bytes | None = None,
        **client_options: Any,
    ) -> "Catalogue":
        """Create a client for ``uri`` and a Catalogue that owns it.

        No I/O happens here: the client connects on first use (call :meth:`ping` to
        check the server at startup).

        Args:
            uri: A MongoDB connection string (``mongodb://`` or ``mongodb+srv://``).
            database: The database to use; defaults to the one in the URI's path.
            driver: ``"motor"`` or ``"pymongo"`` (PyMongo's native async API, the
                successor of Motor, which is deprecated upstream).
            page_token_key: The secret that signs pagination tokens (see above).
            **client_options: Passed to the driver's client, e.g.
                ``serverSelectionTimeoutMS=5000`` or ``tz_aware=True``.

        Returns:
            A Catalogue that closes its client when it closes.

        Raises:
            ConfigurationError: Unknown driver, an invalid URI or option, or no database.

        Example:
            >>> cat = Catalogue.connect("mongodb://localhost", "shop", driver="pymongo")
        """
        client = create_client(uri, driver, client_options)
        secrets = uri_secrets(uri)
        password = client_options.get("password")
        if isinstance(password, str) and password:
            secrets = (*secrets, password)
        try:
            return cls(
                client,
                database,
                close_client=True,
                page_token_key=page_token_key,
                _display_uri=redact_uri(uri),
                _secrets=secrets,
            )
        except BaseException:
            if driver == "motor":
                client.close()
            # A PyMongo client that never connected holds no sockets, and closing
            # it needs a running loop, which connect() does not require.
            raise

    def __repr__(self) -> str:
        where = f" uri={self._display_uri!r}" if self._display_uri else ""
        return (
            f"<Catalogue driver={self._driver!r} database={self.name!r}{where} "
            f"state={self._state.value}>"
        )

    # -- lifecycle -----------------------------------------------------------------

    def _ensure_open(self) -> None:
        """Raise CatalogueClosed once close() has run."""
        if self._state is not _State.OPEN:
            raise CatalogueClosed(
                f"this Catalogue (database {self.name!r}) is closed; create a new one with "
                "Catalogue.connect(...), or keep it open for as long as it is used"
            )

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run."""
        return self._state is _State.CLOSED

    async def close(self) -> None:
        """Close the Catalogue, and its client if the Catalogue owns it.

        Closing twice is harmless. Using the Catalogue or its collections afterwards
        raises :class:`~mongocat.CatalogueClosed`.
        """
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        if self._owns_client:
            await close_client(self._client, self._driver)

    async def __aenter__(self) -> Self:
        self._ensure_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- what it holds -------------------------------------------------------------

    @property
    def driver(self) -> DriverName:
        """The client's driver, ``"motor"`` or ``"pymongo"``."""
        return self._driver

    @property
    def client(self) -> Any:
        """The driver's own client."""
        return self._client

    @property
    def database(self) -> Any:
        """The driver's own database object, for what mongocat does not wrap."""
        return self._database

    @property
    def name(self) -> str:
        """The database's name."""
        return cast(str, self._database.name)

    @overload
    def collection(
        self,
        name: str,
        *,
        indexes: Sequence[Index] | None = None,
        on_invalid: OnInvalid = "raise",
    ) -> Collection[dict[str, Any]]: ...

    @overload
    def collection(
        self,
        name: str,
        document_type: type[DocT],
        *,
        indexes: Sequence[Index] | None = None,
        on_invalid: OnInvalid = "raise",
    ) -> Collection[DocT]: ...

    def collection(
        self,
        name: str,
        document_type: type[Any] = dict,
        *,
        indexes: Sequence[Index] | None = None,
        on_invalid: OnInvalid = "raise",
    ) -> Collection[Any]:
        """Return the collection ``name``, whose documents are ``document_type``.

        Args:
            name: The collection's name.
            document_type: What the documents are: a ``TypedDict`` or ``dict`` (types
                the results and costs nothing at run time), or a dataclass or Pydantic
                v2 model (documents are decoded into it on reads and encoded from it on
                writes; see "Document types" in the docs for the ``_id`` rule).
            indexes: Declare the collection's indexes; :meth:`ensure_indexes` creates
                them (the call an application makes at startup).
            on_invalid: What reads do with a stored document that does not fit a
                dataclass or model: ``"raise"`` :class:`DocumentDecodeError`, ``"skip"``
                it (counted in ``Collection.skipped`` and ``Cursor.skipped``), or return
                it ``"raw"`` as a dict.

        Returns:
            A typed :class:`Collection`.

        Raises:
            ConfigurationError: ``name`` is not a valid collection name.

        Example:
            >>> products = cat.collection("products", Product)  # doctest: +SKIP
        """
        self._ensure_open()
        if not isinstance(name, str) or not name or "$" in name or "\x00" in name:
            raise ConfigurationError(
                f"invalid collection name {name!r}: use a non-empty string without '$' or NUL"
            )
        if indexes is not None:
            self.register_indexes(name, *indexes)
        return Collection(self, self._database.get_collection(name), document_type, on_invalid)

    def gridfs(self, bucket: str = "fs", *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> GridFS:
        """Return the GridFS bucket ``bucket``, for files of any size.

        Args:
            bucket: The bucket's name; its collections are ``<bucket>.files`` and
                ``<bucket>.chunks``. ``"fs"`` is the drivers' and tools' default.
            chunk_size: The chunk size of new uploads, in bytes (255 KiB by default).
                Reads use each file's own chunk size.

        Returns:
            A :class:`GridFS`; its first upload creates the indexes GridFS needs.

        Raises:
            ConfigurationError: The bucket name or chunk size is invalid.

        Example:
            >>> fs = cat.gridfs("images")  # doctest: +SKIP
            >>> file_id = await fs.upload("cat.png", data, content_type="image/png")
        """
        self._ensure_open()
        return GridFS(self, bucket, chunk_size)

    def register_indexes(self, collection: str, *specs: Index) -> None:
        """Declare the indexes of ``collection`` for :meth:`ensure_indexes`."""
        for spec in specs:
            if not isinstance(spec, Index):
                raise ConfigurationError(f"indexes must be Index(...) values, not {spec!r}")
        self._declared_indexes[collection] = tuple(specs)

    async def ensure_indexes(self) -> dict[str, IndexPlan]:
        """Create every declared index that is missing; safe to call at every startup.

        Returns:
            The applied plan of each collection.

        Raises:
            IndexConflict: An index exists with other keys or options.
        """
        self._ensure_open()
        plans: dict[str, IndexPlan] = {}
        for name, specs in self._declared_indexes.items():
            plans[name] = await self.collection(name).indexes.ensure(*specs)
        return plans

    # -- database commands ---------------------------------------------------------

    async def _run(self, call: Awaitable[_T]) -> _T:
        """Await a driver call, translating its errors."""
        try:
            return await call
        except DRIVER_ERRORS as exc:
            raise translate_error(exc, self._secrets) from exc

    async def _max_message_bytes(self) -> int:
        """The server's maxMessageSizeBytes, asked once."""
        if self._message_bytes is None:
            hello = await self._run(self._database.command("hello"))
            self._message_bytes = int(hello.get("maxMessageSizeBytes", 48_000_000))
        return self._message_bytes

    async def ping(self) -> None:
        """Check that the server answers.

        Raises:
            ServerUnavailable: No server answered within ``serverSelectionTimeoutMS``.
        """
        self._ensure_open()
        await self._run(self._database.command("ping"))

    async def command(self, command: str | dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Run a database command and return the server's reply.

        Args:
            command: The command's name (``"dbStats"``) or its whole document.
            **kwargs: More fields of the command document.

        Returns:
            The server's reply document.
        """
        self._ensure_open()
        return cast("dict[str, Any]", await self._run(self._database.command(command, **kwargs)))

    async def list_collection_names(self) -> list[str]:
        """Return the names of the database's collections, sorted."""
        self._ensure_open()
        return sorted(await self._run(self._database.list_collection_names()))

    async def drop_collection(self, name: str) -> None:
        """Drop the collection ``name`` and its indexes; a missing one is not an error."""
        self._ensure_open()
        await self._run(self._database.drop_collection(name))

    def watch(
        self, filter_or_pipeline: WatchFilter = None, **options: Unpack[WatchArgs]
    ) -> ChangeStream[dict[str, Any]]:
        """Return a change stream of every collection in the database; enter it to open it.

        Takes the same arguments as :meth:`Collection.watch`; events carry their
        collection in ``event.namespace``.

        Example:
            >>> async with cat.watch(F.operationType == "insert") as stream:  # doctest: +SKIP
            ...     async for event in stream:
            ...         print(event.namespace.collection, event.document_key)
        """
        self._ensure_open()
        return ChangeStream(self, self._database, WatchOptions.build(filter_or_pipeline, options))

    def consume(
        self,
        handler: Callable[[ChangeEvent[dict[str, Any]]], Awaitable[object]],
        filter_or_pipeline: WatchFilter = None,
        **options: Unpack[WatchArgs],
    ) -> Consumer[dict[str, Any]]:
        """Return a consumer of every collection's changes; see :meth:`Collection.consume`."""
        self._ensure_open()
        stream: ChangeStream[dict[str, Any]] = ChangeStream(
            self, self._database, WatchOptions.build(filter_or_pipeline, options), autosave=False
        )
        return Consumer(stream, handler)

    @asynccontextmanager
    async def session(self, **options: Any) -> AsyncIterator[SessionLike]:
        """Start a client session that operations in this task join implicitly.

        Inside the block, every collection operation awaited in the same task uses the
        session without ``session=`` (e.g. causally consistent reads of your own
        writes). An explicit ``session=`` still wins.

        Args:
            **options: The driver's session options (``causal_consistency=True``, ...).

        Yields:
            The driver's session.

        Example:
            >>> async with cat.session(causal_consistency=True):  # doctest: +SKIP
            ...     await products.insert_one(doc)
            ...     await products.find_one({"_id": doc["_id"]})  # sees the insert
        """
        self._ensure_open()
        session = await self._run(start_session(self._client, self._driver, options))
        token = _CURRENT.set(_Binding(self._client, session, asyncio.current_task(), False))
        try:
            yield session
        finally:
            _CURRENT.reset(token)
            await session.end_session()

    def transaction(
        self,
        *,
        read_concern: str | ReadConcern | None = None,
        write_concern: str | int | WriteConcern | None = None,
        read_preference: Any = None,
        max_commit_time: float | timedelta | None = None,
    ) -> Transaction:
        """Open a transaction: ``async with cat.transaction() as tx: ...``.

        Operations awaited inside the block, in the same task, join the transaction
        without ``session=``. Normal exit commits; an exception aborts and propagates.
        Transactions need a replica set or a sharded cluster.

        Args:
            read_concern: ``"snapshot"``, ``"majority"``, ... or a ReadConcern.
            write_concern: ``"majority"``, a number of members, or a WriteConcern.
            read_preference: A read preference (transactions read from the primary).
            max_commit_time: The longest the commit may take, in seconds.

        Returns:
            The transaction, to enter with ``async with``.

        Raises:
            TransactionError: A transaction is already open in this task.

        Example:
            >>> async with cat.transaction():  # doctest: +SKIP
            ...     await orders.insert_one(order)
            ...     await stock.update_one(F.sku == "W-1", Update.inc(qty=-1))
        """
        return Transaction(
            self,
            transaction_options(read_concern, write_concern, read_preference, max_commit_time),
        )

    async def run_transaction(
        self,
        fn: Callable[[], Awaitable[_T]],
        *,
        timeout: float = 120.0,  # noqa: ASYNC109 - a retry deadline, not a cancellation
        max_attempts: int | None = None,
        read_concern: str | ReadConcern | None = None,
        write_concern: str | int | WriteConcern | None = None,
        read_preference: Any = None,
        max_commit_time: float | timedelta | None = None,
    ) -> _T:
        """Run ``fn`` in a transaction, retrying it the way MongoDB prescribes.

        The whole function runs again after a ``TransientTransactionError`` (a write
        conflict, say), and the commit is retried after an
        ``UnknownTransactionCommitResult``, with jittered backoff, until ``timeout``.
        ``fn`` may run several times: keep side effects outside the database out of it.

        Args:
            fn: An async function of no arguments; its operations join the transaction.
            timeout: Seconds after which no new attempt starts.
            max_attempts: Also stop after this many runs of ``fn``.
            read_concern: As for :meth:`transaction`.
            write_concern: As for :meth:`transaction`.
            read_preference: As for :meth:`transaction`.
            max_commit_time: As for :meth:`transaction`.

        Returns:
            What ``fn`` returned in the attempt that committed.

        Raises:
            TransactionFailed: The deadline passed (or attempts ran out); it carries
                the number of attempts and the last error.

        Example:
            >>> async def transfer() -> None:  # doctest: +SKIP
            ...     await accounts.update_one(F._id == "a", Update.inc(balance=-10))
            ...     await accounts.update_one(F._id == "b", Update.inc(balance=10))
            >>> await cat.run_transaction(transfer, timeout=30)  # doctest: +SKIP
        """
        if timeout <= 0:
            raise ConfigurationError(f"timeout must be positive, not {timeout!r}")
        if max_attempts is not None and max_attempts < 1:
            raise ConfigurationError(f"max_attempts must be at least 1, not {max_attempts!r}")
        options = transaction_options(read_concern, write_concern, read_preference, max_commit_time)
        return await run_transaction(
            self, fn, timeout=timeout, max_attempts=max_attempts, options=options
        )
