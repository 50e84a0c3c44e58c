"""A walk through mongocat: ``python -m mongocat.demo``.

It uses the server in ``MONGOCAT_URI`` when set, and otherwise starts the embedded
server (``pip install 'mongocat-async[embedded]'``) and stops it at the end. It works in
the database ``mongocat_demo``, which it empties first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any, TypedDict

from . import acc, expr
from ._catalogue import Catalogue
from ._collection import Collection
from ._driver import DRIVER_NAMES, redact_uri
from ._errors import DuplicateKeyError, MongocatError, ServerFeatureUnavailable
from ._filters import F
from ._indexes import Index
from ._pipeline import Pipeline
from ._projection import Projection
from ._sort import Sort
from ._types import DriverName
from ._update import Update
from .embedded import EmbeddedServer

__all__ = ["main", "run"]

DATABASE = "mongocat_demo"


class User(TypedDict, total=False):
    """A user of the quick example."""

    _id: Any
    name: str
    age: int
    role: str


class Product(TypedDict, total=False):
    """A product of the catalogue."""

    _id: Any
    sku: str
    name: str
    price: float
    stock: int
    on_sale: bool


class Order(TypedDict, total=False):
    """A sale: so many units of a product at a price."""

    _id: Any
    product: str
    quantity: int
    price: float


PRODUCTS: list[Product] = [
    {"sku": "W-1", "name": "Widget", "price": 9.99, "stock": 120},
    {"sku": "G-1", "name": "Gadget", "price": 24.99, "stock": 15},
    {"sku": "D-1", "name": "Doohickey", "price": 4.49, "stock": 40},
]

ORDERS: list[Order] = [
    {"product": "Widget", "quantity": 2, "price": 9.99},
    {"product": "Gadget", "quantity": 2, "price": 24.99},
    {"product": "Widget", "quantity": 3, "price": 9.99},
    {"product": "Gadget", "quantity": 3, "price": 24.99},
    {"product": "Widget", "quantity": 5, "price": 9.99},
]


def heading(title: str) -> None:
    """Print a section heading."""
    print(f"\n== {title}")


async def quick_example(cat: Catalogue) -> None:
    """Insert a document and read it back."""
    heading("Quick example")
    users = cat.collection("users", User)
    inserted = await users.insert_one({"name": "Alice", "age": 30, "role": "admin"})
    print(f"Inserted ID: {inserted.inserted_id}")
    alice = await users.find_one(F.name == "Alice")
    if alice is not None:
        print(f"Found: {alice['name']}, age {alice['age']}, role {alice['role']}")


async def crud(products: Collection[Product]) -> None:
    """Create, read (with a filter and a projection), update and delete."""
    heading("CRUD")
    many = await products.insert_many(PRODUCTS)
    print(f"Inserted {len(many.inserted_ids)} products")

    print("Under $10:")
    async for product in products.find(F.price < 10, sort=Sort.asc(F.price)):
        print(f"  {product['name']}: ${product['price']:.2f}")

    print("Names and prices (projection):")
    rows = products.find(projection=Projection.include(F.name, F.price, id=False))
    async for row in rows:
        print(f"  {row['name']}: ${row['price']:.2f}")

    modified = await products.update_one(F.name == "Widget", Update.set(stock=90))
    print(f"Modified: {modified.modified_count} document(s)")
    on_sale = await products.update_many(F.price < 5, Update.set(on_sale=True))
    print(f"Sale items updated: {on_sale.modified_count}")
    deleted = await products.delete_one(F.name == "Doohickey")
    print(f"Deleted: {deleted.deleted_count} document(s)")


async def sales_summary(cat: Catalogue) -> None:
    """Revenue, units and orders per product, by aggregation."""
    heading("Aggregation")
    orders = cat.collection("orders", Order)
    await orders.insert_many(ORDERS)
    pipeline = (
        Pipeline()
        .group(
            F.product,
            revenue=acc.sum(expr.multiply(F.quantity, F.price)),
            units=acc.sum(F.quantity),
            orders=acc.count(),
        )
        .sort(revenue=-1)
    )
    print("Sales summary:")
    async for row in orders.aggregate(pipeline):
        print(
            f"  {row['_id']}: ${row['revenue']:.2f} ({row['units']} units, {row['orders']} orders)"
        )


async def indexes(products: Collection[Product]) -> None:
    """A unique index, and the query planner using it."""
    heading("Indexes")
    plan = await products.indexes.ensure(Index(F.sku, unique=True))
    created = ", ".join(index.name for index in plan.create) or "nothing (already there)"
    print(f"Created index: {created}")
    summary = await products.find(F.sku == "G-1").explain()
    print(f"find(sku == 'G-1') reads {summary.stage} on index {summary.index_name}")
    try:
        await products.insert_one({"sku": "W-1", "name": "Widget again", "price": 1.0})
    except DuplicateKeyError as exc:
        print(f"DuplicateKeyError: index {exc.index_name}, key {exc.key_value}")


async def bulk_write(cat: Catalogue) -> None:
    """Ten thousand documents in batches, with one summary."""
    heading("Bulk write")
    readings = cat.collection("readings")
    source = ({"sensor": i % 10, "value": i} for i in range(10_000))
    summary = await readings.bulk_insert(source, batch_size=2_500)
    print(f"Inserted {summary.inserted_count} documents in {summary.batches} batches")
    async with readings.bulk(ordered=False) as bulk:
        await bulk.update_many(F.sensor == 0, Update.set(checked=True))
        await bulk.delete_many(F.sensor == 9)
    result = bulk.result
    print(f"Updated {result.modified_count}, deleted {result.deleted_count}")


async def transaction(cat: Catalogue, products: Collection[Product]) -> None:
    """An order and its stock change, both or neither."""
    heading("Transaction")
    orders = cat.collection("orders", Order)

    async def sell_two_gadgets() -> None:
        await products.update_one(F.sku == "G-1", Update.inc(stock=-2))
        await orders.insert_one({"product": "Gadget", "quantity": 2, "price": 24.99})

    try:
        await cat.run_transaction(sell_two_gadgets, timeout=10)
    except ServerFeatureUnavailable as exc:
        print(f"Skipped: {exc}")
        return
    gadget = await products.find_one_or_raise(F.sku == "G-1")
    print(f"Committed: 2 Gadgets sold, {gadget['stock']} left, {await orders.count()} orders")


async def change_stream(products: Collection[Product]) -> None:
    """A change stream that sees an update."""
    heading("Change stream")
    try:
        async with products.watch(full_document="updateLookup") as stream:
            await products.update_one(F.sku == "W-1", Update.set(price=8.99))
            event = await asyncio.wait_for(anext(stream), timeout=10)
    except ServerFeatureUnavailable as exc:
        print(f"Skipped: {exc}")
        return
    widget: Product = event.full_document or {}
    print(f"Saw {event.operation_type} of {widget.get('name')}: now ${widget.get('price', 0):.2f}")


async def gridfs(cat: Catalogue) -> None:
    """A file stored in chunks and read back whole."""
    heading("GridFS")
    fs = cat.gridfs("manuals", chunk_size=64 * 1024)
    content = b"How to use a Widget.\n" * 10_000
    file_id = await fs.upload("widget.txt", content, content_type="text/plain")
    info = await fs.info(file_id)
    same = await fs.download(file_id) == content
    print(f"Stored widget.txt: {info.length} bytes in {info.chunk_count} chunks")
    print(f"Read back intact: {same}")


async def run(uri: str, driver: DriverName) -> None:
    """Run the walk-through against ``uri`` on ``driver``, printing each step."""
    async with Catalogue.connect(uri, DATABASE, driver=driver) as cat:
        await cat.ping()
        print(f"Connected with driver={driver!r} to {redact_uri(uri)}, database {cat.name!r}")
        await cat.client.drop_database(DATABASE)
        products = cat.collection("products", Product)
        await quick_example(cat)
        await crud(products)
        await sales_summary(cat)
        await indexes(products)
        await bulk_write(cat)
        await transaction(cat, products)
        await change_stream(products)
        await gridfs(cat)
        await cat.client.drop_database(DATABASE)
        print("\nDone: dropped the demo database.")


@contextlib.contextmanager
def _server_uri() -> Iterator[str]:
    """Yield MONGOCAT_URI, or the URI of an embedded server started for the demo."""
    uri = os.environ.get("MONGOCAT_URI")
    if uri:
        yield uri
        return
    print("MONGOCAT_URI is not set: starting the embedded server (SecantusDB) ...")
    with EmbeddedServer(enable_test_commands=False) as server:
        yield server.uri
    print("Stopped the embedded server.")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo from the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m mongocat.demo", description=__doc__)
    parser.add_argument(
        "--driver",
        choices=DRIVER_NAMES,
        default="pymongo",
        help="the async driver (default: pymongo; Motor is deprecated upstream)",
    )
    args = parser.parse_args(argv)
    try:
        with _server_uri() as uri:
            asyncio.run(run(uri, args.driver))
    except MongocatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
