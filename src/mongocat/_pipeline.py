"""The aggregation pipeline composer: one method per stage, checked as it is built."""

import datetime
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from bson import Decimal128, Int64, ObjectId

from ._errors import InvalidQuery
from ._expressions import check_expression, render_expression
from ._filters import Filter
from ._paths import FieldPath

__all__ = ["Pipeline"]

_MISSING: Final[Any] = object()
_LAST_ONLY: Final = frozenset({"$out", "$merge"})
_FIRST_ONLY: Final = frozenset(
    {"$geoNear", "$documents", "$collStats", "$indexStats", "$changeStream", "$search",
     "$searchMeta", "$vectorSearch", "$currentOp", "$listSessions", "$listLocalSessions",
     "$planCacheStats", "$listSearchIndexes", "$listSampledQueries", "$querySettings",
     "$queryStats", "$shardedDataDistribution"}
)  # fmt: skip
_NOT_IN_UNION: Final = frozenset(
    {"$out", "$merge", "$changeStream", "$currentOp", "$listLocalSessions"}
)
_NOT_IN_FACET: Final = frozenset(
    {"$collStats", "$facet", "$geoNear", "$indexStats", "$out", "$merge", "$planCacheStats",
     "$search", "$searchMeta", "$vectorSearch", "$changeStream", "$documents"}
)  # fmt: skip


def _path(field: str | FieldPath) -> str:
    """A field path as an expression: ``"$tags"`` from ``"tags"``, ``"$tags"`` or ``F.tags``."""
    if isinstance(field, FieldPath):
        return f"${field.path}"
    if not isinstance(field, str) or not field.lstrip("$"):
        raise InvalidQuery(f"a field path is a name such as 'tags' or F.tags, not {field!r}")
    return field if field.startswith("$") else f"${field}"


def _name(field: str | FieldPath) -> str:
    """A plain field name from ``"tags"``, ``"$tags"`` or ``F.tags``."""
    return field.path if isinstance(field, FieldPath) else str(field).lstrip("$")


def _positive(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidQuery(f"{what} takes a non-negative int, not {value!r}")
    return value


def _fields(spec: Any, kwargs: Mapping[str, Any], stage: str) -> dict[str, Any]:
    """Merge a positional spec (mapping or builder) and keyword fields, expressions all."""
    merged: dict[str, Any] = {}
    if spec is not None:
        rendered = render_expression(spec)
        if not isinstance(rendered, Mapping):
            raise InvalidQuery(f"{stage}() takes a document or keywords, not {spec!r}")
        merged.update(rendered)
    merged.update(kwargs)
    if not merged:
        raise InvalidQuery(f"{stage}() needs at least one field")
    check_expression(merged, f"{stage}()")
    return merged


def _search_spec(spec: Any, index: str | None, where: str) -> dict[str, Any]:
    """An Atlas Search stage's document: the operator, and the index if named."""
    if not isinstance(spec, Mapping) or not spec:
        raise InvalidQuery(f"{where} takes the search operator document, not {spec!r}")
    if index is not None and (not isinstance(index, str) or not index):
        raise InvalidQuery(f"{where} index must be the search index's name, not {index!r}")
    document = dict(spec)
    if index is not None:
        document["index"] = index
    return document


def _expression(value: Any, where: str) -> Any:
    """``value``, checked as an expression argument (no ``$`` strings)."""
    check_expression(value, where)
    return value


class Pipeline:
    """An immutable aggregation pipeline; every stage method returns a new pipeline.

    Example:
        >>> from mongocat import acc, expr
        >>> from mongocat import F
        >>> Pipeline().group(F.product, units=acc.sum(F.qty)).sort(units=-1).to_mongo()
        [{'$group': {'_id': '$product', 'units': {'$sum': '$qty'}}}, {'$sort': {'units': -1}}]
    """

    __slots__ = ("_stages",)

    def __init__(self, stages: tuple[tuple[str, Any], ...] = ()) -> None:
        self._stages = stages

    # -- building ----------------------------------------------------------------

    def _add(self, name: str, spec: Any) -> "Pipeline":
        index = len(self._stages)
        if self._stages and self._stages[-1][0] in _LAST_ONLY:
            raise InvalidQuery(
                f"stage {index} ({name}) follows {self._stages[-1][0]} at stage {index - 1}; "
                f"{self._stages[-1][0]} must be the last stage"
            )
        if name in _FIRST_ONLY and self._stages:
            raise InvalidQuery(f"stage {index} ({name}) must be the first stage of a pipeline")
        return Pipeline((*self._stages, (name, spec)))

    def _inner(
        self,
        pipeline: "Pipeline | Sequence[Mapping[str, Any]]",
        outer: str,
        has: str,
        where: str,
        forbidden: frozenset[str],
    ) -> "Pipeline":
        """A sub-pipeline of the next stage ``outer``, refusing the stages it cannot hold.

        Raises:
            InvalidQuery: The sub-pipeline has a stage of ``forbidden``, named with its
                position: "stage 2 ($facet) sub-pipeline 'a' has $out at stage 0; ...".
        """
        sub = Pipeline.from_mongo(pipeline)
        for position, (stage, _) in enumerate(sub._stages):
            if stage in forbidden:
                raise InvalidQuery(
                    f"stage {len(self._stages)} ({outer}) {has} {stage} at stage {position}"
                    f"{where}; {outer} cannot contain {stage}"
                )
        return sub

    def raw(self, stage: Mapping[str, Any]) -> "Pipeline":
        """Append a stage document as written, e.g. ``{"$search": {...}}``."""
        if not isinstance(stage, Mapping) or len(stage) != 1:
            raise InvalidQuery(f"a stage is a document with one '$' key, not {stage!r}")
        ((name, spec),) = stage.items()
        if not (isinstance(name, str) and name.startswith("$")):
            raise InvalidQuery(f"stage {len(self._stages)} has no '$' stage name: {stage!r}")
        if name == "$facet" and isinstance(spec, Mapping):
            return self.facet(**{k: Pipeline.from_mongo(v) for k, v in spec.items()})
        return self._add(name, spec)

    @classmethod
    def from_mongo(cls, stages: "Pipeline | Sequence[Mapping[str, Any]]") -> "Pipeline":
        """Build from a list of stage documents, checking them as the methods do."""
        if isinstance(stages, Pipeline):
            return stages
        if isinstance(stages, str | bytes | Mapping) or not isinstance(stages, Sequence):
            raise InvalidQuery(f"a pipeline is a list of stage documents, not {stages!r}")
        pipeline = cls()
        for stage in stages:
            pipeline = pipeline.raw(stage)
        return pipeline

    def __add__(self, other: "Pipeline | Sequence[Mapping[str, Any]]") -> "Pipeline":
        result = self
        for name, spec in Pipeline.from_mongo(other)._stages:
            result = result._add(name, spec)
        return result

    # -- stages ------------------------------------------------------------------

    def match(self, filter: "Filter | Mapping[str, Any]") -> "Pipeline":
        """Keep the documents that match ``filter``: ``$match``."""
        if not isinstance(filter, Filter | Mapping):
            raise InvalidQuery(f"match() takes a Filter or a filter document, not {filter!r}")
        return self._add("$match", filter)

    def project(self, spec: Any = None, /, **fields: Any) -> "Pipeline":
        """Reshape documents: ``project(name=1, total=expr.add(...), _id=0)``: ``$project``."""
        return self._add("$project", _fields(spec, fields, "project"))

    def add_fields(self, spec: Any = None, /, **fields: Any) -> "Pipeline":
        """Add or replace fields: ``$addFields``."""
        return self._add("$addFields", _fields(spec, fields, "add_fields"))

    def set(self, spec: Any = None, /, **fields: Any) -> "Pipeline":
        """Add or replace fields: ``$set``."""
        return self._add("$set", _fields(spec, fields, "set"))

    def unset(self, *fields: str | FieldPath) -> "Pipeline":
        """Remove fields: ``$unset``."""
        if not fields:
            raise InvalidQuery("unset() needs at least one field")
        names = [_name(f) for f in fields]
        return self._add("$unset", names[0] if len(names) == 1 else names)

    def group(self, key: Any = _MISSING, /, **accumulators: Any) -> "Pipeline":
        """Group by ``key`` (None: one group for all) and accumulate: ``$group``."""
        if key is _MISSING:
            raise InvalidQuery(
                f"stage {len(self._stages)} ($group) needs a key: group(F.field, ...), or "
                "group(None, ...) for one group of every document"
            )
        if "_id" in accumulators:
            raise InvalidQuery("give the group key as the first argument, not _id=")
        return self._add("$group", _expression({"_id": key, **accumulators}, "group()"))

    def sort(self, spec: Any = None, /, **fields: int) -> "Pipeline":
        """Order documents: ``sort(revenue=-1)`` or a Sort: ``$sort``."""
        merged = _fields(spec, fields, "sort")
        for field, direction in merged.items():
            if direction not in (1, -1) and not (
                isinstance(direction, Mapping) and "$meta" in direction
            ):
                raise InvalidQuery(
                    f"sort direction for {field!r} must be 1 or -1, not {direction!r}"
                )
        return self._add("$sort", merged)

    def limit(self, count: int) -> "Pipeline":
        """Keep the first ``count`` documents: ``$limit``."""
        if _positive(count, "limit()") == 0:
            raise InvalidQuery("limit() takes a positive int")
        return self._add("$limit", count)

    def skip(self, count: int) -> "Pipeline":
        """Skip ``count`` documents: ``$skip``."""
        return self._add("$skip", _positive(count, "skip()"))

    def unwind(
        self,
        path: str | FieldPath,
        *,
        include_array_index: str | None = None,
        preserve_null_and_empty_arrays: bool | None = None,
    ) -> "Pipeline":
        """One document per array element: ``$unwind``."""
        if include_array_index is None and preserve_null_and_empty_arrays is None:
            return self._add("$unwind", _path(path))
        spec: dict[str, Any] = {"path": _path(path)}
        if include_array_index is not None:
            spec["includeArrayIndex"] = include_array_index
        if preserve_null_and_empty_arrays is not None:
            spec["preserveNullAndEmptyArrays"] = preserve_null_and_empty_arrays
        return self._add("$unwind", spec)

    def lookup(
        self,
        from_: str,
        *,
        as_: str,
        local_field: str | FieldPath | None = None,
        foreign_field: str | FieldPath | None = None,
        let: Mapping[str, Any] | None = None,
        pipeline: "Pipeline | Sequence[Mapping[str, Any]] | None" = None,
    ) -> "Pipeline":
        """Join documents of another collection: ``$lookup``.

        Give ``local_field`` and ``foreign_field``, or ``let`` and a sub-``pipeline``
        (or all four).
        """
        spec: dict[str, Any] = {"from": from_}
        if (local_field is None) != (foreign_field is None):
            raise InvalidQuery("lookup() needs both local_field and foreign_field, or neither")
        if local_field is not None and foreign_field is not None:
            spec["localField"] = _name(local_field)
            spec["foreignField"] = _name(foreign_field)
        if let is not None:
            spec["let"] = _expression(dict(let), "lookup(let=)")
        if pipeline is not None:
            spec["pipeline"] = Pipeline.from_mongo(pipeline)
        if local_field is None and pipeline is None:
            raise InvalidQuery("lookup() needs local_field/foreign_field or a pipeline")
        spec["as"] = as_
        return self._add("$lookup", spec)

    def graph_lookup(
        self,
        from_: str,
        *,
        start_with: Any,
        connect_from_field: str,
        connect_to_field: str,
        as_: str,
        max_depth: int | None = None,
        depth_field: str | None = None,
        restrict_search_with_match: "Filter | Mapping[str, Any] | None" = None,
    ) -> "Pipeline":
        """Follow references recursively: ``$graphLookup``."""
        spec: dict[str, Any] = {
            "from": from_,
            "startWith": _expression(start_with, "graph_lookup(start_with=)"),
            "connectFromField": connect_from_field,
            "connectToField": connect_to_field,
            "as": as_,
        }
        if max_depth is not None:
            spec["maxDepth"] = _positive(max_depth, "max_depth")
        if depth_field is not None:
            spec["depthField"] = depth_field
        if restrict_search_with_match is not None:
            spec["restrictSearchWithMatch"] = restrict_search_with_match
        return self._add("$graphLookup", spec)

    def facet(self, **pipelines: "Pipeline | Sequence[Mapping[str, Any]]") -> "Pipeline":
        """Run several sub-pipelines over the same documents: ``$facet``."""
        if not pipelines:
            raise InvalidQuery("facet() needs at least one named sub-pipeline")
        subs = {
            name: self._inner(sub, "$facet", f"sub-pipeline {name!r} has", "", _NOT_IN_FACET)
            for name, sub in pipelines.items()
        }
        return self._add("$facet", subs)

    def bucket(
        self,
        group_by: Any,
        boundaries: Sequence[Any],
        *,
        default: Any = _MISSING,
        output: Mapping[str, Any] | None = None,
    ) -> "Pipeline":
        """Group into buckets between ``boundaries``: ``$bucket``."""
        if len(boundaries) < 2 or list(boundaries) != sorted(boundaries):
            raise InvalidQuery("bucket() boundaries must be at least two values in ascending order")
        spec: dict[str, Any] = {"groupBy": group_by, "boundaries": list(boundaries)}
        if default is not _MISSING:
            spec["default"] = default
        if output is not None:
            spec["output"] = dict(output)
        return self._add("$bucket", _expression(spec, "bucket()"))

    def bucket_auto(
        self,
        group_by: Any,
        buckets: int,
        *,
        output: Mapping[str, Any] | None = None,
        granularity: str | None = None,
    ) -> "Pipeline":
        """Group into ``buckets`` evenly filled buckets: ``$bucketAuto``."""
        spec: dict[str, Any] = {"groupBy": group_by, "buckets": _positive(buckets, "buckets")}
        if output is not None:
            spec["output"] = dict(output)
        check_expression(spec, "bucket_auto()")
        if granularity is not None:
            spec["granularity"] = granularity
        return self._add("$bucketAuto", spec)

    def count(self, field: str) -> "Pipeline":
        """Replace the documents by their count, in ``field``: ``$count``."""
        if not field or field.startswith("$") or "." in field:
            raise InvalidQuery(f"count() takes a plain field name, not {field!r}")
        return self._add("$count", field)

    def sort_by_count(self, expression: Any) -> "Pipeline":
        """Group by ``expression`` and sort by the group sizes: ``$sortByCount``."""
        return self._add("$sortByCount", _expression(expression, "sort_by_count()"))

    def replace_root(self, new_root: Any) -> "Pipeline":
        """Replace each document by ``new_root``: ``$replaceRoot``."""
        return self._add("$replaceRoot", {"newRoot": _expression(new_root, "replace_root()")})

    def replace_with(self, expression: Any) -> "Pipeline":
        """Replace each document by ``expression``: ``$replaceWith``."""
        return self._add("$replaceWith", _expression(expression, "replace_with()"))

    def sample(self, size: int) -> "Pipeline":
        """Pick ``size`` random documents: ``$sample``."""
        return self._add("$sample", {"size": _positive(size, "sample()")})

    def union_with(
        self, collection: str, pipeline: "Pipeline | Sequence[Mapping[str, Any]] | None" = None
    ) -> "Pipeline":
        """Add the documents of another collection: ``$unionWith``.

        Its ``pipeline`` may not write (``$out``, ``$merge``) nor contain a change
        stream or a stage that runs on the host it is sent to; ``$search`` may come
        first in it (MongoDB 6.0+).

        Raises:
            InvalidQuery: The sub-pipeline has a stage ``$unionWith`` cannot run.
        """
        if pipeline is None:
            return self._add("$unionWith", {"coll": collection})
        sub = self._inner(pipeline, "$unionWith", "has", " of its pipeline", _NOT_IN_UNION)
        return self._add("$unionWith", {"coll": collection, "pipeline": sub})

    def set_window_fields(
        self,
        *,
        output: Mapping[str, Any],
        partition_by: Any = None,
        sort_by: Any = None,
    ) -> "Pipeline":
        """Compute fields over windows of documents: ``$setWindowFields``."""
        spec: dict[str, Any] = {}
        if partition_by is not None:
            spec["partitionBy"] = _expression(partition_by, "set_window_fields(partition_by=)")
        if sort_by is not None:
            spec["sortBy"] = sort_by
        for value in output.values():
            check_expression(value, "set_window_fields(output=)", operator=True)
        spec["output"] = dict(output)
        return self._add("$setWindowFields", spec)

    def densify(
        self,
        field: str | FieldPath,
        range: Mapping[str, Any],
        partition_by_fields: Sequence[str] | None = None,
    ) -> "Pipeline":
        """Fill gaps in a sequence of values: ``$densify``."""
        spec: dict[str, Any] = {"field": _name(field), "range": dict(range)}
        if partition_by_fields is not None:
            spec["partitionByFields"] = list(partition_by_fields)
        return self._add("$densify", spec)

    def fill(
        self,
        output: Mapping[str, Any],
        *,
        sort_by: Any = None,
        partition_by: Any = None,
        partition_by_fields: Sequence[str] | None = None,
    ) -> "Pipeline":
        """Fill null and missing values: ``$fill``."""
        spec: dict[str, Any] = {}
        if sort_by is not None:
            spec["sortBy"] = sort_by
        if partition_by is not None:
            spec["partitionBy"] = _expression(partition_by, "fill(partition_by=)")
        if partition_by_fields is not None:
            spec["partitionByFields"] = list(partition_by_fields)
        spec["output"] = _expression(dict(output), "fill(output=)")
        return self._add("$fill", spec)

    def geo_near(
        self,
        near: Mapping[str, Any],
        distance_field: str,
        *,
        spherical: bool | None = None,
        max_distance: float | None = None,
        min_distance: float | None = None,
        query: "Filter | Mapping[str, Any] | None" = None,
        key: str | None = None,
        include_locs: str | None = None,
    ) -> "Pipeline":
        """Documents by distance from ``near``, nearest first; must be first: ``$geoNear``."""
        spec: dict[str, Any] = {"near": dict(near), "distanceField": distance_field}
        for option, value in (
            ("spherical", spherical),
            ("maxDistance", max_distance),
            ("minDistance", min_distance),
            ("query", query),
            ("key", key),
            ("includeLocs", include_locs),
        ):
            if value is not None:
                spec[option] = value
        return self._add("$geoNear", spec)

    def redact(self, expression: Any) -> "Pipeline":
        """Keep, prune or descend into documents by an expression: ``$redact``."""
        return self._add("$redact", _expression(expression, "redact()"))

    def documents(self, documents: Sequence[Mapping[str, Any]]) -> "Pipeline":
        """Start from literal documents (a database-level aggregate): ``$documents``."""
        return self._add("$documents", _expression([dict(d) for d in documents], "documents()"))

    def out(self, collection: str, database: str | None = None) -> "Pipeline":
        """Write the results to a collection, replacing it; must be last: ``$out``."""
        return self._add(
            "$out", collection if database is None else {"db": database, "coll": collection}
        )

    def merge(
        self,
        into: str,
        *,
        database: str | None = None,
        on: str | Sequence[str] | None = None,
        let: Mapping[str, Any] | None = None,
        when_matched: Any = None,
        when_not_matched: str | None = None,
    ) -> "Pipeline":
        """Merge the results into a collection; must be last: ``$merge``."""
        spec: dict[str, Any] = {
            "into": into if database is None else {"db": database, "coll": into}
        }
        if on is not None:
            spec["on"] = on if isinstance(on, str) else list(on)
        if let is not None:
            spec["let"] = _expression(dict(let), "lookup(let=)")
        if when_matched is not None:
            spec["whenMatched"] = when_matched
        if when_not_matched is not None:
            spec["whenNotMatched"] = when_not_matched
        return self._add("$merge", spec)

    # -- search and diagnostics (first stages) ----------------------------------

    def search(self, spec: Mapping[str, Any], *, index: str | None = None) -> "Pipeline":
        """Atlas Search: ``search({"text": {"query": q, "path": "name"}})``: ``$search``.

        Must be the first stage, never inside ``$facet`` or a transaction. ``spec``
        is the operator document as Atlas Search defines it (``text``, ``compound``,
        ``autocomplete``, ...) and is sent as written; ``index`` names the search
        index (``"default"`` when None).
        """
        return self._add("$search", _search_spec(spec, index, "search()"))

    def search_meta(self, spec: Mapping[str, Any], *, index: str | None = None) -> "Pipeline":
        """Atlas Search metadata (counts, facets) instead of documents: ``$searchMeta``."""
        return self._add("$searchMeta", _search_spec(spec, index, "search_meta()"))

    def vector_search(
        self,
        *,
        index: str,
        path: str | FieldPath,
        query_vector: Sequence[float],
        limit: int,
        num_candidates: int | None = None,
        filter: "Filter | Mapping[str, Any] | None" = None,
        exact: bool = False,
    ) -> "Pipeline":
        """Nearest neighbours by vector (Atlas Vector Search): ``$vectorSearch``.

        Must be the first stage. Read each result's score with
        ``expr.meta("vectorSearchScore")``.

        Args:
            index: The vector search index's name.
            path: The indexed vector field.
            query_vector: The query embedding (numbers).
            limit: How many documents to return.
            num_candidates: How many nearest neighbours to consider (approximate
                search; at least ``limit``, 10-20 times it is usual). Required unless
                ``exact``.
            filter: A pre-filter on fields indexed as ``filter`` in the index.
            exact: Exact (ENN) search instead of approximate (ANN).

        Raises:
            InvalidQuery: A missing or inconsistent argument.
        """
        if not isinstance(index, str) or not index:
            raise InvalidQuery(f"vector_search() index must be the index's name, not {index!r}")
        vector = list(query_vector) if isinstance(query_vector, Sequence) else None
        if not vector or not all(
            isinstance(x, int | float) and not isinstance(x, bool) for x in vector
        ):
            raise InvalidQuery("vector_search() query_vector must be a non-empty list of numbers")
        spec: dict[str, Any] = {
            "index": index,
            "path": _name(path),
            "queryVector": vector,
            "limit": _positive(limit, "vector_search() limit"),
        }
        if exact:
            if num_candidates is not None:
                raise InvalidQuery("vector_search(exact=True) takes no num_candidates")
            spec["exact"] = True
        else:
            if num_candidates is None:
                raise InvalidQuery(
                    "vector_search() needs num_candidates (approximate search), or exact=True"
                )
            if _positive(num_candidates, "vector_search() num_candidates") < limit:
                raise InvalidQuery("vector_search() num_candidates must be at least limit")
            spec["numCandidates"] = num_candidates
        if filter is not None:
            if not isinstance(filter, Filter | Mapping):
                raise InvalidQuery(f"vector_search() filter must be a Filter, not {filter!r}")
            spec["filter"] = filter
        return self._add("$vectorSearch", spec)

    def coll_stats(
        self,
        *,
        latency_stats: bool = False,
        storage_stats: bool = False,
        count: bool = False,
        query_exec_stats: bool = False,
    ) -> "Pipeline":
        """The collection's statistics: ``$collStats`` (first stage)."""
        spec: dict[str, Any] = {}
        if latency_stats:
            spec["latencyStats"] = {"histograms": True}
        if storage_stats:
            spec["storageStats"] = {}
        if count:
            spec["count"] = {}
        if query_exec_stats:
            spec["queryExecStats"] = {}
        return self._add("$collStats", spec)

    def index_stats(self) -> "Pipeline":
        """How often each index is used: ``$indexStats`` (first stage)."""
        return self._add("$indexStats", {})

    def current_op(self, **options: bool) -> "Pipeline":
        """The server's running operations (a database-level aggregate on ``admin``).

        ``options`` are ``$currentOp``'s flags in snake case: ``all_users``,
        ``idle_connections``, ``idle_cursors``, ``idle_sessions``, ``local_ops``.
        """
        names = {
            "all_users": "allUsers",
            "idle_connections": "idleConnections",
            "idle_cursors": "idleCursors",
            "idle_sessions": "idleSessions",
            "local_ops": "localOps",
        }
        unknown = sorted(set(options) - set(names))
        if unknown:
            raise InvalidQuery(f"current_op() takes {', '.join(names)}, not {unknown}")
        return self._add("$currentOp", {names[k]: bool(v) for k, v in options.items()})

    def list_sessions(self, *, all_users: bool = False) -> "Pipeline":
        """The sessions in ``config.system.sessions``: ``$listSessions`` (first stage)."""
        return self._add("$listSessions", {"allUsers": True} if all_users else {})

    def plan_cache_stats(self) -> "Pipeline":
        """The collection's cached query plans: ``$planCacheStats`` (first stage)."""
        return self._add("$planCacheStats", {})

    def list_local_sessions(self, *, all_users: bool = False) -> "Pipeline":
        """This server's sessions in memory: ``$listLocalSessions`` (a database aggregate)."""
        return self._add("$listLocalSessions", {"allUsers": True} if all_users else {})

    def list_search_indexes(self, *, name: str | None = None) -> "Pipeline":
        """The collection's Atlas Search indexes: ``$listSearchIndexes`` (first stage)."""
        return self._add("$listSearchIndexes", {} if name is None else {"name": name})

    def list_sampled_queries(self, *, namespace: str | None = None) -> "Pipeline":
        """Sampled queries for shard-key analysis: ``$listSampledQueries`` (on ``admin``)."""
        return self._add(
            "$listSampledQueries", {} if namespace is None else {"namespace": namespace}
        )

    def query_settings(self, *, show_debug_query_shape: bool = False) -> "Pipeline":
        """The cluster's query settings: ``$querySettings`` (on ``admin``, MongoDB 8.0+)."""
        spec = {"showDebugQueryShape": True} if show_debug_query_shape else {}
        return self._add("$querySettings", spec)

    def query_stats(self) -> "Pipeline":
        """Statistics per query shape: ``$queryStats`` (on ``admin``, MongoDB 7.1+)."""
        return self._add("$queryStats", {})

    def sharded_data_distribution(self) -> "Pipeline":
        """How sharded collections' data spreads over shards (on ``admin``, 6.0.3+)."""
        return self._add("$shardedDataDistribution", {})

    def change_stream_split_large_event(self) -> "Pipeline":
        """Split change events over 16 MiB into fragments (last stage of a watch pipeline)."""
        return self._add("$changeStreamSplitLargeEvent", {})

    # -- rendering ---------------------------------------------------------------

    @property
    def stage_names(self) -> list[str]:
        """The stages' names, in order."""
        return [name for name, _ in self._stages]

    def to_mongo(self) -> list[dict[str, Any]]:
        """Return the pipeline as a list of stage documents, freshly built."""
        return [{name: render_expression(spec)} for name, spec in self._stages]

    def to_shell(self) -> str:
        """Return the pipeline as mongosh text, one stage a line, for debugging.

        Example:
            >>> print(Pipeline().match({"status": "A"}).limit(5).to_shell())
            [
              { $match: { status: "A" } },
              { $limit: 5 }
            ]
        """
        if not self._stages:
            return "[]"
        lines = [f"  {_shell(stage)}" for stage in self.to_mongo()]
        return "[\n" + ",\n".join(lines) + "\n]"

    def __repr__(self) -> str:
        return f"Pipeline({self.to_mongo()!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pipeline) and self.to_mongo() == other.to_mongo()

    def __len__(self) -> int:
        return len(self._stages)

    __hash__ = None  # type: ignore[assignment]


_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def _shell(value: Any) -> str:
    """Render a value as mongosh source text."""
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        items = ", ".join(
            f"{k if isinstance(k, str) and _IDENTIFIER.match(k) else json.dumps(k)}: {_shell(v)}"
            for k, v in value.items()
        )
        return "{ " + items + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_shell(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Int64):
        return f"NumberLong({int(value)})"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, ObjectId):
        return f'ObjectId("{value}")'
    if isinstance(value, Decimal128):
        return f'NumberDecimal("{value}")'
    if isinstance(value, datetime.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
        return f'ISODate("{moment.isoformat().replace("+00:00", "Z")}")'
    if isinstance(value, re.Pattern):
        return f"/{value.pattern}/"
    return json.dumps(str(value))
