"""Real-time push for an entry: Google's notifications become coalesced syncs."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback

from .channels import PushManager
from .const import CONF_PUSH_ENABLED, AuthType
from .coordinator import GoogleCalendarSyncConfigEntry
from .credentials import auth_type
from .notifications import async_remove_cloudhook
from .push_status import async_delete_push_issue


async def async_setup_push(
    hass: HomeAssistant, entry: GoogleCalendarSyncConfigEntry
) -> None:
    """Start push for a set-up entry unless turned off; polling covers failures."""
    data = entry.runtime_data
    # Google ties a channel to the user and OAuth client that opened it: an API key
    # has neither, so public calendars are polled.
    if (
        not entry.options.get(CONF_PUSH_ENABLED, True)
        or not data.coordinators
        or auth_type(entry.data) is AuthType.API_KEY
    ):
        async_delete_push_issue(hass, entry.entry_id)
        return
    coordinators = data.coordinators

    @callback
    def _async_calendar_changed(calendar_id: str) -> None:
        """Sync a calendar after Google said it changed.

        The coordinator coalesces: a burst arriving during a sync costs one more.
        """
        coordinators[calendar_id].async_schedule_sync()

    @callback
    def _async_push_state(calendar_id: str, active: bool) -> None:
        """Poll rarely while push is live and often while it is not."""
        coordinators[calendar_id].set_push_active(active)

    data.push = PushManager(
        hass,
        entry,
        data.api,
        data.stored,
        _async_calendar_changed,
        store=data.store,
        on_push_state=_async_push_state,
    )
    await data.push.async_start(coordinators)


async def async_remove_push(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
    """Clean up push leftovers of a removed entry (its channels stopped at unload)."""
    async_delete_push_issue(hass, entry.entry_id)
    await async_remove_cloudhook(hass, entry)
