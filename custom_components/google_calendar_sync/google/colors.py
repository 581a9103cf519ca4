"""Google's color palette (colors.get) and the colors of calendars and events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .model import CalendarListEntry, Colors, Event


def _backgrounds(palette: object) -> dict[str, str]:
    """Return color id -> background of one palette of a colors.get answer."""
    if not isinstance(palette, dict):
        return {}
    return {
        str(color_id): str(color["background"])
        for color_id, color in palette.items()
        if isinstance(color, dict) and color.get("background")
    }


@dataclass(frozen=True, slots=True)
class ColorPalette:
    """Background colors by id, of calendars and of events."""

    calendar: Mapping[str, str] = field(default_factory=dict)
    event: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_colors(cls, colors: Colors) -> ColorPalette:
        """Read a colors.get answer."""
        return cls(
            calendar=_backgrounds(colors.get("calendar")),
            event=_backgrounds(colors.get("event")),
        )

    def calendar_color(self, calendar: CalendarListEntry) -> str | None:
        """Return a calendar's color: the user's choice, else its palette color."""
        if background := calendar.get("backgroundColor"):
            return str(background)
        return self.calendar.get(str(calendar.get("colorId")))

    def event_color(self, event: Event, calendar: CalendarListEntry) -> str | None:
        """Return the color Google shows an event in: its own, else its calendar's."""
        if (color_id := event.get("colorId")) is not None and (
            color := self.event.get(str(color_id))
        ) is not None:
            return color
        return self.calendar_color(calendar)
