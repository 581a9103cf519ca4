"""Event entities announcing the changes made in Google, one per synced calendar."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, override

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import CalendarSyncCoordinator, GoogleCalendarSyncConfigEntry
from .entity import GoogleCalendarSyncEntity, calendar_name
from .google.diff import ChangeKind

# Changes arrive from the coordinator's syncs; the entities never call Google.
PARALLEL_UPDATES = 0

# Payload keys that are not attributes: the event type, and the calendar entity
# (this entity sits next to it on the same device).
_NOT_ATTRIBUTES = frozenset({"change", "entity_id"})


async def async_setup_entry(
    hass: HomeAssistant,
    entry: GoogleCalendarSyncConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one event entity per synced calendar."""
    async_add_entities(
        GoogleCalendarSyncChangeEntity(coordinator)
        for coordinator in entry.runtime_data.coordinators.values()
    )


class GoogleCalendarSyncChangeEntity(GoogleCalendarSyncEntity, EventEntity):
    """The changes made in Google to one calendar, as created/updated/cancelled."""

    _attr_event_types = [str(kind) for kind in ChangeKind]

    def __init__(self, coordinator: CalendarSyncCoordinator) -> None:
        """Initialize the event entity of one calendar."""
        super().__init__(coordinator)
        if (name := calendar_name(coordinator)) is None:
            self._attr_translation_key = "primary_changes"
        else:
            self._attr_translation_key = "changes"
            self._attr_translation_placeholders = {"calendar": name}

    @override
    async def async_added_to_hass(self) -> None:
        """Listen to the changes the coordinator announces on the bus."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.coordinator.async_add_change_listener(self._async_handle_change)
        )

    @callback
    def _async_handle_change(self, data: Mapping[str, Any]) -> None:
        """Record one change with the bus event's payload as attributes."""
        attributes = {
            key: value for key, value in data.items() if key not in _NOT_ATTRIBUTES
        }
        self._trigger_event(str(data["change"]), attributes)
        self.async_write_ha_state()
