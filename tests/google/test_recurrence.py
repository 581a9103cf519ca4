"""Recurring events: how a series expands, what it cannot expand, where it ends."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
import threading
import tracemalloc
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from hypothesis import given, settings, strategies as st
import pytest

from custom_components.google_calendar_sync.google import (
    recurrence as recurrence_module,
)
from custom_components.google_calendar_sync.google.recurrence import (
    MAX_INSTANCES,
    check_recurrence,
    series_ends_before,
)
from custom_components.google_calendar_sync.google.rules import MAX_COUNT
from custom_components.google_calendar_sync.google.timeline import CalendarTimeline
from google_calendar_emulator import GoogleCalendarEmulator
from tests.conftest import ACCOUNT

from .conftest import BERLIN, NEW_YORK, all_day, query, timed


def daily(event_id: str, rule: str) -> dict[str, Any]:
    """Return a daily series from 5 January 2026, 10:00 UTC."""
    return {
        "id": event_id,
        "start": {"dateTime": "2026-01-05T10:00:00+00:00"},
        "end": {"dateTime": "2026-01-05T10:30:00+00:00"},
        "recurrence": [rule],
    }


def instances_in_2026(event: dict[str, Any]) -> list[str]:
    """Return the id suffixes of the instances of a series in 2026 (UTC)."""
    timeline = CalendarTimeline([event], default_time_zone="UTC")
    found = query(
        timeline, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    )
    return [uid.removeprefix(f"{event['id']}_") for uid, _ in found]


def test_series_ends_before() -> None:
    finished = daily("finished", "RRULE:FREQ=DAILY;COUNT=2")
    endless = daily("endless", "RRULE:FREQ=DAILY")

    assert series_ends_before(finished, datetime(2026, 2, 1, tzinfo=UTC))
    assert not series_ends_before(finished, datetime(2026, 1, 6, tzinfo=UTC))
    assert not series_ends_before(endless, datetime(2030, 1, 1, tzinfo=UTC))
    assert not series_ends_before({"id": "x"}, datetime(2030, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    "event",
    [
        {"recurrence": ["RRULE:FREQ=DAILY"]},
        {
            "start": {"date": "2026-01-01"},
            "end": {"dateTime": "2026-01-01T10:00:00Z"},
            "recurrence": ["RRULE:FREQ=DAILY"],
        },
        {
            "start": {"date": "2026-01-01"},
            "end": {"date": "2026-01-02"},
            "recurrence": ["RRULE:FREQ=WHENEVER"],
        },
    ],
)
def test_check_recurrence_refuses_what_the_timeline_cannot_expand(
    event: dict[str, Any],
) -> None:
    with pytest.raises(ValueError):
        check_recurrence(event)


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

    assert instances_in_2026(master) == [f"{day}T100000Z" for day in expected]


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
    assert instances_in_2026(event) == expected


def test_series_expansions_stay_bounded() -> None:
    every_day = timed(
        "daily", datetime(2020, 1, 1, 7, tzinfo=UTC), recurrence=["RRULE:FREQ=DAILY"]
    )
    timeline = CalendarTimeline([every_day], default_time_zone="UTC")

    decade = query(
        timeline, datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)
    )
    week = query(
        timeline, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 8, tzinfo=UTC)
    )

    assert len(decade) == 3653
    assert len(week) == 7


def served(emulator: GoogleCalendarEmulator, event: dict[str, Any]) -> dict[str, Any]:
    """Store an event in the emulator and return it the way Google answers."""
    body = {key: value for key, value in event.items() if key not in ("id", "etag")}
    return emulator.insert_event(ACCOUNT, body)


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


def test_a_query_never_waits_for_a_thread_expanding_the_same_series() -> None:
    """A rebuild in the executor expands a series the loop reads: the loop answers.

    The rebuilt timeline reuses the published one's series. While the rebuild
    expands one (here: held while it reads the rules), a query of the published
    timeline answers from the rules instead of waiting for it.
    """
    master = daily("standup", "RRULE:FREQ=DAILY")
    published = CalendarTimeline([master], default_time_zone="UTC")
    published.overlapping(
        datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    )
    june = (datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))
    expanding, answered = threading.Event(), threading.Event()
    released: list[bool] = []
    parse_rule = recurrence_module.parse_rule
    querying = threading.get_ident()

    def held_parse_rule(*args: Any) -> Any:
        if threading.get_ident() != querying:
            expanding.set()
            # Held until the query below answered; the timeout only ends a hang.
            released.append(answered.wait(timeout=5))
        return parse_rule(*args)

    def rebuild() -> list[str]:
        rebuilt = CalendarTimeline(
            [master], default_time_zone="UTC", reuse=published.series
        )
        return [event.uid for event in rebuilt.overlapping(*june)]

    with (
        patch.object(recurrence_module, "parse_rule", held_parse_rule),
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        pending = pool.submit(rebuild)
        assert expanding.wait(timeout=5)
        answer = [event.uid for event in published.overlapping(*june)]
        following = published.active_or_next(datetime(2026, 6, 10, 11, tzinfo=UTC))
        answered.set()
        rebuilt = pending.result()

    assert released == [True]
    assert answer == rebuilt
    assert len(answer) == 30
    assert following is not None
    assert following.start == datetime(2026, 6, 11, 10, tzinfo=UTC)
