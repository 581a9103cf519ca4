"""Calendars and single events through the real google-api-python-client."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from googleapiclient.errors import HttpError
import pytest

from google_calendar_emulator import GoogleCalendarEmulator

from .conftest import CalendarClient

PRIMARY = "user@example.com"


def timed(summary: str, start: str, end: str, **extra: Any) -> dict[str, Any]:
    """Return a timed event body."""
    return {
        "summary": summary,
        "start": {"dateTime": start},
        "end": {"dateTime": end},
        **extra,
    }


async def _error(client: CalendarClient, make_request: Any) -> HttpError:
    with pytest.raises(HttpError) as err:
        await client(make_request)
    return err.value


def _reason(error: HttpError) -> str:
    return str(error.error_details[0]["reason"])


async def test_calendar_list_pages_and_shows_access_roles(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    for number in range(4):
        calendar_emulator.add_calendar(PRIMARY, f"Calendar {number}")
    holidays = calendar_emulator.add_calendar(
        PRIMARY, "Holidays", time_zone="Europe/Berlin", access_role="reader"
    )
    calendar_emulator.add_calendar("other@example.com", "Not mine")

    first = await calendar_client(lambda s: s.calendarList().list(maxResults=4))
    second = await calendar_client(
        lambda s: s.calendarList().list(maxResults=4, pageToken=first["nextPageToken"])
    )
    entries = first["items"] + second["items"]
    assert "nextSyncToken" not in first
    assert "nextPageToken" not in second
    assert len(entries) == 6
    assert entries[0]["primary"] is True
    roles = {entry["summary"]: entry["accessRole"] for entry in entries}
    assert roles["Holidays"] == "reader"
    assert roles[PRIMARY] == "owner"

    calendar = await calendar_client(lambda s: s.calendars().get(calendarId=holidays))
    assert calendar["timeZone"] == "Europe/Berlin"
    primary = await calendar_client(lambda s: s.calendars().get(calendarId="primary"))
    assert primary["id"] == PRIMARY


async def test_reader_cannot_write_and_strangers_see_nothing(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    shared = calendar_emulator.add_calendar("boss@example.com", "Team")
    calendar_emulator.share_calendar(shared, PRIMARY, "reader")
    private = calendar_emulator.add_calendar("boss@example.com", "Private")
    calendar_emulator.insert_event(
        shared, timed("Standup", "2026-03-02T09:00:00Z", "2026-03-02T09:15:00Z")
    )

    listed = await calendar_client(lambda s: s.events().list(calendarId=shared))
    assert listed["accessRole"] == "reader"
    assert [event["summary"] for event in listed["items"]] == ["Standup"]

    error = await _error(
        calendar_client,
        lambda s: s.events().insert(
            calendarId=shared,
            body=timed("Mine", "2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z"),
        ),
    )
    assert error.status_code == 403
    assert _reason(error) == "requiredAccessLevel"

    error = await _error(calendar_client, lambda s: s.events().list(calendarId=private))
    assert error.status_code == 404

    calendar_emulator.share_calendar(shared, PRIMARY, "writer")
    created = await calendar_client(
        lambda s: s.events().insert(
            calendarId=shared,
            body=timed("Mine", "2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z"),
        )
    )
    assert created["creator"] == {"email": PRIMARY}


async def test_insert_returns_google_fields(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    body = timed(
        "Dentist",
        "2026-05-04T09:00:00+02:00",
        "2026-05-04T10:00:00+02:00",
        location="Main St",
        description="Bring card",
    )
    body["start"]["timeZone"] = body["end"]["timeZone"] = "Europe/Berlin"
    event = await calendar_client(
        lambda s: s.events().insert(calendarId="primary", body=body)
    )
    assert event["kind"] == "calendar#event"
    assert event["status"] == "confirmed"
    assert event["sequence"] == 0
    assert event["etag"].startswith('"')
    assert event["iCalUID"] == f"{event['id']}@google.com"
    assert event["htmlLink"].startswith("https://www.google.com/calendar/event?eid=")
    assert event["organizer"]["email"] == PRIMARY
    assert event["start"] == {
        "dateTime": "2026-05-04T09:00:00+02:00",
        "timeZone": "Europe/Berlin",
    }
    assert event["created"].endswith("Z")
    assert event["updated"].endswith("Z")
    assert calendar_emulator.get_event(PRIMARY, event["id"]) == event

    all_day = await calendar_client(
        lambda s: s.events().insert(
            calendarId="primary",
            body={
                "summary": "Holiday",
                "start": {"date": "2026-05-05"},
                "end": {"date": "2026-05-07"},
            },
        )
    )
    assert all_day["start"] == {"date": "2026-05-05"}
    assert sorted(e["summary"] for e in calendar_emulator.events(PRIMARY)) == [
        "Dentist",
        "Holiday",
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"summary": "no times"}, "required"),
        (
            {"start": {"date": "2026-01-02"}, "end": {"date": "2026-01-01"}},
            "timeRangeEmpty",
        ),
        (
            {
                "start": {"dateTime": "2026-01-01T10:00:00"},
                "end": {"dateTime": "2026-01-01T11:00:00"},
            },
            "invalid",
        ),
        (
            {
                "start": {"dateTime": "2026-01-01T10:00:00Z"},
                "end": {"dateTime": "2026-01-01T11:00:00Z"},
                "recurrence": ["RRULE:FREQ=DAILY"],
            },
            "invalid",
        ),
        (
            {
                "id": "UPPERCASE",
                "start": {"date": "2026-01-01"},
                "end": {"date": "2026-01-02"},
            },
            "invalid",
        ),
        (
            {
                "id": "abcd",
                "start": {"date": "2026-01-01"},
                "end": {"date": "2026-01-02"},
            },
            "invalid",
        ),
        (
            {
                "id": "wxyz0",
                "start": {"date": "2026-01-01"},
                "end": {"date": "2026-01-02"},
            },
            "invalid",
        ),
    ],
)
async def test_insert_rejects_invalid_bodies(
    calendar_client: CalendarClient, body: dict[str, Any], reason: str
) -> None:
    error = await _error(
        calendar_client, lambda s: s.events().insert(calendarId="primary", body=body)
    )
    assert error.status_code == 400
    assert _reason(error) == reason


async def test_client_supplied_ids_are_unique(calendar_client: CalendarClient) -> None:
    body = {
        "id": "abc0123vv",
        "start": {"date": "2026-01-01"},
        "end": {"date": "2026-01-02"},
    }
    event = await calendar_client(
        lambda s: s.events().insert(calendarId="primary", body=body)
    )
    assert event["id"] == "abc0123vv"
    error = await _error(
        calendar_client, lambda s: s.events().insert(calendarId="primary", body=body)
    )
    assert error.status_code == 409
    assert _reason(error) == "duplicate"
    assert (
        error.error_details[0]["message"] == "The requested identifier already exists."
    )


async def test_every_edit_changes_etag_sequence_and_updated(
    calendar_client: CalendarClient,
) -> None:
    event = await calendar_client(
        lambda s: s.events().insert(
            calendarId="primary",
            body=timed(
                "Review",
                "2026-06-01T10:00:00Z",
                "2026-06-01T11:00:00Z",
                extendedProperties={"private": {"ha": "1"}},
            ),
        )
    )
    await asyncio.sleep(0.002)  # `updated` is in milliseconds: let real time pass
    patched = await calendar_client(
        lambda s: s.events().patch(
            calendarId="primary",
            eventId=event["id"],
            body={"summary": "Review 2", "extendedProperties": {"private": {"x": "y"}}},
        )
    )
    assert patched["summary"] == "Review 2"
    assert patched["start"] == event["start"]
    assert patched["extendedProperties"] == {"private": {"ha": "1", "x": "y"}}
    assert patched["etag"] != event["etag"]
    assert patched["sequence"] == 1
    assert patched["updated"] > event["updated"]

    updated = await calendar_client(
        lambda s: s.events().update(
            calendarId="primary",
            eventId=event["id"],
            body=timed("Replaced", "2026-06-02T10:00:00Z", "2026-06-02T11:00:00Z"),
        )
    )
    assert updated["summary"] == "Replaced"
    assert "extendedProperties" not in updated
    assert updated["id"] == event["id"]
    assert updated["iCalUID"] == event["iCalUID"]
    assert updated["created"] == event["created"]
    assert updated["sequence"] == 2
    assert updated["etag"] not in (event["etag"], patched["etag"])

    fetched = await calendar_client(
        lambda s: s.events().get(calendarId="primary", eventId=event["id"])
    )
    assert fetched == updated


async def test_stale_if_match_fails_with_412(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    event = calendar_emulator.insert_event(
        PRIMARY, timed("Lunch", "2026-06-01T12:00:00Z", "2026-06-01T13:00:00Z")
    )
    calendar_emulator.patch_event(PRIMARY, event["id"], {"summary": "Lunch!"})

    def stale(request: Any) -> Any:
        request.headers["If-Match"] = event["etag"]
        return request

    error = await _error(
        calendar_client,
        lambda s: stale(
            s.events().patch(
                calendarId="primary", eventId=event["id"], body={"summary": "x"}
            )
        ),
    )
    assert error.status_code == 412
    assert _reason(error) == "conditionNotMet"
    error = await _error(
        calendar_client,
        lambda s: stale(s.events().delete(calendarId="primary", eventId=event["id"])),
    )
    assert error.status_code == 412

    current = calendar_emulator.get_event(PRIMARY, event["id"])

    def fresh(request: Any) -> Any:
        request.headers["If-Match"] = current["etag"]
        return request

    patched = await calendar_client(
        lambda s: fresh(
            s.events().patch(
                calendarId="primary", eventId=event["id"], body={"summary": "y"}
            )
        )
    )
    assert patched["summary"] == "y"


async def test_delete_twice_is_gone_and_get_shows_cancelled(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    event = calendar_emulator.insert_event(
        PRIMARY, timed("Gym", "2026-06-01T18:00:00Z", "2026-06-01T19:00:00Z")
    )
    assert (
        await calendar_client(
            lambda s: s.events().delete(calendarId="primary", eventId=event["id"])
        )
        == ""
    )
    error = await _error(
        calendar_client,
        lambda s: s.events().delete(calendarId="primary", eventId=event["id"]),
    )
    assert error.status_code == 410
    assert _reason(error) == "deleted"

    cancelled = await calendar_client(
        lambda s: s.events().get(calendarId="primary", eventId=event["id"])
    )
    assert cancelled["status"] == "cancelled"
    assert calendar_emulator.events(PRIMARY) == []

    error = await _error(
        calendar_client,
        lambda s: s.events().get(calendarId="primary", eventId="missing1"),
    )
    assert error.status_code == 404
    assert _reason(error) == "notFound"


async def test_import_creates_then_updates_by_ical_uid(
    calendar_client: CalendarClient,
) -> None:
    body = timed(
        "Imported",
        "2026-07-01T10:00:00Z",
        "2026-07-01T11:00:00Z",
        iCalUID="abc@example.org",
    )
    first = await calendar_client(
        lambda s: s.events().import_(calendarId="primary", body=body)
    )
    assert first["iCalUID"] == "abc@example.org"
    again = await calendar_client(
        lambda s: s.events().import_(
            calendarId="primary", body={**body, "summary": "New"}
        )
    )
    assert again["id"] == first["id"]
    assert again["summary"] == "New"
    error = await _error(
        calendar_client,
        lambda s: s.events().import_(
            calendarId="primary",
            body=timed("x", "2026-07-01T10:00:00Z", "2026-07-01T11:00:00Z"),
        ),
    )
    assert error.status_code == 400


async def test_meet_link_needs_conference_data_version(
    calendar_client: CalendarClient,
) -> None:
    body = timed(
        "Call",
        "2026-06-01T10:00:00Z",
        "2026-06-01T11:00:00Z",
        conferenceData={
            "createRequest": {
                "requestId": "req-1",
                "conferenceSolutionKey": {"type": "hangoutsMeet"},
            }
        },
    )
    ignored = await calendar_client(
        lambda s: s.events().insert(calendarId="primary", body=body)
    )
    assert "conferenceData" not in ignored
    assert "hangoutLink" not in ignored

    event = await calendar_client(
        lambda s: s.events().insert(
            calendarId="primary", body=body, conferenceDataVersion=1
        )
    )
    data = event["conferenceData"]
    assert data["createRequest"]["status"] == {"statusCode": "success"}
    assert data["conferenceSolution"]["key"] == {"type": "hangoutsMeet"}
    video = data["entryPoints"][0]
    assert video["entryPointType"] == "video"
    assert video["uri"].startswith("https://meet.google.com/")
    assert event["hangoutLink"] == video["uri"]

    # Reusing the requestId is ignored; a patch without the version keeps the link.
    same = await calendar_client(
        lambda s: s.events().patch(
            calendarId="primary",
            eventId=event["id"],
            body={"conferenceData": body["conferenceData"]},
            conferenceDataVersion=1,
        )
    )
    assert same["hangoutLink"] == event["hangoutLink"]
    kept = await calendar_client(
        lambda s: s.events().patch(
            calendarId="primary", eventId=event["id"], body={"summary": "Call 2"}
        )
    )
    assert kept["hangoutLink"] == event["hangoutLink"]
    removed = await calendar_client(
        lambda s: s.events().patch(
            calendarId="primary",
            eventId=event["id"],
            body={"conferenceData": None},
            conferenceDataVersion=1,
        )
    )
    assert "hangoutLink" not in removed


async def test_list_filters_by_time_with_exclusive_bounds(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    calendar_emulator.insert_event(
        PRIMARY, timed("Morning", "2026-06-01T08:00:00Z", "2026-06-01T09:00:00Z")
    )
    calendar_emulator.insert_event(
        PRIMARY, timed("Noon", "2026-06-01T12:00:00Z", "2026-06-01T13:00:00Z")
    )
    calendar_emulator.insert_event(
        PRIMARY,
        {
            "summary": "Day",
            "start": {"date": "2026-06-02"},
            "end": {"date": "2026-06-03"},
        },
    )

    async def summaries(**params: Any) -> list[str]:
        page = await calendar_client(
            lambda s: s.events().list(
                calendarId="primary", singleEvents=True, orderBy="startTime", **params
            )
        )
        return [event["summary"] for event in page["items"]]

    # timeMin is exclusive on the end, timeMax exclusive on the start.
    assert await summaries(timeMin="2026-06-01T09:00:00Z") == ["Noon", "Day"]
    assert await summaries(timeMax="2026-06-01T12:00:00Z") == ["Morning"]
    assert await summaries(
        timeMin="2026-06-01T08:30:00Z", timeMax="2026-06-01T12:00:01Z"
    ) == ["Morning", "Noon"]
    assert await summaries(timeMin="2026-06-02T23:00:00+00:00") == ["Day"]

    error = await _error(
        calendar_client,
        lambda s: s.events().list(calendarId="primary", timeMin="2026-06-01T09:00:00"),
    )
    assert error.status_code == 400
    error = await _error(
        calendar_client,
        lambda s: s.events().list(calendarId="primary", orderBy="startTime"),
    )
    assert error.status_code == 400


async def test_list_filters_by_private_extended_property(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    calendar_emulator.insert_event(
        PRIMARY,
        timed(
            "Tagged",
            "2026-06-01T08:00:00Z",
            "2026-06-01T09:00:00Z",
            extendedProperties={"private": {"source": "ha", "kind": "x"}},
        ),
    )
    calendar_emulator.insert_event(
        PRIMARY, timed("Plain", "2026-06-01T10:00:00Z", "2026-06-01T11:00:00Z")
    )
    page = await calendar_client(
        lambda s: s.events().list(
            calendarId="primary", privateExtendedProperty=["source=ha", "kind=x"]
        )
    )
    assert [event["summary"] for event in page["items"]] == ["Tagged"]
    page = await calendar_client(
        lambda s: s.events().list(
            calendarId="primary", privateExtendedProperty="source=no"
        )
    )
    assert page["items"] == []
    page = await calendar_client(
        lambda s: s.events().list(calendarId="primary", q="plain")
    )
    assert [event["summary"] for event in page["items"]] == ["Plain"]


async def test_pagination_over_2600_events(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    for number in range(2600):
        calendar_emulator.insert_event(
            PRIMARY,
            {
                "summary": f"Event {number}",
                "start": {"dateTime": f"2026-01-01T{number % 24:02d}:00:00Z"},
                "end": {"dateTime": f"2026-01-01T{number % 24:02d}:30:00Z"},
            },
        )
    calendar_emulator.requests.clear()

    pages = []
    page_token = None
    while True:
        page = await calendar_client(
            lambda s: s.events().list(calendarId="primary", pageToken=page_token)
        )
        pages.append(page)
        if (page_token := page.get("nextPageToken")) is None:
            break
    assert [len(page["items"]) for page in pages] == [250] * 10 + [100]
    assert all("nextSyncToken" not in page for page in pages[:-1])
    assert pages[-1]["nextSyncToken"]
    ids = {event["id"] for page in pages for event in page["items"]}
    assert len(ids) == 2600
    assert calendar_emulator.requests.count("GET", "/events") == 11

    big = await calendar_client(
        lambda s: s.events().list(calendarId="primary", maxResults=5000)
    )
    assert len(big["items"]) == 2500
    rest = await calendar_client(
        lambda s: s.events().list(
            calendarId="primary", maxResults=5000, pageToken=big["nextPageToken"]
        )
    )
    assert len(rest["items"]) == 100
    assert "nextSyncToken" in rest

    error = await _error(
        calendar_client,
        lambda s: s.events().list(calendarId="primary", pageToken="bogus"),
    )
    assert error.status_code == 400


async def test_calendar_list_filters_by_min_access_role(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    calendar_emulator.add_calendar(PRIMARY, "Holidays", access_role="reader")
    work = calendar_emulator.add_calendar(PRIMARY, "Work", access_role="writer")
    page = await calendar_client(
        lambda s: s.calendarList().list(minAccessRole="writer")
    )
    assert [entry["id"] for entry in page["items"]] == [PRIMARY, work]
    entry = await calendar_client(lambda s: s.calendarList().get(calendarId=work))
    assert entry["accessRole"] == "writer"
    assert "primary" not in entry


async def test_get_with_current_etag_is_not_modified(
    calendar_emulator: GoogleCalendarEmulator, emulator_token: dict[str, Any]
) -> None:
    event = calendar_emulator.insert_event(
        PRIMARY, timed("Cached", "2026-06-01T08:00:00Z", "2026-06-01T09:00:00Z")
    )
    url = f"{calendar_emulator.api_endpoint}calendars/primary/events/{event['id']}"
    headers = {"Authorization": f"Bearer {emulator_token['access_token']}"}
    async with aiohttp.ClientSession() as session:
        async with session.get(
            url, headers={**headers, "If-None-Match": event["etag"]}
        ) as response:
            assert response.status == 304
        async with session.get(
            url, headers={**headers, "If-None-Match": '"stale"'}
        ) as response:
            assert response.status == 200
            assert response.headers["ETag"] == event["etag"]


async def test_patching_a_time_keeps_its_time_zone(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    event = calendar_emulator.insert_event(
        PRIMARY,
        {
            "start": {"dateTime": "2026-06-01T08:00:00", "timeZone": "Europe/Paris"},
            "end": {"dateTime": "2026-06-01T09:00:00", "timeZone": "Europe/Paris"},
        },
    )
    patched = await calendar_client(
        lambda s: s.events().patch(
            calendarId="primary",
            eventId=event["id"],
            body={
                "start": {"dateTime": "2026-06-01T10:00:00"},
                "end": {"dateTime": "2026-06-01T11:00:00"},
            },
        )
    )
    assert patched["start"] == {
        "dateTime": "2026-06-01T10:00:00+02:00",
        "timeZone": "Europe/Paris",
    }
    all_day = await calendar_client(
        lambda s: s.events().patch(
            calendarId="primary",
            eventId=event["id"],
            body={"start": {"date": "2026-06-02"}, "end": {"date": "2026-06-03"}},
        )
    )
    assert "dateTime" not in all_day["start"]
    assert all_day["start"]["date"] == "2026-06-02"


@pytest.mark.parametrize(
    "params",
    [
        {"maxResults": 0},
        {"timeMin": "yesterday"},
        {"timeMin": "2026-06-02T00:00:00Z", "timeMax": "2026-06-01T00:00:00Z"},
        {"pageToken": "not-issued"},
    ],
)
async def test_list_rejects_bad_parameters(
    calendar_client: CalendarClient, params: dict[str, Any]
) -> None:
    error = await _error(
        calendar_client, lambda s: s.events().list(calendarId="primary", **params)
    )
    assert error.status_code == 400


async def test_list_orders_by_updated_and_filters_updated_min_and_uid(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    first = calendar_emulator.insert_event(
        PRIMARY, timed("First", "2026-06-03T08:00:00Z", "2026-06-03T09:00:00Z")
    )
    second = calendar_emulator.insert_event(
        PRIMARY, timed("Second", "2026-06-01T08:00:00Z", "2026-06-01T09:00:00Z")
    )
    await asyncio.sleep(0.002)  # `updated` is in milliseconds: let real time pass
    touched = calendar_emulator.patch_event(PRIMARY, first["id"], {"summary": "First!"})

    page = await calendar_client(
        lambda s: s.events().list(calendarId="primary", orderBy="updated")
    )
    assert [e["id"] for e in page["items"]] == [second["id"], first["id"]]
    page = await calendar_client(
        lambda s: s.events().list(calendarId="primary", updatedMin=touched["updated"])
    )
    assert [e["id"] for e in page["items"]] == [first["id"]]
    page = await calendar_client(
        lambda s: s.events().list(calendarId="primary", iCalUID=second["iCalUID"])
    )
    assert [e["id"] for e in page["items"]] == [second["id"]]


async def test_free_busy_readers_cannot_list_and_ids_cannot_change(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    busy = calendar_emulator.add_calendar("boss@example.com", "Busy")
    calendar_emulator.share_calendar(busy, PRIMARY, "freeBusyReader")
    error = await _error(calendar_client, lambda s: s.events().list(calendarId=busy))
    assert error.status_code == 403
    with pytest.raises(ValueError, match="Unknown access role"):
        calendar_emulator.share_calendar(busy, PRIMARY, "admin")

    event = calendar_emulator.insert_event(
        PRIMARY, timed("Fixed", "2026-06-01T08:00:00Z", "2026-06-01T09:00:00Z")
    )
    error = await _error(
        calendar_client,
        lambda s: s.events().patch(
            calendarId="primary", eventId=event["id"], body={"id": "otherid12"}
        ),
    )
    assert error.status_code == 400
    error = await _error(
        calendar_client,
        lambda s: s.events().insert(
            calendarId="primary",
            body={
                "start": {"dateTime": "2026-06-01T08:00:00", "timeZone": "Mars/Base"},
                "end": {"dateTime": "2026-06-01T09:00:00", "timeZone": "Mars/Base"},
            },
        ),
    )
    assert error.status_code == 400


@pytest.mark.parametrize(
    ("sent", "answered"),
    [
        (
            {"dateTime": "2026-01-15T08:00:00", "timeZone": "Europe/Paris"},
            {"dateTime": "2026-01-15T08:00:00+01:00", "timeZone": "Europe/Paris"},
        ),
        (
            {"dateTime": "2026-01-15T07:00:00Z", "timeZone": "Europe/Paris"},
            {"dateTime": "2026-01-15T08:00:00+01:00", "timeZone": "Europe/Paris"},
        ),
        (
            {"dateTime": "2026-01-15T08:00:00-05:00"},
            {"dateTime": "2026-01-15T08:00:00-05:00"},
        ),
        # 02:30 does not exist in Paris that night: it is 03:30 summer time.
        (
            {"dateTime": "2026-03-29T02:30:00", "timeZone": "Europe/Paris"},
            {"dateTime": "2026-03-29T03:30:00+02:00", "timeZone": "Europe/Paris"},
        ),
    ],
)
async def test_times_are_answered_with_an_offset(
    calendar_client: CalendarClient, sent: dict[str, str], answered: dict[str, str]
) -> None:
    """Google answers RFC 3339 with an offset, in the event's timeZone if given."""
    body = {"summary": "call", "start": sent, "end": {**sent}}

    created = await calendar_client(
        lambda s: s.events().insert(calendarId="primary", body=body)
    )
    fetched = await calendar_client(
        lambda s: s.events().get(calendarId="primary", eventId=created["id"])
    )

    assert created["start"] == answered
    assert fetched["end"] == answered
