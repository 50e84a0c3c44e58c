"""Authentication and TLS against servers started for these tests, on both drivers."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest
import trustme

from mongocat import AuthenticationFailed, Catalogue, OperationFailed, ServerUnavailable
from mongocat.embedded import EmbeddedServer

PASSWORD = "s3cret-Pa55word!"


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """A server with --auth and one user, made the documented way: create it, restart."""
    data = tmp_path_factory.mktemp("auth-data")
    with EmbeddedServer(storage_path=data) as setup:
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(setup.uri)
        client.admin.command("createUser", "ann", pwd=PASSWORD, roles=["root"])
        client.close()
    server = EmbeddedServer(storage_path=data, extra_args=["--auth"])
    with server:
        yield server


def uri_for(server: EmbeddedServer, user: str, password: str) -> str:
    return f"mongodb://{user}:{password}@{server.host}:{server.port}/shop?authSource=admin"


async def test_the_right_credentials_work(
    auth_server: EmbeddedServer, mongocat_driver: Any
) -> None:
    async with Catalogue.connect(
        uri_for(auth_server, "ann", PASSWORD), driver=mongocat_driver
    ) as cat:
        await cat.collection("items").insert_one({"_id": 1})
        assert await cat.collection("items").count() == 1
        assert PASSWORD not in repr(cat)
        await cat.client.drop_database("shop")


async def test_a_wrong_password_is_a_clear_error_without_the_password(
    auth_server: EmbeddedServer, mongocat_driver: Any
) -> None:
    wrong = "not-the-Pa55word"
    async with Catalogue.connect(
        uri_for(auth_server, "ann", wrong), driver=mongocat_driver, serverSelectionTimeoutMS=3000
    ) as cat:
        with pytest.raises(AuthenticationFailed) as info:
            await cat.collection("items").find_one({})
        assert wrong not in repr(cat)
    error = info.value
    assert error.code == 18
    assert "authSource" in str(error)
    for text in (str(error), repr(error), error.message):
        assert wrong not in text
        assert PASSWORD not in text


async def test_no_credentials_is_refused_by_the_server(
    auth_server: EmbeddedServer, mongocat_driver: Any
) -> None:
    async with Catalogue.connect(
        f"mongodb://{auth_server.host}:{auth_server.port}/shop", driver=mongocat_driver
    ) as cat:
        with pytest.raises(OperationFailed) as info:
            await cat.collection("items").find_one({})
    assert info.value.code == 13  # Unauthorized


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA made for the test, a server certificate it signed, and an unrelated CA."""
    folder = tmp_path_factory.mktemp("tls")
    ca, other = trustme.CA(), trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    files = {
        "ca": folder / "ca.pem",
        "other": folder / "other-ca.pem",
        "cert": folder / "server.pem",
        "key": folder / "server.key",
    }
    ca.cert_pem.write_to_path(str(files["ca"]))
    other.cert_pem.write_to_path(str(files["other"]))
    leaf.cert_chain_pems[0].write_to_path(str(files["cert"]))
    leaf.private_key_pem.write_to_path(str(files["key"]))
    return files


@pytest.fixture(scope="module")
def tls_server(tls_files: dict[str, Path]) -> Iterator[EmbeddedServer]:
    with EmbeddedServer(
        tls_cert_file=tls_files["cert"], tls_key_file=tls_files["key"], tls_ca_file=tls_files["ca"]
    ) as server:
        yield server


async def test_tls_with_the_right_ca_works(
    tls_server: EmbeddedServer, tls_files: dict[str, Path], mongocat_driver: Any
) -> None:
    assert f"tlsCAFile={tls_files['ca']}" in tls_server.uri
    async with Catalogue.connect(tls_server.uri, "shop", driver=mongocat_driver) as cat:
        await cat.ping()


async def test_tls_with_the_wrong_ca_is_a_clear_error(
    tls_server: EmbeddedServer, tls_files: dict[str, Path], mongocat_driver: Any
) -> None:
    uri = f"mongodb://127.0.0.1:{tls_server.port}/shop?tls=true&tlsCAFile={tls_files['other']}"
    async with Catalogue.connect(uri, driver=mongocat_driver, serverSelectionTimeoutMS=1500) as cat:
        with pytest.raises(ServerUnavailable, match="tlsCAFile"):
            await cat.ping()
