"""Calendar entities answered from the locally synced Google calendars."""

from __future__ import annotations

from datetime import datetime
import logging
from typing import Any, override

from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.components.calendar.const import CalendarEntityFeature
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .convert import EventWriter
from .coordinator import CalendarSyncCoordinator, GoogleCalendarSyncConfigEntry
from .entity import GoogleCalendarSyncEntity
from .timeline import TimelineEvent

_LOGGER = logging.getLogger(__name__)

# Reads come from the coordinator's local timeline and syncs are coalesced by the
# coordinator, so entity updates need no limit.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: GoogleCalendarSyncConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one calendar entity per synced calendar."""
    async_add_entities(
        GoogleCalendarSyncCalendarEntity(coordinator)
        for coordinator in entry.runtime_data.coordinators.values()
    )


def _to_calendar_event(event: TimelineEvent) -> CalendarEvent:
    """Convert a timeline event to Home Assistant's calendar event."""
    return CalendarEvent(
        start=event.start,
        end=event.end,
        summary=event.summary,
        description=event.description,
        location=event.location,
        uid=event.uid,
        recurrence_id=event.recurrence_id,
        rrule=event.rrule,
    )


class GoogleCalendarSyncCalendarEntity(GoogleCalendarSyncEntity, CalendarEntity):
    """One Google calendar, read from the local copy without I/O."""

    def __init__(self, coordinator: CalendarSyncCoordinator) -> None:
        """Initialize the calendar entity."""
        super().__init__(coordinator)
        calendar = coordinator.calendar
        account = coordinator.account
        name = calendar.get("summaryOverride") or calendar.get("summary")
        primary = calendar.get("primary") or coordinator.calendar_id == account
        if primary and name in (None, account):
            # Google names the primary calendar after the account, which already
            # names the device: a translated name avoids "a@b.c a@b.c".
            self._attr_translation_key = "primary"
        else:
            self._attr_name = str(name or coordinator.calendar_id)
        self._was_available = True

    @property
    @override
    def event(self) -> CalendarEvent | None:
        """Return the current or next event."""
        if (found := self.coordinator.data.active_or_next(dt_util.now())) is None:
            return None
        return _to_calendar_event(found)

    @override
    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """Return the events overlapping a range, from the local timeline."""
        return [
            _to_calendar_event(event)
            for event in self.coordinator.data.overlapping(start_date, end_date)
        ]

    @property
    @override
    def supported_features(self) -> CalendarEntityFeature:
        """Offer edits only on calendars the account may write."""
        if not self.coordinator.writable:
            return CalendarEntityFeature(0)
        return (
            CalendarEntityFeature.CREATE_EVENT
            | CalendarEntityFeature.UPDATE_EVENT
            | CalendarEntityFeature.DELETE_EVENT
        )

    @override
    async def async_create_event(self, **kwargs: Any) -> None:
        """Create an event in Google and show it at once."""
        await EventWriter.for_coordinator(self.coordinator).async_create(kwargs)

    @override
    async def async_update_event(
        self,
        uid: str,
        event: dict[str, Any],
        recurrence_id: str | None = None,
        recurrence_range: str | None = None,
    ) -> None:
        """Update an event, one instance, this and following, or the series."""
        await EventWriter.for_coordinator(self.coordinator).async_update(
            uid, event, recurrence_id, recurrence_range
        )

    @override
    async def async_delete_event(
        self,
        uid: str,
        recurrence_id: str | None = None,
        recurrence_range: str | None = None,
    ) -> None:
        """Delete an event, one instance, this and following, or the series."""
        await EventWriter.for_coordinator(self.coordinator).async_delete(
            uid, recurrence_id, recurrence_range
        )

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        """Log availability changes once, then write the state."""
        available = self.available
        if available != self._was_available:
            self._was_available = available
            if available:
                _LOGGER.info("Calendar %s is back", self.entity_id)
            else:
                _LOGGER.info("Calendar %s is unavailable", self.entity_id)
        super()._handle_coordinator_update()
