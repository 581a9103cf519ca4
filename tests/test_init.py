"""Setup, unload and removal of a config entry, and stale entity cleanup."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import logging
import os
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ImplementationUnavailableError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.google_calendar_sync import async_remove_config_entry_device
from custom_components.google_calendar_sync.const import (
    CONF_CALENDARS,
    CONF_PUSH_ENABLED,
    CONF_SYNC_WINDOW_DAYS,
    DOMAIN,
    EVENT_CHANGED,
    POLL_INTERVAL,
)
from custom_components.google_calendar_sync.store import (
    calendar_file_name,
    index_store_key,
)
from google_calendar_emulator import FaultKind, GoogleCalendarEmulator

from .conftest import ACCOUNT
from .reliability_helpers import serve_http

FAMILY_ID = "family@group.calendar.google.com"


async def _setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add and set up an entry, whatever the outcome."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def test_setup_loads_and_unload_saves_the_store(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Unloading writes the synced state at once."""
    entry = setup_integration
    assert set(entry.runtime_data.coordinators) == {ACCOUNT}
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert index_store_key(entry.entry_id) in hass_storage
    assert os.path.exists(
        hass.config.path(".storage", calendar_file_name(entry.entry_id, ACCOUNT))
    )


async def test_removing_the_entry_removes_the_store(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Removing the entry deletes the local copy of the calendars."""
    entry = setup_integration
    assert await hass.config_entries.async_unload(entry.entry_id)
    path = hass.config.path(".storage", calendar_file_name(entry.entry_id, ACCOUNT))
    assert os.path.exists(path)
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert not [key for key in hass_storage if entry.entry_id in key]
    assert not os.path.exists(path)


async def test_revoked_grant_at_setup_starts_reauth(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_credentials: None,
    config_entry: MockConfigEntry,
) -> None:
    """A refresh token Google no longer accepts fails setup and asks to sign in."""
    calendar_emulator.revoke_refresh_token(config_entry.data["token"]["refresh_token"])
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry,
        data={
            **config_entry.data,
            "token": {**config_entry.data["token"], "expires_at": 0},
        },
    )
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_token_rejected_by_the_api_at_setup_starts_reauth(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_credentials: None,
    config_entry: MockConfigEntry,
) -> None:
    """A 401 that a refresh cannot cure fails setup with an auth error."""
    calendar_emulator.revoke_refresh_token(config_entry.data["token"]["refresh_token"])
    calendar_emulator.expire_access_tokens()
    await _setup(hass, config_entry)
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN)


async def test_google_unreachable_at_setup_retries_later(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_credentials: None,
    config_entry: MockConfigEntry,
) -> None:
    """Server errors while listing calendars make setup retry."""
    calendar_emulator.faults.fail_next(503, times=100, path_contains="calendarList")
    await _setup(hass, config_entry)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_failing_first_sync_retries_later(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_credentials: None,
    config_entry: MockConfigEntry,
) -> None:
    """A calendar whose first sync fails keeps the entry from loading."""
    calendar_emulator.faults.fail_next(500, times=100, path_contains="/events")
    await _setup(hass, config_entry)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_missing_application_credentials_ask_to_link_again(
    hass: HomeAssistant,
    emulator_endpoint: GoogleCalendarEmulator,
    config_entry: MockConfigEntry,
) -> None:
    """Removed application credentials fail setup and start reauth."""
    assert await async_setup_component(hass, "application_credentials", {})
    await _setup(hass, config_entry)
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN)


async def test_unavailable_oauth_provider_retries_later(
    hass: HomeAssistant,
    setup_credentials: None,
    config_entry: MockConfigEntry,
) -> None:
    """An OAuth provider that is down for now makes setup retry."""
    with patch(
        "custom_components.google_calendar_sync.credentials.async_get_config_entry_implementation",
        side_effect=ImplementationUnavailableError("cloud"),
    ):
        await _setup(hass, config_entry)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY


@pytest.mark.parametrize(
    "entry_options",
    [
        {
            CONF_CALENDARS: [ACCOUNT, FAMILY_ID],
            "sync_window_days": 365,
            "push_enabled": False,
        }
    ],
)
async def test_deselected_calendar_entity_is_removed(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_credentials: None,
    config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """After a calendar is deselected, its entity and stored events disappear."""
    calendar_emulator.add_calendar(ACCOUNT, "Family", calendar_id=FAMILY_ID)
    await _setup(hass, config_entry)
    family_unique_id = f"{ACCOUNT}-{FAMILY_ID}"
    assert entity_registry.async_get_entity_id("calendar", DOMAIN, family_unique_id)
    assert FAMILY_ID in config_entry.runtime_data.stored.calendars

    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, CONF_CALENDARS: [ACCOUNT]}
    )
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()

    assert not entity_registry.async_get_entity_id("calendar", DOMAIN, family_unique_id)
    assert FAMILY_ID not in config_entry.runtime_data.stored.calendars
    assert await hass.config_entries.async_unload(config_entry.entry_id)


async def test_calendar_gone_from_google_is_skipped(
    hass: HomeAssistant,
    setup_credentials: None,
    config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A selected calendar no longer in the account's list gets no entity."""
    config_entry.add_to_hass(hass)
    entity_registry.async_get_or_create(
        "calendar", DOMAIN, f"{ACCOUNT}-{FAMILY_ID}", config_entry=config_entry
    )
    hass.config_entries.async_update_entry(
        config_entry,
        options={**config_entry.options, CONF_CALENDARS: [ACCOUNT, FAMILY_ID]},
    )
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    assert config_entry.state is ConfigEntryState.LOADED
    assert set(config_entry.runtime_data.coordinators) == {ACCOUNT}
    assert not entity_registry.async_get_entity_id(
        "calendar", DOMAIN, f"{ACCOUNT}-{FAMILY_ID}"
    )
    assert f"Calendar {FAMILY_ID} is no longer in the calendar list" in caplog.text
    assert await hass.config_entries.async_unload(config_entry.entry_id)


async def test_only_foreign_devices_can_be_removed(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """The account's device stays; a stray device of the entry may go."""
    entry = setup_integration
    account_device = device_registry.async_get_device_by_identifier(
        (DOMAIN, ACCOUNT), entry.entry_id
    )
    assert account_device is not None
    stray = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, "old@example.com")}
    )
    assert not await async_remove_config_entry_device(hass, entry, account_device)
    assert await async_remove_config_entry_device(hass, entry, stray)


async def test_stale_account_device_is_detached_on_setup(
    hass: HomeAssistant,
    setup_credentials: None,
    config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Devices of the entry that are not the account's device are removed."""
    config_entry.add_to_hass(hass)
    stray = device_registry.async_get_or_create(
        config_entry_id=config_entry.entry_id,
        identifiers={(DOMAIN, "old@example.com")},
    )
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert device_registry.async_get(stray.id) is None
    assert await hass.config_entries.async_unload(config_entry.entry_id)


# Unloading while Google hangs

# The unload bound the README states; generous for a loaded test machine, since
# stopping the channels may take CHANNEL_STOP_TIMEOUT (3 s) of it.
UNLOAD_BOUND = 10


@pytest.mark.parametrize("entry_options", [{CONF_CALENDARS: [ACCOUNT]}])
async def test_unload_finishes_while_google_hangs_and_loses_nothing(
    hass: HomeAssistant,
    *,
    hass_client_no_auth: ClientSessionGenerator,
    setup_credentials: None,
    config_entry: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A sync, an export and push channels all wait for Google; unload does not."""
    await serve_http(hass, hass_client_no_auth)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    data = config_entry.runtime_data
    assert data.push is not None
    assert data.push.active
    token = data.coordinators[ACCOUNT].snapshot.sync_token
    entity_id = er.async_get(hass).async_get_entity_id(
        "calendar", DOMAIN, f"{ACCOUNT}-{ACCOUNT}"
    )
    changes = async_capture_events(hass, EVENT_CHANGED)
    hang = calendar_emulator.faults.add(FaultKind.HANG, times=1000)
    start = dt_util.now() + timedelta(days=1)
    calendar_emulator.insert_event(
        ACCOUNT,
        {
            "summary": "Made in Google",
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        },
    )

    sync = hass.async_create_task(data.coordinators[ACCOUNT].async_sync())
    export = hass.async_create_task(
        hass.services.async_call(
            DOMAIN,
            "export_appointments",
            {
                "entity_id": entity_id,
                "appointments": [
                    {
                        "summary": "Never sent",
                        "start": start.isoformat(),
                        "end": (start + timedelta(hours=1)).isoformat(),
                    }
                ],
            },
            blocking=True,
            return_response=True,
        )
    )
    await hang.reached(2)

    async with asyncio.timeout(UNLOAD_BOUND):
        assert await hass.config_entries.async_unload(config_entry.entry_id)
        await hass.async_block_till_done()

    assert len(await sync) == 0
    with pytest.raises(HomeAssistantError) as failed:
        await export
    assert failed.value.translation_key == "export_failed"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "did not confirm stopping the push channels" in caplog.text
    assert changes == []

    # Nothing was lost: the stored token predates the change, announced after reload.
    calendar_emulator.faults.clear()
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.runtime_data.coordinators[ACCOUNT].snapshot.sync_token != token
    assert [change.data["summary"] for change in changes] == ["Made in Google"]
    assert await hass.config_entries.async_unload(config_entry.entry_id)


@pytest.mark.parametrize(
    "entry_options",
    [
        {
            CONF_CALENDARS: [ACCOUNT],
            CONF_SYNC_WINDOW_DAYS: 30,
            CONF_PUSH_ENABLED: False,
            "poll_interval_minutes": 5,
            "safety_net_hours": 12,
        }
    ],
)
async def test_entry_with_polling_options_keeps_working_without_them(
    hass: HomeAssistant, setup_credentials: None, config_entry: MockConfigEntry
) -> None:
    """An entry from 1.1 loses the polling options it had and polls at the default."""
    await _setup(hass, config_entry)

    assert config_entry.state is ConfigEntryState.LOADED
    assert (config_entry.version, config_entry.minor_version) == (1, 2)
    assert config_entry.options == {
        CONF_CALENDARS: [ACCOUNT],
        CONF_SYNC_WINDOW_DAYS: 30,
        CONF_PUSH_ENABLED: False,
    }
    coordinator = config_entry.runtime_data.coordinators[ACCOUNT]
    assert coordinator.update_interval == POLL_INTERVAL
    assert await hass.config_entries.async_unload(config_entry.entry_id)


async def test_entry_from_a_newer_version_is_not_loaded(
    hass: HomeAssistant, setup_credentials: None, config_entry: MockConfigEntry
) -> None:
    """A downgrade leaves an entry written by a newer version alone."""
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(config_entry, version=2)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    assert config_entry.state is ConfigEntryState.MIGRATION_ERROR
