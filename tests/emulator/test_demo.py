"""The demo data: natural local times on fixed days, whatever the hour of seeding."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from google_calendar_emulator import GoogleCalendarEmulator
from google_calendar_emulator.demo import (
    DEMO_USER,
    FAMILY_CALENDAR,
    HOLIDAYS_CALENDAR,
    seed_demo,
)

ZONE = "Europe/Amsterdam"


def _starts(emulator: GoogleCalendarEmulator, calendar_id: str) -> dict[str, str]:
    """Return summary -> start (local date and time, or date) of a calendar's events."""
    starts = {}
    for event in emulator.events(calendar_id):
        start = event["start"]
        if "date" in start:
            starts[event["summary"]] = start["date"]
        else:
            moment = datetime.fromisoformat(start["dateTime"]).astimezone(
                ZoneInfo(ZONE)
            )
            starts[event["summary"]] = f"{moment:%Y-%m-%d %H:%M}"
    return starts


@pytest.mark.parametrize("today", [date(2030, 1, 7), date(2030, 3, 31)])
def test_demo_events_fall_at_natural_local_times(today: date) -> None:
    """Breakfast at 8:00 and the dentist at 15:00 today, in the demo's time zone."""
    emulator = GoogleCalendarEmulator()
    seed_demo(emulator, today=today, time_zone=ZONE)

    day = today.isoformat()
    primary = _starts(emulator, DEMO_USER)
    assert primary["Breakfast with Sam"] == f"{day} 08:00"
    assert primary["Dentist"] == f"{day} 15:00"
    assert primary["Weekly team sync (moved)"] == f"{day} 11:00"
    assert primary["Focus time"].endswith(" 09:00")
    assert primary["Project review"].endswith(" 11:00")
    family = _starts(emulator, FAMILY_CALENDAR)
    assert family["Football practice"].endswith(" 17:00")
    assert datetime.fromisoformat(family["Football practice"]).weekday() == 1  # Tuesday
    assert set(_starts(emulator, HOLIDAYS_CALENDAR)) == {"Demo Day", "Founders' Day"}
    for event in emulator.events(DEMO_USER):
        if "dateTime" in event["start"]:
            assert event["start"]["timeZone"] == ZONE
