"""The product catalogue service: FastAPI on mongocat.

Run it with ``uvicorn examples.catalogue_api.app:app`` (``pip install
'mongocat-async[fastapi,embedded]' uvicorn``). With ``MONGOCAT_URI`` unset it starts the
embedded server and stops it at shutdown; set ``MONGOCAT_URI`` (and optionally
``MONGOCAT_DATABASE``, ``MONGOCAT_DRIVER``) to use a MongoDB replica set;
``MONGOCAT_REQUEST_TIMEOUT`` is each request's deadline in seconds (5 by default).
``MONGOCAT_TELEMETRY=console`` prints an OpenTelemetry span for every database
operation and command, ``MONGOCAT_TELEMETRY=otlp`` sends them to an OTLP collector
such as Jaeger (``OTEL_EXPORTER_OTLP_ENDPOINT``; needs
``opentelemetry-exporter-otlp``); both need ``mongocat-async[otel]`` and
``opentelemetry-sdk``.

Endpoints: ``GET /products`` (filters, search, sort, keyset pages), ``GET /products/{sku}``,
``POST /products``, ``PATCH /products/{sku}``, ``DELETE /products/{sku}``,
``PUT``/``GET /products/{sku}/image`` (GridFS, streamed, HTTP ranges), ``GET /stats``,
and ``WS /changes`` (a live feed of product changes).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import re
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from mongocat import (
    Catalogue,
    Collection,
    DocumentNotFound,
    F,
    Filter,
    Index,
    InvalidRange,
    MongocatError,
    Pipeline,
    Sort,
    Update,
    acc,
)
from mongocat.embedded import EmbeddedServer
from mongocat.fastapi import (
    CatalogueDep,
    install_error_handlers,
    install_request_deadline,
    lifespan,
    problem,
)
from mongocat.json import ObjectIdStr, to_jsonable

if TYPE_CHECKING:
    from mongocat.telemetry import Telemetry

log = logging.getLogger("catalogue_api")

#: The largest product image accepted, in bytes.
MAX_IMAGE_BYTES = 10 * 1024 * 1024

PRODUCT_INDEXES = [
    Index("sku", unique=True),
    Index("category", "price"),
    Index("price"),
    Index("tags"),
]

Sku = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{0,31}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Category = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=50)]
Price = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Stock = Annotated[int, Field(ge=0, le=1_000_000_000)]
Description = Annotated[str, StringConstraints(max_length=5000)]


class ProductIn(BaseModel):
    """A new product. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")
    sku: Sku
    name: Name
    price: Price
    category: Category
    stock: Stock = 0
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    description: Description = ""


class ProductPatch(BaseModel):
    """A change to some fields of a product. Unknown fields and nulls are refused."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    price: Price | None = None
    category: Category | None = None
    stock: Stock | None = None
    tags: list[Tag] | None = Field(default=None, max_length=20)
    description: Description | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> ProductPatch:
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null; leave it out to keep it")
        return self


class ProductOut(ProductIn):
    """A stored product."""

    id: ObjectIdStr
    has_image: bool = False


class ProductPage(BaseModel):
    """One page of products, with the tokens of the pages around it."""

    items: list[ProductOut]
    next: str | None
    prev: str | None


class CategoryStats(BaseModel):
    """The products of one category."""

    category: str
    count: int
    average_price: float


def products_of(cat: Catalogue) -> Collection[dict[str, Any]]:
    """The products collection (its indexes are declared at startup)."""
    return cat.collection("products")


# Looked up once: ``ProductIn.model_fields`` is a property that builds its answer on
# every access (it was a fifth of the CPU of a 50-product page).
_PRODUCT_FIELDS = frozenset(ProductIn.model_fields)


def as_product(document: dict[str, Any]) -> ProductOut:
    """The API view of a stored product."""
    fields = {key: value for key, value in document.items() if key in _PRODUCT_FIELDS}
    return ProductOut(id=document["_id"], has_image="image_id" in document, **fields)


async def _probe_text_search(cat: Catalogue) -> None:
    """Create the text index where the server has text indexes; else use the fallback."""
    try:
        await products_of(cat).indexes.ensure(Index.text("name", "description", name="search"))
        cat_state[id(cat)] = True
    except MongocatError as error:
        log.warning("no text index (%s): q= searches by substring instead", error.message)
        cat_state[id(cat)] = False


# Whether each Catalogue's server has text search (found at startup).
cat_state: dict[int, bool] = {}

router = APIRouter()

ALLOWED_LIST_PARAMETERS = frozenset(
    {"category", "min_price", "max_price", "tag", "q", "sort", "limit", "after", "before"}
)
SORTS: dict[str, Sort] = {
    "price": Sort.asc("price"),
    "-price": Sort.desc("price"),
    "name": Sort.asc("name"),
    "-name": Sort.desc("name"),
}


@router.get("/products", response_model=ProductPage)
async def list_products(
    request: Request,
    cat: CatalogueDep,
    category: Category | None = None,
    min_price: Annotated[float | None, Query(ge=0, allow_inf_nan=False)] = None,
    max_price: Annotated[float | None, Query(ge=0, allow_inf_nan=False)] = None,
    tag: Tag | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    sort: Literal["price", "-price", "name", "-name"] = "price",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    after: Annotated[str | None, Query(max_length=2000)] = None,
    before: Annotated[str | None, Query(max_length=2000)] = None,
) -> ProductPage:
    """Products matching every given filter, a page at a time (keyset, never skip).

    ``q`` searches names and descriptions: with a text index where the server has
    them, otherwise by case-insensitive substring (a scan; fine for thousands of
    products). Unknown query parameters are refused, so ``category[$ne]=x`` and the
    like are errors, not wider queries.
    """
    unknown = sorted(set(request.query_params) - ALLOWED_LIST_PARAMETERS)
    if unknown:
        raise BadRequest(
            f"unknown query parameter(s) {', '.join(map(repr, unknown))}; the parameters "
            f"are {', '.join(sorted(ALLOWED_LIST_PARAMETERS))}"
        )
    conditions: list[Filter] = []
    if category is not None:
        conditions.append(F.category == category)
    if min_price is not None:
        conditions.append(F.price >= min_price)
    if max_price is not None:
        conditions.append(F.price <= max_price)
    if tag is not None:
        conditions.append(F.tags == tag)
    if q is not None:
        if cat_state.get(id(cat)):
            conditions.append(Filter.text(q))
        else:
            pattern = re.escape(q)
            conditions.append(F.name.regex(pattern, "i") | F.description.regex(pattern, "i"))
    query = Filter.all(*conditions) if conditions else None
    page = await products_of(cat).paginate(
        query, sort=SORTS[sort], limit=limit, after=after, before=before
    )
    return ProductPage(
        items=[as_product(p) for p in page.items], next=page.next_token, prev=page.prev_token
    )


@router.get("/products/{sku}", response_model=ProductOut)
async def get_product(sku: Sku, cat: CatalogueDep) -> ProductOut:
    """One product by its SKU; a 404 if there is none."""
    return as_product(await products_of(cat).find_one_or_raise(F.sku == sku))


@router.post("/products", response_model=ProductOut, status_code=201)
async def create_product(product: ProductIn, cat: CatalogueDep) -> ProductOut:
    """Add a product; a duplicate ``sku`` is a 409."""
    document = product.model_dump()
    await products_of(cat).insert_one(document)
    return as_product(document)


@router.patch("/products/{sku}", response_model=ProductOut)
async def update_product(sku: Sku, patch: ProductPatch, cat: CatalogueDep) -> ProductOut:
    """Change the given fields; unknown fields (or operators) are a 422."""
    changes = patch.model_dump(exclude_unset=True)
    if not changes:
        raise BadRequest("nothing to change: give at least one field")
    updated = await products_of(cat).find_one_and_update(
        F.sku == sku, Update.set(changes), return_document="after"
    )
    if updated is None:
        raise DocumentNotFound(products_of(cat).full_name, {"sku": sku})
    return as_product(updated)


@router.delete("/products/{sku}", status_code=204)
async def delete_product(sku: Sku, cat: CatalogueDep) -> Response:
    """Delete a product and its image."""
    deleted = await products_of(cat).find_one_and_delete(F.sku == sku)
    if deleted is None:
        raise DocumentNotFound(products_of(cat).full_name, {"sku": sku})
    if "image_id" in deleted:
        await cat.gridfs("images").delete(deleted["image_id"])
    return Response(status_code=204)


class BadRequest(Exception):
    """A request this API refuses, with a detail written for its client (a 400).

    mongocat's own errors are answered with safe, generic details (their messages are
    for the service's logs); the app's own checks say exactly what to change.
    """

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


async def _bad_request(request: Request, error: Exception) -> Response:
    detail = error.detail if isinstance(error, BadRequest) else "the request is not valid"
    return problem(400, "Bad Request", detail)


class ImageTooLarge(Exception):
    """An uploaded image went past MAX_IMAGE_BYTES."""


async def _limited(request: Request) -> AsyncIterator[bytes]:
    """The request body, refusing more than MAX_IMAGE_BYTES."""
    total = 0
    async for piece in request.stream():
        total += len(piece)
        if total > MAX_IMAGE_BYTES:
            raise ImageTooLarge
        yield piece


@router.put("/products/{sku}/image", status_code=201)
async def put_image(sku: Sku, request: Request, cat: CatalogueDep) -> Any:
    """Store the request body as the product's image (streamed into GridFS)."""
    products = products_of(cat)
    product = await products.find_one_or_raise(F.sku == sku, projection=["image_id"])
    content_type = request.headers.get("content-type", "application/octet-stream")
    fs = cat.gridfs("images")
    try:
        file_id = await fs.upload(
            sku, _limited(request), content_type=content_type, metadata={"sku": sku}
        )
    except ImageTooLarge:
        return problem(413, "Content Too Large", f"an image holds at most {MAX_IMAGE_BYTES} bytes")
    await products.update_one(F.sku == sku, Update.set(image_id=file_id))
    if "image_id" in product:
        await fs.delete(product["image_id"])
    info = await fs.info(file_id)
    return {"length": info.length, "sha256": info.sha256, "content_type": info.content_type}


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _byte_range(header: str, length: int) -> tuple[int, int]:
    """The ``[start, end)`` of a single-range ``Range`` header, or InvalidRange."""
    match = _RANGE.match(header.strip())
    if match is None or match.groups() == ("", ""):
        raise InvalidRange(header, None, length)
    first, last = match.groups()
    if first == "":  # the last N bytes
        start, end = max(length - int(last), 0), length
    else:
        start = int(first)
        end = length if last == "" else min(int(last) + 1, length)
    if start >= length or end <= start:
        raise InvalidRange(start, end, length)
    return start, end


@router.get(
    "/products/{sku}/image",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}},
        206: {"description": "A byte range"},
    },
)
async def get_image(sku: Sku, request: Request, cat: CatalogueDep) -> Response:
    """Stream the image; a ``Range: bytes=a-b`` header gets a 206 with just those bytes."""
    product = await products_of(cat).find_one_or_raise(F.sku == sku, projection=["image_id"])
    if "image_id" not in product:
        raise DocumentNotFound("images.files", {"metadata.sku": sku})
    fs = cat.gridfs("images")
    info = await fs.info(product["image_id"])
    headers = {"Accept-Ranges": "bytes", "ETag": f'"{info.sha256}"'}
    media_type = info.content_type or "application/octet-stream"
    range_header = request.headers.get("range")
    if range_header is None:
        headers["Content-Length"] = str(info.length)
        return StreamingResponse(fs.stream(info.id), media_type=media_type, headers=headers)
    try:
        start, end = _byte_range(range_header, info.length)
    except InvalidRange:
        return problem(
            416,
            "Range Not Satisfiable",
            f"the image has {info.length} bytes",
            **{"content_range": f"bytes */{info.length}"},
        )
    headers["Content-Range"] = f"bytes {start}-{end - 1}/{info.length}"
    headers["Content-Length"] = str(end - start)
    return StreamingResponse(
        fs.stream(info.id, start=start, end=end),
        status_code=206,
        media_type=media_type,
        headers=headers,
    )


@router.get("/stats", response_model=list[CategoryStats])
async def stats(cat: CatalogueDep) -> list[CategoryStats]:
    """How many products each category has, and their average price."""
    pipeline = (
        Pipeline()
        .group(F.category, count=acc.sum(1), average_price=acc.avg(F.price))
        .sort({"_id": 1})
    )
    rows = await products_of(cat).aggregate(pipeline)
    return [
        CategoryStats(category=r["_id"], count=r["count"], average_price=r["average_price"])
        for r in rows
    ]


@router.websocket("/changes")
async def changes(websocket: WebSocket, cat: CatalogueDep) -> None:
    """A live feed of product changes: one JSON message per insert, update or delete.

    The feed stops as soon as the client goes away, even while no change is coming:
    waiting for the next change and listening for the disconnect run side by side.
    """
    await websocket.accept()
    watching = F.operationType.in_(["insert", "update", "replace", "delete"])

    async def feed() -> None:
        async with products_of(cat).watch(watching, full_document="updateLookup") as stream:
            await websocket.send_json({"ready": True})
            async for event in stream:
                document = event.full_document or {}
                message = {
                    "op": event.operation_type,
                    "id": (event.document_key or {}).get("_id"),
                    "sku": document.get("sku"),
                    "price": document.get("price"),
                    "stock": document.get("stock"),
                }
                await websocket.send_json(to_jsonable(message))

    async def until_disconnected() -> None:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass

    tasks = {asyncio.create_task(feed()), asyncio.create_task(until_disconnected())}
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        error = task.exception()
        if error is not None and not isinstance(error, WebSocketDisconnect):
            raise error


def telemetry_from_environment() -> Telemetry | None:
    """The Telemetry ``MONGOCAT_TELEMETRY`` asks for (``console`` or ``otlp``), or None."""
    kind = os.environ.get("MONGOCAT_TELEMETRY", "").strip().lower()
    if not kind:
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SimpleSpanProcessor,
    )

    from mongocat.telemetry import Telemetry

    provider = TracerProvider(resource=Resource.create({"service.name": "catalogue-api"}))
    if kind == "console":
        # sys.stdout as it is now (the exporter's default is the one at its import).
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stdout)))
    elif kind == "otlp":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        raise ValueError(f"MONGOCAT_TELEMETRY must be 'console' or 'otlp', not {kind!r}")
    return Telemetry(tracer_provider=provider)


def create_app(catalogue: Catalogue | None = None, *, freeze_gc: bool | None = None) -> FastAPI:
    """The app; with ``catalogue`` it uses that one (and leaves closing it to the caller).

    ``freeze_gc`` (by default: when the app makes its own Catalogue, as when deployed)
    calls :func:`gc.freeze` once started, so that the garbage collector's full
    collections no longer walk the objects made at startup (modules, routes, Pydantic
    validators): they were most of each collection and its pause on the event loop.
    """
    freeze = catalogue is None if freeze_gc is None else freeze_gc

    @asynccontextmanager
    async def app_lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            telemetry = telemetry_from_environment()
            if catalogue is not None:
                given = catalogue
                if telemetry is not None:  # a client made elsewhere: operation spans only
                    given.instrument(telemetry)
                    stack.callback(given.instrument, None)

                def connect() -> Catalogue:
                    return given

            else:
                uri = os.environ.get("MONGOCAT_URI")
                if not uri:
                    # Started from the main thread, on purpose: Linux stops the server
                    # when the thread that started it ends (so a crash leaves none).
                    server = EmbeddedServer(enable_test_commands=False).start()
                    stack.callback(server.stop)
                    uri = server.uri
                database = os.environ.get("MONGOCAT_DATABASE", "catalogue")
                driver = os.environ.get("MONGOCAT_DRIVER", "pymongo")

                def connect() -> Catalogue:
                    return Catalogue.connect(
                        uri,
                        database,
                        driver=driver,  # type: ignore[arg-type]
                        telemetry=telemetry,
                    )

            def prepared() -> Catalogue:
                cat = connect()
                cat.register_indexes("products", *PRODUCT_INDEXES)
                return cat

            managed = lifespan(prepared, setup=_probe_text_search, close=catalogue is None)
            await stack.enter_async_context(managed(app))
            if freeze:
                gc.collect()
                gc.freeze()
            try:
                yield
            finally:
                if freeze:
                    gc.unfreeze()

    app = FastAPI(
        title="Product catalogue",
        version="1.0",
        description="An async product catalogue on MongoDB, built with mongocat.",
        lifespan=app_lifespan,
    )
    install_error_handlers(app)
    # Every request's database work must finish within this many seconds (a client
    # may ask for less with X-Request-Timeout); past it, or with the database gone,
    # the answer is 503 with Retry-After, not a 30-second wait.
    install_request_deadline(app, float(os.environ.get("MONGOCAT_REQUEST_TIMEOUT", "5")))
    app.add_exception_handler(BadRequest, _bad_request)
    app.include_router(router)
    return app


app = create_app()
