"""Event types, attendees, colors and free/busy as Google stores and checks them."""

from __future__ import annotations

from typing import Any

from googleapiclient.errors import HttpError
import pytest

from google_calendar_emulator import GoogleCalendarEmulator

from .conftest import CalendarClient

PRIMARY = "user@example.com"
START = {"dateTime": "2030-01-07T09:00:00Z"}
END = {"dateTime": "2030-01-07T10:00:00Z"}


def _birthday(**extra: Any) -> dict[str, Any]:
    return {
        "summary": "Ada's birthday",
        "eventType": "birthday",
        "start": {"date": "2030-03-01"},
        "end": {"date": "2030-03-02"},
        "recurrence": ["RRULE:FREQ=YEARLY"],
        "transparency": "transparent",
        "visibility": "private",
        "birthdayProperties": {"type": "birthday"},
        **extra,
    }


async def _refused(client: CalendarClient, make_request: Any) -> tuple[int, str]:
    with pytest.raises(HttpError) as err:
        await client(make_request)
    return err.value.resp.status, str(err.value.error_details[0]["reason"])


async def test_fields_are_stored_and_returned(
    calendar_client: CalendarClient,
) -> None:
    body = {
        "summary": "Invitation",
        "start": START,
        "end": END,
        "colorId": "11",
        "transparency": "transparent",
        "attendees": [
            {"email": "boss@example.com", "responseStatus": "accepted"},
            {"email": PRIMARY, "responseStatus": "declined", "self": False},
            {"email": "else@example.com", "self": True},
        ],
    }
    created = await calendar_client(
        lambda s: s.events().insert(calendarId="primary", body=body)
    )
    fetched = await calendar_client(
        lambda s: s.events().get(calendarId="primary", eventId=created["id"])
    )
    assert fetched["eventType"] == "default"
    assert fetched["colorId"] == "11"
    assert fetched["transparency"] == "transparent"
    # self is the server's: it marks the calendar owner, whatever the client says.
    assert fetched["attendees"] == [
        {"email": "boss@example.com", "responseStatus": "accepted"},
        {"email": PRIMARY, "responseStatus": "declined", "self": True},
        {"email": "else@example.com", "responseStatus": "needsAction"},
    ]


async def test_special_types_are_kept_and_their_type_never_changes(
    calendar_client: CalendarClient,
) -> None:
    birthday = await calendar_client(
        lambda s: s.events().insert(calendarId="primary", body=_birthday())
    )
    assert birthday["eventType"] == "birthday"
    renamed = await calendar_client(
        lambda s: s.events().patch(
            calendarId="primary",
            eventId=birthday["id"],
            body={"summary": "Ada Lovelace's birthday", "colorId": "3"},
        )
    )
    assert renamed["eventType"] == "birthday"
    assert renamed["colorId"] == "3"
    assert await _refused(
        calendar_client,
        lambda s: s.events().patch(
            calendarId="primary",
            eventId=birthday["id"],
            body={"eventType": "default"},
        ),
    ) == (400, "eventTypeRestriction")
    assert await _refused(
        calendar_client,
        lambda s: s.events().patch(
            calendarId="primary",
            eventId=birthday["id"],
            body={"birthdayProperties": {"type": "anniversary"}},
        ),
    ) == (400, "eventTypeRestriction")
    ooo = await calendar_client(
        lambda s: s.events().insert(
            calendarId="primary",
            body={"eventType": "outOfOffice", "start": START, "end": END},
        )
    )
    updated = await calendar_client(
        lambda s: s.events().update(
            calendarId="primary",
            eventId=ooo["id"],
            body={"summary": "Away", "start": START, "end": END},
        )
    )
    assert updated["eventType"] == "outOfOffice"


@pytest.mark.parametrize(
    ("body", "calendar"),
    [
        ({"eventType": "fromGmail", "start": START, "end": END}, "primary"),
        ({"eventType": "party", "start": START, "end": END}, "primary"),
        ({"eventType": "focusTime", "start": START, "end": END}, "secondary"),
        ({"eventType": "workingLocation", "start": START, "end": END}, "secondary"),
        (
            {
                "eventType": "outOfOffice",
                "start": {"date": "2030-01-07"},
                "end": {"date": "2030-01-08"},
            },
            "primary",
        ),
        (_birthday(end={"date": "2030-03-03"}), "primary"),
        (_birthday(start=START, end=END), "primary"),
        (_birthday(recurrence=["RRULE:FREQ=MONTHLY"]), "primary"),
        ({"start": START, "end": END, "colorId": "12"}, "primary"),
        ({"start": START, "end": END, "transparency": "see-through"}, "primary"),
        (
            {
                "start": START,
                "end": END,
                "attendees": [{"email": PRIMARY, "responseStatus": "maybe"}],
            },
            "primary",
        ),
        ({"start": START, "end": END, "attendees": [{"displayName": "X"}]}, "primary"),
    ],
)
async def test_what_google_refuses_is_refused(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    body: dict[str, Any],
    calendar: str,
) -> None:
    calendar_id = (
        "primary"
        if calendar == "primary"
        else calendar_emulator.add_calendar(PRIMARY, "Team")
    )
    status, _ = await _refused(
        calendar_client,
        lambda s: s.events().insert(calendarId=calendar_id, body=body),
    )
    assert status == 400
    assert calendar_emulator.events(PRIMARY) == []


async def test_instances_of_a_birthday_can_be_edited(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    birthday = await calendar_client(
        lambda s: s.events().insert(calendarId="primary", body=_birthday())
    )
    instance = f"{birthday['id']}_20310301"
    edited = await calendar_client(
        lambda s: s.events().patch(
            calendarId="primary", eventId=instance, body={"summary": "Ada turns 216"}
        )
    )
    assert edited["eventType"] == "birthday"
    assert edited["recurringEventId"] == birthday["id"]


async def test_only_default_events_can_be_moved(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    team = calendar_emulator.add_calendar(PRIMARY, "Team")
    birthday = await calendar_client(
        lambda s: s.events().insert(calendarId="primary", body=_birthday())
    )
    assert await _refused(
        calendar_client,
        lambda s: s.events().move(
            calendarId="primary", eventId=birthday["id"], destination=team
        ),
    ) == (400, "eventTypeRestriction")

    meeting = await calendar_client(
        lambda s: s.events().insert(
            calendarId="primary", body={"summary": "Sync", "start": START, "end": END}
        )
    )
    moved = await calendar_client(
        lambda s: s.events().move(
            calendarId="primary", eventId=meeting["id"], destination=team
        )
    )
    assert moved["organizer"]["email"] == team
    assert [event["id"] for event in calendar_emulator.events(team)] == [meeting["id"]]
    assert [event["id"] for event in calendar_emulator.events(PRIMARY)] == [
        birthday["id"]
    ]
    # Moving within the calendar changes nothing; a moved event is gone here.
    same = await calendar_client(
        lambda s: s.events().move(
            calendarId=team, eventId=meeting["id"], destination=team
        )
    )
    assert same["id"] == meeting["id"]
    assert (
        await _refused(
            calendar_client,
            lambda s: s.events().move(
                calendarId="primary", eventId=meeting["id"], destination=team
            ),
        )
    )[0] == 410
