"""The benchmarks' calendar data and traffic figures; imports nothing heavy.

The emulator's child process (bench._remote) seeds its calendar from here without
loading our integration or Google's client library.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from google_calendar_emulator import GoogleCalendarEmulator

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


@dataclass(frozen=True, slots=True)
class Traffic:
    """HTTP requests and response bytes seen by the emulator."""

    requests: int
    response_bytes: int
