"""Converting a timeline's events ahead of queries: in batches, or in another thread."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from custom_components.google_calendar_sync.google.conversions import (
    convert_in_batches,
    convert_range,
)
from custom_components.google_calendar_sync.google.entries import Entry
from custom_components.google_calendar_sync.google.timeline import CalendarTimeline

from .conftest import MARCH_2, Upper, timed


def test_conversion_ahead_pauses_after_each_batch(
    two_meetings: CalendarTimeline,
) -> None:
    upper = Upper()

    # The lookup, then one pause a batch.
    assert len(list(two_meetings.convert_ahead(*MARCH_2, upper, batch=1))) == 3
    assert upper.calls == ["first", "second"]
    assert two_meetings.converted(*MARCH_2, upper) == ["FIRST", "SECOND"]
    assert upper.calls == ["first", "second"]


def test_events_that_cannot_be_built_are_left_to_the_query() -> None:
    good = Entry(0.0, 1.0, "good", raw=timed("good", datetime(2026, 3, 2, tzinfo=UTC)))
    broken = Entry(0.0, 1.0, "broken", raw={"id": "broken"})
    upper = Upper()

    convert_range([broken, good], [], 0.0, 1.0, upper)
    assert list(convert_in_batches([broken, good], upper, batch=1)) == [None, None]

    assert good.converted(upper) == "GOOD"
    assert upper.calls == ["good"]
    with pytest.raises(KeyError):
        broken.converted(upper)


def test_a_first_query_is_readied_apart_from_the_index() -> None:
    """The expansion and conversion of a new range can run in another thread."""
    daily = timed(
        "daily", datetime(2026, 1, 5, 9, tzinfo=UTC), recurrence=["RRULE:FREQ=DAILY"]
    )
    single = timed("single", datetime(2026, 3, 2, 11, tzinfo=UTC))
    timeline = CalendarTimeline([daily, single], default_time_zone="UTC")
    upper = Upper()

    ready = timeline.prepare(*MARCH_2, upper)
    assert ready is not None
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(ready).result()
    readied = sorted(upper.calls)

    assert timeline.converted(*MARCH_2, upper) == ["DAILY", "SINGLE"]
    assert sorted(upper.calls) == readied == ["daily_20260302T090000Z", "single"]
    assert timeline.prepare(*MARCH_2, upper) is None
