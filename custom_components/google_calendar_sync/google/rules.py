"""Recurrence lines (RFC 5545) read the way Google reads them, for dateutil."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, tzinfo
from itertools import islice
from math import lcm

from dateutil.rrule import rrule, rrulestr

# A COUNT rule shows at most its first MAX_COUNT instances, counted once per
# series (about 0.5 s).
MAX_COUNT = 100_000
# Frequency -> (counted in months, unit length, base period that aligns the grid).
# Months for MONTHLY and YEARLY, seconds for the others.
_WEEK = 7 * 86400
_PERIOD_UNITS = {
    "SECONDLY": (False, 1, 1),
    "MINUTELY": (False, 60, 1),
    "HOURLY": (False, 3600, 1),
    "DAILY": (False, 86400, _WEEK),
    "WEEKLY": (False, _WEEK, _WEEK),
    "MONTHLY": (True, 1, 12),
    "YEARLY": (True, 12, 12),
}


def content_line(line: str) -> tuple[str, dict[str, str], str]:
    """Split a recurrence line into its name, parameters and value.

    Names are case-insensitive; parameter values are not (TZID names a zone,
    RFC 5545 3.2): they are kept as given, without quotes.
    """
    head, _, value = line.partition(":")
    name, *params = head.split(";")
    parameters = {}
    for param in params:
        key, _, param_value = param.partition("=")
        parameters[key.strip().upper()] = param_value.strip().strip('"')
    return name.strip().upper(), parameters, value.strip()


def ical_datetime(value: str, zone: tzinfo) -> datetime:
    """Parse an iCalendar date-time; floating values are in zone."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def normalize_rule(value: str, dtstart: datetime, *, all_day: bool) -> str:
    """Make a rule agree with DTSTART and read it the way Google does.

    dateutil requires UNTIL in DTSTART's form: a date for all-day rules, UTC for
    timed ones (a date-only UNTIL includes the whole day in DTSTART's zone).
    Google deviates from RFC 5545 for FREQ=YEARLY with BYMONTHDAY but without
    BYMONTH: it shows the event once a year, in the month of its start (the RFC
    and dateutil expand it every month), so the start's month is added as
    BYMONTH (as gcal_sync does, its PR 179).
    """
    parts: dict[str, str] = {}
    for part in value.strip().split(";"):
        key, _, item = part.partition("=")
        if key.strip():
            parts[key.strip().upper()] = item.strip()
    if "UNTIL" in parts:
        until = parts["UNTIL"]
        if all_day:
            parts["UNTIL"] = until[:8]
        else:
            if "T" not in until:
                until = f"{until}T235959"
            local = ical_datetime(until, dtstart.tzinfo or UTC)
            parts["UNTIL"] = local.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    if (
        parts.get("FREQ", "").upper() == "YEARLY"
        and "BYMONTHDAY" in parts
        and not parts.keys() & {"BYMONTH", "BYWEEKNO", "BYYEARDAY"}
    ):
        parts["BYMONTH"] = str(dtstart.month)
    return ";".join(f"{key}={item}" for key, item in parts.items())


def parse_rule(value: str, dtstart: datetime) -> rrule:
    """Parse one RRULE/EXRULE value with dateutil: the one parser of rules."""
    rule = rrulestr(value, dtstart=dtstart)
    if not isinstance(rule, rrule):
        raise TypeError(f"unsupported rule {value}")
    return rule


def count_to_until(value: str, dtstart: datetime) -> str:
    """Replace COUNT by the UNTIL of the last instance.

    A COUNT rule can only be expanded from its DTSTART; with UNTIL it can start
    anywhere on its grid, which keeps queries of long series fast. Done once per
    series: a series whose master is unchanged is reused by the next timeline.
    """
    parts = value.split(";")
    if not any(part.upper().startswith("COUNT=") for part in parts):
        return value
    # Only the last instance is kept: counting costs time, not memory.
    last = deque(islice(parse_rule(value, dtstart), MAX_COUNT), maxlen=1)
    if not last:
        return value
    if last[0].tzinfo is None:
        until = last[0].strftime("%Y%m%dT%H%M%S")
    else:
        until = last[0].astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = [part for part in parts if not part.upper().startswith("COUNT=")]
    return ";".join([*kept, f"UNTIL={until}"])


def repeat_period(
    rules: list[dict[str, str]], dtstart: datetime
) -> tuple[bool, int] | None:
    """Return (in months?, length) after which all rules repeat, None if never.

    The length counts months, or seconds of wall-clock time.
    """
    if not rules:
        return None
    units: set[bool] = set()
    period = 1
    for params in rules:
        freq = params.get("FREQ", "")
        if "COUNT" in params or freq not in _PERIOD_UNITS:
            return None
        by_months, unit, base = _PERIOD_UNITS[freq]
        units.add(by_months)
        period = lcm(period, base, unit * int(params.get("INTERVAL") or 1))
    if len(units) != 1:
        return None
    by_months = units.pop()
    if by_months and dtstart.month == 2 and dtstart.day == 29:
        # Moving a leap day by whole years lands on dates that do not exist.
        return None
    return by_months, period
