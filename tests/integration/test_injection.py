"""Values from a request stay values over the wire: what a reviewer tried, on both drivers."""

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from bson.regex import Regex

from mongocat import (
    Catalogue,
    Collection,
    F,
    Filter,
    InvalidQuery,
    OperationFailed,
    Pipeline,
    Update,
    acc,
    expr,
)
from mongocat.testing import CommandRecorder

USERS = [
    {"_id": 1, "name": "ann", "password": "s3cret"},
    {"_id": 2, "name": "bob", "password": "hunter2"},
]


@pytest.fixture
async def users(catalogue: Catalogue) -> Collection[dict[str, Any]]:
    collection = catalogue.collection("users")
    await collection.insert_many([dict(u) for u in USERS])
    return collection


async def test_a_greeting_shows_the_text_it_was_given(users: Collection[dict[str, Any]]) -> None:
    for given in ("Ann", "pw", "a$b", " $password"):
        rows = await users.aggregate(
            Pipeline().match(F._id == 1).project(greeting=expr.concat("Hi ", given), _id=0)
        )
        assert rows == [{"greeting": f"Hi {given}"}]


async def test_a_field_reference_as_text_cannot_read_another_field(
    users: Collection[dict[str, Any]],
) -> None:
    with pytest.raises(InvalidQuery, match=r"F\.password"):
        expr.concat("Hi ", "$password")
    rows = await users.aggregate(
        Pipeline()
        .match(F._id == 1)
        .project(greeting=expr.concat("Hi ", expr.literal("$password")), _id=0)
    )
    assert rows == [{"greeting": "Hi $password"}]  # the text, not "Hi s3cret"


async def test_a_password_check_matches_only_the_right_password(
    users: Collection[dict[str, Any]],
) -> None:
    def check(given: str) -> Any:
        return users.find(F.expr(expr.eq(F.password, given)) & (F.name == "ann"))

    assert [u["_id"] for u in await check("s3cret")] == [1]
    assert await check("wrong") == []
    with pytest.raises(InvalidQuery):
        check("$password")  # the MongoDB "' OR 1=1": refused before anything is sent


async def test_an_operator_document_from_a_request_is_refused_in_add_fields(
    users: Collection[dict[str, Any]],
) -> None:
    label = {"$concat": ["$password"]}
    with pytest.raises(InvalidQuery, match="operator"):
        Pipeline().add_fields(label=label)
    rows = await users.aggregate(
        Pipeline().match(F._id == 2).add_fields(label=expr.literal(label)).project(label=1, _id=0)
    )
    assert rows == [{"label": label}]


async def test_group_keys_and_accumulators_take_fields(users: Collection[dict[str, Any]]) -> None:
    with pytest.raises(InvalidQuery):
        Pipeline().group("$name", n=acc.sum(1))
    with pytest.raises(InvalidQuery):
        Pipeline().group(F.name, n=acc.max("$password"))
    rows = await users.aggregate(
        Pipeline().group(F.name, longest=acc.max(expr.str_len_cp(F.password))).sort(_id=1)
    )
    assert rows == [{"_id": "ann", "longest": 6}, {"_id": "bob", "longest": 7}]


async def test_variables_are_written_with_var(users: Collection[dict[str, Any]]) -> None:
    rows = await users.aggregate(
        Pipeline().match(F._id == 1).replace_with(expr.merge_objects(expr.var("ROOT"), {"k": 1}))
    )
    assert rows == [{**USERS[0], "k": 1}]


@pytest.fixture
async def names(catalogue: Catalogue) -> Collection[dict[str, Any]]:
    collection = catalogue.collection("names")
    await collection.insert_many(
        [
            {"_id": 1, "name": "ann", "tags": ["a", "b"]},
            {"_id": 2, "name": "bob", "tags": ["b"]},
        ]
    )
    return collection


async def ids(collection: Collection[dict[str, Any]], filter: Any) -> list[int]:
    return sorted(d["_id"] for d in await collection.find(filter))


@pytest.mark.parametrize("pattern", [re.compile(".*"), Regex(".*")], ids=["re", "bson"])
async def test_a_pattern_value_matches_only_a_stored_pattern(
    names: Collection[dict[str, Any]], pattern: Any
) -> None:
    # BSON equality of patterns includes the flags: Python's re adds "u" (re.UNICODE).
    await names.insert_one({"_id": 3, "name": pattern, "tags": [pattern, "b"]})
    assert await ids(names, F.name == pattern) == [3]
    assert await ids(names, F.name != pattern) == [1, 2]
    assert await ids(names, F.name.in_([pattern, "bob"])) == [2, 3]
    assert await ids(names, F.name.nin([pattern, "bob"])) == [1]
    assert await ids(names, F.tags.all_([pattern, "b"])) == [3]
    # regex() is the one way to ask for a match: both strings (a stored pattern equal
    # to the query's, flags included, also matches a regex query in MongoDB).
    assert [i for i in await ids(names, F.name.regex(".*")) if i != 3] == [1, 2]


async def test_pulling_a_pattern_removes_only_the_stored_pattern(
    names: Collection[dict[str, Any]],
) -> None:
    await names.insert_one({"_id": 3, "name": "cy", "tags": [re.compile(".*"), "b"]})
    await names.update_many(Filter.everything(), Update.pull(F.tags, re.compile(".*")))
    tags = {d["_id"]: d["tags"] for d in await names.find()}
    assert tags == {1: ["a", "b"], 2: ["b"], 3: ["b"]}


async def test_a_write_to_many_with_no_conditions_is_refused(
    names: Collection[dict[str, Any]],
) -> None:
    conditions: list[Filter] = []  # e.g. built from an empty query string
    with pytest.raises(InvalidQuery, match=r"Filter\.everything\(\)"):
        await names.delete_many(Filter.all(*conditions))
    with pytest.raises(InvalidQuery, match="empty Filter"):
        await names.update_many(Filter.all(*conditions), Update.set(seen=True))
    with pytest.raises(InvalidQuery, match="empty Filter"):
        async with names.bulk() as bulk:
            await bulk.delete_many(Filter.all(*conditions))
    assert await names.count() == 2  # nothing was touched
    updated = await names.update_many(Filter.everything(), Update.set(seen=True))
    assert updated.modified_count == 2
    deleted = await names.delete_many(Filter.everything())
    assert deleted.deleted_count == 2


WHERE = {"$where": "sleep(100) || true"}
FUNCTION = {"$function": {"body": "function(n) { return n }", "args": ["$name"], "lang": "js"}}


async def test_server_side_javascript_is_refused_before_anything_is_sent(
    catalogue_factory: Callable[..., Catalogue],
) -> None:
    recorder = CommandRecorder()
    async with catalogue_factory(event_listeners=[recorder]) as cat:
        names = cat.collection("names")
        await names.insert_one({"_id": 1, "name": "ann"})
        recorder.clear()
        attempts: list[Callable[[], Awaitable[Any]]] = [
            lambda: names.find(WHERE).to_list(),
            lambda: names.find_one(Filter.raw({"$and": [{"a": 1}, WHERE]})),
            lambda: names.count(WHERE),
            lambda: names.distinct("name", WHERE),
            lambda: names.update_one(WHERE, Update.set(x=1)),
            lambda: names.update_many(F.name == "ann", [{"$set": {"n": FUNCTION}}]),
            lambda: names.update_one(F.name == "ann", ({"$set": {"n": FUNCTION}},)),  # a tuple
            lambda: names.replace_one(WHERE, {"name": "bob"}),
            lambda: names.delete_one(WHERE),
            lambda: names.delete_many(WHERE),
            lambda: names.find_one_and_delete(WHERE),
            lambda: names.aggregate([{"$match": {"$expr": FUNCTION}}]).to_list(),
            lambda: names.aggregate(Pipeline().raw({"$match": WHERE})).to_list(),
            lambda: cat.command({"mapReduce": "names", "map": "function() {}", "out": "x"}),
            lambda: cat.command({"find": "names"}, filter=WHERE),
        ]
        for attempt in attempts:
            with pytest.raises(InvalidQuery, match=r"server-side JavaScript|allow_javascript"):
                await attempt()
        with pytest.raises(InvalidQuery, match="server-side JavaScript"):
            async with names.bulk() as bulk:
                await bulk.delete_one(WHERE)
        with pytest.raises(InvalidQuery, match="server-side JavaScript"):
            names.watch(Filter.raw(WHERE))
        sent = {e.command_name for e in recorder.events}
        assert not sent & {
            "find",
            "count",
            "aggregate",
            "distinct",
            "update",
            "delete",
            "mapReduce",
        }
        assert await names.count() == 1


async def test_allow_javascript_sends_it_as_written(
    catalogue_factory: Callable[..., Catalogue],
) -> None:
    recorder = CommandRecorder()
    async with catalogue_factory(allow_javascript=True, event_listeners=[recorder]) as cat:
        names = cat.collection("names")
        await names.insert_one({"_id": 1, "name": "ann"})
        try:  # a server with scripting on runs it; one with it off (or no JS) refuses it
            found = await names.find({"$where": "true"}).to_list()
        except OperationFailed:
            found = None
        assert found in (None, [{"_id": 1, "name": "ann"}])
        assert [c["filter"] for c in recorder.commands("find")] == [{"$where": "true"}]
