"""colors.get and calendar colors, through the real google-api-python-client."""

from __future__ import annotations

import pytest

from google_calendar_emulator import GoogleCalendarEmulator

from .conftest import CalendarClient

PRIMARY = "user@example.com"


async def test_colors_get_serves_googles_palette(
    calendar_client: CalendarClient,
) -> None:
    colors = await calendar_client(lambda s: s.colors().get())
    assert colors["kind"] == "calendar#colors"
    assert sorted(colors["calendar"], key=int) == [str(n) for n in range(1, 25)]
    assert sorted(colors["event"], key=int) == [str(n) for n in range(1, 12)]
    assert colors["calendar"]["14"]["background"] == "#9fe1e7"
    assert colors["event"]["5"] == {"background": "#fbd75b", "foreground": "#1d1d1d"}


async def test_calendar_list_entries_carry_their_palette_color(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    family = calendar_emulator.add_calendar(PRIMARY, "Family", color_id="7")
    colors = await calendar_client(lambda s: s.colors().get())
    entries = {
        entry["id"]: entry
        for entry in (await calendar_client(lambda s: s.calendarList().list()))["items"]
    }
    assert entries[family]["colorId"] == "7"
    assert entries[family]["backgroundColor"] == colors["calendar"]["7"]["background"]
    assert entries[PRIMARY]["colorId"] == "14"
    assert entries[PRIMARY]["backgroundColor"] == "#9fe1e7"


def test_unknown_calendar_colors_are_refused(
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    with pytest.raises(ValueError, match="25"):
        calendar_emulator.add_calendar(PRIMARY, "Odd", color_id="25")
