"""mongocat.fastapi answers mongocat's errors with problems written for API clients.

Real errors from real operations, on both drivers: the body says what a client needs
(a safe detail, a request id), the log says what the service needs (the internal
message, under the same id), and nothing internal reaches the client.
"""

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mongocat import Catalogue, DriverName, F
from mongocat.fastapi import install_error_handlers


@pytest.fixture
async def api(
    catalogue: Catalogue, mongocat_driver: DriverName, unused_port: int
) -> AsyncIterator[httpx.AsyncClient]:
    down = Catalogue.connect(
        f"mongodb://127.0.0.1:{unused_port}/shop",
        driver=mongocat_driver,
        serverSelectionTimeoutMS=200,
    )
    products = catalogue.collection("products")
    await products.indexes.ensure()
    await products.insert_one({"_id": 1, "sku": "W-1"})
    app = FastAPI()
    install_error_handlers(app, retry_after=7)

    @app.get("/missing")
    async def missing() -> Any:
        return await products.find_one_or_raise(F.sku == "nope")

    @app.post("/duplicate")
    async def duplicate() -> Any:
        await products.insert_one({"_id": 1, "sku": "W-1"})

    @app.get("/down")
    async def unavailable() -> Any:
        return await down.collection("products").find_one({})

    @app.get("/refused")
    async def refused() -> Any:
        return await catalogue.command({"noSuchCommand": 1})

    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client
    await down.close()


def problem_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert response.headers["x-request-id"] == body["request_id"]
    return body


async def test_not_found_tells_the_client_little_and_the_log_everything(
    api: httpx.AsyncClient, catalogue: Catalogue, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mongocat.fastapi")
    body = problem_of(await api.get("/missing"), 404)
    assert body["detail"] == "the requested resource does not exist"
    text = repr(body)
    for internal in (catalogue.name, "products", "nope", "find_one", "Filter"):
        assert internal not in text
    logged = [r for r in caplog.records if getattr(r, "request_id", None) == body["request_id"]]
    assert len(logged) == 1
    assert f"{catalogue.name}.products" in logged[0].getMessage()


async def test_a_duplicate_names_the_fields_not_the_index(api: httpx.AsyncClient) -> None:
    body = problem_of(await api.post("/duplicate"), 409)
    assert body["fields"] == ["_id"]
    assert "_id_" not in body["detail"]


async def test_a_database_that_is_down_is_a_503_with_retry_after(
    api: httpx.AsyncClient,
) -> None:
    response = await api.get("/down")
    body = problem_of(response, 503)
    assert response.headers["retry-after"] == "7"
    assert body["detail"] == "the database is unavailable; retry later"
    assert "127.0.0.1" not in repr(body)


async def test_any_other_mongocat_error_is_a_500_problem_never_plain_text(
    api: httpx.AsyncClient,
) -> None:
    body = problem_of(await api.get("/refused"), 500)
    assert body["detail"] == "the request could not be completed"
    assert "noSuchCommand" not in repr(body)


async def test_a_plain_request_id_is_kept_and_anything_else_replaced(
    api: httpx.AsyncClient,
) -> None:
    kept = problem_of(await api.get("/missing", headers={"X-Request-ID": "req-42"}), 404)
    assert kept["request_id"] == "req-42"
    evil = "<script>" + "x" * 100
    replaced = problem_of(await api.get("/missing", headers={"X-Request-ID": evil}), 404)
    assert replaced["request_id"] != evil
    assert len(replaced["request_id"]) == 32
