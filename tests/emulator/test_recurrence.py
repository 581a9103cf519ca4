"""Recurring events: expansion, instance ids, exceptions and cancelled instances."""

from __future__ import annotations

from typing import Any

from googleapiclient.errors import HttpError
import pytest

from google_calendar_emulator import GoogleCalendarEmulator

from .conftest import CalendarClient

PRIMARY = "user@example.com"


def weekly_berlin(count: int = 4) -> dict[str, Any]:
    """Return a weekly 10:00 Berlin event that crosses the end of summer time."""
    return {
        "summary": "Weekly",
        "start": {"dateTime": "2026-10-14T10:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2026-10-14T11:00:00", "timeZone": "Europe/Berlin"},
        "recurrence": [f"RRULE:FREQ=WEEKLY;COUNT={count}"],
    }


async def list_ids(client: CalendarClient, **params: Any) -> list[str]:
    """Return the ids of one events.list page."""
    page = await client(lambda s: s.events().list(calendarId="primary", **params))
    return [event["id"] for event in page["items"]]


async def test_single_events_expand_with_google_instance_ids(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    master = await calendar_client(
        lambda s: s.events().insert(calendarId="primary", body=weekly_berlin())
    )
    page = await calendar_client(
        lambda s: s.events().list(
            calendarId="primary", singleEvents=True, orderBy="startTime"
        )
    )
    instances = page["items"]
    # Wall-clock time stays 10:00 in Berlin; the UTC id suffix moves with DST.
    assert [event["id"] for event in instances] == [
        f"{master['id']}_20261014T080000Z",
        f"{master['id']}_20261021T080000Z",
        f"{master['id']}_20261028T090000Z",
        f"{master['id']}_20261104T090000Z",
    ]
    third = instances[2]
    assert third["start"] == {
        "dateTime": "2026-10-28T10:00:00+01:00",
        "timeZone": "Europe/Berlin",
    }
    assert third["originalStartTime"] == third["start"]
    assert third["recurringEventId"] == master["id"]
    assert third["iCalUID"] == master["iCalUID"]
    assert "recurrence" not in third

    # Without singleEvents the master comes back as stored.
    assert await list_ids(calendar_client) == [master["id"]]


async def test_all_day_instances_use_date_ids(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    master = calendar_emulator.insert_event(
        PRIMARY,
        {
            "summary": "Trash day",
            "start": {"date": "2026-02-27"},
            "end": {"date": "2026-02-28"},
            "recurrence": [
                "RRULE:FREQ=DAILY;UNTIL=20260302",
                "EXDATE;VALUE=DATE:20260301",
            ],
        },
    )
    page = await calendar_client(
        lambda s: s.events().list(calendarId="primary", singleEvents=True)
    )
    assert [(e["id"], e["start"], e["end"]) for e in page["items"]] == [
        (f"{master['id']}_20260227", {"date": "2026-02-27"}, {"date": "2026-02-28"}),
        (f"{master['id']}_20260228", {"date": "2026-02-28"}, {"date": "2026-03-01"}),
        (f"{master['id']}_20260302", {"date": "2026-03-02"}, {"date": "2026-03-03"}),
    ]


async def test_time_bounds_select_instances_and_masters(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    master = calendar_emulator.insert_event(PRIMARY, weekly_berlin(count=10))
    in_range = await list_ids(
        calendar_client,
        singleEvents=True,
        timeMin="2026-10-21T09:00:00Z",  # the 21st ends at 09:00Z: excluded
        timeMax="2026-11-04T09:00:00Z",  # the 4th starts at 09:00Z: excluded
    )
    assert in_range == [f"{master['id']}_20261028T090000Z"]
    assert await list_ids(calendar_client, timeMin="2026-10-20T00:00:00Z") == [
        master["id"]
    ]
    assert await list_ids(calendar_client, timeMin="2027-10-20T00:00:00Z") == []


async def test_open_ended_rules_are_bounded(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    calendar_emulator.insert_event(
        PRIMARY,
        {
            "summary": "Forever",
            "start": {"dateTime": "2026-01-01T08:00:00Z", "timeZone": "UTC"},
            "end": {"dateTime": "2026-01-01T08:30:00Z", "timeZone": "UTC"},
            "recurrence": ["RRULE:FREQ=DAILY"],
        },
    )
    ids = await list_ids(
        calendar_client,
        singleEvents=True,
        timeMin="2026-01-01T00:00:00Z",
        timeMax="2026-01-11T00:00:00Z",
    )
    assert len(ids) == 10
    page = await calendar_client(
        lambda s: s.events().list(
            calendarId="primary", singleEvents=True, maxResults=2500
        )
    )
    assert 700 <= len(page["items"]) <= 2500


async def test_instances_and_instance_exceptions(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    master = calendar_emulator.insert_event(PRIMARY, weekly_berlin())
    second = f"{master['id']}_20261021T080000Z"
    generated = await calendar_client(
        lambda s: s.events().get(calendarId="primary", eventId=second)
    )
    assert generated["recurringEventId"] == master["id"]

    moved = await calendar_client(
        lambda s: s.events().patch(
            calendarId="primary",
            eventId=second,
            body={
                "summary": "Moved",
                "start": {
                    "dateTime": "2026-10-21T14:00:00+02:00",
                    "timeZone": "Europe/Berlin",
                },
                "end": {
                    "dateTime": "2026-10-21T15:00:00+02:00",
                    "timeZone": "Europe/Berlin",
                },
            },
        )
    )
    assert moved["id"] == second
    assert moved["originalStartTime"]["dateTime"] == "2026-10-21T10:00:00+02:00"
    assert moved["sequence"] == 1

    instances = await calendar_client(
        lambda s: s.events().instances(calendarId="primary", eventId=master["id"])
    )
    assert [(e["id"], e["summary"]) for e in instances["items"]] == [
        (f"{master['id']}_20261014T080000Z", "Weekly"),
        (second, "Moved"),
        (f"{master['id']}_20261028T090000Z", "Weekly"),
        (f"{master['id']}_20261104T090000Z", "Weekly"),
    ]
    page = await calendar_client(
        lambda s: s.events().instances(
            calendarId="primary", eventId=master["id"], maxResults=3
        )
    )
    rest = await calendar_client(
        lambda s: s.events().instances(
            calendarId="primary", eventId=master["id"], pageToken=page["nextPageToken"]
        )
    )
    assert len(page["items"]) + len(rest["items"]) == 4

    # Without singleEvents: the master plus its exception.
    assert await list_ids(calendar_client) == [master["id"], second]


async def test_cancelled_instances_follow_show_deleted_rules(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    master = calendar_emulator.insert_event(PRIMARY, weekly_berlin())
    single = calendar_emulator.insert_event(
        PRIMARY,
        {
            "summary": "Gone",
            "start": {"date": "2026-10-01"},
            "end": {"date": "2026-10-02"},
        },
    )
    third = f"{master['id']}_20261028T090000Z"
    await calendar_client(
        lambda s: s.events().delete(calendarId="primary", eventId=third)
    )
    calendar_emulator.delete_event(PRIMARY, single["id"])
    with pytest.raises(HttpError) as err:
        await calendar_client(
            lambda s: s.events().delete(calendarId="primary", eventId=third)
        )
    assert err.value.status_code == 410

    expanded = await list_ids(calendar_client, singleEvents=True)
    assert third not in expanded
    assert len(expanded) == 3
    with_deleted = await list_ids(calendar_client, singleEvents=True, showDeleted=True)
    assert set(with_deleted) == {*expanded, third, single["id"]}

    # Google's nuance: cancelled instances (not deleted singles) are listed when
    # showDeleted and singleEvents are both false.
    page = await calendar_client(lambda s: s.events().list(calendarId="primary"))
    assert [e["id"] for e in page["items"]] == [master["id"], third]
    cancelled = page["items"][1]
    assert cancelled["status"] == "cancelled"
    assert cancelled["recurringEventId"] == master["id"]
    assert cancelled["originalStartTime"]["dateTime"] == "2026-10-28T10:00:00+01:00"
    shown = await list_ids(calendar_client, showDeleted=True)
    assert set(shown) == {single["id"], master["id"], third}


async def test_deleting_the_master_cancels_everything(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    master = calendar_emulator.insert_event(PRIMARY, weekly_berlin())
    exception = f"{master['id']}_20261014T080000Z"
    calendar_emulator.patch_event(PRIMARY, exception, {"summary": "Special"})
    page = await calendar_client(lambda s: s.events().list(calendarId="primary"))
    token = page["nextSyncToken"]

    calendar_emulator.delete_event(PRIMARY, master["id"])

    assert await list_ids(calendar_client, singleEvents=True) == []
    assert await list_ids(calendar_client) == []
    changes = await calendar_client(
        lambda s: s.events().list(calendarId="primary", syncToken=token)
    )
    assert {(e["id"], e["status"]) for e in changes["items"]} == {
        (master["id"], "cancelled"),
        (exception, "cancelled"),
    }
    with pytest.raises(HttpError) as err:
        await calendar_client(
            lambda s: s.events().get(
                calendarId="primary", eventId=f"{master['id']}_20261021T080000Z"
            )
        )
    assert err.value.status_code == 404


@pytest.mark.parametrize(
    "recurrence",
    [
        ["RRULE:FREQ=SOMETIMES"],
        ["DTSTART:20260101T000000Z", "RRULE:FREQ=DAILY"],
        "RRULE",
    ],
)
async def test_invalid_recurrence_is_rejected(
    calendar_client: CalendarClient, recurrence: Any
) -> None:
    body = weekly_berlin() | {"recurrence": recurrence}
    with pytest.raises(HttpError) as err:
        await calendar_client(
            lambda s: s.events().insert(calendarId="primary", body=body)
        )
    assert err.value.status_code == 400


async def test_instance_ids_that_do_not_exist_are_404(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    master = calendar_emulator.insert_event(PRIMARY, weekly_berlin())
    single = calendar_emulator.insert_event(
        PRIMARY, {"start": {"date": "2026-10-01"}, "end": {"date": "2026-10-02"}}
    )
    for event_id in (
        f"{master['id']}_20261015T080000Z",  # not on the rule
        f"{master['id']}_notadate",
        f"{single['id']}_20261001",  # not recurring
    ):
        with pytest.raises(HttpError) as err:
            await calendar_client(
                lambda s, event_id=event_id: s.events().get(
                    calendarId="primary", eventId=event_id
                )
            )
        assert err.value.status_code == 404
    with pytest.raises(HttpError) as err:
        await calendar_client(
            lambda s: s.events().instances(calendarId="primary", eventId=single["id"])
        )
    assert err.value.status_code == 400


async def test_date_only_until_works_with_a_timed_start(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    master = calendar_emulator.insert_event(
        PRIMARY,
        weekly_berlin() | {"recurrence": ["RRULE:FREQ=DAILY;UNTIL=20261016"]},
    )
    ids = await list_ids(calendar_client, singleEvents=True)
    assert ids == [
        f"{master['id']}_20261014T080000Z",
        f"{master['id']}_20261015T080000Z",
        f"{master['id']}_20261016T080000Z",
    ]


async def test_rdate_and_exdate_with_time_zones(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    master = calendar_emulator.insert_event(
        PRIMARY,
        weekly_berlin(count=3)
        | {
            "recurrence": [
                "RRULE:FREQ=WEEKLY;COUNT=3",
                "EXDATE;TZID=Europe/Berlin:20261021T100000",
                "RDATE;TZID=Europe/Berlin:20261022T100000",
                "RDATE:20261023T080000Z,20261024T080000Z",
            ]
        },
    )
    ids = await list_ids(calendar_client, singleEvents=True, orderBy="startTime")
    assert [event_id.removeprefix(f"{master['id']}_") for event_id in ids] == [
        "20261014T080000Z",
        "20261022T080000Z",
        "20261023T080000Z",
        "20261024T080000Z",
        "20261028T090000Z",
    ]


async def instances_of(
    client: CalendarClient, body: dict[str, Any]
) -> list[dict[str, Any]]:
    """Insert a recurring event and return its instances."""
    master = await client(lambda s: s.events().insert(calendarId="primary", body=body))
    page = await client(
        lambda s: s.events().instances(calendarId="primary", eventId=master["id"])
    )
    items: list[dict[str, Any]] = page["items"]
    return items


async def test_a_series_spanning_a_dst_change_keeps_its_length(
    calendar_client: CalendarClient,
) -> None:
    """01:30 to 03:30 in Berlin on 29 March is one hour: so is every instance."""
    first, second = await instances_of(
        calendar_client,
        {
            "start": {"dateTime": "2026-03-29T01:30:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2026-03-29T03:30:00", "timeZone": "Europe/Berlin"},
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=2"],
        },
    )

    assert first["start"]["dateTime"] == "2026-03-29T01:30:00+01:00"
    assert first["end"]["dateTime"] == "2026-03-29T03:30:00+02:00"
    assert second["start"]["dateTime"] == "2026-03-30T01:30:00+02:00"
    assert second["end"]["dateTime"] == "2026-03-30T02:30:00+02:00"


async def test_all_day_series_accept_a_utc_until(
    calendar_client: CalendarClient,
) -> None:
    items = await instances_of(
        calendar_client,
        {
            "start": {"date": "2026-03-09"},
            "end": {"date": "2026-03-10"},
            "recurrence": ["RRULE:FREQ=DAILY;UNTIL=20260312T000000Z"],
        },
    )

    assert [item["start"]["date"] for item in items] == [
        "2026-03-09",
        "2026-03-10",
        "2026-03-11",
        "2026-03-12",
    ]


async def test_yearly_by_month_day_recurs_in_the_start_month_like_google(
    calendar_client: CalendarClient,
) -> None:
    items = await instances_of(
        calendar_client,
        {
            "start": {"date": "2026-02-10"},
            "end": {"date": "2026-02-11"},
            "recurrence": ["RRULE:FREQ=YEARLY;BYMONTHDAY=10;COUNT=2"],
        },
    )

    assert [item["start"]["date"] for item in items] == ["2026-02-10", "2027-02-10"]


async def test_rdate_and_exdate_in_another_zone(
    calendar_client: CalendarClient,
) -> None:
    """TZID values are case-sensitive zone names, on RDATE and EXDATE alike."""
    items = await instances_of(
        calendar_client,
        {
            "start": {"dateTime": "2026-03-02T09:00:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2026-03-02T10:00:00", "timeZone": "Europe/Berlin"},
            "recurrence": [
                "RRULE:FREQ=WEEKLY;COUNT=3",
                "EXDATE;TZID=America/New_York:20260309T040000",
                "RDATE;TZID=Asia/Tokyo:20260311T170000",
            ],
        },
    )

    assert [item["start"]["dateTime"] for item in items] == [
        "2026-03-02T09:00:00+01:00",
        "2026-03-11T09:00:00+01:00",
        "2026-03-16T09:00:00+01:00",
    ]
