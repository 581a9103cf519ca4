"""Intents that let Assist and LLM agents create Google Calendar events."""

from __future__ import annotations

from datetime import datetime, timedelta
import logging
from typing import Any

from homeassistant.components.calendar.const import (
    DATA_COMPONENT,
    DOMAIN as CALENDAR_DOMAIN,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv, entity_registry as er, intent
from homeassistant.util import dt as dt_util
import probatio

from .calendar import GoogleCalendarSyncCalendarEntity
from .const import DOMAIN
from .convert import EventWriter

_LOGGER = logging.getLogger(__name__)

INTENT_CREATE_EVENT = "GoogleCalendarSyncCreateEvent"
DEFAULT_DURATION_MINUTES = 60


async def async_setup_intents(hass: HomeAssistant) -> None:
    """Register the integration's intents (called by the intent integration)."""
    intent.async_register(hass, CreateEventIntentHandler())


def _our_calendars(hass: HomeAssistant) -> list[GoogleCalendarSyncCalendarEntity]:
    """Return the loaded calendar entities of this integration."""
    if (component := hass.data.get(DATA_COMPONENT)) is None:
        return []
    registry = er.async_get(hass)
    found: list[GoogleCalendarSyncCalendarEntity] = []
    for entry in registry.entities.values():
        if entry.platform != DOMAIN or entry.domain != CALENDAR_DOMAIN:
            continue
        entity = component.get_entity(entry.entity_id)
        if isinstance(entity, GoogleCalendarSyncCalendarEntity):
            found.append(entity)
    return found


def _find_calendar(
    hass: HomeAssistant, wanted: str | None
) -> GoogleCalendarSyncCalendarEntity:
    """Return the calendar named by the slot (entity id or name)."""
    writable = [entity for entity in _our_calendars(hass) if entity.writable]
    if wanted is None:
        if len(writable) == 1:
            return writable[0]
        raise intent.IntentHandleError("Which calendar should I use?")
    key = wanted.strip().casefold()
    for entity in writable:
        state = hass.states.get(entity.entity_id)
        names = {entity.entity_id.casefold()}
        if state is not None:
            names.add(state.name.casefold())
        if entity.name and isinstance(entity.name, str):
            names.add(entity.name.casefold())
        # "the family calendar" gives "family", "the primary calendar" gives "primary".
        if key in names or f"{key} calendar" in names:
            return entity
    raise intent.IntentHandleError(f"I found no Google calendar called {wanted}")


def _parse_start(value: str) -> datetime:
    """Return the aware start of a date-time or time-of-day slot."""
    parsed = dt_util.parse_datetime(value)
    if parsed is None and (time_of_day := dt_util.parse_time(value)) is not None:
        parsed = datetime.combine(dt_util.now().date(), time_of_day)
    if parsed is None:
        raise intent.IntentHandleError(f"I did not understand the time {value}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt_util.get_default_time_zone())
    return parsed


class CreateEventIntentHandler(intent.IntentHandler):
    """Create an event in one of the synced Google calendars."""

    intent_type = INTENT_CREATE_EVENT
    description = "Creates an event in a Google calendar synced by Home Assistant"

    @property
    def slot_schema(self) -> dict[Any, Any]:
        """Return the slots: calendar, summary, start and duration."""
        return {
            probatio.Optional("calendar"): cv.string,
            probatio.Required("summary"): intent.non_empty_string,
            probatio.Required("start"): cv.string,
            probatio.Optional("duration"): probatio.All(
                probatio.Coerce(int), probatio.Range(min=1)
            ),
        }

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Create the event and confirm it."""
        hass = intent_obj.hass
        slots = self.async_validate_slots(intent_obj.slots)
        calendar_slot = slots.get("calendar", {}).get("value")
        summary: str = slots["summary"]["value"]
        start = _parse_start(slots["start"]["value"])
        minutes = slots.get("duration", {}).get("value", DEFAULT_DURATION_MINUTES)
        entity = _find_calendar(hass, calendar_slot)
        end = start + timedelta(minutes=minutes)
        try:
            await EventWriter.for_coordinator(entity.coordinator).async_create(
                {"summary": summary, "start": start, "end": end}
            )
        except HomeAssistantError as err:
            raise intent.IntentHandleError(str(err)) from err
        response = intent_obj.create_response()
        calendar_name = hass.states.get(entity.entity_id)
        response.async_set_speech(
            f"Created {summary} in "
            f"{calendar_name.name if calendar_name else entity.entity_id} "
            f"on {dt_util.as_local(start).strftime('%A %d %B at %H:%M')}"
        )
        return response
