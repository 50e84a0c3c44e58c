"""Property: no value, however it is shaped, changes the shape of a filter or an update.

Each builder is given an arbitrary JSON-like value (mappings with ``$`` keys
included). The rendered document, with that value (found by identity) replaced by a
placeholder, must be one of the shapes the builder documents.
"""

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mongocat import F, Update

KEYS = st.one_of(
    st.sampled_from(["$ne", "$gt", "$where", "$each", "$eq", "$in", "$regex", "$expr", "a", "$"]),
    st.text(max_size=5),
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=10,
)

P = "<value>"


def skeleton(document: Any, *values: Any) -> Any:
    """Replace each user value (found by identity) by a placeholder, keeping the rest.

    Containers are matched before anything inside them is visited, so that a scalar
    value (None, a small int: shared objects) cannot match inside another value.
    """
    if any(document is v for v in values if isinstance(v, dict | list)):
        return P
    if isinstance(document, dict):
        return {k: skeleton(v, *values) for k, v in document.items()}
    if isinstance(document, list):
        return [skeleton(v, *values) for v in document]
    if any(document is v for v in values):
        return P
    return document


def dollar_keys(document: Any) -> set[str]:
    """The $-keys of our own structure (placeholders are not entered)."""
    if isinstance(document, dict):
        keys = {k for k in document if k.startswith("$")}
        for v in document.values():
            keys |= dollar_keys(v)
        return keys
    if isinstance(document, list):
        return set().union(*(dollar_keys(v) for v in document)) if document else set()
    return set()


@given(VALUES)
def test_equality_keeps_its_shape(value: Any) -> None:
    shape = skeleton((F.name == value).to_mongo(), value)
    assert shape in ({"name": P}, {"name": {"$eq": P}})
    if shape == {"name": P} and isinstance(value, dict):
        assert not any(k.startswith("$") for k in value)


@given(VALUES)
def test_comparisons_keep_their_shape(value: Any) -> None:
    for build, op in [(F.a.__ne__, "$ne"), (F.a.__lt__, "$lt"), (F.a.__ge__, "$gte")]:
        assert skeleton(build(value).to_mongo(), value) == {"a": {op: P}}


@given(st.lists(VALUES, max_size=4))
def test_in_and_nin_keep_their_shape(values: list[Any]) -> None:
    for rendered in (F.name.in_(values).to_mongo(), F.name.nin(values).to_mongo()):
        shape = skeleton(rendered, *values)
        assert dollar_keys(shape) <= {"$in", "$nin", "$or", "$and", "$eq", "$ne"}


@given(VALUES, VALUES)
def test_combined_filters_keep_their_shape(a: Any, b: Any) -> None:
    rendered = ((F.x == a) | ((F.y != b) & (F.z == 1))).to_mongo()
    shape = skeleton(rendered, a, b)
    assert dollar_keys(shape) <= {"$or", "$eq", "$ne"}


@given(VALUES)
def test_update_values_keep_their_shape(value: Any) -> None:
    assert skeleton(Update.set(a=value).to_mongo(), value) == {"$set": {"a": P}}
    assert skeleton(Update.set_on_insert(a=value).to_mongo(), value) == {"$setOnInsert": {"a": P}}
    assert skeleton(Update.max(a=value).to_mongo(), value) == {"$max": {"a": P}}
    assert skeleton(Update.push("a", value).to_mongo(), value) in (
        {"$push": {"a": P}},
        {"$push": {"a": {"$each": [P]}}},
    )
    assert skeleton(Update.add_to_set("a", value).to_mongo(), value) in (
        {"$addToSet": {"a": P}},
        {"$addToSet": {"a": {"$each": [P]}}},
    )
    assert skeleton(Update.pull("a", value).to_mongo(), value) in (
        {"$pull": {"a": P}},
        {"$pull": {"a": {"$eq": P}}},
    )
