"""Shared pieces of the comparison benchmarks: calendar data, traffic counting."""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
import random
import statistics
import sys
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from custom_components.google_calendar_sync.google.client import GoogleCalendarApi  # noqa: E402
from custom_components.google_calendar_sync.google.endpoints import GoogleEndpoints  # noqa: E402
from custom_components.google_calendar_sync.google.transport import StaticTokenAuth  # noqa: E402
from google_calendar_emulator import GoogleCalendarEmulator  # noqa: E402

if TYPE_CHECKING:
    from bench._remote import RemoteEmulator

ACCOUNT = "bench@example.com"
TIME_ZONE = "Europe/Berlin"
# Every calendar is laid out around this instant so runs are comparable.
ANCHOR = datetime(2030, 1, 1, tzinfo=UTC)
# One series per this many events; the rest are single events.
RECURRING_EVERY = 20
RECURRENCES = (
    "RRULE:FREQ=WEEKLY;BYDAY=MO,WE",
    "RRULE:FREQ=DAILY;COUNT=60",
    "RRULE:FREQ=MONTHLY;BYMONTHDAY=15",
    "RRULE:FREQ=WEEKLY;INTERVAL=2;UNTIL=20310101T000000Z",
)


def event_bodies(count: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """Return count event bodies over two years, one in RECURRING_EVERY a series."""
    rng = random.Random(seed)
    bodies: list[dict[str, Any]] = []
    for index in range(count):
        start = ANCHOR + timedelta(
            days=rng.randrange(-365, 365), hours=rng.randrange(7, 20)
        )
        end = start + timedelta(minutes=rng.choice((30, 60, 90)))
        body: dict[str, Any] = {
            "summary": f"Event {index}",
            "description": "Bench event " + "x" * rng.randrange(0, 120),
            "location": f"Room {index % 17}",
            "start": {"dateTime": start.isoformat(), "timeZone": TIME_ZONE},
            "end": {"dateTime": end.isoformat(), "timeZone": TIME_ZONE},
        }
        if index % RECURRING_EVERY == 0:
            body["recurrence"] = [RECURRENCES[(index // RECURRING_EVERY) % 4]]
        elif index % 97 == 0:
            body["start"] = {"date": start.date().isoformat()}
            body["end"] = {"date": (start.date() + timedelta(days=1)).isoformat()}
        bodies.append(body)
    return bodies


def seed_calendar(
    emulator: GoogleCalendarEmulator, calendar_id: str, count: int
) -> list[dict[str, Any]]:
    """Insert count events as a user would; return Google's stored events."""
    return [emulator.insert_event(calendar_id, body) for body in event_bodies(count)]


@contextlib.asynccontextmanager
async def running_emulator() -> AsyncIterator[GoogleCalendarEmulator]:
    """Run an emulator with the bench account."""
    emulator = GoogleCalendarEmulator()
    emulator.add_user(ACCOUNT)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


@contextlib.asynccontextmanager
async def our_api(
    emulator: GoogleCalendarEmulator | RemoteEmulator,
) -> AsyncIterator[GoogleCalendarApi]:
    """Return our Google client pointed at the emulator."""
    token = emulator.issue_tokens(ACCOUNT)["access_token"]
    async with aiohttp.ClientSession() as session:
        yield await GoogleCalendarApi.async_create(
            session,
            StaticTokenAuth(token),
            GoogleEndpoints.for_base_url(emulator.base_url),
        )


@dataclass(frozen=True, slots=True)
class Traffic:
    """HTTP requests and response bytes seen by the emulator."""

    requests: int
    response_bytes: int


class TrafficMeter:
    """Count the Calendar API traffic after a mark (token grants excluded)."""

    def __init__(self, emulator: GoogleCalendarEmulator) -> None:
        """Start counting from now."""
        self._emulator = emulator
        self._mark = len(emulator.requests)

    def reset(self) -> None:
        """Count from now on."""
        self._mark = len(self._emulator.requests)

    def read(self) -> Traffic:
        """Return the traffic since the mark (batch parts are not HTTP requests)."""
        entries = list(self._emulator.requests)[self._mark :]
        api = [
            entry
            for entry in entries
            if not entry.batch_part and "/token" not in entry.path
        ]
        return Traffic(len(api), sum(entry.response_bytes for entry in api))

    def paths(self) -> list[str]:
        """Return method and path of the requests since the mark."""
        entries = list(self._emulator.requests)[self._mark :]
        return [f"{entry.method} {entry.path}" for entry in entries]


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def median(values: list[float]) -> float:
    """Return the median."""
    return statistics.median(values)
