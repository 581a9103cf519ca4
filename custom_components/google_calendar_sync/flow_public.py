"""The API key way in: public calendars named by the user, read with the key."""

from __future__ import annotations

from collections.abc import Iterable
import hashlib
import logging

from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant

from .const import CONF_CALENDARS
from .credentials import async_api_key_api
from .google.addresses import calendar_ids_from_text
from .google.errors import (
    GoogleBadRequestError,
    GoogleCalendarApiError,
    GoogleForbiddenError,
    GoogleNotFoundError,
)
from .google.model import CalendarListEntry

_LOGGER = logging.getLogger(__name__)


def api_key_unique_id(api_key: str) -> str:
    """Return the unique id of an API key entry (a digest: the key is a secret)."""
    return "api_key_" + hashlib.sha256(api_key.encode()).hexdigest()[:16]


def public_calendar_ids(texts: Iterable[str]) -> list[str]:
    """Return the calendar ids of what the user typed (ids or addresses), once each."""
    return list(
        dict.fromkeys(
            calendar_id
            for text in texts
            for calendar_id in calendar_ids_from_text(text)
        )
    )


async def async_read_public_calendars(
    hass: HomeAssistant,
    api_key: str,
    calendar_ids: list[str],
    *,
    errors: dict[str, str],
    placeholders: dict[str, str],
) -> list[CalendarListEntry] | None:
    """Read each calendar with the key; record why not in errors."""
    api = await async_api_key_api(hass, api_key)
    calendars: list[CalendarListEntry] = []
    for calendar_id in calendar_ids:
        try:
            calendars.append(await api.get_calendar_resource(calendar_id))
        except GoogleBadRequestError as err:
            _LOGGER.debug("Google refused the API key: %s", err)
            errors[CONF_API_KEY] = "invalid_api_key"
            return None
        except GoogleForbiddenError as err:
            _LOGGER.debug("Google refused the API key: %s", err)
            placeholders["error"] = err.message
            errors[CONF_API_KEY] = "api_key_restricted"
            return None
        except GoogleNotFoundError:
            placeholders["calendar"] = calendar_id
            errors[CONF_CALENDARS] = "calendar_not_public"
            return None
        except GoogleCalendarApiError as err:
            _LOGGER.debug("Reading %s with the API key failed: %s", calendar_id, err)
            errors["base"] = "cannot_connect"
            return None
    return calendars
