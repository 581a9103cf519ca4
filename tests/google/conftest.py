"""Shared fixtures of the Google side's tests: a client of the emulator, Google events."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest

from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.diff import ChangeSet
from custom_components.google_calendar_sync.google.endpoints import GoogleEndpoints
from custom_components.google_calendar_sync.google.entries import TimelineEvent
from custom_components.google_calendar_sync.google.timeline import CalendarTimeline
from custom_components.google_calendar_sync.google.transport import (
    RetryPolicy,
    StaticTokenAuth,
)
from google_calendar_emulator import GoogleCalendarEmulator
from google_calendar_emulator.faults import FaultKind
from tests.common import FakeSleep
from tests.conftest import ACCOUNT, CLIENT_ID

EVENT_BODY = {
    "summary": "Lunch",
    "start": {"dateTime": "2030-01-07T12:00:00Z"},
    "end": {"dateTime": "2030-01-07T13:00:00Z"},
}


@pytest.fixture(autouse=True)
def no_backoff() -> None:
    """Keep the real delays: these tests record them with a fake sleep."""


@pytest.fixture
def access_token(calendar_emulator: GoogleCalendarEmulator) -> str:
    return str(calendar_emulator.issue_tokens(ACCOUNT, CLIENT_ID)["access_token"])


@pytest.fixture
async def client(
    hass: HomeAssistant,
    endpoints: GoogleEndpoints,
    access_token: str,
    sleeps: FakeSleep,
) -> GoogleCalendarApi:
    return await GoogleCalendarApi.async_create(
        async_get_clientsession(hass),
        StaticTokenAuth(access_token),
        endpoints,
        retry=RetryPolicy(sleep=sleeps, rand=lambda: 1.0),
        executor=hass.async_add_executor_job,
    )


def timed_event(summary: str, start: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "summary": summary,
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        **extra,
    }


START = datetime(2026, 11, 23, 9, tzinfo=UTC)


GARBAGE = [FaultKind.NOT_UTF8, FaultKind.HTML, FaultKind.TRUNCATED, FaultKind.EMPTY]


class RotatingAuth:
    """Hand out a stale token until asked to refresh."""

    def __init__(self, stale: str, fresh: str) -> None:
        self.token = stale
        self.fresh = fresh
        self.refreshes = 0

    async def async_get_access_token(self, *, force_refresh: bool = False) -> str:
        if force_refresh:
            self.refreshes += 1
            self.token = self.fresh
        return self.token


async def client_with_expired_token(
    hass: HomeAssistant,
    endpoints: GoogleEndpoints,
    emulator: GoogleCalendarEmulator,
) -> tuple[GoogleCalendarApi, RotatingAuth]:
    """Return a client whose token has expired; a refresh yields a valid one."""
    stale = emulator.issue_tokens(ACCOUNT)["access_token"]
    emulator.expire_access_tokens()
    auth = RotatingAuth(stale, emulator.issue_tokens(ACCOUNT)["access_token"])
    client = await GoogleCalendarApi.async_create(
        async_get_clientsession(hass), auth, endpoints
    )
    return client, auth


def event(event_id: str, etag: str = "1", **extra: Any) -> dict[str, Any]:
    """Return a Google event as listed."""
    return {
        "id": event_id,
        "etag": f'"{etag}"',
        "status": "confirmed",
        "summary": event_id,
        "start": {"dateTime": "2026-11-24T09:00:00Z"},
        "end": {"dateTime": "2026-11-24T10:00:00Z"},
        **extra,
    }


def master(event_id: str = "weekly", etag: str = "1") -> dict[str, Any]:
    """Return a weekly recurring event."""
    return event(
        event_id,
        etag,
        start={"dateTime": "2026-11-23T09:00:00+01:00", "timeZone": "Europe/Berlin"},
        end={"dateTime": "2026-11-23T09:30:00+01:00", "timeZone": "Europe/Berlin"},
        recurrence=["RRULE:FREQ=WEEKLY"],
    )


def kinds(changes: ChangeSet) -> list[tuple[str, str]]:
    """Return (kind, event id) of every change."""
    return [(change.kind.value, change.event["id"]) for change in changes]


BERLIN = ZoneInfo("Europe/Berlin")

NEW_YORK = ZoneInfo("America/New_York")


def timed(
    event_id: str, start: datetime, minutes: int = 30, **extra: Any
) -> dict[str, Any]:
    """Return a timed Google event in the zone of start."""
    zone = {"timeZone": str(start.tzinfo)} if isinstance(start.tzinfo, ZoneInfo) else {}
    end = start + timedelta(minutes=minutes)
    return {
        "id": event_id,
        "etag": f'"{event_id}"',
        "status": "confirmed",
        "summary": event_id,
        "start": {"dateTime": start.isoformat(), **zone},
        "end": {"dateTime": end.isoformat(), **zone},
        **extra,
    }


def all_day(event_id: str, start: date, days: int = 1, **extra: Any) -> dict[str, Any]:
    """Return an all-day Google event."""
    return {
        "id": event_id,
        "etag": f'"{event_id}"',
        "summary": event_id,
        "start": {"date": start.isoformat()},
        "end": {"date": (start + timedelta(days=days)).isoformat()},
        **extra,
    }


def query(
    timeline: CalendarTimeline, start: datetime, end: datetime
) -> list[tuple[str, date | datetime]]:
    """Return (uid, start) of the events overlapping a range."""
    return [(event.uid, event.start) for event in timeline.overlapping(start, end)]


@pytest.fixture
def standup() -> list[dict[str, Any]]:
    """Return a weekly Monday series with one instance moved and one cancelled."""
    master = timed(
        "standup",
        datetime(2026, 3, 2, 9, tzinfo=BERLIN),
        recurrence=["RRULE:FREQ=WEEKLY;BYDAY=MO"],
        description="daily sync",
        location="Room 1",
    )
    moved = timed(
        "standup_20260309T080000Z",
        datetime(2026, 3, 10, 11, tzinfo=BERLIN),
        recurringEventId="standup",
        originalStartTime={
            "dateTime": "2026-03-09T09:00:00+01:00",
            "timeZone": "Europe/Berlin",
        },
        summary="Standup (moved)",
    )
    cancelled = {
        "id": "standup_20260316T080000Z",
        "recurringEventId": "standup",
        "originalStartTime": {"dateTime": "2026-03-16T08:00:00Z"},
        "status": "cancelled",
    }
    return [master, moved, cancelled]


# A day with two meetings (two_meetings), and a converter that notes its calls.
MARCH_2 = (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC))


@pytest.fixture
def two_meetings() -> CalendarTimeline:
    """Return a timeline of "first" at 09:00 and "second" at 11:00 on 2 March (UTC)."""
    return CalendarTimeline(
        [
            timed("first", datetime(2026, 3, 2, 9, tzinfo=UTC)),
            timed("second", datetime(2026, 3, 2, 11, tzinfo=UTC)),
        ],
        default_time_zone="UTC",
    )


class Upper:
    """Convert an event to its summary in capitals, noting the uid of each."""

    def __init__(self) -> None:
        """Start with no call."""
        self.calls: list[str] = []

    def __call__(self, event: TimelineEvent) -> str:
        """Return the summary in capitals."""
        self.calls.append(event.uid)
        return event.summary.upper()
