"""Index management for one collection: list, plan, ensure, sync, drop.

``plan`` compares declared :class:`~mongocat.Index` specs with what the server lists
(key order, direction and every option that changes behaviour) and changes nothing;
``ensure`` and ``sync`` apply a plan. The ``_id_`` index is never touched.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from pymongo import IndexModel

from ._errors import IndexConflict, InvalidQuery
from ._handle import DatabaseHandle
from ._indexes import Index, IndexInfo

__all__ = ["IndexDifference", "IndexManager", "IndexPlan", "in_place_change"]

_ID_INDEX = "_id_"


@dataclass(frozen=True, slots=True)
class IndexDifference:
    """A declared index whose name or keys exist on the server with other settings.

    Attributes:
        declared: The declared spec.
        existing: The index on the server.
        reason: What differs, in words.
    """

    declared: Index
    existing: IndexInfo
    reason: str


@dataclass(frozen=True, slots=True)
class IndexPlan:
    """What :meth:`IndexManager.sync` would do (or did).

    Attributes:
        create: Declared indexes the server lacks.
        drop: Server indexes no spec declares (only with ``drop_unknown``).
        conflicts: Declared indexes that exist with other keys or options.
        unchanged: Server indexes that match a declared spec exactly.
    """

    create: tuple[Index, ...]
    drop: tuple[IndexInfo, ...]
    conflicts: tuple[IndexDifference, ...]
    unchanged: tuple[IndexInfo, ...]

    @property
    def changes_nothing(self) -> bool:
        """Whether applying the plan would leave the indexes as they are."""
        return not (self.create or self.drop or self.conflicts)


#: Index options collMod changes in place.
_IN_PLACE: Final = frozenset({"hidden", "expireAfterSeconds"})


def in_place_change(collection: str, difference: IndexDifference) -> dict[str, Any] | None:
    """The ``collMod`` that resolves ``difference``, if only hidden / TTL differ.

    Same keys, same name, and the options differ only in ``hidden`` or
    ``expireAfterSeconds`` (a TTL index keeps its TTL, 0 included): a ``collMod`` of
    the index changes them without a rebuild.
    """
    declared, existing = difference.declared, difference.existing
    if list(declared.key_document().items()) != list(existing.key.items()):
        return None
    if declared.name != existing.name:
        return None
    mine, theirs = declared.comparable_options(), existing.options
    differing = {k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k)}
    if not differing or not differing <= _IN_PLACE:
        return None
    if "expireAfterSeconds" in differing and (
        "expireAfterSeconds" not in mine or "expireAfterSeconds" not in theirs
    ):
        return None  # adding or removing a TTL is not a collMod
    change: dict[str, Any] = {"name": declared.name}
    if "hidden" in differing:
        change["hidden"] = bool(mine.get("hidden", False))
    if "expireAfterSeconds" in differing:
        change["expireAfterSeconds"] = mine["expireAfterSeconds"]
    return {"collMod": collection, "index": change}


def _options_match(declared: Mapping[str, Any], existing: Mapping[str, Any]) -> bool:
    """Compare behaviour options; a declared collation may name only some fields."""
    for name in set(declared) | set(existing):
        mine, theirs = declared.get(name), existing.get(name)
        if name == "collation" and isinstance(mine, Mapping) and isinstance(theirs, Mapping):
            if any(theirs.get(k) != v for k, v in mine.items()):
                return False
        elif mine != theirs:
            return False
    return True


def _difference(spec: Index, info: IndexInfo) -> str | None:
    """Say how ``info`` differs from ``spec``, or None if it matches."""
    declared_key = list(spec.key_document().items())
    if declared_key != list(info.key.items()):
        return f"keys {dict(declared_key)} declared, {info.key} on the server"
    if spec.name != info.name:
        return f"named {spec.name!r} declared, {info.name!r} on the server"
    declared = spec.comparable_options()
    if not _options_match(declared, info.options):
        return f"options {declared} declared, {info.options} on the server"
    return None


class IndexManager:
    """The indexes of one collection; get it as ``collection.indexes``.

    Example:
        >>> await products.indexes.ensure(Index("sku", unique=True))  # doctest: +SKIP
    """

    __slots__ = ("_driver_collection", "_handle")

    def __init__(self, handle: DatabaseHandle, driver_collection: Any) -> None:
        self._handle = handle
        self._driver_collection = driver_collection

    def _open_driver_collection(self) -> Any:
        """The driver collection, once the handle is known to be open."""
        self._handle.ensure_open()
        return self._driver_collection

    async def list(self, *, timeout: float | None = None) -> list[IndexInfo]:
        """Return the collection's indexes as the server lists them (``_id_`` first).

        Args:
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).
        """
        with self._handle.operation(timeout, "list", self._driver_collection.full_name):
            information = await self._handle.run(self._open_driver_collection().index_information())
            return [
                IndexInfo.from_server({"name": name, **raw, "key": dict(raw["key"])})
                for name, raw in information.items()
            ]

    async def plan(
        self, *specs: Index, drop_unknown: bool = False, timeout: float | None = None
    ) -> IndexPlan:
        """Compare ``specs`` with the server's indexes; change nothing.

        Args:
            *specs: The indexes the collection should have.
            drop_unknown: Plan to drop indexes no spec declares (never ``_id_``).
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Returns:
            What to create, drop, what conflicts, and what is already right.
        """
        with self._handle.operation(timeout, "plan", self._driver_collection.full_name):
            _check_specs(specs)
            existing = await self.list()
            create: list[Index] = []
            conflicts: list[IndexDifference] = []
            unchanged: list[IndexInfo] = []
            claimed: set[str] = set()
            for spec in specs:
                key = list(spec.key_document().items())
                match = next(
                    (i for i in existing if i.name == spec.name or list(i.key.items()) == key),
                    None,
                )
                if match is None:
                    create.append(spec)
                    continue
                claimed.add(match.name)
                reason = _difference(spec, match)
                if reason is None:
                    unchanged.append(match)
                else:
                    conflicts.append(IndexDifference(spec, match, reason))
            drop = tuple(
                i
                for i in existing
                if drop_unknown and i.name != _ID_INDEX and i.name not in claimed
            )
            return IndexPlan(tuple(create), drop, tuple(conflicts), tuple(unchanged))

    async def ensure(self, *specs: Index, timeout: float | None = None) -> IndexPlan:
        """Create the declared indexes that are missing, in one ``createIndexes`` call.

        Identical indexes are left alone, so calling this at every startup is safe.

        Args:
            *specs: The indexes the collection should have.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Returns:
            The plan that was applied.

        Raises:
            IndexConflict: An index with the same name or keys exists with other
                settings; nothing was created.
        """
        with self._handle.operation(timeout, "ensure", self._driver_collection.full_name):
            plan = await self.plan(*specs)
            _raise_conflicts(plan)
            await self._create(plan.create)
            return plan

    async def sync(
        self,
        *specs: Index,
        drop_unknown: bool = False,
        dry_run: bool = False,
        rebuild_conflicts: bool = False,
        hide_before_drop: bool = False,
        timeout: float | None = None,
    ) -> IndexPlan:
        """Make the server's indexes match ``specs``.

        Args:
            *specs: The indexes the collection should have.
            drop_unknown: Drop indexes no spec declares (never ``_id_``).
            dry_run: Only return the plan.
            rebuild_conflicts: Drop and re-create conflicting indexes instead of raising.
            hide_before_drop: Hide undeclared indexes instead of dropping them, so that
                the change can be undone (``collMod`` with ``hidden``).
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).

        Returns:
            The plan, applied unless ``dry_run``.

        Raises:
            IndexConflict: Conflicts exist and ``rebuild_conflicts`` is False.
        """
        with self._handle.operation(timeout, "sync", self._driver_collection.full_name):
            plan = await self.plan(*specs, drop_unknown=drop_unknown)
            if dry_run:
                return plan
            if not rebuild_conflicts:
                _raise_conflicts(plan)
            for difference in plan.conflicts:
                await self.drop(difference.existing.name)
            for info in plan.drop:
                if hide_before_drop:
                    await self.hide(info.name)
                else:
                    await self.drop(info.name)
            await self._create(plan.create + tuple(d.declared for d in plan.conflicts))
            return plan

    async def drop(self, index: str | Index, *, timeout: float | None = None) -> None:
        """Drop an index by name or by spec; ``_id_`` cannot be dropped.

        Args:
            index: The index's name, or its spec.
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).
        """
        with self._handle.operation(timeout, "drop", self._driver_collection.full_name):
            name = index.name if isinstance(index, Index) else index
            if name == _ID_INDEX:
                raise InvalidQuery("the _id_ index cannot be dropped")
            await self._handle.run(self._open_driver_collection().drop_index(name))

    async def hide(self, name: str, hidden: bool = True, *, timeout: float | None = None) -> None:
        """Hide an index from the query planner (or unhide it), keeping it up to date.

        Args:
            name: The index's name.
            hidden: Hide it (True) or show it again (False).
            timeout: A deadline in seconds for this call (the earlier of it and
                any :meth:`~mongocat.Catalogue.timeout` scope around it).
        """
        with self._handle.operation(timeout, "hide", self._driver_collection.full_name):
            collection = self._open_driver_collection()
            command = {"collMod": collection.name, "index": {"name": name, "hidden": hidden}}
            await self._handle.run(collection.database.command(command))

    async def _create(self, specs: tuple[Index, ...]) -> None:
        """Create ``specs`` in one createIndexes command."""
        if not specs:
            return
        models = [IndexModel(list(s.keys), name=s.name, **dict(s.options)) for s in specs]
        await self._handle.run(self._open_driver_collection().create_indexes(models))


def _check_specs(specs: tuple[Index, ...]) -> None:
    """Refuse non-Index arguments and two specs with one name."""
    names: set[str] = set()
    for spec in specs:
        if not isinstance(spec, Index):
            raise InvalidQuery(f"index specs must be Index(...) values, not {spec!r}")
        if spec.name in names:
            raise InvalidQuery(f"two declared indexes are named {spec.name!r}")
        names.add(spec.name)


def _raise_conflicts(plan: IndexPlan) -> None:
    """Raise IndexConflict naming every conflicting index and both settings."""
    if plan.conflicts:
        details = "; ".join(f"{d.existing.name!r}: {d.reason}" for d in plan.conflicts)
        raise IndexConflict(
            f"indexes exist with other settings ({details}); drop them, or call "
            "sync(..., rebuild_conflicts=True) to rebuild them",
            conflicts=plan.conflicts,
        )
