"""Diagnostics: counts and states, with tokens, addresses and event texts redacted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from google_calendar_emulator import GoogleCalendarEmulator

from .conftest import ACCOUNT


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
