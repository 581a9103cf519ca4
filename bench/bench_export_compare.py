"""Export: time and HTTP requests for appointments, batched against one per event.

The figures behind bench_export.py (whose appointments it reuses) as data for the
table: our export (async_run_export, batch requests) against one insert request per
event, each into a fresh emulator calendar. The emulator answers on loopback, so the
table adds a typical 100 ms round trip to Google per HTTP request as an estimate.
Run from the repository root: .venv/bin/python bench/bench_export_compare.py [COUNT]
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
import sys
import time
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ACCOUNT, TrafficMeter, our_api, running_emulator
from bench.bench_export import (
    ROUND_TRIP,
    export_batched,
    insert_one_by_one,
    make_appointments,
)

DEFAULT_COUNT = 500


async def measure(count: int = DEFAULT_COUNT) -> dict[str, Any]:
    """Export count appointments both ways; return time and requests of each."""
    appointments = make_appointments(count)
    async with running_emulator() as emulator, our_api(emulator) as api:
        batched = emulator.add_calendar(ACCOUNT, "batched")
        meter = TrafficMeter(emulator)
        started = time.perf_counter()
        result = await export_batched(api, batched, appointments)
        batched_seconds = time.perf_counter() - started
        batched_traffic = meter.read()
        assert result.created == count, result

        single = emulator.add_calendar(ACCOUNT, "single")
        meter.reset()
        started = time.perf_counter()
        await insert_one_by_one(api, single, appointments)
        single_seconds = time.perf_counter() - started
        single_traffic = meter.read()
        assert len(emulator.events(single)) == count
    return {
        "appointments": count,
        "batched_s": batched_seconds,
        "batched_requests": batched_traffic.requests,
        "single_s": single_seconds,
        "single_requests": single_traffic.requests,
        "round_trip_s": ROUND_TRIP,
        "batched_estimate_s": batched_seconds + batched_traffic.requests * ROUND_TRIP,
        "single_estimate_s": single_seconds + single_traffic.requests * ROUND_TRIP,
    }


def main() -> None:
    """Print the figures as JSON."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_COUNT
    print(json.dumps(asyncio.run(measure(count)), indent=2))


if __name__ == "__main__":
    main()
