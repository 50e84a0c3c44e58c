"""The plan for a Catalogue's whole declared schema: its collections and their indexes.

``await cat.plan()`` compares what the Catalogue declares (``cat.collection(...)`` with
collection options, ``indexes=``, ``register_indexes``) with the server and returns a
:class:`SchemaPlan`; ``cat.ensure()`` and ``cat.sync()`` apply it.
"""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._collection_specs import CollectionChange
from ._index_manager import IndexPlan
from ._search_indexes import SearchIndexPlan

__all__ = ["SchemaPlan"]


@dataclass(frozen=True, slots=True)
class SchemaPlan:
    """What ``ensure()`` / ``sync()`` would do (or did) for every declared collection.

    ``print(plan)`` lists it; :meth:`to_dict` is the same as JSON-serialisable data.

    Attributes:
        collections: One change per declared collection.
        indexes: The index plan of each collection that declares indexes.
        search_indexes: The search-index plan of each collection that declares
            Atlas Search or Vector Search indexes.
        index_changes: ``collMod`` commands that change an index in place (its
            ``hidden`` flag or TTL), taken out of the index plans' conflicts.
    """

    collections: tuple[CollectionChange, ...]
    indexes: Mapping[str, IndexPlan]
    search_indexes: Mapping[str, SearchIndexPlan] = dataclasses.field(default_factory=dict)
    index_changes: tuple[Mapping[str, Any], ...] = ()

    @property
    def conflicts(self) -> tuple[str, ...]:
        """Every conflict, in words, each with its fix."""
        found = [
            f"collection {change.name!r}: " + "; ".join(change.reasons)
            for change in self.collections
            if change.action == "conflict"
        ]
        for name, plan in self.indexes.items():
            found += [
                f"index {c.declared.name!r} of {name!r}: {c.reason}; drop it first "
                "(sync(drop_unknown=True) does not change an index in place)"
                for c in plan.conflicts
            ]
        return tuple(found)

    @property
    def changes_nothing(self) -> bool:
        """Whether applying the plan would leave the server as it is."""
        return (
            all(c.action == "unchanged" for c in self.collections)
            and all(p.changes_nothing for p in self.indexes.values())
            and all(p.changes_nothing for p in self.search_indexes.values())
            and not self.index_changes
        )

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-serialisable data."""
        return {
            "collections": [change.to_dict() for change in self.collections],
            "indexes": {
                name: {
                    "create": [spec.name for spec in plan.create],
                    "drop": [info.name for info in plan.drop],
                    "conflicts": [
                        {"index": c.declared.name, "reason": c.reason} for c in plan.conflicts
                    ],
                    "unchanged": [info.name for info in plan.unchanged],
                }
                for name, plan in self.indexes.items()
            },
            "search_indexes": {
                name: {
                    "create": [spec.name for spec in plan.create],
                    "update": [spec.name for spec in plan.update],
                    "drop": list(plan.drop),
                    "unchanged": list(plan.unchanged),
                    "unavailable": plan.unavailable,
                }
                for name, plan in self.search_indexes.items()
            },
            "index_changes": [dict(command) for command in self.index_changes],
            "changes_nothing": self.changes_nothing,
            "conflicts": list(self.conflicts),
        }

    def __str__(self) -> str:
        lines: list[str] = []
        for change in self.collections:
            if change.action == "unchanged":
                lines.append(f"  = collection {change.name}")
            elif change.action == "create":
                lines.append(f"  + create collection {change.name}: {dict(change.command or {})}")
            elif change.action == "modify":
                lines.append(f"  ~ modify collection {change.name}: {'; '.join(change.reasons)}")
            else:
                lines.append(
                    f"  ! conflict in collection {change.name}: {'; '.join(change.reasons)}"
                )
        for name, plan in self.indexes.items():
            lines += [f"  + create index {spec.name} on {name}" for spec in plan.create]
            lines += [f"  - drop index {info.name} on {name}" for info in plan.drop]
            lines += [
                f"  ! conflict in index {c.declared.name} on {name}: {c.reason}"
                for c in plan.conflicts
            ]
        for command in self.index_changes:
            lines.append(
                f"  ~ modify index {command['index']['name']} on {command['collMod']}: "
                f"{ {k: v for k, v in command['index'].items() if k != 'name'} }"
            )
        for name, search in self.search_indexes.items():
            if search.unavailable is not None:
                lines.append(f"  ? search indexes of {name}: not here ({search.unavailable})")
            lines += [f"  + create search index {spec.name} on {name}" for spec in search.create]
            lines += [f"  ~ update search index {spec.name} on {name}" for spec in search.update]
            lines += [f"  - drop search index {index} on {name}" for index in search.drop]
        head = "nothing to do" if self.changes_nothing else "changes pending"
        return "\n".join([f"schema plan: {head}", *lines])
