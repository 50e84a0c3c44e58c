"""Search-index specs and their plan, against literal documents."""

from typing import Any

import pytest

from mongocat import ConfigurationError, SearchIndex, VectorSearchIndex
from mongocat._search_indexes import plan_search_indexes

VECTOR = VectorSearchIndex(
    "embedding", 1536, "cosine", name="plots", filters=["year", "genre"], quantization="scalar"
)
TEXT = SearchIndex({"mappings": {"dynamic": True}})


def test_specs_render_as_create_search_indexes_takes_them() -> None:
    assert TEXT.to_mongo() == {
        "name": "default",
        "type": "search",
        "definition": {"mappings": {"dynamic": True}},
    }
    assert VECTOR.to_mongo() == {
        "name": "plots",
        "type": "vectorSearch",
        "definition": {
            "fields": [
                {
                    "type": "vector",
                    "path": "embedding",
                    "numDimensions": 1536,
                    "similarity": "cosine",
                    "quantization": "scalar",
                },
                {"type": "filter", "path": "year"},
                {"type": "filter", "path": "genre"},
            ]
        },
    }


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SearchIndex({}), "needs a definition"),
        (lambda: SearchIndex({"mappings": {}}, name=""), "non-empty name"),
        (lambda: VectorSearchIndex("v", 0, "cosine"), "num_dimensions"),
        (lambda: VectorSearchIndex("v", 3, "manhattan"), "similarity must be one of"),  # type: ignore[arg-type]
        (lambda: VectorSearchIndex("v", 3, "cosine", quantization="int4"), "quantization"),  # type: ignore[arg-type]
        (lambda: VectorSearchIndex("v", 3, "cosine", filters="year"), "not one string"),
    ],
)
def test_nonsense_is_refused(make: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        make()


def test_the_plan_against_what_the_server_lists() -> None:
    listed = [
        {  # Atlas adds defaults to what was declared: still the same index
            "name": "default",
            "type": "search",
            "status": "READY",
            "latestDefinition": {
                "mappings": {"dynamic": True, "fields": {}},
                "storedSource": False,
            },
        },
        {
            "name": "plots",
            "type": "vectorSearch",
            "latestDefinition": {
                "fields": [{"type": "vector", "path": "embedding", "numDimensions": 768,
                            "similarity": "cosine"}]
            },
        },
        {"name": "old", "type": "search", "latestDefinition": {"mappings": {"dynamic": False}}},
    ]  # fmt: skip
    other = SearchIndex({"mappings": {"dynamic": False}}, name="titles")
    plan = plan_search_indexes([TEXT, VECTOR, other], listed, drop_unknown=True)
    assert plan.unchanged == ("default",)
    assert [spec.name for spec in plan.update] == ["plots"]
    assert [spec.name for spec in plan.create] == ["titles"]
    assert plan.drop == ("old",)
    assert not plan.changes_nothing
    assert plan_search_indexes([TEXT], listed).drop == ()  # only with drop_unknown


def test_a_server_without_search_plans_nothing() -> None:
    plan = plan_search_indexes([TEXT], None, unavailable="CommandNotSupported")
    assert plan.unavailable == "CommandNotSupported"
    assert plan.changes_nothing
