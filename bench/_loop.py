"""What a piece of work costs the process: CPU time, wall time, event-loop stalls.

A stall may be a garbage collection: a full pass walks every object of the process
and holds every thread meanwhile, whichever thread started it. The longest pass in
a block is measured too, so that a stall can be told apart from one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass
import gc
import time
from typing import Any

# The probe wakes this often; a wake-up later than due means the loop was busy.
STEP = 0.001


@dataclass(slots=True)
class Cost:
    """CPU seconds of this process (all threads), wall seconds, longest loop stall.

    gc_s is the longest garbage collection pass meanwhile, in any thread.
    """

    cpu_s: float = 0.0
    wall_s: float = 0.0
    stall_s: float = 0.0
    gc_s: float = 0.0


async def _probe(cost: Cost) -> None:
    """Sleep in short steps; record in cost how late the latest wake-up came.

    A callback that runs for 30 ms makes the probe wake 30 ms late: the longest
    lateness is the longest stall any other task on the loop had to wait through.
    Baseline lateness (timer resolution, scheduling) is well under a millisecond.
    """
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + STEP
        await asyncio.sleep(STEP)
        cost.stall_s = max(cost.stall_s, loop.time() - due)


@contextlib.asynccontextmanager
async def measured(*, probe: bool) -> AsyncIterator[Cost]:
    """Measure a block: process CPU (executor threads included), wall time, stalls.

    Only work done in this process counts: the benchmarks that use it run the
    emulator in a child process (bench._remote), so Google's side is not ours.
    The probe costs CPU itself (a wake-up per millisecond): CPU figures come from
    blocks measured without it (probe=False), stalls from blocks with it.
    A full garbage collection runs first, unmeasured: otherwise the block pays for
    what earlier steps allocated (a collection of every object of the process,
    hundreds of milliseconds with a 20,000-event calendar, runs whenever a
    quarter more objects than at the last one have survived). Collections that
    the block's own allocations cause still count.
    """
    gc.collect()
    cost = Cost()
    task = asyncio.create_task(_probe(cost)) if probe else None
    started: list[float] = []

    def collecting(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            cost.gc_s = max(cost.gc_s, time.perf_counter() - started.pop())

    gc.callbacks.append(collecting)
    # The probe is asleep before the work starts and wakes once after it ends.
    await asyncio.sleep(STEP * 2)
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        yield cost
    finally:
        cost.cpu_s = time.process_time() - cpu
        cost.wall_s = time.perf_counter() - wall
        await asyncio.sleep(STEP * 2)
        gc.callbacks.remove(collecting)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
