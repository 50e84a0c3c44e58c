"""Deadlines without a server: checking timeouts, nesting, and what reaches the driver."""

import asyncio
import math
import time

import pymongo
import pytest
from pymongo import _csot

from mongocat import BulkWriteTimeout, ClientTimeout, ConfigurationError, Deadline
from mongocat._bulk_shared import BulkOptions
from mongocat._deadlines import bound, current, expired, scope, within


@pytest.mark.parametrize("bad", [0, -1, math.inf, math.nan, True, "2", [1]])
def test_a_timeout_must_be_a_positive_finite_number(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="positive number of seconds"):
        bound(bad, "find_one")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="positive number of seconds"):
        scope(bad, "cat.timeout({seconds})")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="positive number of seconds"):
        BulkOptions.build({"timeout": bad})  # type: ignore[typeddict-item]


def test_no_deadline_costs_nothing_and_sets_nothing() -> None:
    block = bound(None, "find_one")
    with block:
        assert current() is None
        assert _csot.get_timeout() is None
    assert bound(None, "insert_one") is block  # one shared do-nothing block


def test_a_timeout_reaches_the_driver_and_is_undone_after() -> None:
    with bound(2.0, "find_one") as deadline:
        assert isinstance(deadline, Deadline)
        assert current() is deadline
        remaining = _csot.remaining()
        assert remaining is not None
        assert 1.9 < remaining <= 2.0
    assert current() is None
    assert _csot.get_timeout() is None


def test_nesting_only_shortens() -> None:
    with scope(10, "cat.timeout({seconds})") as outer:
        assert outer.origin == "cat.timeout(10)"
        with bound(60, "find_one") as longer:
            assert longer is outer
        with bound(1, "find_one") as shorter:
            assert shorter.seconds == 1
            assert shorter.at < outer.at
            remaining = _csot.remaining()
            assert remaining is not None
            assert remaining <= 1.0
        with within(Deadline(time.monotonic() + 100, 100, "cursor"), "find") as kept:
            assert kept is outer
        assert current() is outer
    assert current() is None


def test_a_past_deadline_raises_before_anything_is_sent() -> None:
    past = Deadline(time.monotonic() - 1, 0.5, "timeout=0.5")
    expected = r"^find on 'db.c' did not finish within its deadline"
    with pytest.raises(ClientTimeout, match=expected), within(past, "find", "db.c"):
        pytest.fail("the block must not run")
    assert current() is None


def test_the_operation_that_set_the_deadline_names_the_error() -> None:
    with (
        pytest.raises(ClientTimeout) as info,
        bound(5, "download", "fs") as deadline,
        bound(None, "find_one", "db.fs.files"),
    ):
        raise expired(deadline, None, None, "127.0.0.1:1: timed out")
    message = str(info.value)
    assert message.startswith("download on 'fs' did not finish within its deadline of 5 s")
    assert "(during find_one on 'db.fs.files'; 127.0.0.1:1: timed out)" in message
    assert info.value.details["operation"] == "download on 'fs'"


def test_an_inner_shorter_deadline_keeps_its_own_name() -> None:
    with (
        pytest.raises(ClientTimeout) as info,
        bound(30, "run_transaction"),
        bound(0.5, "update_one", "db.c") as inner,
    ):
        raise expired(inner, None)
    assert str(info.value).startswith("update_one on 'db.c' did not finish")
    assert "deadline of 0.5 s" in str(info.value)


async def test_tasks_inherit_the_scope_and_cannot_leak_it() -> None:
    async def seen() -> float | None:
        deadline = current()
        return None if deadline is None else deadline.seconds

    async with scope(3, "cat.timeout({seconds})"):
        assert await asyncio.gather(seen(), seen()) == [3, 3]
    assert await seen() is None


def test_pymongo_timeout_is_what_the_driver_reads() -> None:
    # The seam relies on pymongo.timeout() being PyMongo's one CSOT context, which
    # Motor's threads see too (it copies the context into each call it submits).
    with pymongo.timeout(1.0):
        assert _csot.get_timeout() == 1.0


def test_bulk_write_timeout_is_both_errors() -> None:
    assert issubclass(BulkWriteTimeout, ClientTimeout)


def test_earlier_picks_the_earlier_deadline_and_the_first_on_a_tie() -> None:
    from mongocat._deadlines import Deadline, earlier

    soon, late, tie = Deadline(1.0, 1, "a"), Deadline(2.0, 2, "b"), Deadline(1.0, 1, "c")
    assert earlier(soon, late) is soon
    assert earlier(late, soon) is soon
    assert earlier(soon, tie) is soon
    assert earlier(None, late) is late
    assert earlier(late, None) is late
    assert earlier(None, None) is None
