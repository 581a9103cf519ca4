"""Conversion: Home Assistant events, ids and rules become Google bodies, ids and rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.google_calendar_sync.convert import (
    EventTarget,
    InvalidRecurrenceError,
    event_body,
    normalize_rrule,
    remaining_recurrence,
    resolve_target,
    trim_recurrence,
    validate_rrule,
)

BERLIN = ZoneInfo("Europe/Berlin")


def test_event_body_from_a_home_assistant_event() -> None:
    """The calendar entity's event dict maps to a Google body."""
    start = datetime(2025, 3, 1, 9, tzinfo=BERLIN)
    body = event_body(
        {
            "summary": "Standup",
            "start": start,
            "end": start + timedelta(minutes=15),
            "rrule": "FREQ=DAILY;COUNT=5",
        },
        time_zone="UTC",
    )
    assert body == {
        "summary": "Standup",
        "description": "",
        "location": "",
        "start": {"dateTime": "2025-03-01T09:00:00+01:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2025-03-01T09:15:00+01:00", "timeZone": "Europe/Berlin"},
        "recurrence": ["RRULE:FREQ=DAILY;COUNT=5"],
    }
    single = event_body(
        {"summary": "x", "start": date(2025, 3, 1), "end": date(2025, 3, 2)},
        time_zone="UTC",
        recurring=False,
    )
    assert "recurrence" not in single


@pytest.mark.parametrize(
    ("uid", "recurrence_id", "expected"),
    [
        ("abc123", None, EventTarget("abc123")),
        # Instance id without recurrence id: the panel's "all events".
        ("abc123_20250301T080000Z", None, EventTarget("abc123")),
        (
            "abc123_20250301T080000Z",
            "20250301T080000Z",
            EventTarget(
                "abc123_20250301T080000Z",
                "abc123",
                datetime(2025, 3, 1, 8, tzinfo=UTC),
            ),
        ),
        (
            "abc123",
            "20250301",
            EventTarget("abc123_20250301", "abc123", date(2025, 3, 1)),
        ),
        (
            "abc123",
            "abc123_20250301",
            EventTarget("abc123_20250301", "abc123", date(2025, 3, 1)),
        ),
    ],
)
def test_resolve_target(
    uid: str, recurrence_id: str | None, expected: EventTarget
) -> None:
    """Both forms Home Assistant may send name the same Google event."""
    assert resolve_target(uid, recurrence_id) == expected
    assert expected.is_instance is (expected.master_id is not None)


def test_trim_recurrence_ends_the_series_before_the_cut() -> None:
    """COUNT and UNTIL give way to an UNTIL one second (or day) before the cut."""
    start = datetime(2025, 3, 1, 9, tzinfo=BERLIN)
    cut = datetime(2025, 3, 4, 8, tzinfo=UTC)
    assert trim_recurrence(
        ["RRULE:FREQ=DAILY;COUNT=10", "EXDATE:20250302T080000Z"], start, cut
    ) == ["RRULE:FREQ=DAILY;UNTIL=20250304T075959Z", "EXDATE:20250302T080000Z"]
    assert trim_recurrence(
        ["RRULE:FREQ=WEEKLY;UNTIL=20260101"], date(2025, 3, 1), date(2025, 3, 15)
    ) == ["RRULE:FREQ=WEEKLY;UNTIL=20250314"]
    # Cutting at the first instance leaves nothing.
    assert trim_recurrence(["RRULE:FREQ=DAILY"], start, start) is None


def test_remaining_recurrence_reduces_the_count() -> None:
    """The new series keeps the rule with the occurrences still to come."""
    start = datetime(2025, 3, 1, 9, tzinfo=BERLIN)
    cut = datetime(2025, 3, 4, 8, tzinfo=UTC)
    assert remaining_recurrence(
        ["RRULE:FREQ=DAILY;COUNT=10", "EXDATE:20250302T080000Z"], start, cut
    ) == ["RRULE:FREQ=DAILY;COUNT=7"]
    assert remaining_recurrence(
        ["RRULE:FREQ=WEEKLY;BYDAY=MO"], date(2025, 3, 3), date(2025, 3, 17)
    ) == ["RRULE:FREQ=WEEKLY;BYDAY=MO"]


def test_validate_rrule() -> None:
    """Rules are normalized; malformed and impossible rules are refused."""
    assert normalize_rrule(" RRULE:FREQ=DAILY ") == "FREQ=DAILY"
    assert validate_rrule("RRULE:FREQ=DAILY;COUNT=3", date(2025, 3, 1)) == (
        "FREQ=DAILY;COUNT=3"
    )
    with pytest.raises(InvalidRecurrenceError):
        validate_rrule("FREQ=SOMETIMES", date(2025, 3, 1))
    with pytest.raises(InvalidRecurrenceError):
        validate_rrule("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", date(2025, 3, 1))
