"""The API key way in: public calendars named by id or address."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.google_calendar_sync.const import (
    CONF_AUTH_TYPE,
    CONF_CALENDARS,
    CONF_PUSH_ENABLED,
    DOMAIN,
)
from custom_components.google_calendar_sync.flow_public import api_key_unique_id
from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.errors import GoogleTransientError
from google_calendar_emulator import GoogleCalendarEmulator

from .common import start_flow
from .conftest import OTHER_ACCOUNT

pytestmark = pytest.mark.usefixtures("current_request_with_host", "setup_credentials")


@pytest.fixture
def public_calendar(calendar_emulator: GoogleCalendarEmulator) -> str:
    """Create a public calendar of another user ("Matches")."""
    calendar_emulator.add_user(OTHER_ACCOUNT)
    calendar_id = calendar_emulator.add_calendar(
        OTHER_ACCOUNT, "Matches", calendar_id="matches@group.calendar.google.com"
    )
    calendar_emulator.set_public(calendar_id)
    return calendar_id


async def test_api_key_flow_adds_public_calendars_by_address(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    public_calendar: str,
) -> None:
    """The calendar's public address names it; the entry is read only, polled."""
    api_key = calendar_emulator.create_api_key()
    result = await start_flow(hass, "api_key")
    address = (
        "https://calendar.google.com/calendar/embed?src=matches%40group.calendar"
        ".google.com&ctz=Europe%2FBerlin"
    )
    with patch(
        "custom_components.google_calendar_sync.async_setup_entry", return_value=True
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"api_key": api_key, CONF_CALENDARS: [address]}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Matches"
    entry = result["result"]
    assert entry.data == {CONF_AUTH_TYPE: "api_key", "api_key": api_key}
    assert entry.unique_id.startswith("api_key_")
    assert api_key not in entry.unique_id
    assert entry.options[CONF_CALENDARS] == [public_calendar]
    assert entry.options[CONF_PUSH_ENABLED] is False


async def test_api_key_flow_errors_are_explained(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    public_calendar: str,
) -> None:
    """Missing, invalid or restricted keys and private calendars keep the form open."""
    api_key = calendar_emulator.create_api_key()
    private = calendar_emulator.add_calendar(OTHER_ACCOUNT, "Private")
    result = await start_flow(hass, "api_key")

    async def submit(data: dict[str, Any]) -> dict[str, Any]:
        return await hass.config_entries.flow.async_configure(result["flow_id"], data)

    result = await submit({CONF_CALENDARS: [public_calendar]})
    assert result["errors"] == {"api_key": "api_key_required"}
    result = await submit({"api_key": api_key, CONF_CALENDARS: [" "]})
    assert result["errors"] == {CONF_CALENDARS: "no_calendars_selected"}
    result = await submit({"api_key": "AIzaWrong", CONF_CALENDARS: [public_calendar]})
    assert result["errors"] == {"api_key": "invalid_api_key"}
    restricted = calendar_emulator.create_api_key(restricted=True)
    result = await submit({"api_key": restricted, CONF_CALENDARS: [public_calendar]})
    assert result["errors"] == {"api_key": "api_key_restricted"}
    assert "blocked" in result["description_placeholders"]["error"]
    result = await submit({"api_key": api_key, CONF_CALENDARS: [private]})
    assert result["errors"] == {CONF_CALENDARS: "calendar_not_public"}
    assert result["description_placeholders"] == {"calendar": private}
    with patch.object(
        GoogleCalendarApi,
        "get_calendar_resource",
        side_effect=GoogleTransientError(503, "backendError", "down"),
    ):
        result = await submit({"api_key": api_key, CONF_CALENDARS: [public_calendar]})
    assert result["errors"] == {"base": "cannot_connect"}


async def test_same_api_key_twice_aborts(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    public_calendar: str,
) -> None:
    """One entry per API key: add calendars to it by reconfiguring."""
    api_key = calendar_emulator.create_api_key()
    MockConfigEntry(
        domain=DOMAIN, unique_id=api_key_unique_id(api_key), data={}
    ).add_to_hass(hass)
    result = await start_flow(hass, "api_key")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_key": api_key, CONF_CALENDARS: [public_calendar]}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_api_key_reconfigure_replaces_the_key_and_calendars(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    public_calendar: str,
) -> None:
    """Reconfigure keeps the key when left empty, or moves the entry to a new one."""
    old_key = calendar_emulator.create_api_key()
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=api_key_unique_id(old_key),
        data={CONF_AUTH_TYPE: "api_key", "api_key": old_key},
        options={CONF_CALENDARS: [public_calendar], CONF_PUSH_ENABLED: False},
    )
    entry.add_to_hass(hass)
    other = calendar_emulator.add_calendar(OTHER_ACCOUNT, "Cup")
    calendar_emulator.set_public(other)
    new_key = calendar_emulator.create_api_key()

    for api_key, stored in (("", old_key), (new_key, new_key)):
        result = await entry.start_reconfigure_flow(hass)
        assert result["step_id"] == "api_key"
        with patch(
            "custom_components.google_calendar_sync.async_setup_entry",
            return_value=True,
        ):
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"],
                {"api_key": api_key, CONF_CALENDARS: [public_calendar, other]},
            )
            await hass.async_block_till_done()
        assert result["reason"] == "reconfigure_successful"
        assert entry.data["api_key"] == stored
        assert entry.unique_id == api_key_unique_id(stored)
        assert entry.options[CONF_CALENDARS] == [public_calendar, other]
