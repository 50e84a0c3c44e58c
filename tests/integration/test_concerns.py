"""Read preference, read concern and write concern per collection, on both drivers.

What each command carried is read off the wire with CommandRecorder. The test
server is a replica-set member, so the driver sends ``$readPreference`` (on a
standalone server it would not: there is nothing to choose from).
"""

import io
from collections.abc import AsyncIterator, Callable
from typing import Any, TypedDict

import pytest
from pymongo import ReadPreference
from pymongo.read_concern import ReadConcern
from pymongo.read_preferences import SecondaryPreferred
from pymongo.write_concern import WriteConcern

from mongocat import (
    Catalogue,
    CatalogueClosed,
    Collection,
    ConfigurationError,
    F,
    Pipeline,
    Sort,
    TransactionError,
    Update,
)
from mongocat.testing import CommandRecorder


class Item(TypedDict):
    _id: int
    n: int


class Recorded:
    def __init__(self, cat: Catalogue, recorder: CommandRecorder) -> None:
        self.cat = cat
        self.recorder = recorder

    def sent(self, name: str) -> dict[str, Any]:
        """The one ``name`` command sent since the last clear."""
        (command,) = self.recorder.commands(name)
        return command


@pytest.fixture
async def recorded(catalogue_factory: Callable[..., Catalogue]) -> AsyncIterator[Recorded]:
    recorder = CommandRecorder()
    async with catalogue_factory(event_listeners=[recorder]) as cat:
        yield Recorded(cat, recorder)


MAJORITY = {"w": "majority", "wtimeout": 5000}


async def test_a_collections_options_go_with_each_of_its_commands(recorded: Recorded) -> None:
    items = recorded.cat.collection(
        "items",
        Item,
        read_preference="secondaryPreferred",
        read_concern="majority",
        write_concern=MAJORITY,
    )
    recorded.recorder.clear()
    await items.insert_one({"_id": 1, "n": 1})
    assert recorded.sent("insert")["writeConcern"] == MAJORITY
    await items.update_one(F._id == 1, Update.inc(n=1))
    assert recorded.sent("update")["writeConcern"] == MAJORITY
    assert await items.find_one(F._id == 1) == {"_id": 1, "n": 2}
    find = recorded.sent("find")
    assert find["readConcern"] == {"level": "majority"}
    assert find["$readPreference"] == {"mode": "secondaryPreferred"}
    recorded.recorder.clear()
    assert await items.count() == 1
    aggregate = recorded.sent("aggregate")
    assert aggregate["readConcern"] == {"level": "majority"}
    assert aggregate["$readPreference"] == {"mode": "secondaryPreferred"}
    recorded.recorder.clear()
    await items.delete_one(F._id == 1)
    assert recorded.sent("delete")["writeConcern"] == MAJORITY


async def test_bulk_pagination_aggregation_and_gridfs_honour_them(recorded: Recorded) -> None:
    items = recorded.cat.collection("items", Item).with_options(
        read_concern="majority", write_concern={"w": 1, "j": True}
    )
    recorded.recorder.clear()
    await items.bulk_insert(({"_id": i, "n": i} for i in range(5)), batch_size=2)
    batches = recorded.recorder.commands("insert")
    assert len(batches) == 3
    assert all(batch["writeConcern"] == {"w": 1, "j": True} for batch in batches)
    recorded.recorder.clear()
    page = await items.paginate(sort=Sort.asc("n"), limit=2)
    assert [item["_id"] for item in page.items] == [0, 1]
    assert recorded.sent("find")["readConcern"] == {"level": "majority"}
    recorded.recorder.clear()
    rows = await items.aggregate(Pipeline().match(F.n >= 3).sort({"n": 1}))
    assert [row["_id"] for row in rows] == [3, 4]
    assert recorded.sent("aggregate")["readConcern"] == {"level": "majority"}

    fs = recorded.cat.gridfs("files", write_concern="majority", read_concern="majority")
    recorded.recorder.clear()
    file_id = await fs.upload("a.txt", io.BytesIO(b"hello"))
    assert all(
        command["writeConcern"] == {"w": "majority"}
        for command in recorded.recorder.commands("insert")
    )
    recorded.recorder.clear()
    assert await fs.download(file_id) == b"hello"
    finds = recorded.recorder.commands("find")
    assert finds
    assert all(command["readConcern"] == {"level": "majority"} for command in finds)


async def test_the_drivers_own_objects_are_accepted(recorded: Recorded) -> None:
    # secondaryPreferred: served by the primary where no secondary matches
    tagged = SecondaryPreferred(tag_sets=[{"dc": "east"}, {}], max_staleness=120)
    items = recorded.cat.collection(
        "items",
        read_preference=tagged,
        read_concern=ReadConcern("local"),
        write_concern=WriteConcern(w=1),
    )
    assert items.read_preference == tagged
    recorded.recorder.clear()
    await items.find_one()
    assert recorded.sent("find")["$readPreference"] == {
        "mode": "secondaryPreferred",
        "tags": [{"dc": "east"}, {}],
        "maxStalenessSeconds": 120,
    }
    nearest = items.with_options(read_preference=ReadPreference.NEAREST)
    recorded.recorder.clear()
    await nearest.find_one()
    assert recorded.sent("find")["$readPreference"] == {"mode": "nearest"}


async def test_with_options_keeps_the_type_and_the_rest(recorded: Recorded) -> None:
    items: Collection[Item] = recorded.cat.collection("items", Item, write_concern="majority")
    reads = items.with_options(read_concern="majority")
    assert reads.document_type is Item
    assert reads.full_name == items.full_name
    assert reads.write_concern == WriteConcern(w="majority")  # kept
    assert reads.read_concern == ReadConcern("majority")
    assert items.read_concern == ReadConcern()  # the original is unchanged
    await reads.insert_one({"_id": 1, "n": 1})
    assert await items.find_one(F._id == 1) == {"_id": 1, "n": 1}


async def test_a_catalogues_options_are_its_collections_defaults(recorded: Recorded) -> None:
    cat = recorded.cat
    cat.register_indexes("items")
    majority = cat.with_options(read_concern="majority", write_concern="majority")
    items = majority.collection("items")
    own = majority.collection("items", read_concern="local")
    recorded.recorder.clear()
    await items.insert_one({"_id": 1})
    assert recorded.sent("insert")["writeConcern"] == {"w": "majority"}
    await items.find_one()
    assert recorded.sent("find")["readConcern"] == {"level": "majority"}
    recorded.recorder.clear()
    await own.find_one()
    assert recorded.sent("find")["readConcern"] == {"level": "local"}
    recorded.recorder.clear()
    await cat.collection("items").find_one()
    assert "readConcern" not in recorded.sent("find")  # the original keeps its own


async def test_a_derived_catalogue_closes_with_its_parent(
    catalogue_factory: Callable[..., Catalogue],
) -> None:
    cat = catalogue_factory()
    derived = cat.with_options(read_concern="majority")
    await derived.close()  # closes nothing: the client is the parent's
    await cat.ping()
    await cat.close()
    assert derived.closed
    with pytest.raises(CatalogueClosed):
        await derived.collection("items").find_one()


async def test_a_transaction_refuses_w0_and_reads_off_the_primary(catalogue: Catalogue) -> None:
    with pytest.raises(TransactionError, match="w=0"):
        catalogue.transaction(write_concern=0)
    with pytest.raises(TransactionError, match="primary only"):
        catalogue.transaction(read_preference="secondaryPreferred")
    with pytest.raises(TransactionError, match="w=0"):
        await catalogue.run_transaction(lambda: catalogue.ping(), write_concern={"w": 0})

    fire_and_forget = catalogue.collection("items", write_concern=0)
    replica_reads = catalogue.collection("items", read_preference="secondary")
    async with catalogue.transaction():
        with pytest.raises(TransactionError, match=r"collection '.*items' has an unack"):
            await fire_and_forget.insert_one({"_id": 1})
        with pytest.raises(TransactionError, match="read preference 'secondary'"):
            await replica_reads.find_one()
        await catalogue.collection("items").insert_one({"_id": 2})
    assert await catalogue.collection("items").count() == 1  # only the refused ones lost
    await fire_and_forget.insert_one({"_id": 3})  # outside a transaction: as asked


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("read_preference", "secondry", "unknown read preference mode 'secondry'"),
        ("read_preference", {"mode": "primary", "tags": [{"dc": "x"}]}, "takes no tags"),
        ("read_concern", "majorty", "read_concern must be a level"),
        ("write_concern", -1, "write_concern -1"),
        ("write_concern", {"w": 1, "wtimout": 5}, "unknown key"),
    ],
)
async def test_nonsense_is_refused_before_anything_is_sent(
    catalogue: Catalogue, option: str, value: Any, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        catalogue.collection("items", **{option: value})
    with pytest.raises(ConfigurationError, match=message):
        catalogue.collection("items").with_options(**{option: value})


async def test_a_change_stream_reads_with_the_collections_read_concern(
    recorded: Recorded,
) -> None:
    items = recorded.cat.collection("items", read_concern="majority")
    recorded.recorder.clear()
    async with items.watch():
        pass
    (aggregate,) = recorded.recorder.commands("aggregate")
    assert aggregate["pipeline"][0] == {"$changeStream": {}}
    assert aggregate["readConcern"] == {"level": "majority"}
