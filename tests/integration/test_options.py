"""The CRUD specification's options reach the server, by their command names, on both drivers."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from mongocat import Catalogue, Collection, F, InvalidQuery, Pipeline, Sort, Update, expr
from mongocat.testing import CommandRecorder

WANTED = F.expr(expr.eq(F.sku, expr.var("wanted")))  # reads the let variable


@dataclass
class Recorded:
    cat: Catalogue
    items: Collection[dict[str, Any]]
    listener: CommandRecorder

    def sent(self, name: str) -> dict[str, Any]:
        """The last command ``name`` sent."""
        commands = self.listener.commands(name)
        assert commands, f"no {name} command was sent"
        return commands[-1]


@pytest.fixture
async def recorded(catalogue_factory: Any) -> AsyncIterator[Recorded]:
    listener = CommandRecorder()
    async with catalogue_factory(event_listeners=[listener]) as cat:
        items = cat.collection("items")
        await items.insert_many(
            [
                {"_id": 1, "sku": "W-1", "rank": 2},
                {"_id": 2, "sku": "W-1", "rank": 1},
                {"_id": 3, "sku": "G-1", "rank": 3},
            ]
        )
        yield Recorded(cat, items, listener)


async def test_let_on_reads_and_writes(recorded: Recorded) -> None:
    items, let = recorded.items, {"wanted": "W-1"}
    assert sorted(d["_id"] for d in await items.find(WANTED, let=let)) == [1, 2]
    assert recorded.sent("find")["let"] == let
    assert (await items.update_one(WANTED, Update.set(a=1), let=let)).modified_count == 1
    assert recorded.sent("update")["let"] == let
    assert (await items.update_many(WANTED, Update.set(b=1), let=let)).modified_count == 2
    replaced = await items.replace_one(WANTED, {"sku": "W-1", "new": True}, let=let)
    assert replaced.modified_count == 1
    found = await items.find_one_and_update(
        WANTED, Update.set(c=1), let=let, sort=Sort.asc(F.rank), return_document="after"
    )
    assert found is not None
    assert found["c"] == 1
    assert recorded.sent("findAndModify")["let"] == let
    assert await items.find_one_and_delete(WANTED, let={"wanted": "G-1"}) is not None
    assert (await items.delete_one(WANTED, let=let)).deleted_count == 1
    assert (await items.delete_many(WANTED, let=let)).deleted_count == 1
    assert recorded.sent("delete")["let"] == let
    assert await items.count() == 0


async def test_allow_disk_use_on_find_and_hint_on_distinct(recorded: Recorded) -> None:
    items = recorded.items
    await items.find(sort=Sort.asc(F.rank), allow_disk_use=True).to_list()
    assert recorded.sent("find")["allowDiskUse"] is True
    assert sorted(await items.distinct(F.sku, hint="_id_")) == ["G-1", "W-1"]  # type: ignore[arg-type]
    assert recorded.sent("distinct")["hint"] == "_id_"


async def test_bypass_document_validation_reaches_every_write(recorded: Recorded) -> None:
    items = recorded.items
    await items.update_one(F._id == 1, Update.set(a=1), bypass_document_validation=True)
    assert recorded.sent("update")["bypassDocumentValidation"] is True
    await items.update_many(F._id == 1, Update.set(a=2), bypass_document_validation=True)
    await items.replace_one(F._id == 1, {"sku": "W-1"}, bypass_document_validation=True)
    assert recorded.sent("update")["bypassDocumentValidation"] is True
    await items.find_one_and_update(F._id == 1, Update.set(a=3), bypass_document_validation=True)
    assert recorded.sent("findAndModify")["bypassDocumentValidation"] is True
    await items.find_one_and_replace(F._id == 1, {"sku": "W-1"}, bypass_document_validation=True)
    assert recorded.sent("findAndModify")["bypassDocumentValidation"] is True


async def test_sort_chooses_the_document_update_one_changes(recorded: Recorded) -> None:
    items = recorded.items
    version = (await recorded.cat.command("buildInfo"))["versionArray"][:2]
    if version < [8, 0]:
        pytest.skip(f"update_one(sort=) needs MongoDB 8.0; the server is {version}")
    await items.update_one(F.sku == "W-1", Update.set(first=True), sort=Sort.asc(F.rank))
    statement = recorded.sent("update")["updates"][0]
    assert statement["sort"] == {"rank": 1}
    changed = await items.find_one(F.first == True)  # noqa: E712 - a filter, not a test
    assert changed is not None
    assert changed["_id"] == 2  # the lower rank of the two W-1
    await items.replace_one(
        F.sku == "W-1", {"sku": "W-1", "replaced": True}, sort=Sort.desc(F.rank)
    )
    assert recorded.sent("update")["updates"][0]["sort"] == {"rank": -1}


async def test_the_bulk_writer_sends_its_own_and_each_operations_options(
    recorded: Recorded,
) -> None:
    items, let = recorded.items, {"wanted": "W-1"}
    async with items.bulk(comment="nightly", let=let, bypass_document_validation=True) as bulk:
        await bulk.update_one(WANTED, Update.set(a=1), hint="_id_", collation={"locale": "en"})
        await bulk.update_many(WANTED, Update.set(b=1), hint="_id_")
        await bulk.delete_one(F.sku == "G-1", collation={"locale": "en", "strength": 2})
    command = recorded.sent("update")
    assert (command["comment"], command["let"], command["bypassDocumentValidation"]) == (
        "nightly",
        let,
        True,
    )
    first, second = command["updates"]
    assert (first["hint"], first["collation"]["locale"], second["hint"]) == ("_id_", "en", "_id_")
    assert recorded.sent("delete")["deletes"][0]["collation"]["strength"] == 2
    assert bulk.result.modified_count == 3
    assert bulk.result.deleted_count == 1


async def test_bulk_sort_picks_the_document_update_one_changes(recorded: Recorded) -> None:
    version = (await recorded.cat.command("buildInfo"))["versionArray"][:2]
    if version < [8, 0]:
        pytest.skip(f"a bulk update_one with sort needs MongoDB 8.0; the server is {version}")
    items = recorded.items
    async with items.bulk() as bulk:
        await bulk.update_one(F.sku == "W-1", Update.set(first=True), sort=Sort.asc(F.rank))
        await bulk.replace_one(F.sku == "G-1", {"sku": "G-1", "new": 1}, sort={"rank": -1})
    assert recorded.sent("update")["updates"][0]["sort"] == {"rank": 1}
    changed = await items.find_one(F.first == True)  # noqa: E712 - a filter, not a test
    assert changed is not None
    assert changed["_id"] == 2


async def test_a_database_level_aggregate_has_the_same_checks_and_types(
    recorded: Recorded,
) -> None:
    cat = recorded.cat
    pipeline = Pipeline().documents([{"x": 1}, {"x": 2}]).match(F.x > 1)
    assert await cat.aggregate(pipeline, comment="db-level") == [{"x": 2}]
    command = recorded.sent("aggregate")
    assert (command["aggregate"], command["comment"]) == (1, "db-level")

    @dataclass
    class Row:
        x: int

    rows = await cat.aggregate(Pipeline().documents([{"x": 3}]), output=Row)
    assert rows == [Row(3)]
    with pytest.raises(InvalidQuery, match="server-side JavaScript"):
        cat.aggregate([{"$documents": [{"x": 1}]}, {"$match": {"$where": "true"}}])
    with pytest.raises(InvalidQuery, match="must be the first stage"):
        cat.aggregate(Pipeline().match(F.x == 1).documents([{"x": 1}]))


async def test_aggregate_passes_bypass_document_validation(recorded: Recorded) -> None:
    items = recorded.items
    await items.aggregate(
        Pipeline().match(F.sku == "W-1").out("copies"), bypass_document_validation=True
    ).to_list()
    assert recorded.sent("aggregate")["bypassDocumentValidation"] is True
    assert await recorded.cat.collection("copies").count() == 2
