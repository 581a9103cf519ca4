"""Options flow: calendars, settings and automatic export, with their checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.google_calendar_sync.const import (
    CONF_CALENDARS,
    CONF_EXPORT_SOURCES,
    CONF_EXPORT_TARGET,
    CONF_FREE_EVENTS_BUSY,
    CONF_PUSH_ENABLED,
    CONF_SHOW_DECLINED,
    CONF_SYNC_WINDOW_DAYS,
    DOMAIN,
)
from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.errors import GoogleTransientError

from .common import TRANSLATIONS
from .conftest import ACCOUNT, OTHER_ACCOUNT, WORK

pytestmark = pytest.mark.usefixtures("current_request_with_host", "setup_credentials")


async def test_options_flow_changes_sync_settings(
    hass: HomeAssistant,
    calendars: dict[str, str],
    setup_integration: MockConfigEntry,
) -> None:
    """Options change calendars and settings, keep other keys, and reload."""
    entry = setup_integration
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, "owned_by_another_step": True}
    )
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"

    settings = {
        CONF_SYNC_WINDOW_DAYS: 30,
        CONF_PUSH_ENABLED: False,
        CONF_SHOW_DECLINED: True,
        CONF_FREE_EVENTS_BUSY: [calendars["family"]],
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CALENDARS: [], **settings}
    )
    assert result["errors"] == {"base": "no_calendars_selected"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CALENDARS: [calendars["family"]], **settings}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        CONF_CALENDARS: [calendars["family"]],
        CONF_SYNC_WINDOW_DAYS: 30,
        CONF_PUSH_ENABLED: False,
        CONF_SHOW_DECLINED: True,
        CONF_FREE_EVENTS_BUSY: [calendars["family"]],
        "owned_by_another_step": True,
    }
    assert entry.state is ConfigEntryState.LOADED
    assert set(entry.runtime_data.coordinators) == {calendars["family"]}


async def test_options_flow_offers_no_polling_interval(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Polling is Home Assistant's business: no option sets how often."""
    result = await hass.config_entries.options.async_init(setup_integration.entry_id)
    assert [str(field) for field in result["data_schema"].schema] == [
        CONF_CALENDARS,
        CONF_SYNC_WINDOW_DAYS,
        CONF_PUSH_ENABLED,
        CONF_SHOW_DECLINED,
        CONF_FREE_EVENTS_BUSY,
        CONF_EXPORT_SOURCES,
        CONF_EXPORT_TARGET,
    ]


async def test_options_flow_of_unloaded_entry_offers_synced_calendars(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """Without a loaded entry, the options offer the calendars already chosen."""
    config_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["data_schema"]({})[CONF_CALENDARS] == [ACCOUNT]


async def test_options_flow_offers_synced_calendars_when_google_is_down(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """If the calendar list cannot be read, the synced calendars are still offered."""
    with patch.object(
        GoogleCalendarApi,
        "list_calendars",
        side_effect=GoogleTransientError(503, "backendError", "down"),
    ):
        result = await hass.config_entries.options.async_init(
            setup_integration.entry_id
        )
    assert result["type"] is FlowResultType.FORM
    assert result["data_schema"]({})[CONF_CALENDARS] == [ACCOUNT]


# --- Service account ------------------------------------------------------------------


SETTINGS = {
    CONF_SYNC_WINDOW_DAYS: 30,
    CONF_PUSH_ENABLED: False,
}


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        (CONF_CALENDARS, ["nowhere@example.com"], "invalid_calendars"),
        (CONF_SYNC_WINDOW_DAYS, 0, "invalid_sync_window_days"),
        (CONF_SYNC_WINDOW_DAYS, "a year", "invalid_sync_window_days"),
        (CONF_FREE_EVENTS_BUSY, ["nowhere@example.com"], "invalid_free_events_busy"),
        (CONF_EXPORT_SOURCES, ["not an entity"], "invalid_export_sources"),
        (CONF_EXPORT_TARGET, "holidays@example.com", "invalid_export_target"),
    ],
)
async def test_options_flow_explains_each_bad_field(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    field: str,
    value: Any,
    error: str,
) -> None:
    """A bad value is refused with the field's translated message."""
    result = await hass.config_entries.options.async_init(setup_integration.entry_id)
    with pytest.raises(InvalidData) as err:
        await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_CALENDARS: [ACCOUNT], **SETTINGS, field: value}
        )
    # The frontend shows options.error.<key> of our translations for the field.
    assert err.value.schema_errors == {field: error}
    assert TRANSLATIONS["options"]["error"][error]


@pytest.mark.usefixtures("work_calendar")
@pytest.mark.parametrize(
    "entry_options", [{CONF_CALENDARS: [ACCOUNT, WORK], CONF_PUSH_ENABLED: False}]
)
async def test_options_flow_refuses_exports_that_cannot_work(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """Export needs a synced target and must never lead back into a source."""
    entry = setup_integration
    primary, work = calendar_entity_id(ACCOUNT), calendar_entity_id(WORK)
    both = {CONF_CALENDARS: [ACCOUNT, WORK], **SETTINGS}
    result = await hass.config_entries.options.async_init(entry.entry_id)
    for export, errors in (
        ({CONF_EXPORT_SOURCES: [work]}, {CONF_EXPORT_TARGET: "export_target_missing"}),
        (
            {
                CONF_EXPORT_SOURCES: [work],
                CONF_EXPORT_TARGET: WORK,
                CONF_CALENDARS: [ACCOUNT],
            },
            {CONF_EXPORT_TARGET: "export_target_not_synced"},
        ),
        (
            {CONF_EXPORT_SOURCES: [primary, work], CONF_EXPORT_TARGET: WORK},
            {CONF_EXPORT_SOURCES: "export_into_itself"},
        ),
    ):
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {**both, **export}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == errors
        for key in errors.values():
            assert TRANSLATIONS["options"]["error"][key]
    assert CONF_EXPORT_SOURCES not in entry.options

    # Work goes into the primary calendar; a second account sends it back.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {**both, CONF_EXPORT_SOURCES: [work], CONF_EXPORT_TARGET: ACCOUNT},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    other = MockConfigEntry(
        domain=DOMAIN,
        unique_id=OTHER_ACCOUNT,
        options={CONF_EXPORT_SOURCES: [primary], CONF_EXPORT_TARGET: WORK},
    )
    other.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {**both, CONF_EXPORT_SOURCES: [work], CONF_EXPORT_TARGET: ACCOUNT},
    )
    assert result["errors"] == {CONF_EXPORT_SOURCES: "export_loop"}
    assert TRANSLATIONS["options"]["error"]["export_loop"]


async def test_options_flow_turns_export_off_when_cleared(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Clearing the export fields removes them instead of keeping the old ones."""
    entry = setup_integration
    hass.config_entries.async_update_entry(
        entry,
        options={
            **entry.options,
            CONF_EXPORT_SOURCES: ["calendar.practice"],
            CONF_EXPORT_TARGET: ACCOUNT,
        },
    )
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CALENDARS: [ACCOUNT], **SETTINGS}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_EXPORT_SOURCES not in entry.options
    assert CONF_EXPORT_TARGET not in entry.options


# --- Public calendars by API key --------------------------------------------------------
