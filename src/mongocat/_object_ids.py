"""New ObjectIds for documents inserted without an ``_id``, many at a time.

Like the drivers, mongocat gives each document it inserts without an ``_id`` a new
ObjectId before sending it, so that the caller's document holds its ``_id`` and a
resent write cannot store it twice. ``bson.ObjectId()`` makes one in Python with a
lock, the clock and the process id each time, which costs more than the rest of the
driver's work on a small document; this module makes a batch's ids under one lock
and one reading of the clock.

The ids follow MongoDB's ObjectID specification: a 4-byte big-endian timestamp in
seconds, a 5-byte random value unique to the process (drawn again in a forked
child), and a 3-byte big-endian counter that starts at a random value and wraps.
The random value is this module's own, not ``bson``'s: ids from the two sources
differ in it, so they cannot collide with each other either.
"""

import os
import threading
import time
from collections import deque
from collections.abc import MutableMapping, Sequence
from itertools import repeat
from operator import setitem
from typing import Any, Final

from bson import ObjectId

__all__ = ["give_ids", "new_object_ids", "take_back_ids"]

_COUNTER_MASK: Final = 0xFFFFFF


class _Source:
    """This process's random value and counter, behind one lock."""

    __slots__ = ("counter", "lock", "pid", "random")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pid = 0
        self.random = b""
        self.counter = 0

    def take(self, count: int) -> tuple[bytes, int]:
        """The first 9 bytes of ``count`` new ids, and the first of their counters."""
        with self.lock:
            pid = os.getpid()
            if pid != self.pid:  # a new process (or a forked child): a new random value
                self.pid, self.random = pid, os.urandom(5)
                self.counter = int.from_bytes(os.urandom(3), "big")
            first = self.counter
            self.counter = (first + count) & _COUNTER_MASK
            random = self.random
        return (int(time.time()) & 0xFFFFFFFF).to_bytes(4, "big") + random, first


_SOURCE: Final = _Source()


def new_object_ids(count: int) -> list[ObjectId]:
    """``count`` new ObjectIds, in the order of their counters."""
    prefix, first = _SOURCE.take(count)
    if first + count <= _COUNTER_MASK + 1:
        return [ObjectId(prefix + c.to_bytes(3, "big")) for c in range(first, first + count)]
    return [
        ObjectId(prefix + (c & _COUNTER_MASK).to_bytes(3, "big"))
        for c in range(first, first + count)
    ]


def give_ids(documents: Sequence[Any]) -> Sequence[ObjectId | None]:
    """Give each mutable document without an ``_id`` a new one, as the drivers do.

    Returns the ``_id`` given to each document, None where it had one (or is not
    a mutable mapping, such as a ``RawBSONDocument``: the driver sends those as
    they are, and the server gives one).
    """
    if len(documents) == 1:  # one insert: bson's own ObjectId() costs less than a batch
        document = documents[0]
        if (type(document) is dict or isinstance(document, MutableMapping)) and (
            "_id" not in document
        ):
            document["_id"] = own = ObjectId()
            return [own]
        return [None]
    lacking = [
        (type(document) is dict or isinstance(document, MutableMapping)) and "_id" not in document
        for document in documents
    ]
    count = sum(lacking)
    if not count:
        return [None] * len(documents)
    ids = new_object_ids(count)
    if count == len(documents):  # the common case: set them all at C speed
        deque(map(setitem, documents, repeat("_id"), ids), maxlen=0)
        return ids
    given: list[ObjectId | None] = []
    fresh = iter(ids)
    for document, lacks in zip(documents, lacking, strict=True):
        if lacks:
            document["_id"] = own = next(fresh)
            given.append(own)
        else:
            given.append(None)
    return given


def take_back_ids(documents: Sequence[Any], given: Sequence[ObjectId | None]) -> None:
    """Undo :func:`give_ids` for documents that were not sent after all."""
    for document, own_id in zip(documents, given, strict=True):
        if own_id is not None:
            del document["_id"]
