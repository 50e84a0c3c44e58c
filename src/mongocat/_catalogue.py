"""The Catalogue: the entry point that owns a client and a database."""

import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack, overload

from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from ._change_events import ChangeEvent, WatchArgs, WatchFilter, WatchOptions
from ._changes import ChangeStream, Consumer
from ._collection import Collection, aggregate_cursor
from ._collection_specs import CollectionArgs, CollectionSpec, plan_collection
from ._concerns import (
    ReadConcernLike,
    ReadPreferenceLike,
    WriteConcernLike,
    driver_options,
)
from ._cursor import Cursor
from ._deadlines import Deadline, scope
from ._documents import DocumentCoder
from ._errors import (
    ConfigurationError,
    IndexConflict,
    OperationFailed,
    ServerFeatureUnavailable,
)
from ._gridfs import GridFS
from ._gridfs_chunks import DEFAULT_CHUNK_SIZE
from ._handle import DatabaseHandle
from ._index_manager import IndexPlan, in_place_change
from ._indexes import Index
from ._observe import Instrumentation
from ._paths import flag
from ._pipeline import Pipeline
from ._schema import json_schema
from ._schema_plan import SchemaPlan
from ._search_indexes import (
    AnySearchIndex,
    SearchIndex,
    SearchIndexPlan,
    VectorSearchIndex,
    plan_search_indexes,
)
from ._sessions import bind, unbind
from ._transaction import Transaction, run_transaction, session_options, transaction_options
from ._types import DocT, DriverName, OnInvalid, SessionLike

__all__ = ["Catalogue"]

_T = TypeVar("_T")


_log = logging.getLogger("mongocat")


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
        allow_javascript: Let filters, pipelines and commands run server-side
            JavaScript (``$where``, ``$function``, ``$accumulator``, ``mapReduce``). Off
            by default: such queries raise :class:`InvalidQuery` before they are sent.
        allow_dollar_fields: The default of :meth:`collection`'s option of that name
            for this Catalogue's collections.

    Raises:
        ConfigurationError: ``client`` is not an async client of either driver, or no
            database was given and the URI names none.

    Example:
        >>> async with Catalogue.connect("mongodb://localhost/shop") as cat:  # doctest: +SKIP
        ...     products = cat.collection("products", Product)
        ...     print(await products.find_one({"sku": "W-1"}))
    """

    __slots__ = (
        "_declared_collections",
        "_declared_indexes",
        "_declared_search_indexes",
        "_handle",
    )

    def __init__(
        self,
        client: Any,
        database: str | None = None,
        *,
        close_client: bool = False,
        page_token_key: bytes | None = None,
        allow_javascript: bool = False,
        allow_dollar_fields: bool = False,
        telemetry: Instrumentation | None = None,
    ) -> None:
        self._handle = DatabaseHandle(
            client,
            database,
            owns_client=close_client,
            page_token_key=page_token_key,
            allow_javascript=allow_javascript,
            allow_dollar_fields=allow_dollar_fields,
        )
        self._handle.instrument(telemetry)
        self._declared_indexes: dict[str, tuple[Index, ...]] = {}
        self._declared_collections: dict[str, CollectionSpec] = {}
        self._declared_search_indexes: dict[str, tuple[AnySearchIndex, ...]] = {}

    @classmethod
    def _over(cls, handle: DatabaseHandle) -> "Catalogue":
        """A Catalogue standing on an existing handle."""
        catalogue = cls.__new__(cls)
        catalogue._handle = handle
        catalogue._declared_indexes = {}
        catalogue._declared_collections = {}
        catalogue._declared_search_indexes = {}
        return catalogue

    @classmethod
    def connect(
        cls,
        uri: str,
        database: str | None = None,
        *,
        driver: DriverName = "pymongo",
        page_token_key: bytes | None = None,
        allow_javascript: bool = False,
        allow_dollar_fields: bool = False,
        telemetry: Instrumentation | None = None,
        **client_options: Any,
    ) -> "Catalogue":
        """Create a client for ``uri`` and a Catalogue that owns it.

        No I/O happens here: the client connects on first use (call :meth:`ping` to
        check the server at startup).

        Args:
            uri: A MongoDB connection string (``mongodb://`` or ``mongodb+srv://``).
            database: The database to use; defaults to the one in the URI's path.
            driver: ``"pymongo"`` (the default: PyMongo's native async API) or
                ``"motor"`` (end of life upstream on 2026-05-14, critical fixes until
                2027-05-14; fully supported here).
            page_token_key: The secret that signs pagination tokens (see above).
            allow_javascript: Let filters, pipelines and commands run server-side
                JavaScript (``$where``, ``$function``, ``$accumulator``, ``mapReduce``);
                refused with ``InvalidQuery`` by default, as MongoDB's security
                checklist advises.
            allow_dollar_fields: The default of :meth:`collection`'s option of that
                name for this Catalogue's collections.
            telemetry: What observes the Catalogue's operations, such as
                :class:`mongocat.telemetry.Telemetry`; its driver event listeners
                are registered on the client (see :doc:`observability`).
            **client_options: Passed to the driver's client, e.g.
                ``serverSelectionTimeoutMS=5000`` or ``tz_aware=True``.

        Returns:
            A Catalogue that closes its client when it closes.

        Raises:
            ConfigurationError: Unknown driver, an invalid URI or option, or no database.

        Example:
            >>> cat = Catalogue.connect("mongodb://localhost", "shop", driver="pymongo")
        """
        if telemetry is not None:
            listeners = [*client_options.get("event_listeners", ()), *telemetry.listeners()]
            client_options = {**client_options, "event_listeners": listeners}
        handle = DatabaseHandle.connect(
            uri,
            database,
            driver=driver,
            page_token_key=page_token_key,
            client_options=client_options,
            allow_javascript=allow_javascript,
            allow_dollar_fields=allow_dollar_fields,
        )
        handle.instrument(telemetry)
        return cls._over(handle)

    def __repr__(self) -> str:
        handle = self._handle
        where = f" uri={handle.display_uri!r}" if handle.display_uri else ""
        return (
            f"<Catalogue driver={handle.driver!r} database={handle.name!r}{where} "
            f"state={handle.state}>"
        )

    # -- lifecycle -----------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run."""
        return self._handle.closed

    async def close(self) -> None:
        """Close the Catalogue, and its client if the Catalogue owns it.

        Closing twice is harmless. Using the Catalogue or its collections afterwards
        raises :class:`~mongocat.CatalogueClosed`.
        """
        await self._handle.close()

    async def __aenter__(self) -> Self:
        self._handle.ensure_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- observing -----------------------------------------------------------------

    def instrument(self, telemetry: Instrumentation | None) -> None:
        """Let ``telemetry`` observe this Catalogue's operations; None stops it.

        Operations of collections, cursors, bulk writers, transactions, GridFS
        buckets and change streams already handed out are observed too, and so are
        catalogues that :meth:`with_options` derives afterwards. The driver's own
        commands and connection pool are seen only through event listeners
        registered when the client was made: ``Catalogue.connect(..., telemetry=)``
        does that (see :doc:`observability`).

        Args:
            telemetry: A :class:`mongocat.telemetry.Telemetry`, or any
                :class:`~mongocat.Instrumentation`.
        """
        self._handle.instrument(telemetry)

    # -- what it holds -------------------------------------------------------------

    @property
    def driver(self) -> DriverName:
        """The client's driver, ``"motor"`` or ``"pymongo"``."""
        return self._handle.driver

    @property
    def client(self) -> Any:
        """The driver's own client."""
        return self._handle.client

    @property
    def database(self) -> Any:
        """The driver's own database object, for what mongocat does not wrap."""
        return self._handle.database

    @property
    def name(self) -> str:
        """The database's name."""
        return self._handle.name

    @overload
    def collection(
        self,
        name: str,
        *,
        indexes: Sequence[Index] | None = None,
        on_invalid: OnInvalid = "raise",
        allow_dollar_fields: bool | None = None,
        read_preference: ReadPreferenceLike | None = None,
        read_concern: ReadConcernLike | None = None,
        write_concern: WriteConcernLike | None = None,
        **options: Unpack[CollectionArgs],
    ) -> Collection[dict[str, Any]]: ...

    @overload
    def collection(
        self,
        name: str,
        document_type: type[DocT],
        *,
        indexes: Sequence[Index] | None = None,
        on_invalid: OnInvalid = "raise",
        allow_dollar_fields: bool | None = None,
        read_preference: ReadPreferenceLike | None = None,
        read_concern: ReadConcernLike | None = None,
        write_concern: WriteConcernLike | None = None,
        **options: Unpack[CollectionArgs],
    ) -> Collection[DocT]: ...

    def collection(
        self,
        name: str,
        document_type: type[Any] = dict,
        *,
        indexes: Sequence[Index] | None = None,
        on_invalid: OnInvalid = "raise",
        allow_dollar_fields: bool | None = None,
        read_preference: ReadPreferenceLike | None = None,
        read_concern: ReadConcernLike | None = None,
        write_concern: WriteConcernLike | None = None,
        **options: Unpack[CollectionArgs],
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
            allow_dollar_fields: Store documents whose field names start with ``$``
                or contain ``.`` as they are, and update values holding such names
                (MongoDB 5.0+ accepts them; queries reach them only through
                ``$getField``). Refused with ``InvalidDocument`` by default (None:
                the Catalogue's ``allow_dollar_fields``).
            read_preference: Which members serve this collection's reads (by default
                the database's): a mode name (``"secondaryPreferred"``), a document
                ``{"mode": "secondary", "tags": [{"dc": "east"}],
                "maxStalenessSeconds": 120}``, or a pymongo read preference.
            read_concern: The read concern of its reads: ``"local"``, ``"majority"``,
                ``"linearizable"``, ... or a pymongo ``ReadConcern``.
            write_concern: The write concern of its writes: ``w`` (``1``,
                ``"majority"``), ``{"w": "majority", "wtimeout": 5000, "j": True}``, or a
                pymongo ``WriteConcern``. A collection with ``w=0`` or a read
                preference other than primary refuses to join a transaction.
            **options: The collection's own options (:class:`CollectionArgs`:
                ``validator``, ``timeseries``, ``capped``, ...), declared for
                :meth:`plan` / :meth:`ensure` as :meth:`declare_collection` does.

        Returns:
            A typed :class:`Collection`.

        Raises:
            ConfigurationError: ``name`` is not a valid collection name.

        Example:
            >>> products = cat.collection("products", Product)  # doctest: +SKIP
        """
        handle = self._handle
        handle.ensure_open()
        if not isinstance(name, str) or not name or "$" in name or "\x00" in name:
            raise ConfigurationError(
                f"invalid collection name {name!r}: use a non-empty string without '$' or NUL"
            )
        if options:
            self._declare(_spec(name, document_type, options))
        if indexes is not None:
            self.register_indexes(name, *indexes)
        return Collection(
            handle,
            handle.database.get_collection(
                name, **driver_options(read_preference, read_concern, write_concern)
            ),
            document_type,
            on_invalid,
            allow_dollar_fields=(
                handle.allow_dollar_fields if allow_dollar_fields is None else allow_dollar_fields
            ),
        )

    async def create_collection(
        self,
        name: str,
        document_type: type[DocT] = dict,  # type: ignore[assignment]
        *,
        timeout: float | None = None,
        **options: Unpack[CollectionArgs],
    ) -> Collection[DocT]:
        """Create the collection ``name`` with its options, and return it typed.

        Args:
            name: The collection's name.
            document_type: Its document type, as for :meth:`collection`.
            **options: The :class:`CollectionArgs`: ``validator`` (a document, or True
                for ``{"$jsonSchema": json_schema(document_type)}``),
                ``validation_level``, ``validation_action``, ``timeseries`` (a
                :class:`TimeSeries`), ``expire_after``, ``capped`` (a :class:`Capped`),
                ``clustered``, ``pre_and_post_images`` (for change streams'
                ``full_document_before_change``) and ``collation``.
            timeout: A deadline in seconds for this call.

        Returns:
            The new :class:`Collection` of ``document_type``.

        Raises:
            ConfigurationError: An option is invalid, or ``validator=True`` with a
                plain ``dict`` document type.
            OperationFailed: The collection exists already (code 48,
                ``NamespaceExists``), or the server refuses an option.

        Example:
            >>> readings = await cat.create_collection(  # doctest: +SKIP
            ...     "readings", Reading, validator=True,
            ...     timeseries=TimeSeries("at", meta_field="sensor", granularity="minutes"),
            ...     expire_after=timedelta(days=30),
            ... )
        """
        spec = _spec(name, document_type, options)
        await self.command(spec.to_create(), timeout=timeout)
        return self.collection(name, document_type)

    def declare_collection(
        self,
        name: str,
        document_type: type[DocT] = dict,  # type: ignore[assignment]
        *,
        indexes: Sequence[Index] | None = None,
        search_indexes: Sequence[AnySearchIndex] | None = None,
        **options: Unpack[CollectionArgs],
    ) -> Collection[DocT]:
        """Declare a collection's options (and indexes) for :meth:`plan` / :meth:`ensure`.

        Nothing is sent: ``await cat.ensure()`` (at startup, or in a deploy step)
        creates the collection or changes what can change in place.

        Args:
            name: The collection's name.
            document_type: Its document type, as for :meth:`collection`.
            indexes: Its indexes, as for :meth:`collection`.
            search_indexes: Its Atlas Search / Vector Search indexes
                (:class:`SearchIndex`, :class:`VectorSearchIndex`).
            **options: The :class:`CollectionArgs`, as for :meth:`create_collection`.

        Returns:
            The :class:`Collection` of ``document_type``.

        Raises:
            ConfigurationError: An option is invalid, or ``name`` is declared already
                with other options.

        Example:
            >>> readings = cat.declare_collection(  # doctest: +SKIP
            ...     "readings", Reading, validator=True,
            ...     timeseries=TimeSeries("at", meta_field="sensor"),
            ... )
            >>> print(await cat.plan())  # doctest: +SKIP
        """
        self._declare(_spec(name, document_type, options))
        if search_indexes is not None:
            self.register_search_indexes(name, *search_indexes)
        return self.collection(name, document_type, indexes=indexes)

    def _declare(self, spec: CollectionSpec) -> None:
        """Record a collection's declared options; refuse a different second one."""
        known = self._declared_collections.get(spec.name)
        if known is not None and known != spec:
            raise ConfigurationError(
                f"collection {spec.name!r} is declared twice with different options; "
                "declare it once"
            )
        self._declared_collections[spec.name] = spec

    async def plan(self, *, drop_unknown: bool = False, timeout: float | None = None) -> SchemaPlan:
        """Compare the declared collections and indexes with the server; change nothing.

        Args:
            drop_unknown: Plan to drop indexes no spec declares (collections are
                never dropped).
            timeout: A deadline in seconds for this call.

        Returns:
            The :class:`SchemaPlan`: ``print(plan)`` to read it, ``plan.to_dict()`` as
            JSON, ``plan.changes_nothing``, ``plan.conflicts``.
        """
        with self._handle.operation(timeout, "plan", self._handle.name):
            self._handle.ensure_open()
            names = list(self._declared_collections)
            existing: dict[str, Any] = {}
            if names:
                reply = await self.command(
                    {"listCollections": 1, "filter": {"name": {"$in": names}}}
                )
                existing = {info["name"]: info for info in reply["cursor"]["firstBatch"]}
            changes = tuple(
                plan_collection(spec, existing.get(name))
                for name, spec in self._declared_collections.items()
            )
            indexes: dict[str, IndexPlan] = {}
            in_place: list[dict[str, Any]] = []
            for name, specs in self._declared_indexes.items():
                index_plan = await self.collection(name).indexes.plan(
                    *specs, drop_unknown=drop_unknown
                )
                conflicts = []
                for difference in index_plan.conflicts:
                    change = in_place_change(name, difference)
                    if change is None:
                        conflicts.append(difference)
                    else:
                        in_place.append(change)
                indexes[name] = dataclasses.replace(index_plan, conflicts=tuple(conflicts))
            search = {
                name: await self._plan_search(name, specs, drop_unknown)
                for name, specs in self._declared_search_indexes.items()
            }
            return SchemaPlan(changes, indexes, search, tuple(in_place))

    async def _plan_search(
        self, name: str, specs: tuple[AnySearchIndex, ...], drop_unknown: bool
    ) -> SearchIndexPlan:
        """The plan of one collection's search indexes; unavailable off Atlas."""
        try:
            existing = await self.collection(name).aggregate(Pipeline().list_search_indexes())
        except (ServerFeatureUnavailable, OperationFailed) as exc:
            return plan_search_indexes(specs, None, unavailable=str(exc).split("\n")[0])
        return plan_search_indexes(specs, existing, drop_unknown=drop_unknown)

    async def ensure(self, *, timeout: float | None = None) -> SchemaPlan:
        """Make the server match the declarations: safe to run at every startup.

        Creates missing collections with their options, changes in place what can
        change (``collMod``: validator, validation level and action, pre/post images,
        ``expireAfterSeconds``) and creates missing indexes. Nothing is applied when
        the plan has a conflict.

        Args:
            timeout: A deadline in seconds for the whole call.

        Returns:
            The plan it applied.

        Raises:
            IndexConflict: Something exists with options that cannot change in place
                (a time-series, capped, clustered or collation option, or an index);
                the message lists each with its fix.
        """
        return await self._apply("ensure", drop_unknown=False, timeout=timeout)

    async def sync(self, *, drop_unknown: bool = False, timeout: float | None = None) -> SchemaPlan:
        """:meth:`ensure`, and with ``drop_unknown`` also drop undeclared indexes.

        Args:
            drop_unknown: Drop the indexes of declared collections that no spec
                declares (``_id_`` stays; collections are never dropped).
            timeout: A deadline in seconds for the whole call.

        Returns:
            The plan it applied.

        Raises:
            IndexConflict: As for :meth:`ensure`.
        """
        return await self._apply("sync", drop_unknown=drop_unknown, timeout=timeout)

    async def _apply(
        self, operation: str, *, drop_unknown: bool, timeout: float | None
    ) -> SchemaPlan:
        with self._handle.operation(timeout, operation, self._handle.name):
            plan = await self.plan(drop_unknown=drop_unknown)
            if plan.conflicts:
                raise IndexConflict(
                    "the server's schema conflicts with the declarations; nothing was "
                    "changed:\n" + "\n".join(f"- {conflict}" for conflict in plan.conflicts),
                    conflicts=plan.conflicts,
                )
            for change in plan.collections:
                if change.command is not None:
                    await self.command(dict(change.command))
            for command in plan.index_changes:
                await self.command(dict(command))
            for name, specs in self._declared_indexes.items():
                manager = self.collection(name).indexes
                if drop_unknown:
                    await manager.sync(*specs, drop_unknown=True)
                else:
                    await manager.ensure(*specs)
            for name, search in plan.search_indexes.items():
                if search.unavailable is not None:
                    _log.warning(
                        "search indexes of %r left undeclared on this server: %s",
                        name,
                        search.unavailable,
                    )
                    continue
                if search.create:
                    await self.create_search_indexes(name, *search.create)
                for spec in search.update:
                    definition = spec.to_mongo()["definition"]
                    await self.command(
                        {"updateSearchIndex": name, "name": spec.name, "definition": definition}
                    )
                for index in search.drop:
                    await self.command({"dropSearchIndex": name, "name": index})
            return plan

    def with_options(
        self,
        *,
        read_preference: ReadPreferenceLike | None = None,
        read_concern: ReadConcernLike | None = None,
        write_concern: WriteConcernLike | None = None,
    ) -> "Catalogue":
        """This Catalogue's database with other default options, on the same client.

        Collections, GridFS buckets, aggregations and change streams of the result
        use the options unless given their own; options not given keep this
        Catalogue's. It shares the client, the declared indexes and the page-token
        key; closing this Catalogue closes it too (closing it closes nothing).

        Args:
            read_preference: As for :meth:`collection`.
            read_concern: As for :meth:`collection`.
            write_concern: As for :meth:`collection`.

        Returns:
            A :class:`Catalogue` on the same database.

        Example:
            >>> analytics = cat.with_options(read_preference="secondaryPreferred")  # doctest: +SKIP
        """
        options = driver_options(read_preference, read_concern, write_concern)
        derived = Catalogue._over(self._handle.with_database_options(options))
        derived._declared_indexes = self._declared_indexes
        derived._declared_collections = self._declared_collections
        derived._declared_search_indexes = self._declared_search_indexes
        return derived

    def gridfs(
        self,
        bucket: str = "fs",
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        read_preference: ReadPreferenceLike | None = None,
        read_concern: ReadConcernLike | None = None,
        write_concern: WriteConcernLike | None = None,
    ) -> GridFS:
        """Return the GridFS bucket ``bucket``, for files of any size.

        Args:
            bucket: The bucket's name; its collections are ``<bucket>.files`` and
                ``<bucket>.chunks``. ``"fs"`` is the drivers' and tools' default.
            chunk_size: The chunk size of new uploads, in bytes (255 KiB by default).
                Reads use each file's own chunk size.
            read_preference: For both of its collections, as for :meth:`collection`.
            read_concern: As for :meth:`collection`.
            write_concern: As for :meth:`collection`.

        Returns:
            A :class:`GridFS`; its first upload creates the indexes GridFS needs.

        Raises:
            ConfigurationError: The bucket name or chunk size is invalid.

        Example:
            >>> fs = cat.gridfs("images")  # doctest: +SKIP
            >>> file_id = await fs.upload("cat.png", data, content_type="image/png")
        """
        self._handle.ensure_open()
        options = driver_options(read_preference, read_concern, write_concern)

        def collection(name: str) -> Collection[dict[str, Any]]:
            return (
                self.collection(name).with_options(**options) if options else self.collection(name)
            )

        return GridFS(self._handle, bucket, chunk_size, collection=collection)

    def register_indexes(self, collection: str, *specs: Index) -> None:
        """Declare the indexes of ``collection`` for :meth:`ensure_indexes`."""
        for spec in specs:
            if not isinstance(spec, Index):
                raise ConfigurationError(f"indexes must be Index(...) values, not {spec!r}")
        self._declared_indexes[collection] = tuple(specs)

    def register_search_indexes(self, collection: str, *specs: AnySearchIndex) -> None:
        """Declare the Atlas Search / Vector Search indexes of ``collection`` for :meth:`plan`.

        Raises:
            ConfigurationError: A spec is not a SearchIndex or VectorSearchIndex, or
                two have one name.
        """
        for spec in specs:
            if not isinstance(spec, SearchIndex | VectorSearchIndex):
                raise ConfigurationError(
                    f"search indexes must be SearchIndex(...) or VectorSearchIndex(...), not "
                    f"{spec!r}"
                )
        names = [spec.name for spec in specs]
        if len(set(names)) != len(names):
            raise ConfigurationError(f"search index names must differ, not {names}")
        self._declared_search_indexes[collection] = tuple(specs)

    async def create_search_indexes(
        self, collection: str, *specs: AnySearchIndex, timeout: float | None = None
    ) -> list[str]:
        """Create Atlas Search / Vector Search indexes now (``createSearchIndexes``).

        They build in the background on Atlas; ``$listSearchIndexes`` shows when each
        is queryable.

        Args:
            collection: The collection's name.
            *specs: The indexes.
            timeout: A deadline in seconds for this call.

        Returns:
            The names the server gave them.

        Raises:
            ServerFeatureUnavailable: The server has no search (not Atlas).
        """
        reply = await self.command(
            {"createSearchIndexes": collection, "indexes": [spec.to_mongo() for spec in specs]},
            timeout=timeout,
        )
        return [str(created.get("name")) for created in reply.get("indexesCreated", [])]

    async def ensure_indexes(self, *, timeout: float | None = None) -> dict[str, IndexPlan]:
        """Create every declared index that is missing; safe to call at every startup.

        Args:
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Returns:
            The applied plan of each collection.

        Raises:
            IndexConflict: An index exists with other keys or options.
        """
        with self._handle.operation(timeout, "ensure_indexes", self._handle.name):
            self._handle.ensure_open()
            plans: dict[str, IndexPlan] = {}
            for name, specs in self._declared_indexes.items():
                plans[name] = await self.collection(name).indexes.ensure(*specs)
            return plans

    # -- database commands ---------------------------------------------------------

    def timeout(self, seconds: float) -> AbstractAsyncContextManager[Deadline]:
        """A deadline for every mongocat call in the block: ``async with cat.timeout(2):``.

        Every operation inside (of any Catalogue, in this task and the tasks it
        starts) must finish before the deadline, retries, transaction attempts and
        change-stream resumes included: the drivers enforce it on each round trip
        (MongoDB's client-side operation timeout, ``pymongo.timeout``) and send the
        time left to the server as ``maxTimeMS``, which replaces any ``max_time_ms``.
        Nested scopes and ``timeout=`` arguments can only shorten it. Code that is not
        a mongocat call (``asyncio.sleep``, an HTTP request) is not interrupted.

        Args:
            seconds: The time the block has, from now.

        Returns:
            An async context manager that yields the :class:`Deadline` in force.

        Raises:
            ClientTimeout: From the operation that ran past the deadline, naming it.

        Example:
            >>> async with cat.timeout(2.0):  # doctest: +SKIP
            ...     order = await orders.find_one(F._id == order_id)
            ...     await stock.update_one(F.sku == order["sku"], Update.inc(qty=-1))
        """
        return scope(seconds, "cat.timeout({seconds})")

    async def ping(self, *, timeout: float | None = None) -> None:
        """Check that the server answers.

        Args:
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Raises:
            ServerUnavailable: No server answered within ``serverSelectionTimeoutMS``.
        """
        with self._handle.operation(timeout, "ping", self._handle.name):
            self._handle.ensure_open()
            await self._handle.run(self._handle.database.command("ping"))

    async def command(
        self, command: str | dict[str, Any], *, timeout: float | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Run a database command and return the server's reply.

        Args:
            command: The command's name (``"dbStats"``) or its whole document.
            **kwargs: More fields of the command document.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Returns:
            The server's reply document.

        Raises:
            InvalidQuery: The command runs server-side JavaScript (``mapReduce``, a
                ``$where`` filter) and the Catalogue was not made with
                ``allow_javascript=True``.
        """
        with self._handle.operation(timeout, "command", self._handle.name):
            handle = self._handle
            handle.ensure_open()
            handle.refuse_javascript_command(command)
            if kwargs:
                handle.refuse_javascript(kwargs, f"command {command!r}")
            reply: dict[str, Any] = await handle.run(handle.database.command(command, **kwargs))
            return reply

    def aggregate(
        self,
        pipeline: "Pipeline | Sequence[Mapping[str, Any]]",
        *,
        output: type[Any] = dict,
        allow_disk_use: bool | None = None,
        max_time_ms: int | None = None,
        batch_size: int | None = None,
        let: Mapping[str, Any] | None = None,
        comment: Any = None,
        session: SessionLike = None,
        timeout: float | None = None,
    ) -> Cursor[Any]:
        """Run a database-level aggregation; iterate or await the returned cursor.

        The command is ``{"aggregate": 1}``: pipelines that start with ``$documents``,
        ``$currentOp``, ``$listLocalSessions`` and the like. Takes the pipeline and
        options of :meth:`Collection.aggregate`, with the same checks, and rows typed
        by ``output`` the same way.

        Example:
            >>> rows = await cat.aggregate(Pipeline().documents([{"x": 1}]))  # doctest: +SKIP
        """
        handle = self._handle
        handle.ensure_open()
        return aggregate_cursor(
            handle,
            handle.database,
            pipeline,
            decode=DocumentCoder(dict, handle.database.name, "raise").decoder_for(output),
            allow_disk_use=allow_disk_use,
            max_time_ms=max_time_ms,
            batch_size=batch_size,
            let=let,
            comment=comment,
            session=session,
            timeout=timeout,
        )

    async def list_collection_names(self, *, timeout: float | None = None) -> list[str]:
        """Return the names of the database's collections, sorted.

        Args:
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).
        """
        with self._handle.operation(timeout, "list_collection_names", self._handle.name):
            handle = self._handle
            handle.ensure_open()
            return sorted(await handle.run(handle.database.list_collection_names()))

    async def drop_collection(self, name: str, *, timeout: float | None = None) -> None:
        """Drop the collection ``name`` and its indexes; a missing one is not an error.

        Args:
            name: The collection's name.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).
        """
        with self._handle.operation(timeout, "drop_collection", self._handle.name):
            handle = self._handle
            handle.ensure_open()
            await handle.run(handle.database.drop_collection(name))

    def watch(
        self,
        filter_or_pipeline: WatchFilter = None,
        *,
        cluster: bool = False,
        **options: Unpack[WatchArgs],
    ) -> ChangeStream[dict[str, Any]]:
        """Return a change stream of every collection in the database; enter it to open it.

        Takes the same arguments as :meth:`Collection.watch`; events carry their
        collection in ``event.namespace``.

        Args:
            filter_or_pipeline: As for :meth:`Collection.watch`.
            cluster: Watch every database of the deployment instead (the client-level
                stream; a replica set or sharded cluster, and a user allowed to). A
                checkpoint for it needs a name of its own.
            **options: As for :meth:`Collection.watch`.

        Example:
            >>> async with cat.watch(F.operationType == "insert") as stream:  # doctest: +SKIP
            ...     async for event in stream:
            ...         print(event.namespace.collection, event.document_key)
        """
        handle = self._handle
        handle.ensure_open()
        return ChangeStream(
            handle, self._watched(cluster), WatchOptions.build(filter_or_pipeline, options)
        )

    def consume(
        self,
        handler: Callable[[ChangeEvent[dict[str, Any]]], Awaitable[object]],
        filter_or_pipeline: WatchFilter = None,
        *,
        cluster: bool = False,
        **options: Unpack[WatchArgs],
    ) -> Consumer[dict[str, Any]]:
        """Return a consumer of every collection's changes; see :meth:`Collection.consume`.

        ``cluster=True`` consumes every database's changes, as :meth:`watch` does.
        """
        handle = self._handle
        handle.ensure_open()
        stream: ChangeStream[dict[str, Any]] = ChangeStream(
            handle,
            self._watched(cluster),
            WatchOptions.build(filter_or_pipeline, options),
            autosave=False,
        )
        return Consumer(stream, handler)

    def _watched(self, cluster: bool) -> Any:
        """The driver object a stream watches: the database, or the whole client."""
        return self._handle.client if flag(cluster, "cluster") else self._handle.database

    @asynccontextmanager
    async def session(self, **options: Any) -> AsyncIterator[SessionLike]:
        """Start a client session that operations in this task join implicitly.

        Inside the block, every collection operation awaited in the same task uses the
        session without ``session=`` (e.g. causally consistent reads of your own
        writes). An explicit ``session=`` still wins.

        A transaction opened inside the block (``cat.transaction()`` or
        :meth:`run_transaction`) runs on this session, so the session's
        ``default_transaction_options`` apply to every option it does not set.

        Args:
            **options: The driver's session options (``causal_consistency=True``,
                ``snapshot=True``, ``default_transaction_options=``: the driver's
                ``TransactionOptions`` or a mapping of :meth:`transaction`'s option
                names, e.g. ``{"write_concern": "majority"}``).

        Yields:
            The driver's session.

        Example:
            >>> async with cat.session(causal_consistency=True):  # doctest: +SKIP
            ...     await products.insert_one(doc)
            ...     await products.find_one({"_id": doc["_id"]})  # sees the insert
        """
        handle = self._handle
        handle.ensure_open()
        session = await handle.start_session(session_options(options))
        binding = bind(handle.client, session, transaction=False)
        try:
            yield session
        finally:
            unbind(binding)
            await session.end_session()

    def transaction(
        self,
        *,
        read_concern: str | ReadConcern | None = None,
        write_concern: str | int | WriteConcern | None = None,
        read_preference: Any = None,
        max_commit_time: float | timedelta | None = None,
        session: Any = None,
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
            session: A driver session to run on (left open afterwards); by default
                the one of an enclosing ``cat.session()`` block, else a new one.
                Options not given here come from the session's
                ``default_transaction_options``, then from the client.

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
            self._handle,
            transaction_options(read_concern, write_concern, read_preference, max_commit_time),
            session=session,
        )

    async def run_transaction(
        self,
        fn: Callable[[], Awaitable[_T]],
        *,
        timeout: float | None = None,
        max_attempts: int | None = None,
        read_concern: str | ReadConcern | None = None,
        write_concern: str | int | WriteConcern | None = None,
        read_preference: Any = None,
        max_commit_time: float | timedelta | None = None,
        session: Any = None,
    ) -> _T:
        """Run ``fn`` in a transaction, retrying it the way MongoDB prescribes.

        The whole function runs again after a ``TransientTransactionError`` (a write
        conflict, say), and the commit is retried after an
        ``UnknownTransactionCommitResult``, with jittered backoff, until the deadline.
        ``fn`` may run several times: keep side effects outside the database out of it.

        Args:
            fn: An async function of no arguments; its operations join the transaction.
            timeout: A deadline in seconds for the whole run: every operation of every
                attempt, and the commit, must finish before it (MongoDB's
                client-side operation timeout), and no attempt starts after it. Inside
                a :meth:`timeout` scope, the earlier of the two. Without either,
                attempts stop after 120 seconds (the specification's limit) and the
                operations have the client's own timeouts.
            max_attempts: Also stop after this many runs of ``fn``.
            read_concern: As for :meth:`transaction`.
            write_concern: As for :meth:`transaction`.
            read_preference: As for :meth:`transaction`.
            max_commit_time: As for :meth:`transaction`.
            session: As for :meth:`transaction`: every attempt runs on it.

        Returns:
            What ``fn`` returned in the attempt that committed.

        Raises:
            TransactionTimeout: The deadline passed; a TransactionFailed (with the
                number of attempts and the last error) and a ClientTimeout.
            TransactionFailed: Attempts ran out, or 120 seconds passed without a
                deadline.

        Example:
            >>> async def transfer() -> None:  # doctest: +SKIP
            ...     await accounts.update_one(F._id == "a", Update.inc(balance=-10))
            ...     await accounts.update_one(F._id == "b", Update.inc(balance=10))
            >>> await cat.run_transaction(transfer, timeout=30)  # doctest: +SKIP
        """
        if max_attempts is not None and max_attempts < 1:
            raise ConfigurationError(f"max_attempts must be at least 1, not {max_attempts!r}")
        options = transaction_options(read_concern, write_concern, read_preference, max_commit_time)
        return await run_transaction(
            self._handle,
            fn,
            timeout=timeout,
            max_attempts=max_attempts,
            options=options,
            session=session,
        )


def _spec(name: str, document_type: type[Any], options: CollectionArgs) -> CollectionSpec:
    """The spec of create_collection's and declare_collection's options.

    Raises:
        ConfigurationError: An unknown option, or ``validator=True`` for ``dict``.
    """
    unknown = sorted(set(options) - set(CollectionArgs.__annotations__))
    if unknown:
        raise ConfigurationError(
            f"unknown collection option(s) {', '.join(unknown)}; the options are "
            f"{', '.join(CollectionArgs.__annotations__)}"
        )
    arguments: dict[str, Any] = dict(options)
    if arguments.get("validator") is True:
        if document_type is dict:
            raise ConfigurationError(
                "validator=True derives the validator from the document type: give one "
                "(a TypedDict, dataclass or Pydantic model), or a validator document"
            )
        arguments["validator"] = {"$jsonSchema": json_schema(document_type)}
    elif arguments.get("validator") is False:
        arguments["validator"] = None
    return CollectionSpec(name, **arguments)
