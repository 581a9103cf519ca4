"""Full sync: time and peak memory to sync a calendar from scratch and index it.

Ours (async_sync_calendar, then the CalendarTimeline the coordinator builds) against
gcal_sync's CalendarEventSyncManager (what the built-in google integration runs, then
its timeline build), both against the same emulator calendar. Time is measured
without tracemalloc; peak memory in a second run with it: tracemalloc's peak of this
process, where only the client runs (the emulator runs in a child process,
bench._remote, so its pages are not counted as ours). The size on disk is
bench_scale's (the real files under .storage, whatever the store's layout).
Run from the repository root: .venv/bin/python bench/bench_full_sync.py [SIZES...]
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
import gc
import json
from pathlib import Path
import sys
import time
import tracemalloc
from typing import Any
from zoneinfo import ZoneInfo

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from gcal_sync.api import GoogleCalendarService, SyncEventsRequest
from gcal_sync.auth import AbstractAuth
from gcal_sync.store import InMemoryCalendarStore
from gcal_sync.sync import CalendarEventSyncManager

from bench._common import ACCOUNT, TIME_ZONE, our_api
from bench._remote import RemoteEmulator, remote_emulator
from custom_components.google_calendar_sync.google.sync import (
    CalendarSnapshot,
    async_sync_calendar,
)
from custom_components.google_calendar_sync.google.timeline import CalendarTimeline

DEFAULT_SIZES = (10_000, 20_000)


class _StaticAuth(AbstractAuth):
    """gcal_sync auth with a fixed token and the emulator as host."""

    def __init__(self, session: aiohttp.ClientSession, host: str, token: str) -> None:
        super().__init__(session, host)
        self._token = token

    async def async_get_access_token(self) -> str:
        return self._token


async def _ours(emulator: RemoteEmulator) -> dict[str, Any]:
    """Sync from scratch with our engine; return the requests it made."""
    async with our_api(emulator) as api:
        result = await async_sync_calendar(
            api,
            ACCOUNT,
            CalendarSnapshot(),
            now=datetime.now(UTC),
            window=timedelta(days=365),
        )
        CalendarTimeline(result.snapshot.events.values(), default_time_zone=TIME_ZONE)
    return {"requests": result.requests}


async def _gcal_sync(emulator: RemoteEmulator) -> dict[str, Any]:
    """Sync from scratch as the built-in integration does."""
    token = emulator.issue_tokens(ACCOUNT)["access_token"]
    store = InMemoryCalendarStore()
    async with aiohttp.ClientSession() as session:
        service = GoogleCalendarService(
            _StaticAuth(session, emulator.api_endpoint.rstrip("/"), token)
        )
        # The built-in integration keeps 90 days of history (SYNC_EVENT_MIN_TIME).
        request = SyncEventsRequest.model_validate(
            {
                "calendar_id": ACCOUNT,
                "start_time": datetime.now(UTC) - timedelta(days=90),
            }
        )
        sync = CalendarEventSyncManager(service, store=store, request_template=request)
        await sync.run()
        await sync.store_service.async_get_timeline(ZoneInfo(TIME_ZONE))
    return {}


async def _timed(
    emulator: RemoteEmulator,
    func: Callable[[RemoteEmulator], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    """Run func twice: once for time and HTTP traffic, once for peak memory."""
    gc.collect()
    before = await emulator.traffic()
    started = time.perf_counter()
    figures = await func(emulator)
    seconds = time.perf_counter() - started
    after = await emulator.traffic()
    gc.collect()
    tracemalloc.start()
    try:
        await func(emulator)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {
        **figures,
        "seconds": seconds,
        "http_requests": after.requests - before.requests,
        "response_bytes": after.response_bytes - before.response_bytes,
        "peak_bytes": peak,
    }


async def measure_size(size: int) -> dict[str, Any]:
    """Sync a calendar of size events from scratch both ways."""
    async with remote_emulator(size) as emulator:
        return {
            "events": size,
            "ours": await _timed(emulator, _ours),
            "gcal_sync": await _timed(emulator, _gcal_sync),
        }


async def measure(sizes: tuple[int, ...] = DEFAULT_SIZES) -> list[dict[str, Any]]:
    """Measure every size."""
    return [await measure_size(size) for size in sizes]


def main() -> None:
    """Print the figures as JSON."""
    sizes = tuple(int(arg) for arg in sys.argv[1:]) or DEFAULT_SIZES
    print(json.dumps(asyncio.run(measure(sizes)), indent=2))


if __name__ == "__main__":
    main()
