"""Push for an entry: Google's notifications become coalesced syncs and bus events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import timedelta
from typing import Any

from aiohttp import ClientSession
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.google_calendar_sync.const import (
    CONF_CALENDARS,
    CONF_PUSH_ENABLED,
    DOMAIN,
    EVENT_CHANGED,
)
from custom_components.google_calendar_sync.push_status import push_issue_id
from google_calendar_emulator import GoogleCalendarEmulator

from .common import loaded_entry, settle_notifications, timed_event
from .conftest import ACCOUNT, WEBHOOK_ID


@pytest.fixture
def entry_options(entry_options: dict[str, Any]) -> dict[str, Any]:
    """Turn push on for the integration tests of this module."""
    return {**entry_options, CONF_PUSH_ENABLED: True}


@pytest.fixture
async def http_views(hass: HomeAssistant, setup_credentials: None) -> None:
    """Set up what registers HTTP views: the router freezes once the server runs."""
    assert await async_setup_component(hass, "calendar", {})


@pytest.fixture
async def integration(
    hass: HomeAssistant,
    http_views: None,
    hass_url: str,
    config_entry: MockConfigEntry,
) -> AsyncGenerator[MockConfigEntry]:
    """Set up the integration with push once Home Assistant serves webhooks."""
    async with loaded_entry(hass, config_entry):
        yield config_entry


def _list_requests(emulator: GoogleCalendarEmulator) -> int:
    """Return how many events.list requests the emulator answered."""
    return sum(
        1
        for request in emulator.requests.matching("GET", "/events")
        if "/events/" not in request.path
    )


async def _settle_syncs(hass: HomeAssistant, emulator: GoogleCalendarEmulator) -> None:
    """Wait for notifications and the syncs they cause, queued ones included."""
    await emulator.notifications_idle()
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_edit_in_google_fires_bus_event_without_polling(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    integration: MockConfigEntry,
) -> None:
    """A change in Google reaches the bus through push alone."""
    await settle_notifications(hass, calendar_emulator)
    coordinator = integration.runtime_data.coordinators[ACCOUNT]
    assert coordinator.push_active
    assert coordinator.update_interval == timedelta(hours=6)  # safety net only
    events = async_capture_events(hass, EVENT_CHANGED)
    lists_before = _list_requests(calendar_emulator)

    created = calendar_emulator.insert_event(ACCOUNT, timed_event("Dentist"))
    await _settle_syncs(hass, calendar_emulator)

    assert [(e.data["event_id"], e.data["change"]) for e in events] == [
        (created["id"], "created")
    ]
    assert _list_requests(calendar_emulator) == lists_before + 1  # one incremental sync


async def test_duplicate_and_reordered_notifications_fire_each_change_once(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    integration: MockConfigEntry,
) -> None:
    """Duplicates and out-of-order messages never duplicate bus events."""
    await settle_notifications(hass, calendar_emulator)
    events = async_capture_events(hass, EVENT_CHANGED)
    faults = calendar_emulator.channels.faults  # type: ignore[attr-defined]
    faults.duplicate_next = 2
    first = calendar_emulator.insert_event(ACCOUNT, timed_event("One"))
    await _settle_syncs(hass, calendar_emulator)

    faults.reorder_next = 3  # held, then delivered newest first
    second = calendar_emulator.insert_event(ACCOUNT, timed_event("Two", 2))
    calendar_emulator.patch_event(ACCOUNT, first["id"], {"summary": "One, moved"})
    calendar_emulator.delete_event(ACCOUNT, second["id"])
    await _settle_syncs(hass, calendar_emulator)

    changes = [(e.data["event_id"], e.data["change"]) for e in events]
    assert len(changes) == len(set(changes))
    assert (first["id"], "created") in changes
    assert (first["id"], "updated") in changes
    # The second event may be seen created then cancelled, or only never: not twice.
    assert changes.count((second["id"], "created")) <= 1


async def test_burst_of_notifications_coalesces_into_two_syncs(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    integration: MockConfigEntry,
    hass_url: str,
) -> None:
    """A burst arriving during a sync causes one more sync and misses no change.

    (bench/bench_push.py sends 1,000; the debug event loop of tests is too slow.)
    """
    await settle_notifications(hass, calendar_emulator)
    events = async_capture_events(hass, EVENT_CHANGED)
    coordinator = integration.runtime_data.coordinators[ACCOUNT]
    channel = integration.runtime_data.stored.channels[ACCOUNT]
    headers = {
        "X-Goog-Channel-ID": channel.channel_id,
        "X-Goog-Channel-Token": channel.token,
        "X-Goog-Resource-ID": channel.resource_id,
        "X-Goog-Resource-State": "exists",
    }
    lists_before = _list_requests(calendar_emulator)
    gets_before = calendar_emulator.requests.count("GET", "/events")

    async def _notify(session: ClientSession, number: int) -> int:
        async with session.post(
            f"{hass_url}/api/webhook/{WEBHOOK_ID}",
            headers={**headers, "X-Goog-Message-Number": str(number + 2)},
        ) as response:
            return response.status

    # A write of ours in flight holds the first sync at its last page, as a slow
    # sync would be held, while the burst and a change in Google arrive.
    async with coordinator.async_own_writes(), ClientSession() as session:
        statuses = [await _notify(session, 0)]
        await calendar_emulator.requests.wait_for(gets_before + 1, "GET", "/events")
        statuses += await asyncio.gather(*(_notify(session, n) for n in range(1, 300)))
        calendar_emulator.insert_event(ACCOUNT, timed_event("During the burst"))
        await calendar_emulator.notifications_idle()
    await hass.async_block_till_done(wait_background_tasks=True)

    assert set(statuses) == {200}
    # The sync in flight and one queued sync covering everything that came meanwhile.
    assert _list_requests(calendar_emulator) - lists_before == 2
    assert [e.data["summary"] for e in events] == ["During the burst"]


async def test_unload_stops_all_channels(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    integration: MockConfigEntry,
) -> None:
    """Unloading the entry stops its channels at Google."""
    channel_ids = [
        c.channel_id for c in integration.runtime_data.stored.channels.values()
    ]
    assert channel_ids

    assert await hass.config_entries.async_unload(integration.entry_id)
    await hass.async_block_till_done()

    assert all(calendar_emulator.channels[cid].stopped for cid in channel_ids)
    assert not [c for c in calendar_emulator.channels.values() if c.active]


async def test_removing_entry_clears_push_issue(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    integration: MockConfigEntry,
) -> None:
    """Removing the entry stops channels and leaves no repair issue behind."""
    assert await hass.config_entries.async_remove(integration.entry_id)
    await hass.async_block_till_done()

    assert not [c for c in calendar_emulator.channels.values() if c.active]
    assert not ir.async_get(hass).async_get_issue(
        DOMAIN, push_issue_id(integration.entry_id)
    )


@pytest.mark.parametrize(
    "entry_options", [{CONF_CALENDARS: [ACCOUNT], CONF_PUSH_ENABLED: False}]
)
async def test_push_disabled_opens_no_channel_and_raises_no_issue(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    integration: MockConfigEntry,
) -> None:
    """With push turned off the entry polls quietly."""
    assert integration.runtime_data.push is None
    assert calendar_emulator.requests.count("POST", "/watch") == 0
    assert not integration.runtime_data.coordinators[ACCOUNT].push_active
    assert not ir.async_get(hass).async_get_issue(
        DOMAIN, push_issue_id(integration.entry_id)
    )
