"""The event actions: create_event, update_event and delete_event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
import re
from typing import Any

from homeassistant.components.calendar.const import DATA_COMPONENT
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.google_calendar_sync.const import (
    CONF_CALENDARS,
    CONF_PUSH_ENABLED,
    EVENT_CHANGED,
)
from google_calendar_emulator import GoogleCalendarEmulator

from .action_helpers import (
    call_action,
    refused_before_any_request,
    refused_by_google,
    refused_with_message,
    sync_calendar,
)
from .conftest import ACCOUNT


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
    response = await call_action(
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
    response = await call_action(
        hass,
        "create_event",
        entity_id,
        summary="Call",
        start_date="2030-01-07",
        end_date="2030-01-08",
        add_meet_link=True,
    )
    second = await call_action(
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


# What each action needs besides the input under test: a title, or an event.
NEEDS = {
    "create_event": {"summary": "Bad"},
    "update_event": {"event_id": "abc123"},
    "delete_event": {"event_id": "abc123"},
}


@pytest.mark.parametrize(
    ("service", "data", "key"),
    [
        (
            "create_event",
            {
                "start_date_time": "2030-01-07 10:00:00",
                "end_date_time": "2030-01-07 09:00:00",
            },
            "end_before_start",
        ),
        (
            "create_event",
            {
                "start_date_time": "2030-01-07 10:00:00",
                "duration": {"minutes": 30},
                "time_zone": "Mars/Olympus_Mons",
            },
            "unknown_time_zone",
        ),
        (
            "create_event",
            {
                "start_date": "2030-01-07",
                "end_date": "2030-01-08",
                "rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
            },
            "invalid_rrule",
        ),
        (
            "create_event",
            {"start_date": "2030-01-07", "end_date": "2030-01-08", "rrule": "FREQ=X"},
            "invalid_rrule",
        ),
        ("create_event", {"end_date": "2030-01-08"}, "missing_start"),
        ("create_event", {"start_date": "2030-01-08"}, "missing_end"),
        (
            "create_event",
            {"start_date": "2030-01-07", "end_date_time": "2030-01-07 10:00:00"},
            "mixed_start_end",
        ),
        ("update_event", {"scope": "occurrence", "summary": "x"}, "not_an_occurrence"),
        ("update_event", {"scope": "following", "summary": "x"}, "not_an_occurrence"),
        ("update_event", {}, "nothing_to_update"),
        ("update_event", {"start_date_time": "2030-01-08 10:00:00"}, "missing_end"),
        ("update_event", {"duration": {"minutes": 30}}, "missing_start"),
        (
            "update_event",
            {
                "start_date_time": "2030-01-08 10:00:00",
                "end_date_time": "2030-01-08 09:00:00",
            },
            "end_before_start",
        ),
        ("update_event", {"rrule": "FREQ=X"}, "invalid_rrule"),
        ("update_event", {"summary": " "}, "invalid_summary"),
        ("update_event", {"scope": "all", "summary": "x"}, "invalid_scope"),
        ("update_event", {"event_id": "", "summary": "x"}, "invalid_event_id"),
        ("update_event", {"attendees": ["not an email"]}, "invalid_attendee"),
        (
            "update_event",
            {
                "start_date": "2030-01-08",
                "duration": {"hours": 1},
                "end_date": "2030-01-09",
            },
            "conflicting_fields",
        ),
        ("delete_event", {"scope": "occurrence"}, "not_an_occurrence"),
    ],
)
async def test_bad_input_is_refused_before_any_request(
    hass: HomeAssistant,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
    *,
    service: str,
    data: dict[str, Any],
    key: str,
) -> None:
    """Bad input is a translated validation error and Google never hears of it.

    update_event and delete_event refuse with the same errors as create_event.
    """
    assert (
        await refused_before_any_request(
            hass, calendar_emulator, service, entity_id, **{**NEEDS[service], **data}
        )
        == key
    )


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


@pytest.mark.parametrize(("data", "key", "message"), BAD_CREATE_FIELDS)
async def test_create_event_explains_each_bad_field(
    hass: HomeAssistant,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
    *,
    data: dict[str, Any],
    key: str,
    message: str,
) -> None:
    """Each field is refused with its own translated message, before Google."""
    found, text = await refused_with_message(
        hass, calendar_emulator, "create_event", entity_id, data
    )
    assert found == key
    assert message in text


async def test_a_bad_target_is_named(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
) -> None:
    """Fields Home Assistant adds (the target) are named in the message too."""
    key, text = await refused_with_message(
        hass,
        calendar_emulator,
        "create_event",
        "not an entity",
        {**TIMED, "summary": "x"},
    )
    assert key == "invalid_field"
    assert text == "The value of entity_id is invalid"


async def test_unknown_time_zone_is_looked_up_without_blocking(
    hass: HomeAssistant,
    entity_id: str,
    calendar_emulator: GoogleCalendarEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A zone nobody loaded yet is searched off the event loop, then refused."""
    key, _ = await refused_with_message(
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
    result = await call_action(
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
) -> None:
    """A Google failure becomes a translated Home Assistant error."""
    key = await refused_by_google(
        hass,
        calendar_emulator,
        "create_event",
        entity_id,
        summary="Lost",
        start_date="2030-01-07",
        end_date="2030-01-08",
    )
    assert key == "api_error"


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
    key = await refused_before_any_request(
        hass, calendar_emulator, service, calendar_entity_id(SHARED), **data
    )
    assert key == "calendar_not_writable"


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
    key = await refused_before_any_request(
        hass, calendar_emulator, service, "calendar.user_example_com_birthdays", **data
    )
    assert key == "view_not_writable"


# update_event and delete_event: the whole event, one occurrence, this and following.


async def _create(hass: HomeAssistant, entity_id: str, **data: Any) -> str:
    """Create an event through the action and return its id."""
    created = await call_action(hass, "create_event", entity_id, **data)
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

    response = await call_action(
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
    await sync_calendar(hass, calendar_emulator, entity_id)
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
    kept = await call_action(
        hass, "update_event", entity_id, event_id=event_id, location="Online"
    )
    assert kept["meet_link"]

    removed = await call_action(
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

    response = await call_action(
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

    response = await call_action(
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

    response = await call_action(
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

    response = await call_action(
        hass,
        "update_event",
        entity_id,
        event_id=f"{series_id}_20300114T090000Z",
        rrule="FREQ=WEEKLY;COUNT=2",
    )

    assert response["event_id"] == series_id
    stored = calendar_emulator.get_event(ACCOUNT, series_id)
    assert stored["recurrence"] == ["RRULE:FREQ=WEEKLY;COUNT=2"]


async def test_update_event_refuses_a_rule_for_one_occurrence(
    hass: HomeAssistant, entity_id: str, calendar_emulator: GoogleCalendarEmulator
) -> None:
    """One occurrence cannot become a series of its own."""
    series_id = await _weekly_standup(hass, entity_id)
    key = await refused_before_any_request(
        hass,
        calendar_emulator,
        "update_event",
        entity_id,
        event_id=f"{series_id}_20300114T090000Z",
        scope="occurrence",
        rrule="FREQ=DAILY;COUNT=2",
    )
    assert key == "rrule_for_occurrence"


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
        await call_action(hass, service, entity_id, event_id="unknown1", **extra)
    assert err.value.translation_key == "event_not_found"
    event_id = await _create(
        hass, entity_id, summary="x", start_date="2030-01-07", end_date="2030-01-08"
    )
    key = await refused_by_google(
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

    await call_action(
        hass,
        "delete_event",
        entity_id,
        event_id=f"{series_id}_20300114T090000Z",
        scope="occurrence",
    )
    await call_action(
        hass,
        "delete_event",
        entity_id,
        event_id=f"{series_id}_20300128T090000Z",
        scope="following",
    )
    await call_action(hass, "delete_event", entity_id, event_id=single_id)

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

    await call_action(hass, "delete_event", entity_id, event_id=series_id)
    assert calendar_emulator.events(ACCOUNT) == []


async def test_a_booking_is_created_moved_and_cancelled(
    hass: HomeAssistant, entity_id: str, calendar_emulator: GoogleCalendarEmulator
) -> None:
    """The README's booking automation: the id create_event returns is all it needs."""
    created = await call_action(
        hass,
        "create_event",
        entity_id,
        summary="Booking 1042",
        start_date_time="2030-01-07 17:00:00",
        duration={"minutes": 45},
    )

    moved = await call_action(
        hass,
        "update_event",
        entity_id,
        event_id=created["event_id"],
        start_date_time="2030-01-09 17:00:00",
        duration={"minutes": 45},
    )
    assert moved["event_id"] == created["event_id"]
    assert moved["start"].startswith("2030-01-09T17:00:00")

    await call_action(hass, "delete_event", entity_id, event_id=created["event_id"])
    assert calendar_emulator.events(ACCOUNT) == []
