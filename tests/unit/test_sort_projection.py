"""Sorts and projections render to plain documents; MongoDB's rules are checked early."""

from typing import Any

import pytest

from mongocat import F, InvalidQuery, Projection, Sort


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        pytest.param(Sort.desc("price").asc("name"), {"price": -1, "name": 1}, id="chain"),
        pytest.param(Sort.asc("a", "b"), {"a": 1, "b": 1}, id="several"),
        pytest.param(F.price.asc(), {"price": 1}, id="field-asc"),
        pytest.param(F.price.desc().then(F.name.asc()), {"price": -1, "name": 1}, id="then"),
        pytest.param(Sort.text_score("score"), {"score": {"$meta": "textScore"}}, id="text-score"),
    ],
)
def test_sort(built: Sort, expected: dict[str, Any]) -> None:
    assert built.to_mongo() == expected
    assert list(built.to_mongo()) == list(expected)  # order kept


def test_sort_misuse() -> None:
    with pytest.raises(InvalidQuery, match="already orders by 'a'"):
        Sort.asc("a").desc("a")
    with pytest.raises(InvalidQuery, match="at least one field"):
        Sort.asc()


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        pytest.param(
            Projection.include("name", "price", id=False),
            {"name": 1, "price": 1, "_id": 0},
            id="include",
        ),
        pytest.param(Projection.include(F.size.uom), {"size.uom": 1}, id="include-field"),
        pytest.param(
            Projection.exclude("status", "instock"), {"status": 0, "instock": 0}, id="exclude"
        ),
        pytest.param(
            Projection.include("item").slice("instock", -1),
            {"item": 1, "instock": {"$slice": -1}},
            id="slice",
        ),
        pytest.param(
            Projection.slice("comments", 5, skip=20),
            {"comments": {"$slice": [20, 5]}},
            id="slice-skip",
        ),
        pytest.param(
            Projection.include("name").elem_match("students", F.school == 102),
            {"name": 1, "students": {"$elemMatch": {"school": 102}}},
            id="elem-match",
        ),
        pytest.param(Projection.positional("grades"), {"grades.$": 1}, id="positional"),
        pytest.param(Projection.text_score("score"), {"score": {"$meta": "textScore"}}, id="meta"),
        pytest.param(
            Projection.exclude("a").include(id=False), {"a": 0, "_id": 0}, id="exclude-id"
        ),
    ],
)
def test_projection(built: Projection, expected: dict[str, Any]) -> None:
    assert built.to_mongo() == expected


def test_projection_cannot_mix_inclusion_and_exclusion() -> None:
    with pytest.raises(InvalidQuery, match="either inclusion or exclusion"):
        Projection.include("a").exclude("b")
    with pytest.raises(InvalidQuery, match="either inclusion or exclusion"):
        Projection.exclude("b").include("a")
    with pytest.raises(InvalidQuery, match="name each field once"):
        Projection.include("a", "a")
    assert Projection.include("a", id=False).to_mongo() == {"a": 1, "_id": 0}
