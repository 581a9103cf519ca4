"""Recurrence lines read the way Google reads them, for dateutil."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from custom_components.google_calendar_sync.google.rules import (
    content_line,
    count_to_until,
    normalize_rule,
    repeat_period,
)

START = datetime(2026, 1, 5, 10, tzinfo=ZoneInfo("Europe/Berlin"))


def test_content_lines_keep_parameter_values_as_given() -> None:
    assert content_line('exdate;tzid="America/New_York":20260105T100000') == (
        "EXDATE",
        {"TZID": "America/New_York"},
        "20260105T100000",
    )


@pytest.mark.parametrize(
    ("rule", "all_day", "expected"),
    [
        # UNTIL in DTSTART's form: UTC for timed rules, a date for all-day ones.
        ("FREQ=DAILY;UNTIL=20260110", False, "FREQ=DAILY;UNTIL=20260110T225959Z"),
        ("FREQ=DAILY;UNTIL=20260110T120000Z", True, "FREQ=DAILY;UNTIL=20260110"),
        # Google shows a yearly BYMONTHDAY once a year, in the start's month.
        ("FREQ=YEARLY;BYMONTHDAY=5", False, "FREQ=YEARLY;BYMONTHDAY=5;BYMONTH=1"),
        ("freq=weekly; byday=MO", False, "FREQ=weekly;BYDAY=MO"),
    ],
)
def test_rules_are_read_the_way_google_reads_them(
    rule: str, all_day: bool, expected: str
) -> None:
    assert normalize_rule(rule, START, all_day=all_day) == expected


def test_count_becomes_the_until_of_the_last_instance() -> None:
    start = datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert count_to_until("FREQ=DAILY;COUNT=3", start) == (
        "FREQ=DAILY;UNTIL=20260107T100000Z"
    )
    assert count_to_until("FREQ=DAILY", start) == "FREQ=DAILY"


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ([{"FREQ": "DAILY", "INTERVAL": "3"}], (False, 3 * 7 * 86400)),
        ([{"FREQ": "HOURLY", "INTERVAL": "5"}], (False, 5 * 3600)),
        ([{"FREQ": "MONTHLY", "INTERVAL": "5"}, {"FREQ": "YEARLY"}], (True, 60)),
        # What never repeats the same way: no rule, COUNT, mixed units.
        ([], None),
        ([{"FREQ": "DAILY", "COUNT": "3"}], None),
        ([{"FREQ": "DAILY"}, {"FREQ": "MONTHLY"}], None),
    ],
)
def test_rules_repeat_after_the_least_common_multiple_of_their_periods(
    rules: list[dict[str, str]], expected: tuple[bool, int] | None
) -> None:
    assert repeat_period(rules, START) == expected


def test_a_leap_day_never_moves_by_whole_years() -> None:
    leap = datetime(2028, 2, 29, 10, tzinfo=UTC)
    assert repeat_period([{"FREQ": "YEARLY"}], leap) is None
