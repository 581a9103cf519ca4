"""Calendar entities: naming, device, reads answered locally, recurrence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
import logging
from typing import Any
from unittest.mock import patch

from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.google_calendar_sync.api import (
    GoogleCalendarApi,
    GoogleTransientError,
)
from custom_components.google_calendar_sync.const import CONF_CALENDARS, DOMAIN
from google_calendar_emulator import GoogleCalendarEmulator

from .conftest import ACCOUNT, GetEvents

FAMILY_ID = "family@group.calendar.google.com"


@pytest.fixture
def entry_options(entry_options: dict[str, Any]) -> dict[str, Any]:
    """Sync the primary calendar and a second one."""
    return {**entry_options, CONF_CALENDARS: [ACCOUNT, FAMILY_ID]}


@pytest.fixture
def family(calendar_emulator: GoogleCalendarEmulator) -> str:
    """Give the account a second calendar."""
    return calendar_emulator.add_calendar(
        ACCOUNT, "Family", calendar_id=FAMILY_ID, time_zone="Europe/Berlin"
    )


@pytest.mark.usefixtures("family")
async def test_one_entity_per_calendar_on_the_account_device(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """Each synced calendar is an entity named after it, on one service device."""
    family_entity = entity_registry.async_get(calendar_entity_id(FAMILY_ID))
    primary_entity = entity_registry.async_get(calendar_entity_id(ACCOUNT))
    assert family_entity is not None
    assert primary_entity is not None
    assert family_entity.unique_id == f"{ACCOUNT}-{FAMILY_ID}"
    assert family_entity.original_name == "Family"
    assert family_entity.device_id == primary_entity.device_id
    device = device_registry.async_get(family_entity.device_id or "")
    assert device is not None
    assert device.identifiers == {(DOMAIN, ACCOUNT)}
    assert device.entry_type is dr.DeviceEntryType.SERVICE
    assert device.name == ACCOUNT
    assert hass.states.get(calendar_entity_id(FAMILY_ID)).state == STATE_OFF


async def test_primary_calendar_named_after_the_account_gets_a_translated_name(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """Google names the primary calendar after the account, so it gets a translated name."""
    primary_entity = entity_registry.async_get(calendar_entity_id(ACCOUNT))
    assert primary_entity is not None
    assert primary_entity.translation_key == "primary"
    assert primary_entity.original_name == "Primary calendar"
    state = hass.states.get(calendar_entity_id(ACCOUNT))
    assert state is not None
    assert state.name == f"{ACCOUNT} Primary calendar"


async def test_state_follows_the_current_event(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """The entity is on during an event and shows it in its attributes."""
    now = datetime.now(UTC)
    calendar_emulator.insert_event(
        ACCOUNT,
        {
            "summary": "Call",
            "location": "Phone",
            "start": {"dateTime": (now - timedelta(minutes=5)).isoformat()},
            "end": {"dateTime": (now + timedelta(minutes=30)).isoformat()},
        },
    )
    await setup_integration.runtime_data.coordinators[ACCOUNT].async_sync()
    state = hass.states.get(calendar_entity_id(ACCOUNT))
    assert state.state == STATE_ON
    assert state.attributes["message"] == "Call"
    assert state.attributes["location"] == "Phone"


async def test_recurring_event_with_moved_and_cancelled_instance(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
    get_events: GetEvents,
) -> None:
    """Instances are expanded locally: a moved one moves, a cancelled one is hidden."""
    first = datetime.now(UTC).replace(
        hour=9, minute=0, second=0, microsecond=0
    ) + timedelta(days=1)
    master = calendar_emulator.insert_event(
        ACCOUNT,
        {
            "summary": "Gym",
            "start": {"dateTime": first.isoformat(), "timeZone": "UTC"},
            "end": {
                "dateTime": (first + timedelta(hours=1)).isoformat(),
                "timeZone": "UTC",
            },
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=5"],
        },
    )

    def instance_id(day: int) -> str:
        start = first + timedelta(days=day)
        return f"{master['id']}_{start.strftime('%Y%m%dT%H%M%SZ')}"

    moved_start = first + timedelta(days=1, hours=3)
    calendar_emulator.patch_event(
        ACCOUNT,
        instance_id(1),
        {
            "summary": "Gym (late)",
            "start": {"dateTime": moved_start.isoformat(), "timeZone": "UTC"},
            "end": {
                "dateTime": (moved_start + timedelta(hours=1)).isoformat(),
                "timeZone": "UTC",
            },
        },
    )
    calendar_emulator.delete_event(ACCOUNT, instance_id(2))
    await setup_integration.runtime_data.coordinators[ACCOUNT].async_sync()

    events = await get_events(first - timedelta(hours=1), first + timedelta(days=6))

    assert [
        (event["summary"], datetime.fromisoformat(event["start"])) for event in events
    ] == [
        ("Gym", first),
        ("Gym (late)", moved_start),
        ("Gym", first + timedelta(days=3)),
        ("Gym", first + timedelta(days=4)),
    ]


async def test_all_day_events_are_dates(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
    get_events: GetEvents,
) -> None:
    """All-day events come back as dates with an exclusive end."""
    day = (datetime.now(UTC) + timedelta(days=2)).date()
    calendar_emulator.insert_event(
        ACCOUNT,
        {
            "summary": "Holiday",
            "start": {"date": day.isoformat()},
            "end": {"date": (day + timedelta(days=1)).isoformat()},
        },
    )
    await setup_integration.runtime_data.coordinators[ACCOUNT].async_sync()
    start = datetime.combine(day, datetime.min.time(), UTC) - timedelta(days=1)
    events = await get_events(start, start + timedelta(days=3))
    assert [(e["summary"], e["start"], e["end"]) for e in events] == [
        ("Holiday", day.isoformat(), (day + timedelta(days=1)).isoformat())
    ]


async def test_a_month_of_a_large_calendar_is_read_without_api_calls(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
    get_events: GetEvents,
) -> None:
    """10,000 synced events: reading a month touches no network."""
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    coordinator = setup_integration.runtime_data.coordinators[ACCOUNT]
    for number in range(10_000):
        begin = start + timedelta(hours=number)
        coordinator.snapshot.events[f"event{number:05d}"] = {
            "id": f"event{number:05d}",
            "status": "confirmed",
            "summary": f"Event {number}",
            "start": {"dateTime": begin.isoformat()},
            "end": {"dateTime": (begin + timedelta(minutes=30)).isoformat()},
        }
    # Publish the large snapshot as if a sync had stored it.
    coordinator.async_apply_remote_delete("nothing")
    api_calls = setup_integration.runtime_data.api.request_count
    calendar_emulator.requests.clear()

    events = await get_events(start, start + timedelta(days=30))

    assert len(events) == 30 * 24
    assert setup_integration.runtime_data.api.request_count == api_calls
    assert len(calendar_emulator.requests) == 0


async def test_unavailability_is_logged_once_and_recovery_once(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_entity_id: Callable[[str], str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Repeated failures log one line; the recovery logs one more."""
    coordinator = setup_integration.runtime_data.coordinators[ACCOUNT]
    entity_id = calendar_entity_id(ACCOUNT)
    error = GoogleTransientError(503, "backendError", "down")
    caplog.set_level(logging.INFO, logger="custom_components.google_calendar_sync")
    with patch.object(GoogleCalendarApi, "list_events", side_effect=error):
        for _ in range(3):
            await coordinator.async_request_sync()
    assert hass.states.get(entity_id).state == STATE_UNAVAILABLE
    await coordinator.async_request_sync()
    assert hass.states.get(entity_id).state != STATE_UNAVAILABLE

    messages = [
        record.getMessage()
        for record in caplog.records
        if record.name == "custom_components.google_calendar_sync.calendar"
    ]
    assert messages == [
        f"Calendar {entity_id} is unavailable",
        f"Calendar {entity_id} is back",
    ]
