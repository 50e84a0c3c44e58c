"""Property: no value, however it is shaped, changes the shape of a filter or an update.

Each builder is given an arbitrary JSON-like value (mappings with ``$`` keys
included). The rendered document, with that value (found by identity) replaced by a
placeholder, must be one of the shapes the builder documents.
"""

import datetime
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from bson import ObjectId
from bson.regex import Regex
from bson.son import SON
from hypothesis import given
from hypothesis import strategies as st

from mongocat import F, InvalidQuery, Update
from mongocat._coercion import as_projection, as_sort

KEYS = st.one_of(
    st.sampled_from(["$ne", "$gt", "$where", "$each", "$eq", "$in", "$regex", "$expr", "a", "$"]),
    st.text(max_size=5),
)
PATTERNS = st.one_of(
    st.builds(re.compile, st.sampled_from([".*", "^a", "x|y", ""])),
    st.builds(Regex, st.sampled_from([".*", "^a"]), st.sampled_from(["", "i"])),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.binary(max_size=4),
    st.builds(ObjectId),
    st.datetimes(timezones=st.just(datetime.UTC)),
    PATTERNS,
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(KEYS, inner, max_size=3),
        st.dictionaries(KEYS, inner, max_size=3).map(lambda d: SON(d.items())),
        st.dictionaries(KEYS, inner, max_size=3).map(MappingProxyType),
    ),
    max_leaves=10,
)


def not_a_value_as_written(value: Any) -> bool:
    """Whether ``value``, written bare as a query value, would be a condition."""
    if isinstance(value, re.Pattern | Regex):
        return True
    return isinstance(value, Mapping) and any(
        isinstance(k, str) and k.startswith("$") for k in value
    )


def bare_in_lists(document: Any, values: tuple[Any, ...]) -> list[Any]:
    """User values that stand bare in a ``$in``/``$nin``/``$all`` list of ``document``."""
    found: list[Any] = []
    if isinstance(document, dict):
        for key, item in document.items():
            if key in ("$in", "$nin", "$all") and isinstance(item, list):
                found += [v for v in item if any(v is u for u in values)]
            else:
                found += bare_in_lists(item, values)
    elif isinstance(document, list):
        for item in document:
            found += bare_in_lists(item, values)
    return found


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
    if shape == {"name": P}:
        assert not not_a_value_as_written(value)


@given(VALUES)
def test_comparisons_keep_their_shape(value: Any) -> None:
    for build, op in [(F.a.__lt__, "$lt"), (F.a.__ge__, "$gte")]:
        assert skeleton(build(value).to_mongo(), value) == {"a": {op: P}}
    expected_ne = {"a": {"$not": {"$eq": P}}} if isinstance(value, re.Pattern | Regex) else None
    assert skeleton((F.a != value).to_mongo(), value) == (expected_ne or {"a": {"$ne": P}})


@given(st.lists(VALUES, max_size=4))
def test_in_and_nin_keep_their_shape(values: list[Any]) -> None:
    for rendered in (
        F.name.in_(values).to_mongo(),
        F.name.nin(values).to_mongo(),
        F.tags.all_([v for v in values if not isinstance(v, Mapping)]).to_mongo(),
    ):
        shape = skeleton(rendered, *values)
        assert dollar_keys(shape) <= {"$in", "$nin", "$all", "$or", "$and", "$eq", "$ne", "$not"}
        assert not [v for v in bare_in_lists(rendered, tuple(values)) if not_a_value_as_written(v)]


@given(VALUES, VALUES)
def test_combined_filters_keep_their_shape(a: Any, b: Any) -> None:
    rendered = ((F.x == a) | ((F.y != b) & (F.z == 1))).to_mongo()
    shape = skeleton(rendered, a, b)
    assert dollar_keys(shape) <= {"$or", "$eq", "$ne", "$not"}


@given(VALUES)
def test_update_values_keep_their_shape(value: Any) -> None:
    assert skeleton(Update.set(a=value).to_mongo(), value) == {"$set": {"a": P}}
    assert skeleton(Update.set_on_insert(a=value).to_mongo(), value) == {"$setOnInsert": {"a": P}}
    assert skeleton(Update.max(a=value).to_mongo(), value) == {"$max": {"a": P}}
    # A bare operator document would be read as $each / a condition: it must be wrapped,
    # and only then (a property that fails if the wrapping is removed or overdone).
    operator_like = isinstance(value, Mapping) and any(
        isinstance(k, str) and k.startswith("$") for k in value
    )
    for op in ("$push", "$addToSet"):
        build = Update.push if op == "$push" else Update.add_to_set
        wrapped = {op: {"a": {"$each": [P]}}}
        assert skeleton(build("a", value).to_mongo(), value) == (
            wrapped if operator_like else {op: {"a": P}}
        )
    assert skeleton(Update.pull("a", value).to_mongo(), value) == (
        {"$pull": {"a": {"$eq": P}}} if not_a_value_as_written(value) else {"$pull": {"a": P}}
    )


NAMES = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["$where", "a.$b", "a..b", "", ".a", "$natural", "items.$", "a\x00b"]),
)


def is_field_path(name: str) -> bool:
    """A dotted path of non-empty segments, none starting with '$', no NUL."""
    return "\x00" not in name and all(s and not s.startswith("$") for s in name.split("."))


@given(NAMES)
def test_a_sort_name_is_a_field_path_or_refused(name: str) -> None:
    try:
        rendered = as_sort(name)
    except InvalidQuery:
        assert not is_field_path(name)
    else:
        assert rendered == [(name, 1)]
        assert is_field_path(name) or name == "$natural"


@given(st.lists(NAMES, max_size=3))
def test_projected_names_are_field_paths_or_refused(names: list[str]) -> None:
    try:
        rendered = as_projection(names)
    except InvalidQuery:
        assert not all(is_field_path(n.removesuffix(".$")) for n in names)
    else:
        assert rendered == names
        assert all(is_field_path(n.removesuffix(".$")) for n in names)
