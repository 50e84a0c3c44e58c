"""Keyset pagination over the wire, on both drivers."""

import secrets
from typing import Any

import pytest

from mongocat import Catalogue, Collection, F, InvalidPageToken, InvalidQuery, Sort

TOTAL = 10_000
PAGE = 37


async def _fill(catalogue: Catalogue, total: int) -> Collection[dict[str, Any]]:
    docs = catalogue.collection("many")
    # Many equal sort values: 10 distinct categories, 50 distinct prices.
    await docs.insert_many(
        [{"_id": i, "category": f"c{i % 10}", "price": (i * 7) % 50} for i in range(total)]
    )
    await docs.driver_collection.create_index([("price", 1), ("category", -1), ("_id", 1)])
    return docs


@pytest.fixture
async def many(catalogue: Catalogue) -> Collection[dict[str, Any]]:
    return await _fill(catalogue, 1_000)


@pytest.mark.server_feature("index_backed_sort")
async def test_walks_10000_documents_exactly_once_forward_and_backward(
    catalogue: Catalogue,
) -> None:
    # Each page is one index range scan on a real server; a server that sorts in
    # memory needs a full scan per page, which makes 2 x 271 pages too slow to run.
    await _walk(await _fill(catalogue, TOTAL), TOTAL)


async def test_walks_every_document_exactly_once_forward_and_backward(
    many: Collection[dict[str, Any]],
) -> None:
    await _walk(many, 1_000)


async def _walk(many: Collection[dict[str, Any]], total: int) -> None:
    sort = Sort.asc("price").desc("category")
    forward: list[int] = []
    page = await many.paginate(sort=sort, limit=PAGE)
    assert page.prev_token is None
    pages = 1
    while True:
        forward.extend(d["_id"] for d in page.items)
        if page.next_token is None:
            break
        page = await many.paginate(sort=sort, limit=PAGE, after=page.next_token)
        pages += 1
        assert page.prev_token is not None
    assert pages == -(-total // PAGE)
    assert sorted(forward) == list(range(total))
    expected = sorted(
        ({"_id": i, "price": (i * 7) % 50, "category": f"c{i % 10}"} for i in range(total)),
        key=lambda d: (d["price"], -int(d["category"][1:]), d["_id"]),
    )
    assert forward == [d["_id"] for d in expected]

    backward: list[int] = []
    while page.prev_token is not None:
        page = await many.paginate(sort=sort, limit=PAGE, before=page.prev_token)
        backward[:0] = [d["_id"] for d in page.items]
        assert len(page.items) == PAGE
        assert page.next_token is not None
    # Back at the start: every document before the last page, in order, once.
    assert backward == forward[: len(backward)]
    assert len(backward) + len(forward[len(backward) :]) == total


async def test_filtered_pages_and_projection(many: Collection[dict[str, Any]]) -> None:
    seen: list[int] = []
    token = None
    while True:
        page = await many.paginate(
            F.category == "c3",
            sort="price",
            limit=100,
            after=token,
            projection=["price"],
        )
        seen.extend(d["_id"] for d in page.items)
        assert all(set(d) == {"_id", "price"} for d in page.items)
        token = page.next_token
        if token is None:
            break
    assert sorted(seen) == [i for i in range(1_000) if i % 10 == 3]


async def test_empty_result_has_no_tokens(many: Collection[dict[str, Any]]) -> None:
    page = await many.paginate(F.category == "none", sort="price", limit=5)
    assert (page.items, page.next_token, page.prev_token) == ([], None, None)


async def test_tampered_and_foreign_tokens_are_rejected(
    catalogue: Catalogue, many: Collection[dict[str, Any]]
) -> None:
    first = await many.paginate(sort="price", limit=10)
    token = first.next_token
    assert token is not None
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    for bad in [flipped, token[: len(token) // 2], "not-a-token!", token + "xyz"]:
        with pytest.raises(InvalidPageToken):
            await many.paginate(sort="price", limit=10, after=bad)
    with pytest.raises(InvalidPageToken, match="another filter or sort"):
        await many.paginate(sort=Sort.desc("price"), limit=10, after=token)
    with pytest.raises(InvalidPageToken, match="another filter or sort"):
        await many.paginate(F.category == "c1", sort="price", limit=10, after=token)
    with pytest.raises(InvalidPageToken, match="pass it as after=, not before="):
        await many.paginate(sort="price", limit=10, before=token)
    other = Catalogue(catalogue.client, catalogue.name, page_token_key=secrets.token_bytes(32))
    with pytest.raises(InvalidPageToken, match="another process"):
        await other.collection("many").paginate(sort="price", limit=10, after=token)


async def test_pagination_misuse(many: Collection[dict[str, Any]]) -> None:
    with pytest.raises(InvalidQuery, match="positive int"):
        await many.paginate(sort="price", limit=0)
    with pytest.raises(InvalidQuery, match="not both"):
        await many.paginate(sort="price", limit=1, after="a", before="b")
    with pytest.raises(InvalidQuery, match="must keep them"):
        await many.paginate(sort="price", limit=1, projection=["category"])


@pytest.mark.server_feature("index_backed_sort")
async def test_next_page_is_an_index_scan_without_skip(
    catalogue: Catalogue, many: Collection[dict[str, Any]]
) -> None:
    sort = Sort.asc("price").desc("category")
    page = await many.paginate(sort=sort, limit=PAGE)
    page = await many.paginate(sort=sort, limit=PAGE, after=page.next_token)
    # Rebuild the query paginate() sent for that page, and explain it.
    token_page = await many.paginate(sort=sort, limit=PAGE, after=page.next_token)
    assert token_page.items
    from mongocat._pagination import PageKeys

    keys = PageKeys(list(sort.keys), {}, catalogue._handle.page_token_key)
    anchor = keys.read(page.next_token or "", "after")
    plan = await catalogue.command(
        {
            "explain": {
                "find": "many",
                "filter": keys.beyond(anchor, True),
                "sort": dict(keys.sort(True)),
                "limit": PAGE + 1,
            },
            "verbosity": "queryPlanner",
        }
    )
    stages = _stages(plan["queryPlanner"]["winningPlan"])
    assert "IXSCAN" in stages
    assert "SKIP" not in stages


def _stages(plan: Any) -> list[str]:
    found = []
    if isinstance(plan, dict):
        if "stage" in plan:
            found.append(plan["stage"])
        for value in plan.values():
            found += _stages(value)
    elif isinstance(plan, list):
        for value in plan:
            found += _stages(value)
    return found
