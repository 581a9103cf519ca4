"""Local index of a calendar snapshot: recurrence expansion and range queries."""

from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
import logging
import threading
import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulebase, rruleset, rrulestr

_LOGGER = logging.getLogger(__name__)

# What malformed event data raises while it is indexed, expanded or built: one
# such event is skipped, never the calendar (OSError: a 300-character zone name).
BAD_EVENT_DATA: tuple[type[Exception], ...] = (
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    AttributeError,
    OverflowError,
    OSError,
)
# Told about every event left out: (event or instance id if any, resource, reason).
type OnSkip = Callable[[str | None, Any, str], None]

# Single events longer than this live in a short list scanned in full, so the
# sorted index only needs to look back this far for events overlapping a range.
_LONG_EVENT = timedelta(days=7).total_seconds()
# Recurrence instances are expanded and cached in buckets of this many seconds.
_BUCKET = 86400
# Days of expansions a series keeps before starting over.
_MAX_BUCKETS = 3 * 366
# Move the anchor of a series forward once queries are this far past it.
_REANCHOR_AFTER = timedelta(days=3 * 366)
# Give up looking for the next instance after this many hidden ones in a row.
_MAX_SKIPPED = 10_000
# Timelines are built and warmed in the executor while the loop queries the
# previous one: the caches below are shared across threads. Single dict
# operations are atomic; the series cache and each series take a lock.
_INSTANT_CACHE_SIZE = 200_000
_INSTANT_CACHE: dict[str, float] = {}
_SERIES_CACHE_SIZE = 4096
_SERIES_CACHE_LOCK = threading.Lock()
_SERIES_CACHE: OrderedDict[tuple[str, str, frozenset[float | date], str], _Series] = (
    OrderedDict()
)
# Frequency -> (counted in months, unit length, base period that aligns the grid).
_PERIOD_UNITS = {
    "DAILY": (False, 1, 7),
    "WEEKLY": (False, 7, 7),
    "MONTHLY": (True, 1, 12),
    "YEARLY": (True, 12, 12),
}


class SkippedEvents:
    """Warn once per version of each event of a calendar that cannot be shown.

    Timelines are rebuilt after every sync and read on every query: without this
    the same warning would repeat. Called from the loop and the executor.
    """

    def __init__(self, calendar: str) -> None:
        """Start with nothing reported for the calendar."""
        self._calendar = calendar
        self._seen: set[tuple[str | None, str | None]] = set()
        self._lock = threading.Lock()

    def __call__(self, event_id: str | None, event: Any, reason: str) -> None:
        """Log a warning the first time a version of an event is skipped."""
        source_id = event.get("id") if isinstance(event, Mapping) else None
        etag = event.get("etag") if isinstance(event, Mapping) else None
        key = (
            source_id if isinstance(source_id, str) else event_id,
            etag if isinstance(etag, str) else None,
        )
        with self._lock:
            if key in self._seen:
                return
            self._seen.add(key)
        _LOGGER.warning(
            "Skipping event %.200s of calendar %s, which Home Assistant cannot "
            "show: %.200s",
            event_id or "without an id",
            self._calendar,
            reason,
        )


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One event or generated instance, ready for Home Assistant."""

    uid: str
    recurring_event_id: str | None
    recurrence_id: str | None
    rrule: str | None
    summary: str
    description: str | None
    location: str | None
    start: date | datetime
    end: date | datetime
    source: dict[str, Any]


class _Entry:
    """An event's bounds as UTC timestamps; the TimelineEvent is built on demand."""

    __slots__ = (
        "_event",
        "_local",
        "_raw",
        "_series",
        "_tz",
        "end_ts",
        "start_ts",
        "uid",
    )

    def __init__(
        self,
        start_ts: float,
        end_ts: float,
        uid: str,
        *,
        raw: dict[str, Any] | None = None,
        tz: tzinfo = UTC,
        series: _Series | None = None,
        local: datetime | None = None,
    ) -> None:
        """Store the bounds and what builds the event: a raw event or an instance."""
        self.start_ts = start_ts
        self.end_ts = end_ts
        self.uid = uid
        self._event: TimelineEvent | None = None
        self._raw = raw
        self._tz = tz
        self._series = series
        self._local = local

    @property
    def source(self) -> Mapping[str, Any]:
        """Return the Google event the entry comes from (the master of instances)."""
        if self._series is not None:
            return self._series.master
        return self._raw or {}

    @property
    def event(self) -> TimelineEvent:
        """Return the TimelineEvent, building it the first time."""
        if self._event is None and self._series is not None and self._local:
            self._event = self._series.build(self._local, self.uid)
        if self._event is None:
            raw = self._raw or {}
            master_id = raw.get("recurringEventId")
            self._event = _timeline_event(
                raw,
                raw["id"],
                master_id,
                _recurrence_suffix(raw.get("originalStartTime", {}))
                if master_id
                else None,
                None,
                _parse_time(raw["start"], self._tz),
                _parse_time(raw["end"], self._tz),
            )
        return self._event


class CalendarTimeline:
    """Answer range queries over a snapshot's events without network access."""

    def __init__(
        self,
        events: Iterable[dict[str, Any]],
        *,
        default_time_zone: str,
        on_skip: OnSkip | None = None,
    ) -> None:
        """Index the events of a snapshot.

        An event that cannot be shown (missing or unparsable times, end before
        start, a bad recurrence, texts that are not text) is left out and
        reported to on_skip, here or when a query first meets it.
        """
        self._tz = _zone(default_time_zone) or UTC
        self._on_skip = on_skip
        self._date_bounds: dict[str, float] = {}
        masters: dict[str, dict[str, Any]] = {}
        exceptions: list[dict[str, Any]] = []
        plain: list[dict[str, Any]] = []
        for event in events:
            if event.get("status") == "cancelled" and "recurringEventId" not in event:
                continue
            if (problem := _unusable(event)) is not None:
                self._skip(event, problem)
            elif "recurringEventId" in event:
                exceptions.append(event)
            elif event.get("recurrence"):
                masters[event["id"]] = event
            else:
                plain.append(event)
        self._series: list[_Series] = []
        overrides: dict[str, set[float | date]] = {}
        for event in exceptions:
            master_id = event["recurringEventId"]
            if master_id in masters:
                key = _original_key(event.get("originalStartTime"))
                if key is not None:
                    overrides.setdefault(master_id, set()).add(key)
            if event.get("status") != "cancelled":
                plain.append(event)
        for master_id, master in masters.items():
            try:
                series = _cached_series(
                    master, frozenset(overrides.get(master_id, ())), self._tz
                )
            except BAD_EVENT_DATA as err:
                self._skip(master, f"cannot expand its recurrence: {err}")
                continue
            self._series.append(series)
        short: list[_Entry] = []
        self._long: list[_Entry] = []
        for event in plain:
            entry = self._entry(event)
            if entry is None:
                continue
            if entry.end_ts - entry.start_ts > _LONG_EVENT:
                self._long.append(entry)
            else:
                short.append(entry)
        short.sort(key=_sort_key)
        self._short = short
        self._short_starts = [entry.start_ts for entry in short]

    def overlapping(self, start: datetime, end: datetime) -> list[TimelineEvent]:
        """Return the events overlapping [start, end), sorted by start."""
        start_ts = self._timestamp(start)
        end_ts = self._timestamp(end)
        found: list[_Entry] = []
        low = bisect_left(self._short_starts, start_ts - _LONG_EVENT)
        high = bisect_left(self._short_starts, end_ts)
        found.extend(
            entry
            for entry in self._short[low:high]
            if entry.end_ts > start_ts or (entry.end_ts == entry.start_ts == start_ts)
        )
        found.extend(
            entry
            for entry in self._long
            if entry.start_ts < end_ts and entry.end_ts > start_ts
        )
        for series in self._series:
            try:
                found.extend(series.overlapping(start_ts, end_ts))
            except BAD_EVENT_DATA as err:
                self._skip(series.master, f"cannot expand its recurrence: {err}")
        found.sort(key=_sort_key)
        return [event for entry in found if (event := self._built(entry)) is not None]

    def warm(
        self,
        now: datetime,
        *,
        before: timedelta = timedelta(days=31),
        after: timedelta = timedelta(days=62),
    ) -> None:
        """Expand the series and build the events around now ahead of queries.

        Meant for the executor: the first query of a fresh timeline (after a
        restart, every series is expanded from scratch) then reads caches.
        """
        self.overlapping(now - before, now + after)
        self.active_or_next(now)

    def active_or_next(self, now: datetime) -> TimelineEvent | None:
        """Return the event in progress at now, or else the next one to start."""
        now_ts = self._timestamp(now)
        candidates: list[_Entry] = []
        index = bisect_left(self._short_starts, now_ts - _LONG_EVENT)
        upcoming = (entry for entry in self._short[index:] if entry.end_ts > now_ts)
        if (first := next(upcoming, None)) is not None:
            candidates.append(first)
        candidates.extend(entry for entry in self._long if entry.end_ts > now_ts)
        for series in self._series:
            try:
                found = series.first_ending_after(now_ts)
            except BAD_EVENT_DATA as err:
                self._skip(series.master, f"cannot expand its recurrence: {err}")
                continue
            if found is not None:
                candidates.append(found)
        candidates.sort(key=_sort_key)
        return next(
            (event for entry in candidates if (event := self._built(entry))), None
        )

    def _built(self, entry: _Entry) -> TimelineEvent | None:
        """Return the entry's event, None (reported) if its data cannot make one."""
        try:
            return entry.event
        except BAD_EVENT_DATA as err:
            self._skip(entry.source, f"unreadable: {err}", entry.uid)
            return None

    def _skip(
        self, event: Mapping[str, Any], reason: str, uid: str | None = None
    ) -> None:
        """Report an event left out of this timeline."""
        if self._on_skip is not None:
            self._on_skip(uid or event.get("id"), event, reason)

    def _timestamp(self, value: datetime) -> float:
        """Return a UTC timestamp; naive datetimes are in the calendar's zone."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=self._tz)
        return value.timestamp()

    def _entry(self, event: dict[str, Any]) -> _Entry | None:
        """Build the index entry of a single event or exception."""
        try:
            start_ts = self._fast_bound(event["start"])
            end_ts = self._fast_bound(event["end"])
        except BAD_EVENT_DATA as err:
            self._skip(event, f"unreadable times: {err!r}")
            return None
        if end_ts < start_ts:
            self._skip(event, "ends before it starts")
            return None
        return _Entry(start_ts, end_ts, event["id"], raw=event, tz=self._tz)

    def _fast_bound(self, value: Mapping[str, Any]) -> float:
        """Return the UTC timestamp of a Google start/end, memoized."""
        if (text := value.get("dateTime")) is not None:
            if (known := _INSTANT_CACHE.get(text)) is not None:
                return known
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is None:
                zone = _zone(value.get("timeZone")) or self._tz
                return parsed.replace(tzinfo=zone).timestamp()
            # Times with an offset mean the same instant in every rebuild.
            if len(_INSTANT_CACHE) >= _INSTANT_CACHE_SIZE:
                _INSTANT_CACHE.clear()
            known = _INSTANT_CACHE[text] = parsed.timestamp()
            return known
        day: str = value["date"]
        if (cached := self._date_bounds.get(day)) is None:
            cached = _bound(date.fromisoformat(day), self._tz)
            self._date_bounds[day] = cached
        return cached


class _Series:
    """A recurring event with its expansions cached per time bucket."""

    __slots__ = (
        "_all_day",
        "_anchor",
        "_anchored_set",
        "_buckets",
        "_dtstart",
        "_exdates",
        "_exrules",
        "_length",
        "_length_ts",
        "_lock",
        "_master",
        "_overrides",
        "_period",
        "_rdates",
        "_rrule_text",
        "_rules",
        "_start_zone",
        "_tz",
    )

    def __init__(
        self, master: dict[str, Any], overrides: frozenset[float | date], tz: tzinfo
    ) -> None:
        """Parse the master's start, length and recurrence lines."""
        self._master = master
        self._overrides = overrides
        self._tz = tz
        start_field = master["start"]
        end_field = master.get("end", start_field)
        self._all_day = "date" in start_field
        self._start_zone: tzinfo = _zone(start_field.get("timeZone")) or tz
        if self._all_day:
            first = date.fromisoformat(start_field["date"])
            self._dtstart = datetime.combine(first, datetime.min.time())
            self._length = date.fromisoformat(end_field["date"]) - first
        else:
            first_dt = datetime.fromisoformat(start_field["dateTime"])
            if first_dt.tzinfo is None:
                first_dt = first_dt.replace(tzinfo=self._start_zone)
            self._dtstart = first_dt.astimezone(self._start_zone)
            last_dt = datetime.fromisoformat(end_field["dateTime"])
            if last_dt.tzinfo is None:
                last_dt = last_dt.replace(tzinfo=self._start_zone)
            self._length = last_dt - first_dt
        self._length_ts = self._length.total_seconds()
        self._rules: list[str] = []
        self._exrules: list[str] = []
        self._rdates: list[datetime] = []
        self._exdates: list[datetime] = []
        self._rrule_text: str | None = None
        rule_params: list[dict[str, str]] = []
        for line in master.get("recurrence", []):
            name, _, value = line.partition(":")
            kind, *params = name.upper().split(";")
            if kind in ("RRULE", "EXRULE"):
                normalized = _count_to_until(self._normalize_rule(value), self._dtstart)
                # An unparsable rule refuses the series here, where it is reported.
                _parse_rule(normalized, self._dtstart)
                rule_params.append(
                    dict(
                        part.upper().partition("=")[::2]
                        for part in normalized.split(";")
                    )
                )
                if kind == "RRULE":
                    self._rules.append(normalized)
                    self._rrule_text = self._rrule_text or value
                else:
                    self._exrules.append(normalized)
            elif kind in ("RDATE", "EXDATE"):
                dates = [self._parse_date(item, params) for item in value.split(",")]
                (self._rdates if kind == "RDATE" else self._exdates).extend(dates)
        if not self._rules and not self._rdates:
            raise ValueError("no RRULE or RDATE")
        if not self._rules:
            # Without a rule the start itself is the first instance (RFC 5545).
            self._rdates.append(self._dtstart)
        self._period = _repeat_period(rule_params, self._dtstart)
        self._anchor = self._dtstart
        self._anchored_set: rrulebase | None = None
        self._buckets: dict[int, list[_Entry]] = {}
        # Timelines on the loop and one being built in the executor share series.
        self._lock = threading.RLock()

    @property
    def master(self) -> dict[str, Any]:
        """Return the recurring event."""
        return self._master

    def overlapping(self, start_ts: float, end_ts: float) -> list[_Entry]:
        """Return the generated instances overlapping [start_ts, end_ts)."""
        first = int((start_ts - self._length_ts) // _BUCKET)
        last = int(end_ts // _BUCKET)
        with self._lock:
            if len(self._buckets) > _MAX_BUCKETS:
                # Series live on across rebuilds: forget old queries now and then.
                self._buckets.clear()
            missing = [b for b in range(first, last + 1) if b not in self._buckets]
            if missing:
                self._fill(missing[0], missing[-1])
            buckets = [self._buckets[bucket] for bucket in range(first, last + 1)]
        return [
            entry
            for bucket in buckets
            for entry in bucket
            if entry.start_ts < end_ts
            and (
                entry.end_ts > start_ts or (entry.end_ts == entry.start_ts == start_ts)
            )
        ]

    def first_ending_after(self, now_ts: float) -> _Entry | None:
        """Return the earliest instance still running or starting after now."""
        with self._lock:
            return self._first_ending_after(now_ts)

    def _first_ending_after(self, now_ts: float) -> _Entry | None:
        """Find the next instance; the caller holds the lock."""
        # The buckets around now are usually filled by the calendar's range query.
        if running := [
            entry
            for entry in self.overlapping(now_ts, now_ts + _BUCKET)
            if entry.end_ts > now_ts
        ]:
            return min(running, key=_sort_key)
        since = datetime.fromtimestamp(now_ts - self._length_ts, UTC)
        for count, local_start in enumerate(
            self._rule_set(since).xafter(self._local(since), inc=True)
        ):
            entry = self._instance(local_start)
            if entry is not None and entry.end_ts > now_ts:
                return entry
            if count > _MAX_SKIPPED:
                break
        return None

    def _fill(self, first: int, last: int) -> None:
        """Expand the instances starting in buckets first to last, in one pass."""
        low_ts, high_ts = first * _BUCKET, (last + 1) * _BUCKET
        low = datetime.fromtimestamp(low_ts, UTC)
        high = datetime.fromtimestamp(high_ts, UTC)
        fresh: dict[int, list[_Entry]] = {}
        # A day of margin on both sides covers every UTC offset of the rules' zone.
        for local_start in self._rule_set(low).between(
            self._local(low - timedelta(days=1)),
            self._local(high + timedelta(days=1)),
            inc=True,
        ):
            entry = self._instance(local_start)
            if entry is not None and low_ts <= entry.start_ts < high_ts:
                fresh.setdefault(int(entry.start_ts // _BUCKET), []).append(entry)
        for bucket in range(first, last + 1):
            self._buckets.setdefault(bucket, fresh.get(bucket, []))

    def _instance(self, local_start: datetime) -> _Entry | None:
        """Index one generated instance unless an exception replaces it."""
        if self._all_day:
            day = local_start.date()
            if day in self._overrides:
                return None
            suffix = f"{day.year:04}{day.month:02}{day.day:02}"
            start_ts = _bound(day, self._tz)
            end_ts = _bound(day + self._length, self._tz)
        else:
            start_ts = local_start.timestamp()
            if start_ts in self._overrides:
                return None
            end_ts = start_ts + self._length_ts
            suffix = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(start_ts))
        uid = f"{self._master['id']}_{suffix}"
        return _Entry(start_ts, end_ts, uid, series=self, local=local_start)

    def build(self, local_start: datetime, uid: str) -> TimelineEvent:
        """Build the TimelineEvent of a generated instance."""
        start: date | datetime
        end: date | datetime
        if self._all_day:
            start = local_start.date()
            end = start + self._length
        else:
            start = local_start
            end = (local_start.astimezone(UTC) + self._length).astimezone(
                self._start_zone
            )
        master_id: str = self._master["id"]
        return _timeline_event(
            self._master,
            uid,
            master_id,
            uid[len(master_id) + 1 :],
            self._rrule_text,
            start,
            end,
        )

    def _rule_set(self, near: datetime) -> rrulebase:
        """Return a rule set that yields every instance from near on.

        The set starts at an anchor: DTSTART moved close to the first query. Later
        queries reuse it, and dateutil caches what it generated.
        """
        anchor = self._shift_to(near) or self._dtstart
        if self._anchored_set is not None and (
            self._anchor <= anchor < self._anchor + _REANCHOR_AFTER
            or self._anchor == self._dtstart
        ):
            return self._anchored_set
        self._anchor = anchor
        if len(self._rules) == 1 and not (
            self._exrules or self._rdates or self._exdates
        ):
            # The common case: a lone rule iterates faster without a set around it.
            with suppress(ValueError, TypeError):
                self._anchored_set = _parse_rule(self._rules[0], anchor)
                return self._anchored_set
        rule_set = rruleset(cache=True)
        try:
            for value in self._rules:
                rule_set.rrule(_parse_rule(value, anchor))
            for value in self._exrules:
                rule_set.exrule(_parse_rule(value, anchor))
        except ValueError, TypeError:
            _LOGGER.warning("Cannot expand recurring event %s", self._master["id"])
            rule_set = rruleset()
            self._rules.clear()
            self._exrules.clear()
            self._rdates.clear()
        for moment in self._rdates:
            rule_set.rdate(moment)
        for moment in self._exdates:
            rule_set.exdate(moment)
        self._anchored_set = rule_set
        return rule_set

    def _shift_to(self, near: datetime) -> datetime | None:
        """Return a later DTSTART with the same instances from near on, if any.

        Iterating from the original DTSTART on every query is slow for long series.
        Rules without COUNT repeat after a whole number of weeks (daily, weekly) or
        years (monthly, yearly), so moving DTSTART by whole periods of wall-clock
        time keeps every instance, DST included.
        """
        if self._period is None:
            return None
        by_months, period = self._period
        target = self._local(near - timedelta(days=2)).replace(tzinfo=None)
        naive_start = self._dtstart.replace(tzinfo=None)
        if by_months:
            months = (target.year - naive_start.year) * 12 + (
                target.month - naive_start.month
            )
            # One month of slack keeps the moved start before the target.
            steps = (months - 1) // period
            if steps <= 0:
                return None
            return self._dtstart.replace(year=self._dtstart.year + steps * period // 12)
        steps = (target - naive_start).days // period
        if steps <= 0:
            return None
        moved = naive_start + timedelta(days=steps * period)
        return moved.replace(tzinfo=self._dtstart.tzinfo)

    def _local(self, value: datetime) -> datetime:
        """Express a UTC datetime the way the rules count (local, naive if all-day)."""
        if self._all_day:
            return value.astimezone(self._tz).replace(tzinfo=None)
        return value.astimezone(self._start_zone)

    def _normalize_rule(self, value: str) -> str:
        """Make UNTIL agree with DTSTART, which dateutil requires."""
        parts = []
        for part in value.split(";"):
            key, _, until = part.partition("=")
            parts.append(
                f"UNTIL={self._until(until)}" if key.upper() == "UNTIL" else part
            )
        return ";".join(parts)

    def _until(self, value: str) -> str:
        """Return UNTIL as a date for all-day rules and in UTC for timed ones."""
        if self._all_day:
            return value[:8]
        if "T" not in value:
            # A date-only UNTIL includes the whole day in the event's zone.
            value = f"{value}T235959"
        local = _ical_datetime(value, self._start_zone)
        return local.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    def _parse_date(self, value: str, params: list[str]) -> datetime:
        """Parse one RDATE/EXDATE value into the DTSTART's form."""
        zone: tzinfo = self._start_zone
        for param in params:
            key, _, param_value = param.partition("=")
            if key == "TZID":
                zone = _zone(param_value) or zone
        value = value.strip()
        if "T" not in value:
            day = date.fromisoformat(value)
            if self._all_day:
                return datetime.combine(day, datetime.min.time())
            value = f"{value}T{self._dtstart.strftime('%H%M%S')}"
        aware = _ical_datetime(value, zone)
        if self._all_day:
            local_day = aware.astimezone(self._tz).date()
            return datetime.combine(local_day, datetime.min.time())
        return aware.astimezone(self._start_zone)


def _unusable(event: Mapping[str, Any]) -> str | None:
    """Return why an event cannot be shown, judged by the shape of its fields.

    Values are parsed later, per event; a cancelled exception only hides an
    instance and needs no times.
    """
    for name in ("summary", "description", "location"):
        if not isinstance(event.get(name), str | None):
            return f"{name} is not text"
    if event.get("status") == "cancelled":
        return None
    kinds = []
    for name in ("start", "end"):
        value = event.get(name)
        if not isinstance(value, Mapping):
            return f"{name} is {type(value).__name__}, not an object"
        present = [key for key in ("date", "dateTime") if key in value]
        if len(present) != 1:
            return f"{name} needs one of date or dateTime"
        if not isinstance(value[present[0]], str):
            return f"{name} {present[0]} is not text"
        kinds.append(present[0])
    if kinds[0] != kinds[1]:
        return "start and end mix date and dateTime"
    recurrence = event.get("recurrence")
    if (
        recurrence is not None
        and "recurringEventId" not in event
        and not (
            isinstance(recurrence, list)
            and all(isinstance(line, str) for line in recurrence)
        )
    ):
        return "recurrence is not a list of text lines"
    return None


def _cached_series(
    master: dict[str, Any], overrides: frozenset[float | date], tz: tzinfo
) -> _Series:
    """Return the series of a master, reusing expansions of earlier timelines.

    The timeline is rebuilt after every sync; a series whose master (etag) and
    exceptions did not change keeps the instances it already expanded.
    """
    if (etag := master.get("etag")) is None:
        return _Series(master, overrides, tz)
    key = (master["id"], etag, overrides, str(tz))
    with _SERIES_CACHE_LOCK:
        cached = _SERIES_CACHE.get(key)
        if cached is not None:
            _SERIES_CACHE.move_to_end(key)
    # The etag changes with every edit; comparing guards against copies that lie.
    if cached is not None and cached.master == master:
        return cached
    series = _Series(master, overrides, tz)
    with _SERIES_CACHE_LOCK:
        _SERIES_CACHE[key] = series
        if len(_SERIES_CACHE) > _SERIES_CACHE_SIZE:
            _SERIES_CACHE.popitem(last=False)
    return series


def _parse_rule(value: str, dtstart: datetime) -> rrule:
    """Parse one RRULE/EXRULE value with dateutil."""
    rule = rrulestr(value, dtstart=dtstart, cache=True)
    if not isinstance(rule, rrule):
        raise TypeError(f"unsupported rule {value}")
    return rule


@lru_cache(maxsize=4096)
def _count_to_until(value: str, dtstart: datetime) -> str:
    """Replace COUNT by the UNTIL of the last instance, memoized across rebuilds.

    A COUNT rule can only be expanded from its DTSTART; with UNTIL it can start
    anywhere on its grid, which keeps queries of long series fast.
    """
    parts = value.split(";")
    if not any(part.upper().startswith("COUNT=") for part in parts):
        return value
    last = list(_parse_rule(value, dtstart))[-1:]
    if not last:
        return value
    if last[0].tzinfo is None:
        until = last[0].strftime("%Y%m%dT%H%M%S")
    else:
        until = last[0].astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = [part for part in parts if not part.upper().startswith("COUNT=")]
    return ";".join([*kept, f"UNTIL={until}"])


def series_ends_before(master: Mapping[str, Any], bound: datetime) -> bool:
    """Return True if no instance of a recurring event ends after bound."""
    try:
        series = _Series(dict(master), frozenset(), UTC)
        return series.first_ending_after(bound.timestamp()) is None
    except BAD_EVENT_DATA:
        return False


def _timeline_event(  # noqa: PLR0917
    event: dict[str, Any],
    uid: str,
    recurring_event_id: str | None,
    recurrence_id: str | None,
    rrule_text: str | None,
    start: date | datetime,
    end: date | datetime,
) -> TimelineEvent:
    """Build a TimelineEvent from a Google event."""
    return TimelineEvent(
        uid=uid,
        recurring_event_id=recurring_event_id,
        recurrence_id=recurrence_id,
        rrule=rrule_text,
        summary=event.get("summary") or "",
        description=event.get("description"),
        location=event.get("location"),
        start=start,
        end=end,
        source=event,
    )


def _parse_time(value: Mapping[str, Any], tz: tzinfo) -> date | datetime:
    """Parse a Google start/end into a date or an aware datetime in its zone."""
    if "date" in value:
        return date.fromisoformat(value["date"])
    parsed = datetime.fromisoformat(value["dateTime"])
    zone = _zone(value.get("timeZone"))
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=zone or tz)
    return parsed.astimezone(zone) if zone else parsed


def _bound(value: date | datetime, tz: tzinfo) -> float:
    """Return a UTC timestamp; dates start at midnight in the calendar's zone."""
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.combine(value, datetime.min.time(), tz).timestamp()


def _original_key(value: Any) -> float | date | None:
    """Return how an exception's originalStartTime matches a generated instance."""
    if not isinstance(value, Mapping):
        return None
    try:
        if "date" in value:
            return date.fromisoformat(value["date"])
        if "dateTime" in value:
            return datetime.fromisoformat(value["dateTime"]).timestamp()
    except BAD_EVENT_DATA:
        return None
    return None


def _recurrence_suffix(value: Mapping[str, Any]) -> str | None:
    """Return Google's instance id suffix for an originalStartTime."""
    try:
        if "date" in value:
            return date.fromisoformat(value["date"]).strftime("%Y%m%d")
        if "dateTime" in value:
            parsed = datetime.fromisoformat(value["dateTime"]).astimezone(UTC)
            return parsed.strftime("%Y%m%dT%H%M%SZ")
    except ValueError:
        return None
    return None


def _ical_datetime(value: str, zone: tzinfo) -> datetime:
    """Parse an iCalendar date-time; floating values are in zone."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def _zone(name: Any) -> ZoneInfo | None:
    """Return the zone of an IANA name, None if unknown or not a name at all."""
    if not name or not isinstance(name, str):
        return None
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError, ValueError, OSError:
        _LOGGER.debug("Unknown time zone %.64r", name)
        return None


def _sort_key(entry: _Entry) -> tuple[float, float, str]:
    """Order entries by start, then end, then uid."""
    return (entry.start_ts, entry.end_ts, entry.uid)


def _repeat_period(
    rules: list[dict[str, str]], dtstart: datetime
) -> tuple[bool, int] | None:
    """Return (in months?, length) after which all rules repeat, None if never."""
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
        period = _lcm(_lcm(period, base), unit * int(params.get("INTERVAL") or 1))
    if len(units) != 1:
        return None
    by_months = units.pop()
    if by_months and dtstart.month == 2 and dtstart.day == 29:
        # Moving a leap day by whole years lands on dates that do not exist.
        return None
    return by_months, period


def _lcm(first: int, second: int) -> int:
    """Return the least common multiple of two positive ints."""
    a, b = first, second
    while b:
        a, b = b, a % b
    return first * second // a
