"""Calendar ids from what Google Calendar lets you copy: ids, public URLs, iCal links."""

from __future__ import annotations

import base64
from urllib.parse import quote

from hypothesis import given, strategies as st
import pytest

from custom_components.google_calendar_sync.google.addresses import (
    calendar_ids_from_text,
)

CALENDAR = "matches@group.calendar.google.com"
QUOTED = "matches%40group.calendar.google.com"
EMBED = f"{QUOTED}&ctz=Europe%2FBerlin"
HOLIDAYS = "en.german%23holiday%40group.v.calendar.google.com"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (CALENDAR, [CALENDAR]),
        (f"  {CALENDAR}\n", [CALENDAR]),
        ("", []),
        (f"https://calendar.google.com/calendar/embed?src={EMBED}", [CALENDAR]),
        (
            f"https://calendar.google.com/calendar/embed?src={CALENDAR}&src=a%40b.c",
            [CALENDAR, "a@b.c"],
        ),
        (
            f"https://calendar.google.com/calendar/ical/{QUOTED}/public/basic.ics",
            [CALENDAR],
        ),
        (
            f"webcal://calendar.google.com/calendar/ical/{HOLIDAYS}/public/basic.ics",
            ["en.german#holiday@group.v.calendar.google.com"],
        ),
        (
            "https://calendar.google.com/calendar/u/0?cid="
            + base64.urlsafe_b64encode(CALENDAR.encode()).decode().rstrip("="),
            [CALENDAR],
        ),
        (f"https://calendar.google.com/calendar/r?cid={CALENDAR}", [CALENDAR]),
        ("https://calendar.google.com/calendar/u/0?cid=notbase64!", ["notbase64!"]),
        ("https://calendar.google.com/calendar/r", []),
        ("https://calendar.google.com/calendar/ical/", []),
    ],
)
def test_calendar_ids_from_text(text: str, expected: list[str]) -> None:
    """Each shape Google shows yields the calendar id it names."""
    assert calendar_ids_from_text(text) == expected


@given(
    st.emails().map(str.lower),
    st.sampled_from(["embed?src={}", "ical/{}/public/basic.ics", "u/0?cid={}"]),
)
def test_addresses_name_the_calendar_they_were_made_from(
    calendar_id: str, shape: str
) -> None:
    """Any calendar id survives being written into a public address."""
    value = (
        base64.urlsafe_b64encode(calendar_id.encode()).decode().rstrip("=")
        if "cid" in shape
        else quote(calendar_id, safe="")
    )
    address = "https://calendar.google.com/calendar/" + shape.format(value)
    assert calendar_ids_from_text(address) == [calendar_id]
