"""Cost per change: HTTP requests and response bytes to learn about one changed event.

Our incremental sync (events.list with the stored syncToken) against the naive approach
of re-listing every event on each notification and comparing `sequence` numbers, in
calendars of growing size. Ours must stay flat as the calendar grows.
Run from the repository root: .venv/bin/python bench/bench_cost.py [SIZES...]
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
import json
from pathlib import Path
import sys
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    ACCOUNT,
    TrafficMeter,
    our_api,
    running_emulator,
    seed_calendar,
)
from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.sync import (
    CalendarSnapshot,
    async_sync_calendar,
)

DEFAULT_SIZES = (100, 1_000, 10_000)
EDITS = 5


async def _naive_listing(api: GoogleCalendarApi) -> dict[str, tuple[int, str]]:
    """List every event, all pages; return id -> (sequence, updated)."""
    seen: dict[str, tuple[int, str]] = {}
    page_token: str | None = None
    while True:
        page = await api.list_events(ACCOUNT, page_token=page_token)
        for item in page.get("items", []):
            seen[item["id"]] = (item.get("sequence", 0), item.get("updated", ""))
        page_token = page.get("nextPageToken")
        if not page_token:
            return seen


async def measure_size(size: int, edits: int = EDITS) -> dict[str, Any]:
    """Return the per-change cost of both approaches in a calendar of size events."""
    async with running_emulator() as emulator, our_api(emulator) as api:
        stored = seed_calendar(emulator, ACCOUNT, size)
        meter = TrafficMeter(emulator)
        ours = await async_sync_calendar(
            api, ACCOUNT, CalendarSnapshot(), now=datetime.now(UTC)
        )
        snapshot = ours.snapshot
        naive_state = await _naive_listing(api)
        ours_requests = ours_bytes = naive_requests = naive_bytes = 0
        for index in range(edits):
            target = stored[(index * 37) % len(stored)]
            emulator.patch_event(ACCOUNT, target["id"], {"summary": f"Changed {index}"})

            meter.reset()
            result = await async_sync_calendar(
                api, ACCOUNT, snapshot, now=datetime.now(UTC)
            )
            traffic = meter.read()
            assert not result.full_sync
            assert [change.event["id"] for change in result.changes] == [target["id"]]
            snapshot = result.snapshot
            ours_requests += traffic.requests
            ours_bytes += traffic.response_bytes

            meter.reset()
            listing = await _naive_listing(api)
            traffic = meter.read()
            changed = [
                event_id
                for event_id, version in listing.items()
                if naive_state.get(event_id) != version
            ]
            assert changed == [target["id"]], changed
            naive_state = listing
            naive_requests += traffic.requests
            naive_bytes += traffic.response_bytes
    return {
        "events": size,
        "ours_requests": ours_requests / edits,
        "ours_bytes": ours_bytes / edits,
        "naive_requests": naive_requests / edits,
        "naive_bytes": naive_bytes / edits,
    }


async def measure(sizes: tuple[int, ...] = DEFAULT_SIZES) -> list[dict[str, Any]]:
    """Measure every calendar size."""
    return [await measure_size(size) for size in sizes]


def main() -> None:
    """Print the figures as JSON."""
    sizes = tuple(int(arg) for arg in sys.argv[1:]) or DEFAULT_SIZES
    print(json.dumps(asyncio.run(measure(sizes)), indent=2))


if __name__ == "__main__":
    main()
