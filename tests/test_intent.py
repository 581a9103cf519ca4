"""Tests of the voice intent that creates Google Calendar events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
import re
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant
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

from .conftest import ACCOUNT, CLUB_CALENDAR, FAMILY, HOLIDAYS, SERVICE_ACCOUNT, WORK


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


async def test_intent_creates_an_event_in_a_service_account_calendar(
    hass: HomeAssistant,
    setup_service_account: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """Assist writes into a calendar shared with a service account as into a user's."""
    response = await _handle(
        hass, calendar="Club", summary="Committee", start="2030-01-07 19:00"
    )
    assert response.response_type is intent.IntentResponseType.ACTION_DONE
    assert response.speech["plain"]["speech"].startswith("Created Committee in ")
    [stored] = calendar_emulator.events(CLUB_CALENDAR)
    assert stored["summary"] == "Committee"
    assert stored["creator"]["email"] == SERVICE_ACCOUNT


@pytest.mark.parametrize(
    ("slots", "message"),
    [
        (
            {"calendar": "Nowhere", "start": "10:00"},
            "I found no Google calendar called Nowhere.",
        ),
        (
            {"start": "whenever"},
            (
                "I did not understand the time whenever; say a time such as 15:30, "
                "or a date and time such as 2030-01-07 15:30."
            ),
        ),
    ],
)
async def test_intent_explains_what_it_cannot_do(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    slots: dict[str, Any],
    message: str,
) -> None:
    """Unknown calendars and times are answered in words, nothing is written."""
    response = await _handle(hass, summary="x", **slots)
    assert response.response_type is intent.IntentResponseType.ERROR
    assert response.error_code is intent.IntentResponseErrorCode.FAILED_TO_HANDLE
    assert response.speech["plain"]["speech"] == message
    assert calendar_emulator.events(ACCOUNT) == []


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
    response = await _handle(hass, summary="x", start="10:00")
    assert response.speech["plain"]["speech"].startswith("Which calendar should I use")
    await _handle(hass, calendar="Work", summary="Planning", start="10:00")


@pytest.mark.usefixtures("work_calendar", "setup_integration")
@pytest.mark.parametrize(
    "entry_options", [{CONF_CALENDARS: [ACCOUNT, WORK], CONF_PUSH_ENABLED: False}]
)
async def test_intent_reports_google_errors(
    hass: HomeAssistant, calendar_emulator: GoogleCalendarEmulator
) -> None:
    """A Google failure is spoken as an error, not raised as a crash."""
    calendar_emulator.faults.add("drop", times=20)
    response = await _handle(hass, calendar="Work", summary="x", start="10:00")
    assert response.response_type is intent.IntentResponseType.ERROR
    assert response.speech["plain"]["speech"].startswith(
        "Google Calendar refused the change"
    )


# Through Home Assistant's conversation agent, with the README's custom sentences.


def _readme_sentences() -> str:
    """Return the custom sentences file the README tells users to create."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    [block] = [
        block
        for block in re.findall(
            r"^```yaml\n(.*?)^```", readme, re.DOTALL | re.MULTILINE
        )
        if INTENT_CREATE_EVENT in block
    ]
    return block


@pytest.fixture
async def assist(hass: HomeAssistant) -> Converse:
    """Load the README's sentences as custom sentences and return a way to talk."""
    sentences = Path(
        hass.config.path("custom_sentences", "en", "google_calendar_sync.yaml")
    )
    sentences.parent.mkdir(parents=True)
    sentences.write_text(_readme_sentences(), encoding="utf-8")
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})

    async def converse(text: str) -> intent.IntentResponse:
        result = await conversation.async_converse(
            hass, text, None, Context(), language="en"
        )
        return result.response

    return converse


type Converse = Callable[[str], Awaitable[intent.IntentResponse]]
FAMILY_OPTIONS = {CONF_CALENDARS: [ACCOUNT, FAMILY, HOLIDAYS], CONF_PUSH_ENABLED: False}


@pytest.mark.usefixtures("calendars")
@pytest.mark.parametrize("entry_options", [FAMILY_OPTIONS])
async def test_readme_sentence_creates_the_event_and_confirms_it(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    assist: Converse,
    freezer: FrozenDateTimeFactory,
) -> None:
    """ "add dentist to the family calendar at 15:30" works as the README says."""
    freezer.move_to(datetime(2030, 1, 7, 8, 0, tzinfo=dt_util.get_default_time_zone()))
    response = await assist("add dentist to the family calendar at 15:30")
    assert response.response_type is intent.IntentResponseType.ACTION_DONE
    assert (
        response.speech["plain"]["speech"]
        == "Created dentist in Family on Monday 07 January at 15:30"
    )
    [event] = calendar_emulator.events(FAMILY)
    assert event["summary"] == "dentist"

    response = await assist(
        "add practice to the family calendar at 2030-01-08 17:00 for 45 minutes"
    )
    assert (
        response.speech["plain"]["speech"]
        == "Created practice in Family on Tuesday 08 January at 17:00"
    )
    practice = next(
        e for e in calendar_emulator.events(FAMILY) if e["summary"] == "practice"
    )
    start = dt_util.parse_datetime(practice["start"]["dateTime"])
    end = dt_util.parse_datetime(practice["end"]["dateTime"])
    assert start is not None and end is not None
    assert end - start == timedelta(minutes=45)


@pytest.mark.usefixtures("calendars")
@pytest.mark.parametrize("entry_options", [FAMILY_OPTIONS])
@pytest.mark.parametrize(
    "exchange",
    [
        (
            "add dentist to my calendar at 15:30",
            "Which calendar should I use: Family, Primary calendar?",
        ),
        (
            "add dentist to the garden calendar at 15:30",
            "I found no Google calendar called garden.",
        ),
        (
            "add dentist to the holidays calendar at 15:30",
            "The calendar Holidays is read-only; I cannot add events to it.",
        ),
        (
            "add dentist to the birthdays calendar at 15:30",
            "The calendar Birthdays is read-only; I cannot add events to it.",
        ),
        (
            "add dentist to the family calendar at 25:99",
            (
                "I did not understand the time 25:99; say a time such as 15:30, "
                "or a date and time such as 2030-01-07 15:30."
            ),
        ),
    ],
)
async def test_readme_sentences_explain_what_went_wrong(
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    assist: Converse,
    caplog: pytest.LogCaptureFixture,
    exchange: tuple[str, str],
) -> None:
    """Assist says what is wrong instead of "An unexpected error occurred"."""
    sentence, reply = exchange
    calendar_emulator.requests.clear()
    response = await assist(sentence)
    assert response.response_type is intent.IntentResponseType.ERROR
    assert response.speech["plain"]["speech"] == reply
    assert "Traceback" not in caplog.text
    assert not [e for e in calendar_emulator.requests.entries if e.method == "POST"]


@pytest.mark.parametrize(
    "sentence",
    [
        "add dentist to my calendar at 15:30",
        "add dentist to the primary calendar at 15:30",
    ],
)
@pytest.mark.usefixtures("setup_integration")
async def test_readme_sentences_with_one_writable_calendar(
    calendar_emulator: GoogleCalendarEmulator,
    assist: Converse,
    freezer: FrozenDateTimeFactory,
    sentence: str,
) -> None:
    """With one writable calendar, "my calendar" and its name both reach it."""
    freezer.move_to(datetime(2030, 1, 7, 8, 0, tzinfo=dt_util.get_default_time_zone()))
    response = await assist(sentence)
    assert (
        response.speech["plain"]["speech"]
        == "Created dentist in Primary calendar on Monday 07 January at 15:30"
    )
    assert [e["summary"] for e in calendar_emulator.events(ACCOUNT)] == ["dentist"]
