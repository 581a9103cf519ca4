"""Watch channels: opened, reused, renewed, moved and stopped as things change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.google_calendar_sync.channels import (
    RENEWAL_MARGIN,
    SETUP_RETRY_INTERVAL,
    TRANSIENT_RETRY_INTERVAL,
)
from custom_components.google_calendar_sync.const import CONF_WEBHOOK_ID
from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.stored import StoredChannel, StoredData
from custom_components.google_calendar_sync.watch import CHANNEL_TTL
from google_calendar_emulator import GoogleCalendarEmulator

from .common import push_issue, settle_notifications, timed_event
from .conftest import ACCOUNT, SECOND_CALENDAR, WEBHOOK_ID, PushHarness

_SECOND = timedelta(seconds=1)


async def _started(
    make_push: Callable[..., PushHarness],
    calendars: list[str],
    stored: StoredData | None = None,
) -> PushHarness:
    """Build a PushManager and start it; every channel must open."""
    harness = make_push(stored)
    assert await harness.manager.async_start(calendars)
    return harness


async def _fire(hass: HomeAssistant, when: datetime | None = None) -> None:
    """Fire the time-changed event and wait for what it starts."""
    async_fire_time_changed(hass, when)
    await hass.async_block_till_done(wait_background_tasks=True)


async def _changes_after_insert(
    hass: HomeAssistant,
    emulator: GoogleCalendarEmulator,
    harness: PushHarness,
    summary: str,
) -> list[str]:
    """Insert an event in the primary calendar; return what push reported."""
    emulator.insert_event(ACCOUNT, timed_event(summary))
    await settle_notifications(hass, emulator)
    return harness.changes


def _raised_issue(hass: HomeAssistant) -> ir.IssueEntry:
    """Return the push repair issue of the test entry, which must be raised."""
    issue = push_issue(hass)
    assert issue is not None
    return issue


async def test_start_opens_one_channel_per_calendar(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    hass_url: str,
    push: PushHarness,
) -> None:
    """Each calendar gets a channel to the webhook; the sync handshake is accepted."""
    await settle_notifications(hass, calendar_emulator)

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
    await settle_notifications(hass, calendar_emulator)

    calendar_emulator.insert_event(SECOND_CALENDAR, timed_event("Standup"))
    await settle_notifications(hass, calendar_emulator)

    assert push.changes == [SECOND_CALENDAR]


async def test_channels_are_renewed_before_they_expire(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    hass_url: str,
    make_push: Callable[..., PushHarness],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A day before expiry a new channel opens, then the old one is stopped."""
    harness = await _started(make_push, [ACCOUNT, SECOND_CALENDAR])
    await settle_notifications(hass, calendar_emulator)
    old = dict(harness.stored.channels)
    assert abs(old[ACCOUNT].expiration - dt_util.utcnow() - CHANNEL_TTL) < _SECOND

    freezer.tick(CHANNEL_TTL - RENEWAL_MARGIN - timedelta(minutes=1))
    await _fire(hass)
    assert harness.stored.channels == old  # not due yet

    freezer.tick(timedelta(minutes=2))
    await _fire(hass)
    await settle_notifications(hass, calendar_emulator)

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


async def test_restart_reuses_live_channels(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    hass_url: str,
    make_push: Callable[..., PushHarness],
) -> None:
    """Channels stored before a restart keep delivering; no new watch is needed."""
    first = await _started(make_push, [ACCOUNT, SECOND_CALENDAR])
    await settle_notifications(hass, calendar_emulator)
    await first.manager.async_stop(remove_channels=False)  # as on shutdown
    stored = first.stored
    watches = calendar_emulator.requests.count("POST", "/watch")

    second = await _started(make_push, [ACCOUNT, SECOND_CALENDAR], stored)
    calendar_emulator.insert_event(ACCOUNT, timed_event("After restart"))
    await settle_notifications(hass, calendar_emulator)

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
    assert push_issue(hass) is None
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
    assert push_issue(hass) is None
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
    harness = make_push()

    assert not await harness.manager.async_start([ACCOUNT])

    assert push_issue(hass) is None
    assert harness.manager.diagnostics()["failure"] == "temporary"
    calendar_emulator.faults.clear()
    await _fire(hass, dt_util.utcnow() + TRANSIENT_RETRY_INTERVAL)
    assert harness.states == {ACCOUNT: True}
    await harness.manager.async_stop()


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
    await held.reached()  # the watch is in flight

    await harness.manager.async_stop()
    await starting

    assert harness.stored.channels == {}
    assert not [c for c in calendar_emulator.channels.values() if c.active]
    # No retry, renewal or URL change opens a channel after the stop.
    watches = calendar_emulator.requests.count("POST", "/watch")
    await hass.config.async_update(internal_url="http://127.0.0.1:1")
    await _fire(hass, dt_util.utcnow() + CHANNEL_TTL)
    assert calendar_emulator.requests.count("POST", "/watch") == watches
    assert harness.stored.channels == {}
