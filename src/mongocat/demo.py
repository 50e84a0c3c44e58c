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

from ._catalogue import Catalogue
from ._driver import DRIVER_NAMES, redact_uri
from ._errors import DuplicateKeyError, MongocatError
from ._types import DriverName
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
    category: str


PRODUCTS: list[Product] = [
    {"sku": "W-1", "name": "Widget", "price": 9.99, "stock": 120, "category": "tools"},
    {"sku": "G-1", "name": "Gadget", "price": 24.99, "stock": 15, "category": "tools"},
    {"sku": "Z-1", "name": "Gizmo", "price": 14.50, "stock": 0, "category": "toys"},
]


async def run(uri: str, driver: DriverName) -> None:
    """Run the walk-through against ``uri`` on ``driver``, printing each step."""
    async with Catalogue.connect(uri, DATABASE, driver=driver) as cat:
        await cat.ping()
        print(f"Connected with driver={driver!r} to {redact_uri(uri)}, database {cat.name!r}")
        for name in await cat.list_collection_names():
            await cat.drop_collection(name)

        print("\n-- Quick example")
        users = cat.collection("users", User)
        inserted = await users.insert_one({"name": "Alice", "age": 30, "role": "admin"})
        print(f"Inserted ID: {inserted.inserted_id}")
        alice = await users.find_one({"name": "Alice"})
        if alice is not None:
            print(f"Found: {alice['name']}, age {alice['age']}, role {alice['role']}")

        print("\n-- Create")
        products = cat.collection("products", Product)
        await products.driver_collection.create_index("sku", unique=True)
        many = await products.insert_many([dict(p) for p in PRODUCTS])  # type: ignore[misc]
        print(f"Inserted {len(many.inserted_ids)} products")

        print("\n-- Read")
        widget = await products.find_one_or_raise({"name": "Widget"})
        print(f"Widget price: ${widget['price']:.2f}")
        async for product in products.find({"price": {"$lt": 10}}, sort="price"):
            print(f"Under $10: {product['name']} @ ${product['price']:.2f}")
        in_stock = await products.count({"stock": {"$gt": 0}})
        print(f"In stock: {in_stock} of {await products.count()} products")
        by_price = await products.find(sort={"price": -1}, projection=["name"])
        print("By price, highest first: " + ", ".join(p["name"] for p in by_price))

        print("\n-- Update")
        updated = await products.update_one({"sku": "W-1"}, {"$set": {"price": 7.99}})
        print(f"Matched {updated.matched_count}, modified {updated.modified_count}")
        sold = await products.find_one_and_update(
            {"sku": "W-1", "stock": {"$gte": 2}},
            {"$inc": {"stock": -2}},
            return_document="after",
        )
        if sold is not None:
            print(f"Sold 2 Widgets at ${sold['price']:.2f}; {sold['stock']} left")
        restocked = await products.update_many({"stock": 0}, {"$set": {"stock": 50}})
        print(f"Restocked {restocked.modified_count} product(s)")

        print("\n-- A duplicate SKU is refused, and the error says why")
        try:
            await products.insert_one({"sku": "W-1", "name": "Widget again", "price": 1.0})
        except DuplicateKeyError as exc:
            print(f"DuplicateKeyError: index {exc.index_name}, key {exc.key_value}")

        print("\n-- Delete")
        deleted = await products.delete_one({"sku": "Z-1"})
        print(f"Deleted {deleted.deleted_count} product; {await products.count()} left")
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
