"""Helpers of the action tests: call an action, sync, and expect a refusal."""

from __future__ import annotations

from datetime import datetime, timedelta
import pathlib
from typing import Any

from homeassistant.components.local_calendar.const import (
    CONF_CALENDAR_NAME,
    CONF_STORAGE_KEY,
    STORAGE_PATH,
)
from homeassistant.core import HomeAssistant, SupportsResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.google_calendar_sync.const import DOMAIN
from google_calendar_emulator import GoogleCalendarEmulator

from .common import TRANSLATIONS

SOURCE = "calendar.practice"


async def call_action(
    hass: HomeAssistant, service: str, entity_id: str, **data: Any
) -> dict[str, Any]:
    """Call an action on one entity; return its answer ({} for delete_event)."""
    answers = hass.services.supports_response(DOMAIN, service) is not (
        SupportsResponse.NONE
    )
    response = await hass.services.async_call(
        DOMAIN,
        service,
        {"entity_id": entity_id, **data},
        blocking=True,
        return_response=answers,
    )
    if not answers:
        return {}
    assert response is not None
    result: dict[str, Any] = response[entity_id]  # type: ignore[assignment]
    return result


async def sync_calendar(
    hass: HomeAssistant, calendar_emulator: GoogleCalendarEmulator, entity_id: str
) -> None:
    """Sync a calendar at once, as a user does (homeassistant.update_entity)."""
    assert await async_setup_component(hass, "homeassistant", {})
    calendar_emulator.requests.clear()
    await hass.services.async_call(
        "homeassistant", "update_entity", {"entity_id": entity_id}, blocking=True
    )
    await hass.async_block_till_done()
    assert calendar_emulator.requests.matching("GET", "/events")


async def refused_before_any_request(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    service: str,
    entity_id: str,
    **data: Any,
) -> str | None:
    """Call an action that must fail validation; return the error's key."""
    calendar_emulator.requests.clear()
    with pytest.raises(ServiceValidationError) as err:
        await call_action(hass, service, entity_id, **data)
    assert calendar_emulator.requests.entries == []
    return err.value.translation_key


async def refused_by_google(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    service: str,
    entity_id: str,
    **data: Any,
) -> str | None:
    """Call an action while Google drops every request; return the error's key."""
    calendar_emulator.faults.add("drop", times=20)
    with pytest.raises(HomeAssistantError) as err:
        await call_action(hass, service, entity_id, **data)
    return err.value.translation_key


async def refused_with_message(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    service: str,
    entity_id: str,
    data: dict[str, Any],
) -> tuple[str | None, str]:
    """Call an action that must fail validation; return its key and message.

    The message is the translated one of strings.json with its placeholders filled,
    never voluptuous's text, and Google heard nothing.
    """
    calendar_emulator.requests.clear()
    with pytest.raises(ServiceValidationError) as err:
        await call_action(hass, service, entity_id, **data)
    assert calendar_emulator.requests.entries == []
    key = err.value.translation_key
    template = TRANSLATIONS["exceptions"][key]["message"]
    # Home Assistant drops the final full stop of a translated exception.
    assert str(err.value) == template.format(
        **(err.value.translation_placeholders or {})
    ).rstrip(".")
    return key, str(err.value)


def ics_appointments(count: int, start: datetime) -> str:
    """Return an iCalendar file with count half-hour appointments, one a day."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN"]
    for index in range(count):
        begin = start + timedelta(days=index)
        lines += [
            "BEGIN:VEVENT",
            f"UID:appointment-{index}",
            "DTSTAMP:20250101T000000Z",
            f"DTSTART:{begin.astimezone(dt_util.UTC).strftime('%Y%m%dT%H%M%SZ')}",
            f"DTEND:{(begin + timedelta(minutes=30)).astimezone(dt_util.UTC).strftime('%Y%m%dT%H%M%SZ')}",
            f"SUMMARY:Patient {index}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


async def setup_practice(hass: HomeAssistant) -> MockConfigEntry:
    """Set up a local calendar "Practice" holding 120 future appointments."""
    path = pathlib.Path(hass.config.path(STORAGE_PATH.format(key="practice")))
    start = (dt_util.now() + timedelta(days=1)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    content = ics_appointments(120, start)

    def write() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")

    await hass.async_add_executor_job(write)
    entry = MockConfigEntry(
        domain="local_calendar",
        data={CONF_CALENDAR_NAME: "Practice", CONF_STORAGE_KEY: "practice"},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(SOURCE) is not None
    return entry
