"""Tests of the actions: create, update and delete events, export, sync now."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
import json
import pathlib
import re
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.calendar.const import DATA_COMPONENT
from homeassistant.components.local_calendar.const import (
    CONF_CALENDAR_NAME,
    CONF_STORAGE_KEY,
    STORAGE_PATH,
)
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED, STATE_UNAVAILABLE
from homeassistant.core import Context, CoreState, HomeAssistant, SupportsResponse
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
    Unauthorized,
    UnknownUser,
)
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_capture_events,
    async_fire_time_changed,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.google_calendar_sync.const import (
    CONF_CALENDARS,
    CONF_EXPORT_SOURCES,
    CONF_EXPORT_TARGET,
    CONF_PUSH_ENABLED,
    CONF_SYNC_WINDOW_DAYS,
    DOMAIN,
    EVENT_CHANGED,
)
from custom_components.google_calendar_sync.export import (
    AUTO_EXPORT_COOLDOWN,
    ORIGIN_KEY,
)
from custom_components.google_calendar_sync.google.transport import RetryPolicy
from google_calendar_emulator import GoogleCalendarEmulator

from .conftest import ACCOUNT

SOURCE = "calendar.practice"


async def _no_sleep(_delay: float) -> None:
    """Skip backoff waits."""


@pytest.fixture
def no_backoff(setup_integration: MockConfigEntry) -> None:
    """Let the client give up at once instead of backing off for seconds."""
    api = setup_integration.runtime_data.api
    api.transport.retry = RetryPolicy(max_attempts=2, sleep=_no_sleep)


@pytest.fixture
def entity_id(
    setup_integration: MockConfigEntry, calendar_entity_id: Callable[[str], str]
) -> str:
    """Return the entity id of the primary calendar, set up against the emulator."""
    return calendar_entity_id(ACCOUNT)


async def _call(
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


async def _refused_before_any_request(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    service: str,
    entity_id: str,
    **data: Any,
) -> str | None:
    """Call an action that must fail validation; return the error's key."""
    calendar_emulator.requests.clear()
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, service, entity_id, **data)
    assert calendar_emulator.requests.entries == []
    return err.value.translation_key


async def _refused_by_google(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    service: str,
    entity_id: str,
    **data: Any,
) -> str | None:
    """Call an action while Google drops every request; return the error's key."""
    calendar_emulator.faults.add("drop", times=20)
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, service, entity_id, **data)
    return err.value.translation_key


def _normalise(response: dict[str, Any], event_id: str) -> dict[str, Any]:
    """Replace the generated ids so the snapshot is stable."""
    text = repr(response).replace(event_id, "EVENT_ID")
    text = re.sub(r"[a-z]{3}-[a-z]{4}-[a-z]{3}", "MEET-CODE", text)
    text = re.sub(r"eid=[A-Za-z0-9_=-]+", "eid=EID", text)
    result: dict[str, Any] = eval(text)  # noqa: S307 - our own repr
    return result


async def test_create_event_without_meet_link(
    hass: HomeAssistant,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
    snapshot: SnapshotAssertion,
) -> None:
    """Every field reaches Google; the response names the event."""
    response = await _call(
        hass,
        "create_event",
        entity_id,
        summary="Board meeting",
        description="Quarterly numbers",
        location="HQ",
        start_date_time="2030-01-07 09:00:00",
        duration={"minutes": 90},
        time_zone="America/New_York",
        attendees=["alice@example.com", "bob@example.com"],
        rrule="FREQ=MONTHLY;COUNT=3",
        reminders=[10, 60],
        transparency="transparent",
    )
    [stored] = calendar_emulator.events(ACCOUNT)
    assert _normalise(response, stored["id"]) == snapshot
    assert stored["start"] == {
        "dateTime": "2030-01-07T09:00:00-05:00",
        "timeZone": "America/New_York",
    }
    assert stored["end"]["dateTime"] == "2030-01-07T10:30:00-05:00"
    assert [a["email"] for a in stored["attendees"]] == [
        "alice@example.com",
        "bob@example.com",
    ]
    assert stored["recurrence"] == ["RRULE:FREQ=MONTHLY;COUNT=3"]
    assert stored["reminders"]["overrides"] == [
        {"method": "popup", "minutes": 10},
        {"method": "popup", "minutes": 60},
    ]
    assert stored["transparency"] == "transparent"
    assert "conferenceData" not in stored


async def test_create_event_with_meet_link(
    hass: HomeAssistant,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
    snapshot: SnapshotAssertion,
) -> None:
    """A Meet link is requested with conferenceDataVersion=1 and a fresh request id."""
    response = await _call(
        hass,
        "create_event",
        entity_id,
        summary="Call",
        start_date="2030-01-07",
        end_date="2030-01-08",
        add_meet_link=True,
    )
    second = await _call(
        hass,
        "create_event",
        entity_id,
        summary="Call again",
        start_date="2030-01-08",
        duration={"hours": 3},
        add_meet_link=True,
    )
    events = {e["summary"]: e for e in calendar_emulator.events(ACCOUNT)}
    assert _normalise(response, events["Call"]["id"]) == snapshot
    assert response["meet_link"] and response["meet_link"] != second["meet_link"]
    inserts = calendar_emulator.requests.matching("POST", "/events")
    assert all(r.query.get("conferenceDataVersion") == ["1"] for r in inserts)
    request_ids = {
        e["conferenceData"]["createRequest"]["requestId"] for e in events.values()
    }
    assert len(request_ids) == 2
    assert events["Call again"]["end"] == {"date": "2030-01-09"}


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (
            {
                "start_date_time": "2030-01-07 10:00:00",
                "end_date_time": "2030-01-07 09:00:00",
            },
            "end_before_start",
        ),
        (
            {
                "start_date_time": "2030-01-07 10:00:00",
                "duration": {"minutes": 30},
                "time_zone": "Mars/Olympus_Mons",
            },
            "unknown_time_zone",
        ),
        (
            {
                "start_date": "2030-01-07",
                "end_date": "2030-01-08",
                "rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
            },
            "invalid_rrule",
        ),
        (
            {"start_date": "2030-01-07", "end_date": "2030-01-08", "rrule": "FREQ=X"},
            "invalid_rrule",
        ),
        ({"end_date": "2030-01-08"}, "missing_start"),
        ({"start_date": "2030-01-08"}, "missing_end"),
        (
            {"start_date": "2030-01-07", "end_date_time": "2030-01-07 10:00:00"},
            "mixed_start_end",
        ),
    ],
)
async def test_create_event_refuses_bad_input_before_any_request(
    hass: HomeAssistant,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
    data: dict[str, Any],
    key: str,
) -> None:
    """Bad input is a translated validation error and Google never hears of it."""
    assert (
        await _refused_before_any_request(
            hass, calendar_emulator, "create_event", entity_id, summary="Bad", **data
        )
        == key
    )


EN = json.loads(
    (
        pathlib.Path(__file__).parent.parent
        / "custom_components"
        / DOMAIN
        / "translations"
        / "en.json"
    ).read_text(encoding="utf-8")
)


async def _refused_with_message(
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
        await _call(hass, service, entity_id, **data)
    assert calendar_emulator.requests.entries == []
    key = err.value.translation_key
    template = EN["exceptions"][key]["message"]
    # Home Assistant drops the final full stop of a translated exception.
    assert str(err.value) == template.format(
        **(err.value.translation_placeholders or {})
    ).rstrip(".")
    return key, str(err.value)


TIMED = {"start_date_time": "2030-01-07 09:00:00", "duration": "00:30:00"}


BAD_CREATE_FIELDS: list[tuple[dict[str, Any], str, str]] = [
    ({**TIMED, "summary": ""}, "invalid_summary", "Give the event a title"),
    ({**TIMED, "summary": "   "}, "invalid_summary", "cannot be empty"),
    ({**TIMED, "summary": None}, "invalid_summary", "title"),
    (TIMED, "missing_field", "The field summary is required"),
    ({**TIMED, "summary": "x", "colour": "red"}, "unknown_field", "colour is"),
    (
        {**TIMED, "summary": "x", "attendees": ["alice@example.com", "bob"]},
        "invalid_attendee",
        "bob is not a valid email address",
    ),
    (
        {
            **TIMED,
            "summary": "x",
            "attendees": [f"guest{n}@example.com" for n in range(501)],
        },
        "too_many_attendees",
        "at most 500 attendees per event; 501 were given",
    ),
    (
        {**TIMED, "summary": "x", "reminders": [10, 20, 30, 40, 50, 60]},
        "too_many_reminders",
        "at most 5 reminders per event; 6 were given",
    ),
    (
        {**TIMED, "summary": "x", "reminders": [None]},
        "invalid_reminder",
        "None is not a valid reminder",
    ),
    (
        {**TIMED, "summary": "x", "reminders": [40321]},
        "invalid_reminder",
        "from 0 to 40320",
    ),
    (
        {**TIMED, "summary": "x", "reminders": [-5]},
        "invalid_reminder",
        "-5 is not a valid reminder",
    ),
    (
        {"summary": "x", "start_date_time": "soon", "duration": "00:30:00"},
        "invalid_start_date_time",
        "such as 2030-01-07 09:00:00",
    ),
    (
        {**TIMED, "summary": "x", "start_date": "2030-01-07"},
        "conflicting_fields",
        "Give only one of start_date_time, start_date",
    ),
    (
        {**TIMED, "summary": "x", "end_date": "2030-01-08"},
        "conflicting_fields",
        "Give only one of end_date, duration",
    ),
    (
        {"summary": "x", "start_date": "7 January", "end_date": "2030-01-08"},
        "invalid_start_date",
        "such as 2030-01-07",
    ),
    (
        {"summary": "x", "start_date": "2030-01-07", "end_date": "8 January"},
        "invalid_end_date",
        "such as 2030-01-08",
    ),
    (
        {
            "summary": "x",
            "start_date_time": "2030-01-07 09:00:00",
            "end_date_time": "x",
        },
        "invalid_end_date_time",
        "such as 2030-01-07 09:30:00",
    ),
    (
        {
            "summary": "x",
            "start_date_time": "2030-01-07 09:00:00",
            "duration": "long",
        },
        "invalid_duration",
        "length of time",
    ),
    (
        {**TIMED, "summary": "x", "time_zone": ""},
        "invalid_time_zone",
        "IANA time zone",
    ),
    (
        {**TIMED, "summary": "x", "time_zone": "Mars/Olympus_Mons"},
        "unknown_time_zone",
        "Unknown time zone: Mars/Olympus_Mons",
    ),
    (
        {**TIMED, "summary": "x", "rrule": ["FREQ=DAILY"]},
        "invalid_rrule_text",
        "FREQ=WEEKLY;COUNT=10",
    ),
    (
        {**TIMED, "summary": "x", "transparency": "busy"},
        "invalid_transparency",
        "opaque (busy) or transparent (free)",
    ),
    (
        {**TIMED, "summary": "x", "add_meet_link": "perhaps"},
        "invalid_add_meet_link",
        "true or false",
    ),
    (
        {**TIMED, "summary": "x", "description": ["a", "b"]},
        "invalid_description",
        "description must be text",
    ),
    (
        {**TIMED, "summary": "x", "location": ["a", "b"]},
        "invalid_location",
        "location must be text",
    ),
]


@pytest.mark.parametrize(
    ("data", "expected"),
    [(data, (key, message)) for data, key, message in BAD_CREATE_FIELDS],
)
async def test_create_event_explains_each_bad_field(
    hass: HomeAssistant,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
    data: dict[str, Any],
    expected: tuple[str, str],
) -> None:
    """Each field is refused with its own translated message, before Google."""
    found, text = await _refused_with_message(
        hass, calendar_emulator, "create_event", entity_id, data
    )
    key, message = expected
    assert found == key
    assert message in text


async def test_a_bad_target_is_named(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
) -> None:
    """Fields Home Assistant adds (the target) are named in the message too."""
    key, text = await _refused_with_message(
        hass,
        calendar_emulator,
        "create_event",
        "not an entity",
        {**TIMED, "summary": "x"},
    )
    assert key == "invalid_field"
    assert text == "The value of entity_id is invalid"


async def test_sync_now_names_a_field_it_does_not_have(
    hass: HomeAssistant, entity_id: str, calendar_emulator: GoogleCalendarEmulator
) -> None:
    """Even the action without fields answers an unknown one in words."""
    key, text = await _refused_with_message(
        hass, calendar_emulator, "sync_now", entity_id, {"full": True}
    )
    assert key == "unknown_field"
    assert text == "full is not a field of this action"


async def test_unknown_time_zone_is_looked_up_without_blocking(
    hass: HomeAssistant,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A zone nobody loaded yet is searched off the event loop, then refused."""
    key, _ = await _refused_with_message(
        hass,
        calendar_emulator,
        "create_event",
        entity_id,
        {**TIMED, "summary": "x", "time_zone": "Atlantis/Poseidonis"},
    )
    assert key == "unknown_time_zone"
    assert "Detected blocking call" not in caplog.text


async def test_create_event_accepts_what_google_accepts(
    hass: HomeAssistant,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """The limits are Google's: five reminders up to four weeks, trimmed text."""
    result = await _call(
        hass,
        "create_event",
        entity_id,
        **TIMED,
        summary="  Planning  ",
        reminders=[0, 10, 60, 1440, 40320],
        attendees=" alice@example.com ",
        time_zone="Pacific/Chatham",
    )
    stored = calendar_emulator.get_event(ACCOUNT, result["event_id"])
    assert stored["summary"] == "Planning"
    assert [r["minutes"] for r in stored["reminders"]["overrides"]] == [
        0,
        10,
        60,
        1440,
        40320,
    ]
    assert [a["email"] for a in stored["attendees"]] == ["alice@example.com"]
    assert stored["start"]["timeZone"] == "Pacific/Chatham"


async def test_create_event_reports_google_errors(
    hass: HomeAssistant,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
    no_backoff: None,
) -> None:
    """A Google failure becomes a translated Home Assistant error."""
    key = await _refused_by_google(
        hass,
        calendar_emulator,
        "create_event",
        entity_id,
        summary="Lost",
        start_date="2030-01-07",
        end_date="2030-01-08",
    )
    assert key == "api_error"


async def test_sync_now_returns_change_counts(
    hass: HomeAssistant, entity_id: str, calendar_emulator: GoogleCalendarEmulator
) -> None:
    """sync_now fetches Google's changes at once."""
    calendar_emulator.insert_event(
        ACCOUNT,
        {
            "summary": "Made in Google",
            "start": {"date": "2030-01-07"},
            "end": {"date": "2030-01-08"},
        },
    )
    response = await _call(hass, "sync_now", entity_id)
    assert response == {"created": 1, "updated": 0, "cancelled": 0}


async def test_sync_now_reports_google_errors(
    hass: HomeAssistant,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
    no_backoff: None,
) -> None:
    """A failed sync_now raises a translated Home Assistant error (action-exceptions)."""
    calendar_emulator.faults.add("drop", times=20)

    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "sync_now", entity_id)
    assert err.value.translation_domain == "google_calendar_sync"
    assert err.value.translation_key == "sync_failed"
    calendar_emulator.faults.clear()


async def test_sync_now_brings_an_unavailable_calendar_back(
    hass: HomeAssistant,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
    no_backoff: None,
) -> None:
    """A calendar a failed sync made unavailable is synced, not skipped."""
    calendar_emulator.faults.add("drop", times=20)
    with pytest.raises(HomeAssistantError):
        await _call(hass, "sync_now", entity_id)
    assert hass.states.get(entity_id).state == STATE_UNAVAILABLE
    calendar_emulator.faults.clear()

    assert await _call(hass, "sync_now", entity_id) == {
        "created": 0,
        "updated": 0,
        "cancelled": 0,
    }
    assert hass.states.get(entity_id).state != STATE_UNAVAILABLE


async def test_update_entity_brings_an_unavailable_calendar_back(
    hass: HomeAssistant,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
    no_backoff: None,
) -> None:
    """homeassistant.update_entity retries an unavailable calendar too."""
    assert await async_setup_component(hass, "homeassistant", {})
    calendar_emulator.faults.add("drop", times=20)
    with pytest.raises(HomeAssistantError):
        await _call(hass, "sync_now", entity_id)
    assert hass.states.get(entity_id).state == STATE_UNAVAILABLE
    calendar_emulator.faults.clear()
    calendar_emulator.insert_event(
        ACCOUNT,
        {
            "summary": "While away",
            "start": {"date": "2030-01-07"},
            "end": {"date": "2030-01-08"},
        },
    )
    calendar_emulator.requests.clear()

    await hass.services.async_call(
        "homeassistant", "update_entity", {"entity_id": entity_id}, blocking=True
    )
    await hass.async_block_till_done()

    assert hass.states.get(entity_id).state != STATE_UNAVAILABLE
    assert calendar_emulator.requests.matching("GET", "/events")


async def test_sync_now_of_all_syncs_every_synced_calendar(
    hass: HomeAssistant, entity_id: str
) -> None:
    """entity_id: all reaches every calendar of ours."""
    response = await hass.services.async_call(
        DOMAIN, "sync_now", {"entity_id": "all"}, blocking=True, return_response=True
    )
    assert response is not None
    assert set(response) == set(hass.states.async_entity_ids("calendar"))
    assert response[entity_id] == {"created": 0, "updated": 0, "cancelled": 0}


async def test_sync_now_without_a_response_syncs_every_target(
    hass: HomeAssistant, entity_id: str, calendar_emulator: GoogleCalendarEmulator
) -> None:
    """Called as a plain action (an automation), sync_now answers nothing."""
    calendar_emulator.requests.clear()
    assert (
        await hass.services.async_call(
            DOMAIN, "sync_now", {"entity_id": entity_id}, blocking=True
        )
        is None
    )
    assert calendar_emulator.requests.matching("GET", "/events")


@pytest.mark.usefixtures("setup_integration")
async def test_sync_now_of_no_synced_calendar_is_refused(hass: HomeAssistant) -> None:
    """A target without any of our calendars is a translated validation error."""
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "sync_now",
            {"entity_id": "calendar.someone_else"},
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "no_synced_calendar"


async def test_sync_now_respects_the_user_permissions(
    hass: HomeAssistant,
    entity_id: str,
    hass_read_only_user: MockUser,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """A user who may not control the calendar cannot sync it; an unknown user neither."""
    calendar_emulator.requests.clear()
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            DOMAIN,
            "sync_now",
            {"entity_id": entity_id},
            blocking=True,
            context=Context(user_id=hass_read_only_user.id),
        )
    with pytest.raises(UnknownUser):
        await hass.services.async_call(
            DOMAIN,
            "sync_now",
            {"entity_id": entity_id},
            blocking=True,
            context=Context(user_id="nobody"),
        )
    assert calendar_emulator.requests.entries == []


# Export from a Home Assistant calendar (local_calendar) into Google.


def _ics(count: int, start: datetime) -> str:
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


async def _setup_practice(hass: HomeAssistant) -> MockConfigEntry:
    """Set up a local calendar "Practice" holding 120 future appointments."""
    path = pathlib.Path(hass.config.path(STORAGE_PATH.format(key="practice")))
    start = (dt_util.now() + timedelta(days=1)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    content = _ics(120, start)

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


@pytest.fixture
async def practice(hass: HomeAssistant) -> MockConfigEntry:
    """Return the set-up local calendar "Practice"."""
    return await _setup_practice(hass)


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
    return await _call(
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
    assert await _call(hass, "sync_now", entity_id) == {
        "created": 0,
        "updated": 0,
        "cancelled": 0,
    }


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
    first = await _call(
        hass, "export_appointments", entity_id, appointments=appointments
    )
    again = await _call(
        hass, "export_appointments", entity_id, appointments=appointments
    )
    assert (first["created"], again["unchanged"], again["created"]) == (2, 2, 0)
    assert len(calendar_emulator.events(ACCOUNT)) == 2
    removed = await _call(
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
        await _refused_before_any_request(
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


@pytest.mark.parametrize(
    ("data", "expected"),
    [(data, (key, message)) for data, key, message in BAD_EXPORT_FIELDS],
)
async def test_export_explains_each_bad_field(
    hass: HomeAssistant,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
    data: dict[str, Any],
    expected: tuple[str, str],
) -> None:
    """Each field of export_appointments is refused with its own message."""
    found, text = await _refused_with_message(
        hass, calendar_emulator, "export_appointments", entity_id, data
    )
    key, message = expected
    assert found == key
    assert message in text


WORK = "work@group.calendar.google.com"


@pytest.fixture
def work_calendar(calendar_emulator: GoogleCalendarEmulator) -> str:
    """Return a second writable calendar of the account."""
    return calendar_emulator.add_calendar(ACCOUNT, "Work", calendar_id=WORK)


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
    key, text = await _refused_with_message(
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
    key, text = await _refused_with_message(
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
    await _call(
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
    await _call(
        hass,
        "create_event",
        primary,
        summary="Own",
        start_date_time="2030-01-08 09:00:00",
        duration="01:00:00",
    )
    result = await _call(
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
    no_backoff: None,
) -> None:
    """A failure before anything is written is a translated error."""
    key = await _refused_by_google(
        hass,
        calendar_emulator,
        "export_appointments",
        entity_id,
        appointments=[{"summary": "x", "start": "2030-01-07", "end": "2030-01-08"}],
    )
    assert key == "export_failed"


# Read-only calendars refuse every write.


SHARED = "boss@group.calendar.google.com"


@pytest.fixture
def shared_calendar(calendar_emulator: GoogleCalendarEmulator) -> str:
    """Return a calendar another user shares read-only with the account."""
    calendar_emulator.add_user("boss@example.com")
    calendar_emulator.add_calendar("boss@example.com", "Boss", calendar_id=SHARED)
    calendar_emulator.share_calendar(SHARED, ACCOUNT, "reader")
    return SHARED


@pytest.mark.parametrize(
    ("service", "data"),
    [
        (
            "create_event",
            {"summary": "x", "start_date": "2030-01-07", "end_date": "2030-01-08"},
        ),
        ("export_appointments", {"appointments": []}),
        ("update_event", {"event_id": "abc", "summary": "x"}),
        ("delete_event", {"event_id": "abc"}),
    ],
)
@pytest.mark.usefixtures("shared_calendar", "setup_integration")
@pytest.mark.parametrize(
    "entry_options", [{CONF_CALENDARS: [ACCOUNT, SHARED], CONF_PUSH_ENABLED: False}]
)
async def test_read_only_calendar_refuses_writes(
    hass: HomeAssistant,
    calendar_entity_id: Callable[[str], str],
    calendar_emulator: GoogleCalendarEmulator,
    service: str,
    data: dict[str, Any],
) -> None:
    """A calendar shared read-only is a validation error, not a Google 403."""
    calendar_emulator.requests.clear()
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, service, calendar_entity_id(SHARED), **data)
    assert err.value.translation_key == "calendar_not_writable"
    assert calendar_emulator.requests.entries == []


@pytest.mark.parametrize(
    ("service", "data"),
    [
        (
            "create_event",
            {"summary": "x", "start_date": "2030-01-07", "end_date": "2030-01-08"},
        ),
        ("export_appointments", {"appointments": []}),
    ],
)
@pytest.mark.usefixtures("setup_integration")
async def test_separate_views_refuse_writes(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    service: str,
    data: dict[str, Any],
) -> None:
    """The birthdays calendar only shows birthdays: events go to the calendar."""
    calendar_emulator.requests.clear()
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, service, "calendar.user_example_com_birthdays", **data)
    assert err.value.translation_key == "view_not_writable"
    assert calendar_emulator.requests.entries == []


# Automatic export (options export_sources / export_target).


@pytest.mark.parametrize(
    "entry_options",
    [
        {
            CONF_CALENDARS: [ACCOUNT],
            CONF_SYNC_WINDOW_DAYS: 365,
            CONF_PUSH_ENABLED: False,
            CONF_EXPORT_SOURCES: [SOURCE],
            CONF_EXPORT_TARGET: ACCOUNT,
        }
    ],
)
async def test_automatic_export_follows_the_source_calendar(
    hass: HomeAssistant,
    practice: MockConfigEntry,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """All appointments go out at setup; a new one follows without any call."""
    freezer.tick(timedelta(seconds=AUTO_EXPORT_COOLDOWN + 1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(calendar_emulator.events(ACCOUNT)) == 120

    far = (dt_util.now() + timedelta(days=200)).replace(microsecond=0)
    await hass.services.async_call(
        "calendar",
        "create_event",
        {
            "entity_id": SOURCE,
            "summary": "New patient",
            "start_date_time": far.isoformat(),
            "end_date_time": (far + timedelta(minutes=30)).isoformat(),
        },
        blocking=True,
    )
    await hass.async_block_till_done()
    freezer.tick(timedelta(seconds=AUTO_EXPORT_COOLDOWN + 1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    summaries = [e["summary"] for e in calendar_emulator.events(ACCOUNT)]
    assert len(summaries) == 121
    assert "New patient" in summaries


AUTO_EXPORT_OPTIONS = {
    CONF_CALENDARS: [ACCOUNT],
    CONF_SYNC_WINDOW_DAYS: 365,
    CONF_PUSH_ENABLED: False,
    CONF_EXPORT_SOURCES: [SOURCE],
    CONF_EXPORT_TARGET: ACCOUNT,
}


async def _settle(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Let the export debouncer run."""
    freezer.tick(timedelta(seconds=AUTO_EXPORT_COOLDOWN + 1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


@pytest.mark.parametrize("entry_options", [AUTO_EXPORT_OPTIONS])
async def test_automatic_export_waits_for_its_source_and_repairs_hourly(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A source loaded later is exported; the hourly pass restores lost events."""
    await _settle(hass, freezer)
    assert calendar_emulator.events(ACCOUNT) == []

    practice_entry = await _setup_practice(hass)
    await _settle(hass, freezer)
    exported = calendar_emulator.events(ACCOUNT)
    assert len(exported) == 120

    calendar_emulator.delete_event(ACCOUNT, exported[0]["id"])
    freezer.tick(timedelta(hours=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    await _settle(hass, freezer)
    assert len(calendar_emulator.events(ACCOUNT)) == 120

    setup_integration.runtime_data.api.transport.retry = RetryPolicy(
        max_attempts=1, sleep=_no_sleep
    )
    calendar_emulator.faults.add("drop", times=5)
    freezer.tick(timedelta(hours=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    await _settle(hass, freezer)
    assert "Automatic export of calendar.practice failed" in caplog.text
    calendar_emulator.faults.clear()
    assert await hass.config_entries.async_unload(practice_entry.entry_id)


@pytest.mark.parametrize(
    "entry_options", [{**AUTO_EXPORT_OPTIONS, CONF_EXPORT_TARGET: "other@example.com"}]
)
async def test_automatic_export_needs_a_synced_target(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A target that is not a synced, writable calendar is reported, not used."""
    assert any(
        "Automatic export needs a synced, writable target" in record.getMessage()
        for record in caplog.get_records("setup")
    )


@pytest.mark.parametrize("entry_options", [AUTO_EXPORT_OPTIONS])
async def test_automatic_export_starts_once_home_assistant_has_started(
    hass: HomeAssistant,
    setup_credentials: None,
    config_entry: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """During startup the first export waits for every calendar to load."""
    await _setup_practice(hass)
    hass.set_state(CoreState.not_running)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await _settle(hass, freezer)
    assert calendar_emulator.events(ACCOUNT) == []
    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done()
    await _settle(hass, freezer)
    assert len(calendar_emulator.events(ACCOUNT)) == 120
    assert await hass.config_entries.async_unload(config_entry.entry_id)


async def test_setting_the_export_option_exports_at_once(
    hass: HomeAssistant,
    practice: MockConfigEntry,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Choosing sources and a target in the options flow starts the export."""
    result = await hass.config_entries.options.async_init(setup_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            **setup_integration.options,
            CONF_EXPORT_SOURCES: [SOURCE],
            CONF_EXPORT_TARGET: ACCOUNT,
        },
    )
    assert setup_integration.options[CONF_EXPORT_TARGET] == ACCOUNT
    await hass.async_block_till_done()
    await _settle(hass, freezer)
    assert len(calendar_emulator.events(ACCOUNT)) == 120


# update_event and delete_event: the whole event, one occurrence, this and following.


async def _create(hass: HomeAssistant, entity_id: str, **data: Any) -> str:
    """Create an event through the action and return its id."""
    created = await _call(hass, "create_event", entity_id, **data)
    event_id: str = created["event_id"]
    return event_id


async def _weekly_standup(hass: HomeAssistant, entity_id: str) -> str:
    """Create a weekly series of four with a guest and a Meet link; return its id."""
    return await _create(
        hass,
        entity_id,
        summary="Standup",
        start_date_time="2030-01-07 09:00:00",
        duration={"minutes": 15},
        time_zone="UTC",
        rrule="FREQ=WEEKLY;COUNT=4",
        attendees=["alice@example.com"],
        add_meet_link=True,
    )


async def test_update_event_changes_any_field_and_answers_the_event(
    hass: HomeAssistant,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
    snapshot: SnapshotAssertion,
) -> None:
    """Time, summary, guests, reminders and a Meet link change; the rest stays."""
    event_id = await _create(
        hass,
        entity_id,
        summary="Piano lesson",
        location="Studio",
        start_date_time="2030-01-07 17:00:00",
        duration={"minutes": 45},
        time_zone="UTC",
    )
    changes = async_capture_events(hass, EVENT_CHANGED)

    response = await _call(
        hass,
        "update_event",
        entity_id,
        event_id=event_id,
        summary="Piano lesson (moved)",
        start_date_time="2030-01-08 18:00:00",
        duration={"minutes": 60},
        time_zone="UTC",
        attendees=["teacher@example.com"],
        reminders=[30],
        add_meet_link=True,
    )

    stored = calendar_emulator.get_event(ACCOUNT, event_id)
    assert _normalise(response, event_id) == snapshot
    assert response["meet_link"] == stored["hangoutLink"]
    assert stored["location"] == "Studio"
    assert stored["start"]["dateTime"] == "2030-01-08T18:00:00+00:00"
    assert [a["email"] for a in stored["attendees"]] == ["teacher@example.com"]
    assert stored["reminders"]["overrides"] == [{"method": "popup", "minutes": 30}]
    # Our own write is not news.
    await _call(hass, "sync_now", entity_id)
    assert changes == []


async def test_update_event_removes_the_meet_link(
    hass: HomeAssistant, entity_id: str, calendar_emulator: GoogleCalendarEmulator
) -> None:
    """add_meet_link false takes the conference off; left out, it stays."""
    event_id = await _create(
        hass,
        entity_id,
        summary="Call",
        start_date_time="2030-01-07 09:00:00",
        duration={"minutes": 30},
        add_meet_link=True,
    )
    kept = await _call(
        hass, "update_event", entity_id, event_id=event_id, location="Online"
    )
    assert kept["meet_link"]

    removed = await _call(
        hass, "update_event", entity_id, event_id=event_id, add_meet_link=False
    )

    assert removed["meet_link"] is None
    assert "conferenceData" not in calendar_emulator.get_event(ACCOUNT, event_id)


async def test_update_one_occurrence(
    hass: HomeAssistant,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
    snapshot: SnapshotAssertion,
) -> None:
    """Scope occurrence changes that occurrence only."""
    series_id = await _weekly_standup(hass, entity_id)
    occurrence = f"{series_id}_20300114T090000Z"

    response = await _call(
        hass,
        "update_event",
        entity_id,
        event_id=occurrence,
        scope="occurrence",
        summary="Long standup",
        start_date_time="2030-01-14 09:00:00",
        duration={"minutes": 45},
        time_zone="UTC",
    )

    assert _normalise(response, series_id) == snapshot
    assert calendar_emulator.get_event(ACCOUNT, series_id)["summary"] == "Standup"
    exception = calendar_emulator.get_event(ACCOUNT, occurrence)
    assert exception["summary"] == "Long standup"
    assert exception["end"]["dateTime"] == "2030-01-14T09:45:00+00:00"


async def test_update_this_and_following_occurrences(
    hass: HomeAssistant,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
    snapshot: SnapshotAssertion,
) -> None:
    """Scope following ends the series before the occurrence and continues it changed."""
    series_id = await _weekly_standup(hass, entity_id)
    master = calendar_emulator.get_event(ACCOUNT, series_id)

    response = await _call(
        hass,
        "update_event",
        entity_id,
        event_id=f"{series_id}_20300121T090000Z",
        scope="following",
        summary="Team sync",
    )

    trimmed = calendar_emulator.get_event(ACCOUNT, series_id)
    assert trimmed["recurrence"] == ["RRULE:FREQ=WEEKLY;UNTIL=20300121T085959Z"]
    following = calendar_emulator.get_event(ACCOUNT, response["event_id"])
    assert _normalise(response, response["event_id"]) == snapshot
    assert following["summary"] == "Team sync"
    assert following["start"]["dateTime"] == "2030-01-21T09:00:00+00:00"
    assert following["recurrence"] == ["RRULE:FREQ=WEEKLY;COUNT=2"]
    # Guests and the Meet conference go on with the series.
    assert following["attendees"] == master["attendees"]
    assert response["meet_link"] == master["hangoutLink"]


async def test_update_following_from_the_first_occurrence_changes_the_series(
    hass: HomeAssistant, entity_id: str, calendar_emulator: GoogleCalendarEmulator
) -> None:
    """This and following from the first occurrence is the whole series."""
    series_id = await _weekly_standup(hass, entity_id)

    response = await _call(
        hass,
        "update_event",
        entity_id,
        event_id=f"{series_id}_20300107T090000Z",
        scope="following",
        location="Room 2",
    )

    assert response["event_id"] == series_id
    assert [e["id"] for e in calendar_emulator.events(ACCOUNT)] == [series_id]
    assert calendar_emulator.get_event(ACCOUNT, series_id)["location"] == "Room 2"


async def test_update_event_scope_event_on_an_occurrence_changes_the_series(
    hass: HomeAssistant, entity_id: str, calendar_emulator: GoogleCalendarEmulator
) -> None:
    """An occurrence's id with scope event (the default) means its series."""
    series_id = await _weekly_standup(hass, entity_id)

    response = await _call(
        hass,
        "update_event",
        entity_id,
        event_id=f"{series_id}_20300114T090000Z",
        rrule="FREQ=WEEKLY;COUNT=2",
    )

    assert response["event_id"] == series_id
    stored = calendar_emulator.get_event(ACCOUNT, series_id)
    assert stored["recurrence"] == ["RRULE:FREQ=WEEKLY;COUNT=2"]


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"scope": "occurrence", "summary": "x"}, "not_an_occurrence"),
        ({"scope": "following", "summary": "x"}, "not_an_occurrence"),
        ({}, "nothing_to_update"),
        ({"start_date_time": "2030-01-08 10:00:00"}, "missing_end"),
        ({"duration": {"minutes": 30}}, "missing_start"),
        (
            {
                "start_date_time": "2030-01-08 10:00:00",
                "end_date_time": "2030-01-08 09:00:00",
            },
            "end_before_start",
        ),
        ({"rrule": "FREQ=X"}, "invalid_rrule"),
        ({"summary": " "}, "invalid_summary"),
        ({"scope": "all", "summary": "x"}, "invalid_scope"),
        ({"event_id": "", "summary": "x"}, "invalid_event_id"),
        ({"attendees": ["not an email"]}, "invalid_attendee"),
        (
            {
                "start_date": "2030-01-08",
                "duration": {"hours": 1},
                "end_date": "2030-01-09",
            },
            "conflicting_fields",
        ),
    ],
)
async def test_update_event_refuses_bad_input_before_any_request(
    hass: HomeAssistant,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
    data: dict[str, Any],
    key: str,
) -> None:
    """Bad input is refused with the same translated errors as create_event."""
    data = {"event_id": "abc123", **data}
    assert (
        await _refused_before_any_request(
            hass, calendar_emulator, "update_event", entity_id, **data
        )
        == key
    )


async def test_update_event_refuses_a_rule_for_one_occurrence(
    hass: HomeAssistant, entity_id: str, calendar_emulator: GoogleCalendarEmulator
) -> None:
    """One occurrence cannot become a series of its own."""
    series_id = await _weekly_standup(hass, entity_id)
    key = await _refused_before_any_request(
        hass,
        calendar_emulator,
        "update_event",
        entity_id,
        event_id=f"{series_id}_20300114T090000Z",
        scope="occurrence",
        rrule="FREQ=DAILY;COUNT=2",
    )
    assert key == "rrule_for_occurrence"


@pytest.mark.usefixtures("no_backoff")
@pytest.mark.parametrize("service", ["update_event", "delete_event"])
async def test_edits_report_missing_events_and_google_errors(
    hass: HomeAssistant,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
    service: str,
) -> None:
    """An unknown event and a failing Google are translated errors."""
    extra = {"summary": "x"} if service == "update_event" else {}
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, service, entity_id, event_id="unknown1", **extra)
    assert err.value.translation_key == "event_not_found"
    event_id = await _create(
        hass, entity_id, summary="x", start_date="2030-01-07", end_date="2030-01-08"
    )
    key = await _refused_by_google(
        hass, calendar_emulator, service, entity_id, event_id=event_id, **extra
    )
    assert key == "api_error"


async def test_delete_event_whole_occurrence_and_following(
    hass: HomeAssistant,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """Each scope deletes what it says, and Home Assistant shows it at once."""
    series_id = await _weekly_standup(hass, entity_id)
    single_id = await _create(
        hass,
        entity_id,
        summary="Dentist",
        start_date="2030-01-09",
        end_date="2030-01-10",
    )

    await _call(
        hass,
        "delete_event",
        entity_id,
        event_id=f"{series_id}_20300114T090000Z",
        scope="occurrence",
    )
    await _call(
        hass,
        "delete_event",
        entity_id,
        event_id=f"{series_id}_20300128T090000Z",
        scope="following",
    )
    await _call(hass, "delete_event", entity_id, event_id=single_id)

    starts = [
        event.start
        for event in await hass.data[DATA_COMPONENT]
        .get_entity(entity_id)
        .async_get_events(
            hass,
            datetime(2030, 1, 1, tzinfo=dt_util.UTC),
            datetime(2030, 2, 1, tzinfo=dt_util.UTC),
        )
    ]
    assert [start.isoformat() for start in starts] == [
        "2030-01-07T09:00:00+00:00",
        "2030-01-21T09:00:00+00:00",
    ]
    assert [e["id"] for e in calendar_emulator.events(ACCOUNT)] == [series_id]

    await _call(hass, "delete_event", entity_id, event_id=series_id)
    assert calendar_emulator.events(ACCOUNT) == []


async def test_delete_event_scope_needs_an_occurrence(
    hass: HomeAssistant, entity_id: str, calendar_emulator: GoogleCalendarEmulator
) -> None:
    """An occurrence scope with the id of a whole event is refused."""
    key = await _refused_before_any_request(
        hass,
        calendar_emulator,
        "delete_event",
        entity_id,
        event_id="abc123",
        scope="occurrence",
    )
    assert key == "not_an_occurrence"


async def test_a_booking_is_created_moved_and_cancelled(
    hass: HomeAssistant, entity_id: str, calendar_emulator: GoogleCalendarEmulator
) -> None:
    """The README's booking automation: the id create_event returns is all it needs."""
    created = await _call(
        hass,
        "create_event",
        entity_id,
        summary="Booking 1042",
        start_date_time="2030-01-07 17:00:00",
        duration={"minutes": 45},
    )

    moved = await _call(
        hass,
        "update_event",
        entity_id,
        event_id=created["event_id"],
        start_date_time="2030-01-09 17:00:00",
        duration={"minutes": 45},
    )
    assert moved["event_id"] == created["event_id"]
    assert moved["start"].startswith("2030-01-09T17:00:00")

    await _call(hass, "delete_event", entity_id, event_id=created["event_id"])
    assert calendar_emulator.events(ACCOUNT) == []
