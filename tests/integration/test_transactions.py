"""Transactions over the wire, on both drivers."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from mongocat import (
    Catalogue,
    ClientTimeout,
    Collection,
    ConfigurationError,
    DriverName,
    F,
    MongocatError,
    TransactionError,
    TransactionFailed,
    Update,
)
from mongocat._sessions import bound_session
from mongocat.testing import CommandRecorder, fail_point


class Boom(Exception):
    pass


@dataclass
class Recorded:
    """A Catalogue whose commands are recorded, and its orders (holding one seed)."""

    cat: Catalogue
    orders: Collection[dict[str, Any]]
    listener: CommandRecorder


@pytest.fixture
async def recorded(catalogue_factory: Any) -> AsyncIterator[Recorded]:
    """The orders collection exists before any transaction (a seed inserted outside)."""
    listener = CommandRecorder()
    async with catalogue_factory(event_listeners=[listener]) as cat:
        orders = cat.collection("orders")
        await orders.insert_one({"_id": "seed"})
        yield Recorded(cat, orders, listener)


async def test_commit_makes_writes_in_two_collections_visible(catalogue: Catalogue) -> None:
    orders, stock = catalogue.collection("orders"), catalogue.collection("stock")
    await stock.insert_one({"_id": "W-1", "qty": 5})
    async with catalogue.transaction() as tx:
        await orders.insert_one({"_id": 1, "sku": "W-1"})
        await stock.update_one(F._id == "W-1", Update.inc(qty=-1))
        # Reads inside the transaction see its own writes.
        assert await orders.count() == 1
        assert (await stock.find_one_or_raise(F._id == "W-1"))["qty"] == 4
        assert tx.session.in_transaction
    assert await orders.count() == 1
    assert (await stock.find_one_or_raise(F._id == "W-1"))["qty"] == 4


async def test_exception_aborts_and_propagates(catalogue: Catalogue) -> None:
    orders, stock = catalogue.collection("orders"), catalogue.collection("stock")
    await stock.insert_one({"_id": "W-1", "qty": 5})

    async def fail_inside() -> None:
        async with catalogue.transaction():
            await orders.insert_one({"_id": 1})
            await stock.update_one(F._id == "W-1", Update.inc(qty=-1))
            raise Boom

    with pytest.raises(Boom):
        await fail_inside()
    assert await orders.count() == 0
    assert (await stock.find_one_or_raise(F._id == "W-1"))["qty"] == 5


async def test_abort_ends_the_transaction_early(catalogue: Catalogue) -> None:
    orders = catalogue.collection("orders")
    await catalogue.drop_collection("orders")
    await orders.insert_one({"_id": 0})
    async with catalogue.transaction() as tx:
        await orders.insert_one({"_id": 1})
        await tx.abort()
    assert await orders.distinct("_id") == [0]


async def test_uncommitted_write_is_invisible_outside(
    catalogue: Catalogue,
    mongocat_server_uri: str,
    mongocat_driver: DriverName,
) -> None:
    orders = catalogue.collection("orders")
    await orders.insert_one({"_id": 0})
    async with Catalogue.connect(
        mongocat_server_uri, catalogue.name, driver=mongocat_driver
    ) as other:
        outside = other.collection("orders")
        async with catalogue.transaction():
            await orders.insert_one({"_id": 1})
            assert await outside.count() == 1
            assert await outside.find_one(F._id == 1) is None
        assert await outside.count() == 2


async def test_nested_transaction_is_refused(catalogue: Catalogue) -> None:
    async with catalogue.transaction():
        with pytest.raises(TransactionError, match="no nested transactions"):
            async with catalogue.transaction():
                pass


async def _driver_session(cat: Catalogue) -> Any:
    """A driver session the caller starts and holds (not bound to the task)."""
    started = cat.client.start_session()
    return await started if cat.driver == "motor" else started


async def test_explicit_session_wins(catalogue: Catalogue) -> None:
    orders = catalogue.collection("orders")
    await orders.insert_one({"_id": 0})
    plain = await _driver_session(catalogue)
    try:
        async with catalogue.transaction():
            await orders.insert_one({"_id": 1}, session=plain)  # committed on its own
            assert sorted(await orders.distinct("_id", session=plain)) == [0, 1]

        async def fail_inside() -> None:
            async with catalogue.transaction():
                await orders.insert_one({"_id": 2}, session=plain)
                await orders.insert_one({"_id": 3})
                raise Boom

        with pytest.raises(Boom):
            await fail_inside()
        assert sorted(await orders.distinct("_id")) == [0, 1, 2]
    finally:
        await plain.end_session()


async def test_a_transaction_in_a_session_block_runs_on_that_session(
    catalogue: Catalogue,
) -> None:
    orders = catalogue.collection("orders")
    await orders.insert_one({"_id": 0})

    async def fail_inside() -> None:
        async with catalogue.session() as session, catalogue.transaction() as tx:
            assert tx.session is session
            await orders.insert_one({"_id": 1}, session=session)  # in the transaction
            raise Boom

    with pytest.raises(Boom):
        await fail_inside()
    assert await orders.distinct("_id") == [0]


async def test_operation_from_another_task_is_refused(catalogue: Catalogue) -> None:
    orders = catalogue.collection("orders")
    async with catalogue.transaction():
        with pytest.raises(TransactionError, match="another task"):
            await asyncio.create_task(orders.insert_one({"_id": 1}))
    assert await orders.count() == 0


async def test_concurrent_read_modify_write_loops_retry_to_the_exact_total(
    catalogue: Catalogue,
) -> None:
    counters = catalogue.collection("counters")
    await counters.insert_one({"_id": "c", "n": 0})
    rounds = 15
    attempts = {"a": 0, "b": 0}

    async def loop(name: str) -> None:
        for _ in range(rounds):

            async def increment() -> None:
                attempts[name] += 1
                current = await counters.find_one_or_raise(F._id == "c")
                await asyncio.sleep(0.002)  # let the other loop interleave
                await counters.update_one(F._id == "c", Update.set(n=current["n"] + 1))

            await catalogue.run_transaction(increment, timeout=60)

    await asyncio.gather(loop("a"), loop("b"))
    assert (await counters.find_one_or_raise(F._id == "c"))["n"] == 2 * rounds
    # The loops really collided: some attempts were retried after a WriteConflict.
    assert attempts["a"] + attempts["b"] > 2 * rounds


async def test_run_transaction_returns_the_result(catalogue: Catalogue) -> None:
    orders = catalogue.collection("orders")

    async def create() -> str:
        await orders.insert_one({"_id": "x"})
        return "done"

    assert await catalogue.run_transaction(create) == "done"
    assert await orders.count() == 1


async def test_deadline_stops_a_function_that_always_fails_transiently(
    catalogue: Catalogue,
) -> None:
    calls = 0

    async def always_conflicts() -> None:
        nonlocal calls
        calls += 1
        await catalogue.collection("orders").insert_one({"n": calls})
        raise MongocatError("write conflict", error_labels={"TransientTransactionError"})

    with pytest.raises(TransactionFailed) as info:
        await catalogue.run_transaction(always_conflicts, timeout=0.5)
    assert info.value.attempts == calls
    assert calls > 1
    # The last attempt either failed as every other did, or started shortly before
    # the deadline and had its insert cut by it (a ClientTimeout, which the driver
    # labels transient inside a transaction): both are what CSOT prescribes.
    last = info.value.last_error
    assert "write conflict" in str(last) or (
        isinstance(last, ClientTimeout) and "deadline of 0.5 s" in str(last)
    )
    assert await catalogue.collection("orders").count() == 0  # every attempt aborted
    with pytest.raises(TransactionFailed) as capped:
        await catalogue.run_transaction(always_conflicts, timeout=30, max_attempts=3)
    assert capped.value.attempts == 3


async def test_non_transient_error_is_not_retried(catalogue: Catalogue) -> None:
    calls = 0

    async def fails() -> None:
        nonlocal calls
        calls += 1
        raise Boom

    with pytest.raises(Boom):
        await catalogue.run_transaction(fails)
    assert calls == 1


async def test_operations_in_the_block_carry_the_transaction(catalogue_factory: Any) -> None:
    listener = CommandRecorder()
    async with catalogue_factory(event_listeners=[listener]) as cat:
        orders = cat.collection("orders")
        await orders.insert_one({"_id": "before"})
        async with cat.transaction() as tx:
            await orders.insert_one({"_id": "inside"})
            await orders.find_one(F._id == "inside")
            lsid = tx.session.session_id
        await orders.insert_one({"_id": "after"})

    def commands(name: str) -> list[Any]:
        return [e.command for e in listener.events if e.command_name == name]

    inserts = commands("insert")
    assert [c["documents"][0]["_id"] for c in inserts] == ["before", "inside", "after"]
    before, inside, after = inserts
    assert inside["lsid"] == lsid
    assert "txnNumber" in inside
    assert inside["autocommit"] is False
    assert commands("find")[0]["lsid"] == lsid
    assert commands("find")[0]["txnNumber"] == inside["txnNumber"]
    # Outside the block: no autocommit flag, and not the transaction's number. A
    # retryable write carries a txnNumber of its own (retryable writes are the drivers'
    # default); without them, none. (The lsid alone tells nothing: the driver pools
    # server sessions and reuses their ids.)
    retryable = cat.client.options.retry_writes
    for outside in (before, after):
        assert "autocommit" not in outside
        assert "startTransaction" not in outside
        assert ("txnNumber" in outside) is retryable
        transaction = (inside["lsid"], inside["txnNumber"])
        assert (outside["lsid"], outside.get("txnNumber")) != transaction
    assert len(commands("commitTransaction")) == 1


async def test_session_block_is_implicit_too(catalogue: Catalogue) -> None:
    orders = catalogue.collection("orders")
    async with catalogue.session(causal_consistency=True) as session:
        await orders.insert_one({"_id": 1})
        assert await orders.find_one(F._id == 1) == {"_id": 1}
        assert session.operation_time is not None  # the session saw the operations


@pytest.mark.server_feature("fail_points")
async def test_commit_with_unknown_result_is_retried_and_applied_once(recorded: Recorded) -> None:
    cat, orders, listener = recorded.cat, recorded.orders, recorded.listener

    async def create() -> None:
        await orders.insert_one({"_id": "once"})

    # Three failed commits: the driver retries once, run_transaction again.
    async with fail_point(cat, "commitTransaction", times=3, errorCode=262):
        await cat.run_transaction(create, timeout=30)
    assert await orders.count(F._id == "once") == 1
    commits = [e for e in listener.events if e.command_name == "commitTransaction"]
    assert len(commits) == 4
    inserts = [e for e in listener.events if e.command_name == "insert"]
    assert len(inserts) == 2  # the seed, and the transaction's insert, sent once


@pytest.mark.server_feature("fail_points")
async def test_commit_is_not_retried_after_max_time_ms_expired(recorded: Recorded) -> None:
    # Convenient-transactions spec: a commit that fails with MaxTimeMSExpired is not
    # retried, although the driver labels it UnknownTransactionCommitResult.
    cat, orders, listener = recorded.cat, recorded.orders, recorded.listener

    async def create() -> None:
        await orders.insert_one({"_id": "once"})

    async with fail_point(cat, "commitTransaction", times=1, errorCode=50):
        with pytest.raises(MongocatError) as info:
            await cat.run_transaction(create, timeout=30)
    assert getattr(info.value, "code", None) == 50
    assert info.value.has_error_label("UnknownTransactionCommitResult")
    commits = [e for e in listener.events if e.command_name == "commitTransaction"]
    assert len(commits) == 1


@pytest.mark.server_feature("fail_points")
async def test_every_attempt_runs_on_one_session_with_its_causal_chain(recorded: Recorded) -> None:
    # Convenient-transactions spec: the callback is retried on the same session.
    cat, orders, listener = recorded.cat, recorded.orders, recorded.listener
    listener.clear()

    async def create() -> None:
        await orders.find_one(F._id == "seed")
        await orders.insert_one({"_id": "once"})

    async with fail_point(
        cat, "insert", times=1, errorCode=112, errorLabels=["TransientTransactionError"]
    ):
        await cat.run_transaction(create, timeout=30)
    assert await orders.count(F._id == "once") == 1
    sent = [e.command for e in listener.events if e.command_name in ("find", "insert")]
    in_transaction = [c for c in sent if "txnNumber" in c]
    assert [("find" in c, "insert" in c) for c in in_transaction] == [
        (True, False),
        (False, True),
        (True, False),
        (False, True),
    ]  # two attempts of find + insert
    assert len({c["lsid"]["id"] for c in in_transaction}) == 1
    first, retried = in_transaction[0], in_transaction[2]
    assert retried["txnNumber"] > first["txnNumber"]
    # The second attempt starts after what the first saw: readConcern.afterClusterTime.
    assert "afterClusterTime" in retried.get("readConcern", {})
    commits = [e for e in listener.events if e.command_name == "commitTransaction"]
    assert len(commits) == 1
    assert commits[0].command["lsid"]["id"] == first["lsid"]["id"]


@pytest.mark.server_feature("fail_points")
async def test_a_callback_that_ends_the_transaction_itself_is_not_committed_again(
    recorded: Recorded,
) -> None:
    cat, orders, listener = recorded.cat, recorded.orders, recorded.listener

    async def create_then_abort() -> str:
        await orders.insert_one({"_id": "dropped"})
        session = bound_session(cat.client)
        assert session is not None
        await session.abort_transaction()
        return "aborted"

    assert await cat.run_transaction(create_then_abort, timeout=30) == "aborted"
    assert await orders.count(F._id == "dropped") == 0
    assert [e for e in listener.events if e.command_name == "commitTransaction"] == []
    assert len([e for e in listener.events if e.command_name == "abortTransaction"]) == 1


def _sent(listener: CommandRecorder, name: str) -> list[dict[str, Any]]:
    return [e.command for e in listener.events if e.command_name == name]


async def test_a_session_block_gives_its_default_transaction_options(recorded: Recorded) -> None:
    # Convenient-transactions spec: options not given to the runner come from the
    # session's defaultTransactionOptions; the runner runs on that session.
    cat, orders, listener = recorded.cat, recorded.orders, recorded.listener

    async def create() -> None:
        await orders.insert_one({"_id": "defaults"})

    defaults = {"write_concern": "majority", "max_commit_time": 5}
    async with cat.session(default_transaction_options=defaults) as session:
        listener.clear()
        await cat.run_transaction(create)  # no deadline: with one, CSOT sets maxTimeMS
        (commit,) = _sent(listener, "commitTransaction")
        assert commit["writeConcern"]["w"] == "majority"
        assert commit["maxTimeMS"] == 5000
        assert commit["lsid"] == session.session_id  # the block's session, not a new one
        listener.clear()
        async with cat.transaction(write_concern=1):  # a given option wins
            await orders.insert_one({"_id": "explicit"})
        (commit,) = _sent(listener, "commitTransaction")
        assert commit["writeConcern"]["w"] == 1
        assert commit["lsid"] == session.session_id
        assert not session.has_ended
    assert await orders.count(F._id.in_(["defaults", "explicit"])) == 2


async def test_a_given_session_is_used_and_left_open(recorded: Recorded) -> None:
    cat, orders, listener = recorded.cat, recorded.orders, recorded.listener
    session = await _driver_session(cat)
    try:
        listener.clear()

        async def create() -> None:
            await orders.insert_one({"_id": "given"})

        await cat.run_transaction(create, timeout=30, session=session)
        async with cat.transaction(session=session):
            await orders.insert_one({"_id": "given-2"})
        inserts = [c for c in _sent(listener, "insert") if "txnNumber" in c]
        assert [c["lsid"] for c in inserts] == [session.session_id] * 2
        assert not session.has_ended
    finally:
        await session.end_session()


async def test_default_transaction_options_with_an_unknown_name_are_refused(
    catalogue: Catalogue,
) -> None:
    with pytest.raises(
        ConfigurationError, match=r"\['writeConcern'\].*read_concern, write_concern"
    ):
        async with catalogue.session(default_transaction_options={"writeConcern": "majority"}):
            pass
