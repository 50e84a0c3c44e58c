"""mongocat against the raw drivers and the ODMs, in one interleaved run.

Usage:
    python benchmarks/peers.py [--reps 5] [--calls 200] [--docs 10000] [--bulk 100000]
                               [--gridfs-mb 50] [--out docs]

Contestants, each used the way its documentation teaches: raw PyMongo async, raw
Motor, mongocat on each driver, Beanie (on PyMongo async) and ODMantic (on Motor).
An operation a contestant does not offer is left out of its row. For each operation
and repetition the contestants run in a shuffled order; the table shows the median
rate over ``--reps`` repetitions and the ratio to raw PyMongo async (above 1 is
faster). It is written as ``<out>/performance_table.rst`` and plotted as
``<out>/_static/performance.png``, which the docs' "Performance" page shows.

The server is the embedded SecantusDB unless MONGOCAT_BENCH_URI names another one
(against the embedded server clients connect with retryWrites=false). Ratios are the
point: absolute rates on the stand-in are not MongoDB's.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import beanie
import motor
import odmantic
import pymongo
from gridfs import AsyncGridFSBucket
from motor.motor_asyncio import AsyncIOMotorClient, AsyncIOMotorGridFSBucket
from overhead import server_uri
from pydantic import BaseModel
from pymongo import AsyncMongoClient, InsertOne

import mongocat
from mongocat import Catalogue, F, Pipeline, Sort, Update, acc

DATABASE = "mongocat_bench_peers"
CATEGORIES = ["tools", "garden", "kitchen", "toys"]
Runner = Callable[[], Awaitable[float]]  # runs once, returns the amount of work done


def product(i: int) -> dict[str, Any]:
    return {
        "sku": f"S-{i:06d}",
        "name": f"Product {i}",
        "price": float(1 + i % 500),
        "category": CATEGORIES[i % 4],
        "stock": i % 50,
    }


class BProduct(beanie.Document):
    sku: str
    name: str
    price: float
    category: str
    stock: int

    class Settings:
        name = "beanie_products"


class BScratch(BProduct):
    """Where Beanie's write benchmarks write, so the read benchmarks' data stays the same."""

    class Settings:
        name = "beanie_scratch"


class BSummary(BaseModel):
    name: str
    price: float


class OProduct(odmantic.Model):
    sku: str
    name: str
    price: float
    category: str
    stock: int

    model_config = {"collection": "odmantic_products"}  # noqa: RUF012 - ODMantic's spelling


class OScratch(odmantic.Model):
    """Where ODMantic's write benchmarks write."""

    sku: str
    name: str
    price: float
    category: str
    stock: int

    model_config = {"collection": "odmantic_scratch"}  # noqa: RUF012 - ODMantic's spelling


async def run(args: argparse.Namespace, uri: str) -> dict[str, dict[str, float]]:
    """Rates per operation and contestant (medians over the repetitions)."""
    raw_pymongo = AsyncMongoClient(uri)
    raw_motor = AsyncIOMotorClient(uri)
    mc_pymongo = Catalogue(AsyncMongoClient(uri), DATABASE, close_client=True)
    mc_motor = Catalogue(AsyncIOMotorClient(uri), DATABASE, close_client=True)
    beanie_client = AsyncMongoClient(uri)
    odmantic_client = AsyncIOMotorClient(uri)
    await raw_pymongo.drop_database(DATABASE)
    await beanie.init_beanie(database=beanie_client[DATABASE], document_models=[BProduct, BScratch])
    engine = odmantic.AIOEngine(client=odmantic_client, database=DATABASE)

    collections = {
        "PyMongo async": raw_pymongo[DATABASE]["pymongo_products"],
        "Motor": raw_motor[DATABASE]["motor_products"],
    }
    mongocats = {
        "mongocat (PyMongo)": mc_pymongo.collection("mc_pymongo_products"),
        "mongocat (Motor)": mc_motor.collection("mc_motor_products"),
    }
    # Write benchmarks write here and are emptied after each (untimed), so every read
    # benchmark reads the same documents.
    scratch = {
        "PyMongo async": raw_pymongo[DATABASE]["pymongo_scratch"],
        "Motor": raw_motor[DATABASE]["motor_scratch"],
        "mongocat (PyMongo)": mc_pymongo.collection("mc_pymongo_scratch"),
        "mongocat (Motor)": mc_motor.collection("mc_motor_scratch"),
    }

    async def clear_scratch() -> None:
        for coll in scratch.values():
            await coll.delete_many({})
        await BScratch.delete_all()
        await engine.get_collection(OScratch).delete_many({})

    seeded: dict[str, list[Any]] = {}
    docs = [product(i) for i in range(args.docs)]

    async def seed() -> None:
        for name, coll in collections.items():
            await coll.delete_many({})
            result = await coll.insert_many([dict(d) for d in docs])
            await coll.create_index("price")
            seeded[name] = list(result.inserted_ids)
        for name, mc in mongocats.items():
            await mc.delete_many({})
            result = await mc.insert_many([dict(d) for d in docs])
            await mc.driver_collection.create_index("price")
            seeded[name] = list(result.inserted_ids)
        await BProduct.delete_all()
        result = await BProduct.insert_many([BProduct(**d) for d in docs])
        seeded["Beanie"] = list(result.inserted_ids)
        await engine.get_collection(OProduct).delete_many({})
        models = [OProduct(**d) for d in docs]
        await engine.save_all(models)
        seeded["ODMantic"] = [m.id for m in models]

    calls = args.calls
    ops: dict[str, dict[str, Runner]] = {}

    def add(op: str, name: str, runner: Runner) -> None:
        ops.setdefault(op, {})[name] = runner

    # -- insert_one x N -------------------------------------------------------------
    # The raw drivers and mongocat are called alike here.
    for name in [*collections, *mongocats]:
        target = scratch[name]

        async def insert_one(target: Any = target) -> float:
            for i in range(calls):
                await target.insert_one(product(i))
            return calls

        add("insert_one", name, insert_one)

    async def beanie_insert_one() -> float:
        for i in range(calls):
            await BScratch(**product(i)).insert()
        return calls

    async def odmantic_insert_one() -> float:
        for i in range(calls):
            await engine.save(OScratch(**product(i)))
        return calls

    add("insert_one", "Beanie", beanie_insert_one)
    add("insert_one", "ODMantic", odmantic_insert_one)

    # -- insert_many --------------------------------------------------------------
    for name, coll in scratch.items():

        async def insert_many(coll: Any = coll) -> float:
            await coll.insert_many([product(i) for i in range(args.docs)])
            return args.docs

        add("insert_many", name, insert_many)

    async def beanie_insert_many() -> float:
        await BScratch.insert_many([BScratch(**product(i)) for i in range(args.docs)])
        return args.docs

    async def odmantic_insert_many() -> float:
        await engine.save_all([OScratch(**product(i)) for i in range(args.docs)])
        return args.docs

    add("insert_many", "Beanie", beanie_insert_many)
    add("insert_many", "ODMantic", odmantic_insert_many)

    # -- find_one by _id x N --------------------------------------------------------
    for name, coll in [*collections.items(), *mongocats.items()]:

        async def find_one(coll: Any = coll, name: str = name) -> float:
            ids = seeded[name]
            for i in range(calls):
                await coll.find_one({"_id": ids[i % len(ids)]})
            return calls

        add("find_one by _id", name, find_one)

    async def beanie_find_one() -> float:
        for i in range(calls):
            await BProduct.get(seeded["Beanie"][i % len(seeded["Beanie"])])
        return calls

    async def odmantic_find_one() -> float:
        ids = seeded["ODMantic"]
        for i in range(calls):
            await engine.find_one(OProduct, OProduct.id == ids[i % len(ids)])
        return calls

    add("find_one by _id", "Beanie", beanie_find_one)
    add("find_one by _id", "ODMantic", odmantic_find_one)

    # -- find 1k to a list ----------------------------------------------------------
    for name, coll in collections.items():

        async def find_1k(coll: Any = coll) -> float:
            return len(await coll.find({}).limit(1000).to_list(None))

        add("find 1,000 to a list", name, find_1k)
    for name, mc in mongocats.items():

        async def mc_find_1k(mc: Any = mc) -> float:
            return len(await mc.find(limit=1000))

        add("find 1,000 to a list", name, mc_find_1k)

    async def beanie_find_1k() -> float:
        return len(await BProduct.find_all().limit(1000).to_list())

    async def odmantic_find_1k() -> float:
        return len(await engine.find(OProduct, limit=1000))

    add("find 1,000 to a list", "Beanie", beanie_find_1k)
    add("find 1,000 to a list", "ODMantic", odmantic_find_1k)

    # -- filtered find with projection ----------------------------------------------
    for name, coll in collections.items():

        async def filtered(coll: Any = coll) -> float:
            cursor = coll.find({"price": {"$lt": 100}}, {"name": 1, "price": 1, "_id": 0})
            return len(await cursor.to_list(None))

        add("filtered find + projection", name, filtered)
    for name, mc in mongocats.items():

        async def mc_filtered(mc: Any = mc) -> float:
            return len(await mc.find(F.price < 100, projection={"name": 1, "price": 1, "_id": 0}))

        add("filtered find + projection", name, mc_filtered)

    async def beanie_filtered() -> float:
        return len(await BProduct.find(BProduct.price < 100).project(BSummary).to_list())

    add("filtered find + projection", "Beanie", beanie_filtered)  # ODMantic: no projection

    # -- aggregation ----------------------------------------------------------------
    group = [{"$group": {"_id": "$category", "n": {"$sum": 1}, "avg": {"$avg": "$price"}}}]
    for name, coll in collections.items():
        if name == "Motor":

            async def aggregate(coll: Any = coll) -> float:
                return len(await coll.aggregate(group).to_list(None))

        else:

            async def aggregate(coll: Any = coll) -> float:
                return len(await (await coll.aggregate(group)).to_list(None))

        add("aggregation group", name, aggregate)
    pipeline = Pipeline().group(F.category, n=acc.sum(1), avg=acc.avg(F.price))
    for name, mc in mongocats.items():

        async def mc_aggregate(mc: Any = mc) -> float:
            return len(await mc.aggregate(pipeline))

        add("aggregation group", name, mc_aggregate)

    async def beanie_aggregate() -> float:
        return len(await BProduct.aggregate(group).to_list())

    add("aggregation group", "Beanie", beanie_aggregate)  # ODMantic: none

    # -- update_one x N -------------------------------------------------------------
    for name, coll in collections.items():

        async def update_one(coll: Any = coll, name: str = name) -> float:
            ids = seeded[name]
            for i in range(calls):
                await coll.update_one({"_id": ids[i % len(ids)]}, {"$inc": {"stock": 1}})
            return calls

        add("update_one", name, update_one)
    for name, mc in mongocats.items():

        async def mc_update_one(mc: Any = mc, name: str = name) -> float:
            ids = seeded[name]
            for i in range(calls):
                await mc.update_one(F._id == ids[i % len(ids)], Update.inc(stock=1))
            return calls

        add("update_one", name, mc_update_one)

    async def beanie_update_one() -> float:
        ids = seeded["Beanie"]
        for i in range(calls):
            await BProduct.find_one(BProduct.id == ids[i % len(ids)]).inc({BProduct.stock: 1})
        return calls

    async def odmantic_update_one() -> float:
        ids = seeded["ODMantic"]
        for i in range(calls):  # ODMantic's way: load, change, save
            found = await engine.find_one(OProduct, OProduct.id == ids[i % len(ids)])
            assert found is not None
            found.model_update({"stock": found.stock + 1})
            await engine.save(found)
        return calls

    add("update_one", "Beanie", beanie_update_one)
    add("update_one", "ODMantic", odmantic_update_one)

    # -- bulk -----------------------------------------------------------------------
    for name in collections:
        coll = scratch[name]

        async def bulk(coll: Any = coll) -> float:
            requests = [InsertOne(product(i)) for i in range(args.bulk)]
            for start in range(0, args.bulk, 1000):
                await coll.bulk_write(requests[start : start + 1000], ordered=False)
            return args.bulk

        add("bulk insert", name, bulk)
    for name in mongocats:
        mc = scratch[name]

        async def mc_bulk(mc: Any = mc) -> float:
            summary = await mc.bulk_insert(
                (product(i) for i in range(args.bulk)), ordered=False, concurrency=4
            )
            return summary.inserted_count

        add("bulk insert", name, mc_bulk)

    # -- GridFS ---------------------------------------------------------------------
    blob = os.urandom(args.gridfs_mb * 1024 * 1024)
    buckets = {
        "PyMongo async": AsyncGridFSBucket(raw_pymongo[DATABASE], "raw_pymongo_fs"),
        "Motor": AsyncIOMotorGridFSBucket(raw_motor[DATABASE], "raw_motor_fs"),
    }
    for name, bucket in buckets.items():

        async def gridfs_raw(bucket: Any = bucket) -> float:
            file_id = await bucket.upload_from_stream("blob", blob)
            stream = await bucket.open_download_stream(file_id)
            assert len(await stream.read()) == len(blob)
            await bucket.delete(file_id)
            return 2 * args.gridfs_mb

        add("GridFS up + down (MB)", name, gridfs_raw)
    for name, cat in (("mongocat (PyMongo)", mc_pymongo), ("mongocat (Motor)", mc_motor)):
        fs = cat.gridfs(f"{name[10:-1].lower()}_fs")

        async def gridfs_mc(fs: Any = fs) -> float:
            file_id = await fs.upload("blob", blob)
            assert len(await fs.download(file_id)) == len(blob)
            await fs.delete(file_id)
            return 2 * args.gridfs_mb

        add("GridFS up + down (MB)", name, gridfs_mc)

    # -- paginating -----------------------------------------------------------------
    page = 100
    for name, coll in collections.items():

        async def pages_skip(coll: Any = coll) -> float:  # what the drivers' docs show
            seen = 0
            for number in range(args.docs // page):
                cursor = coll.find({}).sort([("price", 1), ("_id", 1)]).skip(number * page)
                seen += len(await cursor.limit(page).to_list(None))
            return seen

        add(f"paginate {args.docs:,} (docs)", name, pages_skip)
    for name, mc in mongocats.items():

        async def pages_keyset(mc: Any = mc) -> float:
            seen, token = 0, None
            while True:
                result = await mc.paginate(sort=Sort.asc("price"), limit=page, after=token)
                seen += len(result.items)
                token = result.next_token
                if token is None:
                    return seen

        add(f"paginate {args.docs:,} (docs)", name, pages_keyset)

    async def beanie_pages() -> float:
        seen = 0
        for number in range(args.docs // page):
            query = BProduct.find_all().sort("+price", "+_id").skip(number * page).limit(page)
            seen += len(await query.to_list())
        return seen

    async def odmantic_pages() -> float:
        seen = 0
        for number in range(args.docs // page):
            found = await engine.find(
                OProduct, sort=(OProduct.price, OProduct.id), skip=number * page, limit=page
            )
            seen += len(found)
        return seen

    add(f"paginate {args.docs:,} (docs)", "Beanie", beanie_pages)
    add(f"paginate {args.docs:,} (docs)", "ODMantic", odmantic_pages)

    rates: dict[str, dict[str, list[float]]] = {}
    for rep in range(args.reps):
        await seed()
        for op, contestants in ops.items():
            order = list(contestants)
            random.Random(rep * 31 + len(op)).shuffle(order)
            for name in order:
                gc.collect()
                start = time.perf_counter()
                amount = await contestants[name]()
                elapsed = time.perf_counter() - start
                rates.setdefault(op, {}).setdefault(name, []).append(amount / elapsed)
                await clear_scratch()
        print(f"  repetition {rep + 1}/{args.reps} done", file=sys.stderr)

    await raw_pymongo.drop_database(DATABASE)
    await mc_pymongo.close()
    await mc_motor.close()
    await raw_pymongo.close()
    raw_motor.close()
    await beanie_client.close()
    odmantic_client.close()
    return {op: {n: statistics.median(v) for n, v in by.items()} for op, by in rates.items()}


NAMES = ["PyMongo async", "Motor", "mongocat (PyMongo)", "mongocat (Motor)", "Beanie", "ODMantic"]


def table_rst(medians: dict[str, dict[str, float]], header: str) -> str:
    """The results as an RST list-table: rate and ratio to raw PyMongo async."""
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :stub-columns: 1",
        "",
        "   * - operation (per second)",
        *[f"     - {name}" for name in NAMES],
        "     - mongocat / its driver",
    ]
    for op, by in medians.items():
        base = by["PyMongo async"]
        lines.append(f"   * - {op}")
        for name in NAMES:
            rate = by.get(name)
            lines.append(
                "     - n/a" if rate is None else f"     - {rate:,.0f} ({rate / base:.2f}x)"
            )
        own = [
            f"{by[ours] / by[driver]:.2f}"
            for ours, driver in (
                ("mongocat (PyMongo)", "PyMongo async"),
                ("mongocat (Motor)", "Motor"),
            )
            if ours in by and driver in by
        ]
        lines.append(f"     - {' / '.join(own) or 'n/a'}")
    return f"{header}\n\n" + "\n".join(lines) + "\n"


def plot(medians: dict[str, dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ops = list(medians)
    fig, ax = plt.subplots(figsize=(11, 0.55 * len(ops) * len(NAMES) / 3 + 2))
    height = 0.8 / len(NAMES)
    for k, name in enumerate(NAMES):
        values = [medians[op].get(name, 0) / medians[op]["PyMongo async"] for op in ops]
        positions = [i + k * height for i in range(len(ops))]
        ax.barh(positions, values, height=height, label=name)
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(ops))])
    ax.set_yticklabels(ops)
    ax.invert_yaxis()
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("throughput relative to raw PyMongo async (higher is faster; 0 = not offered)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--bulk", type=int, default=100_000)
    parser.add_argument("--gridfs-mb", type=int, default=50)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args()
    with server_uri("--cache-size", "4G", "--oplog-max-entries", "1000") as (uri, server):
        medians = asyncio.run(run(args, uri))
    versions = (
        f"PyMongo {pymongo.version}, Motor {motor.version}, Beanie {beanie.__version__}, "
        f"ODMantic {odmantic.__version__}, mongocat {mongocat.__version__}"
    )
    header = (
        f"Python {platform.python_version()} on {platform.machine()} "
        f"({os.cpu_count()} cores), {server}; {versions}; medians of {args.reps} "
        f"repetitions; ``python benchmarks/peers.py --reps {args.reps} --calls "
        f"{args.calls} --docs {args.docs} --bulk {args.bulk} --gridfs-mb {args.gridfs_mb}``."
    )
    table = table_rst(medians, header)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "performance_table.rst").write_text(table)
    plot(medians, args.out / "_static" / "performance.png")
    print(table)


if __name__ == "__main__":
    main()
