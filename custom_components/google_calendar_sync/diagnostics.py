"""Diagnostics of the Google Calendar Sync integration."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_ACCESS_TOKEN, CONF_API_KEY, CONF_TOKEN
from homeassistant.core import HomeAssistant

from .const import (
    CONF_CALENDARS,
    CONF_EXPORT_TARGET,
    CONF_SERVICE_ACCOUNT_KEY,
    CONF_SUBJECT,
    CONF_WEBHOOK_ID,
)
from .coordinator import GoogleCalendarSyncConfigEntry

# Secrets (tokens, service account keys, API keys), e-mail addresses (calendar ids
# and delegated users are addresses) and event texts.
TO_REDACT = {
    CONF_ACCESS_TOKEN,
    "refresh_token",
    CONF_TOKEN,
    CONF_SERVICE_ACCOUNT_KEY,
    "private_key",
    CONF_SUBJECT,
    CONF_API_KEY,
    CONF_WEBHOOK_ID,
    CONF_CALENDARS,
    CONF_EXPORT_TARGET,
    "title",
    "unique_id",
    "account",
    "calendar_id",
    "summary",
    "description",
    "location",
    "channel_id",
    "resource_id",
    "address",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: GoogleCalendarSyncConfigEntry
) -> dict[str, Any]:
    """Return redacted diagnostics of one Google account."""
    data = entry.runtime_data
    calendars: list[dict[str, Any]] = []
    for coordinator in data.coordinators.values():
        snapshot = coordinator.snapshot
        events = snapshot.events.values()
        calendars.append(
            {
                "calendar_id": coordinator.calendar_id,
                "summary": coordinator.calendar.get("summary"),
                "access_role": coordinator.calendar.get("accessRole"),
                "time_zone": coordinator.calendar.get("timeZone"),
                "writable": coordinator.writable,
                "events": len(snapshot.events),
                "recurring_masters": sum(
                    1 for event in events if "recurrence" in event
                ),
                "recurring_exceptions": sum(
                    1 for event in events if "recurringEventId" in event
                ),
                "has_sync_token": snapshot.sync_token is not None,
                "last_synced": (
                    snapshot.last_synced.isoformat() if snapshot.last_synced else None
                ),
                "last_update_success": coordinator.last_update_success,
                "update_interval": str(coordinator.update_interval),
                "push_active": coordinator.push_active,
            }
        )
    return async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "unique_id": entry.unique_id,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            "api_requests": data.api.request_count,
            "synced_calendars": calendars,
            "push": data.push.diagnostics() if data.push is not None else None,
        },
        TO_REDACT,
    )
