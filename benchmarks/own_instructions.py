"""mongocat's own client instructions per call, with the server taken out: deterministic.

Usage:
    python benchmarks/own_instructions.py [--rows "update_one, F and Update,insert_one"]
                                          [--few 100] [--many 1100]

``instructions.py`` counts a whole call against a server, and its counts move by
thousands of instructions between runs with the server's timing (the event loop polls
more or less often). This script counts only what runs in the client with the stub
driver of ``own_cost.py`` (writes acknowledged at once, nothing sent): each row's raw
call and mongocat's call run under ``valgrind --tool=callgrind`` with ``--few`` and
with ``--many`` calls after the same warm-up, and the difference divided by the extra
calls is the cost per call, so start-up and imports cancel. Nothing here depends on
timing, and the children run with ``PYTHONHASHSEED=0`` (as ``instructions.py``'s do),
so a row repeats to a few instructions. Needs valgrind.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WARM_UP = 50


async def child(row: str, who: str, calls: int) -> None:
    """The measured process: the stub collection, a warm-up, then ``calls`` calls."""
    sys.path.insert(0, str(HERE))
    from own_cost import calls as rows
    from own_cost import stub_collection
    from pymongo import AsyncMongoClient

    client: Any = AsyncMongoClient("mongodb://127.0.0.1:9/", connect=False)
    raw, mc = stub_collection(client)
    call = rows(raw, mc)[row][0 if who == "raw" else 1]
    for i in range(WARM_UP):
        await call(i)
    for i in range(calls):
        await call(i)


def counted(row: str, who: str, calls: int) -> int:
    """The child's total instructions, as callgrind counts them."""
    from instructions import callgrind_total

    return callgrind_total(__file__, "--child", row, who, str(calls))


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        asyncio.run(child(sys.argv[2], sys.argv[3], int(sys.argv[4])))
        return 0
    sys.path.insert(0, str(HERE))
    from own_cost import calls as rows

    names = [name for name in rows(None, None) if "per document" not in name]  # type: ignore[arg-type]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default=",".join(names), help="comma-separated rows")
    parser.add_argument("--few", type=int, default=100)
    parser.add_argument("--many", type=int, default=1100)
    args = parser.parse_args()
    chosen = [name.strip() for name in re.split(r",(?! )", args.rows)]
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        parser.error(f"unknown rows {unknown}; the rows are {', '.join(names)}")
    extra = args.many - args.few
    print("client instructions per call with the stub driver (no server)\n")
    print("| call | driver method alone | through mongocat | mongocat adds |")
    print("|---|---:|---:|---:|")
    for name in chosen:
        per = {
            who: (counted(name, who, args.many) - counted(name, who, args.few)) // extra
            for who in ("raw", "mongocat")
        }
        print(
            f"| {name} | {per['raw']:,} | {per['mongocat']:,} | {per['mongocat'] - per['raw']:,} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
