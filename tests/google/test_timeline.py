"""The local timeline: recurrence expansion and range queries without the API."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
import time
import tracemalloc
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from hypothesis import given, settings, strategies as st
import pytest

from custom_components.google_calendar_sync.google.entries import TimelineEvent
from custom_components.google_calendar_sync.google.recurrence import (
    MAX_INSTANCES,
    Series,
    series_ends_before,
)
from custom_components.google_calendar_sync.google.rules import MAX_COUNT
from custom_components.google_calendar_sync.google.timeline import CalendarTimeline
from google_calendar_emulator import GoogleCalendarEmulator

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def timed(
    event_id: str, start: datetime, minutes: int = 30, **extra: Any
) -> dict[str, Any]:
    """Return a timed Google event in the zone of start."""
    zone = {"timeZone": str(start.tzinfo)} if isinstance(start.tzinfo, ZoneInfo) else {}
    end = start + timedelta(minutes=minutes)
    return {
        "id": event_id,
        "etag": f'"{event_id}"',
        "status": "confirmed",
        "summary": event_id,
        "start": {"dateTime": start.isoformat(), **zone},
        "end": {"dateTime": end.isoformat(), **zone},
        **extra,
    }


def all_day(event_id: str, start: date, days: int = 1, **extra: Any) -> dict[str, Any]:
    """Return an all-day Google event."""
    return {
        "id": event_id,
        "etag": f'"{event_id}"',
        "summary": event_id,
        "start": {"date": start.isoformat()},
        "end": {"date": (start + timedelta(days=days)).isoformat()},
        **extra,
    }


def query(
    timeline: CalendarTimeline, start: datetime, end: datetime
) -> list[tuple[str, date | datetime]]:
    """Return (uid, start) of the events overlapping a range."""
    return [(event.uid, event.start) for event in timeline.overlapping(start, end)]


@pytest.fixture
def standup() -> list[dict[str, Any]]:
    """Return a weekly Monday series with one instance moved and one cancelled."""
    master = timed(
        "standup",
        datetime(2026, 3, 2, 9, tzinfo=BERLIN),
        recurrence=["RRULE:FREQ=WEEKLY;BYDAY=MO"],
        description="daily sync",
        location="Room 1",
    )
    moved = timed(
        "standup_20260309T080000Z",
        datetime(2026, 3, 10, 11, tzinfo=BERLIN),
        recurringEventId="standup",
        originalStartTime={
            "dateTime": "2026-03-09T09:00:00+01:00",
            "timeZone": "Europe/Berlin",
        },
        summary="Standup (moved)",
    )
    cancelled = {
        "id": "standup_20260316T080000Z",
        "recurringEventId": "standup",
        "originalStartTime": {"dateTime": "2026-03-16T08:00:00Z"},
        "status": "cancelled",
    }
    return [master, moved, cancelled]


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


def test_instances_keep_local_time_across_dst(standup: list[dict[str, Any]]) -> None:
    timeline = CalendarTimeline(standup, default_time_zone="UTC")

    events = timeline.overlapping(
        datetime(2026, 3, 23, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    )

    # Berlin switches to summer time on 29 March: 09:00 local is 07:00 UTC after.
    assert [(e.uid, e.start.isoformat()) for e in events] == [
        ("standup_20260323T080000Z", "2026-03-23T09:00:00+01:00"),
        ("standup_20260330T070000Z", "2026-03-30T09:00:00+02:00"),
    ]


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


def test_exdate_and_rdate() -> None:
    master = timed(
        "class",
        datetime(2026, 1, 5, 18, tzinfo=NEW_YORK),
        recurrence=[
            "RRULE:FREQ=WEEKLY;UNTIL=20260126T235959Z",
            "EXDATE;TZID=America/New_York:20260112T180000",
            "RDATE;TZID=America/New_York:20260114T180000,20260115T180000",
            "EXDATE:20260119T230000Z",
        ],
    )
    timeline = CalendarTimeline([master], default_time_zone="UTC")

    assert [
        uid
        for uid, _ in query(
            timeline,
            datetime(2026, 1, 1, tzinfo=UTC),
            datetime(2026, 12, 1, tzinfo=UTC),
        )
    ] == [
        "class_20260105T230000Z",
        "class_20260114T230000Z",
        "class_20260115T230000Z",
        "class_20260126T230000Z",
    ]


def test_all_day_exdate_and_rdate() -> None:
    master = all_day(
        "holiday",
        date(2026, 1, 1),
        recurrence=[
            "RRULE:FREQ=MONTHLY;COUNT=3",
            "EXDATE;VALUE=DATE:20260201",
            "RDATE;VALUE=DATE:20260215",
        ],
    )
    timeline = CalendarTimeline([master], default_time_zone="UTC")

    assert query(
        timeline, datetime(2025, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    ) == [
        ("holiday_20260101", date(2026, 1, 1)),
        ("holiday_20260215", date(2026, 2, 15)),
        ("holiday_20260301", date(2026, 3, 1)),
    ]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("FREQ=DAILY;COUNT=3", ["20260105", "20260106", "20260107"]),
        ("FREQ=DAILY;UNTIL=20260107T100000Z", ["20260105", "20260106", "20260107"]),
        ("FREQ=DAILY;UNTIL=20260107", ["20260105", "20260106", "20260107"]),
        ("FREQ=WEEKLY;INTERVAL=2;COUNT=2", ["20260105", "20260119"]),
        ("FREQ=MONTHLY;BYDAY=1MO;COUNT=2", ["20260105", "20260202"]),
    ],
)
def test_until_and_count(rule: str, expected: list[str]) -> None:
    master = timed(
        "series", datetime(2026, 1, 5, 10, tzinfo=UTC), recurrence=[f"RRULE:{rule}"]
    )
    timeline = CalendarTimeline([master], default_time_zone="UTC")

    uids = query(
        timeline, datetime(2025, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)
    )

    assert [uid for uid, _ in uids] == [f"series_{day}T100000Z" for day in expected]


def test_count_rule_queried_far_from_its_start() -> None:
    master = timed(
        "long",
        datetime(2020, 1, 6, 10, tzinfo=BERLIN),
        recurrence=["RRULE:FREQ=WEEKLY;COUNT=400"],
    )
    timeline = CalendarTimeline([master], default_time_zone="Europe/Berlin")

    events = timeline.overlapping(
        datetime(2026, 1, 1, tzinfo=BERLIN), datetime(2030, 1, 1, tzinfo=BERLIN)
    )

    # The 314th instance is 5 January 2026; the 400th is 30 August 2027.
    assert events[0].start == datetime(2026, 1, 5, 10, tzinfo=BERLIN)
    assert events[-1].start == datetime(2027, 8, 30, 10, tzinfo=BERLIN)
    assert len(events) == 400 - 313


def test_infinite_rules_far_in_the_future_and_past() -> None:
    master = timed(
        "forever",
        datetime(2000, 1, 3, 8, tzinfo=BERLIN),
        recurrence=["RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR"],
    )
    timeline = CalendarTimeline([master], default_time_zone="Europe/Berlin")

    future = query(
        timeline,
        datetime(2099, 6, 1, tzinfo=BERLIN),
        datetime(2099, 6, 15, tzinfo=BERLIN),
    )
    past = query(
        timeline,
        datetime(1999, 6, 1, tzinfo=BERLIN),
        datetime(1999, 6, 15, tzinfo=BERLIN),
    )

    assert len(future) == 2
    assert all(start.hour == 8 for _, start in future)
    # Every other week: the two instances are in the same week.
    assert (future[1][1] - future[0][1]).days == 4
    assert past == []


def test_moved_start_gives_the_same_instances_as_iterating_from_dtstart() -> None:
    master = timed(
        "biweekly",
        datetime(2023, 1, 4, 7, 30, tzinfo=NEW_YORK),
        recurrence=["RRULE:FREQ=WEEKLY;INTERVAL=3;BYDAY=WE,SU"],
    )
    whole = CalendarTimeline([master], default_time_zone="UTC").overlapping(
        datetime(2023, 1, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)
    )
    month = CalendarTimeline([master], default_time_zone="UTC").overlapping(
        datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
    )

    assert month
    assert [e.uid for e in month] == [
        e.uid
        for e in whole
        if datetime(2026, 5, 1, tzinfo=UTC)
        <= e.start
        < datetime(2026, 6, 1, tzinfo=UTC)
    ]


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


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            timed(
                "exrule",
                datetime(2026, 1, 5, 10, tzinfo=UTC),
                recurrence=[
                    "RRULE:FREQ=DAILY;COUNT=5",
                    "EXRULE:FREQ=WEEKLY;BYDAY=TU,TH",
                ],
            ),
            ["20260105T100000Z", "20260107T100000Z", "20260109T100000Z"],
        ),
        (
            timed(
                "rdates",
                datetime(2026, 1, 5, 10, tzinfo=UTC),
                recurrence=["RDATE:20260107T100000Z"],
            ),
            ["20260105T100000Z", "20260107T100000Z"],
        ),
        (
            {
                "id": "floating",
                "start": {"dateTime": "2026-01-05T10:00:00"},
                "end": {"dateTime": "2026-01-05T11:00:00"},
                "recurrence": ["RRULE:FREQ=DAILY;UNTIL=20260106T100000"],
            },
            ["20260105T100000Z", "20260106T100000Z"],
        ),
        (
            all_day(
                "days",
                date(2026, 1, 5),
                recurrence=[
                    "RRULE:FREQ=DAILY;UNTIL=20260108T000000Z",
                    "EXDATE:20260106T000000Z",
                ],
            ),
            ["20260105", "20260107", "20260108"],
        ),
        (
            timed(
                "cancelled-series",
                datetime(2026, 1, 5, 10, tzinfo=UTC),
                recurrence=["RRULE:FREQ=DAILY"],
                status="cancelled",
            ),
            [],
        ),
    ],
)
def test_recurrence_lines(event: dict[str, Any], expected: list[str]) -> None:
    timeline = CalendarTimeline([event], default_time_zone="UTC")

    uids = query(
        timeline, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    )

    assert [uid for uid, _ in uids] == [f"{event['id']}_{day}" for day in expected]


def test_series_expansions_stay_bounded() -> None:
    daily = timed(
        "daily", datetime(2020, 1, 1, 7, tzinfo=UTC), recurrence=["RRULE:FREQ=DAILY"]
    )
    timeline = CalendarTimeline([daily], default_time_zone="UTC")

    decade = query(
        timeline, datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)
    )
    week = query(
        timeline, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 8, tzinfo=UTC)
    )

    assert len(decade) == 3653
    assert len(week) == 7


USER = "user@example.com"


def served(emulator: GoogleCalendarEmulator, event: dict[str, Any]) -> dict[str, Any]:
    """Store an event in the emulator and return it the way Google answers."""
    body = {key: value for key, value in event.items() if key not in ("id", "etag")}
    return emulator.insert_event(USER, body)


def starts(
    timeline: CalendarTimeline, start: datetime, end: datetime
) -> list[datetime]:
    """Return the starts (as UTC) of the events overlapping a range."""
    return [
        event.start.astimezone(UTC)
        for event in timeline.overlapping(start, end)
        if isinstance(event.start, datetime)
    ]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            "FREQ=SECONDLY;INTERVAL=20;COUNT=3",
            ["2026-03-29T00:59:00", "2026-03-29T00:59:20", "2026-03-29T00:59:40"],
        ),
        # 02:00-02:59 do not exist in Berlin that night: 02:14 is 03:14 summer
        # time (RFC 5545), which the rule reaches again later and shows once.
        (
            "FREQ=MINUTELY;INTERVAL=15;COUNT=9",
            ["2026-03-29T00:59:00", "2026-03-29T01:14:00", "2026-03-29T01:29:00"],
        ),
        (
            "FREQ=HOURLY;COUNT=4",
            ["2026-03-29T00:59:00", "2026-03-29T01:59:00", "2026-03-29T02:59:00"],
        ),
        ("FREQ=DAILY;COUNT=2", ["2026-03-29T00:59:00", "2026-03-29T23:59:00"]),
        ("FREQ=WEEKLY;COUNT=2", ["2026-03-29T00:59:00", "2026-04-04T23:59:00"]),
        ("FREQ=MONTHLY;COUNT=2", ["2026-03-29T00:59:00", "2026-04-28T23:59:00"]),
        ("FREQ=YEARLY;COUNT=2", ["2026-03-29T00:59:00", "2027-03-28T23:59:00"]),
    ],
)
async def test_every_frequency_expands(
    calendar_emulator: GoogleCalendarEmulator, rule: str, expected: list[str]
) -> None:
    """Secondly to yearly rules, in wall-clock time of the event's zone."""
    master = served(
        calendar_emulator,
        timed(
            "series",
            datetime(2026, 3, 29, 1, 59, tzinfo=BERLIN),
            minutes=0,
            recurrence=[f"RRULE:{rule}"],
        ),
    )
    timeline = CalendarTimeline([master], default_time_zone="UTC")

    found = starts(
        timeline,
        datetime(2026, 3, 29, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
        if "MINUTELY" in rule
        else datetime(2028, 1, 1, tzinfo=UTC),
    )

    assert [moment.strftime("%Y-%m-%dT%H:%M:%S") for moment in found] == expected


async def test_a_secondly_series_is_bounded(
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """A month of a FREQ=SECONDLY series is 2.6 million instances: a query caps them."""
    start = datetime(2026, 5, 1, 8, tzinfo=BERLIN)
    master = served(
        calendar_emulator,
        timed("ticks", start, minutes=0, recurrence=["RRULE:FREQ=SECONDLY"]),
    )
    tracemalloc.start()
    try:
        timeline = CalendarTimeline([master], default_time_zone="Europe/Berlin")
        month = starts(
            timeline,
            datetime(2026, 6, 1, tzinfo=BERLIN),
            datetime(2026, 7, 1, tzinfo=BERLIN),
        )
        nxt = timeline.active_or_next(datetime(2026, 9, 1, 12, 0, 0, 500, tzinfo=UTC))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    # The earliest instances of the range, one a second.
    assert len(month) == MAX_INSTANCES
    assert month[0] == datetime(2026, 6, 1, tzinfo=BERLIN)
    assert month[-1] - month[0] == timedelta(seconds=len(month) - 1)
    assert nxt is not None
    assert nxt.start == datetime(2026, 9, 1, 12, 0, 1, tzinfo=UTC)
    assert peak < 20 * 2**20


async def test_a_huge_count_is_bounded(
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """COUNT=3000000 shows its first _MAX_COUNT instances, counted without a list."""
    start = datetime(2026, 5, 1, tzinfo=ZoneInfo("UTC"))
    master = served(
        calendar_emulator,
        timed(
            "ticks",
            start,
            minutes=0,
            recurrence=["RRULE:FREQ=SECONDLY;COUNT=3000000"],
        ),
    )
    tracemalloc.start()
    try:
        timeline = CalendarTimeline([master], default_time_zone="UTC")
        first_day = starts(timeline, start, start + timedelta(days=1))
        count = timedelta(seconds=MAX_COUNT)
        last = timeline.active_or_next(start + count - timedelta(seconds=1.5))
        none_left = timeline.active_or_next(start + count)
        beyond = starts(timeline, start + timedelta(days=2), start + timedelta(days=40))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert len(first_day) == MAX_INSTANCES
    assert first_day[0] == start
    assert last is not None
    assert last.start == start + count - timedelta(seconds=1)
    assert none_left is None
    assert beyond == []
    assert peak < 20 * 2**20


async def test_ten_thousand_exdates(calendar_emulator: GoogleCalendarEmulator) -> None:
    """Every other hour of 20,000 is excluded, one EXDATE each."""
    start = datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC"))
    excluded = ",".join(
        (start + timedelta(hours=2 * hour + 1)).strftime("%Y%m%dT%H%M%SZ")
        for hour in range(10_000)
    )
    master = served(
        calendar_emulator,
        timed(
            "pills",
            start,
            minutes=10,
            recurrence=["RRULE:FREQ=HOURLY", f"EXDATE:{excluded}"],
        ),
    )
    tracemalloc.start()
    try:
        timeline = CalendarTimeline([master], default_time_zone="UTC")
        week = starts(
            timeline,
            datetime(2026, 6, 1, tzinfo=UTC),
            datetime(2026, 6, 8, tzinfo=UTC),
        )
        after = starts(
            timeline,
            datetime(2028, 6, 1, tzinfo=UTC),
            datetime(2028, 6, 2, tzinfo=UTC),
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert len(week) == 7 * 12
    assert all(moment.hour % 2 == 0 for moment in week)
    # The EXDATEs end after 20,000 hours (mid 2028): every hour again.
    assert len(after) == 24
    assert peak < 20 * 2**20


async def test_rdate_and_exdate_in_other_zones(
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """TZID parameters are case-sensitive zone names, honoured on every date."""
    master = served(
        calendar_emulator,
        timed(
            "standup",
            datetime(2026, 3, 2, 9, tzinfo=BERLIN),
            recurrence=[
                "RRULE:FREQ=WEEKLY;COUNT=3",
                # 9 March, 09:00 in Berlin is 04:00 in New York (on summer time).
                "EXDATE;TZID=America/New_York:20260309T040000",
                "RDATE;TZID=Asia/Tokyo:20260311T170000,20260312T170000",
            ],
        ),
    )
    timeline = CalendarTimeline([master], default_time_zone="UTC")

    found = starts(
        timeline, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    )

    assert found == [
        datetime(2026, 3, 2, 8, tzinfo=UTC),
        datetime(2026, 3, 11, 8, tzinfo=UTC),
        datetime(2026, 3, 12, 8, tzinfo=UTC),
        datetime(2026, 3, 16, 8, tzinfo=UTC),
    ]


def test_an_unknown_tzid_skips_the_series(caplog: pytest.LogCaptureFixture) -> None:
    master = timed(
        "series",
        datetime(2026, 3, 2, 9, tzinfo=BERLIN),
        recurrence=["RRULE:FREQ=DAILY", "EXDATE;TZID=europe/berlin:20260303T090000"],
    )

    timeline = CalendarTimeline([master], default_time_zone="UTC")

    assert timeline.active_or_next(datetime(2026, 3, 2, tzinfo=UTC)) is None
    assert "unknown TZID europe/berlin" in caplog.text


async def test_yearly_by_month_day_recurs_once_a_year_like_google(
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """Google shows YEARLY;BYMONTHDAY=10 in the start's month only, unlike RFC 5545."""
    master = served(
        calendar_emulator,
        all_day(
            "birthday",
            date(2026, 2, 10),
            recurrence=["RRULE:FREQ=YEARLY;BYMONTHDAY=10"],
        ),
    )
    months = all_day(
        "rent", date(2026, 2, 10), recurrence=["RRULE:FREQ=MONTHLY;BYMONTHDAY=10"]
    )
    timeline = CalendarTimeline([master, months], default_time_zone="UTC")

    found = timeline.overlapping(
        datetime(2026, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC)
    )

    assert [e.start for e in found if e.recurring_event_id == master["id"]] == [
        date(2026, 2, 10),
        date(2027, 2, 10),
    ]
    assert len([e for e in found if e.recurring_event_id == "rent"]) == 23


async def test_first_instance_is_the_stored_event_across_dst(
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """01:30 to 03:30 in Berlin on 29 March is one hour: so is every instance."""
    master = served(
        calendar_emulator,
        {
            "summary": "night shift",
            "start": {"dateTime": "2026-03-29T01:30:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2026-03-29T03:30:00", "timeZone": "Europe/Berlin"},
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=2"],
        },
    )
    timeline = CalendarTimeline([master], default_time_zone="UTC")

    first, second = timeline.overlapping(
        datetime(2026, 3, 28, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    )

    assert first.start == datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN)
    assert first.end == datetime(2026, 3, 29, 3, 30, tzinfo=BERLIN)
    assert first.end.timestamp() - first.start.timestamp() == 3600
    assert second.start == datetime(2026, 3, 30, 1, 30, tzinfo=BERLIN)
    assert second.end == datetime(2026, 3, 30, 2, 30, tzinfo=BERLIN)


def test_times_without_offset_are_read_in_their_own_zone() -> None:
    """Each of start and end is a wall-clock time in its own timeZone."""
    flight = {
        "id": "flight",
        "start": {"dateTime": "2026-07-01T10:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2026-07-01T12:00:00", "timeZone": "America/New_York"},
        "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=2"],
    }
    moved = {
        "id": "flight_20260708T080000Z",
        "recurringEventId": "flight",
        "originalStartTime": {
            "dateTime": "2026-07-08T10:00:00",
            "timeZone": "Europe/Berlin",
        },
        "status": "cancelled",
    }
    timeline = CalendarTimeline([flight, moved], default_time_zone="Asia/Tokyo")

    (event,) = timeline.overlapping(
        datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 8, 1, tzinfo=UTC)
    )

    assert event.start == datetime(2026, 7, 1, 10, tzinfo=BERLIN)
    assert event.end == datetime(2026, 7, 1, 12, tzinfo=NEW_YORK)
    assert event.end.tzinfo == NEW_YORK
    assert event.end.timestamp() - event.start.timestamp() == 8 * 3600


def test_a_rule_that_never_occurs_skips_the_series(
    caplog: pytest.LogCaptureFixture,
) -> None:
    never = all_day(
        "never",
        date(2026, 1, 1),
        recurrence=["RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"],
    )

    timeline = CalendarTimeline([never], default_time_zone="UTC")

    assert timeline.active_or_next(datetime(2026, 1, 1, tzinfo=UTC)) is None
    assert "never occurs" in caplog.text
    assert not series_ends_before(never, datetime(2026, 1, 1, tzinfo=UTC))


_STEP = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3600, "DAILY": 86400}


@settings(max_examples=60, deadline=None)
@given(
    freq=st.sampled_from(["SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY"]),
    interval=st.integers(1, 5),
    by_hour=st.sets(st.integers(0, 23), max_size=4),
    zone=st.sampled_from([BERLIN, NEW_YORK, ZoneInfo("Australia/Lord_Howe")]),
    start=st.datetimes(datetime(2024, 1, 1), datetime(2026, 12, 31)),  # noqa: DTZ001
    later=st.integers(0, 400),
)
def test_moving_the_start_keeps_every_instance(  # noqa: PLR0917
    freq: str,
    interval: int,
    by_hour: set[int],
    zone: ZoneInfo,
    start: datetime,
    later: int,
) -> None:
    """Queries far from the start give what iterating from DTSTART gives."""
    dtstart = start.replace(microsecond=0, tzinfo=zone)
    step = _STEP.get(freq, 7 * 86400) * interval
    # Far enough for the start to move, near enough to iterate from DTSTART.
    low = dtstart + timedelta(seconds=step * later * (200 if step < 3600 else 1))
    high = low + timedelta(seconds=step * 40)
    rule = f"FREQ={freq};INTERVAL={interval}"
    if by_hour:
        rule += ";BYHOUR=" + ",".join(map(str, sorted(by_hour)))
    master = timed("series", dtstart, minutes=0, recurrence=[f"RRULE:{rule}"])

    found = starts(CalendarTimeline([master], default_time_zone="UTC"), low, high)

    try:
        generated = rrulestr(rule, dtstart=dtstart).between(
            low - timedelta(hours=3), high + timedelta(hours=3), inc=True
        )
    except ValueError:
        generated = []  # a BYHOUR off the grid: the timeline skips the series
    expected = sorted(
        {
            moment.timestamp()
            for moment in generated
            if low.timestamp() <= moment.timestamp() < high.timestamp()
        }
    )
    assert [moment.timestamp() for moment in found] == expected


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


def test_converted_events_are_kept_until_their_event_changes() -> None:
    first = timed("first", datetime(2026, 3, 2, 9, tzinfo=UTC))
    second = timed("second", datetime(2026, 3, 2, 11, tzinfo=UTC))
    timeline = CalendarTimeline([first, second], default_time_zone="UTC")
    window = (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC))
    calls: list[str] = []

    def convert(event: TimelineEvent) -> str:
        calls.append(event.uid)
        return event.summary.upper()

    assert timeline.converted(*window, convert) == ["FIRST", "SECOND"]
    assert timeline.converted(*window, convert) == ["FIRST", "SECOND"]
    timeline.update([{**first, "summary": "moved"}])
    assert timeline.converted(*window, convert) == ["MOVED", "SECOND"]
    assert calls == ["first", "second", "first"]


def test_a_first_query_is_readied_apart_from_the_index() -> None:
    """The expansion and conversion of a new range can run in another thread."""
    daily = timed(
        "daily", datetime(2026, 1, 5, 9, tzinfo=UTC), recurrence=["RRULE:FREQ=DAILY"]
    )
    single = timed("single", datetime(2026, 3, 2, 11, tzinfo=UTC))
    timeline = CalendarTimeline([daily, single], default_time_zone="UTC")
    window = (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC))
    calls: list[str] = []

    def convert(event: TimelineEvent) -> str:
        calls.append(event.uid)
        return event.uid

    ready = timeline.prepare(*window, convert)
    assert ready is not None
    with ThreadPoolExecutor(max_workers=1) as pool:
        timeline.keep(pool.submit(ready).result())
    readied = sorted(calls)

    assert timeline.prepare(*window, convert) is None
    assert timeline.converted(*window, convert) == ["daily_20260302T090000Z", "single"]
    assert sorted(calls) == readied == ["daily_20260302T090000Z", "single"]


def test_an_answer_prepared_before_a_change_is_not_kept() -> None:
    """A change while the executor prepares: the query looks again, and sees it."""
    first = timed("first", datetime(2026, 3, 2, 9, tzinfo=UTC))
    timeline = CalendarTimeline([first], default_time_zone="UTC")
    window = (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC))
    ready = timeline.prepare(*window, str)
    assert ready is not None
    prepared = ready()

    timeline.update([timed("second", datetime(2026, 3, 2, 11, tzinfo=UTC))])
    timeline.keep(prepared)

    assert timeline.prepare(*window, str) is not None
    assert [event.uid for event in timeline.overlapping(*window)] == [
        "first",
        "second",
    ]


def test_a_series_that_fails_while_prepared_is_reported_by_the_query() -> None:
    """Nothing is kept from the executor then: the query finds and reports it."""
    daily = timed(
        "daily", datetime(2026, 1, 5, 9, tzinfo=UTC), recurrence=["RRULE:FREQ=DAILY"]
    )
    skipped: list[str] = []
    timeline = CalendarTimeline(
        [daily],
        default_time_zone="UTC",
        on_skip=lambda uid, _event, reason: skipped.append(f"{uid}: {reason}"),
    )
    window = (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC))
    ready = timeline.prepare(*window, str)
    assert ready is not None
    with patch.object(Series, "overlapping", side_effect=ValueError("broken")):
        timeline.keep(ready())
        assert timeline.overlapping(*window) == []

    assert skipped == ["daily: cannot expand its recurrence: broken"]
