"""Push: Google watch channels delivered over real HTTP to Home Assistant's webhook."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
import dataclasses
from datetime import UTC, datetime, timedelta
import enum
import logging
import sys
from typing import Any

from aiohttp import ClientSession
from freezegun.api import FrozenDateTimeFactory
import homeassistant.components
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.google_calendar_sync.channels import (
    CHANNEL_TTL,
    RENEWAL_MARGIN,
    SETUP_RETRY_INTERVAL,
    PushManager,
    _parse_expiration,
)
from custom_components.google_calendar_sync.const import (
    CONF_CALENDARS,
    CONF_PUSH_ENABLED,
    CONF_WEBHOOK_ID,
    DOMAIN,
    EVENT_CHANGED,
)
from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.endpoints import GoogleEndpoints
from custom_components.google_calendar_sync.google.transport import (
    RetryPolicy,
    StaticTokenAuth,
)
from custom_components.google_calendar_sync.push import async_remove_push
from custom_components.google_calendar_sync.push_status import push_issue_id
from custom_components.google_calendar_sync.stored import StoredChannel, StoredData
from google_calendar_emulator import GoogleCalendarEmulator

from .common import loaded_entry, until
from .conftest import ACCOUNT, WEBHOOK_ID

SECOND_CALENDAR = "team@group.calendar.example.com"
_SECOND = timedelta(seconds=1)


def _event(summary: str, day: int = 1) -> dict[str, Any]:
    """Return a timed event body for the emulator."""
    start = dt_util.utcnow().replace(microsecond=0) + timedelta(days=day)
    return {
        "summary": summary,
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
    }


class _FreshTokens:
    """Mint an emulator access token per request so frozen-clock jumps stay valid."""

    def __init__(self, emulator: GoogleCalendarEmulator) -> None:
        self._emulator = emulator

    async def async_get_access_token(self, *, force_refresh: bool = False) -> str:
        return str(self._emulator.issue_tokens(ACCOUNT)["access_token"])


@pytest.fixture
def push_entry(hass: HomeAssistant) -> MockConfigEntry:
    """Return a config entry carrying a webhook id."""
    entry = MockConfigEntry(
        domain=DOMAIN, title=ACCOUNT, data={CONF_WEBHOOK_ID: WEBHOOK_ID}
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
async def emulator_api(
    hass: HomeAssistant, calendar_emulator: GoogleCalendarEmulator
) -> GoogleCalendarApi:
    """Return a client of the emulator (plain-http loopback webhooks allowed)."""
    calendar_emulator.add_calendar(ACCOUNT, "Team", calendar_id=SECOND_CALENDAR)
    return await GoogleCalendarApi.async_create(
        async_get_clientsession(hass),
        _FreshTokens(calendar_emulator),
        GoogleEndpoints.for_base_url(calendar_emulator.base_url),
    )


@dataclasses.dataclass
class PushHarness:
    """A PushManager with what it reported."""

    manager: PushManager
    stored: StoredData
    changes: list[str]
    states: dict[str, bool]


@pytest.fixture
def make_push(
    hass: HomeAssistant, push_entry: MockConfigEntry, emulator_api: GoogleCalendarApi
) -> Callable[..., PushHarness]:
    """Build PushManagers that record what they ask of their owner."""

    def _make(
        stored: StoredData | None = None, api: GoogleCalendarApi | None = None
    ) -> PushHarness:
        stored = stored if stored is not None else StoredData()
        changes: list[str] = []
        states: dict[str, bool] = {}
        manager = PushManager(
            hass,
            push_entry,
            api or emulator_api,
            stored,
            changes.append,
            on_push_state=states.__setitem__,
        )
        return PushHarness(manager, stored, changes, states)

    return _make


async def _started(
    make_push: Callable[..., PushHarness],
    calendars: list[str],
    stored: StoredData | None = None,
) -> PushHarness:
    """Build a PushManager and start it; every channel must open."""
    harness = make_push(stored)
    assert await harness.manager.async_start(calendars)
    return harness


@pytest.fixture
async def push(
    hass: HomeAssistant, hass_url: str, make_push: Callable[..., PushHarness]
) -> AsyncGenerator[PushHarness]:
    """Return a started PushManager for both calendars; stop it afterwards."""
    harness = await _started(make_push, [ACCOUNT, SECOND_CALENDAR])
    yield harness
    await harness.manager.async_stop()


async def _fire(hass: HomeAssistant, when: datetime | None = None) -> None:
    """Fire the time-changed event and wait for what it starts."""
    async_fire_time_changed(hass, when)
    await hass.async_block_till_done(wait_background_tasks=True)


async def _settle(hass: HomeAssistant, emulator: GoogleCalendarEmulator) -> None:
    """Wait until every notification was delivered and handled."""
    await emulator.notifications_idle()
    await hass.async_block_till_done()


async def _settle_syncs(hass: HomeAssistant, emulator: GoogleCalendarEmulator) -> None:
    """Wait for notifications and the syncs they cause, queued ones included."""
    await emulator.notifications_idle()
    await hass.async_block_till_done(wait_background_tasks=True)


async def _changes_after_insert(
    hass: HomeAssistant,
    emulator: GoogleCalendarEmulator,
    harness: PushHarness,
    summary: str,
) -> list[str]:
    """Insert an event in the primary calendar; return what push reported."""
    emulator.insert_event(ACCOUNT, _event(summary))
    await _settle(hass, emulator)
    return harness.changes


async def test_start_opens_one_channel_per_calendar(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    hass_url: str,
    push: PushHarness,
) -> None:
    """Each calendar gets a channel to the webhook; the sync handshake is accepted."""
    await _settle(hass, calendar_emulator)

    channels = [c for c in calendar_emulator.channels.values() if c.active]
    assert sorted(c.calendar_id for c in channels) == sorted([ACCOUNT, SECOND_CALENDAR])
    for channel in channels:
        assert channel.address == f"{hass_url}/api/webhook/{WEBHOOK_ID}"
        assert channel.deliveries[0].state == "sync"
        assert channel.deliveries[0].statuses == [200]
        stored = push.stored.channels[channel.calendar_id]
        assert stored.channel_id == channel.id
        assert stored.token == channel.token
        assert stored.resource_id == channel.resource_id
    assert push.changes == []  # the handshake is no change
    assert push.states == {ACCOUNT: True, SECOND_CALENDAR: True}
    assert push.manager.active


async def test_edit_requests_a_sync_of_that_calendar(
    hass: HomeAssistant, calendar_emulator: GoogleCalendarEmulator, push: PushHarness
) -> None:
    """An edit in Google is announced for its calendar only."""
    await _settle(hass, calendar_emulator)

    calendar_emulator.insert_event(SECOND_CALENDAR, _event("Standup"))
    await _settle(hass, calendar_emulator)

    assert push.changes == [SECOND_CALENDAR]


async def test_forged_notifications_are_refused_without_api_calls(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    hass_url: str,
    push: PushHarness,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Unknown channels, wrong tokens and missing headers get a 4xx and no sync."""
    await _settle(hass, calendar_emulator)
    channel = push.stored.channels[ACCOUNT]
    genuine = {
        "X-Goog-Channel-ID": channel.channel_id,
        "X-Goog-Channel-Token": channel.token,
        "X-Goog-Resource-ID": channel.resource_id,
        "X-Goog-Resource-State": "exists",
        "X-Goog-Message-Number": "7",
    }
    forged = [
        ({}, 400),
        ({"X-Goog-Resource-State": "exists"}, 400),
        ({**genuine, "X-Goog-Channel-ID": "not-ours"}, 404),
        ({**genuine, "X-Goog-Channel-ID": "not-ours"}, 404),
        ({**genuine, "X-Goog-Channel-Token": "guess"}, 403),
        ({k: v for k, v in genuine.items() if k != "X-Goog-Channel-Token"}, 403),
        ({**genuine, "X-Goog-Resource-ID": "another-resource"}, 400),
    ]
    requests_before = len(calendar_emulator.requests)
    caplog.set_level(logging.DEBUG, logger="custom_components.google_calendar_sync")

    async with ClientSession() as session:
        for headers, status in forged:
            async with session.post(
                f"{hass_url}/api/webhook/{WEBHOOK_ID}", headers=headers
            ) as response:
                assert response.status == status, headers
        await hass.async_block_till_done()
        assert push.changes == []
        assert len(calendar_emulator.requests) == requests_before

        async with session.post(
            f"{hass_url}/api/webhook/{WEBHOOK_ID}", headers=genuine
        ) as response:
            assert response.status == 200
        async with session.get(f"{hass_url}/api/webhook/{WEBHOOK_ID}") as response:
            assert response.status == 405  # POST only

    assert push.changes == [ACCOUNT]
    refusals = [r for r in caplog.records if "Refused a push notification" in r.message]
    assert [r.levelno for r in refusals] == [logging.DEBUG] * 4  # once per reason
    assert push.manager.diagnostics()["notifications_rejected"] == {
        "bad_token": 2,
        "missing_headers": 2,
        "resource_mismatch": 1,
        "unknown_channel": 2,
    }


async def test_channels_are_renewed_before_they_expire(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    hass_url: str,
    make_push: Callable[..., PushHarness],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A day before expiry a new channel opens, then the old one is stopped."""
    harness = await _started(make_push, [ACCOUNT, SECOND_CALENDAR])
    await _settle(hass, calendar_emulator)
    old = dict(harness.stored.channels)
    assert abs(old[ACCOUNT].expiration - dt_util.utcnow() - CHANNEL_TTL) < _SECOND

    freezer.tick(CHANNEL_TTL - RENEWAL_MARGIN - timedelta(minutes=1))
    await _fire(hass)
    assert harness.stored.channels == old  # not due yet

    freezer.tick(timedelta(minutes=2))
    await _fire(hass)
    await _settle(hass, calendar_emulator)

    for calendar_id in (ACCOUNT, SECOND_CALENDAR):
        new = harness.stored.channels[calendar_id]
        assert new.channel_id != old[calendar_id].channel_id
        assert new.token != old[calendar_id].token
        assert abs(new.expiration - dt_util.utcnow() - CHANNEL_TTL) < _SECOND
        assert calendar_emulator.channels[old[calendar_id].channel_id].stopped
        assert calendar_emulator.channels[new.channel_id].active
    assert calendar_emulator.requests.count("POST", "/watch") == 4
    assert calendar_emulator.requests.count("POST", "/channels/stop") == 2
    assert harness.states == {ACCOUNT: True, SECOND_CALENDAR: True}

    assert await _changes_after_insert(
        hass, calendar_emulator, harness, "After renewal"
    ) == [ACCOUNT]
    await harness.manager.async_stop()


async def test_stop_stops_every_channel(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    hass_url: str,
    make_push: Callable[..., PushHarness],
) -> None:
    """Stopping push stops each channel at Google and forgets it."""
    harness = await _started(make_push, [ACCOUNT, SECOND_CALENDAR])
    channel_ids = [c.channel_id for c in harness.stored.channels.values()]

    await harness.manager.async_stop()

    assert harness.stored.channels == {}
    assert all(calendar_emulator.channels[cid].stopped for cid in channel_ids)
    assert harness.states == {ACCOUNT: False, SECOND_CALENDAR: False}
    assert not harness.manager.active


async def test_stop_logs_channel_stop_errors(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    hass_url: str,
    make_push: Callable[..., PushHarness],
) -> None:
    """A channel Google no longer knows does not make stopping fail."""
    harness = await _started(make_push, [ACCOUNT])
    calendar_emulator.channels[
        harness.stored.channels[ACCOUNT].channel_id
    ].stopped = True

    await harness.manager.async_stop()

    assert harness.stored.channels == {}


async def test_restart_reuses_live_channels(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    hass_url: str,
    make_push: Callable[..., PushHarness],
) -> None:
    """Channels stored before a restart keep delivering; no new watch is needed."""
    first = await _started(make_push, [ACCOUNT, SECOND_CALENDAR])
    await _settle(hass, calendar_emulator)
    await first.manager.async_stop(remove_channels=False)  # as on shutdown
    stored = first.stored
    watches = calendar_emulator.requests.count("POST", "/watch")

    second = await _started(make_push, [ACCOUNT, SECOND_CALENDAR], stored)
    calendar_emulator.insert_event(ACCOUNT, _event("After restart"))
    await _settle(hass, calendar_emulator)

    assert calendar_emulator.requests.count("POST", "/watch") == watches
    assert second.changes == [ACCOUNT]
    assert second.states == {ACCOUNT: True, SECOND_CALENDAR: True}
    await second.manager.async_stop()


async def test_restart_replaces_channels_due_or_no_longer_needed(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    hass_url: str,
    make_push: Callable[..., PushHarness],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A channel inside the renewal margin is replaced; one of a dropped calendar stops."""
    first = await _started(make_push, [ACCOUNT, SECOND_CALENDAR])
    await first.manager.async_stop(remove_channels=False)
    old = dict(first.stored.channels)
    freezer.tick(CHANNEL_TTL - RENEWAL_MARGIN + timedelta(hours=1))

    second = await _started(make_push, [ACCOUNT], first.stored)

    assert list(second.stored.channels) == [ACCOUNT]
    assert second.stored.channels[ACCOUNT].channel_id != old[ACCOUNT].channel_id
    assert calendar_emulator.channels[old[ACCOUNT].channel_id].stopped
    assert calendar_emulator.channels[old[SECOND_CALENDAR].channel_id].stopped
    await second.manager.async_stop()


async def _static_token_api(
    hass: HomeAssistant,
    emulator: GoogleCalendarEmulator,
    *,
    allow_insecure: bool = True,
    retry: RetryPolicy | None = None,
) -> GoogleCalendarApi:
    """Return a client of the emulator holding one access token."""
    token = emulator.issue_tokens(ACCOUNT)
    endpoints = GoogleEndpoints.for_base_url(emulator.base_url)
    if not allow_insecure:
        endpoints = dataclasses.replace(endpoints, allow_insecure_webhook=False)
    return await GoogleCalendarApi.async_create(
        async_get_clientsession(hass),
        StaticTokenAuth(token["access_token"]),
        endpoints,
        retry=retry,
    )


@pytest.fixture
async def google_mode_api(
    hass: HomeAssistant, calendar_emulator: GoogleCalendarEmulator
) -> GoogleCalendarApi:
    """Return a client that, like Google, needs an HTTPS webhook address."""
    return await _static_token_api(hass, calendar_emulator, allow_insecure=False)


def _raised_issue(hass: HomeAssistant) -> ir.IssueEntry:
    """Return the push repair issue of the test entry, which must be raised."""
    issue = _issue(hass)
    assert issue is not None
    return issue


def _issue(hass: HomeAssistant) -> ir.IssueEntry | None:
    """Return the push repair issue of the test entry, if raised."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    return ir.async_get(hass).async_get_issue(DOMAIN, push_issue_id(entry.entry_id))


async def test_no_public_https_url_falls_back_to_polling_until_one_is_set(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    hass_url: str,
    make_push: Callable[..., PushHarness],
    google_mode_api: GoogleCalendarApi,
) -> None:
    """Without an HTTPS URL push stays off with a repair issue; a new URL fixes it."""
    harness = make_push(api=google_mode_api)

    assert not await harness.manager.async_start([ACCOUNT])

    assert calendar_emulator.requests.count("POST", "/watch") == 0
    assert harness.states == {ACCOUNT: False}
    issue = _raised_issue(hass)
    assert issue.translation_key == "push_unavailable"
    assert issue.severity is ir.IssueSeverity.WARNING
    assert harness.manager.diagnostics()["failure"] == "no_url"

    await hass.config.async_update(external_url="https://home.example.com")
    await hass.async_block_till_done(wait_background_tasks=True)

    assert harness.states == {ACCOUNT: True}
    assert _issue(hass) is None
    channel = calendar_emulator.channels[harness.stored.channels[ACCOUNT].channel_id]
    assert channel.address == f"https://home.example.com/api/webhook/{WEBHOOK_ID}"
    await harness.manager.async_stop()


async def test_refused_watch_raises_issue_and_recovers_on_hourly_retry(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    hass_url: str,
    make_push: Callable[..., PushHarness],
) -> None:
    """Google refusing the address means polling and an issue until a retry works."""
    hass.config.internal_url = "http://192.0.2.10:8123"  # not HTTPS, not loopback
    harness = make_push()

    assert not await harness.manager.async_start([ACCOUNT])

    assert harness.states == {ACCOUNT: False}
    issue = _raised_issue(hass)
    assert issue.translation_key == "push_refused"
    assert "HTTPS" in issue.translation_placeholders["error"]
    assert harness.stored.channels == {}

    hass.config.internal_url = hass_url  # fixed without a config update event
    await _fire(hass, dt_util.utcnow() + SETUP_RETRY_INTERVAL)

    assert harness.states == {ACCOUNT: True}
    assert _issue(hass) is None
    assert await _changes_after_insert(
        hass, calendar_emulator, harness, "Recovered"
    ) == [ACCOUNT]
    await harness.manager.async_stop()


async def test_transient_watch_failure_retries_soon_without_issue(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    hass_url: str,
    make_push: Callable[..., PushHarness],
) -> None:
    """A 5xx from Google is retried in minutes and bothers nobody."""
    calendar_emulator.faults.add("503", times=100, path_contains="/watch")
    api = await _static_token_api(
        hass, calendar_emulator, retry=RetryPolicy(max_attempts=1)
    )
    harness = make_push(api=api)

    assert not await harness.manager.async_start([ACCOUNT])

    assert _issue(hass) is None
    assert harness.manager.diagnostics()["failure"] == "temporary"
    calendar_emulator.faults.clear()
    await _fire(hass, dt_util.utcnow() + timedelta(minutes=5))
    assert harness.states == {ACCOUNT: True}
    await harness.manager.async_stop()


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


async def test_edit_in_google_fires_bus_event_without_polling(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    integration: MockConfigEntry,
) -> None:
    """A change in Google reaches the bus through push alone."""
    await _settle(hass, calendar_emulator)
    coordinator = integration.runtime_data.coordinators[ACCOUNT]
    assert coordinator.push_active
    assert coordinator.update_interval == timedelta(hours=6)  # safety net only
    events = async_capture_events(hass, EVENT_CHANGED)
    lists_before = _list_requests(calendar_emulator)

    created = calendar_emulator.insert_event(ACCOUNT, _event("Dentist"))
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
    await _settle(hass, calendar_emulator)
    events = async_capture_events(hass, EVENT_CHANGED)
    faults = calendar_emulator.channels.faults  # type: ignore[attr-defined]
    faults.duplicate_next = 2
    first = calendar_emulator.insert_event(ACCOUNT, _event("One"))
    await _settle_syncs(hass, calendar_emulator)

    faults.reorder_next = 3  # held, then delivered newest first
    second = calendar_emulator.insert_event(ACCOUNT, _event("Two", 2))
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
    await _settle(hass, calendar_emulator)
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
        await until(lambda: _list_requests(calendar_emulator) > lists_before)
        statuses += await asyncio.gather(*(_notify(session, n) for n in range(1, 300)))
        calendar_emulator.insert_event(ACCOUNT, _event("During the burst"))
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


class _FakeCloud:
    """Just enough of homeassistant.components.cloud for the cloudhook path."""

    class CloudNotAvailable(Exception):  # noqa: N818 - the name cloud uses
        """Raised when the cloud cannot be used."""

    class CloudConnectionState(enum.Enum):
        CLOUD_CONNECTED = "connected"
        CLOUD_DISCONNECTED = "disconnected"

    def __init__(self, hook_url: str) -> None:
        self.hook_url = hook_url
        self.connected = False
        self.created: list[str] = []
        self.deleted: list[str] = []
        self.listeners: list[Callable[[Any], Any]] = []

    def async_active_subscription(self, hass: HomeAssistant) -> bool:
        return True

    def async_is_connected(self, hass: HomeAssistant) -> bool:
        return self.connected

    async def async_get_or_create_cloudhook(
        self, hass: HomeAssistant, webhook_id: str
    ) -> str:
        self.created.append(webhook_id)
        return self.hook_url

    async def async_delete_cloudhook(
        self, hass: HomeAssistant, webhook_id: str
    ) -> None:
        self.deleted.append(webhook_id)
        raise self.CloudNotAvailable

    def async_listen_connection_change(
        self, hass: HomeAssistant, target: Callable[[Any], Any]
    ) -> Callable[[], None]:
        self.listeners.append(target)
        return lambda: self.listeners.remove(target)


@pytest.fixture
def fake_cloud(
    hass: HomeAssistant, hass_url: str, monkeypatch: pytest.MonkeyPatch
) -> _FakeCloud:
    """Pretend Home Assistant Cloud is set up with an active subscription."""
    # The cloudhook forwards to this instance, as Nabu Casa's relay would.
    cloud = _FakeCloud(f"https://127.0.0.1:1/cloudhook/{WEBHOOK_ID}")
    monkeypatch.setitem(sys.modules, "homeassistant.components.cloud", cloud)
    monkeypatch.setattr(homeassistant.components, "cloud", cloud, raising=False)
    hass.config.components.add("cloud")
    return cloud


async def test_cloudhook_is_used_once_cloud_connects(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    fake_cloud: _FakeCloud,
    make_push: Callable[..., PushHarness],
    google_mode_api: GoogleCalendarApi,
) -> None:
    """With a subscription the cloudhook is the address, created once connected."""
    harness = make_push(api=google_mode_api)

    assert not await harness.manager.async_start([ACCOUNT])  # cloud not connected
    assert _issue(hass) is not None

    fake_cloud.connected = True
    for listener in list(fake_cloud.listeners):
        await listener(_FakeCloud.CloudConnectionState.CLOUD_CONNECTED)

    assert harness.states == {ACCOUNT: True}
    assert _issue(hass) is None
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert entry.data["cloudhook_url"] == fake_cloud.hook_url
    channel = calendar_emulator.channels[harness.stored.channels[ACCOUNT].channel_id]
    assert channel.address == fake_cloud.hook_url
    assert harness.manager.diagnostics()["address_kind"] == "cloudhook"

    # The stored cloudhook is reused without asking the cloud again.
    await harness.manager.async_stop()
    assert fake_cloud.listeners == []
    assert await harness.manager.async_start([ACCOUNT])
    assert fake_cloud.created == [WEBHOOK_ID]
    await harness.manager.async_stop()

    await async_remove_push(hass, entry)
    assert fake_cloud.deleted == [WEBHOOK_ID]


async def test_start_gives_an_entry_without_webhook_id_one(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    hass_url: str,
    make_push: Callable[..., PushHarness],
    push_entry: MockConfigEntry,
) -> None:
    """Entries created before push existed get an unguessable webhook id."""
    hass.config_entries.async_update_entry(push_entry, data={})
    harness = make_push()

    assert await harness.manager.async_start([ACCOUNT])

    assert len(push_entry.data[CONF_WEBHOOK_ID]) == 64
    await harness.manager.async_stop()


async def test_diagnostics_show_channel_state_without_secrets(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    make_push: Callable[..., PushHarness],
) -> None:
    """Each stored channel shows its state and expiry; tokens are redacted."""
    now = dt_util.utcnow()
    stored = StoredData(
        channels={
            calendar_id: StoredChannel(
                calendar_id=calendar_id,
                channel_id=f"channel-{calendar_id}",
                resource_id="resource",
                token="secret-token",
                expiration=now + expires_in,
            )
            for calendar_id, expires_in in (
                ("a", CHANNEL_TTL),
                ("b", RENEWAL_MARGIN / 2),
                ("c", -_SECOND),
            )
        }
    )
    harness = make_push(stored)

    diagnostics = harness.manager.diagnostics()

    assert "secret-token" not in repr(diagnostics)
    assert [(c["calendar_id"], c["state"]) for c in diagnostics["channels"]] == [
        ("a", "live"),
        ("b", "renewal_due"),
        ("c", "expired"),
    ]
    assert diagnostics["channels"][0]["expiration"] == (now + CHANNEL_TTL).isoformat()
    assert diagnostics["active"] is False
    assert diagnostics["failure"] is None


def test_expiration_falls_back_to_the_default_ttl() -> None:
    """A watch answer without a usable expiration counts as Google's default TTL."""
    assert _parse_expiration(None) - dt_util.utcnow() - CHANNEL_TTL < _SECOND
    assert _parse_expiration("1700000000000") == datetime(
        2023, 11, 14, 22, 13, 20, tzinfo=UTC
    )


async def test_new_url_moves_live_channels(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    hass_url: str,
    push: PushHarness,
) -> None:
    """When the URL changes, channels reopen at the new address; the old ones stop."""
    old = dict(push.stored.channels)
    watches = calendar_emulator.requests.count("POST", "/watch")

    await hass.config.async_update(location_name="Unrelated change")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert push.stored.channels == old  # nothing to move, nothing asked of Google
    assert calendar_emulator.requests.count("POST", "/watch") == watches

    moved_url = "http://127.0.0.1:1"  # nothing listens there; addresses are compared
    await hass.config.async_update(internal_url=moved_url)
    await hass.async_block_till_done(wait_background_tasks=True)

    for calendar_id, channel in push.stored.channels.items():
        assert channel.channel_id != old[calendar_id].channel_id
        assert calendar_emulator.channels[old[calendar_id].channel_id].stopped
        assert calendar_emulator.channels[channel.channel_id].address.startswith(
            moved_url
        )
    assert push.states == {ACCOUNT: True, SECOND_CALENDAR: True}


async def test_stop_during_setup_leaves_no_channel_or_timer(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    hass_url: str,
    make_push: Callable[..., PushHarness],
) -> None:
    """Unloading while a watch is in flight still stops the channel it opens."""
    held = calendar_emulator.faults.add("delay", path_contains="/watch", delay=0.2)
    harness = make_push()
    starting = hass.async_create_task(harness.manager.async_start([ACCOUNT]))
    await until(lambda: held.hits == 1)  # the watch is in flight

    await harness.manager.async_stop()
    await starting

    assert harness.stored.channels == {}
    assert not [c for c in calendar_emulator.channels.values() if c.active]
    # A retry or renewal timer left behind would fail this test at teardown.
    assert await harness.manager._async_setup_channels() is False
