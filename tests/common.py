"""Test support shared by the tests and the benchmarks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
import json
import pathlib
import socket
import time
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.google_calendar_sync.const import (
    CONF_AUTH_TYPE,
    CONF_CALENDARS,
    CONF_SERVICE_ACCOUNT_KEY,
    CONF_SUBJECT,
    CONF_WEBHOOK_ID,
    DOMAIN,
)
from custom_components.google_calendar_sync.google.export_plan import Appointment
from custom_components.google_calendar_sync.push_status import push_issue_id
from google_calendar_emulator import GoogleCalendarEmulator

# What the frontend shows: our English texts (translations/en.json).
TRANSLATIONS: dict[str, Any] = json.loads(
    (
        pathlib.Path(__file__).parent.parent
        / "custom_components"
        / DOMAIN
        / "translations"
        / "en.json"
    ).read_text(encoding="utf-8")
)


def linked_entry(
    account: str,
    token: dict[str, Any],
    *,
    webhook_id: str,
    options: dict[str, Any],
) -> MockConfigEntry:
    """Return the config entry the OAuth flow creates for account with token."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=account,
        unique_id=account,
        data={
            "auth_implementation": DOMAIN,
            # Home Assistant's OAuth flow stores when the access token runs out.
            "token": {**token, "expires_at": time.time() + token["expires_in"]},
            CONF_WEBHOOK_ID: webhook_id,
        },
        options=options,
    )


def service_account_entry(
    key: dict[str, Any],
    options: dict[str, Any],
    *,
    webhook_id: str,
    subject: str | None = None,
) -> MockConfigEntry:
    """Return the entry the service account flow creates for key."""
    account = subject or key["client_email"]
    return MockConfigEntry(
        domain=DOMAIN,
        title=account,
        unique_id=account,
        data={
            CONF_AUTH_TYPE: "service_account",
            CONF_SERVICE_ACCOUNT_KEY: key,
            CONF_SUBJECT: subject,
            CONF_WEBHOOK_ID: webhook_id,
        },
        options=options,
    )


@asynccontextmanager
async def loaded_entry(
    hass: HomeAssistant, entry: MockConfigEntry
) -> AsyncIterator[MockConfigEntry]:
    """Set entry up, yield it, and unload it afterwards if it is still loaded."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


def free_port() -> int:
    """Return a loopback TCP port nobody listens on (never a fixed one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Appointments to export: one a day from this start, in Berlin.
APPOINTMENTS_START = datetime(2030, 1, 7, 9, tzinfo=ZoneInfo("Europe/Berlin"))


def appointments(count: int, *, changed: set[int] = frozenset()) -> list[Appointment]:  # type: ignore[assignment]
    """Return count appointments, one a day; changed ones carry a new summary."""
    return [
        Appointment(
            uid=f"appointment-{index}",
            summary=f"Patient {index}" + (" (moved)" if index in changed else ""),
            start=APPOINTMENTS_START + timedelta(days=index),
            end=APPOINTMENTS_START + timedelta(days=index, minutes=30),
            location="Room 1",
        )
        for index in range(count)
    ]


def export_counts(**counts: int) -> dict[str, Any]:
    """Return an export's answer: the counts given, every other 0, no failure."""
    return {
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "removed": 0,
        "failed": 0,
        "failures": [],
        **counts,
    }


def batch_requests(emulator: GoogleCalendarEmulator) -> int:
    """Return how many batch requests the emulator was sent (not their parts)."""
    return len(
        emulator.requests.matching(
            "POST", "batch/calendar/v3", include_batch_parts=False
        )
    )


async def start_flow(hass: HomeAssistant, way_in: str) -> dict[str, Any]:
    """Start adding an entry: the menu, then oauth, service_account or api_key."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["oauth", "service_account", "api_key"]
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": way_in}
    )


async def choose_calendars(
    hass: HomeAssistant, result: dict[str, Any], chosen: list[str]
) -> dict[str, Any]:
    """Submit the calendar choice without setting the entry up (nor reloading it)."""
    with patch(
        "custom_components.google_calendar_sync.async_setup_entry", return_value=True
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_CALENDARS: chosen}
        )
        await hass.async_block_till_done()
    return result


class FakeSleep:
    """Record backoff delays instead of waiting (a RetryPolicy's sleep)."""

    def __init__(self) -> None:
        """Start with no delays."""
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        """Record the delay and return at once."""
        self.delays.append(delay)


def timed_body(
    summary: str, start: datetime, hours: float = 1, **extra: Any
) -> dict[str, Any]:
    """Return a Google event body for a timed event."""
    return {
        "summary": summary,
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(hours=hours)).isoformat()},
        **extra,
    }


async def summaries_of_the_day(
    get_events: Callable[[datetime, datetime], Awaitable[list[dict[str, Any]]]],
    now: datetime,
) -> list[str]:
    """Return the summaries the calendar entity shows for the next 24 hours."""
    events = await get_events(now, now + timedelta(days=1))
    return [event["summary"] for event in events]


def timed_event(summary: str, day: int = 1) -> dict[str, Any]:
    """Return an hour-long event body for the emulator, day days from now."""
    start = dt_util.utcnow().replace(microsecond=0) + timedelta(days=day)
    return {
        "summary": summary,
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
    }


async def settle_notifications(
    hass: HomeAssistant, emulator: GoogleCalendarEmulator
) -> None:
    """Wait until every notification was delivered and handled."""
    await emulator.notifications_idle()
    await hass.async_block_till_done()


def push_issue(hass: HomeAssistant) -> ir.IssueEntry | None:
    """Return the push repair issue of the first entry, if raised."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    return ir.async_get(hass).async_get_issue(DOMAIN, push_issue_id(entry.entry_id))
