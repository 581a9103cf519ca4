"""The local timeline: the index of a calendar's events, range queries, the next event."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
import time
from typing import Any

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.google_calendar_sync.google.entries import TimelineEvent
from custom_components.google_calendar_sync.google.timeline import CalendarTimeline

from .conftest import BERLIN, all_day, query, timed


def test_weekly_series_with_a_moved_and_a_cancelled_instance(
    standup: list[dict[str, Any]],
) -> None:
    timeline = CalendarTimeline(standup, default_time_zone="Europe/Berlin")

    events = timeline.overlapping(
        datetime(2026, 3, 1, tzinfo=BERLIN), datetime(2026, 3, 24, tzinfo=BERLIN)
    )

    assert [(e.uid, e.start, e.summary) for e in events] == [
        ("standup_20260302T080000Z", datetime(2026, 3, 2, 9, tzinfo=BERLIN), "standup"),
        (
            "standup_20260309T080000Z",
            datetime(2026, 3, 10, 11, tzinfo=BERLIN),
            "Standup (moved)",
        ),
        (
            "standup_20260323T080000Z",
            datetime(2026, 3, 23, 9, tzinfo=BERLIN),
            "standup",
        ),
    ]
    generated, moved, _ = events
    assert generated.recurring_event_id == "standup"
    assert generated.recurrence_id == "20260302T080000Z"
    assert generated.rrule == "FREQ=WEEKLY;BYDAY=MO"
    assert generated.end == datetime(2026, 3, 2, 9, 30, tzinfo=BERLIN)
    assert generated.description == "daily sync"
    assert generated.location == "Room 1"
    assert generated.source is standup[0]
    assert moved.recurring_event_id == "standup"
    assert moved.recurrence_id == "20260309T080000Z"
    assert moved.rrule is None


def test_all_day_events_and_series() -> None:
    birthday = all_day("birthday", date(2020, 2, 10), recurrence=["RRULE:FREQ=YEARLY"])
    trip = all_day("trip", date(2026, 2, 9), days=3)
    timeline = CalendarTimeline([birthday, trip], default_time_zone="Europe/Berlin")

    events = timeline.overlapping(
        datetime(2026, 2, 10, tzinfo=BERLIN), datetime(2026, 2, 11, tzinfo=BERLIN)
    )

    assert [(e.uid, e.start, e.end) for e in events] == [
        ("trip", date(2026, 2, 9), date(2026, 2, 12)),
        ("birthday_20260210", date(2026, 2, 10), date(2026, 2, 11)),
    ]
    # All-day events end at midnight in the calendar's zone.
    assert (
        query(
            timeline,
            datetime(2026, 2, 12, tzinfo=BERLIN),
            datetime(2026, 2, 13, tzinfo=BERLIN),
        )
        == []
    )


def test_all_day_exception_hides_the_generated_day() -> None:
    master = all_day("gym", date(2026, 1, 5), recurrence=["RRULE:FREQ=DAILY;COUNT=3"])
    moved = all_day(
        "gym_20260106",
        date(2026, 1, 9),
        recurringEventId="gym",
        originalStartTime={"date": "2026-01-06"},
    )
    timeline = CalendarTimeline([master, moved], default_time_zone="UTC")

    assert query(
        timeline, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    ) == [
        ("gym_20260105", date(2026, 1, 5)),
        ("gym_20260107", date(2026, 1, 7)),
        ("gym_20260106", date(2026, 1, 9)),
    ]


def test_long_and_zero_length_events() -> None:
    conference = all_day("conference", date(2026, 1, 1), days=30)
    reminder = timed("reminder", datetime(2026, 1, 20, 12, tzinfo=UTC), minutes=0)
    timeline = CalendarTimeline([conference, reminder], default_time_zone="UTC")

    assert [
        uid
        for uid, _ in query(
            timeline,
            datetime(2026, 1, 20, 12, tzinfo=UTC),
            datetime(2026, 1, 20, 13, tzinfo=UTC),
        )
    ] == ["conference", "reminder"]
    # Naive query bounds are in the calendar's zone.
    naive_start = datetime(2026, 1, 31, tzinfo=UTC).replace(tzinfo=None)
    assert query(timeline, naive_start, naive_start + timedelta(days=1)) == []


def test_active_or_next(standup: list[dict[str, Any]]) -> None:
    lunch = timed("lunch", datetime(2026, 3, 2, 12, tzinfo=BERLIN), minutes=60)
    holiday = all_day("holiday", date(2026, 3, 1), days=3)
    timeline = CalendarTimeline(
        [*standup, lunch, holiday], default_time_zone="Europe/Berlin"
    )

    def uid_at(now: datetime) -> str | None:
        event = timeline.active_or_next(now)
        return event.uid if event else None

    # The holiday began first and is still running.
    assert uid_at(datetime(2026, 3, 2, 9, 10, tzinfo=BERLIN)) == "holiday"
    assert uid_at(datetime(2026, 3, 15, 8, tzinfo=BERLIN)) == (
        "standup_20260323T080000Z"
    )
    assert uid_at(datetime(2026, 3, 2, 11, tzinfo=BERLIN)) == "holiday"
    assert uid_at(datetime(2026, 3, 4, 0, tzinfo=BERLIN)) == (
        "standup_20260309T080000Z"
    )
    assert uid_at(datetime(2026, 3, 10, 11, 15, tzinfo=BERLIN)) == (
        "standup_20260309T080000Z"
    )


def test_active_or_next_when_nothing_is_left() -> None:
    finished = timed(
        "finished",
        datetime(2026, 1, 5, 10, tzinfo=UTC),
        recurrence=["RRULE:FREQ=DAILY;COUNT=2"],
    )
    timeline = CalendarTimeline([finished], default_time_zone="UTC")

    assert (
        timeline.active_or_next(datetime(2026, 1, 5, 10, 10, tzinfo=UTC))
        == (
            timeline.overlapping(
                datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC)
            )[0]
        )
    )
    assert timeline.active_or_next(datetime(2026, 2, 1, tzinfo=UTC)) is None
    assert (
        CalendarTimeline([], default_time_zone="UTC").active_or_next(
            datetime(2026, 2, 1, tzinfo=UTC)
        )
        is None
    )


def test_active_or_next_skips_hidden_instances_far_ahead() -> None:
    yearly = all_day("anniversary", date(2020, 7, 1), recurrence=["RRULE:FREQ=YEARLY"])
    timeline = CalendarTimeline([yearly], default_time_zone="UTC")

    event = timeline.active_or_next(datetime(2026, 7, 2, tzinfo=UTC))

    assert isinstance(event, TimelineEvent)
    assert event.uid == "anniversary_20270701"


def big_calendar() -> list[dict[str, Any]]:
    """Return 19,500 single events over three years and 500 recurring series."""
    events: list[dict[str, Any]] = []
    base = datetime(2025, 1, 1, tzinfo=UTC)
    events.extend(
        timed(f"single{i}", base + timedelta(hours=i * 1.3), minutes=60)
        for i in range(19_500)
    )
    rules = [
        *["FREQ=WEEKLY;BYDAY=MO,WE"] * 6,
        *["FREQ=WEEKLY"] * 6,
        *["FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"] * 2,
        *["FREQ=MONTHLY;BYDAY=2TU"] * 2,
        *["FREQ=YEARLY"] * 2,
        *["FREQ=WEEKLY;COUNT=150"] * 2,
    ]
    for i in range(500):
        start = datetime(2024, 1, 1, 8, tzinfo=BERLIN) + timedelta(
            days=i % 30, hours=i % 10
        )
        events.append(
            timed(
                f"series{i}",
                start,
                minutes=60,
                recurrence=[f"RRULE:{rules[i % len(rules)]}"],
            )
        )
    return events


@pytest.mark.timing
def test_month_query_over_20000_events_is_fast() -> None:
    events = big_calendar()
    timeline = CalendarTimeline(events, default_time_zone="Europe/Berlin")
    june = (datetime(2026, 6, 1, tzinfo=BERLIN), datetime(2026, 7, 1, tzinfo=BERLIN))

    started = time.process_time()
    first = timeline.overlapping(*june)
    cold = time.process_time() - started

    # A rebuild (after a full sync) reuses the series of the timeline it
    # replaces: unchanged series keep what they expanded.
    rebuilt = CalendarTimeline(
        events, default_time_zone="Europe/Berlin", reuse=timeline.series
    )
    started = time.process_time()
    again = rebuilt.overlapping(*june)
    warm = time.process_time() - started
    started = time.process_time()
    rebuilt.active_or_next(datetime(2026, 6, 10, tzinfo=BERLIN))
    next_event = time.process_time() - started

    assert len(first) > 3000
    assert [e.uid for e in again] == [e.uid for e in first]
    assert all(
        e.end > june[0] and e.start < june[1]
        for e in first
        if isinstance(e.start, datetime)
    )
    assert cold < 0.5, f"first month query took {cold:.3f} s"
    assert warm < 0.1, f"month query took {warm:.3f} s"
    assert next_event < 0.1, f"active_or_next took {next_event:.3f} s"


@pytest.mark.timing
def test_warmed_timeline_answers_the_first_query_after_a_restart_fast() -> None:
    """Warming (the coordinator does it in the executor) makes the first query cheap."""
    now = datetime(2026, 6, 10, 12, tzinfo=BERLIN)
    timeline = CalendarTimeline(big_calendar(), default_time_zone="Europe/Berlin")
    timeline.warm(now)

    started = time.process_time()
    month = timeline.overlapping(
        datetime(2026, 6, 1, tzinfo=BERLIN), datetime(2026, 7, 1, tzinfo=BERLIN)
    )
    first = time.process_time() - started
    started = time.process_time()
    current = timeline.active_or_next(now)
    next_event = time.process_time() - started

    assert len(month) > 3000
    assert current is not None
    assert first < 0.1, f"first month query after warming took {first:.3f} s"
    assert next_event < 0.1, f"active_or_next took {next_event:.3f} s"


def test_warming_in_a_thread_while_the_old_timeline_answers() -> None:
    """Timelines share series across threads without mixing up their expansions."""
    events = big_calendar()
    now = datetime(2026, 6, 10, 12, tzinfo=BERLIN)
    months = [
        (
            datetime(2026, month, 1, tzinfo=BERLIN),
            datetime(2026, month + 1, 1, tzinfo=BERLIN),
        )
        for month in range(1, 12)
    ]
    old = CalendarTimeline(events, default_time_zone="Europe/Berlin")

    def build() -> CalendarTimeline:
        fresh = CalendarTimeline(
            events, default_time_zone="Europe/Berlin", reuse=old.series
        )
        fresh.warm(now)
        return fresh

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(build)
        # Each month moves the start of the rules (re-anchoring) of the series
        # the thread expands at the same time.
        answers = [[event.uid for event in old.overlapping(*month)] for month in months]
        new = pending.result()
    # Nothing shared: every series expanded from scratch.
    alone = CalendarTimeline(events, default_time_zone="Europe/Berlin")

    assert new.series == old.series
    expected = [[event.uid for event in alone.overlapping(*month)] for month in months]
    assert answers == expected
    assert [[event.uid for event in new.overlapping(*month)] for month in months] == (
        expected
    )
    assert all(answers)


def test_an_event_that_cannot_be_built_is_skipped_where_it_is_met() -> None:
    """Shown in UTC, the end of time overflows: only at the query, and only it."""
    far = {
        "id": "far",
        "start": {"dateTime": "9999-12-31T20:00:00-05:00", "timeZone": "UTC"},
        "end": {"dateTime": "9999-12-31T21:00:00-05:00", "timeZone": "UTC"},
    }
    skipped: list[str | None] = []
    timeline = CalendarTimeline(
        [far],
        default_time_zone="UTC",
        on_skip=lambda event_id, event, reason: skipped.append(event_id),
    )

    assert timeline.active_or_next(datetime(9999, 12, 31, tzinfo=UTC)) is None
    assert skipped == ["far"]


# Incremental updates answer exactly what a full rebuild of the same events
# answers: singles (short, long, all-day), series and their exceptions (moved,
# cancelled), replaced and removed in any order.
_DAY0 = datetime(2030, 1, 7, 9, tzinfo=BERLIN)


def _version(event_id: str, variant: int) -> dict[str, Any] | None:
    """Return one version of an event of the pool, None for removed."""
    if variant == 0:
        return None
    if event_id.startswith("s"):
        rules = ["RRULE:FREQ=DAILY;COUNT=12", "RRULE:FREQ=WEEKLY;BYDAY=MO,TH"]
        return timed(
            event_id,
            _DAY0 + timedelta(hours=variant),
            summary=f"{event_id} v{variant}",
            etag=f'"{event_id}{variant}"',
            recurrence=[rules[variant % 2]],
        )
    if "_" in event_id:
        master_id, day = event_id.split("_")
        original = _DAY0 + timedelta(days=int(day))
        exception = timed(
            event_id,
            original + timedelta(hours=variant),
            summary=f"{event_id} v{variant}",
            recurringEventId=master_id,
            originalStartTime={"dateTime": original.isoformat()},
        )
        if variant == 3:
            return {**exception, "status": "cancelled"}
        return exception
    if variant == 3:
        return all_day(event_id, (_DAY0 + timedelta(days=2)).date(), days=10)
    return timed(
        event_id,
        _DAY0 + timedelta(days=variant, hours=variant),
        minutes=30 * variant,
        summary=f"{event_id} v{variant}",
    )


EVENT_IDS = ["p0", "p1", "p2", "s0", "s1", "s0_0", "s0_3", "s1_4", "x_1"]

CHANGES = st.lists(
    st.lists(
        st.tuples(st.sampled_from(EVENT_IDS), st.integers(0, 3)),
        min_size=1,
        max_size=3,
    ),
    max_size=8,
)

WINDOWS = st.lists(
    st.tuples(st.integers(-2 * 24, 20 * 24), st.integers(1, 10 * 24)),
    min_size=1,
    max_size=4,
)


def answers(
    timeline: CalendarTimeline, windows: list[tuple[int, int]]
) -> list[list[tuple[str, Any, Any, str]]]:
    """Return what the timeline answers for windows given in hours from _DAY0."""
    found = []
    for offset, length in windows:
        start = _DAY0 + timedelta(hours=offset)
        found.append(
            [
                (event.uid, event.start, event.end, event.summary)
                for event in timeline.overlapping(
                    start, start + timedelta(hours=length)
                )
            ]
        )
        current = timeline.active_or_next(start)
        found.append(
            [(current.uid, current.start, current.end, current.summary)]
            if current
            else []
        )
    return found


@settings(max_examples=150, deadline=None)
@given(changes=CHANGES, windows=WINDOWS)
def test_updates_answer_what_a_rebuild_answers(
    changes: list[list[tuple[str, int]]], windows: list[tuple[int, int]]
) -> None:
    timeline = CalendarTimeline(default_time_zone="Europe/Berlin")
    snapshot: dict[str, dict[str, Any]] = {}
    for batch in changes:
        removed = []
        for event_id, variant in batch:
            if (event := _version(event_id, variant)) is None:
                snapshot.pop(event_id, None)
                removed.append(event_id)
            else:
                snapshot[event_id] = event
        # Ask first, so the series expand before they change.
        answers(timeline, windows)
        timeline.update(
            [snapshot[event_id] for event_id, _ in batch if event_id in snapshot],
            removed=removed,
        )

    rebuilt = CalendarTimeline(snapshot.values(), default_time_zone="Europe/Berlin")
    assert answers(timeline, windows) == answers(rebuilt, windows)


def test_an_update_of_many_events_sorts_them_in_with_the_indexed_ones() -> None:
    """Many events at once are sorted in bulk with those already indexed."""
    early = [
        timed(f"a{hour}", _DAY0 + timedelta(hours=2 * hour)) for hour in range(100)
    ]
    late = [
        timed(f"b{hour}", _DAY0 + timedelta(hours=2 * hour + 1)) for hour in range(100)
    ]
    timeline = CalendarTimeline(early, default_time_zone="Europe/Berlin")
    timeline.update(late)

    rebuilt = CalendarTimeline([*early, *late], default_time_zone="Europe/Berlin")
    window = (_DAY0, _DAY0 + timedelta(days=10))
    assert query(timeline, *window) == query(rebuilt, *window)
    assert len(query(timeline, *window)) == 200


def test_the_next_event_follows_updates_and_time() -> None:
    now = datetime(2026, 3, 2, 8, tzinfo=UTC)
    timeline = CalendarTimeline(
        [timed("later", now + timedelta(hours=3))], default_time_zone="UTC"
    )
    assert timeline.active_or_next(now).uid == "later"  # type: ignore[union-attr]

    timeline.update([timed("sooner", now + timedelta(hours=1))])
    assert timeline.active_or_next(now).uid == "sooner"  # type: ignore[union-attr]
    timeline.update([], removed=["sooner"])
    assert timeline.active_or_next(now).uid == "later"  # type: ignore[union-attr]
    assert timeline.active_or_next(now + timedelta(hours=4)) is None
