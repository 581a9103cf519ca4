"""What automations see of a change in Google: the bus event and the same payload."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback

from .const import EVENT_CHANGED
from .google.colors import ColorPalette
from .google.diff import ChangeKind, ChangeSet, EventChange
from .google.event_views import event_type, response_status
from .google.meet import meet_link
from .google.model import CalendarListEntry, Event

# Receives the payload of each announced change, the one the bus event carries
# (JSON for automations, hence free-form).
type ChangeListener = Callable[[Mapping[str, Any]], None]


def _time_value(moment: object) -> str | None:
    """Return the ISO string of a Google start/end object."""
    if not isinstance(moment, dict):
        return None
    value = moment.get("dateTime") or moment.get("date")
    return str(value) if value is not None else None


def _is_date(moment: object) -> bool:
    """Return True for the start/end object of an all-day event."""
    return isinstance(moment, dict) and "date" in moment


def event_fields(event: Event) -> dict[str, Any]:
    """Return what automations see of a Google event (bus event, action answers)."""
    return {
        "event_id": event.get("id"),
        "summary": event.get("summary"),
        "start": _time_value(event.get("start")),
        "end": _time_value(event.get("end")),
        "all_day": _is_date(event.get("start")),
        "location": event.get("location"),
        "description": event.get("description"),
        "meet_link": meet_link(event),
        "recurring_event_id": event.get("recurringEventId"),
    }


def change_data(
    change: EventChange,
    *,
    entity_id: str | None,
    calendar: CalendarListEntry,
    palette: ColorPalette,
) -> dict[str, Any]:
    """Return the bus event payload of one change in a calendar."""
    event = change.event
    return {
        "entity_id": entity_id,
        "calendar_id": calendar["id"],
        "change": str(change.kind),
        **event_fields(event),
        "event_kind": str(event_type(event)),
        "color": palette.event_color(event, calendar),
        "response_status": (
            str(status) if (status := response_status(event)) else None
        ),
        "changed_fields": (
            list(change.changed_fields) if change.kind is ChangeKind.UPDATED else []
        ),
    }


class ChangeAnnouncer:
    """Announce the changes of one calendar: a bus event each, and its listeners."""

    def __init__(
        self, hass: HomeAssistant, calendar: CalendarListEntry, palette: ColorPalette
    ) -> None:
        """Announce for a calendar (its list entry) colored with palette."""
        self._hass = hass
        self._calendar = calendar
        self._palette = palette
        self._listeners: list[ChangeListener] = []

    @callback
    def async_add_listener(self, listener: ChangeListener) -> CALLBACK_TYPE:
        """Call listener with each change announced on the bus; returns a remover."""
        self._listeners.append(listener)

        @callback
        def remove() -> None:
            self._listeners.remove(listener)

        return remove

    @callback
    def async_announce(self, changes: ChangeSet, entity_id: str | None) -> None:
        """Fire one bus event per change and give listeners the same payload."""
        for change in changes:
            data = change_data(
                change,
                entity_id=entity_id,
                calendar=self._calendar,
                palette=self._palette,
            )
            self._hass.bus.async_fire(EVENT_CHANGED, data)
            for listener in list(self._listeners):
                listener(data)
