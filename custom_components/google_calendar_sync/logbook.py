"""Describe the changes made in Google in the logbook (Activity), in words."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.util import dt as dt_util

from .const import DOMAIN, EVENT_CHANGED

type _Describe = Callable[[Event], dict[str, Any]]


def _when(value: Any, *, all_day: bool) -> str | None:
    """Return a start as 'Tue Dec 8, 3:30 PM' in Home Assistant's time zone."""
    if not isinstance(value, str):
        return None
    try:
        if all_day:
            day = date.fromisoformat(value)
            return f"{day:%a %b} {day.day}"
        moment = dt_util.as_local(datetime.fromisoformat(value))
    except ValueError:
        return None
    hour = moment.hour % 12 or 12
    return f"{moment:%a %b} {moment.day}, {hour}:{moment:%M %p}"


def describe_change(data: Mapping[str, Any]) -> str:
    """Return one change of the bus event's payload as a sentence."""
    summary = data.get("summary") or "Untitled event"
    when = _when(data.get("start"), all_day=bool(data.get("all_day")))
    change = data.get("change")
    if change == "created":
        return f"{summary} added for {when}" if when else f"{summary} added"
    if change == "cancelled":
        if data.get("recurring_event_id") and when:
            return f"{summary} on {when} cancelled"
        return f"{summary} cancelled"
    fields = data.get("changed_fields")
    fields = [str(field) for field in fields] if isinstance(fields, list) else []
    if "start" in fields and when:
        return f"{summary} moved to {when}"
    if fields:
        return f"{summary} changed: {', '.join(fields)}"
    return f"{summary} changed"


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, _Describe], None],
) -> None:
    """Describe the bus event of each change made in Google."""

    @callback
    def describe(event: Event) -> dict[str, Any]:
        data = event.data
        entity_id = data.get("entity_id")
        state = hass.states.get(entity_id) if entity_id else None
        return {
            LOGBOOK_ENTRY_NAME: state.name if state else data.get("calendar_id"),
            LOGBOOK_ENTRY_MESSAGE: describe_change(data),
            LOGBOOK_ENTRY_ENTITY_ID: entity_id,
        }

    async_describe_event(DOMAIN, EVENT_CHANGED, describe)
