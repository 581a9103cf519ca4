"""Coordinator: full then incremental sync, bus events, coalescing, errors, restart."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
import threading
from typing import Any
from unittest.mock import MagicMock, patch

from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.google_calendar_sync.const import (
    EVENT_CHANGED,
    POLL_INTERVAL,
    SAFETY_NET_INTERVAL,
)
from custom_components.google_calendar_sync.coordinator import CalendarSyncCoordinator
from custom_components.google_calendar_sync.google import sync as sync_module
from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.errors import (
    GoogleNotFoundError,
    GoogleRateLimitError,
    GoogleTransientError,
)
from google_calendar_emulator import GoogleCalendarEmulator
from google_calendar_emulator.faults import FaultKind

from .common import summaries_of_the_day, timed_body
from .conftest import ACCOUNT, GetEvents

EVENTS_PATH = f"/calendars/{ACCOUNT}/events"


def _list_requests(emulator: GoogleCalendarEmulator) -> list[dict[str, list[str]]]:
    """Return the query of every events.list request."""
    return [
        entry.query
        for entry in emulator.requests.matching("GET", EVENTS_PATH)
        if entry.path.endswith("/events")
    ]


@pytest.mark.usefixtures("setup_credentials")
async def test_first_full_sync_fires_no_bus_event(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    config_entry: MockConfigEntry,
    get_events: GetEvents,
    now: datetime,
) -> None:
    """What is already in Google when the entry is set up is not news."""
    calendar_emulator.insert_event(
        ACCOUNT, timed_body("Dentist", now + timedelta(hours=2))
    )
    changes = async_capture_events(hass, EVENT_CHANGED)

    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    assert changes == []
    assert await summaries_of_the_day(get_events, now) == ["Dentist"]
    assert await hass.config_entries.async_unload(config_entry.entry_id)


async def test_edit_in_google_appears_and_fires_one_updated_event(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    coordinator: CalendarSyncCoordinator,
    calendar_entity_id: Callable[[str], str],
    get_events: GetEvents,
) -> None:
    """A poll picks up an edit made in Google and announces exactly that edit."""
    now = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    event = calendar_emulator.insert_event(
        ACCOUNT, timed_body("Standup", now + timedelta(hours=1), location="Room 1")
    )
    await coordinator.async_sync()
    changes = async_capture_events(hass, EVENT_CHANGED)
    calendar_emulator.requests.clear()

    calendar_emulator.patch_event(ACCOUNT, event["id"], {"summary": "Retro"})
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=16))
    # Scheduled refreshes run as background tasks.
    await hass.async_block_till_done(wait_background_tasks=True)

    assert len(changes) == 1
    data = changes[0].data
    assert data["change"] == "updated"
    assert data["entity_id"] == calendar_entity_id(ACCOUNT)
    assert data["calendar_id"] == ACCOUNT
    assert data["event_id"] == event["id"]
    assert data["summary"] == "Retro"
    assert data["location"] == "Room 1"
    assert data["start"] == event["start"]["dateTime"]
    assert data["end"] == event["end"]["dateTime"]
    assert "summary" in data["changed_fields"]
    assert data["event_kind"] == "default"
    assert data["color"] == "#9fe1e7"  # no color of its own: the calendar's
    assert data["response_status"] is None
    # The poll was incremental.
    assert all("syncToken" in query for query in _list_requests(calendar_emulator))
    assert await summaries_of_the_day(get_events, now) == ["Retro"]


async def test_changes_carry_type_color_and_the_users_answer(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    coordinator: CalendarSyncCoordinator,
    now: datetime,
) -> None:
    """Automations can ignore declined invitations or react to an out of office."""
    changes = async_capture_events(hass, EVENT_CHANGED)
    invitation = calendar_emulator.insert_event(
        ACCOUNT,
        timed_body(
            "Board meeting",
            now + timedelta(hours=1),
            colorId="11",
            attendees=[
                {"email": "boss@example.com", "responseStatus": "accepted"},
                {"email": ACCOUNT, "responseStatus": "needsAction"},
            ],
        ),
    )
    calendar_emulator.insert_event(
        ACCOUNT, timed_body("Away", now + timedelta(hours=3), eventType="outOfOffice")
    )
    await coordinator.async_sync()
    calendar_emulator.patch_event(
        ACCOUNT,
        invitation["id"],
        {
            "attendees": [
                {"email": "boss@example.com", "responseStatus": "accepted"},
                {"email": ACCOUNT, "responseStatus": "declined"},
            ]
        },
    )
    await coordinator.async_sync()
    await hass.async_block_till_done()

    assert [
        (
            c.data["change"],
            c.data["summary"],
            c.data["event_kind"],
            c.data["color"],
            c.data["response_status"],
        )
        for c in changes
    ] == [
        ("created", "Board meeting", "default", "#dc2127", "needs_action"),
        ("created", "Away", "out_of_office", "#9fe1e7", None),
        ("updated", "Board meeting", "default", "#dc2127", "declined"),
    ]


async def test_created_and_deleted_events_are_announced(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    coordinator: CalendarSyncCoordinator,
    get_events: GetEvents,
    now: datetime,
) -> None:
    """A new event fires `created`, its deletion fires `cancelled` and hides it."""
    changes = async_capture_events(hass, EVENT_CHANGED)
    event = calendar_emulator.insert_event(
        ACCOUNT, timed_body("Lunch", now + timedelta(hours=3), description="Pizza")
    )
    created = await coordinator.async_sync()
    assert len(created) == 1
    calendar_emulator.delete_event(ACCOUNT, event["id"])
    await coordinator.async_sync()
    await hass.async_block_till_done()

    assert [(c.data["change"], c.data["event_id"]) for c in changes] == [
        ("created", event["id"]),
        ("cancelled", event["id"]),
    ]
    assert changes[0].data["description"] == "Pizza"
    assert changes[0].data["changed_fields"] == []
    assert changes[1].data["summary"] == "Lunch"
    assert await get_events(now, now + timedelta(days=1)) == []


async def test_concurrent_syncs_coalesce(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    coordinator: CalendarSyncCoordinator,
    now: datetime,
) -> None:
    """Many callers at once cause one sync in flight and at most one more."""
    calendar_emulator.insert_event(ACCOUNT, timed_body("A", now))
    calendar_emulator.requests.clear()

    results = await asyncio.gather(*(coordinator.async_sync() for _ in range(10)))

    assert 1 <= len(_list_requests(calendar_emulator)) <= 2
    # The first caller saw the new event; the queued sync found nothing new and
    # everyone who queued behind it shares that one result.
    assert len(results[0]) == 1
    assert all(result is results[1] for result in results[1:])


async def test_failed_sync_is_shared_by_queued_callers(
    hass: HomeAssistant, coordinator: CalendarSyncCoordinator
) -> None:
    """Callers sharing a queued sync all see its failure."""
    error = GoogleTransientError(503, "backendError", "down")
    with patch.object(GoogleCalendarApi, "list_events", side_effect=error):
        results = await asyncio.gather(
            *(coordinator.async_sync() for _ in range(3)), return_exceptions=True
        )
    assert all(isinstance(result, UpdateFailed) for result in results)
    assert not coordinator.last_update_success


async def test_restart_resumes_from_stored_sync_token(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    coordinator: CalendarSyncCoordinator,
    get_events: GetEvents,
    now: datetime,
) -> None:
    """After a reload the calendar continues incrementally, with no full listing."""
    entry = coordinator.config_entry
    calendar_emulator.insert_event(
        ACCOUNT, timed_body("Kept", now + timedelta(hours=1))
    )
    await coordinator.async_sync()
    changes = async_capture_events(hass, EVENT_CHANGED)
    calendar_emulator.requests.clear()

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    queries = _list_requests(calendar_emulator)
    assert queries
    assert all("syncToken" in query for query in queries)
    assert changes == []
    assert await summaries_of_the_day(get_events, now) == ["Kept"]


async def test_expired_sync_token_loses_and_doubles_nothing(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    coordinator: CalendarSyncCoordinator,
    now: datetime,
) -> None:
    """A 410 leads to one full resync that reports only the real change."""
    kept = calendar_emulator.insert_event(ACCOUNT, timed_body("Kept", now))
    edited = calendar_emulator.insert_event(ACCOUNT, timed_body("Old", now))
    await coordinator.async_sync()
    changes = async_capture_events(hass, EVENT_CHANGED)

    calendar_emulator.invalidate_sync_tokens(ACCOUNT)
    calendar_emulator.patch_event(ACCOUNT, edited["id"], {"summary": "New"})
    await coordinator.async_sync()
    await coordinator.async_sync()
    await hass.async_block_till_done()

    assert [(c.data["change"], c.data["event_id"]) for c in changes] == [
        ("updated", edited["id"])
    ]
    assert kept["id"] in coordinator.snapshot.events


async def test_rate_limit_and_server_errors_recover_through_backoff(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    coordinator: CalendarSyncCoordinator,
    now: datetime,
    no_backoff: MagicMock,
) -> None:
    """429 and 503 answers are retried with backoff and the sync succeeds."""
    calendar_emulator.insert_event(ACCOUNT, timed_body("After the storm", now))
    calendar_emulator.faults.fail_next(429, path_contains=EVENTS_PATH)
    calendar_emulator.faults.fail_next(503, path_contains=EVENTS_PATH)
    calendar_emulator.faults.fail_next(403, path_contains=EVENTS_PATH)
    calendar_emulator.requests.clear()

    changes = await coordinator.async_sync()

    assert [entry.status for entry in calendar_emulator.requests] == [
        429,
        503,
        403,
        200,
    ]
    assert [call.args[-1] for call in no_backoff.call_args_list] == [0, 1, 2]
    assert len(changes) == 1
    assert coordinator.last_update_success


async def test_persistent_failure_makes_calendar_unavailable_until_recovery(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    coordinator: CalendarSyncCoordinator,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """A sync that keeps failing marks the entity unavailable; the next success heals."""
    entity_id = calendar_entity_id(ACCOUNT)
    calendar_emulator.faults.fail_next(500, times=100, path_contains=EVENTS_PATH)
    with pytest.raises(UpdateFailed) as failure:
        await coordinator.async_sync()
    assert failure.value.translation_key == "sync_failed"
    assert hass.states.get(entity_id).state == STATE_UNAVAILABLE

    calendar_emulator.faults.faults.clear()
    await coordinator.async_sync()
    assert hass.states.get(entity_id).state != STATE_UNAVAILABLE


@pytest.mark.parametrize(
    "kind", [FaultKind.NOT_UTF8, FaultKind.HTML, FaultKind.TRUNCATED, FaultKind.EMPTY]
)
async def test_garbage_from_google_fails_the_sync_without_applying_anything(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    coordinator: CalendarSyncCoordinator,
    now: datetime,
    kind: FaultKind,
) -> None:
    """A body that is not Google's JSON is a translated transient failure.

    Nothing of it is stored or announced and the sync token stays, so the next
    sync announces the change exactly once.
    """
    token = coordinator.snapshot.sync_token
    calendar_emulator.insert_event(ACCOUNT, timed_body("Behind a proxy", now))
    changes = async_capture_events(hass, EVENT_CHANGED)
    calendar_emulator.faults.add(kind, times=5, path_contains=EVENTS_PATH)

    with pytest.raises(UpdateFailed) as failure:
        await coordinator.async_sync()

    assert failure.value.translation_key == "sync_failed"
    assert coordinator.snapshot.sync_token == token
    assert coordinator.snapshot.events == {}
    await hass.async_block_till_done()
    assert changes == []

    await coordinator.async_sync()
    await hass.async_block_till_done()
    assert [change.data["summary"] for change in changes] == ["Behind a proxy"]


@pytest.mark.parametrize(
    ("error", "translation_key"),
    [
        (GoogleNotFoundError(404, "notFound", "gone"), "calendar_not_found"),
        (GoogleRateLimitError(403, "rateLimitExceeded", "slow"), "rate_limited"),
    ],
)
async def test_api_errors_are_translated(
    hass: HomeAssistant,
    coordinator: CalendarSyncCoordinator,
    error: Exception,
    translation_key: str,
) -> None:
    """Each kind of API failure has its own translated message."""
    with (
        patch.object(GoogleCalendarApi, "list_events", side_effect=error),
        pytest.raises(UpdateFailed) as failure,
    ):
        await coordinator.async_sync()
    assert failure.value.translation_key == translation_key


async def test_revoked_refresh_token_starts_reauth(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
    coordinator: CalendarSyncCoordinator,
) -> None:
    """When Google revokes the grant, the next sync asks the user to sign in again."""
    entry = setup_integration
    calendar_emulator.revoke_refresh_token(entry.data["token"]["refresh_token"])
    calendar_emulator.expire_access_tokens()
    # Home Assistant refreshes a token only when it believes it expired.
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "token": {**entry.data["token"], "expires_at": 0}}
    )

    await coordinator.async_request_sync()
    await hass.async_block_till_done()

    assert not coordinator.last_update_success
    flows = hass.config_entries.flow.async_progress_by_handler("google_calendar_sync")
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_auth_error_from_the_api_starts_reauth(
    hass: HomeAssistant, coordinator: CalendarSyncCoordinator
) -> None:
    """A 401 the client cannot fix by refreshing maps to ConfigEntryAuthFailed."""
    from custom_components.google_calendar_sync.google.errors import GoogleAuthError

    with (
        patch.object(
            GoogleCalendarApi,
            "list_events",
            side_effect=GoogleAuthError(401, "authError", "no"),
        ),
        pytest.raises(ConfigEntryAuthFailed),
    ):
        await coordinator.async_sync()
    await hass.async_block_till_done()
    assert hass.config_entries.flow.async_progress_by_handler("google_calendar_sync")


async def test_push_switches_between_poll_and_safety_net_interval(
    hass: HomeAssistant, coordinator: CalendarSyncCoordinator
) -> None:
    """Live push polls every few hours; without push every 15 minutes (both fixed)."""
    assert coordinator.update_interval == POLL_INTERVAL == timedelta(minutes=15)
    coordinator.set_push_active(True)
    assert coordinator.push_active
    assert coordinator.update_interval == SAFETY_NET_INTERVAL == timedelta(hours=6)
    coordinator.set_push_active(False)
    assert coordinator.update_interval == POLL_INTERVAL


@pytest.mark.usefixtures("setup_integration")
async def test_update_entity_syncs_at_once(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    calendar_entity_id: Callable[[str], str],
    get_events: GetEvents,
    now: datetime,
) -> None:
    """homeassistant.update_entity fetches Google's changes now and announces them."""
    assert await async_setup_component(hass, "homeassistant", {})
    calendar_emulator.insert_event(
        ACCOUNT, timed_body("Dentist", now + timedelta(hours=2))
    )
    changes = async_capture_events(hass, EVENT_CHANGED)

    await hass.services.async_call(
        "homeassistant",
        "update_entity",
        {"entity_id": calendar_entity_id(ACCOUNT)},
        blocking=True,
    )
    await hass.async_block_till_done()

    assert await summaries_of_the_day(get_events, now) == ["Dentist"]
    assert [event.data["summary"] for event in changes] == ["Dentist"]


async def test_update_entity_brings_an_unavailable_calendar_back(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    coordinator: CalendarSyncCoordinator,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """An unavailable calendar is synced on request, not skipped."""
    assert await async_setup_component(hass, "homeassistant", {})
    entity_id = calendar_entity_id(ACCOUNT)
    calendar_emulator.faults.fail_next(500, times=100, path_contains=EVENTS_PATH)
    with pytest.raises(UpdateFailed):
        await coordinator.async_sync()
    assert hass.states.get(entity_id).state == STATE_UNAVAILABLE
    calendar_emulator.faults.faults.clear()

    await hass.services.async_call(
        "homeassistant", "update_entity", {"entity_id": entity_id}, blocking=True
    )
    await hass.async_block_till_done()

    assert hass.states.get(entity_id).state != STATE_UNAVAILABLE


async def test_our_own_writes_show_at_once_and_are_not_reported_again(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    coordinator: CalendarSyncCoordinator,
    get_events: GetEvents,
    now: datetime,
) -> None:
    """Google's answer to our write is stored; the next sync reports nothing."""
    api = coordinator.api
    changes = async_capture_events(hass, EVENT_CHANGED)

    created = await api.insert_event(
        ACCOUNT, timed_body("From HA", now + timedelta(hours=1))
    )
    coordinator.async_apply_remote_write(created)
    assert await summaries_of_the_day(get_events, now) == ["From HA"]
    await coordinator.async_sync()

    await api.delete_event(ACCOUNT, created["id"])
    coordinator.async_apply_remote_delete(created["id"])
    assert await get_events(now, now + timedelta(days=1)) == []
    await hass.async_block_till_done()
    assert changes == []


async def test_deleting_a_series_forgets_its_exceptions(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    coordinator: CalendarSyncCoordinator,
    now: datetime,
) -> None:
    """A deleted recurring master takes its stored exceptions with it."""
    master = calendar_emulator.insert_event(
        ACCOUNT,
        {
            **timed_body("Daily", now + timedelta(days=1)),
            "start": {
                "dateTime": (now + timedelta(days=1)).isoformat(),
                "timeZone": "UTC",
            },
            "end": {
                "dateTime": (now + timedelta(days=1, hours=1)).isoformat(),
                "timeZone": "UTC",
            },
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"],
        },
    )
    instance_id = (
        f"{master['id']}_{(now + timedelta(days=2)).strftime('%Y%m%dT%H%M%SZ')}"
    )
    calendar_emulator.patch_event(ACCOUNT, instance_id, {"summary": "Moved"})
    await coordinator.async_sync()
    assert instance_id in coordinator.snapshot.events

    coordinator.async_apply_remote_delete(master["id"])
    assert coordinator.snapshot.events == {}

    cancelled = {**master, "status": "cancelled"}
    coordinator.async_apply_remote_write(cancelled)
    assert master["id"] not in coordinator.snapshot.events


async def test_full_sync_compares_in_the_executor_and_updates_the_views_in_place(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    coordinator: CalendarSyncCoordinator,
    get_events: GetEvents,
    now: datetime,
) -> None:
    """A 410 lists everything again; the loop only handles what changed.

    The whole listing is compared with the snapshot in the executor; unchanged
    events keep their stored object, and the views are updated in place.
    """
    kept = calendar_emulator.insert_event(ACCOUNT, timed_body("Kept", now))
    edited = calendar_emulator.insert_event(ACCOUNT, timed_body("Old", now))
    await coordinator.async_sync()
    stored = coordinator.snapshot.events[kept["id"]]
    views = coordinator.data
    calendar_emulator.invalidate_sync_tokens(ACCOUNT)
    calendar_emulator.patch_event(ACCOUNT, edited["id"], {"summary": "New"})
    threads: list[bool] = []
    apply_full = sync_module.apply_full

    def recording_apply_full(*args: Any, **kwargs: Any) -> Any:
        threads.append(hass.loop_thread_id == threading.get_ident())
        return apply_full(*args, **kwargs)

    with patch.object(sync_module, "apply_full", recording_apply_full):
        changes = await coordinator.async_sync()

    assert threads == [False]
    assert [change.event["id"] for change in changes] == [edited["id"]]
    assert coordinator.snapshot.events[kept["id"]] is stored
    assert coordinator.data is views
    assert sorted(await summaries_of_the_day(get_events, now)) == ["Kept", "New"]


async def test_a_write_stored_while_a_full_sync_compares_is_kept_and_not_news(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    coordinator: CalendarSyncCoordinator,
    get_events: GetEvents,
    now: datetime,
) -> None:
    """Our write lands while the executor compares a full listing made before it.

    The comparison goes through the stored events as the write adds one to
    them; the listing does not hold it: the write is kept, not announced, and
    the next sync (a full one, to be sure) finds it in Google.
    """
    calendar_emulator.insert_event(
        ACCOUNT, timed_body("Booked before", now + timedelta(days=2))
    )
    await coordinator.async_sync()
    calendar_emulator.invalidate_sync_tokens(ACCOUNT)
    changes = async_capture_events(hass, EVENT_CHANGED)
    is_exception = sync_module.is_exception
    written = threading.Event()

    def write_while_comparing(event: dict[str, Any]) -> bool:
        # Called for each stored event the comparison goes through, in the
        # executor (no listed event is cancelled): the first one writes.
        if hass.loop_thread_id != threading.get_ident() and not written.is_set():
            written.set()
            asyncio.run_coroutine_threadsafe(write(), hass.loop).result()
        return is_exception(event)

    async def write() -> None:
        async with coordinator.async_own_writes():
            coordinator.async_apply_remote_write(
                calendar_emulator.insert_event(
                    ACCOUNT, timed_body("Written meanwhile", now + timedelta(hours=2))
                )
            )

    with patch.object(sync_module, "is_exception", write_while_comparing):
        await coordinator.async_sync()
    assert written.is_set()
    assert await summaries_of_the_day(get_events, now) == ["Written meanwhile"]
    await coordinator.async_sync()
    await hass.async_block_till_done()

    assert changes == []
    assert await summaries_of_the_day(get_events, now) == ["Written meanwhile"]


async def test_cancelled_queued_sync_does_not_block_later_syncs(
    hass: HomeAssistant, coordinator: CalendarSyncCoordinator
) -> None:
    """A queued caller that gives up leaves the queue free for the next one."""
    release = asyncio.Event()
    original = GoogleCalendarApi.list_events

    async def _slow(api: GoogleCalendarApi, *args: Any, **kwargs: Any) -> Any:
        await release.wait()
        return await original(api, *args, **kwargs)

    with patch.object(GoogleCalendarApi, "list_events", _slow):
        running = hass.async_create_task(coordinator.async_sync())
        queued = hass.async_create_task(coordinator.async_sync())
        await asyncio.sleep(0)  # both start: one syncs, one waits its turn
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await queued
        release.set()
        await running
    assert len(await coordinator.async_sync()) == 0
