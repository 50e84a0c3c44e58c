"""A pytest plugin: a MongoDB server for the test session and a fresh database per test.

Enable it in ``conftest.py`` with ``pytest_plugins = ["mongocat.testing"]`` (or
``-p mongocat.testing``). It needs ``pip install 'mongocat-async[testing]'``.

Which server:
    When ``MONGOCAT_TEST_URI`` is set, tests use that server with the driver's
    defaults. Otherwise the plugin starts an :class:`~mongocat.embedded.EmbeddedServer`
    once per test session (only if a test asks for it) and always stops it, also
    when tests fail or the run is interrupted; its URI turns retryable writes off
    (the stand-in's per-write cost grows with every retryable write it serves),
    unless ``MONGOCAT_TEST_RETRY_WRITES=1`` keeps the drivers' default (on), so that
    the write-semantics tests also run as a real server would see them.

Fixtures:
    ``mongocat_server_uri``: the connection string (session scope).
    ``mongocat_server_features``: what the server supports, probed once.
    ``mongocat_driver``: ``"motor"`` and ``"pymongo"``; a test that uses it runs once
    per driver.
    ``catalogue``: a :class:`~mongocat.Catalogue` on ``mongocat_driver`` with a
    fresh, uniquely named database, dropped after the test.
    ``catalogue_factory``: ``catalogue_factory(**client_options)`` makes more
    Catalogues on the same server, driver and database, with client options of the
    test's own (``event_listeners=[...]``, ``timeoutMS=...``); the database is
    dropped after the test.

Helpers:
    :class:`CommandRecorder` records the commands a client sends, to assert on what
    went over the wire; :func:`fail_point` injects a server failure for a block
    (mongod's ``failCommand``), the way MongoDB's own driver tests do.

Markers:
    ``@pytest.mark.server_feature("text_index")`` skips the test, with the reason,
    when the server lacks the feature. The server is probed, never identified by name.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pymongo
import pymongo.errors
import pytest
import pytest_asyncio
from pymongo import monitoring

from ._catalogue import Catalogue
from ._driver import DRIVER_NAMES
from ._types import DriverName
from .embedded import EmbeddedServer

__all__ = [
    "CommandRecorder",
    "ServerFeatures",
    "catalogue",
    "catalogue_factory",
    "fail_point",
    "mongocat_driver",
    "mongocat_server_features",
    "mongocat_server_uri",
]

#: The environment variable that points the tests at a real server.
TEST_URI_VARIABLE = "MONGOCAT_TEST_URI"
#: The environment variable that keeps retryable writes on against the embedded server.
RETRY_WRITES_VARIABLE = "MONGOCAT_TEST_RETRY_WRITES"


@dataclass(frozen=True)
class ServerFeatures:
    """What the test server supports, found by trying each feature once.

    Attributes:
        unsupported: Each missing feature's name, with the server's answer.
    """

    unsupported: dict[str, str] = field(default_factory=dict)

    def missing(self, feature: str) -> str | None:
        """Return why ``feature`` is unavailable, or None if the server has it."""
        if feature not in _PROBES:
            known = ", ".join(sorted(_PROBES))
            raise ValueError(f"unknown server feature {feature!r}; known: {known}")
        return self.unsupported.get(feature)


class CommandRecorder(monitoring.CommandListener):
    """Record every command a client starts, to check what was sent.

    Pass it to a client as an event listener:
    ``Catalogue.connect(uri, event_listeners=[recorder])``.

    Attributes:
        events: Each command's start event, in order.
    """

    def __init__(self) -> None:
        self.events: list[monitoring.CommandStartedEvent] = []

    def commands(self, name: str) -> list[dict[str, Any]]:
        """Return the body of every command named ``name`` (``"find"``), in order."""
        return [dict(e.command) for e in self.events if e.command_name == name]

    def clear(self) -> None:
        """Forget the commands recorded so far."""
        self.events.clear()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        """Record a command (called by the driver)."""
        self.events.append(event)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        """Ignore a success (called by the driver)."""

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        """Ignore a failure (called by the driver)."""


@asynccontextmanager
async def fail_point(
    catalogue: Catalogue,
    commands: str | list[str],
    *,
    times: int = 1,
    **data: Any,
) -> AsyncIterator[None]:
    """Make the server fail ``commands`` the next ``times`` times, inside the block.

    Sets mongod's ``failCommand`` fail point (the server must run with test commands
    enabled; mark such tests ``@pytest.mark.server_feature("fail_points")``) and
    always turns it off on exit.

    Args:
        catalogue: A Catalogue on the server to configure.
        commands: The command name(s) to fail, such as ``"insert"`` or ``"getMore"``.
        times: How many times to fail them.
        **data: The failure, as ``failCommand`` spells it: ``closeConnection=True``,
            ``errorCode=91``, ``errorLabels=[...]``, ``blockConnection=True`` with
            ``blockTimeMS=...``, ``appName=...``.

    Example:
        >>> async with fail_point(cat, "insert", closeConnection=True):  # doctest: +SKIP
        ...     await cat.collection("items").insert_one({"_id": 1})  # retried once
    """
    names = [commands] if isinstance(commands, str) else list(commands)
    admin = catalogue.client.admin
    settings: Mapping[str, Any] = {"failCommands": names, **data}
    await admin.command(
        {"configureFailPoint": "failCommand", "mode": {"times": times}, "data": settings}
    )
    try:
        yield
    finally:
        await admin.command({"configureFailPoint": "failCommand", "mode": "off"})


def _probe_text_index(db: pymongo.database.Database[dict[str, object]]) -> None:
    """Create and use a text index."""
    db.probe.create_index([("body", "text")])
    db.probe.find_one({"$text": {"$search": "probe"}})


def _probe_near_sorts_by_distance(db: pymongo.database.Database[dict[str, object]]) -> None:
    """Check that $near returns the nearest document first, as MongoDB documents."""
    db.geo.create_index([("loc", "2dsphere")])
    db.geo.insert_many(
        [
            {"_id": "far", "loc": {"type": "Point", "coordinates": [1.0, 1.0]}},
            {"_id": "near", "loc": {"type": "Point", "coordinates": [0.1, 0.1]}},
        ]
    )
    point = {"type": "Point", "coordinates": [0.0, 0.0]}
    order = [d["_id"] for d in db.geo.find({"loc": {"$near": {"$geometry": point}}})]
    if order != ["near", "far"]:
        raise pymongo.errors.OperationFailure(
            f"$near returned {order}, not nearest first (['near', 'far'])"
        )


def _probe_index_backed_sort(db: pymongo.database.Database[dict[str, object]]) -> None:
    """Check that a keyset query (a range and an $or) is sorted by an index scan."""
    db.sorted.insert_many([{"_id": i, "a": i % 3} for i in range(12)])
    db.sorted.create_index([("a", 1), ("_id", 1)])
    query = {"a": {"$gte": 1}, "$or": [{"a": {"$gt": 1}}, {"a": {"$eq": 1}, "_id": {"$gt": 4}}]}
    plan = db.sorted.find(query, sort=[("a", 1), ("_id", 1)], limit=5).explain()
    planner = plan.get("queryPlanner")
    text = repr(planner.get("winningPlan") if isinstance(planner, dict) else planner)
    if "IXSCAN" not in text or "'SORT'" in text:
        raise pymongo.errors.OperationFailure(
            "a keyset query (range and $or) is planned without an index scan, with an "
            "in-memory SORT over the whole collection"
        )


def _probe_hide_index(db: pymongo.database.Database[dict[str, object]]) -> None:
    """Check that collMod hides an index, as the index listing then shows."""
    db.hidden.create_index([("a", 1)])
    db.command({"collMod": "hidden", "index": {"name": "a_1", "hidden": True}})
    if not db.hidden.index_information()["a_1"].get("hidden"):
        raise pymongo.errors.OperationFailure(
            "collMod with index.hidden answers ok but the index is not listed as hidden"
        )


def _probe_fail_points(db: pymongo.database.Database[dict[str, object]]) -> None:
    """Check that mongod's test command configureFailPoint is enabled."""
    db.client.admin.command({"configureFailPoint": "failCommand", "mode": "off"})


def _probe_search(db: pymongo.database.Database[dict[str, object]]) -> None:
    """Check that the server has Atlas Search (lists search indexes)."""
    db.probe.insert_one({})
    list(db.probe.aggregate([{"$listSearchIndexes": {}}]))


_PROBES = {
    "search": _probe_search,
    "fail_points": _probe_fail_points,
    "hide_index": _probe_hide_index,
    "index_backed_sort": _probe_index_backed_sort,
    "text_index": _probe_text_index,
    "near_sorts_by_distance": _probe_near_sorts_by_distance,
}


def pytest_configure(config: pytest.Config) -> None:
    """Register the plugin's marker."""
    config.addinivalue_line(
        "markers",
        "server_feature(name): needs a server feature (text_index, "
        "near_sorts_by_distance, index_backed_sort, hide_index, fail_points, search); "
        "skipped, "
        "with the "
        "server's answer as the reason, on a server that lacks it",
    )


@pytest.fixture(scope="session")
def mongocat_server_uri() -> Iterator[str]:
    """The test server's connection string: ``MONGOCAT_TEST_URI``, or an embedded one."""
    uri = os.environ.get(TEST_URI_VARIABLE)
    if uri:
        yield uri
        return
    with EmbeddedServer() as server:
        if os.environ.get(RETRY_WRITES_VARIABLE) == "1":
            yield server.uri.replace("retryWrites=false", "retryWrites=true")
        else:
            yield server.uri


@pytest.fixture(scope="session")
def mongocat_server_features(mongocat_server_uri: str) -> ServerFeatures:
    """Probe the test server once for the features tests can require."""
    unsupported: dict[str, str] = {}
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(mongocat_server_uri)
    db_name = f"mongocat_probe_{uuid.uuid4().hex[:12]}"
    try:
        for name, probe in _PROBES.items():
            try:
                probe(client[db_name])
            except pymongo.errors.OperationFailure as exc:
                unsupported[name] = str(exc.details.get("errmsg", exc) if exc.details else exc)
        client.drop_database(db_name)
    finally:
        client.close()
    return ServerFeatures(unsupported)


@pytest.fixture(autouse=True)
def _mongocat_server_feature_marker(request: pytest.FixtureRequest) -> None:
    """Skip a test marked ``server_feature`` when the server lacks the feature."""
    markers = list(request.node.iter_markers("server_feature"))
    if not markers:
        return
    features: ServerFeatures = request.getfixturevalue("mongocat_server_features")
    for marker in markers:
        for feature in marker.args:
            reason = features.missing(feature)
            if reason is not None:
                pytest.skip(f"the test server lacks {feature}: {reason}")


@pytest.fixture(params=DRIVER_NAMES)
def mongocat_driver(request: pytest.FixtureRequest) -> DriverName:
    """Each driver in turn: a test that uses this runs once per driver."""
    driver: DriverName = request.param
    return driver


@pytest.fixture
def mongocat_database_name() -> str:
    """A database name no other test uses."""
    return f"mongocat_test_{uuid.uuid4().hex[:16]}"


@pytest_asyncio.fixture
async def catalogue(
    mongocat_server_uri: str, mongocat_driver: DriverName, mongocat_database_name: str
) -> AsyncIterator[Catalogue]:
    """A Catalogue on a fresh database, on each driver; the database is dropped after."""
    cat = Catalogue.connect(mongocat_server_uri, mongocat_database_name, driver=mongocat_driver)
    try:
        yield cat
    finally:
        if cat.closed:  # the test closed it: use a new client to clean up
            cat = Catalogue.connect(
                mongocat_server_uri, mongocat_database_name, driver=mongocat_driver
            )
        await cat.client.drop_database(mongocat_database_name)
        await cat.close()


@pytest_asyncio.fixture
async def catalogue_factory(
    mongocat_server_uri: str, mongocat_driver: DriverName, mongocat_database_name: str
) -> AsyncIterator[Callable[..., Catalogue]]:
    """Make Catalogues with the test's own client options; the database is dropped after."""

    def connect(**client_options: Any) -> Catalogue:
        return Catalogue.connect(
            mongocat_server_uri, mongocat_database_name, driver=mongocat_driver, **client_options
        )

    yield connect
    async with connect() as cleanup:
        await cleanup.client.drop_database(mongocat_database_name)
