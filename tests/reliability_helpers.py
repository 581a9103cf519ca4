"""Helpers of the reliability tests: entries, oracles on store and bus, fast retries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
import time
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.google_calendar_sync import changes as changes_module
from custom_components.google_calendar_sync.const import (
    CONF_CALENDARS,
    CONF_PUSH_ENABLED,
    CONF_SYNC_WINDOW_DAYS,
    EVENT_CHANGED,
)
from custom_components.google_calendar_sync.coordinator import CalendarSyncCoordinator
from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.diff import EventChange
from custom_components.google_calendar_sync.google.sync import CalendarSnapshot
from custom_components.google_calendar_sync.google.transport import RetryPolicy
from google_calendar_emulator import GoogleCalendarEmulator

from .common import linked_entry
from .conftest import ACCOUNT, CLIENT_ID, WEBHOOK_ID

# Backoff in milliseconds: the faults are real, the waiting is not the point.
FAST_RETRY = RetryPolicy(max_attempts=5, initial_delay=0.005, max_delay=0.02)


@contextmanager
def fast_retries() -> Iterator[None]:
    """Make every client the integration creates back off in milliseconds."""
    original = GoogleCalendarApi.async_create.__func__  # type: ignore[attr-defined]

    async def _create(cls: type[GoogleCalendarApi], *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("retry", FAST_RETRY)
        return await original(cls, *args, **kwargs)

    with patch.object(GoogleCalendarApi, "async_create", classmethod(_create)):
        yield


def make_entry(
    emulator: GoogleCalendarEmulator,
    calendar_ids: list[str],
    *,
    push: bool = False,
    webhook_id: str = WEBHOOK_ID,
) -> MockConfigEntry:
    """Return a config entry of ACCOUNT syncing the given calendars."""
    return linked_entry(
        ACCOUNT,
        emulator.issue_tokens(ACCOUNT, CLIENT_ID),
        webhook_id=webhook_id,
        options={
            CONF_CALENDARS: calendar_ids,
            CONF_SYNC_WINDOW_DAYS: 365,
            CONF_PUSH_ENABLED: push,
        },
    )


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set up an entry (added if needed) and require it to load."""
    if hass.config_entries.async_get_entry(entry.entry_id) is None:
        entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def unload_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload an entry if it is loaded."""
    if entry.state is ConfigEntryState.LOADED:
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


def coordinator_of(entry: MockConfigEntry, calendar_id: str) -> CalendarSyncCoordinator:
    """Return the coordinator of one calendar of a loaded entry."""
    coordinator: CalendarSyncCoordinator = entry.runtime_data.coordinators[calendar_id]
    return coordinator


def google_state(emulator: GoogleCalendarEmulator, calendar_id: str) -> dict[str, str]:
    """Return id -> etag of what a complete sync must hold for a calendar.

    Singles and masters that are not cancelled, and the exceptions of live masters
    (cancelled exceptions included: they hide instances).
    """
    events = emulator.model.calendar(calendar_id).events
    state: dict[str, str] = {}
    for event_id, event in events.items():
        cancelled = event.get("status") == "cancelled"
        if (master_id := event.get("recurringEventId")) is not None:
            master = events.get(master_id)
            if master is None or master.get("status") == "cancelled":
                continue
        elif cancelled:
            continue
        state[event_id] = event["etag"]
    return state


def all_etags(emulator: GoogleCalendarEmulator, calendar_id: str) -> dict[str, str]:
    """Return id -> etag of every stored event, cancelled ones included."""
    events = emulator.model.calendar(calendar_id).events
    return {event_id: event["etag"] for event_id, event in events.items()}


def store_state(snapshot: CalendarSnapshot) -> dict[str, str]:
    """Return id -> etag of a synced snapshot."""
    return {
        event_id: event.get("etag", "") for event_id, event in snapshot.events.items()
    }


@dataclass(frozen=True, slots=True)
class Announcement:
    """One bus event of a changed Google event, with the etag of the version it told."""

    event_id: str
    change: str
    etag: str | None


@contextmanager
def record_announcements(hass: HomeAssistant) -> Iterator[list[Announcement]]:
    """Record every change the coordinators fire on the bus, with its etag.

    The bus payload carries no etag, so the payload builder is observed (not
    replaced) and each bus event is checked to match one observed payload.
    """
    observed: list[Announcement] = []
    fired: list[dict[str, Any]] = []
    original = changes_module.change_data

    def _spy(change: EventChange, **kwargs: Any) -> dict[str, Any]:
        observed.append(
            Announcement(
                str(change.event.get("id")),
                str(change.kind),
                change.event.get("etag"),
            )
        )
        return original(change, **kwargs)

    @callback
    def _on_bus(event: Event[Any]) -> None:
        fired.append(dict(event.data))

    remove = hass.bus.async_listen(EVENT_CHANGED, _on_bus)
    try:
        with patch.object(changes_module, "change_data", _spy):
            yield observed
    finally:
        remove()
    assert [(a.event_id, a.change) for a in observed] == [
        (data["event_id"], data["change"]) for data in fired
    ]


async def serve_http(hass: HomeAssistant, client_factory: Any) -> str:
    """Serve Home Assistant's HTTP app (webhooks, calendar views) on loopback."""
    assert await async_setup_component(hass, "webhook", {})
    assert await async_setup_component(hass, "calendar", {})
    client = await client_factory()
    url = str(client.make_url("/")).rstrip("/")
    await hass.config.async_update(internal_url=url)
    return url


def percentile(values: list[float], fraction: float) -> float:
    """Return the value below which a fraction of the sorted values lie."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


LOAD_EVENTS = 20_000
LOAD_SERIES = 500
_LOAD_RULES = (
    "RRULE:FREQ=WEEKLY;BYDAY=MO,WE",
    "RRULE:FREQ=DAILY;COUNT=60",
    "RRULE:FREQ=MONTHLY;BYMONTHDAY=15",
    "RRULE:FREQ=WEEKLY;INTERVAL=2",
)


def seed_load(
    emulator: GoogleCalendarEmulator,
    calendar_id: str,
    now: datetime,
    *,
    events: int = LOAD_EVENTS,
    series: int = LOAD_SERIES,
) -> None:
    """Fill a calendar through the model (no HTTP): singles and series around now.

    Events spread over the year before and after now; every events//series-th is
    a recurring series, in four rule shapes, some of them in other time zones.
    """
    every = events // series
    zones = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo")
    for index in range(events):
        start = now + timedelta(days=(index * 7919) % 700 - 350, hours=index % 11)
        body: dict[str, Any] = {
            "summary": f"Load {index}",
            "location": f"Room {index % 17}",
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(minutes=45)).isoformat()},
        }
        if index % every == 0:
            zone = zones[(index // every) % len(zones)]
            local = start.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
            body["start"] = {"dateTime": local.isoformat(), "timeZone": zone}
            body["end"] = {
                "dateTime": (local + timedelta(minutes=45)).isoformat(),
                "timeZone": zone,
            }
            body["recurrence"] = [_LOAD_RULES[(index // every) % len(_LOAD_RULES)]]
        emulator.model.insert_event(None, calendar_id, body)


async def time_month_queries(
    entity: Any, hass: HomeAssistant, start: datetime, repeats: int
) -> tuple[int, list[float]]:
    """Read one month through the entity repeats times; return count and seconds."""
    timings: list[float] = []
    found = 0
    for _ in range(repeats):
        begin = time.perf_counter()
        found = len(
            await entity.async_get_events(hass, start, start + timedelta(days=30))
        )
        timings.append(time.perf_counter() - begin)
    return found, timings
