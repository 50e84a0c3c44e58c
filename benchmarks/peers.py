"""mongocat against the raw drivers and the ODMs, in one interleaved run.

Usage:
    python benchmarks/peers.py [--reps 5] [--calls 500] [--docs 10000] [--bulk 100000]
                               [--gridfs-mb 50] [--out docs] [--pin] [--only find,bulk]

Contestants, each used the way its documentation teaches: raw PyMongo async, raw
Motor, mongocat on each driver, Beanie (on PyMongo async) and ODMantic (on Motor).
An operation a contestant does not offer is left out of its row. For each operation
and repetition the contestants run in a shuffled order in which each mongocat runs
right before or after its own driver; the table shows the median rate over
``--reps`` repetitions, the ratio to raw PyMongo async (above 1 is faster) and the
median of mongocat's per-repetition ratio to its driver. It is printed in Markdown,
written as ``<out>/performance_table.rst`` and plotted as
``<out>/_static/performance.png``, which the docs' "Performance" page shows.
``--only`` runs some operations and only prints their table; ``--pin`` gives the
contestants a core of their own.

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
        name = "products"


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

    model_config = {"collection": "products"}  # noqa: RUF012 - ODMantic's spelling


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
        "PyMongo async": raw_pymongo[DATABASE]["products"],
        "Motor": raw_motor[DATABASE]["products"],
    }
    mongocats = {
        "mongocat (PyMongo)": mc_pymongo.collection("products"),
        "mongocat (Motor)": mc_motor.collection("products"),
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

    # Every contestant reads the same collection, so that the server's work is the
    # same for all of them and only the client side differs.
    seeded: list[Any] = []
    docs = [product(i) for i in range(args.docs)]

    async def seed() -> None:
        products = collections["PyMongo async"]
        await products.delete_many({})
        seeded[:] = (await products.insert_many([dict(d) for d in docs])).inserted_ids
        await products.create_index("price")

    calls = max(1, args.calls // args.rounds)  # per round
    pages = f"paginate {args.docs:,} (docs)"
    # Per operation: rounds per repetition, and runs of each contestant per round.
    # Short operations run many short rounds, so that the contestants alternate often
    # and a pause of the server falls on all of them alike; the shortest run a few
    # times in each round; the long ones run once or a few times per repetition.
    plan = {
        "insert_many": (3, 1),
        "find 1,000 to a list": (args.rounds, 2),
        "filtered find + projection": (args.rounds, 5),
        "bulk insert": (1, 1),
        "GridFS up + down (MB)": (3, 1),
        pages: (1, 1),
    }
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

        async def find_one(coll: Any = coll) -> float:
            for i in range(calls):
                await coll.find_one({"_id": seeded[i % len(seeded)]})
            return calls

        add("find_one by _id", name, find_one)

    async def beanie_find_one() -> float:
        for i in range(calls):
            await BProduct.get(seeded[i % len(seeded)])
        return calls

    async def odmantic_find_one() -> float:
        for i in range(calls):
            await engine.find_one(OProduct, OProduct.id == seeded[i % len(seeded)])
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

        async def update_one(coll: Any = coll) -> float:
            for i in range(calls):
                await coll.update_one({"_id": seeded[i % len(seeded)]}, {"$inc": {"stock": 1}})
            return calls

        add("update_one", name, update_one)
    for name, mc in mongocats.items():

        async def mc_update_one(mc: Any = mc) -> float:
            for i in range(calls):
                await mc.update_one(F._id == seeded[i % len(seeded)], Update.inc(stock=1))
            return calls

        add("update_one", name, mc_update_one)

    async def beanie_update_one() -> float:
        for i in range(calls):
            await BProduct.find_one(BProduct.id == seeded[i % len(seeded)]).inc({BProduct.stock: 1})
        return calls

    async def odmantic_update_one() -> float:
        for i in range(calls):  # ODMantic's way: load, change, save
            found = await engine.find_one(OProduct, OProduct.id == seeded[i % len(seeded)])
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

        add(pages, name, pages_skip)
    for name, mc in mongocats.items():

        async def pages_keyset(mc: Any = mc) -> float:
            seen, token = 0, None
            while True:
                result = await mc.paginate(sort=Sort.asc("price"), limit=page, after=token)
                seen += len(result.items)
                token = result.next_token
                if token is None:
                    return seen

        add(pages, name, pages_keyset)

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

    add(pages, "Beanie", beanie_pages)
    add(pages, "ODMantic", odmantic_pages)

    assert set(plan) <= set(ops), f"the plan names no such operation: {set(plan) - set(ops)}"
    if args.only:
        wanted = [word.strip().lower() for word in args.only.split(",")]
        ops = {op: by for op, by in ops.items() if any(word in op.lower() for word in wanted)}
        if not ops:
            raise SystemExit(f"--only {args.only!r} names no operation")
    rates: dict[str, dict[str, list[float]]] = {}
    for rep in range(args.reps):
        await seed()
        for op, contestants in ops.items():
            rng = random.Random(rep * 31 + len(op))
            rounds, runs = plan.get(op, (args.rounds, 1))
            work = dict.fromkeys(contestants, 0.0)
            spent = dict.fromkeys(contestants, 0.0)
            for _ in range(rounds):
                for name in running_order(list(contestants), rng):
                    gc.collect()
                    start = time.perf_counter()
                    for _ in range(runs):
                        work[name] += await contestants[name]()
                    spent[name] += time.perf_counter() - start
                    await clear_scratch()
            for name in contestants:
                rates.setdefault(op, {}).setdefault(name, []).append(work[name] / spent[name])
        print(f"  repetition {rep + 1}/{args.reps} done", file=sys.stderr)

    await raw_pymongo.drop_database(DATABASE)
    await mc_pymongo.close()
    await mc_motor.close()
    await raw_pymongo.close()
    raw_motor.close()
    await beanie_client.close()
    odmantic_client.close()
    return rates


NAMES = ["PyMongo async", "Motor", "mongocat (PyMongo)", "mongocat (Motor)", "Beanie", "ODMantic"]
PAIRS = (("mongocat (PyMongo)", "PyMongo async"), ("mongocat (Motor)", "Motor"))


def running_order(names: list[str], rng: random.Random) -> list[str]:
    """A shuffled order in which each mongocat runs right before or after its driver.

    The pair's two runs then meet the server in the same state, so their ratio is
    measured with the least drift; the pairs and the others still come in random order.
    """
    groups = [[ours, driver] for ours, driver in PAIRS if ours in names and driver in names]
    paired = {name for group in groups for name in group}
    groups += [[name] for name in names if name not in paired]
    rng.shuffle(groups)
    for group in groups:
        rng.shuffle(group)
    return [name for group in groups for name in group]


def summarise(
    rates: dict[str, dict[str, list[float]]],
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, list[float]]]]:
    """Median rates, and per pair the ratios of each repetition's adjacent runs."""
    medians = {op: {n: statistics.median(v) for n, v in by.items()} for op, by in rates.items()}
    paired = {
        op: {
            ours: sorted(a / b for a, b in zip(by[ours], by[driver], strict=True))
            for ours, driver in PAIRS
            if ours in by and driver in by
        }
        for op, by in rates.items()
    }
    return medians, paired


def rows(
    medians: dict[str, dict[str, float]], paired: dict[str, dict[str, list[float]]]
) -> list[list[str]]:
    """The table's cells, header row first: rate and ratio to raw PyMongo async per
    contestant, then mongocat's paired ratio to its own driver."""
    table = [["operation (per second)", *NAMES, "mongocat / its driver"]]
    for op, by in medians.items():
        base = by["PyMongo async"]
        cells = [op]
        for name in NAMES:
            rate = by.get(name)
            cells.append("n/a" if rate is None else f"{rate:,.0f} ({rate / base:.2f}x)")
        own = [f"{statistics.median(ratios):.2f}" for ratios in paired[op].values()]
        table.append([*cells, " / ".join(own) or "n/a"])
    return table


def table_rst(table: list[list[str]], header: str) -> str:
    """The table as an RST list-table under ``header``, for the docs page."""
    lines = [".. list-table::", "   :header-rows: 1", "   :stub-columns: 1", ""]
    for row in table:
        lines += [f"   * - {row[0]}", *[f"     - {cell}" for cell in row[1:]]]
    return f"{header}\n\n" + "\n".join(lines) + "\n"


def table_markdown(table: list[list[str]]) -> str:
    """The table in Markdown, for issues and pull requests."""
    lines = [f"| {' | '.join(table[0])} |", f"|---|{'---:|' * (len(table[0]) - 1)}"]
    lines += [f"| {' | '.join(row)} |" for row in table[1:]]
    return "\n".join(lines)


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
    parser.add_argument("--calls", type=int, default=500, help="single-document calls per rep")
    parser.add_argument(
        "--rounds", type=int, default=10, help="rounds per repetition of the short operations"
    )
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--bulk", type=int, default=100_000)
    parser.add_argument("--gridfs-mb", type=int, default=50)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument(
        "--only", help="run only the operations whose names contain one of these words (a,b)"
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="run the embedded server on the first cores and the contestants on the last "
        "one, so that neither takes the other's core",
    )
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    if args.pin:
        if len(cores) < 2:
            raise SystemExit("--pin needs at least two cores")
        os.sched_setaffinity(0, set(cores[:-1]))  # the embedded server inherits this
    with server_uri("--cache-size", "4G", "--oplog-max-entries", "1000") as (uri, server):
        if args.pin:
            os.sched_setaffinity(0, {cores[-1]})
        rates = asyncio.run(run(args, uri))
    medians, paired = summarise(rates)
    for op, by in paired.items():
        spread = ", ".join(
            f"{ours} {statistics.median(r):.3f} ({min(r):.2f}-{max(r):.2f})"
            for ours, r in by.items()
        )
        print(f"  {op}: ratio to its driver, median (range) {spread}", file=sys.stderr)
    versions = (
        f"PyMongo {pymongo.version}, Motor {motor.version}, Beanie {beanie.__version__}, "
        f"ODMantic {odmantic.__version__}, mongocat {mongocat.__version__}"
    )
    header = (
        f"Python {platform.python_version()} on {platform.machine()} "
        f"({os.cpu_count()} cores), {server}; {versions}; medians of {args.reps} "
        f"repetitions; ``python benchmarks/peers.py --reps {args.reps} --rounds "
        f"{args.rounds} --calls {args.calls} --docs {args.docs} --bulk {args.bulk} "
        f"--gridfs-mb {args.gridfs_mb}"
        f"{' --pin' if args.pin else ''}``."
    )
    if args.pin:
        header += f" The server ran on core(s) {cores[:-1]}, the contestants on core {cores[-1]}."
    header += (
        " The last column is, per driver, the median over the repetitions of mongocat's "
        "rate divided by its driver's, the two run back to back."
    )
    table = rows(medians, paired)
    print(f"{header}\n\n{table_markdown(table)}")
    if args.only:
        return  # a partial run does not replace the published table
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "performance_table.rst").write_text(table_rst(table, header))
    plot(medians, args.out / "_static" / "performance.png")


if __name__ == "__main__":
    main()
