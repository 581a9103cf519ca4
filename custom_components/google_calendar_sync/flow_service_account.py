"""The service account way in: read its JSON key, check what Google lets it do."""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import Any

from homeassistant.components.file_upload import process_uploaded_file
from homeassistant.core import HomeAssistant

from .credentials import async_service_account_api
from .flow_schemas import CONF_CALENDAR_IDS, CONF_KEY_FILE, CONF_KEY_JSON
from .google.auth import InvalidServiceAccountKeyError, ServiceAccountKey
from .google.errors import (
    GoogleAuthError,
    GoogleCalendarApiError,
    GoogleForbiddenError,
    GoogleNotFoundError,
)
from .google.model import CalendarListEntry

_LOGGER = logging.getLogger(__name__)


def key_given(user_input: Mapping[str, Any]) -> bool:
    """Return whether the form carries a key (uploaded or pasted)."""
    return bool(user_input.get(CONF_KEY_FILE) or user_input.get(CONF_KEY_JSON))


def _read_uploaded_file(hass: HomeAssistant, file_id: str) -> str:
    """Return the text of an uploaded file (blocking: run in the executor)."""
    with process_uploaded_file(hass, file_id) as path:
        return path.read_text(encoding="utf-8")


async def async_key_from_input(
    hass: HomeAssistant, user_input: Mapping[str, Any], errors: dict[str, str]
) -> ServiceAccountKey | None:
    """Return the uploaded or pasted JSON key; record why not in errors."""
    if file_id := user_input.get(CONF_KEY_FILE):
        text = await hass.async_add_executor_job(_read_uploaded_file, hass, file_id)
    elif not (text := user_input.get(CONF_KEY_JSON, "")).strip():
        errors["base"] = "key_required"
        return None
    try:
        return ServiceAccountKey.from_json(text)
    except InvalidServiceAccountKeyError as err:
        _LOGGER.debug("Not a service account key: %s", err)
        errors["base"] = "invalid_key"
        return None


async def async_check_service_account(
    hass: HomeAssistant,
    key: ServiceAccountKey,
    subject: str | None,
    calendar_ids: list[str],
    *,
    errors: dict[str, str],
    placeholders: dict[str, str],
) -> list[CalendarListEntry] | None:
    """Sign in as the service account, add the named calendars, list them all.

    Record why not in errors (and what to name in placeholders).
    """
    api = await async_service_account_api(hass, key, subject)
    try:
        for calendar_id in calendar_ids:
            try:
                await api.add_to_calendar_list(calendar_id)
            except (GoogleNotFoundError, GoogleForbiddenError) as err:
                _LOGGER.debug("Calendar %s is not shared: %s", calendar_id, err)
                placeholders["calendar"] = calendar_id
                errors[CONF_CALENDAR_IDS] = "calendar_not_shared"
                return None
        calendars = await api.list_calendars()
    except GoogleAuthError as err:
        _LOGGER.debug("Google refused the service account: %s", err)
        placeholders["error"] = err.message
        errors["base"] = (
            "delegation_refused"
            if err.reason == "unauthorized_client"
            else "key_refused"
        )
        return None
    except GoogleCalendarApiError as err:
        _LOGGER.debug("Reaching Google as the service account failed: %s", err)
        errors["base"] = "cannot_connect"
        return None
    return calendars
