"""A range's entries found and converted: on the loop, or ahead of it in a thread."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from unittest.mock import patch

import pytest

from custom_components.google_calendar_sync.google.conversions import (
    overlapping,
    prepare_range,
)
from custom_components.google_calendar_sync.google.entries import Entry
from custom_components.google_calendar_sync.google.event_views import is_free
from custom_components.google_calendar_sync.google.recurrence import Series
from custom_components.google_calendar_sync.google.timeline import CalendarTimeline

from .conftest import MARCH_2, Upper, timed

DAY = MARCH_2[0].timestamp()
HOUR = 3600.0
WEEKLY = timed(
    "weekly", datetime(2026, 2, 23, 9, tzinfo=UTC), recurrence=["RRULE:FREQ=WEEKLY"]
)


def single(uid: str, start_ts: float, end_ts: float, **extra: str) -> Entry:
    """Return the entry of a single event."""
    start = datetime.fromtimestamp(start_ts, UTC)
    raw = timed(uid, start, minutes=int((end_ts - start_ts) // 60), **extra)
    return Entry(start_ts, end_ts, uid, raw=raw)


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
    upper = Upper()

    prepared = prepare_range(
        [single("late", DAY + 10 * HOUR, DAY + 11 * HOUR)],
        [Series(WEEKLY, frozenset(), UTC)],
        DAY,
        DAY + 24 * HOUR,
        upper,
        7,
    )

    assert prepared.version == 7
    assert (prepared.start_ts, prepared.end_ts) == (DAY, DAY + 24 * HOUR)
    assert uids(prepared.entries) == ["weekly_20260302T090000Z", "late"]
    assert upper.calls == ["weekly_20260302T090000Z", "late"]


def test_events_that_cannot_be_built_are_left_to_the_query() -> None:
    good = Entry(0.0, 1.0, "good", raw=timed("good", MARCH_2[0]))
    broken = Entry(0.0, 1.0, "broken", raw={"id": "broken"})
    upper = Upper()

    prepared = prepare_range([broken, good], [], 0.0, 1.0, upper, 1)

    assert uids(prepared.entries) == ["broken", "good"]
    assert good.converted(upper) == "GOOD"
    assert upper.calls == ["good"]
    with pytest.raises(KeyError):
        broken.converted(upper)


def test_a_series_that_cannot_be_expanded_leaves_the_range_to_the_query() -> None:
    """The other entries are converted all the same; the query reports the series."""
    series = Series(WEEKLY, frozenset(), UTC)
    errors: list[str] = []
    with patch.object(Series, "overlapping", side_effect=ValueError("broken")):
        prepared = prepare_range([], [series], DAY, DAY + 24 * HOUR, Upper(), 1)
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


def test_a_first_query_is_readied_apart_from_the_index() -> None:
    """Finding and converting a new range can run in another thread; kept, it is the
    range's answer."""
    daily = timed(
        "daily", datetime(2026, 1, 5, 9, tzinfo=UTC), recurrence=["RRULE:FREQ=DAILY"]
    )
    single_event = timed("single", datetime(2026, 3, 2, 11, tzinfo=UTC))
    timeline = CalendarTimeline([daily, single_event], default_time_zone="UTC")
    upper = Upper()

    ready = timeline.prepare(*MARCH_2, upper)
    assert ready is not None
    with ThreadPoolExecutor(max_workers=1) as pool:
        timeline.keep(pool.submit(ready).result())
    readied = sorted(upper.calls)

    assert timeline.prepare(*MARCH_2, upper) is None
    assert timeline.converted(*MARCH_2, upper) == ["DAILY", "SINGLE"]
    assert sorted(upper.calls) == readied == ["daily_20260302T090000Z", "single"]


def test_an_answer_prepared_before_a_change_is_not_kept(
    two_meetings: CalendarTimeline,
) -> None:
    """A change while the executor prepares: the query looks again, and sees it."""
    ready = two_meetings.prepare(*MARCH_2, Upper())
    assert ready is not None
    prepared = ready()

    two_meetings.update([], removed=["first"])
    two_meetings.keep(prepared)

    assert two_meetings.prepare(*MARCH_2, Upper()) is not None
    assert [event.uid for event in two_meetings.overlapping(*MARCH_2)] == ["second"]


def test_a_series_that_fails_while_prepared_is_reported_by_the_query() -> None:
    """Nothing is kept from the thread then: the query finds and reports it."""
    skipped: list[str] = []
    timeline = CalendarTimeline(
        [WEEKLY],
        default_time_zone="UTC",
        on_skip=lambda uid, _event, reason: skipped.append(f"{uid}: {reason}"),
    )
    ready = timeline.prepare(*MARCH_2, Upper())
    assert ready is not None
    with patch.object(Series, "overlapping", side_effect=ValueError("broken")):
        timeline.keep(ready())
        assert timeline.overlapping(*MARCH_2) == []

    assert skipped == ["weekly: cannot expand its recurrence: broken"]
