"""Page assembly, without a server: the query for a token, and the page from its rows."""

import pytest

from mongocat import InvalidPageToken, InvalidQuery
from mongocat._pagination import PageQuery

KEY = b"k" * 32


def build(after: str | None = None, before: str | None = None, limit: int = 2) -> PageQuery:
    return PageQuery.build(
        {"kind": "a"}, [("price", 1)], limit=limit, after=after, before=before, key=KEY
    )


def test_the_first_page_asks_for_one_row_more() -> None:
    query = build()
    assert query.filter == {"kind": "a"}
    assert query.sort == [("price", 1), ("_id", 1)]
    assert query.limit == 3


def test_a_full_first_page_has_a_next_token_only() -> None:
    rows = [{"_id": i, "price": p} for i, p in enumerate([1, 2, 3])]
    page = build().page(rows, list)
    assert [row["_id"] for row in page.items] == [0, 1]
    assert page.next_token is not None
    assert page.prev_token is None


def test_the_next_page_starts_after_the_token_and_has_a_prev_token() -> None:
    first = build().page([{"_id": 0, "price": 1}, {"_id": 1, "price": 2}, {"_id": 2}], list)
    assert first.next_token is not None
    second = build(after=first.next_token)
    assert second.filter == {
        "$and": [
            {"kind": "a"},
            {
                "price": {"$gte": 2},
                "$or": [{"price": {"$gt": 2}}, {"price": {"$eq": 2}, "_id": {"$gt": 1}}],
            },
        ]
    }
    page = second.page([{"_id": 2, "price": 3}], list)
    assert page.next_token is None
    assert page.prev_token is not None


def test_a_backward_page_is_reversed_into_the_sort_order() -> None:
    first = build().page([{"_id": 0, "price": 1}, {"_id": 1, "price": 2}, {"_id": 2}], list)
    assert first.next_token is not None
    second = build(after=first.next_token).page([{"_id": 2, "price": 3}], list)
    assert second.prev_token is not None
    back = build(before=second.prev_token)
    assert back.sort == [("price", -1), ("_id", -1)]
    page = back.page([{"_id": 1, "price": 2}, {"_id": 0, "price": 1}], list)
    assert [row["_id"] for row in page.items] == [0, 1]
    assert page.next_token is not None
    assert page.prev_token is None


def test_decoding_applies_to_the_items_not_the_tokens() -> None:
    page = build().page(
        [{"_id": 0, "price": 1}, {"_id": 1, "price": 2}, {"_id": 2}], lambda r: ["x"]
    )
    assert page.items == ["x"]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        pytest.param({"limit": 0}, InvalidQuery, "limit must be a positive int", id="limit"),
        pytest.param({"after": "a", "before": "b"}, InvalidQuery, "not both", id="both"),
        pytest.param({"after": "bogus"}, InvalidPageToken, "invalid", id="bad-token"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        build(**kwargs)  # type: ignore[arg-type]


def test_a_sort_is_required() -> None:
    with pytest.raises(InvalidQuery, match="needs a sort"):
        PageQuery.build({}, None, limit=1, after=None, before=None, key=KEY)
