"""GridFS throughput and memory: mongocat against each driver's own bucket, in one run.

Usage:
    python benchmarks/gridfs_throughput.py [--size-mb 50] [--reps 9] [--rss-mb 200]

Throughput: each repetition uploads a ``--size-mb`` file with the raw driver's bucket
(PyMongo's ``AsyncGridFSBucket``, Motor's ``AsyncIOMotorGridFSBucket``) and with
mongocat on the same client, then both download one shared file of that size (the
format is the same) — mongocat once checking the SHA-256 and once with verify=False —
in a shuffled order, each after a garbage collection. The table shows median MB/s and
mongocat's ratio to the raw bucket (1.00 = as fast; above 1 = faster). mongocat hashes
every byte it writes and, unless verify=False, every byte it reads (SHA-256), which the
buckets do not.

Memory: a fresh process per driver and contestant streams a ``--rss-mb`` upload from
an async generator (1 MiB pieces, nothing kept) and then streams the download,
discarding it; the table shows how far the process's peak RSS rose above its RSS
before the transfer. The server runs in another process and is not counted.

The server is the embedded SecantusDB unless MONGOCAT_BENCH_URI names another one
(against the embedded server clients connect with retryWrites=false; it runs with a
4 GB cache and a 500-entry oplog, since every chunk written also enters the oplog).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from overhead import server_uri

from mongocat import Catalogue

DATABASE = "mongocat_bench_gridfs"
MIB = 1024 * 1024


def raw_bucket(cat: Catalogue) -> Any:
    """The driver's own GridFS bucket on the Catalogue's database."""
    if cat.driver == "motor":
        from motor.motor_asyncio import AsyncIOMotorGridFSBucket

        return AsyncIOMotorGridFSBucket(cat.database)
    from gridfs import AsyncGridFSBucket

    return AsyncGridFSBucket(cat.database)


async def throughput(uri: str, driver: str, size_mb: int, reps: int) -> dict[str, list[float]]:
    """MB/s of each contestant's upload and download, per repetition."""
    content = os.urandom(size_mb * MIB)
    seconds: dict[str, list[float]] = {}
    async with Catalogue.connect(uri, DATABASE, driver=driver) as cat:  # type: ignore[arg-type]
        await cat.client.drop_database(DATABASE)
        bucket, fs = raw_bucket(cat), cat.gridfs()
        await fs.upload("warm-up", b"x")  # creates the indexes for both

        async def raw_up() -> Any:
            return await bucket.upload_from_stream("raw.bin", content)

        async def raw_down(file_id: Any) -> bytes:
            stream = await bucket.open_download_stream(file_id)
            return bytes(await stream.read())

        async def mc_up() -> Any:
            return await fs.upload("mongocat.bin", content)

        async def mc_down(file_id: Any) -> bytes:
            return await fs.download(file_id)

        async def mc_down_unverified(file_id: Any) -> bytes:
            return await fs.download(file_id, verify=False)

        async def drop(file_id: Any) -> None:
            await cat.client[DATABASE]["fs.chunks"].delete_many({"files_id": file_id})
            await cat.client[DATABASE]["fs.files"].delete_one({"_id": file_id})

        uploads = {"raw": raw_up, "mongocat": mc_up}
        downloads = {"raw": raw_down, "mongocat": mc_down, "unverified": mc_down_unverified}
        shared = await fs.upload("shared.bin", content)  # both read this one file
        for rep in range(reps):
            order = ["raw", "mongocat"]
            random.Random(rep).shuffle(order)
            for name in order:  # uploads, each file deleted after (untimed)
                gc.collect()
                start = time.perf_counter()
                file_id = await uploads[name]()
                seconds.setdefault(f"{name} upload", []).append(time.perf_counter() - start)
                await drop(file_id)
            readers = [*order, "unverified"]
            random.Random(-rep).shuffle(readers)
            for name in readers:
                gc.collect()
                start = time.perf_counter()
                data = await downloads[name](shared)
                seconds.setdefault(f"{name} download", []).append(time.perf_counter() - start)
                assert data == content
        await cat.client.drop_database(DATABASE)
    return {key: [size_mb / s for s in values] for key, values in seconds.items()}


def status_bytes(field: str) -> int:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak_rss() -> None:
    """Restart the peak-RSS count (VmHWM) from the current RSS (Linux 4.0 and later).

    getrusage's ru_maxrss would not do: Linux carries it over from the parent process
    through fork and exec, so a child would report the benchmark's own peak.
    """
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


async def memory_child(uri: str, driver: str, contestant: str, phase: str, size_mb: int) -> None:
    """Stream a transfer of ``size_mb`` and print the peak RSS growth as JSON."""
    async with Catalogue.connect(uri, DATABASE, driver=driver) as cat:  # type: ignore[arg-type]
        bucket, fs = raw_bucket(cat), cat.gridfs()
        await fs.upload("warm-up", b"x")
        piece = os.urandom(MIB)

        async def source() -> AsyncIterator[bytes]:
            for _ in range(size_mb):
                yield piece

        file_id: Any = None
        if phase == "download":  # the file to read, stored before measuring
            file_id = await fs.upload(f"{contestant}-{driver}.bin", source())
        reset_peak_rss()
        baseline = status_bytes("VmRSS")
        if phase == "upload" and contestant == "mongocat":
            file_id = await fs.upload("m.bin", source())
        elif phase == "upload":
            stream = bucket.open_upload_stream("r.bin")
            async for data in source():
                await stream.write(data)
            await stream.close()
            file_id = stream._id
        elif contestant == "mongocat":
            async for _ in fs.stream(file_id):
                pass
        else:
            stream = await bucket.open_download_stream(file_id)
            while await stream.readchunk():
                pass
        growth = status_bytes("VmHWM") - baseline
        await fs.delete(file_id)
    print(json.dumps({"growth": growth}))


def memory(uri: str, driver: str, contestant: str, phase: str, size_mb: int) -> float:
    """Run one memory measurement in a fresh process; return the growth in MiB."""
    child = subprocess.run(
        [sys.executable, __file__, "--child", uri, driver, contestant, phase, str(size_mb)],
        capture_output=True,
        text=True,
    )
    if child.returncode != 0:
        raise SystemExit(f"the {driver} {contestant} {phase} measurement failed:\n{child.stderr}")
    return int(json.loads(child.stdout.strip().splitlines()[-1])["growth"]) / MIB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=50)
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--rss-mb", type=int, default=200)
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        uri, driver, contestant, phase, size = args.child
        asyncio.run(memory_child(uri, driver, contestant, phase, int(size)))
        return
    # Every chunk written also lands in the server's oplog, held in its cache: keep the
    # oplog short and the cache large enough for the gigabyte this script writes.
    with server_uri("--cache-size", "4G", "--oplog-max-entries", "500") as (uri, server):
        print(f"Python {platform.python_version()} on {platform.machine()}, {server}")
        print(f"throughput: a {args.size_mb} MB file, {args.reps} repetitions, medians\n")
        print(f"{'driver':8} {'operation':22} {'raw MB/s':>9} {'mongocat':>9} {'ratio':>6}")
        ratios = []
        for driver in ("pymongo", "motor"):
            speeds = asyncio.run(throughput(uri, driver, args.size_mb, args.reps))
            raw_down = statistics.median(speeds["raw download"])
            rows = [
                ("upload", statistics.median(speeds["raw upload"]), "mongocat upload"),
                ("download (SHA-256)", raw_down, "mongocat download"),
                ("download verify=False", raw_down, "unverified download"),
            ]
            for op, raw, key in rows:
                ours = statistics.median(speeds[key])
                ratios.append(ours / raw)
                print(f"{driver:8} {op:22} {raw:9.1f} {ours:9.1f} {ours / raw:6.2f}")
        print(f"\nworst throughput ratio (mongocat / raw bucket): {min(ratios):.2f}")
        print(f"\npeak RSS growth streaming {args.rss_mb} MB (MiB):\n")
        print(f"{'driver':8} {'operation':9} {'raw':>7} {'mongocat':>9}")
        worst = 0.0
        for driver in ("pymongo", "motor"):
            for phase in ("upload", "download"):
                raw_growth = memory(uri, driver, "raw", phase, args.rss_mb)
                ours = memory(uri, driver, "mongocat", phase, args.rss_mb)
                worst = max(worst, ours)
                print(f"{driver:8} {phase:9} {raw_growth:7.1f} {ours:9.1f}")
        print(f"\nlargest mongocat peak RSS growth: {worst:.1f} MiB")


if __name__ == "__main__":
    main()
