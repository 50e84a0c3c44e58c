"""Index specs render to createIndexes entries with MongoDB's default names."""

from datetime import timedelta
from typing import Any

import pytest

from mongocat import ExplainSummary, F, Index, InvalidQuery, Sort


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            Index("sku", unique=True),
            {"key": {"sku": 1}, "name": "sku_1", "unique": True},
            id="unique",
        ),
        pytest.param(
            Index(("category", 1), ("price", -1)),
            {"key": {"category": 1, "price": -1}, "name": "category_1_price_-1"},
            id="compound",
        ),
        pytest.param(
            Index(Sort.asc("category").desc("price")),
            {"key": {"category": 1, "price": -1}, "name": "category_1_price_-1"},
            id="from-sort",
        ),
        pytest.param(Index(F.dims.w), {"key": {"dims.w": 1}, "name": "dims.w_1"}, id="field-path"),
        pytest.param(
            Index.text("name", "description", weights={"name": 10}, default_language="french"),
            {
                "key": {"name": "text", "description": "text"},
                "name": "name_text_description_text",
                "weights": {"name": 10},
                "default_language": "french",
            },
            id="text",
        ),
        pytest.param(
            Index.hashed("user_id"),
            {"key": {"user_id": "hashed"}, "name": "user_id_hashed"},
            id="hashed",
        ),
        pytest.param(
            Index.geo2dsphere("loc"),
            {"key": {"loc": "2dsphere"}, "name": "loc_2dsphere"},
            id="2dsphere",
        ),
        pytest.param(Index.wildcard(), {"key": {"$**": 1}, "name": "$**_1"}, id="wildcard"),
        pytest.param(
            Index.wildcard("attrs.$**"),
            {"key": {"attrs.$**": 1}, "name": "attrs.$**_1"},
            id="wildcard-path",
        ),
        pytest.param(
            Index.wildcard(projection={"a": 1}),
            {"key": {"$**": 1}, "name": "$**_1", "wildcardProjection": {"a": 1}},
            id="wildcard-projection",
        ),
        pytest.param(
            Index.ttl("created", expire_after=timedelta(hours=1)),
            {"key": {"created": 1}, "name": "created_1", "expireAfterSeconds": 3600},
            id="ttl",
        ),
        pytest.param(
            Index(
                "email",
                unique=True,
                partial_filter=F.email.exists(),
                collation={"locale": "en", "strength": 2},
                hidden=True,
                sparse=True,
                name="email_ci",
            ),
            {
                "key": {"email": 1},
                "name": "email_ci",
                "unique": True,
                "sparse": True,
                "partialFilterExpression": {"email": {"$exists": True}},
                "collation": {"locale": "en", "strength": 2},
                "hidden": True,
            },
            id="options",
        ),
    ],
)
def test_index_renders(spec: Index, expected: dict[str, Any]) -> None:
    assert spec.to_mongo() == expected


def test_text_index_compares_as_the_server_lists_it() -> None:
    spec = Index.text("name", "description", weights={"name": 10})
    assert spec.key_document() == {"_fts": "text", "_ftsx": 1}
    assert spec.comparable_options() == {"weights": {"name": 10, "description": 1}}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda: Index(), "at least one key", id="no-keys"),
        pytest.param(lambda: Index(("a", 2)), "must be 1, -1", id="bad-direction"),
        pytest.param(lambda: Index("a", "a"), "twice", id="duplicate"),
        pytest.param(lambda: Index("$a"), "starts with", id="dollar"),
        pytest.param(lambda: Index.text(), "at least one field", id="empty-text"),
        pytest.param(lambda: Index.text("a", weights={"b": 1}), "not in the index", id="weights"),
        pytest.param(lambda: Index.wildcard("attrs"), "wildcard index path", id="wildcard-path"),
        pytest.param(lambda: Index.ttl("a", expire_after=-1), "non-negative", id="ttl-negative"),
        pytest.param(lambda: Index("a", name=""), "non-empty", id="empty-name"),
    ],
)
def test_index_misuse(make: Any, message: str) -> None:
    with pytest.raises(InvalidQuery, match=message):
        make()


def test_explain_summary_reads_classic_and_sbe_plans() -> None:
    classic = {
        "queryPlanner": {
            "winningPlan": {
                "stage": "FETCH",
                "inputStage": {"stage": "IXSCAN", "indexName": "sku_1"},
            }
        },
        "executionStats": {
            "totalKeysExamined": 1,
            "totalDocsExamined": 1,
            "nReturned": 1,
            "executionTimeMillis": 0,
        },
    }
    summary = ExplainSummary.from_explain(classic)
    assert (summary.stage, summary.index_name, summary.stages) == (
        "IXSCAN",
        "sku_1",
        ("FETCH", "IXSCAN"),
    )
    assert (summary.keys_examined, summary.docs_examined, summary.returned) == (1, 1, 1)
    assert summary.uses_index
    sbe = {
        "queryPlanner": {"winningPlan": {"queryPlan": {"stage": "COLLSCAN"}, "slotBasedPlan": {}}}
    }
    scan = ExplainSummary.from_explain(sbe)
    assert (scan.stage, scan.index_name, scan.uses_index) == ("COLLSCAN", None, False)
    aggregate = {"stages": [{"$cursor": classic}, {"$group": {}}]}
    joined = ExplainSummary.from_explain(aggregate)
    assert (joined.stage, joined.index_name, joined.raw) == ("IXSCAN", "sku_1", aggregate)
