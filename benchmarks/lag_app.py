"""The example catalogue app with an event-loop monitor, for api_loop_lag.py.

api_loop_lag.py runs this under uvicorn in its own process, as the service is deployed
(``uvicorn benchmarks.lag_app:app --loop asyncio``); it is not meant to be used alone.
Two extra routes drive the monitor: ``POST /_lag/start`` starts recording and
``POST /_lag/stop`` stops and returns what was recorded:

* ``loop_lag_ms``: a task asks to wake every millisecond; the latest it ever woke is
  the longest time the loop could not run anything else (asyncio runs every ready
  callback in one iteration, so this adds up the steps of all the requests that
  became ready together);
* ``longest_callback_ms``: every callback the loop runs is timed; the longest is
  what one blocking call (or one garbage-collector pause) would show;
* ``most_callback_cpu_ms``: the most CPU time one callback used (the thread's CPU
  clock). Where it is far below the wall time, the callback was not working but
  waiting: for a core the operating system gave to another process, or for the GIL
  (which Motor's I/O threads also take);
* ``longest_gc_ms`` and ``longest_gc_generation``: the cyclic garbage collector's
  longest pause (inside some callback), and which generation it collected.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from examples.catalogue_api.app import create_app

# The longest callback in wall time, and the most CPU time one callback used.
_longest_callback = [0.0, 0.0]
_original_run = asyncio.events.Handle._run


def _timed_run(self: asyncio.events.Handle) -> None:
    start, cpu = time.perf_counter(), time.thread_time()
    _original_run(self)
    took, used = time.perf_counter() - start, time.thread_time() - cpu
    _longest_callback[1] = max(_longest_callback[1], used)
    if took > _longest_callback[0]:
        _longest_callback[0] = took
        if os.environ.get("LAG_DEBUG") and took > 0.02:
            print(f"{took * 1000:.1f} ms: {self!r}"[:400], file=sys.stderr)


asyncio.events.Handle._run = _timed_run  # type: ignore[method-assign]

# The longest pause of the cyclic garbage collector, and its generation.
_longest_gc = [0.0, -1.0]
_gc_started = [0.0]


def _gc_timer(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_started[0] = time.perf_counter()
    else:
        took = time.perf_counter() - _gc_started[0]
        if took > _longest_gc[0]:
            _longest_gc[:] = [took, float(info["generation"])]


gc.callbacks.append(_gc_timer)


class _Monitor:
    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None
        self.lag = 0.0

    async def _watch(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.001)
            self.lag = max(self.lag, time.perf_counter() - start - 0.001)

    def start(self) -> None:
        self.lag = 0.0
        _longest_callback[:] = [0.0, 0.0]
        _longest_gc[:] = [0.0, -1.0]
        if self.task is None:
            self.task = asyncio.create_task(self._watch())

    async def stop(self) -> dict[str, float]:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
            self.task = None
        return {
            "loop_lag_ms": self.lag * 1000,
            "longest_callback_ms": _longest_callback[0] * 1000,
            "most_callback_cpu_ms": _longest_callback[1] * 1000,
            "longest_gc_ms": _longest_gc[0] * 1000,
            "longest_gc_generation": _longest_gc[1],
        }


_monitor = _Monitor()
app = create_app()


@app.post("/_lag/start", include_in_schema=False)
async def start_monitor() -> dict[str, Any]:
    _monitor.start()
    return {}


@app.post("/_lag/stop", include_in_schema=False)
async def stop_monitor() -> dict[str, float]:
    return await _monitor.stop()
