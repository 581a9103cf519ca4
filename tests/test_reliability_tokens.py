"""Token problems: a rejected access token mid-sync, a revoked grant and its return."""

from __future__ import annotations

from datetime import datetime, timedelta
import time
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.google_calendar_sync.const import DOMAIN
from custom_components.google_calendar_sync.google.sync import PAGE_SIZE
from google_calendar_emulator import GoogleCalendarEmulator

from .conftest import ACCOUNT, CLIENT_ID
from .reliability_helpers import (
    Announcement,
    coordinator_of,
    fast_retries,
    google_state,
    make_entry,
    record_announcements,
    setup_entry,
    store_state,
    unload_entry,
)


def _timed(summary: str, start: datetime) -> dict[str, Any]:
    """Return a one-hour event body."""
    return {
        "summary": summary,
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
    }


def _seed(emulator: GoogleCalendarEmulator, count: int, start: datetime) -> None:
    """Create many events through the model (no HTTP, no notifications needed)."""
    for number in range(count):
        emulator.model.insert_event(
            None,
            ACCOUNT,
            _timed(f"Seed {number}", start + timedelta(hours=number % 2000)),
        )


def _token_requests(emulator: GoogleCalendarEmulator) -> int:
    """Return how many token-endpoint requests the emulator answered."""
    return sum(1 for request in emulator.requests if request.path == "/token")


async def test_access_token_rejected_between_pages_refreshes_once_and_continues(
    hass: HomeAssistant,
    setup_credentials: None,
    calendar_emulator: GoogleCalendarEmulator,
    now: datetime,
) -> None:
    """The 401 on page two costs one refresh and one retry; no page is lost."""
    entry = make_entry(calendar_emulator, [ACCOUNT])
    await setup_entry(hass, entry)
    coordinator = coordinator_of(entry, ACCOUNT)
    _seed(calendar_emulator, PAGE_SIZE + 300, now)
    calendar_emulator.invalidate_sync_tokens(ACCOUNT)  # a full, paged listing
    token_before = entry.data["token"]["access_token"]
    calendar_emulator.requests.clear()

    model = calendar_emulator.model
    list_events = model.list_events
    pages: list[bool] = []

    def _expire_after_first_page(*args: Any, **kwargs: Any) -> dict[str, Any]:
        page = list_events(*args, **kwargs)
        pages.append("nextPageToken" in page)
        if len(pages) == 1:
            calendar_emulator.expire_access_tokens()
        return page

    with (
        fast_retries(),
        patch.object(model, "list_events", _expire_after_first_page),
    ):
        await coordinator.async_sync()

    assert pages[0] is True  # the token expired between two pages
    statuses = [r.status for r in calendar_emulator.requests if "/events" in r.path]
    assert statuses.count(401) == 1
    assert _token_requests(calendar_emulator) == 1
    assert entry.data["token"]["access_token"] != token_before
    assert coordinator.last_update_success
    assert store_state(coordinator.snapshot) == google_state(calendar_emulator, ACCOUNT)
    await unload_entry(hass, entry)


async def test_revoked_grant_stops_syncing_and_resumes_after_reauth(
    hass: HomeAssistant,
    setup_credentials: None,
    calendar_emulator: GoogleCalendarEmulator,
    now: datetime,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Revoked: reauth starts and polling stops; re-granted: nothing is lost."""
    entry = make_entry(calendar_emulator, [ACCOUNT])
    kept = calendar_emulator.insert_event(ACCOUNT, _timed("Before", now))
    await setup_entry(hass, entry)
    coordinator = coordinator_of(entry, ACCOUNT)
    assert kept["id"] in coordinator.snapshot.events

    calendar_emulator.revoke_refresh_token(entry.data["token"]["refresh_token"])
    calendar_emulator.expire_access_tokens()
    meanwhile = calendar_emulator.insert_event(ACCOUNT, _timed("Meanwhile", now))
    calendar_emulator.requests.clear()

    with record_announcements(hass) as announced:
        # The poll finds the grant revoked.
        freezer.tick(timedelta(minutes=16))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)

        assert not coordinator.last_update_success
        flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
        assert _token_requests(calendar_emulator) == 1  # one refresh attempt
        # Reads still answer from the store.
        assert kept["id"] in coordinator.snapshot.events

        # No more polling against a dead grant.
        requests = len(calendar_emulator.requests)
        for _ in range(3):
            freezer.tick(timedelta(minutes=16))
            async_fire_time_changed(hass)
            await hass.async_block_till_done(wait_background_tasks=True)
        assert len(calendar_emulator.requests) == requests

        # The user signs in again: Home Assistant stores the new token and reloads.
        token = calendar_emulator.issue_tokens(ACCOUNT, CLIENT_ID)
        hass.config_entries.async_update_entry(
            entry,
            data={
                **entry.data,
                "token": {**token, "expires_at": time.time() + token["expires_in"]},
            },
        )
        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    coordinator = coordinator_of(entry, ACCOUNT)
    assert coordinator.last_update_success
    assert store_state(coordinator.snapshot) == google_state(calendar_emulator, ACCOUNT)
    # Resumed from the stored sync token: the change made meanwhile is news.
    assert announced == [Announcement(meanwhile["id"], "created", meanwhile["etag"])]
    lists = [
        r.query
        for r in calendar_emulator.requests
        if r.path.endswith("/events") and r.status == 200
    ]
    assert lists
    assert all("syncToken" in query for query in lists)
    await unload_entry(hass, entry)
