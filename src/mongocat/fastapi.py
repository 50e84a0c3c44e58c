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

import asyncio
import inspect
import json
import logging
import math
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.requests import HTTPConnection

from ._catalogue import Catalogue
from ._coercion import as_timeout
from ._deadlines import scope
from ._errors import (
    ClientTimeout,
    ConfigurationError,
    DocumentNotFound,
    DuplicateKeyError,
    InvalidDocument,
    InvalidPageToken,
    InvalidQuery,
    InvalidRange,
    MongocatError,
    NetworkError,
    ServerUnavailable,
)

__all__ = [
    "CatalogueDep",
    "RequestDeadline",
    "get_catalogue",
    "install_error_handlers",
    "install_request_deadline",
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


#: Each error, the most specific first: its HTTP status, title and the detail an API
#: client is told (never the internal message: that goes to the log, with the id).
_STATUSES: tuple[tuple[type[MongocatError], int, str, str], ...] = (
    (DuplicateKeyError, 409, "Conflict", "a resource with the same unique key already exists"),
    (DocumentNotFound, 404, "Not Found", "the requested resource does not exist"),
    (InvalidRange, 416, "Range Not Satisfiable", "the requested range cannot be served"),
    (
        InvalidDocument,
        422,
        "Unprocessable Content",
        "the request holds data that cannot be stored (a field name or value the database refuses)",
    ),
    (
        InvalidPageToken,
        400,
        "Invalid page token",
        "the page token is not valid for this query; start again from the first page",
    ),
    (InvalidQuery, 400, "Invalid query", "the request's query is not valid"),
    (
        ClientTimeout,
        503,
        "Service Unavailable",
        "the request did not finish within its deadline; retry later",
    ),
    (ServerUnavailable, 503, "Service Unavailable", "the database is unavailable; retry later"),
    (NetworkError, 503, "Service Unavailable", "the database is unavailable; retry later"),
    (MongocatError, 500, "Internal Server Error", "the request could not be completed"),
)

_log = logging.getLogger("mongocat.fastapi")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def install_error_handlers(app: FastAPI, *, retry_after: int = 1) -> None:
    """Answer mongocat's errors with problem responses written for API clients.

    ``DuplicateKeyError`` → 409 (with the key's field names), ``DocumentNotFound``
    (and GridFS's ``FileNotFound``) → 404, ``InvalidRange`` → 416, ``InvalidDocument``
    (input that cannot be stored) → 422, ``InvalidPageToken`` and ``InvalidQuery`` →
    400, ``ServerUnavailable`` and ``NetworkError`` (``ClientTimeout``,
    ``PoolExhausted``) → 503 with ``Retry-After``, any other mongocat error → 500 as a
    problem, never plain text; and request validation errors → 422 with FastAPI's
    list, escaped so that no input can make it a 500.

    Each body has a short, safe ``detail`` and a ``request_id`` (the request's
    ``X-Request-ID`` when it is a plain token, else a new one, also sent back in that
    header); the internal message, which may name collections, indexes or values, is
    logged to ``mongocat.fastapi`` with the same id, never sent.

    Args:
        app: The application.
        retry_after: Seconds a client should wait after a 503 (``Retry-After``).
    """
    for error_type, status, title, detail in _STATUSES:
        app.add_exception_handler(error_type, _handler(status, title, detail, retry_after))
    app.add_exception_handler(RequestValidationError, _invalid_request)


def _request_id(request: Request) -> str:
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


async def _invalid_request(request: Request, error: Exception) -> JSONResponse:
    """422 for a request that fails validation, as a problem with FastAPI's error list.

    FastAPI's own handler echoes the input, and fails (a 500) when that input holds
    text UTF-8 cannot encode; this one escapes it.
    """
    errors = error.errors() if isinstance(error, RequestValidationError) else []
    return problem(422, "Unprocessable Content", "the request is not valid", errors=errors)


def _handler(
    status: int, title: str, detail: str, retry_after: int
) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handle(request: Request, error: Exception) -> JSONResponse:
        request_id = _request_id(request)
        extra: dict[str, Any] = {"request_id": request_id}
        if isinstance(error, DuplicateKeyError) and error.key_value is not None:
            extra["fields"] = sorted(error.key_value)
        level = logging.ERROR if status >= 500 else logging.INFO
        _log.log(
            level,
            "%s %s answered %d: %s: %s",
            request.method,
            request.url.path,
            status,
            type(error).__name__,
            error,
            extra={"request_id": request_id, "status": status},
        )
        response = problem(status, title, detail, **extra)
        response.headers["X-Request-ID"] = request_id
        if status == 503:
            response.headers["Retry-After"] = str(retry_after)
        return response

    return handle


#: How long after the request's deadline the backstop cancels an endpoint that is
#: stuck in something other than a mongocat call.
_BACKSTOP = 0.05


class RequestDeadline:
    """ASGI middleware: every HTTP request runs inside a mongocat deadline.

    Install it with :func:`install_request_deadline`. Each request gets ``seconds``
    (or less, if the client's ``header`` asks for less); every mongocat call made
    while handling it runs within that deadline, as inside ``cat.timeout()``, without
    the endpoint passing anything. If the endpoint is still running shortly after the
    deadline (stuck in something else) and has not started its response, it is
    cancelled and answered 503.

    The deadline covers the whole request, a streamed body's mongocat reads included
    (a GridFS download): serve long streams from an app or router without it.
    """

    def __init__(
        self,
        app: Any,
        *,
        seconds: float,
        header: str | None = "X-Request-Timeout",
        retry_after: int = 1,
    ) -> None:
        self.app = app
        self.seconds = seconds
        self.header = header.lower().encode("latin-1") if header else None
        self.retry_after = retry_after

    def _seconds(self, headers: list[tuple[bytes, bytes]]) -> float:
        """The request's deadline: the app's, or the client's if that is shorter."""
        if self.header is None:
            return self.seconds
        for name, value in headers:
            if name == self.header:
                try:
                    asked = float(value.decode("latin-1"))
                except ValueError:
                    return self.seconds
                if math.isfinite(asked) and asked > 0:
                    return min(asked, self.seconds)
                return self.seconds
        return self.seconds

    async def __call__(self, scope_: Any, receive: Any, send: Any) -> None:
        """Handle one ASGI connection; only HTTP requests get a deadline."""
        if scope_["type"] != "http":
            await self.app(scope_, receive, send)
            return
        seconds = self._seconds(scope_.get("headers", []))
        started = False
        backstop = asyncio.timeout(seconds + _BACKSTOP)

        async def tracking(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start" and not started:
                started = True
                backstop.reschedule(None)  # never cut a response once it has started
            await send(message)

        try:
            async with scope(seconds, "the request deadline ({seconds} s)"), backstop:
                await self.app(scope_, receive, tracking)
        except (TimeoutError, ClientTimeout) as exc:
            # A ClientTimeout reaches here when the app has no error handlers (or a
            # client asked for a deadline too short to start): still a 503, not a 500.
            if started or (isinstance(exc, TimeoutError) and not backstop.expired()):
                raise
            request_id = uuid.uuid4().hex
            _log.error(
                "%s %s answered 503: %s",
                scope_.get("method", ""),
                scope_.get("path", ""),
                exc
                if isinstance(exc, ClientTimeout)
                else f"still running {_BACKSTOP:g} s after its {seconds:g} s deadline",
                extra={"request_id": request_id, "status": 503},
            )
            response = problem(
                503,
                "Service Unavailable",
                "the request did not finish within its deadline; retry later",
                request_id=request_id,
            )
            response.headers["X-Request-ID"] = request_id
            response.headers["Retry-After"] = str(self.retry_after)
            await response(scope_, receive, send)


def install_request_deadline(
    app: FastAPI,
    seconds: float,
    *,
    header: str | None = "X-Request-Timeout",
    retry_after: int = 1,
) -> None:
    """Give every request a deadline that bounds all its mongocat calls.

    With :func:`install_error_handlers`, a request whose database work runs past it
    (a slow query, a server that has gone away) answers 503 problem+json with
    ``Retry-After`` within the deadline and a few milliseconds, instead of waiting
    for the driver's own 30-second timeouts. A client may ask for less with
    ``header`` (``X-Request-Timeout: 0.8``, in seconds), never for more.

    Args:
        app: The application (call before it starts).
        seconds: Each request's deadline.
        header: The request header that may shorten it; None to ignore clients.
        retry_after: Seconds a client should wait after a 503.

    Raises:
        ConfigurationError: ``seconds`` is not a positive number.

    Example:
        >>> app = FastAPI(lifespan=lifespan(connect))  # doctest: +SKIP
        >>> install_error_handlers(app)
        >>> install_request_deadline(app, 2.0)
    """
    checked = as_timeout(seconds, "the request deadline")
    if checked is None:
        raise ConfigurationError("install_request_deadline needs a number of seconds, such as 2.0")
    app.add_middleware(RequestDeadline, seconds=checked, header=header, retry_after=retry_after)
