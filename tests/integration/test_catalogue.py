"""The Catalogue over the wire, on both drivers: lifecycle, wrapping, errors."""

import socket
import time
from typing import Any

import pytest

from mongocat import (
    Catalogue,
    CatalogueClosed,
    ConfigurationError,
    DriverName,
    OperationFailed,
    ServerUnavailable,
)


def _client(uri: str, driver: DriverName) -> Any:
    if driver == "motor":
        from motor.motor_asyncio import AsyncIOMotorClient

        return AsyncIOMotorClient(uri)
    from pymongo import AsyncMongoClient

    return AsyncMongoClient(uri)


async def _close(client: Any, driver: DriverName) -> None:
    if driver == "motor":
        client.close()
    else:
        await client.close()


async def test_ping_and_driver(catalogue: Catalogue, mongocat_driver: DriverName) -> None:
    await catalogue.ping()
    assert catalogue.driver == mongocat_driver
    assert catalogue.name.startswith("mongocat_test_")
    assert catalogue.database.name == catalogue.name


async def test_database_comes_from_the_uri_path(
    mongocat_server_uri: str, mongocat_driver: DriverName
) -> None:
    base, _, query = mongocat_server_uri.partition("?")
    uri = base.rstrip("/") + "/from_path" + (f"?{query}" if query else "")
    async with Catalogue.connect(uri, driver=mongocat_driver) as cat:
        assert cat.name == "from_path"
        await cat.ping()


async def test_uri_without_database_and_no_name_is_a_clear_error(
    mongocat_server_uri: str, mongocat_driver: DriverName
) -> None:
    with pytest.raises(ConfigurationError, match="pass database='name' or put it in the URI"):
        Catalogue.connect(mongocat_server_uri, driver=mongocat_driver)


def test_unknown_driver_is_a_clear_error(mongocat_server_uri: str) -> None:
    with pytest.raises(ConfigurationError, match="unknown driver 'mongo'; use driver='motor' or"):
        Catalogue.connect(mongocat_server_uri, "db", driver="mongo")  # type: ignore[arg-type]


async def test_closed_catalogue_refuses_every_use(catalogue: Catalogue) -> None:
    products = catalogue.collection("products")
    await catalogue.close()
    assert catalogue.closed
    with pytest.raises(CatalogueClosed, match="is closed; create a new one"):
        await catalogue.ping()
    with pytest.raises(CatalogueClosed):
        catalogue.collection("products")
    with pytest.raises(CatalogueClosed):
        await products.find_one({})
    with pytest.raises(CatalogueClosed):
        await products.insert_one({"a": 1})
    with pytest.raises(CatalogueClosed):
        products.find({})
    await catalogue.close()  # closing twice is harmless
    assert "state=closed" in repr(catalogue)


async def test_context_manager_closes_the_client_it_created(
    mongocat_server_uri: str, mongocat_driver: DriverName
) -> None:
    async with Catalogue.connect(mongocat_server_uri, "db", driver=mongocat_driver) as cat:
        await cat.ping()
    assert cat.closed
    with pytest.raises(CatalogueClosed):
        await cat.ping()


async def test_wrapped_client_is_detected_and_left_open(
    mongocat_server_uri: str, mongocat_driver: DriverName, mongocat_database_name: str
) -> None:
    client = _client(mongocat_server_uri, mongocat_driver)
    try:
        async with Catalogue(client, mongocat_database_name) as cat:
            assert cat.driver == mongocat_driver
            assert cat.client is client
            await cat.collection("c").insert_one({"a": 1})
        # The Catalogue is closed; the client it was given still works.
        assert await client[mongocat_database_name].c.count_documents({}) == 1
        await client.drop_database(mongocat_database_name)
    finally:
        await _close(client, mongocat_driver)


async def test_wrapped_client_closed_when_asked(
    mongocat_server_uri: str, mongocat_driver: DriverName
) -> None:
    client = _client(mongocat_server_uri, mongocat_driver)
    cat = Catalogue(client, "db", close_client=True)
    await cat.ping()
    await cat.close()
    with pytest.raises(Exception, match=r"after close|closed"):
        await client.admin.command("ping")


def test_wrapping_something_else_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match=r"motor\.motor_asyncio\.AsyncIOMotorClient"):
        Catalogue(object(), "db")


async def test_list_and_drop_collections(catalogue: Catalogue) -> None:
    await catalogue.collection("b").insert_one({"x": 1})
    await catalogue.collection("a").insert_one({"x": 1})
    assert await catalogue.list_collection_names() == ["a", "b"]
    await catalogue.drop_collection("a")
    await catalogue.drop_collection("never-existed")
    assert await catalogue.list_collection_names() == ["b"]


async def test_command_returns_the_reply(catalogue: Catalogue) -> None:
    reply = await catalogue.command("ping")
    assert reply["ok"] == 1
    with pytest.raises(OperationFailed):
        await catalogue.command("noSuchCommandAtAll")


@pytest.mark.parametrize("name", ["", "a$b", "a\x00b"], ids=["empty", "dollar", "nul"])
def test_invalid_collection_name(catalogue: Catalogue, name: str) -> None:
    with pytest.raises(ConfigurationError, match="invalid collection name"):
        catalogue.collection(name)


async def test_session_is_passed_to_operations(catalogue: Catalogue) -> None:
    events = catalogue.collection("events")
    async with catalogue.session(causal_consistency=True) as session:
        await events.insert_one({"n": 1}, session=session)
        assert await events.count({"n": 1}, session=session) == 1
        assert session.has_ended is False
    assert session.has_ended is True


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_nothing_listening_raises_server_unavailable_within_the_timeout(
    mongocat_driver: DriverName,
) -> None:
    uri = f"mongodb://127.0.0.1:{_closed_port()}/shop"
    cat = Catalogue.connect(uri, driver=mongocat_driver, serverSelectionTimeoutMS=300)
    started = time.monotonic()
    try:
        with pytest.raises(ServerUnavailable, match="check that the server is running") as info:
            await cat.ping()
    finally:
        await cat.close()
    # A bound, not a speed measurement: it must give up near the configured 0.3 s
    # instead of hanging (the driver default would be 30 s).
    assert time.monotonic() - started < 5
    assert info.value.driver_error is not None


async def test_password_appears_in_no_repr_and_no_error(mongocat_driver: DriverName) -> None:
    uri = f"mongodb://alice:hunter2secret@127.0.0.1:{_closed_port()}/shop?authSource=admin"
    cat = Catalogue.connect(uri, driver=mongocat_driver, serverSelectionTimeoutMS=200)
    try:
        assert "hunter2secret" not in repr(cat)
        assert "alice:***@" in repr(cat)
        with pytest.raises(ServerUnavailable) as info:
            await cat.ping()
        assert "hunter2secret" not in str(info.value)
    finally:
        await cat.close()
    with pytest.raises(ConfigurationError) as bad:
        Catalogue.connect("mongodb://alice:hunter2secret@127.0.0.1:1/", driver=mongocat_driver)
    assert "hunter2secret" not in str(bad.value)
    with pytest.raises(ConfigurationError) as bad_port:
        Catalogue.connect("mongodb://alice:hunter2secret@h:99999/db", driver=mongocat_driver)
    assert "hunter2secret" not in str(bad_port.value)
