"""The request deadline middleware, without a database: what each request is given."""

import asyncio
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mongocat import ConfigurationError, Deadline
from mongocat._deadlines import current, expired
from mongocat.fastapi import install_error_handlers, install_request_deadline


@pytest.fixture
def app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    install_request_deadline(app, 0.3, retry_after=2)

    @app.get("/deadline")
    async def deadline() -> Any:
        given = current()
        assert given is not None
        return {"seconds": given.seconds, "set_by": given.origin}

    @app.get("/stuck")
    async def stuck() -> Any:
        await asyncio.sleep(5)  # not a mongocat call: the backstop ends it

    return app


async def get(app: FastAPI, path: str, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        return await client.get(path, headers=headers)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [(None, 0.3), ("0.1", 0.1), ("10", 0.3), ("-1", 0.3), ("nan", 0.3), ("soon", 0.3)],
)
async def test_a_client_may_shorten_the_deadline_never_lengthen_it(
    app: FastAPI, header: str | None, seconds: float
) -> None:
    headers = {} if header is None else {"X-Request-Timeout": header}
    body = (await get(app, "/deadline", **headers)).json()
    assert body["seconds"] == seconds
    assert body["set_by"] == f"the request deadline ({seconds:g} s)"


async def test_an_endpoint_stuck_past_its_deadline_answers_503(app: FastAPI) -> None:
    started = time.monotonic()
    response = await get(app, "/stuck")
    assert time.monotonic() - started < 0.3 + 0.1 + 0.25
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "2"
    assert (
        response.json()["detail"] == "the request did not finish within its deadline; retry later"
    )
    assert response.headers["x-request-id"] == response.json()["request_id"]


def test_the_deadline_must_be_positive() -> None:
    with pytest.raises(ConfigurationError, match="positive number of seconds"):
        install_request_deadline(FastAPI(), 0)


async def test_without_error_handlers_a_timeout_is_still_a_503() -> None:
    app = FastAPI()
    install_request_deadline(app, 0.3)

    @app.get("/late")
    async def late() -> Any:
        raise expired(Deadline(0.0, 0.3, "the request deadline (0.3 s)"), "find_one")

    response = await get(app, "/late")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    tiny = await get(app, "/late", **{"X-Request-Timeout": "1e-12"})
    assert tiny.status_code == 503
