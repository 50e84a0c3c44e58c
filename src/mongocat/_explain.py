"""A summary of the server's explain output: which plan ran and what it read."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ExplainSummary"]

# Stages that wrap the stage that reads data.
_WRAPPERS = frozenset(
    {"FETCH", "LIMIT", "SKIP", "PROJECTION_SIMPLE", "PROJECTION_DEFAULT", "PROJECTION_COVERED",
     "SORT", "SORT_KEY_GENERATOR", "SHARDING_FILTER", "SINGLE_SHARD", "SHARD_MERGE"}
)  # fmt: skip


def _stages(plan: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The plan's stages, outermost first, following inputStage(s)."""
    found = [plan]
    child = plan.get("inputStage")
    if isinstance(child, Mapping):
        found += _stages(child)
    for child in plan.get("inputStages", ()):
        if isinstance(child, Mapping):
            found += _stages(child)
    return found


@dataclass(frozen=True, slots=True)
class ExplainSummary:
    """What the query planner chose and what the query read.

    Attributes:
        stage: The stage that reads data: ``"IXSCAN"``, ``"COLLSCAN"``, ``"IDHACK"``, ...
        stages: Every stage of the winning plan, outermost first.
        index_name: The index the plan scans, if any.
        keys_examined: Index keys read (``totalKeysExamined``), if reported.
        docs_examined: Documents read (``totalDocsExamined``), if reported.
        returned: Documents returned (``nReturned``), if reported.
        time_ms: Execution time in milliseconds, if reported.
        raw: The server's whole explain output.
    """

    stage: str
    stages: tuple[str, ...]
    index_name: str | None
    keys_examined: int | None
    docs_examined: int | None
    returned: int | None
    time_ms: int | None
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_explain(cls, explain: Mapping[str, Any]) -> "ExplainSummary":
        """Summarise an ``explain`` reply (classic or slot-based engine, find or aggregate)."""
        stages_list = explain.get("stages")
        if "queryPlanner" not in explain and isinstance(stages_list, list) and stages_list:
            # An aggregation whose first stage reads through a $cursor.
            cursor = stages_list[0].get("$cursor", {})
            if isinstance(cursor, Mapping) and "queryPlanner" in cursor:
                return cls._from_parts(cursor, explain)
        return cls._from_parts(explain, explain)

    @classmethod
    def _from_parts(cls, explain: Mapping[str, Any], raw: Mapping[str, Any]) -> "ExplainSummary":
        """Summarise the part of an explain reply that holds the query plan."""
        planner = explain.get("queryPlanner", {})
        winning = planner.get("winningPlan", {})
        if "queryPlan" in winning:  # the slot-based engine nests the classic tree
            winning = winning["queryPlan"]
        stages = _stages(winning)
        names = tuple(str(s.get("stage", "?")) for s in stages)
        reader = next((s for s in stages if s.get("stage") not in _WRAPPERS), stages[-1])
        index_name = next((s.get("indexName") for s in stages if s.get("indexName")), None)
        stats = explain.get("executionStats", {})
        return cls(
            stage=str(reader.get("stage", "?")),
            stages=names,
            index_name=index_name,
            keys_examined=stats.get("totalKeysExamined"),
            docs_examined=stats.get("totalDocsExamined"),
            returned=stats.get("nReturned"),
            time_ms=stats.get("executionTimeMillis"),
            raw=raw,
        )

    @property
    def uses_index(self) -> bool:
        """Whether the plan reads an index rather than scanning the collection."""
        return self.index_name is not None or self.stage in ("IXSCAN", "IDHACK", "EXPRESS_IXSCAN")
