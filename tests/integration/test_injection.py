"""Values from a request stay values over the wire: what a reviewer tried, on both drivers."""

from typing import Any

import pytest

from mongocat import Catalogue, Collection, F, InvalidQuery, Pipeline, acc, expr

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
