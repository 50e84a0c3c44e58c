"""Server-side JavaScript is found wherever it hides, in builders and raw documents."""

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pytest
from bson.son import SON
from hypothesis import given
from hypothesis import strategies as st
from pymongo import AsyncMongoClient

from mongocat import Catalogue, F, Field, Filter, InvalidQuery, Pipeline, Update
from mongocat._javascript import find_javascript, refuse_javascript, refuse_javascript_command

WHERE = {"$where": "sleep(100) || true"}
FUNCTION = {"$function": {"body": "function() { return true }", "args": [], "lang": "js"}}
ACCUMULATOR = {"$accumulator": {"init": "function() {}", "lang": "js"}}


@pytest.mark.parametrize(
    ("value", "found"),
    [
        pytest.param(WHERE, "$where", id="where"),
        pytest.param({"$and": [{"a": 1}, WHERE]}, "$where", id="in-and"),
        pytest.param({"$or": [{"a": {"$gt": 1}}, {"$nor": [WHERE]}]}, "$where", id="deep"),
        pytest.param({"$expr": FUNCTION}, "$function", id="expr-function"),
        pytest.param([{"$group": {"_id": None, "x": ACCUMULATOR}}], "$accumulator", id="group"),
        pytest.param([{"$set": {"x": FUNCTION}}], "$function", id="update-pipeline"),
        pytest.param(Filter.raw(WHERE), "$where", id="Filter.raw"),
        pytest.param(F.a.elem_match(Filter.raw(WHERE)), "$where", id="elem_match"),
        pytest.param(Pipeline().raw({"$match": WHERE}), "$where", id="Pipeline.raw"),
        pytest.param(F.expr(FUNCTION), "$function", id="F.expr"),
        pytest.param(SON([("a", 1), ("$where", "1")]), "$where", id="SON"),
        pytest.param(MappingProxyType(WHERE), "$where", id="MappingProxy"),
        pytest.param(({"a": [({"b": WHERE},)]},), "$where", id="tuples"),
        pytest.param({"a": "$where"}, None, id="a-value-is-not-an-operator"),
        pytest.param((F.note == "$where").to_mongo(), None, id="builder-value"),
        pytest.param(Update.set(code="function() {}"), None, id="update"),
        pytest.param({"a": 1, "b": [1, "x", None]}, None, id="plain"),
    ],
)
def test_javascript_is_found_wherever_it_is(value: Any, found: str | None) -> None:
    assert find_javascript(value) == found
    if found is None:
        refuse_javascript(value, "find")
    else:
        with pytest.raises(InvalidQuery, match=rf"find\(\) would run .*\({re.escape(found)}\)"):
            refuse_javascript(value, "find")


@pytest.mark.parametrize("operation", ["find", "aggregate"])
def test_the_refusal_names_the_operator_and_both_ways_out(operation: str) -> None:
    with pytest.raises(InvalidQuery) as caught:
        refuse_javascript({"$and": [WHERE]}, operation)
    message = str(caught.value)
    assert message.startswith(f"{operation}() would run server-side JavaScript ($where)")
    assert "allow_javascript=True" in message
    assert "sleep" not in message  # the code itself is not echoed


@pytest.mark.parametrize(
    "command",
    [
        pytest.param({"mapReduce": "orders", "map": "function() {}"}, id="mapReduce"),
        pytest.param({"mapreduce": "orders"}, id="lowercase"),
        pytest.param({"find": "orders", "filter": WHERE}, id="find-with-where"),
        pytest.param({"aggregate": "o", "pipeline": [{"$match": {"$expr": FUNCTION}}]}, id="agg"),
    ],
)
def test_commands_that_run_javascript_are_refused(command: Mapping[str, Any]) -> None:
    with pytest.raises(InvalidQuery, match="allow_javascript=True"):
        refuse_javascript_command(command)


def test_other_commands_pass() -> None:
    refuse_javascript_command({"dbStats": 1})
    refuse_javascript_command({"find": "orders", "filter": {"code": "$where"}})


_KEYS = st.sampled_from(["a", "b.c", "$and", "$where", "$function", "$accumulator", "$expr"])
_VALUES = st.recursive(
    st.none() | st.integers() | st.text(max_size=5) | st.sampled_from(["$where", "$a"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3),
    max_leaves=12,
)


@given(st.dictionaries(_KEYS, _VALUES, max_size=4))
def test_a_document_is_refused_exactly_when_it_holds_javascript(document: dict[str, Any]) -> None:
    found = find_javascript(document)
    if found is None:
        refuse_javascript(document, "find")
    else:
        with pytest.raises(InvalidQuery, match=re.escape(f"JavaScript ({found})")):
            refuse_javascript(document, "find")


@pytest.mark.parametrize(
    "filter",
    [
        pytest.param(Field("$where") == "sleep(100) || true", id="operator-path"),
        pytest.param({"$where": "sleep(100) || true"}, id="dict"),
        pytest.param(F.a.elem_match(Filter.raw(WHERE)), id="builder"),
    ],
)
def test_a_collection_refuses_a_javascript_filter_before_sending(filter: Any) -> None:
    client: Any = AsyncMongoClient("mongodb://127.0.0.1:9/", connect=False)
    collection = Catalogue(client, "mongocat_unit").collection("c")
    with pytest.raises(InvalidQuery, match="would run server-side JavaScript"):
        collection._query(filter, "find_one")
    assert collection._query(F.a == "$where", "find_one") == {"a": "$where"}
