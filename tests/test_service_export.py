"""The export_appointments action: from a Home Assistant calendar or a list, idempotent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from homeassistant.components.calendar.const import DATA_COMPONENT
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.google_calendar_sync.const import (
    CONF_CALENDARS,
    CONF_EXPORT_SOURCES,
    CONF_EXPORT_TARGET,
    CONF_PUSH_ENABLED,
    EVENT_CHANGED,
)
from custom_components.google_calendar_sync.export import ORIGIN_KEY
from google_calendar_emulator import GoogleCalendarEmulator

from .action_helpers import (
    SOURCE,
    call_action,
    refused_before_any_request,
    refused_by_google,
    refused_with_message,
    sync_calendar,
)
from .conftest import ACCOUNT, WORK

# Export from a Home Assistant calendar (local_calendar) into Google.


def _batches(emulator: GoogleCalendarEmulator) -> int:
    return len(
        emulator.requests.matching(
            "POST", "batch/calendar/v3", include_batch_parts=False
        )
    )


async def _export_practice(
    hass: HomeAssistant, calendar_emulator: GoogleCalendarEmulator, entity_id: str
) -> dict[str, Any]:
    """Export "Practice" with a fresh request log, removing what it dropped."""
    calendar_emulator.requests.clear()
    return await call_action(
        hass,
        "export_appointments",
        entity_id,
        source_entity_id=SOURCE,
        remove_missing=True,
    )


async def test_export_from_local_calendar_is_idempotent(
    hass: HomeAssistant,
    practice: MockConfigEntry,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """120 appointments go out in 3 batches; a rerun writes only what changed."""
    first = await _export_practice(hass, calendar_emulator, entity_id)
    assert first == {
        "created": 120,
        "updated": 0,
        "unchanged": 0,
        "removed": 0,
        "failed": 0,
        "failures": [],
    }
    assert _batches(calendar_emulator) == 3
    exported = calendar_emulator.events(ACCOUNT)
    assert len(exported) == 120
    assert {e["extendedProperties"]["private"][ORIGIN_KEY] for e in exported} == {
        SOURCE
    }

    source = hass.data[DATA_COMPONENT].get_entity(SOURCE)
    events = await source.async_get_events(
        hass, dt_util.now(), dt_util.now() + timedelta(days=365)
    )
    for event in events[3:5]:
        await source.async_update_event(
            event.uid,
            {
                "summary": f"{event.summary} (moved)",
                "dtstart": event.start + timedelta(hours=2),
                "dtend": event.end + timedelta(hours=2),
            },
        )
    await source.async_delete_event(events[10].uid)

    second = await _export_practice(hass, calendar_emulator, entity_id)
    assert second == {
        "created": 0,
        "updated": 2,
        "unchanged": 117,
        "removed": 1,
        "failed": 0,
        "failures": [],
    }
    assert _batches(calendar_emulator) == 1
    exported = calendar_emulator.events(ACCOUNT)
    assert len(exported) == 119
    assert len({(e["summary"], e["start"]["dateTime"]) for e in exported}) == 119
    # The exports were stored from Google's answers: a sync reports nothing new.
    changes = async_capture_events(hass, EVENT_CHANGED)
    await sync_calendar(hass, calendar_emulator, entity_id)
    assert changes == []


async def test_export_appointments_given_in_the_call(
    hass: HomeAssistant, entity_id: str, calendar_emulator: GoogleCalendarEmulator
) -> None:
    """Appointments of the call are exported once, however often it runs."""
    appointments = [
        {
            "uid": "a1",
            "summary": "Haircut",
            "start": "2030-01-07 09:00:00",
            "end": "2030-01-07 09:30:00",
        },
        {"summary": "Holiday", "start": "2030-02-01", "end": "2030-02-03"},
    ]
    first = await call_action(
        hass, "export_appointments", entity_id, appointments=appointments
    )
    again = await call_action(
        hass, "export_appointments", entity_id, appointments=appointments
    )
    assert (first["created"], again["unchanged"], again["created"]) == (2, 2, 0)
    assert len(calendar_emulator.events(ACCOUNT)) == 2
    removed = await call_action(
        hass,
        "export_appointments",
        entity_id,
        appointments=appointments[:1],
        remove_missing=True,
    )
    assert (removed["unchanged"], removed["removed"]) == (1, 1)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"source_entity_id": "calendar.nowhere"}, "unknown_source_entity"),
        ({}, "missing_appointments"),
        (
            {
                "appointments": [
                    {
                        "summary": "Backwards",
                        "start": "2030-01-07 10:00:00",
                        "end": "2030-01-07 09:00:00",
                    }
                ]
            },
            "end_before_start",
        ),
        (
            {
                "appointments": [],
                "start_date_time": "2030-01-08 00:00:00",
                "end_date_time": "2030-01-07 00:00:00",
            },
            "end_before_start",
        ),
    ],
)
async def test_export_refuses_bad_input_before_any_request(
    hass: HomeAssistant,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
    data: dict[str, Any],
    key: str,
) -> None:
    """Unknown sources and impossible windows are refused up front."""
    assert (
        await refused_before_any_request(
            hass, calendar_emulator, "export_appointments", entity_id, **data
        )
        == key
    )


BAD_EXPORT_FIELDS: list[tuple[dict[str, Any], str, str]] = [
    (
        {"source_entity_id": "calendar.practice", "appointments": []},
        "conflicting_fields",
        "Give only one of source_entity_id, appointments",
    ),
    (
        {"source_entity_id": "not an entity"},
        "invalid_source_entity_id",
        "such as calendar.practice",
    ),
    ({"appointments": "tomorrow"}, "invalid_appointments", "must be a list"),
    (
        {
            "appointments": [
                {"summary": "A", "start": "2030-01-07", "end": "2030-01-08"},
                {"summary": "B", "start": "soon", "end": "2030-01-08"},
            ]
        },
        "invalid_appointment",
        "Appointment 2 has a missing or invalid start",
    ),
    (
        {"appointments": [{"start": "2030-01-07", "end": "2030-01-08"}]},
        "invalid_appointment",
        "Appointment 1 has a missing or invalid summary",
    ),
    (
        {"appointments": [], "remove_missing": "sometimes"},
        "invalid_remove_missing",
        "true or false",
    ),
    (
        {"appointments": [], "start_date_time": "now"},
        "invalid_start_date_time",
        "such as 2030-01-07 09:00:00",
    ),
    (
        {"appointments": [], "end_date_time": "later"},
        "invalid_end_date_time",
        "such as 2030-01-07 09:30:00",
    ),
    (
        {"source_entity_id": "calendar.nowhere"},
        "unknown_source_entity",
        "calendar.nowhere is not a loaded calendar",
    ),
]


@pytest.mark.parametrize(("data", "key", "message"), BAD_EXPORT_FIELDS)
async def test_export_explains_each_bad_field(
    hass: HomeAssistant,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
    *,
    data: dict[str, Any],
    key: str,
    message: str,
) -> None:
    """Each field of export_appointments is refused with its own message."""
    found, text = await refused_with_message(
        hass, calendar_emulator, "export_appointments", entity_id, data
    )
    assert found == key
    assert message in text


@pytest.mark.usefixtures("work_calendar")
@pytest.mark.parametrize(
    "entry_options", [{CONF_CALENDARS: [ACCOUNT, WORK], CONF_PUSH_ENABLED: False}]
)
async def test_export_refuses_a_calendar_into_itself_or_a_loop(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """A calendar is never exported into itself or into one that exports into it."""
    primary, work = calendar_entity_id(ACCOUNT), calendar_entity_id(WORK)
    key, text = await refused_with_message(
        hass, calendar_emulator, "export_appointments", work, {"source_entity_id": work}
    )
    assert key == "export_into_itself"
    assert text == f"{work} cannot be exported into its own calendar"

    # Work is exported into the primary calendar automatically: the way back loops.
    hass.config_entries.async_update_entry(
        setup_integration,
        options={
            **setup_integration.options,
            CONF_EXPORT_SOURCES: [work],
            CONF_EXPORT_TARGET: ACCOUNT,
        },
    )
    await hass.async_block_till_done()
    key, text = await refused_with_message(
        hass,
        calendar_emulator,
        "export_appointments",
        work,
        {"source_entity_id": primary},
    )
    assert key == "export_loop"
    assert text.startswith(
        f"Exporting {primary} into {work} would copy the events back into {primary}"
    )


@pytest.mark.usefixtures("work_calendar")
@pytest.mark.parametrize(
    "entry_options", [{CONF_CALENDARS: [ACCOUNT, WORK], CONF_PUSH_ENABLED: False}]
)
async def test_exported_events_are_never_exported_again(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """Exporting a calendar that holds exported events copies only its own events."""
    primary = calendar_entity_id(ACCOUNT)
    await call_action(
        hass,
        "export_appointments",
        primary,
        appointments=[
            {
                "summary": "Exported",
                "start": "2030-01-07 09:00:00",
                "end": "2030-01-07 10:00:00",
            }
        ],
    )
    await call_action(
        hass,
        "create_event",
        primary,
        summary="Own",
        start_date_time="2030-01-08 09:00:00",
        duration="01:00:00",
    )
    result = await call_action(
        hass,
        "export_appointments",
        calendar_entity_id(WORK),
        source_entity_id=primary,
        start_date_time="2030-01-01 00:00:00",
        end_date_time="2030-02-01 00:00:00",
    )
    assert result["created"] == 1
    assert [event["summary"] for event in calendar_emulator.events(WORK)] == ["Own"]


async def test_export_reports_google_errors(
    hass: HomeAssistant,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """A failure before anything is written is a translated error."""
    key = await refused_by_google(
        hass,
        calendar_emulator,
        "export_appointments",
        entity_id,
        appointments=[{"summary": "x", "start": "2030-01-07", "end": "2030-01-08"}],
    )
    assert key == "export_failed"
