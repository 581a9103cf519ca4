"""Tests of the voice intent that creates Google Calendar events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.google_calendar_sync.const import (
    CONF_CALENDARS,
    CONF_PUSH_ENABLED,
)
from custom_components.google_calendar_sync.intent import INTENT_CREATE_EVENT
from google_calendar_emulator import GoogleCalendarEmulator

from .conftest import ACCOUNT


@pytest.fixture(autouse=True)
async def intent_integration(hass: HomeAssistant) -> None:
    """Load Home Assistant's intent integration, which registers ours."""
    assert await async_setup_component(hass, "intent", {})


async def _handle(hass: HomeAssistant, **slots: Any) -> intent.IntentResponse:
    return await intent.async_handle(
        hass,
        "test",
        INTENT_CREATE_EVENT,
        {name: {"value": value} for name, value in slots.items()},
    )


async def test_intent_creates_an_event(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """Assist creates the event and confirms it in speech."""
    response = await _handle(
        hass,
        calendar=calendar_entity_id(ACCOUNT),
        summary="Dentist",
        start="2030-01-07 09:00",
        duration=45,
    )
    assert response.response_type is intent.IntentResponseType.ACTION_DONE
    speech = response.speech["plain"]["speech"]
    assert speech.startswith("Created Dentist in ")
    assert "09:00" in speech
    [stored] = calendar_emulator.events(ACCOUNT)
    start = dt_util.parse_datetime(stored["start"]["dateTime"])
    end = dt_util.parse_datetime(stored["end"]["dateTime"])
    assert start is not None and end is not None
    assert (end - start).total_seconds() == 45 * 60
    assert dt_util.as_local(start).strftime("%Y-%m-%d %H:%M") == "2030-01-07 09:00"


async def test_intent_finds_the_calendar_by_name_or_alone(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """The calendar slot takes the entity's name; without it the only one is used."""
    name = hass.states.get(calendar_entity_id(ACCOUNT)).name  # type: ignore[union-attr]
    await _handle(hass, calendar=name.upper(), summary="Named", start="10:30")
    await _handle(hass, summary="Alone", start="2030-01-08T08:00:00+00:00")
    summaries = sorted(e["summary"] for e in calendar_emulator.events(ACCOUNT))
    assert summaries == ["Alone", "Named"]
    [alone] = [e for e in calendar_emulator.events(ACCOUNT) if e["summary"] == "Alone"]
    assert dt_util.parse_datetime(alone["end"]["dateTime"]) == dt_util.parse_datetime(
        "2030-01-08T09:00:00+00:00"
    )


async def test_intent_finds_the_calendar_without_the_word_calendar(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """Saying "the primary calendar" fills the calendar slot with "primary"."""
    await _handle(hass, calendar="Primary", summary="Spoken", start="10:30")
    assert [e["summary"] for e in calendar_emulator.events(ACCOUNT)] == ["Spoken"]


@pytest.mark.parametrize(
    ("slots", "message"),
    [
        ({"calendar": "Nowhere", "start": "10:00"}, "no Google calendar called"),
        ({"start": "whenever"}, "did not understand the time"),
    ],
)
async def test_intent_explains_what_it_cannot_do(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    slots: dict[str, Any],
    message: str,
) -> None:
    """Unknown calendars and times are answered, nothing is written."""
    with pytest.raises(intent.IntentHandleError, match=message):
        await _handle(hass, summary="x", **slots)
    assert calendar_emulator.events(ACCOUNT) == []


WORK = "work@group.calendar.google.com"


@pytest.fixture
def work_calendar(calendar_emulator: GoogleCalendarEmulator) -> str:
    """Return a second writable calendar of the account."""
    return calendar_emulator.add_calendar(ACCOUNT, "Work", calendar_id=WORK)


@pytest.mark.usefixtures("work_calendar")
@pytest.mark.parametrize(
    "entry_options", [{CONF_CALENDARS: [ACCOUNT, WORK], CONF_PUSH_ENABLED: False}]
)
async def test_intent_asks_which_calendar_when_there_are_several(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """With two writable calendars the calendar slot is needed."""
    with pytest.raises(intent.IntentHandleError, match="Which calendar"):
        await _handle(hass, summary="x", start="10:00")
    await _handle(hass, calendar="Work", summary="Planning", start="10:00")


@pytest.mark.usefixtures("work_calendar")
@pytest.mark.parametrize(
    "entry_options", [{CONF_CALENDARS: [ACCOUNT, WORK], CONF_PUSH_ENABLED: False}]
)
async def test_intent_reports_google_errors(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """A Google failure is spoken as an error, not raised as a crash."""
    from custom_components.google_calendar_sync.api import RetryPolicy

    async def no_sleep(_delay: float) -> None:
        return None

    setup_integration.runtime_data.api._retry = RetryPolicy(
        max_attempts=1, sleep=no_sleep
    )
    calendar_emulator.faults.add("drop", times=5)
    with pytest.raises(intent.IntentHandleError):
        await _handle(hass, calendar="Work", summary="x", start="10:00")
