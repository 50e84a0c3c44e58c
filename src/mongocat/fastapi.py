"""FastAPI integration: a lifespan that owns the Catalogue, a dependency, error handlers.

Needs ``pip install 'mongocat-async[fastapi]'``. The core of mongocat never imports this
module.

Example:
    >>> from fastapi import FastAPI  # doctest: +SKIP
    >>> from mongocat import Catalogue
    >>> from mongocat.fastapi import CatalogueDep, install_error_handlers, lifespan
    >>> app = FastAPI(lifespan=lifespan(lambda: Catalogue.connect(MONGODB_URI)))
    >>> install_error_handlers(app)
    >>> @app.get("/products/{sku}")
    ... async def product(sku: str, cat: CatalogueDep) -> dict:
    ...     return to_jsonable(await cat.collection("products").find_one_or_raise(F.sku == sku))
"""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.requests import HTTPConnection

from ._catalogue import Catalogue
from ._errors import (
    DocumentNotFound,
    DuplicateKeyError,
    InvalidDocument,
    InvalidPageToken,
    InvalidQuery,
    InvalidRange,
    MongocatError,
)

__all__ = [
    "CatalogueDep",
    "get_catalogue",
    "install_error_handlers",
    "lifespan",
    "problem",
]

_STATE = "mongocat_catalogue"

Connect = Callable[[], Catalogue | Awaitable[Catalogue]]


def lifespan(
    connect: Connect,
    *,
    ensure_indexes: bool = True,
    setup: Callable[[Catalogue], Awaitable[None]] | None = None,
    close: bool = True,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Return a FastAPI lifespan that connects at startup and closes at shutdown.

    At startup it calls ``connect()`` (a Catalogue, or a coroutine giving one), pings
    the server so that a wrong URI fails the startup rather than the first request,
    runs :meth:`mongocat.Catalogue.ensure_indexes` and then ``setup(catalogue)``; at shutdown
    it closes the Catalogue.

    Args:
        connect: Makes the Catalogue, e.g. ``lambda: Catalogue.connect(uri)``.
        ensure_indexes: Create the declared indexes at startup.
        setup: More startup work with the Catalogue (seed data, probes).
        close: Close the Catalogue at shutdown (False for one the caller owns).
    """

    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        made = connect()
        catalogue = await made if inspect.isawaitable(made) else made
        try:
            await catalogue.ping()
            if ensure_indexes:
                await catalogue.ensure_indexes()
            if setup is not None:
                await setup(catalogue)
            setattr(app.state, _STATE, catalogue)
            yield
        finally:
            if close:
                await catalogue.close()

    return run


def get_catalogue(connection: HTTPConnection) -> Catalogue:
    """The app's Catalogue (a FastAPI dependency; works for HTTP and WebSockets).

    Raises:
        RuntimeError: The app was not started with :func:`lifespan`.
    """
    catalogue = getattr(connection.app.state, _STATE, None)
    if not isinstance(catalogue, Catalogue):
        raise RuntimeError(
            "no Catalogue: create the app with FastAPI(lifespan=mongocat.fastapi.lifespan(...))"
        )
    return catalogue


#: ``cat: CatalogueDep`` in an endpoint's parameters gives the app's Catalogue.
CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]


class _ProblemResponse(JSONResponse):
    """A problem response in JSON escaped to ASCII.

    Text the client sent may hold lone surrogates, which UTF-8 cannot encode; echoing
    it must not turn a 4xx into a 500.
    """

    media_type = "application/problem+json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    """An ``application/problem+json`` response (RFC 9457)."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return _ProblemResponse(jsonable_encoder(body), status_code=status)


# Each error, the most specific first: its HTTP status and title.
_STATUSES: tuple[tuple[type[MongocatError], int, str], ...] = (
    (DuplicateKeyError, 409, "Conflict"),
    (DocumentNotFound, 404, "Not Found"),
    (InvalidRange, 416, "Range Not Satisfiable"),
    (InvalidDocument, 422, "Unprocessable Content"),
    (InvalidPageToken, 400, "Invalid page token"),
    (InvalidQuery, 400, "Invalid query"),
)


def install_error_handlers(app: FastAPI) -> None:
    """Answer mongocat's errors with problem responses instead of 500s.

    ``DuplicateKeyError`` → 409 (with the ``key``), ``DocumentNotFound`` (and GridFS's
    ``FileNotFound``) → 404, ``InvalidRange`` → 416, ``InvalidDocument`` (input that
    cannot be stored, such as text with a lone surrogate) → 422, ``InvalidPageToken``
    and ``InvalidQuery`` → 400; and request validation errors → 422 as a problem
    whose ``errors`` are FastAPI's list, escaped so that no input can make it a 500.
    Other errors keep FastAPI's default (500), so a server failure is never reported
    as the client's fault.
    """
    for error_type, status, title in _STATUSES:
        app.add_exception_handler(error_type, _handler(status, title))
    app.add_exception_handler(RequestValidationError, _invalid_request)


async def _invalid_request(request: Request, error: Exception) -> JSONResponse:
    """422 for a request that fails validation, as a problem with FastAPI's error list.

    FastAPI's own handler echoes the input, and fails (a 500) when that input holds
    text UTF-8 cannot encode; this one escapes it.
    """
    errors = error.errors() if isinstance(error, RequestValidationError) else []
    return problem(422, "Unprocessable Content", "the request is not valid", errors=errors)


def _handler(status: int, title: str) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handle(request: Request, error: Exception) -> JSONResponse:
        extra: dict[str, Any] = {}
        if isinstance(error, DuplicateKeyError) and error.key_value is not None:
            extra["key"] = {k: str(v) for k, v in error.key_value.items()}
        detail = error.message if isinstance(error, MongocatError) else str(error)
        return problem(status, title, detail, **extra)

    return handle
