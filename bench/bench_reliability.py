"""Reliability figures: the load scenario of tests/test_reliability_load.py, outside pytest.

A calendar of EVENTS events with SERIES recurring series is seeded into the emulator's
model (no HTTP), then Home Assistant (the test harness's core, in-process, polling) sets
the integration up from a config entry. It prints, as JSON:

- the full sync: seconds, events.list requests, API requests the client sent;
- a restart from the store: seconds and requests (one incremental listing);
- EDITS edits in Google and one incremental sync: seconds, requests, changes announced;
- a month read: the local index (CalendarTimeline.overlapping) and the entity's
  async_get_events (conversion to Home Assistant's CalendarEvent included), first
  call and median over REPEATS;
- the store: JSON size, memory of the loaded StoredData and peak while loading
  (tracemalloc), and peak memory of the whole full sync (a second, traced run).

Run from the repository root: .venv/bin/python bench/bench_reliability.py [EVENTS] [SERIES]
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
import gc
import json
from pathlib import Path
import statistics
import sys
import time
import tracemalloc
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from homeassistant.components.calendar.const import DATA_COMPONENT
from homeassistant.util import dt as dt_util

from bench._common import ACCOUNT, running_emulator
from bench._ha import ours
from custom_components.google_calendar_sync.const import EVENT_CHANGED
from custom_components.google_calendar_sync.store import SyncStore, calendar_file_name
from google_calendar_emulator import GoogleCalendarEmulator
from tests.reliability_helpers import LOAD_EVENTS, LOAD_SERIES, seed_load

EDITS = 100
REPEATS = 10


def _lists(emulator: GoogleCalendarEmulator) -> int:
    """Return the events.list requests the emulator answered."""
    return sum(
        1
        for r in emulator.requests.matching("GET", "/events")
        if r.path.endswith("/events")
    )


async def _timed[T](call: Callable[[], Awaitable[T]]) -> tuple[float, T]:
    """Return the seconds an awaitable took and its result."""
    started = time.perf_counter()
    result = await call()
    return time.perf_counter() - started, result


async def _run(events: int, series: int, *, trace: bool) -> dict[str, Any]:
    """Run the scenario once; with trace, only the full sync's peak memory counts."""
    figures: dict[str, Any] = {"events": events, "series": series}
    async with running_emulator() as emulator:
        now = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
        started = time.perf_counter()
        seed_load(emulator, ACCOUNT, now, events=events, series=series)
        figures["seed_s"] = round(time.perf_counter() - started, 3)
        emulator.requests.clear()
        gc.collect()
        if trace:
            tracemalloc.start()
        started = time.perf_counter()
        async with ours(emulator, push=False) as harness:
            full_sync = time.perf_counter() - started
            if trace:
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                return {"full_sync_peak_mb": round(peak / 1e6, 1)}
            hass, entry = harness.hass, harness.entry
            figures["full_sync"] = {
                "seconds": round(full_sync, 3),
                "events_list_requests": _lists(emulator),
                "api_requests": entry.runtime_data.api.request_count,
            }

            emulator.requests.clear()
            started = time.perf_counter()
            assert await hass.config_entries.async_reload(entry.entry_id)
            await hass.async_block_till_done()
            figures["restart_from_store"] = {
                "seconds": round(time.perf_counter() - started, 3),
                "events_list_requests": _lists(emulator),
                "api_requests": len(emulator.requests),
            }

            announced: list[Any] = []
            remove = hass.bus.async_listen(EVENT_CHANGED, announced.append)
            for event in emulator.events(ACCOUNT)[:EDITS]:
                emulator.patch_event(ACCOUNT, event["id"], {"summary": "Edited"})
            emulator.requests.clear()
            coordinator = entry.runtime_data.coordinators[ACCOUNT]
            seconds, _ = await _timed(coordinator.async_sync)
            await hass.async_block_till_done()
            remove()
            figures["incremental_sync"] = {
                "edits": EDITS,
                "seconds": round(seconds, 3),
                "api_requests": len(emulator.requests),
                "changes_announced": len(announced),
            }

            entity = hass.data[DATA_COMPONENT].get_entity(harness.entity_id)
            assert entity is not None
            month = now - timedelta(days=10)
            end = month + timedelta(days=30)
            index: list[float] = []
            for _ in range(REPEATS):
                begin = time.perf_counter()
                coordinator.data.overlapping(month, end)
                index.append(time.perf_counter() - begin)
            reads: list[float] = []
            found = 0
            for _ in range(REPEATS):
                seconds, result = await _timed(
                    lambda: entity.async_get_events(hass, month, end)
                )
                reads.append(seconds)
                found = len(result)
            figures["month_read"] = {
                "events": found,
                "index_median_ms": round(statistics.median(index) * 1000, 2),
                "entity_first_ms": round(reads[0] * 1000, 2),
                "entity_median_ms": round(statistics.median(reads) * 1000, 2),
            }

            gc.collect()
            tracemalloc.start()
            await SyncStore(hass, entry.entry_id).async_load([ACCOUNT])
            retained, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            figures["store"] = {
                "json_mb": round(
                    Path(
                        hass.config.path(
                            ".storage", calendar_file_name(entry.entry_id, ACCOUNT)
                        )
                    )
                    .stat()
                    .st_size
                    / 1e6,
                    2,
                ),
                "loaded_mb": round(retained / 1e6, 1),
                "peak_while_loading_mb": round(peak / 1e6, 1),
            }
    return figures


async def measure(
    events: int = LOAD_EVENTS, series: int = LOAD_SERIES
) -> dict[str, Any]:
    """Return every figure: one timed run, then one traced run for peak memory."""
    figures = await _run(events, series, trace=False)
    figures["store"].update(await _run(events, series, trace=True))
    return figures


def main() -> None:
    """Print the figures as JSON."""
    args = [int(arg) for arg in sys.argv[1:3]]
    print(json.dumps(asyncio.run(measure(*args)), indent=2))


if __name__ == "__main__":
    main()
