"""The sync engine: full and incremental listings into snapshots and change sets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
import threading
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest

from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.diff import ChangeKind, EventChange
from custom_components.google_calendar_sync.google.endpoints import GoogleEndpoints
from custom_components.google_calendar_sync.google.sync import (
    CalendarSnapshot,
    apply_full,
    apply_incremental,
    async_sync_calendar,
)
from custom_components.google_calendar_sync.google.transport import StaticTokenAuth
from google_calendar_emulator import GoogleCalendarEmulator

from .conftest import event, kinds, master

USER = "user@example.com"
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
START = datetime(2026, 11, 24, 9, tzinfo=UTC)


def cancelled_instance(master_id: str, suffix: str, when: str) -> dict[str, Any]:
    """Return a bare cancelled exception as an incremental listing shows it."""
    return {
        "id": f"{master_id}_{suffix}",
        "recurringEventId": master_id,
        "originalStartTime": {"dateTime": when, "timeZone": "Europe/Berlin"},
        "status": "cancelled",
    }


def snapshot_of(*events: dict[str, Any]) -> CalendarSnapshot:
    """Return a snapshot holding the events, synced with token t1."""
    return CalendarSnapshot("t1", {item["id"]: item for item in events}, NOW)


# Pure logic


def test_incremental_reports_created_updated_and_cancelled() -> None:
    old = snapshot_of(event("keep"), event("edit"), event("gone"))
    items = [
        event("new"),
        event("edit", "2", summary="Edited", description="more"),
        {"id": "gone", "status": "cancelled"},
        {"id": "never-seen", "status": "cancelled"},
        event("keep"),
    ]

    snapshot, changes = apply_incremental(old, items, "t2", NOW + timedelta(hours=1))

    assert kinds(changes) == [
        ("created", "new"),
        ("updated", "edit"),
        ("cancelled", "gone"),
    ]
    assert changes.updated[0].changed_fields == ("description", "summary")
    # A cancellation carries the last known event for the bus.
    assert changes.cancelled[0].event["summary"] == "gone"
    assert set(snapshot.events) == {"keep", "edit", "new"}
    assert snapshot.sync_token == "t2"
    assert snapshot.last_synced == NOW + timedelta(hours=1)
    # The snapshot passed in is left untouched.
    assert set(old.events) == {"keep", "edit", "gone"}
    assert old.sync_token == "t1"


def test_same_etag_is_not_a_change() -> None:
    # What we wrote ourselves was stored at once; the sync brings it back unchanged.
    old = snapshot_of(event("ours", "7", summary="From HA"))

    _, changes = apply_incremental(
        old, [event("ours", "7", summary="From HA")], "t2", NOW
    )

    assert len(changes) == 0


def test_new_etag_without_visible_change_is_an_update() -> None:
    old = snapshot_of(event("a", "1"))

    _, changes = apply_incremental(old, [event("a", "2", sequence=3)], "t2", NOW)

    assert changes.updated == (
        EventChange(ChangeKind.UPDATED, event("a", "2", sequence=3)),
    )


def test_cancelled_instance_of_a_held_series_is_reported_with_its_times() -> None:
    old = snapshot_of(master())
    instance = cancelled_instance(
        "weekly", "20261130T080000Z", "2026-11-30T09:00:00+01:00"
    )

    snapshot, changes = apply_incremental(old, [instance], "t2", NOW)

    (change,) = changes.cancelled
    assert change.event["id"] == "weekly_20261130T080000Z"
    assert change.event["summary"] == "weekly"
    assert change.event["start"] == instance["originalStartTime"]
    assert change.event["end"] == {
        "dateTime": "2026-11-30T09:30:00+01:00",
        "timeZone": "Europe/Berlin",
    }
    # Kept so the timeline hides that instance.
    assert snapshot.events[instance["id"]] == instance

    # Seen again unchanged: nothing new.
    _, again = apply_incremental(snapshot, [instance], "t3", NOW)
    assert len(again) == 0


def test_moved_instance_is_an_update_of_the_instance() -> None:
    old = snapshot_of(master())
    moved = event(
        "weekly_20261130T080000Z",
        summary="weekly",
        recurringEventId="weekly",
        originalStartTime={
            "dateTime": "2026-11-30T09:00:00+01:00",
            "timeZone": "Europe/Berlin",
        },
        start={"dateTime": "2026-12-01T10:00:00+01:00", "timeZone": "Europe/Berlin"},
        end={"dateTime": "2026-12-01T10:30:00+01:00", "timeZone": "Europe/Berlin"},
    )
    same_time = {
        **moved,
        "id": "weekly_20261207T080000Z",
        "originalStartTime": {"dateTime": "2026-12-07T08:00:00Z"},
        "start": {"dateTime": "2026-12-07T08:00:00Z"},
        "end": {"dateTime": "2026-12-07T08:30:00Z"},
        "location": "Elsewhere",
    }

    _, changes = apply_incremental(old, [moved, same_time], "t2", NOW)

    assert [(c.event["id"], c.changed_fields) for c in changes.updated] == [
        ("weekly_20261130T080000Z", ("end", "start")),
        ("weekly_20261207T080000Z", ("location",)),
    ]


def test_moved_then_cancelled_instance_is_cancelled() -> None:
    moved = event("weekly_x", recurringEventId="weekly", originalStartTime={})
    old = snapshot_of(master(), moved)

    _, changes = apply_incremental(
        old,
        [{"id": "weekly_x", "recurringEventId": "weekly", "status": "cancelled"}],
        "t2",
        NOW,
    )

    assert kinds(changes) == [("cancelled", "weekly_x")]
    assert changes.cancelled[0].event["summary"] == "weekly_x"


def test_deleting_a_series_drops_its_exceptions() -> None:
    moved = event("weekly_a", recurringEventId="weekly", originalStartTime={})
    hidden = cancelled_instance("weekly", "b", "2026-11-30T09:00:00+01:00")
    old = snapshot_of(master(), moved, hidden, event("other"))

    snapshot, changes = apply_incremental(
        old, [{"id": "weekly", "status": "cancelled"}], "t2", NOW
    )

    assert kinds(changes) == [("cancelled", "weekly")]
    assert set(snapshot.events) == {"other"}


def test_full_sync_from_nothing_creates_everything() -> None:
    items = [
        event("a"),
        master(),
        {"id": "deleted-long-ago", "status": "cancelled"},
        cancelled_instance("weekly", "x", "2026-11-30T09:00:00+01:00"),
        event("weekly_y", recurringEventId="weekly", originalStartTime={}),
    ]

    snapshot, changes = apply_full(CalendarSnapshot(), items, "t1", NOW)

    assert set(snapshot.events) == {"a", "weekly", "weekly_x", "weekly_y"}
    # The hidden instance of a series seen for the first time is no news.
    assert kinds(changes) == [
        ("created", "a"),
        ("created", "weekly"),
        ("created", "weekly_y"),
    ]


def test_full_resync_leaves_exactly_what_google_listed() -> None:
    """Gone events are announced; events that aged out of the window go silently."""
    time_min = NOW - timedelta(days=30)
    old_past = event(
        "old-past",
        start={"dateTime": "2026-01-01T09:00:00Z"},
        end={"dateTime": "2026-01-01T10:00:00Z"},
    )
    finished_series = event(
        "finished",
        start={"dateTime": "2026-01-05T09:00:00Z"},
        end={"dateTime": "2026-01-05T10:00:00Z"},
        recurrence=["RRULE:FREQ=DAILY;COUNT=3"],
    )
    running_series = event(
        "running",
        start={"dateTime": "2026-01-05T09:00:00Z"},
        end={"dateTime": "2026-01-05T10:00:00Z"},
        recurrence=["RRULE:FREQ=DAILY"],
    )
    past_exception = cancelled_instance("finished", "x", "2026-01-06T09:00:00Z")
    old_all_day = event(
        "old-day", start={"date": "2026-02-01"}, end={"date": "2026-02-02"}
    )
    broken = event("broken", end={"dateTime": "whenever"})
    old = snapshot_of(
        old_all_day,
        broken,
        old_past,
        finished_series,
        running_series,
        past_exception,
        event("same"),
        event("changed"),
        event("deleted-while-away"),
        event("purged"),
    )
    listing = [
        event("same"),
        event("changed", "2", summary="Changed"),
        {"id": "deleted-while-away", "status": "cancelled"},
        event("brand-new"),
    ]

    snapshot, changes = apply_full(old, listing, "t9", NOW, time_min)

    assert kinds(changes) == [
        ("created", "brand-new"),
        ("updated", "changed"),
        ("cancelled", "broken"),
        ("cancelled", "running"),
        ("cancelled", "deleted-while-away"),
        ("cancelled", "purged"),
    ]
    assert set(snapshot.events) == {"same", "changed", "brand-new"}
    assert snapshot.sync_token == "t9"


def test_cancelled_instance_without_known_master_is_reported_bare() -> None:
    instance = cancelled_instance("unknown", "x", "2026-11-30T09:00:00+01:00")

    _, changes = apply_incremental(snapshot_of(), [instance], "t2", NOW)

    assert changes.cancelled[0].event == instance


def test_all_day_cancelled_instance_gets_an_all_day_end() -> None:
    birthday = event(
        "bday",
        start={"date": "2026-03-01"},
        end={"date": "2026-03-02"},
        recurrence=["RRULE:FREQ=YEARLY"],
    )
    instance = {
        "id": "bday_20270301",
        "recurringEventId": "bday",
        "originalStartTime": {"date": "2027-03-01"},
        "status": "cancelled",
    }
    bad_master = event("bad", start={"dateTime": "soon"}, end={"dateTime": "later"})
    bad_instance = {
        "id": "bad_x",
        "recurringEventId": "bad",
        "originalStartTime": {"dateTime": "2027-03-01T10:00:00Z"},
        "status": "cancelled",
    }

    _, changes = apply_incremental(
        snapshot_of(birthday, bad_master), [instance, bad_instance], "t2", NOW
    )

    assert changes.cancelled[0].event["end"] == {"date": "2027-03-02"}
    assert "end" not in changes.cancelled[1].event


# Against the emulator, with the real client


class SmallPages:
    """Ask for tiny pages so every listing spans several requests."""

    def __init__(self, api: GoogleCalendarApi, size: int = 2) -> None:
        self._api = api
        self._size = size
        self.calls: list[dict[str, Any]] = []

    async def list_events(self, calendar_id: str, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        kwargs["max_results"] = self._size
        return await self._api.list_events(calendar_id, **kwargs)


@pytest.fixture
async def api(
    hass: HomeAssistant, calendar_emulator: GoogleCalendarEmulator
) -> GoogleCalendarApi:
    token = calendar_emulator.issue_tokens(USER)["access_token"]
    return await GoogleCalendarApi.async_create(
        async_get_clientsession(hass),
        StaticTokenAuth(token),
        GoogleEndpoints.for_base_url(calendar_emulator.base_url),
        executor=hass.async_add_executor_job,
    )


def body(summary: str, start: datetime, **extra: Any) -> dict[str, Any]:
    """Return an insert body."""
    return {
        "summary": summary,
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        **extra,
    }


async def test_full_then_incremental_sync(
    api: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    emulator = calendar_emulator
    first = emulator.insert_event(USER, body("Dentist", START))
    second = emulator.insert_event(USER, body("Gym", START + timedelta(days=1)))
    third = emulator.insert_event(USER, body("Call", START + timedelta(days=2)))
    source = SmallPages(api)

    full = await async_sync_calendar(source, USER, CalendarSnapshot(), now=NOW)

    assert full.full_sync
    assert full.changes.counts() == {"created": 3, "updated": 0, "cancelled": 0}
    assert full.requests == 2
    assert full.snapshot.sync_token
    assert source.calls[0]["show_deleted"] is True

    emulator.patch_event(USER, first["id"], {"summary": "Dentist (moved)"})
    emulator.delete_event(USER, second["id"])
    fourth = emulator.insert_event(USER, body("Lunch", START + timedelta(hours=3)))
    source.calls.clear()

    incremental = await async_sync_calendar(source, USER, full.snapshot, now=NOW)

    assert not incremental.full_sync
    assert kinds(incremental.changes) == [
        ("created", fourth["id"]),
        ("updated", first["id"]),
        ("cancelled", second["id"]),
    ]
    assert incremental.changes.updated[0].changed_fields == ("summary",)
    assert incremental.changes.cancelled[0].event["summary"] == "Gym"
    assert set(incremental.snapshot.events) == {first["id"], third["id"], fourth["id"]}
    # Every page of the incremental listing repeats the same sync token.
    assert incremental.requests == len(source.calls) == 2
    assert {call["sync_token"] for call in source.calls} == {full.snapshot.sync_token}
    assert source.calls[1]["page_token"]

    quiet = await async_sync_calendar(source, USER, incremental.snapshot, now=NOW)

    assert len(quiet.changes) == 0
    assert not quiet.full_sync
    assert quiet.snapshot.events == incremental.snapshot.events


async def test_recurring_event_with_moved_and_cancelled_instance(
    api: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    emulator = calendar_emulator
    series = emulator.insert_event(
        USER,
        {
            "summary": "Standup",
            "start": {"dateTime": "2026-11-23T09:00:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2026-11-23T09:15:00", "timeZone": "Europe/Berlin"},
            "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=5"],
        },
    )
    full = await async_sync_calendar(api, USER, CalendarSnapshot(), now=NOW)
    assert kinds(full.changes) == [("created", series["id"])]

    moved_id = f"{series['id']}_20261130T080000Z"
    cancelled_id = f"{series['id']}_20261207T080000Z"
    emulator.patch_event(
        USER,
        moved_id,
        {
            "start": {"dateTime": "2026-12-01T10:00:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2026-12-01T10:15:00", "timeZone": "Europe/Berlin"},
        },
    )
    emulator.delete_event(USER, cancelled_id)

    result = await async_sync_calendar(api, USER, full.snapshot, now=NOW)

    assert kinds(result.changes) == [("updated", moved_id), ("cancelled", cancelled_id)]
    assert set(result.changes.updated[0].changed_fields) >= {"start", "end"}
    assert result.changes.cancelled[0].event["summary"] == "Standup"
    assert result.snapshot.events[cancelled_id]["status"] == "cancelled"

    emulator.delete_event(USER, series["id"])
    gone = await async_sync_calendar(api, USER, result.snapshot, now=NOW)

    assert kinds(gone.changes) == [("cancelled", series["id"])]
    assert gone.snapshot.events == {}


async def test_gone_sync_token_recovers_without_lost_or_doubled_changes(
    api: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    emulator = calendar_emulator
    kept = emulator.insert_event(USER, body("Kept", START))
    edited = emulator.insert_event(USER, body("Edited", START + timedelta(days=1)))
    deleted = emulator.insert_event(USER, body("Deleted", START + timedelta(days=2)))
    past = emulator.insert_event(USER, body("Long ago", NOW - timedelta(days=400)))
    window = timedelta(days=365)
    # The first sync had a wider window than now: the old event is out of it.
    first = await async_sync_calendar(api, USER, CalendarSnapshot(), now=NOW)
    assert past["id"] in first.snapshot.events

    emulator.patch_event(USER, edited["id"], {"location": "Room 5"})
    emulator.delete_event(USER, deleted["id"])
    added = emulator.insert_event(USER, body("Added", START + timedelta(days=3)))
    emulator.invalidate_sync_tokens(USER)
    source = SmallPages(api, size=250)

    recovered = await async_sync_calendar(
        source, USER, first.snapshot, now=NOW, window=window
    )

    assert recovered.full_sync
    # One refused incremental request, then one full listing.
    assert recovered.requests == 2
    assert source.calls[1]["sync_token"] is None
    assert source.calls[1]["time_min"] == NOW - window
    assert kinds(recovered.changes) == [
        ("created", added["id"]),
        ("updated", edited["id"]),
        ("cancelled", deleted["id"]),
    ]
    assert recovered.changes.updated[0].changed_fields == ("location",)
    # The old event is outside the window now: pruned, without an announcement.
    assert set(recovered.snapshot.events) == {kept["id"], edited["id"], added["id"]}

    after = await async_sync_calendar(api, USER, recovered.snapshot, now=NOW)

    assert not after.full_sync
    assert len(after.changes) == 0


async def test_full_listing_keeps_unchanged_events_and_compares_in_the_executor(
    api: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    """A full listing keeps the stored object of each event Google did not change.

    Only the changed ids are touched, so the views and the store redo nothing
    else; the whole listing is compared with the snapshot through the executor.
    """
    emulator = calendar_emulator
    kept = emulator.insert_event(USER, body("Kept", START))
    edited = emulator.insert_event(USER, body("Edited", START + timedelta(days=1)))
    first = await async_sync_calendar(api, USER, CalendarSnapshot(), now=NOW)
    emulator.patch_event(USER, edited["id"], {"location": "Room 5"})
    added = emulator.insert_event(USER, body("Added", START + timedelta(days=2)))
    emulator.invalidate_sync_tokens(USER)
    threads: list[bool] = []

    async def in_a_thread(func: Callable[..., Any], *args: Any) -> Any:
        def run() -> Any:
            threads.append(threading.current_thread() is threading.main_thread())
            return func(*args)

        return await asyncio.to_thread(run)

    recovered = await async_sync_calendar(
        api, USER, first.snapshot, now=NOW, executor=in_a_thread
    )
    after = await async_sync_calendar(
        api, USER, recovered.snapshot, now=NOW, executor=in_a_thread
    )

    assert recovered.full_sync
    assert threads == [False]
    assert recovered.snapshot.events[kept["id"]] is first.snapshot.events[kept["id"]]
    assert recovered.touched == {edited["id"], added["id"]}
    assert kinds(recovered.changes) == [
        ("created", added["id"]),
        ("updated", edited["id"]),
    ]
    assert not after.full_sync
    assert after.touched == frozenset()
