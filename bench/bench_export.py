"""Time and count the HTTP requests of exporting 500 appointments to the emulator.

Batched (50 writes per batch request) against one request per event. The emulator
answers on loopback in well under a millisecond, so wall time hardly differs here; the
estimate line adds a typical 100 ms round trip to Google per HTTP request.
Run from the repository root: PYTHONPATH=. .venv/bin/python bench/bench_export.py [COUNT]
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
import sys
import time

import aiohttp

from custom_components.google_calendar_sync.export import ExportResult, async_run_export
from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.endpoints import GoogleEndpoints
from custom_components.google_calendar_sync.google.export_plan import (
    Appointment,
    appointment_body,
    export_event_id,
)
from custom_components.google_calendar_sync.google.transport import StaticTokenAuth
from google_calendar_emulator import GoogleCalendarEmulator

USER = "bench@example.com"
ROUND_TRIP = 0.1  # seconds; a typical request to Google from a home connection


def make_appointments(count: int) -> list[Appointment]:
    """Return count half-hour appointments, one an hour."""
    base = datetime(2030, 1, 7, 9, tzinfo=UTC)
    return [
        Appointment(
            uid=f"appointment-{index}",
            summary=f"Patient {index}",
            start=base + timedelta(hours=index),
            end=base + timedelta(hours=index, minutes=30),
        )
        for index in range(count)
    ]


async def export_batched(
    api: GoogleCalendarApi, calendar_id: str, appointments: list[Appointment]
) -> ExportResult:
    """Export appointments with our export (batch requests)."""
    return await async_run_export(
        api, calendar_id, appointments, origin="bench", time_zone="UTC"
    )


async def insert_one_by_one(
    api: GoogleCalendarApi, calendar_id: str, appointments: list[Appointment]
) -> None:
    """Insert the appointments' events with one request each."""
    for appointment in appointments:
        body = appointment_body(appointment, origin="bench", time_zone="UTC")
        await api.insert_event(
            calendar_id, {"id": export_event_id("bench", appointment.uid), **body}
        )


async def run(count: int) -> None:
    """Export count appointments both ways into fresh calendars."""
    async with GoogleCalendarEmulator() as emulator, aiohttp.ClientSession() as session:
        emulator.add_user(USER)
        token = emulator.issue_tokens(USER)["access_token"]
        api = await GoogleCalendarApi.async_create(
            session,
            StaticTokenAuth(token),
            GoogleEndpoints.for_base_url(emulator.base_url),
        )
        appointments = make_appointments(count)

        batched = emulator.add_calendar(USER, "batched")
        before = api.request_count
        started = time.perf_counter()
        result = await export_batched(api, batched, appointments)
        batched_seconds = time.perf_counter() - started
        batched_requests = api.request_count - before
        assert result.created == count, result

        single = emulator.add_calendar(USER, "single")
        before = api.request_count
        started = time.perf_counter()
        await insert_one_by_one(api, single, appointments)
        single_seconds = time.perf_counter() - started
        single_requests = api.request_count - before

        before = api.request_count
        started = time.perf_counter()
        again = await export_batched(api, batched, appointments)
        rerun_seconds = time.perf_counter() - started
        assert again.unchanged == count, again

    print(f"export of {count} appointments")
    print(
        f"  batched:          {batched_seconds:7.2f} s  {batched_requests:4d} HTTP requests"
    )
    print(
        f"  one per event:    {single_seconds:7.2f} s  {single_requests:4d} HTTP requests"
    )
    print(
        f"  at {ROUND_TRIP * 1000:.0f} ms a round trip: batched ~"
        f"{batched_seconds + batched_requests * ROUND_TRIP:.1f} s, one per event ~"
        f"{single_seconds + single_requests * ROUND_TRIP:.1f} s"
    )
    print(
        f"  rerun (no-op):    {rerun_seconds:7.2f} s  "
        f"{api.request_count - before:4d} HTTP requests"
    )


if __name__ == "__main__":
    asyncio.run(run(int(sys.argv[1]) if len(sys.argv) > 1 else 500))
