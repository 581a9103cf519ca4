"""Tests of the views a coordinator publishes: built in the executor or updated in place."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
import threading
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
import pytest

from custom_components.google_calendar_sync import views as views_module
from custom_components.google_calendar_sync.coordinator import CalendarSyncCoordinator
from custom_components.google_calendar_sync.google.event_views import CalendarViews
from google_calendar_emulator import GoogleCalendarEmulator

from .common import summaries_of_the_day, timed_body
from .conftest import ACCOUNT, GetEvents


async def test_many_writes_update_the_timeline_in_place_once(
    hass: HomeAssistant,
    coordinator: CalendarSyncCoordinator,
    get_events: GetEvents,
    now: datetime,
) -> None:
    """A bulk of our own writes and deletions: no rebuild, one update."""
    written = [
        {
            "id": f"bulk{index}",
            "etag": f'"{index}"',
            "status": "confirmed",
            **timed_body(f"Bulk {index}", now + timedelta(hours=index + 1)),
        }
        for index in range(50)
    ]
    coordinator.async_apply_remote_writes(written)
    updates: list[None] = []
    unsub = coordinator.async_add_listener(lambda: updates.append(None))
    builds: list[None] = []
    build = CalendarViews.build

    def counting_build(*args: Any, **kwargs: Any) -> CalendarViews:
        builds.append(None)
        return build(*args, **kwargs)

    with patch.object(CalendarViews, "build", counting_build):
        coordinator.async_apply_remote_writes(
            [{**event, "summary": "Renamed"} for event in written[:40]],
            deleted_ids=[event["id"] for event in written[40:]],
        )
    unsub()

    assert (len(builds), len(updates)) == (0, 1)
    events = await get_events(now, now + timedelta(days=3))
    assert [event["summary"] for event in events] == ["Renamed"] * 40


async def test_timeline_is_built_off_the_loop_and_keeps_writes_made_meanwhile(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    coordinator: CalendarSyncCoordinator,
    get_events: GetEvents,
    now: datetime,
) -> None:
    """A sync of many changes builds the timeline in the executor; a write then survives.

    Syncs of at most REBUILD_ABOVE changes update the timeline in place; here
    one change counts as many.
    """
    calendar_emulator.insert_event(
        ACCOUNT, timed_body("Later", now + timedelta(days=3))
    )
    written = {
        "id": "meanwhile1",
        "etag": '"1"',
        "status": "confirmed",
        **timed_body("Written meanwhile", now + timedelta(hours=2)),
    }
    threads: list[bool] = []
    build = CalendarViews.build

    def build_while_a_write_lands(*args: Any, **kwargs: Any) -> CalendarViews:
        threads.append(hass.loop_thread_id == threading.get_ident())
        asyncio.run_coroutine_threadsafe(write(), hass.loop).result()
        return build(*args, **kwargs)

    async def write() -> None:
        coordinator.async_apply_remote_write(written)

    with (
        patch.object(views_module, "REBUILD_ABOVE", 0),
        patch.object(CalendarViews, "build", build_while_a_write_lands),
    ):
        await coordinator.async_sync()

    assert threads == [False]
    assert await summaries_of_the_day(get_events, now) == ["Written meanwhile"]


@pytest.mark.parametrize("first_fails", [False, True])
async def test_the_newest_build_is_published_whichever_finishes_last(  # noqa: PLR0917
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    coordinator: CalendarSyncCoordinator,
    get_events: GetEvents,
    now: datetime,
    first_fails: bool,
) -> None:
    """Two syncs in quick succession each build the timeline; the older one is late.

    The views of the later sync are published, and stay so when the older
    build finishes after them, or fails: both syncs answer with the newest.
    """
    event = calendar_emulator.insert_event(ACCOUNT, timed_body("Original", now))
    await coordinator.async_sync()
    first_started, first_go_on = threading.Event(), threading.Event()
    builds: list[None] = []
    build = CalendarViews.build

    def first_build_held(*args: Any, **kwargs: Any) -> CalendarViews:
        builds.append(None)
        if len(builds) == 1:
            first_started.set()
            first_go_on.wait(timeout=10)
            if first_fails:
                raise RuntimeError("out of memory")
        return build(*args, **kwargs)

    with (
        patch.object(views_module, "REBUILD_ABOVE", 0),
        patch.object(CalendarViews, "build", first_build_held),
    ):
        calendar_emulator.patch_event(ACCOUNT, event["id"], {"summary": "First"})
        first = hass.async_create_task(coordinator.async_sync())
        await hass.async_add_executor_job(first_started.wait, 10)
        calendar_emulator.patch_event(ACCOUNT, event["id"], {"summary": "Second"})
        await coordinator.async_sync()
        assert await summaries_of_the_day(get_events, now) == ["Second"]
        first_go_on.set()
        await first

    assert len(builds) == 2
    assert await summaries_of_the_day(get_events, now) == ["Second"]


async def test_a_failed_build_fails_the_sync_and_the_next_sync_builds_again(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    coordinator: CalendarSyncCoordinator,
    get_events: GetEvents,
    now: datetime,
) -> None:
    """The change a failed build left out shows after the next sync."""
    event = calendar_emulator.insert_event(ACCOUNT, timed_body("Original", now))
    await coordinator.async_sync()
    calendar_emulator.patch_event(ACCOUNT, event["id"], {"summary": "Changed"})

    def failing_build(*args: Any, **kwargs: Any) -> CalendarViews:
        raise RuntimeError("out of memory")

    with (
        patch.object(views_module, "REBUILD_ABOVE", 0),
        patch.object(CalendarViews, "build", failing_build),
        pytest.raises(RuntimeError),
    ):
        await coordinator.async_sync()
    assert await summaries_of_the_day(get_events, now) == ["Original"]

    assert len(await coordinator.async_sync()) == 0
    assert await summaries_of_the_day(get_events, now) == ["Changed"]


async def test_a_write_landing_as_a_build_ends_is_in_the_published_views(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    coordinator: CalendarSyncCoordinator,
    get_events: GetEvents,
    now: datetime,
) -> None:
    """The sync resumes a loop turn after its build ends; a write meanwhile shows.

    The build is held in the executor so the sync really waits for it; the
    write is queued on the loop as the build's last in-place update ends, before
    the sync can publish the new views.
    """
    calendar_emulator.insert_event(
        ACCOUNT, timed_body("Later", now + timedelta(days=3))
    )
    written = {
        "id": "meanwhile1",
        "etag": '"1"',
        "status": "confirmed",
        **timed_body("Written meanwhile", now + timedelta(hours=2)),
    }
    started, go_on = threading.Event(), threading.Event()
    build, apply = CalendarViews.build, CalendarViews.apply
    queued: list[None] = []

    def held_build(*args: Any, **kwargs: Any) -> CalendarViews:
        started.set()
        go_on.wait(timeout=10)
        return build(*args, **kwargs)

    def apply_then_write(views: CalendarViews, events: Any, ids: Any) -> None:
        apply(views, events, ids)
        if views is not coordinator.data and not queued:
            queued.append(None)
            hass.loop.call_soon(coordinator.async_apply_remote_write, written)

    with (
        patch.object(views_module, "REBUILD_ABOVE", 0),
        patch.object(CalendarViews, "build", held_build),
        patch.object(CalendarViews, "apply", apply_then_write),
    ):
        sync = hass.async_create_task(coordinator.async_sync())
        await hass.async_add_executor_job(started.wait, 10)
        go_on.set()
        await sync

    assert queued
    assert await summaries_of_the_day(get_events, now) == ["Written meanwhile"]
