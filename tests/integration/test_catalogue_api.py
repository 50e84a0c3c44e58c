"""The example FastAPI catalogue service, end to end over ASGI, on both drivers."""

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from examples.catalogue_api.app import MAX_IMAGE_BYTES, create_app
from fastapi import FastAPI
from httpx_ws import aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from mongocat import Catalogue

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def app(catalogue: Catalogue) -> AsyncIterator[FastAPI]:
    """The app, its lifespan running around the test's Catalogue."""
    application = create_app(catalogue)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the app, over ASGI."""
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://catalogue.test") as client:
        yield client


def product(sku: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sku": sku,
        "name": f"Product {sku}",
        "price": 10.0,
        "category": "tools",
        "stock": 5,
        "tags": ["steel"],
        "description": "A sturdy thing",
    }
    return {**body, **changes}


async def seed(api: httpx.AsyncClient) -> None:
    for body in [
        product("W-1", name="Widget", price=9.5, tags=["steel", "small"]),
        product("G-1", name="Gadget", price=25.0, category="garden", description="Green", tags=[]),
        product("H-1", name="Hammer", price=15.0, tags=["steel", "heavy"]),
        product("R-1", name="Rake", price=12.0, category="garden", tags=["wood"]),
    ]:
        response = await api.post("/products", json=body)
        assert response.status_code == 201, response.text


def problem_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def test_create_read_and_duplicate(api: httpx.AsyncClient) -> None:
    created = await api.post("/products", json=product("W-1"))
    assert created.status_code == 201
    body = created.json()
    assert len(body["id"]) == 24
    assert body["has_image"] is False
    fetched = await api.get("/products/W-1")
    assert fetched.status_code == 200
    assert fetched.json() == body
    duplicate = problem_of(await api.post("/products", json=product("W-1")), 409)
    assert duplicate["fields"] == ["sku"]
    assert duplicate["detail"] == "a resource with the same unique key already exists"
    assert len(duplicate["request_id"]) == 32


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(product("W-1", price=0), id="price-not-positive"),
        pytest.param(product("W-1", stock=-1), id="negative-stock"),
        pytest.param(product("W-1", stock=2**70), id="stock-beyond-64-bits"),
        pytest.param(product("w 1"), id="bad-sku"),
        pytest.param({k: v for k, v in product("W-1").items() if k != "name"}, id="no-name"),
        pytest.param(product("W-1", colour="red"), id="unknown-field"),
        pytest.param({**product("W-1"), "sku": {"$gt": ""}}, id="operator-as-sku"),
        pytest.param(product("W-1", price={"$gt": 0}), id="operator-as-price"),
    ],
)
async def test_invalid_bodies_are_422(api: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await api.post("/products", json=body)
    assert response.status_code == 422, response.text
    assert (await api.get("/products")).json()["items"] == []


async def test_missing_products_are_404(api: httpx.AsyncClient) -> None:
    problem_of(await api.get("/products/NOPE-1"), 404)
    problem_of(await api.patch("/products/NOPE-1", json={"price": 1.0}), 404)
    problem_of(await api.delete("/products/NOPE-1"), 404)
    problem_of(await api.get("/products/NOPE-1/image"), 404)


async def test_list_filters_search_and_sorts(api: httpx.AsyncClient) -> None:
    await seed(api)

    async def skus(**params: Any) -> list[str]:
        response = await api.get("/products", params=params)
        assert response.status_code == 200, response.text
        return [p["sku"] for p in response.json()["items"]]

    assert await skus() == ["W-1", "R-1", "H-1", "G-1"]
    assert await skus(sort="-price") == ["G-1", "H-1", "R-1", "W-1"]
    assert await skus(sort="name") == ["G-1", "H-1", "R-1", "W-1"]
    assert await skus(category="garden") == ["R-1", "G-1"]
    assert await skus(min_price=10, max_price=20) == ["R-1", "H-1"]
    assert await skus(tag="steel") == ["W-1", "H-1"]
    assert await skus(q="green") == ["G-1"]  # the description, case-insensitive
    assert await skus(q="mm") == ["H-1"]
    assert await skus(q=".*") == []  # a search term, not a pattern


async def test_keyset_pages_and_bad_tokens(api: httpx.AsyncClient) -> None:
    await seed(api)
    first = (await api.get("/products", params={"limit": 3})).json()
    assert [p["sku"] for p in first["items"]] == ["W-1", "R-1", "H-1"]
    assert first["prev"] is None
    second = (await api.get("/products", params={"limit": 3, "after": first["next"]})).json()
    assert [p["sku"] for p in second["items"]] == ["G-1"]
    assert second["next"] is None
    back = (await api.get("/products", params={"limit": 3, "before": second["prev"]})).json()
    assert [p["sku"] for p in back["items"]] == ["W-1", "R-1", "H-1"]
    tampered = first["next"][:-2] + ("AA" if not first["next"].endswith("AA") else "BB")
    problem_of(await api.get("/products", params={"after": tampered}), 400)
    other_query = await api.get("/products", params={"after": first["next"], "category": "garden"})
    problem_of(other_query, 400)


@pytest.mark.parametrize(
    "query",
    [
        "category[$ne]=x",
        "price[$gt]=0",
        "$where=1",
        "category=tools&category[$exists]=true",
    ],
)
async def test_operator_query_strings_cannot_widen_a_query(
    api: httpx.AsyncClient, query: str
) -> None:
    await seed(api)
    body = problem_of(await api.get(f"/products?{query}"), 400)
    assert "unknown query parameter" in body["detail"]


async def test_operator_looking_values_are_values(api: httpx.AsyncClient) -> None:
    await seed(api)
    response = await api.get("/products", params={"category": '{"$ne": "x"}'})
    assert response.status_code == 200
    assert response.json()["items"] == []


async def test_patch_changes_given_fields_only(api: httpx.AsyncClient) -> None:
    await api.post("/products", json=product("W-1"))
    response = await api.patch("/products/W-1", json={"price": 7.25, "tags": ["sale"]})
    assert response.status_code == 200
    body = response.json()
    assert (body["price"], body["tags"], body["name"], body["stock"]) == (
        7.25,
        ["sale"],
        "Product W-1",
        5,
    )
    for bad in ({"sku": "X-1"}, {"$set": {"price": 1}}, {"price": None}, {"price": -1}):
        assert (await api.patch("/products/W-1", json=bad)).status_code == 422, bad
    problem_of(await api.patch("/products/W-1", json={}), 400)
    assert (await api.get("/products/W-1")).json()["price"] == 7.25


async def test_delete(api: httpx.AsyncClient) -> None:
    await api.post("/products", json=product("W-1"))
    assert (await api.delete("/products/W-1")).status_code == 204
    problem_of(await api.get("/products/W-1"), 404)


async def test_images_stream_with_ranges(api: httpx.AsyncClient) -> None:
    await api.post("/products", json=product("W-1"))
    image = bytes(range(256)) * 4_000  # 1 MB: several GridFS chunks
    stored = await api.put(
        "/products/W-1/image", content=image, headers={"content-type": "image/png"}
    )
    assert stored.status_code == 201, stored.text
    assert stored.json()["length"] == len(image)
    whole = await api.get("/products/W-1/image")
    assert whole.status_code == 200
    assert whole.content == image
    assert whole.headers["content-type"] == "image/png"
    assert whole.headers["accept-ranges"] == "bytes"
    part = await api.get("/products/W-1/image", headers={"Range": "bytes=300000-300099"})
    assert part.status_code == 206
    assert part.content == image[300_000:300_100]
    assert part.headers["content-range"] == f"bytes 300000-300099/{len(image)}"
    tail = await api.get("/products/W-1/image", headers={"Range": "bytes=-10"})
    assert (tail.status_code, tail.content) == (206, image[-10:])
    problem_of(await api.get("/products/W-1/image", headers={"Range": f"bytes={len(image)}-"}), 416)
    problem_of(await api.get("/products/W-1/image", headers={"Range": "lines=1-2"}), 416)
    assert (await api.get("/products/W-1")).json()["has_image"] is True
    replaced = await api.put("/products/W-1/image", content=b"small")
    assert replaced.status_code == 201
    assert (await api.get("/products/W-1/image")).content == b"small"


async def test_an_oversized_image_is_413_and_stores_nothing(
    api: httpx.AsyncClient, catalogue: Catalogue
) -> None:
    await api.post("/products", json=product("W-1"))
    too_big = b"\0" * (MAX_IMAGE_BYTES + 1)
    problem_of(await api.put("/products/W-1/image", content=too_big), 413)
    assert await catalogue.collection("images.chunks").count() == 0
    assert await catalogue.collection("images.files").count() == 0


async def test_stats_per_category(api: httpx.AsyncClient) -> None:
    await seed(api)
    response = await api.get("/stats")
    assert response.json() == [
        {"category": "garden", "count": 2, "average_price": 18.5},
        {"category": "tools", "count": 2, "average_price": 12.25},
    ]


async def test_the_websocket_feed_receives_changes(app: FastAPI, api: httpx.AsyncClient) -> None:
    await api.post("/products", json=product("SEED-1"))  # the collection exists
    async with (
        httpx.AsyncClient(
            transport=ASGIWebSocketTransport(app), base_url="http://catalogue.test"
        ) as socket_client,
        aconnect_ws("/changes", socket_client) as ws,
    ):
        assert await asyncio.wait_for(ws.receive_json(), 10) == {"ready": True}
        await api.post("/products", json=product("W-1", price=3.5))
        inserted = await asyncio.wait_for(ws.receive_json(), 10)
        await api.patch("/products/W-1", json={"price": 4.0})
        updated = await asyncio.wait_for(ws.receive_json(), 10)
    assert (inserted["op"], inserted["sku"], inserted["price"]) == ("insert", "W-1", 3.5)
    assert (updated["op"], updated["sku"], updated["price"]) == ("update", "W-1", 4.0)
    assert len(inserted["id"]) == 24


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_schemathesis_finds_no_server_errors(
    mongocat_server_uri: str, mongocat_driver: str, mongocat_database_name: str, tmp_path: Path
) -> None:
    """A bounded property-based run over the app's OpenAPI schema: no response is a 500."""
    port = _free_port()
    env = {
        **os.environ,
        "MONGOCAT_URI": mongocat_server_uri,
        "MONGOCAT_DATABASE": mongocat_database_name,
        "MONGOCAT_DRIVER": mongocat_driver,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "examples.catalogue_api.app:app", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "the app did not start"
                time.sleep(0.2)
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "run",
                f"http://127.0.0.1:{port}/openapi.json",
                "--checks",
                "not_a_server_error",
                "--max-examples",
                "15",
                "--seed",
                "1",
            ],
            # Its example database (.schemathesis/) goes to a scratch folder: every run
            # starts from the same seed alone, and the work tree stays clean.
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        server.terminate()
        server.wait(timeout=15)
        if server.stderr is not None:
            server.stderr.close()
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


async def test_text_that_cannot_be_stored_is_422_not_500(api: httpx.AsyncClient) -> None:
    # Found by schemathesis: JSON allows lone surrogates, UTF-8 (and BSON) does not.
    response = await api.post(
        "/products",
        content=b'{"sku": "W-1", "name": "bad \\udc11", "price": 1, "category": "tools"}',
        headers={"content-type": "application/json"},
    )
    problem_of(response, 422)
    assert (await api.get("/products")).json()["items"] == []


async def test_the_app_records_a_span_per_database_operation_when_asked(
    catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MONGOCAT_TELEMETRY", "console")
    application = create_app(catalogue)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            created = await client.post("/products", json=product("W-1"))
            assert created.status_code == 201
    printed = capsys.readouterr().out
    assert '"name": "insert_one products"' in printed
    assert '"db.system.name": "mongodb"' in printed
    # The lifespan's end stops the recording of the Catalogue it was given.
    assert catalogue._handle.observer is None


async def test_the_app_refuses_an_unknown_telemetry_kind(
    catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONGOCAT_TELEMETRY", "jaegr")
    application = create_app(catalogue)
    with pytest.raises(ValueError, match="'console' or 'otlp'"):
        async with application.router.lifespan_context(application):
            pass
