"""Search indexes in the schema plan, on both drivers.

The embedded server, like mongod outside Atlas, has no search: there the plan says so
with the server's reason and ``ensure()`` leaves them, and the commands mongocat sends
are read off the wire. On a server with search (``MONGOCAT_TEST_URI`` on Atlas) the
marked test creates them.
"""

import logging
from collections.abc import AsyncIterator, Callable

import pytest

from mongocat import (
    Catalogue,
    Pipeline,
    SearchIndex,
    ServerFeatureUnavailable,
    TransactionError,
    VectorSearchIndex,
)
from mongocat.testing import CommandRecorder, ServerFeatures

SPECS = (
    SearchIndex({"mappings": {"dynamic": True}}),
    VectorSearchIndex("embedding", 3, "cosine", name="vectors", filters=["year"]),
)


@pytest.fixture
async def recorded(
    catalogue_factory: Callable[..., Catalogue],
) -> AsyncIterator[tuple[Catalogue, CommandRecorder]]:
    recorder = CommandRecorder()
    async with catalogue_factory(event_listeners=[recorder]) as cat:
        await cat.collection("movies").insert_one({"title": "x"})
        recorder.clear()
        yield cat, recorder


async def test_the_create_command_is_as_atlas_takes_it(
    recorded: tuple[Catalogue, CommandRecorder], mongocat_server_features: ServerFeatures
) -> None:
    cat, recorder = recorded
    if mongocat_server_features.missing("search") is None:
        assert await cat.create_search_indexes("movies", *SPECS) == ["default", "vectors"]
    else:  # no search here: refused, and the command was still sent as written
        with pytest.raises(ServerFeatureUnavailable):
            await cat.create_search_indexes("movies", *SPECS)
    (sent,) = recorder.commands("createSearchIndexes")
    assert sent["createSearchIndexes"] == "movies"
    assert sent["indexes"] == [spec.to_mongo() for spec in SPECS]


async def test_without_search_the_plan_says_so_and_ensure_leaves_them(
    recorded: tuple[Catalogue, CommandRecorder],
    mongocat_server_features: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cat, recorder = recorded
    if mongocat_server_features.missing("search") is None:
        pytest.skip("the test server has search: see the test marked server_feature('search')")
    cat.declare_collection("movies", search_indexes=SPECS)
    plan = await cat.plan()
    search = plan.search_indexes["movies"]
    assert search.unavailable is not None
    assert "Atlas Search" in search.unavailable or "not supported" in search.unavailable
    assert "? search indexes of movies" in str(plan)
    (listed,) = recorder.commands("aggregate")
    assert listed["pipeline"] == [{"$listSearchIndexes": {}}]
    with caplog.at_level(logging.WARNING, logger="mongocat"):
        await cat.ensure()
    assert recorder.commands("createSearchIndexes") == []
    assert any("search indexes of 'movies'" in r.getMessage() for r in caplog.records)


@pytest.mark.server_feature("search")
async def test_on_a_server_with_search_ensure_creates_them(
    recorded: tuple[Catalogue, CommandRecorder],
) -> None:
    cat, recorder = recorded
    cat.declare_collection("movies", search_indexes=SPECS)
    plan = await cat.plan()
    assert [spec.name for spec in plan.search_indexes["movies"].create] == ["default", "vectors"]
    await cat.ensure()
    (sent,) = recorder.commands("createSearchIndexes")
    assert sent["indexes"] == [spec.to_mongo() for spec in SPECS]


async def test_a_search_stage_is_refused_inside_a_transaction(catalogue: Catalogue) -> None:
    movies = catalogue.collection("movies")
    await movies.insert_one({"title": "x"})
    search = Pipeline().search({"text": {"query": "x", "path": "title"}})
    async with catalogue.transaction():
        with pytest.raises(TransactionError, match=r"\$search cannot run in a transaction"):
            movies.aggregate(search)
        vector = Pipeline().vector_search(
            index="v", path="e", query_vector=[1.0], limit=1, exact=True
        )
        with pytest.raises(TransactionError, match=r"\$vectorSearch"):
            movies.aggregate(vector)
        assert await movies.count() == 1  # the transaction is usable still
