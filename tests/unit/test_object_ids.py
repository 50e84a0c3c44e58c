"""The ObjectIds mongocat gives inserted documents: the specification's format, unique."""

import os
import time
from collections import OrderedDict
from typing import Any

import pytest
from bson import ObjectId
from bson.raw_bson import RawBSONDocument
from hypothesis import given
from hypothesis import strategies as st

from mongocat import _object_ids
from mongocat._object_ids import give_ids, new_object_ids, take_back_ids


def parts(oid: ObjectId) -> tuple[int, bytes, int]:
    """An ObjectId's timestamp, process-unique random value and counter."""
    binary = oid.binary
    return int.from_bytes(binary[:4], "big"), binary[4:9], int.from_bytes(binary[9:], "big")


def test_ids_have_the_specifications_layout() -> None:
    before = int(time.time())
    ids = new_object_ids(1000)
    after = int(time.time())
    stamps, randoms, counters = zip(*map(parts, ids), strict=True)
    assert all(before <= stamp <= after for stamp in stamps)
    assert len(set(randoms)) == 1  # one random value per process
    first = counters[0]
    assert list(counters) == [(first + k) & 0xFFFFFF for k in range(1000)]
    assert len(set(ids)) == 1000
    # The next batch continues the counter: no id is made twice.
    (following,) = new_object_ids(1)
    assert parts(following)[2] == (first + 1000) & 0xFFFFFF


def test_the_random_value_is_not_bsons() -> None:
    # Ids from bson.ObjectId() and from mongocat differ in it, so they cannot collide.
    assert parts(new_object_ids(1)[0])[1] != parts(ObjectId())[1]


def test_the_counter_wraps_at_three_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    source = _object_ids._SOURCE
    new_object_ids(1)  # the source knows this process
    monkeypatch.setattr(source, "counter", 0xFFFFFE)
    counters = [parts(oid)[2] for oid in new_object_ids(4)]
    assert counters == [0xFFFFFE, 0xFFFFFF, 0, 1]
    assert source.counter == 2


def test_a_new_process_draws_its_own_random_value(monkeypatch: pytest.MonkeyPatch) -> None:
    # A forked child has the parent's memory and a new pid: the pid is checked per batch.
    parent = parts(new_object_ids(1)[0])[1]
    child_pid = _object_ids._SOURCE.pid + 1
    monkeypatch.setattr(os, "getpid", lambda: child_pid)
    child = parts(new_object_ids(1)[0])[1]
    assert child != parent
    assert parts(new_object_ids(1)[0])[1] == child  # drawn once per process


@given(st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=20))
def test_ids_never_repeat_across_batches(sizes: list[int]) -> None:
    ids = [oid for size in sizes for oid in new_object_ids(size)]
    assert len(set(ids)) == len(ids) == sum(sizes)


def test_give_ids_sets_only_the_missing_ones() -> None:
    own = ObjectId()
    documents: list[Any] = [{"a": 1}, {"_id": 7, "a": 2}, OrderedDict(a=3), {"_id": own}]
    given_ids = give_ids(documents)
    assert [given_ids[1], given_ids[3]] == [None, None]
    assert [documents[1]["_id"], documents[3]["_id"]] == [7, own]
    assert all(isinstance(given_ids[n], ObjectId) for n in (0, 2))
    assert [documents[0]["_id"], documents[2]["_id"]] == [given_ids[0], given_ids[2]]
    take_back_ids(documents, given_ids)
    assert documents == [{"a": 1}, {"_id": 7, "a": 2}, OrderedDict(a=3), {"_id": own}]


@pytest.mark.parametrize("count", [1, 2, 500])
def test_give_ids_to_a_batch_without_ids(count: int) -> None:
    documents = [{"n": n} for n in range(count)]
    given_ids = give_ids(documents)
    assert [document["_id"] for document in documents] == list(given_ids)
    assert len(set(given_ids)) == count


def test_documents_the_driver_sends_as_they_are_get_no_id() -> None:
    # A RawBSONDocument is sent as its bytes (the server gives it an _id), as by the driver.
    raw = RawBSONDocument(b"\x0c\x00\x00\x00\x10a\x00\x01\x00\x00\x00\x00")
    assert list(give_ids([raw])) == [None]
    first, second = give_ids([raw, {"a": 1}])
    assert first is None
    assert isinstance(second, ObjectId)
    assert "_id" not in raw
