"""Shared fixtures of the Google side's tests: a client of the emulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest

from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.diff import ChangeSet
from custom_components.google_calendar_sync.google.endpoints import GoogleEndpoints
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
