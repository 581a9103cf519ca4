"""The forms of the config flow: calendar choice, service account and API key."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from homeassistant.const import CONF_API_KEY
from homeassistant.helpers.selector import (
    FileSelector,
    FileSelectorConfig,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio

from .const import CONF_CALENDARS, CONF_SUBJECT
from .coordinator import WRITABLE_ROLES
from .google.model import CalendarListEntry, display_name

# Service account form: the JSON key (uploaded or pasted), a user to act for, calendars.
CONF_KEY_FILE = "key_file"
CONF_KEY_JSON = "key_json"
CONF_CALENDAR_IDS = "calendar_ids"


def _calendar_options(
    calendars: Iterable[CalendarListEntry],
) -> list[SelectOptionDict]:
    """Return select options naming calendars the way the user knows them."""
    return [
        SelectOptionDict(value=calendar["id"], label=display_name(calendar))
        for calendar in calendars
    ]


def calendar_selector(
    calendars: Iterable[CalendarListEntry],
    *,
    multiple: bool = True,
    mode: SelectSelectorMode = SelectSelectorMode.LIST,
) -> SelectSelector:
    """Return a selector of calendars named the way the user knows them."""
    return SelectSelector(
        SelectSelectorConfig(
            options=_calendar_options(calendars), multiple=multiple, mode=mode
        )
    )


def calendars_schema(
    calendars: list[CalendarListEntry], default: list[str]
) -> probatio.Schema:
    """Return a form to pick calendars from the account's calendar list."""
    return probatio.Schema(
        {
            probatio.Required(CONF_CALENDARS, default=default): probatio.All(
                calendar_selector(calendars), msg="invalid_calendars"
            )
        }
    )


def default_selection(
    calendars: list[CalendarListEntry],
    given: Iterable[str] = (),
    synced: Iterable[str] | None = None,
) -> list[str]:
    """Return the calendars ticked at first, with those the user named.

    Reconfiguring ticks the calendars synced already; adding an account ticks the
    writable ones and the primary one.
    """
    if synced is not None:
        return list(dict.fromkeys([*synced, *given]))
    named = set(given)
    return [
        calendar["id"]
        for calendar in calendars
        if calendar.get("primary")
        or calendar.get("accessRole") in WRITABLE_ROLES
        or calendar["id"] in named
    ]


def key_schema() -> probatio.Schema:
    """Return the form that takes a service account's new JSON key."""
    return probatio.Schema(_key_fields())


def _key_fields() -> dict[probatio.Marker, Any]:
    """Return the fields that take a service account's JSON key."""
    return {
        probatio.Optional(CONF_KEY_FILE): FileSelector(
            FileSelectorConfig(accept=".json,application/json")
        ),
        probatio.Optional(CONF_KEY_JSON): TextSelector(
            TextSelectorConfig(multiline=True)
        ),
    }


def service_account_schema(
    subject: str | None, calendar_ids: list[str]
) -> probatio.Schema:
    """Return the service account form, filled with what is known."""
    return probatio.Schema(
        {
            **_key_fields(),
            probatio.Optional(
                CONF_SUBJECT, description={"suggested_value": subject}
            ): TextSelector(TextSelectorConfig(type=TextSelectorType.EMAIL)),
            probatio.Optional(
                CONF_CALENDAR_IDS, description={"suggested_value": calendar_ids}
            ): TextSelector(TextSelectorConfig(multiple=True)),
        }
    )


def api_key_schema(calendars: list[str]) -> probatio.Schema:
    """Return the public calendar form, filled with what is known."""
    return probatio.Schema(
        {
            probatio.Optional(CONF_API_KEY): TextSelector(
                TextSelectorConfig(type=TextSelectorType.PASSWORD)
            ),
            probatio.Required(
                CONF_CALENDARS, description={"suggested_value": calendars}
            ): TextSelector(TextSelectorConfig(multiple=True)),
        }
    )
