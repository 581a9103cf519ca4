"""Where exports go, so that no export leads back into its own source.

An export copies the events of a Home Assistant calendar (the source) into a Google
calendar (the target). A source that is one of our calendar entities stands for its
Google calendar, so an export of A into B and one of B into A form a loop, whichever
accounts sync A and B. Loops are refused before they are stored or run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from homeassistant.components.calendar.const import DATA_COMPONENT
from homeassistant.core import HomeAssistant

from .calendar import GoogleCalendarSyncCalendarEntity
from .const import CONF_EXPORT_SOURCES, CONF_EXPORT_TARGET, DOMAIN

type Route = tuple[str, str]


def export_node(hass: HomeAssistant, entity_id: str) -> str:
    """Return what a source stands for: its Google calendar id, or its entity id."""
    if (component := hass.data.get(DATA_COMPONENT)) is not None and isinstance(
        entity := component.get_entity(entity_id), GoogleCalendarSyncCalendarEntity
    ):
        return entity.coordinator.calendar_id
    return entity_id


def option_routes(hass: HomeAssistant, options: Mapping[str, Any]) -> list[Route]:
    """Return the routes (source, target calendar) of an entry's automatic export."""
    target = options.get(CONF_EXPORT_TARGET)
    if not target:
        return []
    return [
        (export_node(hass, source), str(target))
        for source in options.get(CONF_EXPORT_SOURCES) or []
    ]


def configured_routes(
    hass: HomeAssistant, *, except_entry_id: str | None = None
) -> list[Route]:
    """Return the routes of every entry's automatic export."""
    return [
        route
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.entry_id != except_entry_id
        for route in option_routes(hass, entry.options)
    ]


def _reaches(routes: Iterable[Route], start: str, goal: str) -> bool:
    """Return True when exports lead from start to goal."""
    targets: dict[str, set[str]] = {}
    for source, target in routes:
        targets.setdefault(source, set()).add(target)
    seen = {start}
    pending = [start]
    while pending:
        node = pending.pop()
        if node == goal:
            return True
        for following in targets.get(node, set()) - seen:
            seen.add(following)
            pending.append(following)
    return False


def looping_routes(routes: Iterable[Route], new: Iterable[Route]) -> list[Route]:
    """Return the new routes that lead back into their own source."""
    new = list(new)
    every = [*routes, *new]
    return [
        (source, target) for source, target in new if _reaches(every, target, source)
    ]
