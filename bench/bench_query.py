"""Query speed: the events of one month over thousands of stored events with series.

What each calendar entity's async_get_events does: our CalendarTimeline.overlapping
and conversion to CalendarEvent, against gcal_sync's local timeline
(gcal_sync.timeline.calendar_timeline) and the built-in google integration's
conversion, both built from the same Google events. Index build and query are timed
apart: both integrations build once per sync and query many times.
Run from the repository root: .venv/bin/python bench/bench_query.py [SIZES...]
"""

from __future__ import annotations

import asyncio
from datetime import datetime
import json
from pathlib import Path
import sys
import time
from typing import Any
from zoneinfo import ZoneInfo

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gcal_sync.model import Event
from gcal_sync.timeline import calendar_timeline
from homeassistant.components.google.calendar import _get_calendar_event

from bench._common import ACCOUNT, TIME_ZONE, running_emulator, seed_calendar
from custom_components.google_calendar_sync.calendar import to_calendar_event
from custom_components.google_calendar_sync.google.timeline import CalendarTimeline

DEFAULT_SIZES = (1_000, 10_000, 20_000)
REPEATS = 3
ZONE = ZoneInfo(TIME_ZONE)
# The month asked for: the calendar's events spread a year either side of 2030-01-01.
MONTH = (datetime(2030, 3, 1, tzinfo=ZONE), datetime(2030, 4, 1, tzinfo=ZONE))


def _best(func: Any, repeats: int = REPEATS) -> tuple[float, Any]:
    """Return the fastest of repeats calls and the last result."""
    best = float("inf")
    result: Any = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - started)
    return best, result


def measure_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Time building and querying both timelines over the same Google events."""
    start, end = MONTH
    ours_build, ours = _best(
        lambda: CalendarTimeline(events, default_time_zone=TIME_ZONE), 1
    )
    ours_timeline, _ = _best(lambda: ours.overlapping(start, end))
    ours_query, ours_found = _best(
        lambda: [to_calendar_event(event) for event in ours.overlapping(start, end)]
    )

    def _gcal_build() -> Any:
        return calendar_timeline([Event(**data) for data in events], ZONE)

    gcal_build, gcal = _best(_gcal_build, 1)
    gcal_timeline, _ = _best(lambda: list(gcal.overlapping(start, end)))
    gcal_query, gcal_found = _best(
        lambda: [_get_calendar_event(event) for event in gcal.overlapping(start, end)]
    )
    return {
        "events": len(events),
        "series": sum(1 for event in events if event.get("recurrence")),
        "found_ours": len(ours_found),
        "found_gcal_sync": len(gcal_found),
        "ours_build_s": ours_build,
        "gcal_sync_build_s": gcal_build,
        "ours_query_s": ours_query,
        "gcal_sync_query_s": gcal_query,
        "query_speedup": gcal_query / ours_query,
        # The timelines alone, without Home Assistant's CalendarEvent validation.
        "ours_timeline_s": ours_timeline,
        "gcal_sync_timeline_s": gcal_timeline,
        "timeline_speedup": gcal_timeline / ours_timeline,
        "build_speedup": gcal_build / ours_build,
    }


async def _events(size: int) -> list[dict[str, Any]]:
    """Return size Google events as the emulator stores them."""
    async with running_emulator() as emulator:
        return seed_calendar(emulator, ACCOUNT, size)


async def measure(sizes: tuple[int, ...] = DEFAULT_SIZES) -> list[dict[str, Any]]:
    """Measure every size."""
    return [measure_events(await _events(size)) for size in sizes]


def main() -> None:
    """Print the figures as JSON."""
    sizes = tuple(int(arg) for arg in sys.argv[1:]) or DEFAULT_SIZES
    print(json.dumps(asyncio.run(measure(sizes)), indent=2))


if __name__ == "__main__":
    main()
