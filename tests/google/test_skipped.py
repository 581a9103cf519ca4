"""Events a calendar cannot show: judged by their shape, reported once per version."""

from __future__ import annotations

from datetime import UTC, datetime
import logging
from typing import Any

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.google_calendar_sync.google.skipped import (
    SkippedEvents,
    unusable,
)
from custom_components.google_calendar_sync.google.timeline import CalendarTimeline

from .conftest import query, timed


def test_invalid_events_are_skipped_and_reported() -> None:
    events = [
        {"id": "no-times"},
        {"id": "bad", "start": {"dateTime": "yesterday"}},
        timed("broken", datetime(2026, 1, 1, tzinfo=UTC), recurrence=["RRULE:FREQ=NO"]),
        timed(
            "nothing", datetime(2026, 1, 1, tzinfo=UTC), recurrence=["EXDATE:20260101"]
        ),
        timed(
            "cancelled-single",
            datetime(2026, 1, 1, tzinfo=UTC),
            status="cancelled",
        ),
        timed("ok", datetime(2026, 1, 1, 12, tzinfo=UTC)),
    ]
    skipped: list[str | None] = []
    timeline = CalendarTimeline(
        events,
        default_time_zone="Nowhere/Unknown",
        on_skip=lambda event_id, event, reason: skipped.append(event_id),
    )

    assert query(
        timeline, datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    ) == [("ok", datetime(2026, 1, 1, 12, tzinfo=UTC))]
    assert sorted(skipped) == ["bad", "broken", "no-times", "nothing"]


def test_each_version_of_a_skipped_event_is_reported_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    skipped = SkippedEvents("user@example.com")
    broken = {"id": "abc", "etag": '"1"'}

    with caplog.at_level(logging.WARNING):
        skipped("abc", broken, "start is NoneType, not an object")
        skipped("abc", broken, "start is NoneType, not an object")
        skipped("abc", {**broken, "etag": '"2"'}, "end is NoneType, not an object")
        skipped(None, "not an object", "not an object")

    warned = [record.getMessage() for record in caplog.records]
    assert len(warned) == 3
    assert warned[0].startswith("Skipping event abc of calendar user@example.com")
    assert warned[0].endswith("cannot show: start is NoneType, not an object")
    assert warned[1].endswith("cannot show: end is NoneType, not an object")
    assert warned[2].startswith("Skipping event without an id")


TIMES = {"start": {"date": "2026-01-01"}, "end": {"date": "2026-01-02"}}


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({**TIMES, "summary": 3}, "summary is not text"),
        ({**TIMES, "location": ["a"]}, "location is not text"),
        ({**TIMES, "recurringEventId": 1}, "recurringEventId is not text"),
        ({"end": TIMES["end"]}, "start is NoneType, not an object"),
        ({**TIMES, "end": {}}, "end needs one of date or dateTime"),
        (
            {**TIMES, "end": {"date": "2026-01-02", "dateTime": "x"}},
            "end needs one of date or dateTime",
        ),
        ({**TIMES, "start": {"date": 20260101}}, "start date is not text"),
        (
            {**TIMES, "end": {"dateTime": "2026-01-02T00:00:00Z"}},
            "start and end mix date and dateTime",
        ),
        (
            {**TIMES, "recurrence": "RRULE:FREQ=DAILY"},
            "recurrence is not a list of text lines",
        ),
        ({**TIMES, "recurrence": [1]}, "recurrence is not a list of text lines"),
        (TIMES, None),
        # A cancelled exception only hides an instance: it needs no times.
        ({"status": "cancelled", "recurringEventId": "series"}, None),
    ],
)
def test_unusable_names_what_is_wrong_with_the_shape(
    event: dict[str, Any], reason: str | None
) -> None:
    assert unusable(event) == reason


VALUES = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=3),
    st.lists(st.text(max_size=3) | st.integers(), max_size=2),
    st.dictionaries(
        st.sampled_from(["date", "dateTime"]), st.text(max_size=3) | st.none()
    ),
)
FIELDS = st.sampled_from(
    ["summary", "recurringEventId", "status", "start", "end", "recurrence"]
)


@settings(deadline=None)
@given(st.dictionaries(FIELDS, VALUES | st.just("cancelled")))
def test_unusable_judges_any_json_without_raising(event: dict[str, Any]) -> None:
    assert isinstance(unusable(event), str | None)
