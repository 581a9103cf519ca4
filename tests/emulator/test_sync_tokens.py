"""Incremental sync: sync tokens, the change journal and 410 fullSyncRequired."""

from __future__ import annotations

import json
from typing import Any

from googleapiclient.errors import HttpError
import pytest

from google_calendar_emulator import GoogleCalendarEmulator

from .conftest import CalendarClient

PRIMARY = "user@example.com"
FULL_SYNC_REQUIRED = {
    "error": {
        "errors": [
            {
                "domain": "calendar",
                "reason": "fullSyncRequired",
                "message": "Sync token is no longer valid, a full sync is required.",
                "locationType": "parameter",
                "location": "syncToken",
            }
        ],
        "code": 410,
        "message": "Sync token is no longer valid, a full sync is required.",
    }
}


def event_body(summary: str, hour: int = 10) -> dict[str, Any]:
    """Return a timed event body."""
    return {
        "summary": summary,
        "start": {"dateTime": f"2026-04-01T{hour:02d}:00:00Z"},
        "end": {"dateTime": f"2026-04-01T{hour:02d}:30:00Z"},
    }


async def full_sync(client: CalendarClient, calendar_id: str = "primary") -> str:
    """List everything and return the sync token."""
    page_token: str | None = None
    while True:
        page = await client(
            lambda s, page_token=page_token: s.events().list(
                calendarId=calendar_id, pageToken=page_token
            )
        )
        if "nextSyncToken" in page:
            return str(page["nextSyncToken"])
        page_token = page["nextPageToken"]


async def test_incremental_sync_returns_exactly_the_changes(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    keep = calendar_emulator.insert_event(PRIMARY, event_body("Unchanged", 8))
    edit = calendar_emulator.insert_event(PRIMARY, event_body("Edit me", 9))
    drop = calendar_emulator.insert_event(PRIMARY, event_body("Delete me", 10))
    token = await full_sync(calendar_client)

    added = await calendar_client(
        lambda s: s.events().insert(calendarId="primary", body=event_body("New", 11))
    )
    calendar_emulator.patch_event(PRIMARY, edit["id"], {"summary": "Edited"})
    await calendar_client(
        lambda s: s.events().delete(calendarId="primary", eventId=drop["id"])
    )

    changes = await calendar_client(
        lambda s: s.events().list(calendarId="primary", syncToken=token)
    )
    by_id = {event["id"]: event for event in changes["items"]}
    assert set(by_id) == {added["id"], edit["id"], drop["id"]}
    assert keep["id"] not in by_id
    assert by_id[edit["id"]]["summary"] == "Edited"
    assert by_id[drop["id"]]["status"] == "cancelled"
    assert "nextPageToken" not in changes
    assert changes["nextSyncToken"] != token

    nothing = await calendar_client(
        lambda s: s.events().list(
            calendarId="primary", syncToken=changes["nextSyncToken"]
        )
    )
    assert nothing["items"] == []
    # A token stays valid: replaying it returns the same changes.
    again = await calendar_client(
        lambda s: s.events().list(calendarId="primary", syncToken=token)
    )
    assert {event["id"] for event in again["items"]} == set(by_id)


async def test_incremental_sync_pages_with_the_same_token(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    token = await full_sync(calendar_client)
    created = [
        calendar_emulator.insert_event(PRIMARY, event_body(f"E{n}", n))["id"]
        for n in range(5)
    ]
    first = await calendar_client(
        lambda s: s.events().list(calendarId="primary", syncToken=token, maxResults=2)
    )
    pages = [first]
    while "nextPageToken" in pages[-1]:
        page_token = pages[-1]["nextPageToken"]
        # A change while paging does not disturb the pages already promised.
        calendar_emulator.insert_event(PRIMARY, event_body("Late", 20))
        pages.append(
            await calendar_client(
                lambda s, page_token=page_token: s.events().list(
                    calendarId="primary",
                    syncToken=token,
                    maxResults=2,
                    pageToken=page_token,
                )
            )
        )
    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    assert [e["id"] for page in pages for e in page["items"]] == created
    assert all("nextSyncToken" not in page for page in pages[:-1])

    late = await calendar_client(
        lambda s: s.events().list(
            calendarId="primary", syncToken=pages[-1]["nextSyncToken"]
        )
    )
    assert [event["summary"] for event in late["items"]] == ["Late", "Late"]


async def test_invalidated_and_unknown_tokens_answer_410(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    work = calendar_emulator.add_calendar(PRIMARY, "Work")
    token = await full_sync(calendar_client)
    work_token = await full_sync(calendar_client, work)

    calendar_emulator.invalidate_sync_tokens(PRIMARY)
    with pytest.raises(HttpError) as err:
        await calendar_client(
            lambda s: s.events().list(calendarId="primary", syncToken=token)
        )
    assert err.value.status_code == 410
    assert json.loads(err.value.content) == FULL_SYNC_REQUIRED

    # Other calendars keep their tokens; a token only works for its own calendar.
    await calendar_client(
        lambda s: s.events().list(calendarId=work, syncToken=work_token)
    )
    with pytest.raises(HttpError) as err:
        await calendar_client(
            lambda s: s.events().list(calendarId="primary", syncToken=work_token)
        )
    assert err.value.status_code == 410

    calendar_emulator.invalidate_sync_tokens()
    with pytest.raises(HttpError) as err:
        await calendar_client(
            lambda s: s.events().list(calendarId=work, syncToken=work_token)
        )
    assert err.value.status_code == 410
    with pytest.raises(HttpError) as err:
        await calendar_client(
            lambda s: s.events().list(calendarId="primary", syncToken="never-issued")
        )
    assert err.value.status_code == 410

    fresh = await full_sync(calendar_client)
    await calendar_client(
        lambda s: s.events().list(calendarId="primary", syncToken=fresh)
    )


@pytest.mark.parametrize(
    "params",
    [
        {"timeMin": "2026-01-01T00:00:00Z"},
        {"timeMax": "2026-01-01T00:00:00Z"},
        {"orderBy": "updated"},
        {"q": "x"},
        {"iCalUID": "x@google.com"},
        {"privateExtendedProperty": "a=b"},
        {"sharedExtendedProperty": "a=b"},
        {"updatedMin": "2026-01-01T00:00:00Z"},
        # Deleted events are always in an incremental result.
        {"showDeleted": False},
    ],
)
async def test_parameters_that_cannot_combine_with_sync_token(
    calendar_client: CalendarClient, params: dict[str, Any]
) -> None:
    token = await full_sync(calendar_client)
    with pytest.raises(HttpError) as err:
        await calendar_client(
            lambda s: s.events().list(calendarId="primary", syncToken=token, **params)
        )
    assert err.value.status_code == 400
    (name,) = params
    assert json.loads(err.value.content)["error"]["errors"][0]["location"] == name


async def test_show_deleted_true_combines_with_sync_token(
    calendar_client: CalendarClient,
) -> None:
    token = await full_sync(calendar_client)

    page = await calendar_client(
        lambda s: s.events().list(
            calendarId="primary", syncToken=token, showDeleted=True
        )
    )

    assert page["items"] == []


async def test_single_events_incremental_sync_expands_changed_masters(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    token = await full_sync(calendar_client)
    master = calendar_emulator.insert_event(
        PRIMARY,
        {
            "summary": "Weekly",
            "start": {"dateTime": "2026-04-06T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-04-06T11:00:00", "timeZone": "UTC"},
            "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3"],
        },
    )
    changes = await calendar_client(
        lambda s: s.events().list(
            calendarId="primary", syncToken=token, singleEvents=True
        )
    )
    assert [event["id"] for event in changes["items"]] == [
        f"{master['id']}_20260406T100000Z",
        f"{master['id']}_20260413T100000Z",
        f"{master['id']}_20260420T100000Z",
    ]


async def test_change_listeners_hear_http_and_helper_changes(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    heard: list[str] = []
    remove = calendar_emulator.model.add_change_listener(heard.append)
    work = calendar_emulator.add_calendar(PRIMARY, "Work")
    event = calendar_emulator.insert_event(work, event_body("Helper"))
    await calendar_client(
        lambda s: s.events().patch(
            calendarId=work, eventId=event["id"], body={"summary": "x"}
        )
    )
    await calendar_client(
        lambda s: s.events().insert(calendarId="primary", body=event_body("API"))
    )
    calendar_emulator.delete_event(work, event["id"])
    assert heard == [work, work, PRIMARY, work]

    remove()
    calendar_emulator.insert_event(work, event_body("Unheard"))
    assert len(heard) == 4


async def test_a_failing_listener_does_not_break_the_write(
    calendar_emulator: GoogleCalendarEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(calendar_id: str) -> None:
        raise RuntimeError("boom")

    calendar_emulator.model.add_change_listener(broken)
    calendar_emulator.insert_event(PRIMARY, event_body("Still saved"))
    assert [event["summary"] for event in calendar_emulator.events(PRIMARY)] == [
        "Still saved"
    ]
    assert "Change listener failed" in caplog.text
