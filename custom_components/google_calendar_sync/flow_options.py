"""The options of an entry: their defaults, their form and its checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelectorMode,
)
import probatio

from .const import (
    CONF_CALENDARS,
    CONF_EXPORT_SOURCES,
    CONF_EXPORT_TARGET,
    CONF_FREE_EVENTS_BUSY,
    CONF_PUSH_ENABLED,
    CONF_SHOW_DECLINED,
    CONF_SYNC_WINDOW_DAYS,
    DEFAULT_SYNC_WINDOW_DAYS,
)
from .coordinator import WRITABLE_ROLES
from .export_routes import configured_routes, looping_routes, option_routes
from .flow_schemas import calendar_selector, calendars_schema
from .google.model import CalendarListEntry

DEFAULT_OPTIONS: dict[str, Any] = {
    CONF_SYNC_WINDOW_DAYS: DEFAULT_SYNC_WINDOW_DAYS,
    CONF_PUSH_ENABLED: True,
    CONF_SHOW_DECLINED: False,
    CONF_FREE_EVENTS_BUSY: [],
}


def _whole_number(*, maximum: int, unit: str, error: str) -> probatio.All[int]:
    """Return a selector for a whole number from 1 to maximum.

    A bad value is refused with the error's key, which the frontend shows
    translated (options.error), instead of voluptuous's text.
    """
    return probatio.All(
        NumberSelector(
            NumberSelectorConfig(
                min=1,
                max=maximum,
                step=1,
                mode=NumberSelectorMode.BOX,
                unit_of_measurement=unit,
            )
        ),
        probatio.Coerce(int),
        msg=error,
    )


def options_schema(
    calendars: list[CalendarListEntry], options: Mapping[str, Any]
) -> probatio.Schema:
    """Return the options form: calendars offered, current options filled in."""
    selected: list[str] = list(options.get(CONF_CALENDARS, []))
    return calendars_schema(calendars, selected).extend(
        {
            probatio.Required(
                CONF_SYNC_WINDOW_DAYS, default=options[CONF_SYNC_WINDOW_DAYS]
            ): _whole_number(maximum=3650, unit="d", error="invalid_sync_window_days"),
            probatio.Required(
                CONF_PUSH_ENABLED, default=options[CONF_PUSH_ENABLED]
            ): BooleanSelector(),
            probatio.Required(
                CONF_SHOW_DECLINED, default=options[CONF_SHOW_DECLINED]
            ): BooleanSelector(),
            probatio.Required(
                CONF_FREE_EVENTS_BUSY, default=options[CONF_FREE_EVENTS_BUSY]
            ): probatio.All(
                calendar_selector(calendars, mode=SelectSelectorMode.DROPDOWN),
                msg="invalid_free_events_busy",
            ),
            # Automatic export of Home Assistant calendars into a Google one.
            probatio.Optional(
                CONF_EXPORT_SOURCES,
                description={"suggested_value": options.get(CONF_EXPORT_SOURCES)},
            ): probatio.All(
                EntitySelector(EntitySelectorConfig(domain="calendar", multiple=True)),
                msg="invalid_export_sources",
            ),
            probatio.Optional(
                CONF_EXPORT_TARGET,
                description={"suggested_value": options.get(CONF_EXPORT_TARGET)},
            ): probatio.All(
                calendar_selector(
                    (
                        calendar
                        for calendar in calendars
                        if calendar.get("accessRole") in WRITABLE_ROLES
                    ),
                    multiple=False,
                    mode=SelectSelectorMode.DROPDOWN,
                ),
                msg="invalid_export_target",
            ),
        }
    )


def options_errors(
    hass: HomeAssistant, entry_id: str, user_input: Mapping[str, Any]
) -> dict[str, str]:
    """Refuse options without a calendar, or an export without a target or that loops."""
    errors: dict[str, str] = {}
    if not user_input.get(CONF_CALENDARS):
        errors["base"] = "no_calendars_selected"
    errors.update(_export_errors(hass, entry_id, user_input))
    return errors


def _export_errors(
    hass: HomeAssistant, entry_id: str, user_input: Mapping[str, Any]
) -> dict[str, str]:
    """Refuse an export without a synced target, or one that loops."""
    sources = user_input.get(CONF_EXPORT_SOURCES)
    target = user_input.get(CONF_EXPORT_TARGET)
    if not sources:
        return {}
    if not target:
        return {CONF_EXPORT_TARGET: "export_target_missing"}
    if target not in user_input.get(CONF_CALENDARS, []):
        return {CONF_EXPORT_TARGET: "export_target_not_synced"}
    routes = option_routes(hass, user_input)
    if any(source == target for source, target in routes):
        return {CONF_EXPORT_SOURCES: "export_into_itself"}
    if looping_routes(configured_routes(hass, except_entry_id=entry_id), routes):
        return {CONF_EXPORT_SOURCES: "export_loop"}
    return {}
