"""Registration of the actions; the automatic export tests wait here for test_export.py.

The actions themselves are tested in test_service_events.py and test_service_export.py.
"""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import CoreState, HomeAssistant, SupportsResponse
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.google_calendar_sync.const import (
    CONF_CALENDARS,
    CONF_EXPORT_SOURCES,
    CONF_EXPORT_TARGET,
    CONF_PUSH_ENABLED,
    CONF_SYNC_WINDOW_DAYS,
    DOMAIN,
)
from custom_components.google_calendar_sync.export import AUTO_EXPORT_COOLDOWN
from custom_components.google_calendar_sync.google.transport import RetryPolicy
from google_calendar_emulator import GoogleCalendarEmulator

from .action_helpers import SOURCE, setup_practice
from .conftest import ACCOUNT


async def _no_sleep(_delay: float) -> None:
    """Skip backoff waits."""


async def test_actions_are_registered_when_the_integration_is_set_up(
    hass: HomeAssistant,
) -> None:
    """The actions exist before any entry (action-setup), answering as declared."""
    assert await async_setup_component(hass, DOMAIN, {})
    assert {
        name: hass.services.supports_response(DOMAIN, name)
        for name in hass.services.async_services_for_domain(DOMAIN)
    } == {
        "create_event": SupportsResponse.OPTIONAL,
        "update_event": SupportsResponse.OPTIONAL,
        "delete_event": SupportsResponse.NONE,
        "export_appointments": SupportsResponse.OPTIONAL,
    }


# Automatic export (options export_sources / export_target).


@pytest.mark.parametrize(
    "entry_options",
    [
        {
            CONF_CALENDARS: [ACCOUNT],
            CONF_SYNC_WINDOW_DAYS: 365,
            CONF_PUSH_ENABLED: False,
            CONF_EXPORT_SOURCES: [SOURCE],
            CONF_EXPORT_TARGET: ACCOUNT,
        }
    ],
)
async def test_automatic_export_follows_the_source_calendar(
    hass: HomeAssistant,
    practice: MockConfigEntry,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """All appointments go out at setup; a new one follows without any call."""
    freezer.tick(timedelta(seconds=AUTO_EXPORT_COOLDOWN + 1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(calendar_emulator.events(ACCOUNT)) == 120

    far = (dt_util.now() + timedelta(days=200)).replace(microsecond=0)
    await hass.services.async_call(
        "calendar",
        "create_event",
        {
            "entity_id": SOURCE,
            "summary": "New patient",
            "start_date_time": far.isoformat(),
            "end_date_time": (far + timedelta(minutes=30)).isoformat(),
        },
        blocking=True,
    )
    await hass.async_block_till_done()
    freezer.tick(timedelta(seconds=AUTO_EXPORT_COOLDOWN + 1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    summaries = [e["summary"] for e in calendar_emulator.events(ACCOUNT)]
    assert len(summaries) == 121
    assert "New patient" in summaries


AUTO_EXPORT_OPTIONS = {
    CONF_CALENDARS: [ACCOUNT],
    CONF_SYNC_WINDOW_DAYS: 365,
    CONF_PUSH_ENABLED: False,
    CONF_EXPORT_SOURCES: [SOURCE],
    CONF_EXPORT_TARGET: ACCOUNT,
}


async def _settle(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Let the export debouncer run."""
    freezer.tick(timedelta(seconds=AUTO_EXPORT_COOLDOWN + 1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


@pytest.mark.parametrize("entry_options", [AUTO_EXPORT_OPTIONS])
async def test_automatic_export_waits_for_its_source_and_repairs_hourly(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A source loaded later is exported; the hourly pass restores lost events."""
    await _settle(hass, freezer)
    assert calendar_emulator.events(ACCOUNT) == []

    practice_entry = await setup_practice(hass)
    await _settle(hass, freezer)
    exported = calendar_emulator.events(ACCOUNT)
    assert len(exported) == 120

    calendar_emulator.delete_event(ACCOUNT, exported[0]["id"])
    freezer.tick(timedelta(hours=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    await _settle(hass, freezer)
    assert len(calendar_emulator.events(ACCOUNT)) == 120

    setup_integration.runtime_data.api.transport.retry = RetryPolicy(
        max_attempts=1, sleep=_no_sleep
    )
    calendar_emulator.faults.add("drop", times=5)
    freezer.tick(timedelta(hours=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    await _settle(hass, freezer)
    assert "Automatic export of calendar.practice failed" in caplog.text
    calendar_emulator.faults.clear()
    assert await hass.config_entries.async_unload(practice_entry.entry_id)


@pytest.mark.parametrize(
    "entry_options", [{**AUTO_EXPORT_OPTIONS, CONF_EXPORT_TARGET: "other@example.com"}]
)
async def test_automatic_export_needs_a_synced_target(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A target that is not a synced, writable calendar is reported, not used."""
    assert any(
        "Automatic export needs a synced, writable target" in record.getMessage()
        for record in caplog.get_records("setup")
    )


@pytest.mark.parametrize("entry_options", [AUTO_EXPORT_OPTIONS])
async def test_automatic_export_starts_once_home_assistant_has_started(
    hass: HomeAssistant,
    setup_credentials: None,
    config_entry: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """During startup the first export waits for every calendar to load."""
    await setup_practice(hass)
    hass.set_state(CoreState.not_running)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await _settle(hass, freezer)
    assert calendar_emulator.events(ACCOUNT) == []
    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done()
    await _settle(hass, freezer)
    assert len(calendar_emulator.events(ACCOUNT)) == 120
    assert await hass.config_entries.async_unload(config_entry.entry_id)


async def test_setting_the_export_option_exports_at_once(
    hass: HomeAssistant,
    practice: MockConfigEntry,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Choosing sources and a target in the options flow starts the export."""
    result = await hass.config_entries.options.async_init(setup_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            **setup_integration.options,
            CONF_EXPORT_SOURCES: [SOURCE],
            CONF_EXPORT_TARGET: ACCOUNT,
        },
    )
    assert setup_integration.options[CONF_EXPORT_TARGET] == ACCOUNT
    await hass.async_block_till_done()
    await _settle(hass, freezer)
    assert len(calendar_emulator.events(ACCOUNT)) == 120
