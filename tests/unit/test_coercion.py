"""Argument checks: what is sent for each accepted form, and the error for the rest."""

from collections import OrderedDict
from typing import Any

import pytest

from mongocat import F, Filter, InvalidQuery
from mongocat._coercion import (
    as_filter,
    as_projection,
    as_replacement,
    as_sort,
    as_update,
    as_write_filter,
)


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        pytest.param(None, {}, id="none-matches-all"),
        pytest.param({"sku": "W-1"}, {"sku": "W-1"}, id="dict"),
        pytest.param(OrderedDict(a=1), {"a": 1}, id="mapping"),
        pytest.param({"name": {"$ne": None}}, {"name": {"$ne": None}}, id="raw-operators"),
    ],
)
def test_filter_forms(given: Any, sent: dict[str, Any]) -> None:
    assert as_filter(given) == sent


@pytest.mark.parametrize("bad", ["sku", 3, ["a"]], ids=["str", "int", "list"])
def test_filter_must_be_a_mapping(bad: Any) -> None:
    with pytest.raises(InvalidQuery, match="a filter must be a mapping"):
        as_filter(bad)


def test_write_filter_refuses_none_so_all_is_explicit() -> None:
    with pytest.raises(InvalidQuery, match=r"pass \{\} \(or Filter.everything\(\)\) to match"):
        as_write_filter(None)
    assert as_write_filter({}) == {}


@pytest.mark.parametrize("many", ["update_many", "delete_many", "bulk delete_many"])
def test_a_write_to_many_refuses_an_empty_builder_filter(many: str) -> None:
    for empty in (Filter(), Filter.all(), Filter.all(*[])):
        with pytest.raises(InvalidQuery, match=rf"{many}\(\) was given an empty Filter"):
            as_write_filter(empty, many=many)
    assert as_write_filter(Filter.everything(), many=many) == {}
    assert as_write_filter({}, many=many) == {}  # a raw {} is on purpose
    assert as_write_filter(Filter.everything() & (F.a == 1), many=many) == {"a": 1}


def test_a_write_to_one_takes_an_empty_filter() -> None:
    assert as_write_filter(Filter.all()) == {}


@pytest.mark.parametrize(
    "update",
    [
        pytest.param({"$set": {"price": 7.99}}, id="set"),
        pytest.param({"$set": {"a": 1}, "$inc": {"n": 1}}, id="two-operators"),
        pytest.param([{"$set": {"total": {"$add": ["$a", "$b"]}}}], id="pipeline"),
    ],
)
def test_update_forms_pass_through(update: Any) -> None:
    assert as_update(update) == update


@pytest.mark.parametrize(
    ("update", "message"),
    [
        pytest.param(
            {"price": 7.99}, r"update field 'price' is not an update operator", id="plain"
        ),
        pytest.param({}, "the update document is empty", id="empty"),
        pytest.param([], "non-empty list of stage documents", id="empty-pipeline"),
        pytest.param(["$set"], "non-empty list of stage documents", id="pipeline-of-str"),
        pytest.param("$set", "not str", id="str"),
    ],
)
def test_update_errors_name_the_fix(update: Any, message: str) -> None:
    with pytest.raises(InvalidQuery, match=message):
        as_update(update)


def test_replacement_refuses_operators() -> None:
    assert as_replacement({"name": "x"}) == {"name": "x"}
    with pytest.raises(InvalidQuery, match=r"replacement field '\$set' is an update operator"):
        as_replacement({"$set": {"a": 1}})
    with pytest.raises(InvalidQuery, match="a replacement must be a document"):
        as_replacement(["a"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("sort", "sent"),
    [
        pytest.param(None, None, id="none"),
        pytest.param("price", [("price", 1)], id="field-name"),
        pytest.param([("price", -1), ("name", 1)], [("price", -1), ("name", 1)], id="pairs"),
        pytest.param({"price": -1, "name": 1}, [("price", -1), ("name", 1)], id="document"),
        pytest.param(
            {"score": {"$meta": "textScore"}}, [("score", {"$meta": "textScore"})], id="meta"
        ),
    ],
)
def test_sort_forms(sort: Any, sent: Any) -> None:
    assert as_sort(sort) == sent


@pytest.mark.parametrize(
    ("sort", "message"),
    [
        pytest.param({"price": 2}, "must be 1 .ascending. or -1", id="direction-2"),
        pytest.param({"price": True}, "must be 1 .ascending. or -1", id="direction-bool"),
        pytest.param({"price": "desc"}, "must be 1 .ascending. or -1", id="direction-str"),
        pytest.param([("price",)], "a sort is a field name", id="short-pair"),
        pytest.param(["price"], "a sort is a field name", id="list-of-names"),
    ],
)
def test_sort_errors(sort: Any, message: str) -> None:
    with pytest.raises(InvalidQuery, match=message):
        as_sort(sort)


def test_projection_forms_and_bare_string() -> None:
    assert as_projection(None) is None
    assert as_projection({"name": 1, "_id": 0}) == {"name": 1, "_id": 0}
    assert as_projection(["name", "price"]) == ["name", "price"]
    with pytest.raises(InvalidQuery, match=r"write \['name'\] instead of 'name'"):
        as_projection("name")


def test_one_duration_rule_for_every_duration_option() -> None:
    from datetime import timedelta

    from mongocat import ConfigurationError, Index, InvalidQuery
    from mongocat._coercion import as_duration
    from mongocat._transaction import transaction_options

    assert as_duration(None, "d") is None
    assert as_duration(timedelta(minutes=2), "d") == 120.0
    assert as_duration(0, "d") == 0.0
    assert as_duration(1.5, "d") == 1.5
    for bad in (True, "5", float("nan"), float("inf"), -1, timedelta(seconds=-1), [1]):
        with pytest.raises(ConfigurationError, match="d must be a non-negative number"):
            as_duration(bad, "d")
    with pytest.raises(ConfigurationError, match="positive"):
        as_duration(0, "d", positive=True)
    with pytest.raises(ConfigurationError, match="whole number of seconds"):
        as_duration(timedelta(seconds=1.5), "d", whole=True)
    with pytest.raises(InvalidQuery, match="max_await"):
        as_duration(-2, "max_await", error=InvalidQuery)
    # The options that use it.
    assert Index.ttl("at", expire_after=60.0).to_mongo()["expireAfterSeconds"] == 60
    with pytest.raises(InvalidQuery, match="whole number"):
        Index.ttl("at", expire_after=timedelta(seconds=1.5))  # was silently 1
    assert transaction_options(None, None, None, timedelta(seconds=2)) == {
        "max_commit_time_ms": 2000
    }
    with pytest.raises(ConfigurationError, match="max_commit_time"):
        transaction_options(None, None, None, "5")  # type: ignore[arg-type]  # was 5555... ms
