"""Search, vector-search and diagnostic stages against literal stage documents."""

from typing import Any

import pytest

from mongocat import Collection, F, InvalidQuery, Pipeline, expr


def test_vector_search_renders_as_atlas_defines_it() -> None:
    pipeline = (
        Pipeline()
        .vector_search(
            index="embeddings",
            path=F.embedding,
            query_vector=[0.1, 0.2, 0.3],
            num_candidates=150,
            limit=10,
            filter=F.category == "books",
        )
        .project(title=1, score=expr.meta("vectorSearchScore"))
    )
    assert pipeline.to_mongo() == [
        {
            "$vectorSearch": {
                "index": "embeddings",
                "path": "embedding",
                "queryVector": [0.1, 0.2, 0.3],
                "limit": 10,
                "numCandidates": 150,
                "filter": {"category": "books"},
            }
        },
        {"$project": {"title": 1, "score": {"$meta": "vectorSearchScore"}}},
    ]
    exact = Pipeline().vector_search(index="e", path="v", query_vector=[1, 2], limit=3, exact=True)
    assert exact.to_mongo() == [
        {
            "$vectorSearch": {
                "index": "e",
                "path": "v",
                "queryVector": [1, 2],
                "limit": 3,
                "exact": True,
            }
        }
    ]


def test_search_and_search_meta() -> None:
    operator = {"text": {"query": "red shoes", "path": ["name", "description"]}}
    assert Pipeline().search(operator, index="products").limit(5).to_mongo() == [
        {
            "$search": {
                "text": {"query": "red shoes", "path": ["name", "description"]},
                "index": "products",
            }
        },
        {"$limit": 5},
    ]
    assert Pipeline().search_meta({"facet": {"operator": operator}}).to_mongo() == [
        {"$searchMeta": {"facet": {"operator": operator}}}
    ]


def test_diagnostic_stages() -> None:
    assert Pipeline().coll_stats(storage_stats=True, count=True).to_mongo() == [
        {"$collStats": {"storageStats": {}, "count": {}}}
    ]
    assert Pipeline().index_stats().to_mongo() == [{"$indexStats": {}}]
    assert Pipeline().current_op(all_users=True, idle_connections=False).to_mongo() == [
        {"$currentOp": {"allUsers": True, "idleConnections": False}}
    ]
    assert Pipeline().list_sessions(all_users=True).to_mongo() == [
        {"$listSessions": {"allUsers": True}}
    ]
    assert Pipeline().plan_cache_stats().to_mongo() == [{"$planCacheStats": {}}]


@pytest.mark.parametrize(
    "stage",
    [
        lambda p: p.search({"text": {"query": "q", "path": "a"}}),
        lambda p: p.search_meta({"text": {"query": "q", "path": "a"}}),
        lambda p: p.vector_search(index="i", path="v", query_vector=[1.0], limit=1, exact=True),
        lambda p: p.index_stats(),
        lambda p: p.current_op(),
        lambda p: p.plan_cache_stats(),
    ],
)
def test_these_stages_come_first_and_never_inside_facet(stage: Any) -> None:
    with pytest.raises(InvalidQuery, match="must be the first stage"):
        stage(Pipeline().match(F.a == 1))
    if stage(Pipeline()).stage_names[0] in ("$search", "$searchMeta", "$vectorSearch"):
        with pytest.raises(InvalidQuery, match="cannot contain"):
            Pipeline().facet(inner=stage(Pipeline()))


def vs(**arguments: Any) -> Pipeline:
    """vector_search on path "v" with these arguments."""
    return Pipeline().vector_search(path="v", **arguments)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: Pipeline().vector_search(
                index="", path="v", query_vector=[1.0], limit=1, exact=True
            ),
            "index",
        ),
        (
            lambda: Pipeline().vector_search(
                index="i", path="v", query_vector=[], limit=1, exact=True
            ),
            "query_vector",
        ),
        (
            lambda: Pipeline().vector_search(
                index="i", path="v", query_vector=["x"], limit=1, exact=True
            ),
            "query_vector",
        ),
        (
            lambda: vs(index="i", query_vector=[1.0], limit=5),
            "num_candidates",
        ),
        (
            lambda: Pipeline().vector_search(
                index="i", path="v", query_vector=[1.0], limit=5, num_candidates=2
            ),
            "at least limit",
        ),
        (
            lambda: Pipeline().vector_search(
                index="i", path="v", query_vector=[1.0], limit=5, num_candidates=9, exact=True
            ),
            "no num_candidates",
        ),
        (lambda: Pipeline().search({}), "operator document"),
        (lambda: Pipeline().current_op(everything=True), "current_op"),
        (lambda: expr.meta("relevance"), "meta"),
    ],
)
def test_bad_arguments_are_refused(call: Any, message: str) -> None:
    with pytest.raises(InvalidQuery, match=message):
        call()


#: The aggregation stages of the MongoDB manual (8.0, "Aggregation Stages"), kept here.
MANUAL_STAGES = [
    "$addFields", "$bucket", "$bucketAuto", "$changeStream", "$changeStreamSplitLargeEvent",
    "$collStats", "$count", "$currentOp", "$densify", "$documents", "$facet", "$fill",
    "$geoNear", "$graphLookup", "$group", "$indexStats", "$limit", "$listLocalSessions",
    "$listSampledQueries", "$listSearchIndexes", "$listSessions", "$lookup", "$match",
    "$merge", "$out", "$planCacheStats", "$project", "$querySettings", "$queryStats",
    "$redact", "$replaceRoot", "$replaceWith", "$sample", "$search", "$searchMeta", "$set",
    "$setWindowFields", "$shardedDataDistribution", "$skip", "$sort", "$sortByCount",
    "$unionWith", "$unset", "$unwind", "$vectorSearch",
]  # fmt: skip
#: Stages that have no Pipeline method, on purpose, with where they are instead.
ELSEWHERE = {"$changeStream": "Collection.watch() / Catalogue.watch()"}


def _method_name(stage: str) -> str:
    """``$sortByCount`` → ``sort_by_count``."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in stage.lstrip("$"))


@pytest.mark.parametrize("stage", MANUAL_STAGES)
def test_every_stage_of_the_manual_has_a_method(stage: str) -> None:
    method = getattr(Pipeline, _method_name(stage), None)
    if stage in ELSEWHERE:
        assert method is None, f"{stage} has a method now: drop it from ELSEWHERE"
        assert callable(getattr(Collection, "watch", None))
    else:
        assert callable(method), f"no Pipeline.{_method_name(stage)} for {stage}"


@pytest.mark.parametrize("stage", [{"$out": "x"}, {"$merge": {"into": "x"}}, {"$currentOp": {}}])
def test_union_with_refuses_what_its_pipeline_cannot_hold(stage: dict[str, Any]) -> None:
    with pytest.raises(InvalidQuery, match=r"\$unionWith cannot contain"):
        Pipeline().union_with("other", [stage])


def test_union_with_may_start_with_search_and_sit_in_facet() -> None:
    inner = Pipeline().search({"text": {"query": "q", "path": "a"}})
    union = Pipeline().union_with("other", inner)
    assert union.to_mongo() == [
        {
            "$unionWith": {
                "coll": "other",
                "pipeline": [{"$search": {"text": {"query": "q", "path": "a"}}}],
            }
        }
    ]
    faceted = Pipeline().facet(both=Pipeline().union_with("other"))
    assert faceted.to_mongo() == [{"$facet": {"both": [{"$unionWith": {"coll": "other"}}]}}]
