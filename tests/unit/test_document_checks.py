"""The batch check and encode_stored agree with the one-document walk, always."""

from typing import Any

import bson
import pytest
from bson.codec_options import DEFAULT_CODEC_OPTIONS
from hypothesis import given, settings
from hypothesis import strategies as st

from mongocat import InvalidDocument
from mongocat._document_checks import check_document, check_documents, encode_stored

_NAMES = st.sampled_from(["a", "b", "price", "$set", "a.b", "", "bad\x00", "é", "x$"])
_SCALARS = st.one_of(st.integers(-(2**31), 2**31), st.text(max_size=3), st.none(), st.booleans())
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(_NAMES, inner, max_size=3)
    ),
    max_leaves=6,
)
_DOCUMENTS = st.dictionaries(_NAMES, _VALUES, max_size=4)


def _walk_verdict(document: Any, allow: bool) -> str | None:
    """The one-document walk's refusal message, or None."""
    try:
        check_document(document, allow_dollar_fields=allow)
    except InvalidDocument as error:
        return error.message
    return None


@settings(max_examples=400, deadline=None)
@given(st.lists(_DOCUMENTS, max_size=5), st.booleans())
def test_a_batch_is_refused_exactly_as_its_first_bad_document(
    documents: list[dict[str, Any]], allow: bool
) -> None:
    verdicts = [_walk_verdict(document, allow) for document in documents]
    first_bad = next((i for i, v in enumerate(verdicts) if v is not None), None)
    if first_bad is None:
        check_documents(documents, allow_dollar_fields=allow)
    else:
        with pytest.raises(InvalidDocument) as info:
            check_documents(documents, allow_dollar_fields=allow)
        assert info.value.message == f"document #{first_bad}: {verdicts[first_bad]}"


@settings(max_examples=400, deadline=None)
@given(_DOCUMENTS, st.booleans())
def test_encode_stored_refuses_what_the_walk_refuses_and_encodes_the_rest(
    document: dict[str, Any], allow: bool
) -> None:
    verdict = _walk_verdict(document, allow)
    if verdict is None:
        encoded = encode_stored(
            document, allow_dollar_fields=allow, codec_options=DEFAULT_CODEC_OPTIONS
        )
        assert bson.decode(encoded) == document
    else:
        with pytest.raises(InvalidDocument) as info:
            encode_stored(document, allow_dollar_fields=allow, codec_options=DEFAULT_CODEC_OPTIONS)
        assert info.value.message == verdict


def test_valid_names_are_remembered_but_never_a_bad_one() -> None:
    good = [{"fresh_name": 1}]
    check_documents(good)
    check_documents(good)  # from memory now
    with pytest.raises(InvalidDocument, match=r"document #1: field '\$fresh' starts with"):
        check_documents([{"fresh_name": 2}, {"$fresh": 1}])
    with pytest.raises(InvalidDocument, match="document #0"):
        check_documents([{"$fresh": 1}])  # refused again: a bad name is never remembered


def test_a_flat_document_seen_before_is_still_checked_in_full_when_it_changes() -> None:
    check_document({"n": 1, "name": "item"})
    check_document({"n": 1, "name": "item"})  # names remembered: the C-level path
    with pytest.raises(InvalidDocument, match="meta"):
        check_document({"n": 1, "name": "item", "meta": {"$ne": 1}})  # a nested value
    with pytest.raises(InvalidDocument):
        check_document({"n": 1, "$name": "item"})
    with pytest.raises(InvalidDocument):
        check_document({"n": 1, "a.b": "item"})
