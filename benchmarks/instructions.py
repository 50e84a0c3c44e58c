"""Client instructions per call, mongocat against the raw driver, counted by callgrind.

Usage:
    python benchmarks/instructions.py [--rows update_one,insert_one] [--driver pymongo]

``overhead.py``'s per-row CPU ratios move by several hundredths between runs on a
small machine whose other core runs the server; instruction counts do not. Each
contestant's calls run in a child process under ``valgrind --tool=callgrind`` twice,
with ``--few`` and ``--many`` calls after the same warm-up; the difference of the two
totals over the difference of the call counts is the client's instructions per call
(start-up, imports and warm-up cancel out; ``PYTHONHASHSEED=0`` keeps the runs alike).
The server (the embedded SecantusDB unless ``MONGOCAT_BENCH_URI`` is set; the embedded
one with retryWrites=false) runs outside valgrind. Both contestants use one client per
process; mongocat is used as its docs teach, the raw driver with dict literals.
Needs valgrind (Debian's package).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from typing import Any

import pymongo
from overhead import server_uri

from mongocat import Catalogue, F, Update

DATABASE = "mongocat_bench_instructions"

#: Each row: a call by the raw driver and by mongocat (given the call's number).
Call = Callable[[Any, Any, int], Awaitable[Any]]
ROWS: dict[str, tuple[Call, Call]] = {
    "find_one": (
        lambda raw, mc, i: raw.find_one({"_id": i % 100}),
        lambda raw, mc, i: mc.find_one(F._id == i % 100),
    ),
    "insert_one": (
        lambda raw, mc, i: raw.insert_one({"n": i, "name": "item"}),
        lambda raw, mc, i: mc.insert_one({"n": i, "name": "item"}),
    ),
    "update_one": (
        lambda raw, mc, i: raw.update_one({"_id": i % 100}, {"$inc": {"stock": 1}}),
        lambda raw, mc, i: mc.update_one(F._id == i % 100, Update.inc(stock=1)),
    ),
    "update_one with dicts": (
        lambda raw, mc, i: raw.update_one({"_id": i % 100}, {"$inc": {"stock": 1}}),
        lambda raw, mc, i: mc.update_one({"_id": i % 100}, {"$inc": {"stock": 1}}),
    ),
    "replace_one": (
        lambda raw, mc, i: raw.replace_one({"_id": i % 100}, {"name": "item", "stock": 0}),
        lambda raw, mc, i: mc.replace_one(F._id == i % 100, {"name": "item", "stock": 0}),
    ),
    "insert_many 500": (
        lambda raw, mc, i: raw.insert_many(_batch(i, 500)),
        lambda raw, mc, i: mc.insert_many(_batch(i, 500)),
    ),
    "bulk_insert 1000": (
        lambda raw, mc, i: raw.insert_many(_batch(i, 1000)),
        lambda raw, mc, i: mc.bulk_insert(_batch(i, 1000), batch_size=1000),
    ),
}


def _batch(i: int, count: int) -> list[dict[str, Any]]:
    """``count`` small documents for call ``i``, as overhead.py's batch rows insert them."""
    return [{"n": i * count + j, "name": "item", "price": j / 10} for j in range(count)]


async def child(uri: str, driver: str, who: str, row: str, calls: int) -> None:
    """The measured process: warm up, then ``calls`` calls of one contestant."""
    if driver == "motor":
        from motor.motor_asyncio import AsyncIOMotorClient

        client: Any = AsyncIOMotorClient(uri)
    else:
        client = pymongo.AsyncMongoClient(uri)
    cat = Catalogue(client, DATABASE)
    raw, mc = client[DATABASE]["docs"], cat.collection("docs")
    call = ROWS[row][0 if who == "raw" else 1]
    for i in range(20):
        await call(raw, mc, i)
    for i in range(calls):
        await call(raw, mc, i)
    if driver == "motor":
        client.close()
    else:
        await client.close()


def instructions(uri: str, driver: str, who: str, row: str, calls: int) -> int:
    """The client's total instructions for one child run, as callgrind counts them."""
    return callgrind_total(__file__, "--child", uri, driver, who, row, str(calls))


def callgrind_total(script: str, *args: str) -> int:
    """Run ``script`` with ``args`` under callgrind; return the total instructions."""
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "callgrind.out")
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            script,
            *args,
        ]
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        subprocess.run(command, check=True, env=env, capture_output=True)
        with open(out, encoding="utf-8") as counts:
            for line in counts:
                match = re.match(r"(?:summary|totals):\s+(\d+)", line)
                if match:
                    return int(match.group(1))
    raise RuntimeError("callgrind wrote no total")


def seed(uri: str) -> None:
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri)
    client.drop_database(DATABASE)
    client[DATABASE]["docs"].insert_many([{"_id": i, "stock": 0} for i in range(100)])
    client.close()


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        uri, driver, who, row, calls = sys.argv[2:7]
        asyncio.run(child(uri, driver, who, row, int(calls)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default=",".join(ROWS), help="comma-separated rows")
    parser.add_argument("--driver", default="pymongo", choices=("pymongo", "motor"))
    parser.add_argument("--few", type=int, default=50)
    parser.add_argument("--many", type=int, default=450)
    args = parser.parse_args()
    rows = [row.strip() for row in args.rows.split(",")]
    unknown = sorted(set(rows) - set(ROWS))
    if unknown:
        parser.error(f"unknown rows {unknown}; the rows are {', '.join(ROWS)}")
    with server_uri() as (uri, setting):
        seed(uri)
        print(f"client instructions per call ({args.driver}; server: {setting})\n")
        print("| call | raw driver | mongocat | mongocat adds | ratio |")
        print("|---|---:|---:|---:|---:|")
        for row in rows:
            per_call = {}
            for who in ("raw", "mongocat"):
                few = instructions(uri, args.driver, who, row, args.few)
                many = instructions(uri, args.driver, who, row, args.many)
                per_call[who] = (many - few) / (args.many - args.few)
            raw, ours = per_call["raw"], per_call["mongocat"]
            print(f"| {row} | {raw:,.0f} | {ours:,.0f} | {ours - raw:,.0f} | {ours / raw:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
