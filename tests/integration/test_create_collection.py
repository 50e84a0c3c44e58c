"""cat.create_collection over the wire, on both drivers: each option the server supports."""

import datetime
import json
from typing import Any, TypedDict

import pytest

from mongocat import (
    Capped,
    Catalogue,
    ConfigurationError,
    DocumentValidationFailed,
    F,
    Index,
    IndexConflict,
    OperationFailed,
    TimeSeries,
    Update,
    json_schema,
)


class Item(TypedDict):
    _id: int
    name: str


async def options_of(catalogue: Catalogue, name: str) -> dict[str, Any]:
    reply = await catalogue.command({"listCollections": 1, "filter": {"name": name}})
    (info,) = reply["cursor"]["firstBatch"]
    options: dict[str, Any] = info["options"]
    return options


async def test_a_validator_from_the_document_type(catalogue: Catalogue) -> None:
    items = await catalogue.create_collection("items", Item, validator=True)
    await items.insert_one({"_id": 1, "name": "a"})
    with pytest.raises(DocumentValidationFailed):
        await catalogue.collection("items").insert_one({"_id": 2, "name": 3})
    options = await options_of(catalogue, "items")
    assert options["validator"]["$jsonSchema"]["required"] == ["_id", "name"]
    with pytest.raises(ConfigurationError, match="derives the validator"):
        await catalogue.create_collection("other", validator=True)


async def test_creating_an_existing_collection_otherwise_says_so(catalogue: Catalogue) -> None:
    # MongoDB answers ok to a create that matches the existing collection's options,
    # and NamespaceExists (48) to one that does not.
    await catalogue.create_collection("items")
    with pytest.raises(OperationFailed) as info:
        await catalogue.create_collection("items", capped=Capped(size=4096))
    assert info.value.code == 48


async def test_a_capped_collection_keeps_the_newest_in_order(catalogue: Catalogue) -> None:
    log = await catalogue.create_collection("log", capped=Capped(size=4096, max=3))
    for i in range(5):
        await log.insert_one({"i": i})
    assert [d["i"] for d in await log.find()] == [2, 3, 4]
    assert (await options_of(catalogue, "log"))["capped"] is True


async def test_a_time_series_collection_with_expiry(catalogue: Catalogue) -> None:
    readings = await catalogue.create_collection(
        "readings",
        timeseries=TimeSeries("at", meta_field="sensor", granularity="minutes"),
        expire_after=datetime.timedelta(days=30),
    )
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0, tzinfo=None)
    await readings.insert_many(
        [{"at": now, "sensor": s, "value": v} for s, v in (("a", 1), ("b", 2), ("a", 3))]
    )
    rows = await readings.find(F.sensor == "a", projection={"_id": 0}, sort="value")
    assert rows == [
        {"at": now, "sensor": "a", "value": 1},
        {"at": now, "sensor": "a", "value": 3},
    ]
    options = await options_of(catalogue, "readings")
    assert options["timeseries"]["timeField"] == "at"
    assert options["timeseries"]["metaField"] == "sensor"
    assert options["expireAfterSeconds"] == 30 * 86400


async def test_a_clustered_collection(catalogue: Catalogue) -> None:
    await catalogue.create_collection("clustered", clustered=True)
    assert (await options_of(catalogue, "clustered"))["clusteredIndex"]["key"] == {"_id": 1}


async def test_pre_and_post_images_feed_full_document_before_change(
    catalogue: Catalogue,
) -> None:
    items = await catalogue.create_collection("items", Item, pre_and_post_images=True)
    await items.insert_one({"_id": 1, "name": "before"})
    async with items.watch(full_document_before_change="required") as stream:
        await items.update_one(F._id == 1, Update.set(name="after"))
        event = await anext(aiter(stream))
    assert event.operation_type == "update"
    assert event.full_document_before_change == {"_id": 1, "name": "before"}


class Reading(TypedDict):
    at: datetime.datetime
    sensor: str
    value: float


def declare(cat: Catalogue, *, validator: bool = True, granularity: Any = "minutes") -> None:
    cat.declare_collection(
        "readings",
        Reading,
        validator=validator,
        timeseries=TimeSeries("at", meta_field="sensor", granularity=granularity),
    )
    cat.declare_collection("items", Item, validator=True, indexes=[Index("name")])


async def test_a_plan_on_a_fresh_database_creates_everything(catalogue: Catalogue) -> None:
    declare(catalogue)
    plan = await catalogue.plan()
    assert [(c.name, c.action) for c in plan.collections] == [
        ("readings", "create"),
        ("items", "create"),
    ]
    assert plan.collections[0].command == {
        "create": "readings",
        "validator": {"$jsonSchema": json_schema(Reading)},
        "timeseries": {"timeField": "at", "metaField": "sensor", "granularity": "minutes"},
    }
    assert [spec.name for spec in plan.indexes["items"].create] == ["name_1"]
    assert not plan.changes_nothing
    assert json.loads(json.dumps(plan.to_dict(), default=str))["changes_nothing"] is False
    assert "+ create collection readings" in str(plan)
    assert await catalogue.list_collection_names() == []  # a plan changes nothing


async def test_after_ensure_the_plan_is_empty(catalogue: Catalogue) -> None:
    declare(catalogue)
    await catalogue.ensure()
    plan = await catalogue.plan()
    assert plan.changes_nothing, str(plan)
    assert [c.action for c in plan.collections] == ["unchanged", "unchanged"]
    assert str(plan).startswith("schema plan: nothing to do")
    await catalogue.ensure()  # and running it again is harmless


async def test_a_changed_validator_is_one_coll_mod(catalogue_factory: Any) -> None:
    async with catalogue_factory() as first:
        declare(first)
        await first.ensure()
    async with catalogue_factory() as second:
        declare(second, validator=False)  # the validator is no longer declared
        plan = await second.plan()
        (change,) = [c for c in plan.collections if c.action != "unchanged"]
        assert change.action == "modify"
        assert change.command == {"collMod": "readings", "validator": {}}
        await second.ensure()
        assert (await second.plan()).changes_nothing
        options = await options_of(second, "readings")
        assert not options.get("validator")


async def test_a_changed_time_series_option_is_a_conflict(catalogue_factory: Any) -> None:
    async with catalogue_factory() as first:
        declare(first)
        await first.ensure()
    async with catalogue_factory() as second:
        declare(second, granularity="hours")
        plan = await second.plan()
        (change,) = [c for c in plan.collections if c.action != "unchanged"]
        assert change.action == "conflict"
        assert "time series" in change.reasons[0]
        assert "copy the documents" in change.reasons[-1]  # the fix
        with pytest.raises(IndexConflict, match="nothing was changed"):
            await second.ensure()
        assert (await options_of(second, "readings"))["timeseries"]["granularity"] == "minutes"


async def test_collection_options_on_cat_collection_declare_it(catalogue: Catalogue) -> None:
    readings = catalogue.collection(
        "readings", Reading, validator=True, timeseries=TimeSeries("at", meta_field="sensor")
    )
    assert readings.name == "readings"
    catalogue.collection("readings", Reading)  # no options: the declaration stays
    with pytest.raises(ConfigurationError, match="declared twice"):
        catalogue.collection("readings", Reading, capped=Capped(4096))
    with pytest.raises(ConfigurationError, match="unknown collection option"):
        catalogue.collection("other", **{"validater": True})  # type: ignore[call-overload]
    (change,) = (await catalogue.plan()).collections
    assert (change.name, change.action) == ("readings", "create")
    await catalogue.ensure()
    assert (await options_of(catalogue, "readings"))["timeseries"]["timeField"] == "at"


async def test_a_changed_ttl_is_one_coll_mod_of_the_index(catalogue_factory: Any) -> None:
    async with catalogue_factory() as first:
        first.register_indexes("sessions", Index.ttl("seen", expire_after=3600))
        await first.ensure()
    async with catalogue_factory() as second:
        second.register_indexes("sessions", Index.ttl("seen", expire_after=60))
        plan = await second.plan()
        assert plan.index_changes == (
            {"collMod": "sessions", "index": {"name": "seen_1", "expireAfterSeconds": 60}},
        )
        assert plan.conflicts == ()
        assert "~ modify index seen_1 on sessions" in str(plan)
        await second.ensure()
        assert (await second.plan()).changes_nothing
        (ttl,) = [
            i for i in await second.collection("sessions").indexes.list() if i.name == "seen_1"
        ]
        assert ttl.options["expireAfterSeconds"] == 60


@pytest.mark.server_feature("hide_index")
async def test_hiding_an_index_is_one_coll_mod(catalogue_factory: Any) -> None:
    async with catalogue_factory() as first:
        first.register_indexes("items", Index("name"))
        await first.ensure()
    async with catalogue_factory() as second:
        second.register_indexes("items", Index("name", hidden=True))
        plan = await second.plan()
        assert plan.index_changes == (
            {"collMod": "items", "index": {"name": "name_1", "hidden": True}},
        )
        await second.ensure()
        assert (await second.plan()).changes_nothing
