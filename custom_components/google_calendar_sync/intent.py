"""Intents that let Assist and LLM agents create Google Calendar events."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
import logging
from typing import Any

from homeassistant.components.calendar.const import (
    DATA_COMPONENT,
    DOMAIN as CALENDAR_DOMAIN,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    config_validation as cv,
    entity_registry as er,
    intent,
    translation,
)
from homeassistant.util import dt as dt_util
import probatio

from .calendar import GoogleCalendarSyncCalendarEntity
from .const import DOMAIN
from .writer import EventWriter

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


def _intent_error(key: str, **placeholders: str) -> HomeAssistantError:
    """Return an error whose translated message Assist speaks."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


def _calendar_names(
    hass: HomeAssistant, entity: GoogleCalendarSyncCalendarEntity
) -> set[str]:
    """Return the names a calendar is known by, folded."""
    names = {entity.entity_id.casefold()}
    if (state := hass.states.get(entity.entity_id)) is not None:
        names.add(state.name.casefold())
    if entity.name and isinstance(entity.name, str):
        names.add(entity.name.casefold())
    return names


def _spoken_name(hass: HomeAssistant, entity: GoogleCalendarSyncCalendarEntity) -> str:
    """Return the name Assist uses for a calendar (without the account's)."""
    if isinstance(name := entity.name, str) and name:
        return name
    state = hass.states.get(entity.entity_id)
    return state.name if state is not None else entity.entity_id


def _find_calendar(
    hass: HomeAssistant, wanted: str | None
) -> GoogleCalendarSyncCalendarEntity:
    """Return the calendar named by the slot (entity id or name)."""
    calendars = _our_calendars(hass)
    writable = [entity for entity in calendars if entity.writable]
    if wanted is None:
        if len(writable) == 1:
            return writable[0]
        if not writable:
            raise _intent_error("intent_no_writable_calendar")
        raise _intent_error(
            "intent_which_calendar",
            calendars=", ".join(sorted(_spoken_name(hass, e) for e in writable)),
        )
    key = wanted.strip().casefold()
    for entity in calendars:
        names = _calendar_names(hass, entity)
        # "the family calendar" gives "family", "the primary calendar" gives "primary".
        if key in names or f"{key} calendar" in names:
            if not entity.writable:
                raise _intent_error(
                    "intent_calendar_read_only", calendar=_spoken_name(hass, entity)
                )
            return entity
    raise _intent_error("intent_unknown_calendar", calendar=wanted)


def _parse_start(value: str) -> datetime:
    """Return the aware start of a date-time or time-of-day slot."""
    parsed = dt_util.parse_datetime(value)
    if parsed is None and (time_of_day := dt_util.parse_time(value)) is not None:
        parsed = datetime.combine(dt_util.now().date(), time_of_day)
    if parsed is None:
        raise _intent_error("intent_invalid_time", time=value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt_util.get_default_time_zone())
    return parsed


async def _async_text(
    hass: HomeAssistant, language: str, key: str, placeholders: Mapping[str, str]
) -> str:
    """Return one of our texts (category.key) in the language of the conversation.

    Home Assistant falls back to English for a language we have no text in.
    """
    category = key.partition(".")[0]
    texts = await translation.async_get_translations(hass, language, category, [DOMAIN])
    return texts[f"component.{DOMAIN}.{key}"].format(**placeholders)


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
        """Create the event and confirm it, or say in words what went wrong."""
        hass = intent_obj.hass
        slots = self.async_validate_slots(intent_obj.slots)
        summary: str = slots["summary"]["value"]
        minutes = slots.get("duration", {}).get("value", DEFAULT_DURATION_MINUTES)
        response = intent_obj.create_response()
        try:
            entity = _find_calendar(hass, slots.get("calendar", {}).get("value"))
            start = _parse_start(slots["start"]["value"])
            await EventWriter.for_coordinator(entity.coordinator).async_create(
                {
                    "summary": summary,
                    "start": start,
                    "end": start + timedelta(minutes=minutes),
                }
            )
        except HomeAssistantError as err:
            message = str(err)
            if err.translation_domain == DOMAIN and err.translation_key:
                message = await _async_text(
                    hass,
                    intent_obj.language,
                    f"exceptions.{err.translation_key}.message",
                    err.translation_placeholders or {},
                )
            _LOGGER.debug("Could not create %s: %s", summary, message)
            response.async_set_error(
                intent.IntentResponseErrorCode.FAILED_TO_HANDLE, message
            )
            return response
        local = dt_util.as_local(start)
        placeholders = {
            "summary": summary,
            "calendar": _spoken_name(hass, entity),
            "date": local.strftime("%A %d %B"),
            "time": local.strftime("%H:%M"),
        }
        response.async_set_speech(
            await _async_text(
                hass, intent_obj.language, "common.intent_created", placeholders
            )
        )
        return response
