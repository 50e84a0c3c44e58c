"""Cursor options a long job needs, and explain verbosity, over the wire on both drivers."""

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest

from mongocat import Catalogue, F, InvalidQuery, Pipeline, Update
from mongocat.testing import CommandRecorder


class Recorded:
    def __init__(self, cat: Catalogue, recorder: CommandRecorder) -> None:
        self.cat = cat
        self.recorder = recorder


@pytest.fixture
async def recorded(catalogue_factory: Callable[..., Catalogue]) -> AsyncIterator[Recorded]:
    recorder = CommandRecorder()
    async with catalogue_factory(event_listeners=[recorder]) as cat:
        await cat.collection("items").insert_many([{"_id": i, "n": i} for i in range(5)])
        recorder.clear()
        yield Recorded(cat, recorder)


async def test_no_cursor_timeout_is_sent(recorded: Recorded) -> None:
    items = recorded.cat.collection("items")
    assert len(await items.find(no_cursor_timeout=True)) == 5
    (find,) = recorded.recorder.commands("find")
    assert find["noCursorTimeout"] is True


async def test_a_tailable_await_cursor_on_a_capped_collection_sees_later_inserts(
    recorded: Recorded,
) -> None:
    cat = recorded.cat
    await cat.command({"create": "log", "capped": True, "size": 64 * 1024})
    log = cat.collection("log")
    await log.insert_one({"_id": 0, "line": "first"})
    cursor = log.find(cursor_type="tailable_await", max_await=timedelta(milliseconds=200))
    seen: list[Any] = []
    async with cursor:
        iterator = aiter(cursor)
        seen.append((await anext(iterator))["line"])

        async def later() -> None:
            await asyncio.sleep(0.05)
            await log.insert_one({"_id": 1, "line": "second"})

        writer = asyncio.ensure_future(later())
        seen.append((await asyncio.wait_for(anext(iterator), 10))["line"])
        await writer
    assert seen == ["first", "second"]
    (find,) = recorded.recorder.commands("find")
    assert find["tailable"] is True
    assert find["awaitData"] is True
    get_mores = recorded.recorder.commands("getMore")
    assert get_mores
    assert get_mores[0]["maxTimeMS"] == 200


async def test_cursor_options_are_checked(recorded: Recorded) -> None:
    items = recorded.cat.collection("items")
    with pytest.raises(InvalidQuery, match="cursor_type must be one of"):
        items.find(cursor_type="tail")  # type: ignore[arg-type]
    with pytest.raises(InvalidQuery, match="tailable-await cursor only"):
        items.find(max_await=1.0)
    with pytest.raises(InvalidQuery, match="positive number of seconds"):
        items.find(cursor_type="tailable_await", max_await=0)


@pytest.mark.parametrize("verbosity", ["queryPlanner", "executionStats", "allPlansExecution"])
async def test_explain_with_a_verbosity(recorded: Recorded, verbosity: str) -> None:
    items = recorded.cat.collection("items")
    await items.indexes.ensure()
    recorded.recorder.clear()
    summary = await items.find(F.n >= 2, sort="n", limit=2).explain(verbosity)  # type: ignore[arg-type]
    (explain,) = recorded.recorder.commands("explain")
    assert explain["verbosity"] == verbosity
    assert explain["explain"]["find"] == "items"
    assert explain["explain"]["filter"] == {"n": {"$gte": 2}}
    assert explain["explain"]["sort"] == {"n": 1}
    assert explain["explain"]["limit"] == 2
    assert summary.stages
    if verbosity == "queryPlanner":
        assert summary.docs_examined is None  # nothing ran
    recorded.recorder.clear()
    await items.aggregate(Pipeline().match(F.n >= 2)).explain(verbosity)  # type: ignore[arg-type]
    (explain,) = recorded.recorder.commands("explain")
    assert explain["verbosity"] == verbosity
    assert explain["explain"]["aggregate"] == "items"


async def test_explain_refuses_an_unknown_verbosity(recorded: Recorded) -> None:
    with pytest.raises(InvalidQuery, match="verbosity must be one of"):
        await recorded.cat.collection("items").find().explain("everything")  # type: ignore[arg-type]


async def test_find_one_and_modify_take_max_time_ms(recorded: Recorded) -> None:
    items = recorded.cat.collection("items")
    await items.find_one_and_update(F._id == 1, Update.inc(n=1), max_time_ms=5000)
    await items.find_one_and_replace(F._id == 2, {"n": 20}, max_time_ms=5000)
    await items.find_one_and_delete(F._id == 3, max_time_ms=5000)
    sent = recorded.recorder.commands("findAndModify")
    assert [command["maxTimeMS"] for command in sent] == [5000, 5000, 5000]
    with pytest.raises(InvalidQuery):
        await items.find_one_and_delete(F._id == 4, max_time_ms=-1)
