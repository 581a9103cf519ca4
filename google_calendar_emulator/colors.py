"""Google Calendar's color palette, as `colors.get` serves it.

The values are Google's fixed palette (calendar colors 1-24, event colors 1-11):
calendarList entries and events name a color by its id, and clients resolve it here.
"""

from __future__ import annotations

from typing import Any, Final

_FOREGROUND: Final = "#1d1d1d"
CALENDAR_BACKGROUNDS: Final = (
    "#ac725e",
    "#d06b64",
    "#f83a22",
    "#fa573c",
    "#ff7537",
    "#ffad46",
    "#42d692",
    "#16a765",
    "#7bd148",
    "#b3dc6c",
    "#fbe983",
    "#fad165",
    "#92e1c0",
    "#9fe1e7",
    "#9fc6e7",
    "#4986e7",
    "#9a9cff",
    "#b99aff",
    "#c2c2c2",
    "#cabdbf",
    "#cca6ac",
    "#f691b2",
    "#cd74e6",
    "#a47ae2",
)
EVENT_BACKGROUNDS: Final = (
    "#a4bdfc",
    "#7ae7bf",
    "#dbadff",
    "#ff887c",
    "#fbd75b",
    "#ffb878",
    "#46d6db",
    "#e1e1e1",
    "#5484ed",
    "#51b749",
    "#dc2127",
)
# When Google last changed its palette, as colors.get reports it.
_UPDATED: Final = "2012-02-14T00:00:00.000Z"


def _palette(backgrounds: tuple[str, ...]) -> dict[str, dict[str, str]]:
    return {
        str(number): {"background": background, "foreground": _FOREGROUND}
        for number, background in enumerate(backgrounds, start=1)
    }


CALENDAR_COLORS: Final = _palette(CALENDAR_BACKGROUNDS)
EVENT_COLORS: Final = _palette(EVENT_BACKGROUNDS)


def colors_resource() -> dict[str, Any]:
    """Return the colors.get body."""
    return {
        "kind": "calendar#colors",
        "updated": _UPDATED,
        "calendar": {key: dict(value) for key, value in CALENDAR_COLORS.items()},
        "event": {key: dict(value) for key, value in EVENT_COLORS.items()},
    }
