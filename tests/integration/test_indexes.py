"""Index management over the wire, on both drivers."""

from typing import Any

import pytest

from mongocat import (
    Catalogue,
    DuplicateKeyError,
    F,
    Filter,
    Index,
    IndexConflict,
    InvalidQuery,
    Sort,
)


def names(infos: Any) -> list[str]:
    return sorted(i.name for i in infos)


async def test_ensure_creates_once_and_is_then_a_no_op(catalogue: Catalogue) -> None:
    products = catalogue.collection("products")
    specs = (Index("sku", unique=True), Index(("category", 1), ("price", -1)))
    first = await products.indexes.ensure(*specs)
    assert [s.name for s in first.create] == ["sku_1", "category_1_price_-1"]
    listed = await products.indexes.list()
    assert names(listed) == ["_id_", "category_1_price_-1", "sku_1"]
    by_name = {i.name: i for i in listed}
    assert list(by_name["category_1_price_-1"].key.items()) == [("category", 1), ("price", -1)]
    assert by_name["sku_1"].options == {"unique": True}
    second = await products.indexes.ensure(*specs)
    assert second.changes_nothing
    assert names(second.unchanged) == ["category_1_price_-1", "sku_1"]
    assert names(await products.indexes.list()) == names(listed)


async def test_changed_option_is_a_conflict_naming_both_settings(catalogue: Catalogue) -> None:
    products = catalogue.collection("products")
    await products.indexes.ensure(Index("sku"))
    with pytest.raises(IndexConflict) as info:
        await products.indexes.ensure(Index("sku", unique=True))
    message = str(info.value)
    assert "'sku_1'" in message
    assert "{'unique': True} declared, {} on the server" in message
    assert info.value.conflicts[0].existing.name == "sku_1"
    # Nothing was changed.
    assert [i.options for i in await products.indexes.list() if i.name == "sku_1"] == [{}]


async def test_changed_key_order_or_direction_is_a_conflict(catalogue: Catalogue) -> None:
    products = catalogue.collection("products")
    await products.indexes.ensure(Index(("a", 1), ("b", 1), name="ab"))
    for changed in (Index(("b", 1), ("a", 1), name="ab"), Index(("a", 1), ("b", -1), name="ab")):
        plan = await products.indexes.plan(changed)
        assert len(plan.conflicts) == 1
        assert "keys" in plan.conflicts[0].reason


async def test_drop_unknown_drops_only_undeclared_and_never_id(catalogue: Catalogue) -> None:
    products = catalogue.collection("products")
    await products.indexes.ensure(Index("a"), Index("b"), Index("c"))
    plan = await products.indexes.sync(Index("a"), drop_unknown=True)
    assert names(plan.drop) == ["b_1", "c_1"]
    assert names(await products.indexes.list()) == ["_id_", "a_1"]
    everything = await products.indexes.sync(drop_unknown=True)
    assert names(everything.drop) == ["a_1"]
    assert names(await products.indexes.list()) == ["_id_"]
    with pytest.raises(InvalidQuery, match="_id_ index cannot be dropped"):
        await products.indexes.drop("_id_")


async def test_dry_run_changes_nothing(catalogue: Catalogue) -> None:
    products = catalogue.collection("products")
    await products.indexes.ensure(Index("a"), Index("b"))
    before = await products.indexes.list()
    plan = await products.indexes.sync(
        Index("a", unique=True), Index("z"), drop_unknown=True, dry_run=True
    )
    assert [s.name for s in plan.create] == ["z_1"]
    assert names(plan.drop) == ["b_1"]
    assert [d.existing.name for d in plan.conflicts] == ["a_1"]
    assert await products.indexes.list() == before


async def test_sync_rebuilds_conflicts_when_asked(catalogue: Catalogue) -> None:
    products = catalogue.collection("products")
    await products.indexes.ensure(Index("sku"))
    with pytest.raises(IndexConflict):
        await products.indexes.sync(Index("sku", unique=True))
    await products.indexes.sync(Index("sku", unique=True), rebuild_conflicts=True)
    assert [i.options for i in await products.indexes.list() if i.name == "sku_1"] == [
        {"unique": True}
    ]


@pytest.mark.server_feature("hide_index")
async def test_hide_before_drop_hides(catalogue: Catalogue) -> None:
    products = catalogue.collection("products")
    await products.indexes.ensure(Index("a"), Index("b"))
    await products.indexes.sync(Index("a"), drop_unknown=True, hide_before_drop=True)
    listed = {i.name: i for i in await products.indexes.list()}
    assert set(listed) == {"_id_", "a_1", "b_1"}
    assert listed["b_1"].options == {"hidden": True}
    await products.indexes.hide("b_1", hidden=False)
    assert {i.name: i.options for i in await products.indexes.list()}["b_1"] == {}


async def test_hidden_index_is_created_hidden_and_compared(catalogue: Catalogue) -> None:
    products = catalogue.collection("products")
    await products.indexes.ensure(Index("b", hidden=True))
    assert {i.name: i.options for i in await products.indexes.list()}["b_1"] == {"hidden": True}
    plan = await products.indexes.plan(Index("b"))
    assert [d.existing.name for d in plan.conflicts] == ["b_1"]


async def test_options_survive_the_round_trip(catalogue: Catalogue) -> None:
    users = catalogue.collection("users")
    specs = (
        Index("email", unique=True, partial_filter=F.email.exists(), name="email_u"),
        Index("nick", collation={"locale": "en", "strength": 2}),
        Index("session", sparse=True),
        Index.ttl("created", expire_after=3600),
    )
    await users.indexes.ensure(*specs)
    assert (await users.indexes.ensure(*specs)).changes_nothing


async def test_unique_index_duplicate_names_index_and_key(catalogue: Catalogue) -> None:
    products = catalogue.collection("products")
    await products.indexes.ensure(Index("sku", unique=True))
    await products.insert_one({"sku": "W-1"})
    with pytest.raises(DuplicateKeyError) as info:
        await products.insert_one({"sku": "W-1"})
    assert (info.value.index_name, info.value.key_value) == ("sku_1", {"sku": "W-1"})


async def test_declared_indexes_are_ensured_at_startup(catalogue: Catalogue) -> None:
    catalogue.collection("products", indexes=[Index("sku", unique=True)])
    catalogue.register_indexes("orders", Index(("customer", 1), ("date", -1)))
    plans = await catalogue.ensure_indexes()
    assert {name: [s.name for s in p.create] for name, p in plans.items()} == {
        "products": ["sku_1"],
        "orders": ["customer_1_date_-1"],
    }
    again = await catalogue.ensure_indexes()
    assert all(p.changes_nothing for p in again.values())


async def test_explain_reports_index_scan_and_collection_scan(catalogue: Catalogue) -> None:
    products = catalogue.collection("products")
    await products.insert_many([{"sku": f"S-{i}", "name": f"n{i}"} for i in range(50)])
    await products.indexes.ensure(Index("sku"))
    indexed = await products.find(F.sku == "S-7").explain()
    assert (indexed.stage, indexed.index_name) == ("IXSCAN", "sku_1")
    unindexed = await products.find(F.name == "n7").explain()
    assert (unindexed.stage, unindexed.index_name) == ("COLLSCAN", None)
    summary = await products.assert_uses_index(F.sku == "S-7", index="sku_1")
    assert summary.uses_index
    with pytest.raises(AssertionError, match="uses no index"):
        await products.assert_uses_index(F.name == "n7")
    with pytest.raises(AssertionError, match="not 'other_1'"):
        await products.assert_uses_index(F.sku == "S-7", index="other_1", sort=Sort.asc("sku"))


@pytest.mark.server_feature("text_index")
async def test_text_index_is_ensured_once_and_searched(catalogue: Catalogue) -> None:
    articles = catalogue.collection("articles")
    spec = Index.text("title", "body", weights={"title": 5})
    await articles.indexes.ensure(spec)
    assert (await articles.indexes.ensure(spec)).changes_nothing
    await articles.insert_many(
        [{"title": "coffee", "body": "x"}, {"title": "tea", "body": "coffee"}]
    )
    assert await articles.count(Filter.text("coffee")) == 2
