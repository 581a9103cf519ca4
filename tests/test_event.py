"""Event entities: one per calendar, fed by the same changes as the bus event."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from homeassistant.components.event import ATTR_EVENT_TYPE, ATTR_EVENT_TYPES
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.google_calendar_sync.const import (
    CONF_CALENDARS,
    DOMAIN,
    EVENT_CHANGED,
)
from custom_components.google_calendar_sync.coordinator import CalendarSyncCoordinator
from google_calendar_emulator import GoogleCalendarEmulator

from .conftest import ACCOUNT, FAMILY


@pytest.fixture
def entry_options(entry_options: dict[str, Any]) -> dict[str, Any]:
    """Sync the primary calendar and a second one."""
    return {**entry_options, CONF_CALENDARS: [ACCOUNT, FAMILY]}


@pytest.fixture(autouse=True)
def family(calendar_emulator: GoogleCalendarEmulator) -> str:
    """Give the account a second calendar."""
    return calendar_emulator.add_calendar(ACCOUNT, "Family", calendar_id=FAMILY)


def _coordinator(entry: MockConfigEntry, calendar_id: str) -> CalendarSyncCoordinator:
    """Return the coordinator of one calendar."""
    coordinator: CalendarSyncCoordinator = entry.runtime_data.coordinators[calendar_id]
    return coordinator


def _event_entity_id(hass: HomeAssistant, calendar_id: str) -> str | None:
    """Return the entity id of a calendar's event entity, None if it has none."""
    return er.async_get(hass).async_get_entity_id(
        "event", DOMAIN, f"{ACCOUNT}-{calendar_id}"
    )


def _state(hass: HomeAssistant, calendar_id: str = ACCOUNT) -> State:
    """Return the state of a calendar's event entity."""
    entity_id = _event_entity_id(hass, calendar_id)
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None
    return state


def _timed(summary: str, start: datetime, **extra: Any) -> dict[str, Any]:
    """Return a Google body of a one-hour event."""
    return {
        "summary": summary,
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        **extra,
    }


async def test_one_event_entity_per_calendar_with_translated_names(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Each calendar gets an event entity on the account device, named after it."""
    primary = entity_registry.async_get(_event_entity_id(hass, ACCOUNT) or "")
    family = entity_registry.async_get(_event_entity_id(hass, FAMILY) or "")
    assert primary is not None
    assert family is not None
    assert primary.unique_id == f"{ACCOUNT}-{ACCOUNT}"
    assert family.unique_id == f"{ACCOUNT}-{FAMILY}"
    calendar = entity_registry.async_get(
        entity_registry.async_get_entity_id("calendar", DOMAIN, family.unique_id) or ""
    )
    assert calendar is not None
    assert family.device_id == calendar.device_id
    assert primary.translation_key == "primary_changes"
    assert family.translation_key == "changes"
    assert _state(hass).name == f"{ACCOUNT} Primary calendar changes"
    state = _state(hass, FAMILY)
    assert state.name == f"{ACCOUNT} Family changes"
    assert state.state == STATE_UNKNOWN
    assert state.attributes[ATTR_EVENT_TYPES] == ["created", "updated", "cancelled"]
    entries = er.async_entries_for_config_entry(
        entity_registry, setup_integration.entry_id
    )
    # The primary calendar also has its birthdays and working locations views.
    assert sorted(entry.domain for entry in entries) == [
        "calendar",
        "calendar",
        "calendar",
        "calendar",
        "event",
        "event",
    ]


async def test_change_in_google_fires_the_entity_with_the_bus_payload(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
    now: datetime,
) -> None:
    """An edit made in Google fires `updated` with what changed, as the bus does."""
    coordinator = _coordinator(setup_integration, ACCOUNT)
    event = calendar_emulator.insert_event(
        ACCOUNT, _timed("Dentist", now + timedelta(days=1), location="Main St")
    )
    await coordinator.async_sync()
    assert _state(hass).attributes[ATTR_EVENT_TYPE] == "created"
    bus = async_capture_events(hass, EVENT_CHANGED)
    moved = now + timedelta(days=1, hours=3)

    calendar_emulator.patch_event(
        ACCOUNT,
        event["id"],
        {
            "start": {"dateTime": moved.isoformat()},
            "end": {"dateTime": (moved + timedelta(hours=1)).isoformat()},
        },
    )
    await coordinator.async_sync()
    await hass.async_block_till_done()

    state = _state(hass)
    assert dt_util.parse_datetime(state.state) is not None
    attributes = dict(state.attributes)
    assert attributes.pop(ATTR_EVENT_TYPES) == ["created", "updated", "cancelled"]
    assert attributes.pop("friendly_name") == f"{ACCOUNT} Primary calendar changes"
    assert attributes.pop(ATTR_EVENT_TYPE) == "updated"
    assert attributes["summary"] == "Dentist"
    assert attributes["event_id"] == event["id"]
    assert attributes["location"] == "Main St"
    assert attributes["all_day"] is False
    assert attributes["recurring_event_id"] is None
    # Automations can tell an out of office or a declined invitation apart.
    assert attributes["event_kind"] == "default"
    assert attributes["color"] == "#9fe1e7"
    assert attributes["response_status"] is None
    assert "start" in attributes["changed_fields"]
    assert datetime.fromisoformat(attributes["start"]) == moved
    # One code path: the attributes are the bus event's payload.
    assert len(bus) == 1
    payload = {
        key: value
        for key, value in bus[0].data.items()
        if key not in ("change", "entity_id")
    }
    assert attributes == payload


async def test_created_and_cancelled_occurrence_of_a_series(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
) -> None:
    """A new all-day event fires `created`; one cancelled occurrence says its series."""
    coordinator = _coordinator(setup_integration, FAMILY)
    day = dt_util.now().date() + timedelta(days=2)
    series = calendar_emulator.insert_event(
        FAMILY,
        {
            "summary": "Practice",
            "start": {"date": day.isoformat()},
            "end": {"date": (day + timedelta(days=1)).isoformat()},
            "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=4"],
        },
    )
    await coordinator.async_sync()
    created = _state(hass, FAMILY)
    assert created.attributes[ATTR_EVENT_TYPE] == "created"
    assert created.attributes["all_day"] is True
    assert created.attributes["start"] == day.isoformat()
    assert created.attributes["changed_fields"] == []

    instance_id = f"{series['id']}_{(day + timedelta(days=7)):%Y%m%d}"
    calendar_emulator.delete_event(FAMILY, instance_id)
    await coordinator.async_sync()

    cancelled = _state(hass, FAMILY)
    assert cancelled.attributes[ATTR_EVENT_TYPE] == "cancelled"
    assert cancelled.attributes["event_id"] == instance_id
    assert cancelled.attributes["recurring_event_id"] == series["id"]
    # The other calendar's entity saw nothing.
    assert _state(hass, ACCOUNT).state == STATE_UNKNOWN


async def test_own_writes_do_not_fire_the_entity(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    now: datetime,
) -> None:
    """An event created from Home Assistant is not news, as for the bus event."""
    calendar = er.async_get(hass).async_get_entity_id(
        "calendar", DOMAIN, f"{ACCOUNT}-{ACCOUNT}"
    )
    await hass.services.async_call(
        "calendar",
        "create_event",
        {
            "entity_id": calendar,
            "summary": "Ours",
            "start_date_time": now + timedelta(hours=5),
            "end_date_time": now + timedelta(hours=6),
        },
        blocking=True,
    )
    await _coordinator(setup_integration, ACCOUNT).async_sync()

    assert _state(hass).state == STATE_UNKNOWN


async def test_event_entity_is_removed_with_its_calendar(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Deselecting a calendar removes its event entity with its calendar entity."""
    assert _event_entity_id(hass, FAMILY) is not None

    hass.config_entries.async_update_entry(
        setup_integration,
        options={**setup_integration.options, CONF_CALENDARS: [ACCOUNT]},
    )
    assert await hass.config_entries.async_reload(setup_integration.entry_id)
    await hass.async_block_till_done()

    assert _event_entity_id(hass, FAMILY) is None
    assert _event_entity_id(hass, ACCOUNT) is not None


async def test_event_received_trigger_runs_an_automation(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
    now: datetime,
) -> None:
    """The automation editor's Event received trigger runs on a change in Google."""
    entity_id = _event_entity_id(hass, ACCOUNT)
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "triggers": {
                    "trigger": "event.received",
                    "target": {"entity_id": entity_id},
                    "options": {"event_type": ["cancelled"]},
                },
                "actions": {
                    "event": "test_ran",
                    "event_data": {
                        "summary": "{{ trigger.to_state.attributes.summary }}"
                    },
                },
            }
        },
    )
    ran = async_capture_events(hass, "test_ran")
    coordinator = _coordinator(setup_integration, ACCOUNT)
    event = calendar_emulator.insert_event(ACCOUNT, _timed("Dentist", now))
    await coordinator.async_sync()
    calendar_emulator.delete_event(ACCOUNT, event["id"])
    await coordinator.async_sync()
    await hass.async_block_till_done()

    assert [run.data["summary"] for run in ran] == ["Dentist"]
