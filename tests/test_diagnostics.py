"""Diagnostics: counts and states, with tokens, addresses and event texts redacted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.google_calendar_sync.const import (
    CONF_AUTH_TYPE,
    CONF_CALENDARS,
    DOMAIN,
)
from custom_components.google_calendar_sync.flow_public import api_key_unique_id
from google_calendar_emulator import GoogleCalendarEmulator

from .common import loaded_entry, service_account_entry
from .conftest import ACCOUNT, CLUB_CALENDAR, SERVICE_ACCOUNT, WEBHOOK_ID


async def test_entry_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """Diagnostics show sync state and hide personal data."""
    start = datetime.now(UTC) + timedelta(days=1)
    calendar_emulator.insert_event(
        ACCOUNT,
        {
            "summary": "Secret meeting",
            "description": "Private notes",
            "location": "Home",
            "start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
            "end": {
                "dateTime": (start + timedelta(hours=1)).isoformat(),
                "timeZone": "UTC",
            },
            "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3"],
        },
    )
    await setup_integration.runtime_data.coordinators[ACCOUNT].async_sync()

    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, setup_integration
    )

    assert diagnostics == snapshot(exclude=props("last_synced", "api_requests"))
    text = str(diagnostics)
    for secret in (
        ACCOUNT,
        "Secret meeting",
        "Private notes",
        setup_integration.data["token"]["access_token"],
        setup_integration.data["token"]["refresh_token"],
    ):
        assert secret not in text


@pytest.mark.usefixtures("setup_credentials")
async def test_service_account_secrets_are_redacted(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    calendar_emulator: GoogleCalendarEmulator,
    service_account_key: dict[str, Any],
    entry_options: dict[str, Any],
) -> None:
    """The JSON key, the service account's and the delegated user's addresses."""
    calendar_emulator.model.insert_calendar_list_entry(SERVICE_ACCOUNT, CLUB_CALENDAR)
    entry = service_account_entry(
        service_account_key,
        {**entry_options, CONF_CALENDARS: [CLUB_CALENDAR]},
        webhook_id=WEBHOOK_ID,
    )
    async with loaded_entry(hass, entry):
        diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["entry"]["data"]["auth_type"] == "service_account"
    assert diagnostics["entry"]["data"]["service_account_key"] == "**REDACTED**"
    text = str(diagnostics)
    for secret in (
        SERVICE_ACCOUNT,
        CLUB_CALENDAR,
        service_account_key["private_key_id"],
        "PRIVATE KEY",
    ):
        assert secret not in text


@pytest.mark.usefixtures("setup_credentials")
async def test_api_key_is_redacted(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    calendar_emulator: GoogleCalendarEmulator,
    entry_options: dict[str, Any],
) -> None:
    """The API key of a public calendar entry never shows."""
    calendar_emulator.set_public(ACCOUNT)
    api_key = calendar_emulator.create_api_key()
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Public",
        unique_id=api_key_unique_id(api_key),
        data={CONF_AUTH_TYPE: "api_key", "api_key": api_key},
        options={**entry_options, CONF_CALENDARS: [ACCOUNT]},
    )
    async with loaded_entry(hass, entry):
        diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["entry"]["data"] == {
        "auth_type": "api_key",
        "api_key": "**REDACTED**",
    }
    assert api_key not in str(diagnostics)
