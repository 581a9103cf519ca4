"""A range's entries found and converted, on the loop or ahead of it."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest.mock import patch

from custom_components.google_calendar_sync.google.conversions import (
    overlapping,
    prepare_range,
)
from custom_components.google_calendar_sync.google.entries import Entry, TimelineEvent
from custom_components.google_calendar_sync.google.event_views import is_free
from custom_components.google_calendar_sync.google.recurrence import Series

DAY = datetime(2026, 3, 2, tzinfo=UTC).timestamp()
HOUR = 3600.0
WEEKLY = {
    "id": "weekly",
    "summary": "Weekly",
    "start": {"dateTime": "2026-02-23T09:00:00+00:00"},
    "end": {"dateTime": "2026-02-23T10:00:00+00:00"},
    "recurrence": ["RRULE:FREQ=WEEKLY"],
}


def single(uid: str, start_ts: float, end_ts: float, **extra: str) -> Entry:
    """Return the entry of a single event."""
    return Entry(
        start_ts,
        end_ts,
        uid,
        raw={
            "id": uid,
            "summary": uid,
            "start": {"dateTime": datetime.fromtimestamp(start_ts, UTC).isoformat()},
            "end": {"dateTime": datetime.fromtimestamp(end_ts, UTC).isoformat()},
            **extra,
        },
    )


def uids(entries: list[Entry] | None) -> list[str]:
    """Return the uids of entries."""
    assert entries is not None
    return [entry.uid for entry in entries]


def test_entries_of_a_range_are_sorted_with_the_instances_of_series() -> None:
    """Events ending at the start are out; one of no length at the start is in."""
    series = Series(WEEKLY, frozenset(), UTC)
    singles = [
        single("late", DAY + 10 * HOUR, DAY + 11 * HOUR),
        single("before", DAY - 2 * HOUR, DAY),
        single("instant", DAY, DAY),
        single("after", DAY + 24 * HOUR, DAY + 25 * HOUR),
        single("free", DAY + HOUR, DAY + 2 * HOUR, transparency="transparent"),
    ]

    found = overlapping(
        singles, [series], DAY, DAY + 24 * HOUR, hide=None, on_error=print
    )
    hidden = overlapping(
        singles, [series], DAY, DAY + 24 * HOUR, hide=is_free, on_error=print
    )

    assert uids(found) == ["instant", "free", "weekly_20260302T090000Z", "late"]
    assert uids(hidden) == ["instant", "weekly_20260302T090000Z", "late"]


def test_a_prepared_range_holds_converted_entries() -> None:
    series = Series(WEEKLY, frozenset(), UTC)
    converted: list[str] = []

    def convert(event: TimelineEvent) -> str:
        converted.append(event.uid)
        return event.summary

    prepared = prepare_range(
        [single("late", DAY + 10 * HOUR, DAY + 11 * HOUR)],
        [series],
        DAY,
        DAY + 24 * HOUR,
        convert,
        7,
    )

    assert prepared.version == 7
    assert (prepared.start_ts, prepared.end_ts) == (DAY, DAY + 24 * HOUR)
    assert uids(prepared.entries) == ["weekly_20260302T090000Z", "late"]
    assert converted == ["weekly_20260302T090000Z", "late"]


def test_a_series_that_cannot_be_expanded_leaves_the_range_to_the_query() -> None:
    """The other entries are converted all the same; the query reports the series."""
    series = Series(WEEKLY, frozenset(), UTC)
    errors: list[str] = []
    with patch.object(Series, "overlapping", side_effect=ValueError("broken")):
        prepared = prepare_range(
            [single("late", DAY + 10 * HOUR, DAY + 11 * HOUR)],
            [series],
            DAY,
            DAY + 24 * HOUR,
            lambda event: event.uid,
            1,
        )
        found = overlapping(
            [],
            [series],
            DAY,
            DAY + 24 * HOUR,
            hide=None,
            on_error=lambda one, err: errors.append(f"{one.master['id']}: {err}"),
        )

    assert prepared.entries is None
    assert found == []
    assert errors == ["weekly: broken"]
