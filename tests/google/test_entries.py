"""Timeline entries: the bounds of Google times, events built once, kept conversions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from custom_components.google_calendar_sync.google.entries import Bounds, Entry
from custom_components.google_calendar_sync.google.timeline import CalendarTimeline

from .conftest import BERLIN, MARCH_2, NEW_YORK, Upper, timed


def test_events_without_zone_use_the_offset_and_floating_times() -> None:
    offset = {
        "id": "offset",
        "summary": "offset",
        "start": {"dateTime": "2026-04-01T10:00:00+05:30"},
        "end": {"dateTime": "2026-04-01T11:00:00+05:30"},
    }
    floating = {
        "id": "floating",
        "start": {"dateTime": "2026-04-01T10:00:00"},
        "end": {"dateTime": "2026-04-01T11:00:00"},
    }
    timeline = CalendarTimeline([offset, floating], default_time_zone="Europe/Berlin")

    events = timeline.overlapping(
        datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC)
    )

    assert [(e.uid, e.start.isoformat(), e.summary) for e in events] == [
        ("offset", "2026-04-01T10:00:00+05:30", "offset"),
        ("floating", "2026-04-01T10:00:00+02:00", ""),
    ]


def test_orphan_exception_is_a_plain_event() -> None:
    # Invited to one instance only: Google sends the exception without its master.
    instance = timed(
        "party_20260601T180000Z",
        datetime(2026, 6, 1, 18, tzinfo=UTC),
        recurringEventId="party",
        originalStartTime={"dateTime": "2026-06-01T18:00:00Z"},
    )
    timeline = CalendarTimeline([instance], default_time_zone="UTC")

    (event,) = timeline.overlapping(
        datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 2, tzinfo=UTC)
    )
    assert event.recurrence_id == "20260601T180000Z"


def test_converted_events_are_kept_until_their_event_changes(
    two_meetings: CalendarTimeline,
) -> None:
    upper = Upper()

    assert two_meetings.converted(*MARCH_2, upper) == ["FIRST", "SECOND"]
    assert two_meetings.converted(*MARCH_2, upper) == ["FIRST", "SECOND"]
    two_meetings.update(
        [timed("first", datetime(2026, 3, 2, 9, tzinfo=UTC), summary="moved")]
    )
    assert two_meetings.converted(*MARCH_2, upper) == ["MOVED", "SECOND"]
    assert upper.calls == ["first", "second", "first"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # A day starts at midnight in the calendar's zone.
        ({"date": "2026-03-29"}, datetime(2026, 3, 29, tzinfo=BERLIN)),
        (
            {"dateTime": "2026-03-29T10:00:00+05:30"},
            datetime(2026, 3, 29, 4, 30, tzinfo=UTC),
        ),
        # Without an offset: in the value's own zone, else in the calendar's.
        (
            {"dateTime": "2026-03-29T10:00:00", "timeZone": "America/New_York"},
            datetime(2026, 3, 29, 10, tzinfo=NEW_YORK),
        ),
        ({"dateTime": "2026-03-29T10:00:00"}, datetime(2026, 3, 29, 10, tzinfo=BERLIN)),
    ],
)
def test_bounds_are_utc_timestamps_of_google_times(
    value: dict[str, str], expected: datetime
) -> None:
    assert Bounds(BERLIN).of(value) == expected.timestamp()


def test_naive_datetimes_are_in_the_calendars_zone() -> None:
    bounds = Bounds(BERLIN)

    assert bounds.timestamp(datetime(2026, 3, 29, 10)) == (  # noqa: DTZ001
        datetime(2026, 3, 29, 10, tzinfo=BERLIN).timestamp()
    )
    assert bounds.timestamp(datetime(2026, 3, 29, 10, tzinfo=UTC)) == (
        datetime(2026, 3, 29, 10, tzinfo=UTC).timestamp()
    )


def test_an_entry_builds_its_event_once_and_on_demand() -> None:
    lunch = timed("lunch", datetime(2026, 3, 2, 12, tzinfo=BERLIN), summary="Lunch")
    entry = Entry(0.0, 1.0, "lunch", raw=lunch, tz=BERLIN)

    event = entry.event

    assert entry.event is event
    assert (event.uid, event.summary, event.start) == (
        "lunch",
        "Lunch",
        datetime(2026, 3, 2, 12, tzinfo=BERLIN),
    )
    assert entry.source is lunch
    assert entry.series is None
